/**
 * Sends request lines to one or more services over a few persistent ReplyBack connections each, pipelined,
 * and ties every answer to its request.
 *
 * - Each connection opens with `X-KF-SendFinishedEventX-KF-ReplyBack`, so the service answers every line with
 *   its detection lines followed by one finished line, in order. An answer belongs to the oldest unanswered
 *   request of its connection, or to the request whose id it echoes when the service echoes ids.
 * - A request counts as answered only when its finished line arrives; its detections are kept until then, so a
 *   connection that fails mid-answer loses nothing and duplicates nothing: its unanswered requests go back to
 *   the queue and another connection, possibly of another service, takes them. The oldest of them is blamed;
 *   a request blamed more than `retries` times is given up (a value that kills the service cannot loop).
 * - Connections pull from one shared queue, so faster services take more; a service that refuses, fails more
 *   than `retries` times, or hangs for `request_timeout` is left out for the rest of the run.
 * - An overall deadline fails whatever is still unanswered.
 */
import net from 'node:net';
import { describeSocketError } from '../socket-error.js';
import { formatAddress, type LookupConfig, type ServiceAddress } from './config.js';
import { Fifo } from './fifo.js';
import { parseReplyLine, type Detection } from './reply.js';

export const SESSION_FLAGS = 'X-KF-SendFinishedEventX-KF-ReplyBack';
/** A reply line longer than this means the peer is not a CyberTrace-style service. */
const MAX_LINE = 16 * 1024 * 1024;
const NO_DETECTIONS: readonly Detection[] = Object.freeze([]);

export interface Request {
  /** Unique per run; sent as the line's leading id when `requestIds` is on. */
  readonly id: number;
  /** The request line without id and line end. */
  readonly line: string;
  /** Connection failures this request was blamed for (it was the oldest unanswered one). */
  failures: number;
  /** Detections received so far, kept until the finished line arrives (none yet: undefined, most requests have none). */
  partial: Detection[] | undefined;
  done: boolean;
}

export interface DispatchHandlers {
  answered(request: Request, detections: readonly Detection[]): void;
  failed(request: Request, reason: string): void;
}

interface Service {
  address: ServiceAddress;
  label: string;
  conns: Set<Connection>;
  /** Connection failures since the service last answered a request. */
  failures: number;
  down: boolean;
  lastError: string | undefined;
  /** Whether any connection to it ever connected (a refusal at start is reported differently). */
  everConnected: boolean;
}

interface Connection {
  service: Service;
  socket: net.Socket;
  connected: boolean;
  /** Header already written. */
  started: boolean;
  writable: boolean;
  inFlight: Fifo<Request>;
  byId: Map<number, Request>;
  buffer: string;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
  /** Lines seen: detections but never a finished line means a service without X-KF-SendFinishedEvent. */
  sawDetection: boolean;
  sawFinished: boolean;
}

export class Dispatcher {
  private readonly services: Service[];
  private readonly queue = new Fifo<Request>();
  /** Requests whose connection failed: sent again before new ones. */
  private readonly retry = new Fifo<Request>();
  private ended = false;
  private finished = false;
  private pumpScheduled = false;
  private deadline: NodeJS.Timeout | undefined;
  private nextId = 1;
  /** Set once the deadline passed: later requests fail at once. */
  private expired: string | undefined;
  private resolveDone: (() => void) | undefined;

  constructor(
    private readonly config: LookupConfig,
    private readonly handlers: DispatchHandlers,
  ) {
    this.services = config.services.map((address) => ({
      address, label: formatAddress(address), conns: new Set(), failures: 0, down: false, lastError: undefined, everConnected: false,
    }));
  }

  /** Queues one request line; answers come through the handlers. */
  submit(line: string): Request {
    if (this.ended) throw new Error('submit after close');
    const request: Request = { id: this.nextId++, line, failures: 0, partial: undefined, done: false };
    this.queue.push(request);
    if (!this.deadline && !this.expired) {
      this.deadline = setTimeout(() => this.failAll(`no answer within the deadline of ${this.config.deadlineMs / 1000} s`), this.config.deadlineMs);
    }
    this.schedulePump();
    return request;
  }

  /** No more requests; resolves once every request is answered or failed, with every connection closed. */
  close(): Promise<void> {
    this.ended = true;
    const done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    this.checkDone();
    return done;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Coalesce: rows arrive one by one, lines leave in batches.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pumpAll();
    });
  }

  private pending(): number {
    return this.queue.length + this.retry.length;
  }

  private pumpAll(): void {
    if (this.finished) return;
    if (this.expired) {
      this.failAll(this.expired);
      return;
    }
    if (this.pending() > 0) this.openConnections();
    for (const s of this.services) for (const c of s.conns) this.pump(c);
    this.checkDone();
  }

  private openConnections(): void {
    const live = this.services.filter((s) => !s.down);
    if (live.length === 0) {
      this.failQueued();
      return;
    }
    for (const s of live) {
      // Never more connections than there is work for (a run of one value opens one connection).
      const wanted = Math.min(this.config.connections, Math.ceil(this.pending() / live.length));
      while (s.conns.size < wanted) this.connect(s);
    }
  }

  private connect(service: Service): void {
    const socket = net.connect({ host: service.address.host, port: service.address.port });
    const conn: Connection = {
      service, socket, connected: false, started: false, writable: true, inFlight: new Fifo(), byId: new Map(),
      buffer: '', timer: undefined, closed: false, sawDetection: false, sawFinished: false,
    };
    service.conns.add(conn);
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.setTimeout(this.config.connectTimeoutMs);
    socket.on('timeout', () => {
      if (!conn.connected) this.fail(conn, `no connection within ${this.config.connectTimeoutMs / 1000} s`);
    });
    socket.on('connect', () => {
      conn.connected = true;
      service.everConnected = true;
      socket.setTimeout(0);
      this.pump(conn);
    });
    socket.on('data', (chunk: string) => this.onData(conn, chunk));
    socket.on('drain', () => {
      conn.writable = true;
      this.pump(conn);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(conn, describeSocketError(err)));
    socket.on('close', () => this.fail(conn, conn.inFlight.length > 0 ? 'connection closed before the answer was complete' : 'connection closed'));
  }

  private take(): Request | undefined {
    return this.retry.length > 0 ? this.retry.shift() : this.queue.shift();
  }

  private pump(conn: Connection): void {
    if (!conn.connected || conn.closed || !conn.writable || this.finished) return;
    const room = this.config.maxInFlight - conn.inFlight.length;
    // Refill in batches of at least half a window: fewer, larger writes cost both sides less per line.
    if (room <= 0 || this.pending() === 0 || (room < this.config.maxInFlight / 2 && room < this.pending())) return;
    let text = conn.started ? '' : SESSION_FLAGS;
    conn.started = true;
    for (let i = 0; i < room; i++) {
      const r = this.take();
      if (!r) break;
      conn.inFlight.push(r);
      if (this.config.requestIds) {
        conn.byId.set(r.id, r);
        text += `${r.id} ${r.line}\n`;
      } else {
        text += `${r.line}\n`;
      }
    }
    if (!conn.timer) conn.timer = setTimeout(() => this.onTimeout(conn), this.config.requestTimeoutMs);
    conn.writable = conn.socket.write(text);
  }

  private onTimeout(conn: Connection): void {
    conn.timer = undefined;
    if (conn.inFlight.length === 0) return;
    const hint = conn.sawDetection && !conn.sawFinished ? '; it sent detections but no LookupFinished line: does it support X-KF-SendFinishedEvent (CyberTrace 4.x or later)?' : '';
    this.fail(conn, `no answer within request_timeout (${this.config.requestTimeoutMs / 1000} s)${hint}`);
  }

  private onData(conn: Connection, chunk: string): void {
    if (conn.closed) return;
    let text = conn.buffer + chunk;
    let start = 0;
    let progressed = false;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      start = nl + 1;
      if (this.onLine(conn, line)) progressed = true;
      if (conn.closed) return;
    }
    text = text.slice(start);
    if (text.length > MAX_LINE) {
      this.fail(conn, `answer line longer than ${MAX_LINE} bytes`);
      return;
    }
    conn.buffer = text;
    if (progressed) {
      if (conn.inFlight.length === 0) {
        if (conn.timer) clearTimeout(conn.timer);
        conn.timer = undefined;
      } else {
        conn.timer?.refresh();
      }
      this.pump(conn);
      this.checkDone();
    }
  }

  /** Handles one answer line; true when it completed a request. */
  private onLine(conn: Connection, line: string): boolean {
    const reply = parseReplyLine(line);
    if (reply.kind === 'other') return false;
    const request = (reply.id !== undefined ? conn.byId.get(reply.id) : undefined) ?? conn.inFlight.peek();
    // An answer with nothing asked for it: not ours to place, and it must not land on a later request.
    if (!request) return false;
    if (reply.kind === 'detection') {
      conn.sawDetection = true;
      (request.partial ??= []).push(reply.detection);
      return false;
    }
    conn.sawFinished = true;
    if (conn.inFlight.peek() === request) conn.inFlight.shift();
    else conn.inFlight.remove(request);
    conn.byId.delete(request.id);
    conn.service.failures = 0;
    this.complete(request);
    return true;
  }

  private complete(request: Request): void {
    if (request.done) return;
    request.done = true;
    const detections = request.partial ?? NO_DETECTIONS;
    request.partial = undefined;
    this.handlers.answered(request, detections);
  }

  private giveUp(request: Request, reason: string): void {
    if (request.done) return;
    request.done = true;
    request.partial = undefined;
    this.handlers.failed(request, reason);
  }

  private fail(conn: Connection, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.timer) clearTimeout(conn.timer);
    conn.socket.destroy();
    const service = conn.service;
    service.conns.delete(conn);
    const orphans = conn.inFlight.drain();
    const hadWork = orphans.length > 0;
    // Only the oldest unanswered request is to blame (the one being answered, or the first one unanswered);
    // the others behind it are sent again without counting against them.
    orphans.forEach((r, i) => {
      r.partial = undefined;
      if (i === 0 && ++r.failures > this.config.retries) this.giveUp(r, `${service.label}: ${reason}`);
      else this.retry.push(r);
    });
    // A connection closed by us or idle at the end is no failure of the service.
    if (hadWork || !conn.connected) {
      service.failures++;
      service.lastError = reason;
      const refusedAtStart = !service.everConnected;
      if (!service.down && (refusedAtStart || service.failures > this.config.retries)) {
        service.down = true;
        for (const other of [...service.conns]) this.fail(other, reason);
      }
    }
    if (!this.finished) this.schedulePump();
  }

  /** No live service left: what is queued cannot be sent. */
  private failQueued(): void {
    const why = this.services.map((s) => `${s.label} (${s.lastError ?? 'unavailable'})`).join(', ');
    for (let r = this.take(); r; r = this.take()) this.giveUp(r, `no service reachable: ${why}`);
  }

  private failAll(reason: string): void {
    this.deadline = undefined;
    this.expired = reason;
    for (const s of this.services) {
      for (const c of [...s.conns]) {
        c.closed = true;
        if (c.timer) clearTimeout(c.timer);
        c.socket.destroy();
        s.conns.delete(c);
        for (const r of c.inFlight.drain()) this.giveUp(r, reason);
      }
    }
    for (let r = this.take(); r; r = this.take()) this.giveUp(r, reason);
    this.checkDone();
  }

  private checkDone(): void {
    if (!this.ended || this.finished || this.pending() > 0) return;
    for (const s of this.services) for (const c of s.conns) if (c.inFlight.length > 0) return;
    this.finished = true;
    if (this.deadline) clearTimeout(this.deadline);
    for (const s of this.services) {
      for (const c of s.conns) {
        c.closed = true;
        if (c.timer) clearTimeout(c.timer);
        c.socket.destroy();
      }
      s.conns.clear();
    }
    this.resolveDone?.();
  }
}
