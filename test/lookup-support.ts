/**
 * Test support for the lookup: a scripted CyberTrace-style peer for what the real service cannot be made to do
 * on demand (answer exactly like Kaspersky's CyberTrace without request ids, hang, be slow, close mid-answer),
 * a temporary Splunk app folder holding the real launcher and bundle, and a runner that feeds CSV to it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './support/paths.js';
import { spawnService } from './support/serve.js';

export const launcherSource = path.join(repoRoot, 'app', 'bin', 'feedtrace_lookup');
export const lookupBundle = path.join(repoRoot, 'dist', 'app', 'bin', 'feedtrace_lookup.js');
export const defaultConfSource = path.join(repoRoot, 'default', 'feedtrace.conf');

export const FIELDS = ['url', 'domain', 'ip', 'md5', 'sha1', 'sha256', 'hash', 'category', 'matchedIndicator', 'feed', 'context', 'threat_match_field', 'threat_match_value'];

export interface PeerAnswer {
  category: string;
  matchedIndicator: string;
  /** Record context fields, written unquoted as CyberTrace does. */
  context?: Array<[string, string]>;
}

export interface PeerOptions {
  /** wire value (as extracted from `key=value`) → detections */
  answers: Map<string, PeerAnswer[]>;
  /** Echo the leading request id as the first word of each answer line (balancer style). */
  echoIds?: boolean;
  /** Answer the lines of each received chunk in reverse order (a service that reorders; needs echoIds). */
  reorder?: boolean;
  /** Wait this long before answering each line. */
  delayMs?: number;
  /** Never answer. */
  hang?: boolean;
  /** Answer without finished lines, as a service that ignores X-KF-SendFinishedEvent would. */
  noFinished?: boolean;
  /** On the first connection only, close after writing half of the answer to this many-th line (1-based). */
  closeMidAnswerAt?: number;
  /** On every connection, close after writing half of the answer to every line whose number is a multiple of this. */
  closeEvery?: number;
}

export interface Peer {
  port: number;
  /** Everything received, per connection, as text. */
  received: string[];
  connections: number;
  lines: number;
  close(): Promise<void>;
}

const KEYS = ['ip', 'md5', 'sha1', 'sha256', 'url', 'domain'];

/** The first non-empty `key=value` of a request line, as CyberTrace's key-anchored regexes would extract it. */
function extractValue(line: string): string | undefined {
  for (const m of line.matchAll(/(?:^|\s)(\w+)=(\S*)/g)) if (KEYS.includes(m[1]!) && m[2] !== '') return m[2]!;
  return undefined;
}

export async function startPeer(opts: PeerOptions): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const peer: Peer = { port: 0, received: [], connections: 0, lines: 0, close: async () => undefined };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const index = peer.received.push('') - 1;
    peer.connections++;
    let buffer = '';
    let started = false;
    let linesHere = 0;
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      peer.received[index] += chunk;
      buffer += chunk;
      if (!started) {
        const m = /^((?:X-KF-SendFinishedEvent|X-KF-ReplyBack|X-KF-SaveStatistic)+)/.exec(buffer);
        if (!m) return;
        if (buffer.startsWith(m[1]! + 'PING')) {
          socket.write('PONG\n');
          buffer = '';
          return;
        }
        buffer = buffer.slice(m[1]!.length).replace(/^\r?\n/, '');
        started = true;
      }
      let nl: number;
      const batch: Array<[string, number]> = [];
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        peer.lines++;
        batch.push([line, ++linesHere]);
      }
      if (opts.reorder) batch.reverse();
      for (const [line, n] of batch) chain = chain.then(() => answer(socket, line, n, index === 0));
    });
  });
  let closed = false;
  const answer = async (socket: net.Socket, line: string, n: number, firstConnection: boolean): Promise<void> => {
    if (opts.hang || closed || socket.destroyed) return;
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (closed || socket.destroyed) return;
    const id = /^(\d+)\s/.exec(line)?.[1];
    const lead = opts.echoIds && id ? `${id} ` : '';
    const value = extractValue(line);
    const hits = (value !== undefined && opts.answers.get(value)) || [];
    const date = 'Nov 26 06:24:37';
    let text = '';
    for (const h of hits) {
      const ctx = (h.context ?? []).map(([k, v]) => ` ${k}=${v}`).join('');
      text += `${lead}${date} eventName=${h.category} category=${h.category} matchedIndicator=${h.matchedIndicator} url=${line.includes('url=') ? value : ''} src= ip= md5= sha1= sha256= usrName=${ctx}\n`;
    }
    const totals = hits.map((h) => `${h.category}:1;`).join('');
    if (!opts.noFinished) text += `${lead}${date} type=LookupFinished sent_events=${hits.length} total=${totals}\n`;
    if ((firstConnection && opts.closeMidAnswerAt === n) || (opts.closeEvery !== undefined && n % opts.closeEvery === 0)) {
      socket.write(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      socket.destroy();
      return;
    }
    if (!socket.destroyed) socket.write(text);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.address() as net.AddressInfo).port;
  peer.close = () =>
    new Promise<void>((resolve) => {
      closed = true;
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return peer;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TempApp {
  dir: string;
  launcher: string;
  remove(): void;
}

/** A Splunk app folder with the real launcher, bundle and default/feedtrace.conf (plus an optional local/). */
export function makeApp(localConf?: string): TempApp {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-app-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'default'));
  const launcher = path.join(dir, 'bin', 'feedtrace_lookup');
  copyFileSync(launcherSource, launcher);
  chmodSync(launcher, 0o755);
  copyFileSync(lookupBundle, path.join(dir, 'bin', 'feedtrace_lookup.js'));
  copyFileSync(defaultConfSource, path.join(dir, 'default', 'feedtrace.conf'));
  if (localConf !== undefined) {
    mkdirSync(path.join(dir, 'local'));
    writeFileSync(path.join(dir, 'local', 'feedtrace.conf'), localConf);
  }
  return { dir, launcher, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with `input` on stdin, as Splunk runs an external lookup. */
export function runWithInput(command: string, args: string[], input: string | Buffer, env: NodeJS.ProcessEnv = {}): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

export interface RealService {
  port: number;
  stop(): Promise<void>;
}

/** The real `feedtrace serve` on a loopback ephemeral port, ReplyBack only; resolves once its feeds are loaded. */
export async function startService(args: string[]): Promise<RealService> {
  const service = await spawnService(['--reply-only', ...args]);
  return {
    port: service.port,
    stop: async () => {
      await service.kill('SIGKILL');
    },
  };
}
