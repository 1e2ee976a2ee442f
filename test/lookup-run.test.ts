/** The CSV run in process, for what the script tests cannot reach from outside: input back-pressure. */
import { stringify } from 'csv-stringify/sync';
import { PassThrough, Readable } from 'node:stream';
import { buildConfig } from '../src/lookup/config.js';
import { runLookup } from '../src/lookup/run.js';
import { startPeer } from './lookup-support.js';

describe('runLookup', () => {
  it('stops reading input while maxPendingRows rows wait for answers', async () => {
    const peer = await startPeer({ answers: new Map(), hang: true });
    try {
      const conf = new Map([['service', new Map([['request_timeout', '0.2'], ['retries', '0'], ['connections', '1']])]]);
      const config = buildConfig(conf, { service: `127.0.0.1:${peer.port}` });
      const input = Readable.from([stringify([['ip', 'category'], ...Array.from({ length: 40 }, (_, i) => [`192.0.2.${i}`, ''])])]);
      const output = new PassThrough();
      let text = '';
      output.on('data', (b: Buffer) => (text += b.toString()));
      const log: string[] = [];
      const result = await runLookup({ fields: ['ip', 'category'], input, output, config, log: (l) => log.push(l), maxPendingRows: 5 });
      // Only the first five values were read and sent before the hung service was given up on; had the input
      // not waited, one connection would have carried all 40 (max_in_flight is 256).
      expect(peer.lines).toBe(5);
      expect(result.failedValues).toBe(40);
      expect(result.exitCode).toBe(1);
      expect(text).toBe('ip,category\r\n');
      expect(log).toHaveLength(1);
    } finally {
      await peer.close();
    }
  });
});
