/**
 * The service's output connection (`OutputSettings > ConnectionString`, Splunk's 9998 input): a persistent TCP
 * client that reconnects on error, with a bounded in-memory queue that spills to a disk spool when the
 * receiver is down or slow. Order is kept overall: undelivered in-flight lines < spool < memory queue.
 *
 * Delivery: a line counts as sent once Node has handed it to the kernel. A receiver that closes gracefully
 * (FIN, as Splunk does when it stops) loses nothing: we half-close too and its last reads still get every byte.
 * A receiver that resets the connection can lose what was in the kernel's send buffer; TCP gives no way to know.
 */
import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'node:events';
import type { Spool } from './spool.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface OutputOptions {
  target: HostPort;
  /** Name in log lines (`output`, `alerts`). */
  name: string;
  spool: Spool;
  /** `EventSendingRetriesCount`: failed connection attempts before the receiver is considered down. */
  retries: number;
  /** `EventSendingRetriesTimeout` in ms: pause between connection attempts. */
  retryTimeoutMs: number;
  /** Memory queue size (bytes, approximately) before lines spill to the spool. */
  memoryLimitBytes?: number;
  /** Bytes waiting in the socket before we stop writing and wait for 'drain'. */
  socketHighWaterBytes?: number;
  log?: (message: string) => void;
  /** Called once each time the spool fills up (then lines are dropped and counted until it has room again). */
  onSpoolFull?: (spoolBytes: number) => void;
  /** Connect with TLS (Splunk `[tcp-ssl:PORT]` inputs); the receiver's certificate is always verified. */
  tls?: { ca?: string; serverName?: string; cert?: string; key?: string };
}

/** A line that must not be dropped for a full spool (alerts are few and tell why data is being lost). */
interface Forced {
  forced: string;
}
type Entry = string | Forced;

interface InFlight {
  fromSpool: boolean;
  /** Memory lines, kept to put back in front if the connection fails before Node hands them to the kernel. */
  data: string;
  lines: number;
}

export interface OutputStats {
  connected: boolean;
  /** Lines handed to the kernel. */
  sentLines: number;
  /** Lines dropped because the spool was full. */
  droppedLines: number;
  queueLines: number;
  queueBytes: number;
  spoolLines: number;
  spoolBytes: number;
  connects: number;
}

export class OutputConnection extends EventEmitter {
  private readonly memoryLimit: number;
  private readonly socketHighWater: number;
  private memory: Entry[] = [];
  private memoryBytes = 0;
  private socket: net.Socket | null = null;
  private connected = false;
  private inflight: InFlight[] = [];
  private failures = 0;
  private receiverDown = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private closing = false;
  private spoolFullRaised = false;
  private sentLines = 0;
  private droppedLines = 0;
  private connects = 0;
  private readonly log: (message: string) => void;

  constructor(private readonly options: OutputOptions) {
    super();
    this.memoryLimit = options.memoryLimitBytes ?? 4 * 1024 * 1024;
    this.socketHighWater = options.socketHighWaterBytes ?? 1024 * 1024;
    this.log = options.log ?? (() => {});
  }

  get target(): HostPort {
    return this.options.target;
  }

  /** Starts connecting; lines spooled by an earlier run are sent first. */
  start(): void {
    this.connect();
  }

  /** Queues one line (must end with LF). `force`: keep it even when the spool is full (alerts). */
  send(line: string, force = false): void {
    this.memory.push(force ? { forced: line } : line);
    this.memoryBytes += line.length;
    if (this.memoryBytes > this.memoryLimit && !(this.connected && this.options.spool.isEmpty && this.socketHasRoom())) {
      this.spill();
    }
    this.schedulePump();
  }

  /** Memory over twice its limit means the spool cannot take more either: the server should stop reading. */
  get congested(): boolean {
    return this.memoryBytes > 2 * this.memoryLimit;
  }

  stats(): OutputStats {
    return {
      connected: this.connected,
      sentLines: this.sentLines,
      droppedLines: this.droppedLines,
      queueLines: this.memory.length,
      queueBytes: this.memoryBytes,
      spoolLines: this.options.spool.lines,
      spoolBytes: this.options.spool.bytes,
      connects: this.connects,
    };
  }

  /**
   * Stops: tries for up to `flushMs` to deliver everything, then half-closes; whatever was not delivered is put in
   * the spool for the next start.
   */
  async close(flushMs = 2000): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const deadline = Date.now() + flushMs;
    while (this.connected && this.pending() && Date.now() < deadline) {
      this.pump();
      await new Promise((r) => setTimeout(r, 10));
    }
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => socket.destroy(), Math.max(100, deadline - Date.now()));
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end();
      });
    }
    this.spill(true);
    this.options.spool.close();
  }

  private pending(): boolean {
    return this.memory.length > 0 || !this.options.spool.isEmpty || this.inflight.length > 0;
  }

  private socketHasRoom(): boolean {
    return this.socket !== null && this.socket.writableLength < this.socketHighWater;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Coalesce: one socket write for all lines queued in this turn of the event loop.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.connected) {
      if (this.receiverDown || this.closing) this.spill();
      return;
    }
    const spool = this.options.spool;
    while (this.connected && this.socketHasRoom()) {
      if (spool.hasUnread) {
        let chunk: ReturnType<Spool['read']>;
        try {
          chunk = spool.read();
        } catch (error) {
          this.log(`${this.options.name}: cannot read ${spool.dir}: ${(error as Error).message}`);
          break;
        }
        if (chunk === null) break;
        this.write({ fromSpool: true, data: '', lines: chunk.lines }, chunk.data);
      } else if (spool.isEmpty && this.memory.length > 0) {
        // Memory goes out only when every spooled byte is delivered, so a failure can put it back in order.
        const lines = this.memory.length;
        const data = joinEntries(this.memory);
        this.memory = [];
        this.memoryBytes = 0;
        this.write({ fromSpool: false, data, lines }, data);
      } else {
        break;
      }
    }
    if (this.memoryBytes <= this.memoryLimit) this.emit('drain');
  }

  private write(entry: InFlight, payload: Buffer | string): void {
    const socket = this.socket!;
    const inflight = this.inflight;
    inflight.push(entry);
    socket.write(payload, (err) => {
      // Callbacks come in write order; a stale socket's callbacks touch only its own list.
      if (err || inflight !== this.inflight || inflight[0] !== entry) return;
      inflight.shift();
      this.sentLines += entry.lines;
      if (entry.fromSpool) {
        this.options.spool.ack();
        // Memory waits for the spool to be fully delivered; nothing else would wake the pump then.
        if (this.memory.length > 0 && this.options.spool.isEmpty) this.schedulePump();
      }
    });
  }

  /** Moves the memory queue to the spool; on a full spool drops (counted) all but forced lines and alerts once. */
  private spill(force = false): void {
    if (this.memory.length === 0) return;
    const spool = this.options.spool;
    // Take the queue first: the spool-full callback may queue an alert, which must survive this spill.
    const entries = this.memory;
    this.memory = [];
    this.memoryBytes = 0;
    const data = joinEntries(entries);
    if (spool.append(Buffer.from(data), entries.length, force)) {
      if (this.spoolFullRaised && spool.bytes < spool.maxBytes / 2) this.spoolFullRaised = false;
    } else {
      let dropped = 0;
      for (const e of entries) {
        if (typeof e === 'string') dropped++;
        else spool.append(Buffer.from(e.forced), 1, true);
      }
      this.droppedLines += dropped;
      if (!this.spoolFullRaised) {
        this.spoolFullRaised = true;
        const why = spool.lastError ? `cannot write (${spool.lastError})` : `full (${spool.bytes} bytes)`;
        this.log(`${this.options.name}: spool ${why} in ${spool.dir}; dropping lines, counted`);
        this.options.onSpoolFull?.(spool.bytes);
      }
    }
    this.emit('drain');
  }

  private connect(): void {
    if (this.closing) return;
    const { host, port } = this.options.target;
    const t = this.options.tls;
    // SNI only for names (RFC 6066 forbids addresses); an address is still checked against the certificate's IP SANs.
    const socket = t
      ? tls.connect({ host, port, ca: t.ca, cert: t.cert, key: t.key, servername: t.serverName ?? (net.isIP(host) ? undefined : host), checkServerIdentity: (name, cert) => tls.checkServerIdentity(t.serverName ?? host, cert) })
      : net.connect({ host, port, allowHalfOpen: true });
    this.socket = socket;
    this.inflight = [];
    socket.setNoDelay(true);
    // A receiver host that drops SYNs would otherwise hold us for the kernel's two minutes of retries.
    socket.setTimeout(Math.max(1000, this.options.retryTimeoutMs), () => {
      if (!this.connected) socket.destroy(new Error('connect timed out'));
    });
    // With TLS, lines may go out only once the receiver's certificate is verified.
    socket.on(t ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      this.connected = true;
      this.connects++;
      if (this.failures > 0 || this.receiverDown) this.log(`${this.options.name}: connected to ${host}:${port}`);
      this.failures = 0;
      this.receiverDown = false;
      this.pump();
    });
    socket.on('drain', () => this.pump());
    socket.on('data', () => {}); // a receiver has nothing to say; read so its bytes do not pile up
    socket.on('end', () => {
      // The receiver is going away: stop writing, half-close, let it read what is already on the wire; close as
      // soon as our side is flushed so the reconnect cycle starts.
      this.connected = false;
      socket.once('finish', () => socket.destroy());
      socket.end();
    });
    socket.on('error', (err) => {
      if (this.failures === 0) this.log(`${this.options.name}: ${host}:${port}: ${err.message}`);
    });
    socket.on('close', () => this.onClose(socket));
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.connected = false;
    this.socket = null;
    // Lines handed to this socket but never to the kernel go back in front, in their order.
    const failed = this.inflight.filter((e) => !e.fromSpool);
    this.inflight = [];
    const spool = this.options.spool;
    spool.rewind();
    if (failed.length > 0) {
      const data = failed.map((e) => e.data).join('');
      try {
        spool.prepend(Buffer.from(data), failed.reduce((n, e) => n + e.lines, 0));
      } catch (error) {
        // Cannot write to disk: keep them in memory, first in line (order against the spool may suffer; no loss).
        this.log(`${this.options.name}: cannot write ${spool.dir}: ${(error as Error).message}`);
        this.memory.unshift(data);
        this.memoryBytes += data.length;
      }
    }
    if (this.closing) return;
    this.failures++;
    if (this.failures > this.options.retries && !this.receiverDown) {
      this.receiverDown = true;
      this.log(`${this.options.name}: receiver down after ${this.failures} attempts; spooling to ${spool.dir}`);
      this.spill();
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, this.options.retryTimeoutMs);
  }
}

function joinEntries(entries: Entry[]): string {
  let s = '';
  for (const e of entries) s += typeof e === 'string' ? e : e.forced;
  return s;
}
