/** Real TCP peers for the service tests: a line receiver (Splunk's 9998 input) and a line client. */
import net from 'node:net';

/** Waits until `cond()` holds; fails (throws) after `ms`, so a broken service fails the test instead of hanging. */
export async function waitFor(cond: () => boolean, what: string, ms = 30000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP server that collects LF-terminated lines; `stop()` closes like Splunk does (FIN, then reads to the end). */
export class LineReceiver {
  lines: string[] = [];
  connections = 0;
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  private partial = '';
  port = 0;

  async start(port = this.port, host = '127.0.0.1'): Promise<number> {
    const server = net.createServer((socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        const parts = (this.partial + text).split('\n');
        this.partial = parts.pop()!;
        for (const p of parts) this.lines.push(p);
      });
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Stops reading (a slow Splunk): the sender's writes pile up in the kernel buffers, then in its queue. */
  pause(): void {
    for (const s of this.sockets) s.pause();
  }
  resume(): void {
    for (const s of this.sockets) s.resume();
  }

  /** Stops listening and half-closes every connection; resolves once the peers have closed theirs. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of this.sockets) s.end();
    await closed;
    this.partial = '';
  }
}

/** A client connection that collects the lines the service sends back. */
export class LineClient {
  lines: string[] = [];
  raw = '';
  private partial = '';
  readonly closed: Promise<void>;
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.raw += text;
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop()!;
      for (const p of parts) this.lines.push(p);
    });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.on('close', () => r()));
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    const socket = net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new LineClient(socket);
  }

  /** Writes one piece and waits until Node handed it to the kernel (so pieces go out as separate segments). */
  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
    // Give the service a turn to read this piece on its own before the next one is written.
    await new Promise((r) => setTimeout(r, 5));
  }

  end(): void {
    this.socket.end();
  }
}
