import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputConnection } from '../src/service/output.js';
import { Spool } from '../src/service/spool.js';
import { LineReceiver, waitFor } from './support/service-net.js';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-spool-test-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const expectedLines = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `event ${from + i} ${'x'.repeat((from + i) % 97)}`);

function output(port: number, spool: Spool, extra: Partial<ConstructorParameters<typeof OutputConnection>[0]> = {}): OutputConnection {
  return new OutputConnection({
    target: { host: '127.0.0.1', port },
    name: 'output',
    spool,
    retries: 1,
    retryTimeoutMs: 30,
    memoryLimitBytes: 64 * 1024,
    ...extra,
  });
}

describe('output connection', () => {
  it('delivers every line in order to a receiver that is stopped and restarted mid-stream', async () => {
    const receiver = new LineReceiver();
    const port = await receiver.start(0);
    const spool = new Spool({ dir: tmpDir(), maxBytes: 64 * 1024 * 1024, segmentBytes: 256 * 1024 });
    const out = output(port, spool);
    out.start();
    const lines = expectedLines(30000);
    for (let i = 0; i < lines.length; i++) {
      out.send(lines[i] + '\n');
      if (i % 200 === 0) await turn();
      if (i === 8000) await receiver.stop();
      if (i === 20000) {
        // While the receiver was away, lines went to the disk spool.
        expect(out.stats().spoolLines).toBeGreaterThan(0);
        await receiver.start(port);
      }
    }
    await waitFor(() => receiver.lines.length >= lines.length, 'all lines at the receiver');
    expect(receiver.lines.length).toBe(lines.length);
    expect(receiver.lines).toEqual(lines);
    expect(receiver.connections).toBeGreaterThanOrEqual(2);
    const stats = out.stats();
    expect(stats.sentLines).toBe(lines.length);
    expect(stats.droppedLines).toBe(0);
    expect(stats.spoolLines).toBe(0);
    await out.close();
    await receiver.stop();
  });

  it('keeps undelivered lines in the spool across a restart and sends them first, in order', async () => {
    const receiver = new LineReceiver();
    const port = await receiver.start(0);
    await receiver.stop(); // nobody listens on this port now
    const dir = tmpDir();
    const first = output(port, new Spool({ dir, maxBytes: 1 << 26, segmentBytes: 4096 }));
    first.start();
    const lines = expectedLines(5000);
    for (let i = 0; i < 3000; i++) first.send(lines[i] + '\n');
    await first.close(50);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.spool')).length).toBeGreaterThan(1);

    await receiver.start(port);
    const second = output(port, new Spool({ dir, maxBytes: 1 << 26, segmentBytes: 4096 }));
    expect(second.stats().spoolLines).toBe(3000);
    second.start();
    for (let i = 3000; i < lines.length; i++) second.send(lines[i] + '\n');
    await waitFor(() => receiver.lines.length >= lines.length, 'spooled and new lines');
    expect(receiver.lines).toEqual(lines);
    await second.close();
    await receiver.stop();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.spool'))).toEqual([]);
  });

  it('a full spool raises one alert, keeps the alert line, and counts the dropped lines', async () => {
    const receiver = new LineReceiver();
    const port = await receiver.start(0);
    await receiver.stop();
    const spool = new Spool({ dir: tmpDir(), maxBytes: 20000 });
    const fullAlerts: number[] = [];
    let out: OutputConnection;
    out = output(port, spool, {
      retries: 0,
      memoryLimitBytes: 1000,
      onSpoolFull: (bytes) => {
        fullAlerts.push(bytes);
        out.send(`alert=KL_ALERT_SpoolFull spool_bytes=${bytes}\n`, true);
      },
    });
    out.start();
    await waitFor(() => out.stats().connects === 0 && fullAlerts.length === 0 && (out as unknown as { receiverDown: boolean }).receiverDown, 'receiver marked down');
    const lines = expectedLines(2000);
    for (const l of lines) {
      out.send(l + '\n');
      await turn();
    }
    await turn();
    const stats = out.stats();
    expect(fullAlerts.length).toBe(1);
    expect(stats.droppedLines).toBeGreaterThan(0);
    // Every line is either on disk or counted as dropped.
    expect(stats.spoolLines + stats.droppedLines + stats.queueLines).toBe(lines.length + 1);
    await receiver.start(port);
    await waitFor(() => receiver.lines.length === stats.spoolLines + stats.queueLines, 'spool delivered');
    expect(receiver.lines.some((l) => l.startsWith('alert=KL_ALERT_SpoolFull'))).toBe(true);
    // What arrives is an in-order prefix-with-gaps of what was sent: never reordered.
    const idx = receiver.lines.filter((l) => l.startsWith('event ')).map((l) => Number(l.split(' ')[1]));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    await out.close();
    await receiver.stop();
  });
});

it('a spool directory that disappears is reported like a full spool (alert, counted drops), never a crash', async () => {
  const receiver = new LineReceiver();
  const port = await receiver.start(0);
  await receiver.stop();
  const dir = tmpDir();
  const spool = new Spool({ dir, maxBytes: 1 << 20 });
  const logs: string[] = [];
  let alerts = 0;
  const out = new OutputConnection({
    target: { host: '127.0.0.1', port },
    name: 'output',
    spool,
    retries: 0,
    retryTimeoutMs: 30,
    memoryLimitBytes: 1000,
    log: (m) => logs.push(m),
    onSpoolFull: () => alerts++,
  });
  out.start();
  fs.rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < 500; i++) {
    out.send(`line ${i} ${'y'.repeat(50)}\n`);
    await turn();
  }
  await waitFor(() => out.stats().droppedLines > 0, 'dropped lines');
  expect(alerts).toBe(1);
  expect(logs.some((l) => l.includes('cannot write') && l.includes('ENOENT'))).toBe(true);
  expect(out.stats().droppedLines + out.stats().queueLines + out.stats().spoolLines).toBe(500);
  await out.close(50);
});

it('a receiver that stops reading makes the queue spill to the spool; everything arrives in order once it reads again', async () => {
  const receiver = new LineReceiver();
  const port = await receiver.start(0);
  const spool = new Spool({ dir: tmpDir(), maxBytes: 256 * 1024 * 1024 });
  const out = output(port, spool, { memoryLimitBytes: 32 * 1024, socketHighWaterBytes: 64 * 1024 });
  out.start();
  await waitFor(() => out.stats().connected && receiver.connections === 1, 'connected');
  receiver.pause();
  const lines = expectedLines(300000);
  let spooled = 0;
  for (let i = 0; i < lines.length; i++) {
    out.send(lines[i] + '\n');
    if (i % 500 === 0) {
      await turn();
      spooled = Math.max(spooled, out.stats().spoolLines);
    }
  }
  // ~17 MB against a paused reader: more than the kernel's loopback buffers take, so the spool was used.
  expect(spooled).toBeGreaterThan(0);
  receiver.resume();
  await waitFor(() => receiver.lines.length >= lines.length, 'all lines after the receiver resumed');
  expect(receiver.lines).toEqual(lines);
  expect(out.stats().droppedLines).toBe(0);
  await out.close();
  await receiver.stop();
});
