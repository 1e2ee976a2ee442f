/**
 * The matching service: a TCP listener speaking CyberTrace's protocol (docs/service.md). Per event: extract
 * values (EventExtractor), look each up (Matcher), render one detection line per match and, when asked, the
 * finished event. ReplyBack sessions get their lines on the same socket (an event's lines in one write,
 * detections first, in input order); other sessions' detections go to the output connection.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Matcher } from '../index/matcher.js';
import { RecentMatches } from '../index/recent-matches.js';
import { Alerts } from './alerts.js';
import { loadServiceConfig, networkContains, type HostPort, type ServiceConfig, type ServiceFeed } from './config.js';
import { EventExtractor } from './extract.js';
import { FeedManager } from './feed-manager.js';
import { compileOutput, formatDate, renderDetection, renderFinished } from './format.js';
import { LineFramer } from './framing.js';
import { OutputConnection } from './output.js';
import { SessionHead, type SessionFlags } from './session.js';
import { Spool, SpoolLockedError } from './spool.js';

export interface ServiceOptions {
  config: ServiceConfig;
  /** Overrides `InputSettings > ConnectionString` (port 0 picks a free port). */
  listen?: HostPort;
  /** Overrides `OutputSettings > ConnectionString`. */
  output?: HostPort;
  /** Feeds in addition to the config's (`--feed`, `--allow`, `--block`). */
  feeds?: ServiceFeed[];
  /** Overrides the config's spool directory. */
  spoolDir?: string;
  /** No output connection: only ReplyBack sessions get detections; alerts are only logged. */
  replyOnly?: boolean;
  /** Periodic feed re-read (0 = only when a file changes). */
  feedRefreshMs?: number;
  /** Feed change poll interval (fallback for fs.watch). */
  feedPollMs?: number;
  /** Config file watched for changes (reload on change, like SIGHUP). */
  watchConfig?: boolean;
  /** A Matcher with feeds already loaded (benchmarks); the config's and `feeds` are added to it. */
  matcher?: Matcher;
  log?: (message: string) => void;
}

export interface ServiceStats {
  /** Events counted for statistics (non-ReplyBack sessions, and ReplyBack with X-KF-SaveStatistic). */
  events: number;
  detections: number;
  /** Every event processed, counted or not. */
  processedEvents: number;
  ignoredEvents: number;
  truncatedLines: number;
  connections: number;
  acceptedConnections: number;
  rejectedConnections: number;
  totals: Map<string, number>;
}

export interface RunningService {
  /** The bound address (the real port when 0 was asked for). */
  address: HostPort;
  readonly config: ServiceConfig;
  matcher: Matcher;
  feeds: FeedManager;
  /** null in reply-only mode. */
  output: OutputConnection | null;
  stats(): ServiceStats;
  /** Re-reads the config file (SIGHUP); an invalid one is rejected with an alert and the running one kept. */
  reload(): Promise<boolean>;
  /** Stops accepting, finishes in-flight events, flushes or spools output, sends KL_ALERT_ServiceStopped. */
  close(): Promise<void>;
}

/** Pause reading a socket whose unsent replies exceed this. */
const REPLY_HIGH_WATER = 1024 * 1024;
/** Approximate bytes per queued output line, to turn MemoryQueueEvents into a byte limit. */
const LINE_BYTES_ESTIMATE = 512;

interface Connection {
  socket: net.Socket;
  ip: string;
  head: SessionHead;
  framer: LineFramer;
  flags: SessionFlags;
  /** Replies of the chunk being processed (ReplyBack), written at once after it. */
  reply: string;
  paused: boolean;
  warnedNoOutput: boolean;
}

/** The default spool directory when neither a config file nor `--spool` names one: per output target, under the OS temp dir. */
export function defaultSpoolDir(target: HostPort): string {
  return path.join(os.tmpdir(), `feedtrace-spool-${target.host.replace(/[^0-9A-Za-z.]/g, '_')}-${target.port}`);
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const log = options.log ?? (() => {});
  let config = options.config;
  const matcher = options.matcher ?? new Matcher();
  const recentMatches = new RecentMatches(matcher);
  let extractor = new EventExtractor(config.input.sources);
  const outputTarget = options.output ?? config.output.connection;
  const spoolDir = options.spoolDir ?? (config.file === '<default>' ? defaultSpoolDir(outputTarget) : config.spool.dir);

  const stats: ServiceStats = {
    events: 0,
    detections: 0,
    processedEvents: 0,
    ignoredEvents: 0,
    truncatedLines: 0,
    connections: 0,
    acceptedConnections: 0,
    rejectedConnections: 0,
    totals: new Map(),
  };

  // Output and alert connections.
  let alerts: Alerts | null = null;
  /** An explicit spool directory must be ours alone; the implicit default falls back to a per-process one. */
  const openSpool = (dir: string): Spool => {
    try {
      return new Spool({ dir, maxBytes: config.spool.maxBytes });
    } catch (error) {
      if (!(error instanceof SpoolLockedError) || options.spoolDir !== undefined || config.file !== '<default>') throw error;
      const own = `${dir}-${process.pid}`;
      log(`${error.message}; using ${own}`);
      return new Spool({ dir: own, maxBytes: config.spool.maxBytes });
    }
  };
  const makeOutput = (target: HostPort, name: string, dir: string): OutputConnection =>
    new OutputConnection({
      target,
      name,
      spool: openSpool(dir),
      retries: config.notification.retriesCount,
      retryTimeoutMs: config.notification.retriesTimeoutMs,
      memoryLimitBytes: Math.max(64 * 1024, config.spool.memoryQueueEvents * LINE_BYTES_ESTIMATE),
      log,
      onSpoolFull: (bytes) => alerts?.spoolFull(bytes),
      tls: config.output.tls,
    });
  const output = options.replyOnly ? null : makeOutput(outputTarget, 'output', spoolDir);
  const alertOutput =
    output && config.output.alertConnection ? makeOutput(config.output.alertConnection, 'alerts', path.join(spoolDir, 'alerts')) : output;
  // Reply-only: alerts go to the log, except start-up ones (the start-up line says it all) and statistics.
  let startingUp = true;
  alerts = new Alerts(
    config.output,
    (line) => {
      if (alertOutput) alertOutput.send(line, true);
      else if (!startingUp && !line.includes('alert=FT_')) log(line.trimEnd());
    },
    log,
  );
  output?.start();
  if (alertOutput && alertOutput !== output) alertOutput.start();

  // Feeds.
  const feeds = new FeedManager(matcher, alerts, { refreshMs: options.feedRefreshMs, pollMs: options.feedPollMs, log });
  const allFeeds = (c: ServiceConfig): ServiceFeed[] => [...c.feeds, ...(options.feeds ?? [])];
  const abandon = async (error: unknown): Promise<never> => {
    // Start-up failed: release what was opened (spool locks, reconnect timers) so the caller can exit.
    feeds.close();
    await Promise.all([output?.close(100), alertOutput !== output ? alertOutput?.close(100) : undefined]);
    throw error;
  };
  try {
    await feeds.setFeeds(allFeeds(config), true);
  } catch (error) {
    await abandon(error);
  }

  // Listener.
  const connections = new Set<Connection>();
  const listenerTls = config.input.tls;
  const clientAllowed = (ip: string): boolean => config.input.allowedClients.length === 0 || config.input.allowedClients.some((n) => networkContains(n, ip));
  const remoteIp = (socket: net.Socket): string => (socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  // TLS (read once at start, like the listen address): events are read only after the handshake; a client whose
  // handshake fails or stalls (10 s) never gets a session. With a client CA, its certificate must be signed by it
  // (checked in accept(), so every refusal is logged the same way; Node's own rejection logs some cases only).
  const server: net.Server = listenerTls
    ? tls.createServer(
        { cert: listenerTls.cert, key: listenerTls.key, ca: listenerTls.clientCa, requestCert: listenerTls.clientCa !== undefined, rejectUnauthorized: false, allowHalfOpen: true, handshakeTimeout: 10_000 },
        (socket) => accept(socket),
      )
    : net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => accept(socket));
  if (listenerTls) {
    // Sockets still in their handshake are not sessions yet (MaxConnections counts sessions): bound them too, so a
    // flood of clients that never finish a handshake cannot use up descriptors. Node closes the excess at once.
    server.maxConnections = 2 * config.input.maxConnections;
    // Clients outside AllowedClients are refused before a handshake is spent on them (accept() logs them).
    server.prependListener('connection', (raw: net.Socket) => {
      if (!clientAllowed(remoteIp(raw))) accept(raw);
    });
    server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      const ip = remoteIp(socket);
      if (clientAllowed(ip)) log(`connection from ${ip} refused: TLS: ${error.message.split('\n')[0]}`);
      // Node only reports a failed or timed-out handshake; without this the socket (and its descriptor) stays.
      socket.destroy();
    });
  }
  const listen = options.listen ?? config.input.listen;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await abandon(new Error(`cannot listen on ${listen.host}:${listen.port}: ${(error as Error).message}`));
  }
  server.on('error', (err) => log(`listener: ${err.message}`));
  const bound = server.address() as net.AddressInfo;
  const address: HostPort = { host: bound.address, port: bound.port };

  const outputCongested = (): boolean => output !== null && output.congested;
  output?.on('drain', () => {
    for (const c of connections) resumeIfPossible(c);
  });

  function accept(socket: net.Socket): void {
    const ip = remoteIp(socket);
    if (!clientAllowed(ip)) {
      stats.rejectedConnections++;
      log(`connection from ${ip} refused: not in AllowedClients`);
      socket.destroy();
      return;
    }
    if (listenerTls?.clientCa !== undefined && !(socket as tls.TLSSocket).authorized) {
      stats.rejectedConnections++;
      log(`connection from ${ip} refused: TLS: client certificate ${String((socket as tls.TLSSocket).authorizationError ?? 'not trusted')}`);
      socket.destroy();
      return;
    }
    if (connections.size >= config.input.maxConnections) {
      stats.rejectedConnections++;
      log(`connection from ${ip} refused: ${connections.size} connections open (MaxConnections)`);
      socket.destroy();
      return;
    }
    stats.acceptedConnections++;
    socket.setNoDelay(true);
    const head = new SessionHead();
    const conn: Connection = {
      socket,
      ip,
      head,
      flags: head.flags,
      reply: '',
      paused: false,
      warnedNoOutput: false,
      framer: new LineFramer(
        { maxLineBytes: config.input.maxLineBytes, eventDelimiter: config.input.eventDelimiter },
        (event) => processEvent(conn, event),
        (kept) => {
          stats.truncatedLines++;
          log(`connection from ${ip}: line longer than ${config.input.maxLineBytes} bytes cut after ${kept} bytes`);
        },
      ),
    };
    connections.add(conn);
    stats.connections = connections.size;
    if (config.input.idleTimeoutMs > 0) {
      socket.setTimeout(config.input.idleTimeoutMs, () => socket.destroy());
    }
    socket.on('data', (chunk: Buffer) => onData(conn, chunk));
    socket.on('end', () => {
      // The client half-closed: a last line without LF is still an event, and its replies still go out.
      onData(conn, conn.head.done ? Buffer.alloc(0) : conn.head.end(), true);
      socket.end();
    });
    socket.on('drain', () => resumeIfPossible(conn));
    socket.on('error', () => {}); // a reset by the client is its business; 'close' cleans up
    socket.on('close', () => {
      connections.delete(conn);
      stats.connections = connections.size;
    });
  }

  /**
   * The time stamp of the events being processed: taken once per read, not per event (reading the clock was a
   * few per cent of the per-event cost; lines show seconds, and a read is processed within milliseconds).
   */
  let readDate = new Date();

  function onData(conn: Connection, chunk: Buffer, ended = false): void {
    readDate = new Date();
    let data = chunk;
    if (!conn.head.done && !ended) {
      const r = conn.head.feed(chunk, () => conn.socket.write('PONG\n'));
      if (!r.done) return;
      data = r.rest;
    }
    conn.framer.push(data);
    if (ended) conn.framer.end();
    if (conn.reply.length > 0) {
      const reply = conn.reply;
      conn.reply = '';
      if (!conn.socket.destroyed && conn.socket.writable) conn.socket.write(reply);
    }
    if (!ended && (conn.socket.writableLength > REPLY_HIGH_WATER || (!conn.flags.replyBack && outputCongested()))) {
      conn.paused = true;
      conn.socket.pause();
    }
  }

  function resumeIfPossible(conn: Connection): void {
    if (!conn.paused || conn.socket.writableLength > REPLY_HIGH_WATER || (!conn.flags.replyBack && outputCongested())) return;
    conn.paused = false;
    conn.socket.resume();
  }

  function processEvent(conn: Connection, event: string): void {
    const flags = conn.flags;
    const counted = !flags.replyBack || flags.saveStatistic;
    stats.processedEvents++;
    if (counted) stats.events++;
    const extraction = extractor.extract(event, conn.ip);
    const formats = config.output;
    const date = readDate;
    let lines = '';
    let sent = 0;
    let totals: Map<string, number> | null = null;
    if (extraction === null) {
      stats.ignoredEvents++;
    } else {
      for (const q of extraction.queries) {
        const matches = recentMatches.match(q.type, q.value);
        for (const match of matches) {
          lines += renderDetection(formats, {
            date,
            match,
            matchedValue: q.value,
            queryType: q.type,
            sourceId: extraction.sourceId,
            values: extraction.values,
            regexName: q.regexName,
          });
          lines += '\n';
          sent++;
          totals ??= new Map();
          totals.set(match.category, (totals.get(match.category) ?? 0) + 1);
          if (counted) {
            stats.detections++;
            stats.totals.set(match.category, (stats.totals.get(match.category) ?? 0) + 1);
          }
        }
      }
    }
    // ReplyBack + X-KF-SendFinishedEvent: one finished event per event, also when nothing matched (a lookup
    // client waits for it). Elsewhere: when the flag was sent alone, or FinishedEventFormat is enabled.
    const finished = flags.replyBack ? flags.sendFinishedEvent : flags.sendFinishedEvent || formats.finishedEventFormat.enabled;
    if (finished) {
      lines += sent === 0 ? emptyFinished(formats, date, extraction?.values) : renderFinished(formats, { date, sentEvents: sent, totals: totals ?? NO_TOTALS, values: extraction?.values ?? NO_VALUES });
      lines += '\n';
    }
    if (lines.length === 0) return;
    if (flags.replyBack) conn.reply += lines;
    else sendOutput(lines, conn);
  }

  /**
   * The finished event of an event without detections (most events). When its template uses no regex values it
   * only changes with the date, so it is rendered once per second and per config.
   */
  const emptyFinishedCache = new WeakMap<ServiceConfig['output'], { date: string; line: string } | null>();
  const NO_TOTALS: ReadonlyMap<string, number> = new Map();
  const NO_VALUES: ReadonlyMap<string, readonly string[]> = new Map();
  const NO_EVENT_VALUES = new Set(['Date', 'RecordContext', 'ActionableFields', 'Category', 'MatchedIndicator']);
  function emptyFinished(formats: ServiceConfig['output'], date: Date, values: ReadonlyMap<string, readonly string[]> | undefined): string {
    let cached = emptyFinishedCache.get(formats);
    if (cached === undefined) {
      cached = compileOutput(formats).finished.names.every((n) => NO_EVENT_VALUES.has(n)) ? { date: '', line: '' } : null;
      emptyFinishedCache.set(formats, cached);
    }
    if (cached !== null) {
      const text = formatDate(date);
      if (cached.date === text) return cached.line;
      cached.date = text;
    }
    const line = renderFinished(formats, { date, sentEvents: 0, totals: NO_TOTALS, values: values ?? NO_VALUES });
    if (cached !== null) cached.line = line;
    return line;
  }

  function sendOutput(lines: string, conn: Connection): void {
    if (!output) {
      if (!conn.warnedNoOutput) {
        conn.warnedNoOutput = true;
        log(`connection from ${conn.ip}: no X-KF-ReplyBack and no output connection (--reply-only): its detections are not sent anywhere`);
      }
      return;
    }
    // One output line per entry keeps the queue's line counts (spool_events) right.
    let start = 0;
    for (let nl = lines.indexOf('\n'); nl !== -1; nl = lines.indexOf('\n', start)) {
      output.send(lines.slice(start, nl + 1));
      start = nl + 1;
    }
  }

  // Statistics.
  const statsTimer = setInterval(() => emitStatistics(), config.statisticsIntervalMs);
  statsTimer.unref();
  function emitStatistics(): void {
    const o = output?.stats();
    alerts!.statistics(
      {
        events: stats.events,
        detections: stats.detections,
        connections: stats.connections,
        queueDepth: o?.queueLines ?? 0,
        spoolEvents: o?.spoolLines ?? 0,
        spoolBytes: o?.spoolBytes ?? 0,
        truncatedLines: stats.truncatedLines,
        totals: stats.totals,
      },
      feeds.status(),
    );
  }

  // Config reload.
  async function reload(): Promise<boolean> {
    if (config.file === '<default>') {
      log('reload: running on the built-in default config; nothing to re-read');
      return false;
    }
    let next: ServiceConfig;
    try {
      next = loadServiceConfig(config.file);
    } catch (error) {
      alerts!.configurationRejected((error as Error).message);
      return false;
    }
    const needsRestart: string[] = [];
    if (!options.listen && (next.input.listen.host !== config.input.listen.host || next.input.listen.port !== config.input.listen.port)) {
      needsRestart.push('InputSettings/ConnectionString');
    }
    if (!options.output && JSON.stringify(next.output.connection) !== JSON.stringify(config.output.connection)) {
      needsRestart.push('OutputSettings/ConnectionString');
    }
    if (JSON.stringify(next.output.alertConnection) !== JSON.stringify(config.output.alertConnection)) needsRestart.push('OutputSettings/AlertConnectionString');
    if (needsRestart.length > 0) log(`reload: ${needsRestart.join(', ')} changed; takes effect after a restart`);
    config = next;
    extractor = new EventExtractor(config.input.sources);
    alerts!.setOutput(config.output);
    await feeds.setFeeds(allFeeds(config), false);
    alerts!.configurationUpdated();
    return true;
  }

  let configWatcher: ReturnType<typeof watchConfigFile> = null;
  if (options.watchConfig && config.file !== '<default>') configWatcher = watchConfigFile(config.file, () => void reload());

  alerts.serviceStarted();
  startingUp = false;

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing ??= (async () => {
      clearInterval(statsTimer);
      configWatcher?.close();
      feeds.close();
      // Stop accepting. Every byte already read has been processed (processing is synchronous per chunk);
      // half-close each client after its pending replies and give it a moment to close its side.
      const stopped = new Promise<void>((r) => server.close(() => r()));
      for (const c of connections) {
        c.socket.resume();
        c.socket.end();
      }
      const deadline = Date.now() + 1000;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const c of connections) c.socket.destroy();
      await stopped;
      alerts!.serviceStopped();
      await Promise.all([output?.close(), alertOutput !== output ? alertOutput?.close() : undefined]);
    })();
    return closing;
  }

  return {
    address,
    get config() {
      return config;
    },
    matcher,
    feeds,
    output,
    stats: () => ({ ...stats, totals: new Map(stats.totals) }),
    reload,
    close,
  };
}

/** Watches a config file for changes (debounced); null if the file system cannot watch. */
function watchConfigFile(file: string, onChange: () => void): { close(): void } | null {
  let timer: NodeJS.Timeout | null = null;
  try {
    const watcher = fs.watch(file, { persistent: false }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, 300);
      timer.unref();
    });
    watcher.on('error', () => watcher.close());
    return {
      close: () => {
        if (timer) clearTimeout(timer);
        watcher.close();
      },
    };
  } catch {
    return null;
  }
}
