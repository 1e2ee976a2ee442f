/** The CSV run in process, for what the script tests cannot reach from outside: input back-pressure. */
import { stringify } from 'csv-stringify/sync';
import { PassThrough, Readable } from 'node:stream';
import { buildConfig } from '../src/lookup/config.js';
import { runLookup } from '../src/lookup/run.js';
import { parse } from 'csv-parse/sync';
import { startPeer, type PeerAnswer } from './lookup-support.js';

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

  it('three services that each keep dying mid-answer: every match exactly once, in order, nothing failed', async () => {
    const values = Array.from({ length: 600 }, (_, i) => `203.0.${i >> 8}.${i & 255}`);
    const hits = values.filter((_, i) => i % 6 === 0);
    const answers = new Map<string, PeerAnswer[]>(hits.map((ip) => [ip, [
      { category: 'A', matchedIndicator: ip },
      { category: 'B', matchedIndicator: ip, context: [['of', ip]] },
    ]]));
    const peers = await Promise.all([7, 11, 13].map((closeEvery) => startPeer({ answers, closeEvery })));
    try {
      // Each failure blames the value being answered, and these peers kill whatever line lands on a multiple of
      // their number, so an innocent value is blamed again with odds of about 1 in 10 per retry; 8 retries make
      // giving one up (odds ~200 × 10⁻⁸ per run) practically impossible while every retry path is exercised.
      const conf = new Map([['service', new Map([['max_in_flight', '5'], ['retries', '8']])]]);
      const config = buildConfig(conf, { service: peers.map((p) => `127.0.0.1:${p.port}`).join(',') });
      const input = Readable.from([stringify([['ip', 'category', 'context'], ...values.map((ip) => [ip, '', ''])])]);
      const output = new PassThrough();
      let text = '';
      output.on('data', (b: Buffer) => (text += b.toString()));
      const log: string[] = [];
      const result = await runLookup({ fields: ['ip', 'category', 'context'], input, output, config, log: (l) => log.push(l) });
      expect(log).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect((parse(text) as string[][]).slice(1)).toEqual(hits.flatMap((ip) => [[ip, 'A', ''], [ip, 'B', `of=${ip}`]]));
      for (const p of peers) expect(p.connections).toBeGreaterThan(1);
    } finally {
      await Promise.all(peers.map((p) => p.close()));
    }
  });
});
