/**
 * `feedtrace demo`: the whole chain on loopback, no Splunk. The service (a child process from the built
 * bundle, with the sample feeds) sends its output to a stand-in for Splunk's 9998 input; the sample logs are
 * replayed into it as Splunk forwards them (raw lines, no session flags); then a CSV of indicators from those
 * logs goes through the real lookup bundle. Every file it writes is under `out`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { replayFile } from '../service/replay.js';
import { lookupCsv, LOOKUP_FIELDS } from './lookup-input.js';
import { DetectionReceiver, type ReceivedCounts } from './receiver.js';
import { lookupBundle, sampleFeedArgs, sampleLogs } from './samples.js';
import { spawnService, type ServiceProcess } from './service-process.js';

export interface DemoOptions {
  out: string;
  /** Events per second per log (0: as fast as the service reads). */
  rate: number;
  /** Phase messages (one line each). */
  log: (line: string) => void;
  /** Progress of the replay: events sent so far, of total (called every 0.5 s and at the end of each log). */
  onProgress?: (sent: number, total: number, seconds: number) => void;
  /** Aborting stops the run: children are stopped, sockets closed, and runDemo rejects with DemoInterrupted. */
  signal: AbortSignal;
}

export interface DemoFiles {
  detections: string;
  serviceLog: string;
  lookupInput: string;
  lookupOutput: string;
  spool: string;
}

export interface DemoResult {
  out: string;
  files: DemoFiles;
  /** The service's start-up line's feed list, e.g. "ipsum-level3 14217, ...". */
  feeds: string;
  logs: Array<{ file: string; events: number }>;
  eventsSent: number;
  replaySeconds: number;
  received: ReceivedCounts;
  lookup: { rows: number; seconds: number; outputRows: number; matchedValues: number; exitCode: number };
}

export class DemoInterrupted extends Error {
  override name = 'DemoInterrupted';
}

/** How long the end-of-run marker may take to come back: far more than the queue of a 5,000-line replay needs. */
const MARKER_TIMEOUT_MS = 60_000;

/** `promise`, or a DemoInterrupted rejection as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DemoInterrupted('interrupted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DemoInterrupted('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

const nonEmptyLines = (file: string): number => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.replace(/\r/g, '') !== '').length;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { out, signal, log } = options;
  fs.mkdirSync(out, { recursive: true });
  const files: DemoFiles = {
    detections: path.join(out, 'detections.log'),
    serviceLog: path.join(out, 'service.log'),
    lookupInput: path.join(out, 'lookup-input.csv'),
    lookupOutput: path.join(out, 'lookup-output.csv'),
    spool: path.join(out, 'spool'),
  };
  const serviceLog = fs.createWriteStream(files.serviceLog);
  const receiver = new DetectionReceiver(files.detections);
  let service: ServiceProcess | null = null;
  let lookupChild: ChildProcess | null = null;
  try {
    const receiverPort = await receiver.start();
    log(`stand-in for Splunk's 9998 listening on 127.0.0.1:${receiverPort}`);
    log('starting the service with the sample feeds ...');
    // Not abortable() here: on abort spawnService itself stops the child and rejects once it has exited.
    service = await spawnService({
      args: ['--listen', '127.0.0.1:0', '--output', `127.0.0.1:${receiverPort}`, '--spool', files.spool, ...sampleFeedArgs()],
      onLine: (line) => serviceLog.write(line + '\n'),
      signal,
    });
    if (signal.aborted) throw new DemoInterrupted('interrupted');
    log(`service pid ${service.child.pid} listening on ${service.host}:${service.port}`);
    const feeds = /feeds: (.*); output /.exec(service.startLine)?.[1] ?? '';
    const to = { host: service.host, port: service.port };

    const logs = sampleLogs().map((file) => ({ file, events: nonEmptyLines(file) }));
    const total = logs.reduce((n, l) => n + l.events, 0);
    let eventsSent = 0;
    let replaySeconds = 0;
    for (const l of logs) {
      log(`replaying ${path.basename(l.file)} (${l.events} events) ...`);
      const before = eventsSent;
      const done = await abortable(
        replayFile({
          file: l.file,
          to,
          rate: options.rate,
          // Once aborted the bar stays as it was: the run is over even if the replay notices a moment later.
          onProgress: options.onProgress ? (p) => signal.aborted || options.onProgress!(before + p.lines, total, replaySeconds + p.seconds) : undefined,
        }),
        signal,
      );
      eventsSent += done.lines;
      replaySeconds += done.seconds;
      options.onProgress?.(eventsSent, total, replaySeconds);
    }
    // Every replayed line has been processed once the service closed those connections; its detections are
    // queued ahead of anything sent later. One event with X-KF-SendFinishedEvent now gets a finished event on
    // the output connection behind them all: when it arrives, every detection has arrived.
    await abortable(sendMarker(to), signal);
    const marker = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not all detections arrived within ${MARKER_TIMEOUT_MS / 1000} s (see ${files.serviceLog})`)), MARKER_TIMEOUT_MS);
      t.unref(); // after an abort it must not keep the process alive
      void receiver.untilFinished(1).then(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await abortable(marker, signal);

    const input = lookupCsv(logs.map((l) => l.file));
    fs.writeFileSync(files.lookupInput, input.csv);
    log(`looking up ${input.rows} indicators from the logs through the lookup bundle ...`);
    const started = performance.now();
    const stdio = [fs.openSync(files.lookupInput, 'r'), fs.openSync(files.lookupOutput, 'w')] as const;
    lookupChild = spawn(process.execPath, [lookupBundle, ...LOOKUP_FIELDS], {
      env: { ...process.env, FEEDTRACE_SERVICE: `${service.host.includes(':') ? `[${service.host}]` : service.host}:${service.port}` },
      stdio: [stdio[0], stdio[1], 'pipe'],
    });
    // The child has its own copies of the two files.
    for (const fd of stdio) fs.closeSync(fd);
    lookupChild.stderr!.on('data', (chunk: Buffer) => serviceLog.write(chunk));
    const child = lookupChild;
    const exitCode = await abortable(new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 1))), signal);
    const seconds = (performance.now() - started) / 1000;
    const rows = parse(fs.readFileSync(files.lookupOutput), { columns: true }) as Array<Record<string, string>>;
    const matched = new Set(rows.map((r) => `${r['ip']}|${r['domain']}`));
    return {
      out,
      files,
      feeds,
      logs,
      eventsSent,
      replaySeconds,
      received: receiver.counts,
      lookup: { rows: input.rows, seconds, outputRows: rows.length, matchedValues: matched.size, exitCode },
    };
  } catch (err) {
    // Whatever failed once the run was aborted (a reset socket, a killed child) is the interruption.
    if (signal.aborted) throw new DemoInterrupted('interrupted');
    throw err;
  } finally {
    if (lookupChild && lookupChild.exitCode === null && lookupChild.signalCode === null) lookupChild.kill('SIGTERM');
    if (service) await service.stop();
    await receiver.close();
    await new Promise<void>((r) => serviceLog.end(() => r()));
  }
}

/** One marker event in a session that asks for finished events on the output connection. */
function sendMarker(to: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(to, () => socket.end('X-KF-SendFinishedEvent' + 'feedtrace-demo-end\n'));
    socket.on('error', reject);
    socket.resume();
    socket.on('close', () => resolve());
  });
}
