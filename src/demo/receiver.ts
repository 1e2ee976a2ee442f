/**
 * The demo's stand-in for Splunk's TCP 9998 input: accepts the service's output connection, appends every line
 * to a file (as Splunk would index it) and counts what it got: detections by category and by indicator, alerts,
 * and finished events (the demo's end-of-run marker, see run.ts).
 */
import fs from 'node:fs';
import net from 'node:net';
import { parseKv } from '../lookup/kv.js';

export interface ReceivedCounts {
  lines: number;
  detections: number;
  byCategory: Map<string, number>;
  byIndicator: Map<string, number>;
  alerts: number;
  finished: number;
}

export class DetectionReceiver {
  readonly counts: ReceivedCounts = { lines: 0, detections: 0, byCategory: new Map(), byIndicator: new Map(), alerts: 0, finished: 0 };
  port = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly file: fs.WriteStream;
  private waiters: Array<{ finished: number; resolve: () => void }> = [];

  constructor(readonly path: string) {
    this.file = fs.createWriteStream(path);
  }

  async start(): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Resolves once `finished` finished events have arrived (the caller bounds the wait). */
  untilFinished(finished: number): Promise<void> {
    if (this.counts.finished >= finished) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ finished, resolve }));
  }

  /**
   * Stops listening and flushes the file. Connections get `graceMs` to close from the service's side (once it
   * has exited, everything it sent is read first); any still open then are cut.
   */
  async close(graceMs = 5000): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sockets) s.destroy();
    await closed;
    await new Promise<void>((r) => this.file.end(() => r()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let partial = '';
    socket.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      if (parts.length === 0) return;
      this.file.write(parts.join('\n') + '\n');
      for (const line of parts) this.count(line);
      this.wake();
    });
    socket.on('error', () => {}); // the service reconnects; nothing to do here
    socket.on('close', () => this.sockets.delete(socket));
  }

  private count(line: string): void {
    const c = this.counts;
    c.lines++;
    const fields = new Map(parseKv(line).pairs);
    if (fields.get('type') === 'LookupFinished') c.finished++;
    else if (fields.has('alert')) c.alerts++;
    else if (fields.has('matchedIndicator')) {
      c.detections++;
      const category = fields.get('category') ?? '';
      c.byCategory.set(category, (c.byCategory.get(category) ?? 0) + 1);
      const indicator = fields.get('matchedIndicator')!;
      c.byIndicator.set(indicator, (c.byIndicator.get(indicator) ?? 0) + 1);
    }
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => this.counts.finished >= w.finished);
    this.waiters = this.waiters.filter((w) => this.counts.finished < w.finished);
    for (const w of ready) w.resolve();
  }
}
