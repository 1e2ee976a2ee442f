/**
 * Sends a log file to a service line by line (like Kaspersky's log scanner): the client side of the protocol,
 * used by `feedtrace replay` and the service benchmark. With ReplyBack it asks for finished events and waits
 * for one per line sent, so the summary counts every detection the service returned.
 */
import fs from 'node:fs';
import net from 'node:net';
import { readLines } from '../cli/lines.js';
import { describeSocketError } from '../socket-error.js';
import type { HostPort } from './config.js';

export interface ReplayOptions {
  file: string;
  to: HostPort;
  /** Lines per second (0 or absent = as fast as the service reads). */
  rate?: number;
  replyBack?: boolean;
  /** How long to wait for the last answers after the last line was sent (ReplyBack). */
  answerTimeoutMs?: number;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayProgress {
  lines: number;
  bytes: number;
  seconds: number;
  detections: number;
  finished: number;
}

export type ReplaySummary = ReplayProgress;

const SESSION_HEAD = 'X-KF-SendFinishedEventX-KF-ReplyBack';

export async function replayFile(options: ReplayOptions): Promise<ReplaySummary> {
  // The file first: a typo in its name must not look like a service problem (nor open an empty session).
  const input = fs.createReadStream(options.file);
  await new Promise<void>((resolve, reject) => {
    input.once('ready', resolve);
    input.once('error', (error) => reject(new Error(`cannot read ${options.file}: ${error.message}`)));
  });
  const address = `${options.to.host}:${options.to.port}`;
  const socket = net.connect({ host: options.to.host, port: options.to.port });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (error) {
    input.destroy();
    throw new Error(`cannot connect to the service at ${address}: ${describeSocketError(error as NodeJS.ErrnoException)}`);
  }
  const failure: { error: Error | null } = { error: null };
  socket.on('error', (err) => (failure.error = err));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const started = performance.now();
  const progress: ReplayProgress = { lines: 0, bytes: 0, seconds: 0, detections: 0, finished: 0 };
  const tick = (): void => {
    progress.seconds = (performance.now() - started) / 1000;
    options.onProgress?.({ ...progress });
  };
  const timer = options.onProgress ? setInterval(tick, 500) : null;

  let onFinished: (() => void) | null = null;
  if (options.replyBack) {
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        if (line.includes('type=LookupFinished')) progress.finished++;
        else if (line.includes('matchedIndicator')) progress.detections++;
      }
      if (progress.finished >= progress.lines) onFinished?.();
    });
    socket.write(SESSION_HEAD);
  } else {
    socket.resume(); // a service without ReplyBack sends nothing; keep the socket flowing anyway
  }

  try {
    const rate = options.rate ?? 0;
    let batch = '';
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const ok = socket.write(batch);
      batch = '';
      if (!ok && !socket.destroyed) await Promise.race([new Promise<void>((r) => socket.once('drain', () => r())), closed]); // a closed socket never drains
    };
    for await (const raw of readLines(input)) {
      if (failure.error || socket.destroyed) throw failure.error ?? new Error(`the service closed the connection after ${progress.lines} lines`);
      // The service ignores empty lines (no finished event either), so they are not sent or counted.
      const line = raw.replace(/\r/g, '');
      if (line.length === 0) continue;
      batch += line + '\n';
      progress.lines++;
      progress.bytes += Buffer.byteLength(line) + 1;
      if (rate > 0) {
        await flush();
        const due = (progress.lines / rate) * 1000 - (performance.now() - started);
        if (due > 1) await new Promise((r) => setTimeout(r, due));
      } else if (batch.length >= 64 * 1024) {
        await flush();
      }
    }
    await flush();
    if (options.replyBack && progress.finished < progress.lines) {
      const timeoutMs = options.answerTimeoutMs ?? 30_000;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        onFinished = () => {
          clearTimeout(t);
          resolve();
        };
        void closed.then(() => onFinished?.());
      });
    }
    socket.end();
    await closed;
    if (failure.error) throw failure.error;
  } finally {
    if (timer) clearInterval(timer);
    input.destroy();
    socket.destroy();
  }
  progress.seconds = (performance.now() - started) / 1000;
  return progress;
}
