/**
 * `feedtrace replay` against a service that stops in the middle: it must fail with the reason and the number
 * of lines the service took, not hang waiting for a drain or report lines written to a closed socket as sent.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnService } from '../src/demo/service-process.js';
import { cliBundle, repoRoot } from './support/paths.js';
import { LineReceiver, waitFor } from './support/service-net.js';

it('replay fails clearly when the service stops mid-replay', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-replay-stop-'));
  const log = path.join(repoRoot, 'src', 'samples', 'logs', 'apache_access_sample.log');
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  // A feed listing the first line's client address: its detection shows the replay is under way.
  const first = lines[0]!.split(' ')[0]!;
  fs.writeFileSync(path.join(tmp, 'one.txt'), `${first}\t3\n`);
  const receiver = new LineReceiver();
  const output = await receiver.start();
  const service = await spawnService({ args: ['--listen', '127.0.0.1:0', '--output', `127.0.0.1:${output}`, '--spool', path.join(tmp, 'spool'), '--feed', `ipsum:${path.join(tmp, 'one.txt')}`] });
  try {
    const replay = spawn(process.execPath, [cliBundle, 'replay', log, '--to', `127.0.0.1:${service.port}`, '--rate', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    replay.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    replay.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const exited = new Promise<number | null>((r) => replay.on('close', (code) => r(code)));
    await waitFor(() => receiver.lines.some((l) => l.includes(`matchedIndicator=${first}`)), 'the first detection', 30_000);
    await service.stop();
    expect(await exited).toBe(1);
    expect(stdout).toBe('');
    const taken = Number(/the service closed the connection after (\d+) lines/.exec(stderr)?.[1]);
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(lines.length);
  } finally {
    await service.stop();
    await receiver.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
