/**
 * The service benchmark's client side: sends events over N connections (ReplyBack with finished events, or
 * plain to the output connection) and times them; a line receiver for the output side; a latency probe.
 */
import net from 'node:net';

const HEAD = 'X-KF-SendFinishedEventX-KF-ReplyBack';

export interface ThroughputResult {
  events: number;
  seconds: number;
  perSecond: number;
  detections: number;
}

/** Calls `onLine` for every complete LF-terminated line received on a socket. */
function onLines(socket: net.Socket, onLine: (line: string) => void): void {
  let partial = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    for (const p of parts) onLine(p);
  });
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Writes lines in 64 KiB batches, waiting for 'drain' (the service's backpressure reaches us this way). */
async function sendAll(socket: net.Socket, lines: readonly string[]): Promise<void> {
  let batch = '';
  for (const line of lines) {
    batch += line + '\n';
    if (batch.length >= 64 * 1024) {
      if (!socket.write(batch)) await new Promise((r) => socket.once('drain', r));
      batch = '';
    }
  }
  if (batch) socket.write(batch);
}

/** ReplyBack throughput: `connections` sessions share the events; done when every finished event is back. */
export async function replyBackThroughput(port: number, events: readonly string[], connections: number): Promise<ThroughputResult> {
  const shares = split(events, connections);
  const sockets = await Promise.all(shares.map(() => connect(port)));
  let detections = 0;
  const started = performance.now();
  await Promise.all(
    sockets.map(
      (socket, i) =>
        new Promise<void>((resolve, reject) => {
          const expected = shares[i]!.length;
          let finished = 0;
          socket.on('error', reject);
          onLines(socket, (line) => {
            if (line.includes('type=LookupFinished')) {
              if (++finished === expected) resolve();
            } else if (line.includes('matchedIndicator')) detections++;
          });
          socket.write(HEAD);
          void sendAll(socket, shares[i]!);
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.destroy();
  return { events: events.length, seconds, perSecond: events.length / seconds, detections };
}

/** Counts detection lines arriving at a fake Splunk 9998 input. */
export class DetectionReceiver {
  detections = 0;
  private server: net.Server | null = null;
  private waiter: { count: number; resolve: () => void } | null = null;
  port = 0;

  async start(): Promise<number> {
    this.server = net.createServer((socket) => {
      socket.on('error', () => {});
      onLines(socket, (line) => {
        if (!line.includes('matchedIndicator')) return;
        this.detections++;
        if (this.waiter && this.detections >= this.waiter.count) this.waiter.resolve();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Resolves when `count` detections (in total since start) have arrived. */
  until(count: number): Promise<void> {
    if (this.detections >= count) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { count, resolve }));
  }

  close(): void {
    this.server?.close();
  }
}

/** Output-mode throughput: events without flags; done when the receiver has the expected detections. */
export async function outputThroughput(port: number, receiver: DetectionReceiver, events: readonly string[], connections: number, expectedDetections: number): Promise<ThroughputResult> {
  const shares = split(events, connections);
  const sockets = await Promise.all(shares.map(() => connect(port)));
  const before = receiver.detections;
  const started = performance.now();
  await Promise.all(sockets.map((s, i) => sendAll(s, shares[i]!)));
  await receiver.until(before + expectedDetections);
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.destroy();
  return { events: events.length, seconds, perSecond: events.length / seconds, detections: receiver.detections - before };
}

/** Round trips of one event at a time on one ReplyBack session: p50 and p99 in milliseconds. */
export async function replyBackLatency(port: number, events: readonly string[], count: number): Promise<{ p50: number; p99: number }> {
  const socket = await connect(port);
  socket.write(HEAD);
  let pending: (() => void) | null = null;
  onLines(socket, (line) => {
    if (line.includes('type=LookupFinished')) pending?.();
  });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      pending = resolve;
      socket.write(events[i % events.length]! + '\n');
    });
    samples.push(performance.now() - t0);
  }
  socket.destroy();
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

function split<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => out[i % parts]!.push(item));
  return out;
}
