/**
 * Support for the reliability and security tests: the real `feedtrace serve` as a child process (so its memory
 * and file descriptors can be read from /proc and it can be SIGKILLed), and a small real feed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliBundle } from './support/paths.js';
import { ipsumAddresses, writeIpsum } from './support/ipsum.js';

/** Real ipsum addresses (the feed's data lines, in file order). */
export const ipsumIps = ipsumAddresses;
export { writeIpsum };

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `feedtrace-${prefix}-`));
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Everything the service wrote on stderr so far. */
  log(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `feedtrace serve ARGS` (listening on an ephemeral loopback port unless ARGS say otherwise); resolves once it listens. */
export function spawnService(args: string[], opts: { listen?: boolean } = {}): Promise<ServiceProcess> {
  const listen = opts.listen === false ? [] : ['--listen', '127.0.0.1:0'];
  const child = spawn(process.execPath, [cliBundle, 'serve', ...listen, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => (err += t));
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const m = /listening on (?:\[[^\]]+\]|[\d.]+):(\d+)/.exec(err);
      if (!m) return;
      child.stderr!.off('data', onData);
      resolve({
        child,
        pid: child.pid!,
        port: Number(m[1]),
        log: () => err,
        exited,
        kill: async (signal = 'SIGKILL') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`feedtrace serve exited (${code}) before listening: ${err.trim()}`)));
  });
}

/** Resident memory (VmRSS) and its peak (VmHWM) of a process, in bytes (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Open file descriptors of a process (Linux /proc). */
export function fdsOf(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export const MB = 1024 * 1024;

/** Tags every event with `seq=N` and renders it in every detection line, so the receiver can check order and loss. */
const SEQ_REGEX = '<SEQ type="CONTEXT" extract="first"><![CDATA[\\bseq=(\\d+)]]></SEQ>';
const SEQ_FORMAT = '%Date% category=%Category% matchedIndicator=%MatchedIndicator% feed=%FeedName% seq=%SEQ%';

export interface ConfigOptions {
  retries?: number;
  retryTimeoutSeconds?: number;
  memoryQueueEvents?: number;
  spoolMaxBytes?: number;
  maxConnections?: number;
  idleTimeoutSeconds?: number;
  allowedClients?: string;
  statisticsIntervalSeconds?: number;
  /** Extra elements inside <InputSettings> / <OutputSettings>. */
  input?: string;
  output?: string;
}

/** The shipped default config with test settings, written to `dir/service.xml`; returns its path. */
export function writeConfig(dir: string, base: string, o: ConfigOptions = {}): string {
  let xml = base
    .replace('<Source id="default">', `<Source id="default">\n        ${SEQ_REGEX}`)
    .replace(/<EventFormat>[^<]*<\/EventFormat>/, `<EventFormat>${SEQ_FORMAT}</EventFormat>`);
  const set = (element: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    const re = new RegExp(`<${element}>[^<]*</${element}>`);
    if (!re.test(xml)) throw new Error(`no <${element}> in the base config`);
    xml = xml.replace(re, `<${element}>${value}</${element}>`);
  };
  set('EventSendingRetriesCount', o.retries);
  set('EventSendingRetriesTimeout', o.retryTimeoutSeconds);
  set('MemoryQueueEvents', o.memoryQueueEvents);
  set('MaxBytes', o.spoolMaxBytes);
  set('MaxConnections', o.maxConnections);
  set('IdleTimeout', o.idleTimeoutSeconds);
  set('AllowedClients', o.allowedClients);
  set('StatisticsInterval', o.statisticsIntervalSeconds);
  if (o.input) xml = xml.replace('</InputSettings>', `${o.input}</InputSettings>`);
  if (o.output) xml = xml.replace('</OutputSettings>', `${o.output}</OutputSettings>`);
  const file = path.join(dir, 'service.xml');
  fs.writeFileSync(file, xml);
  return file;
}

/** `seq` numbers of the detection lines a receiver got (alerts and statistics have none). */
export function seqsOf(lines: string[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const m = / seq=(\d+)$/.exec(l);
    if (m && l.includes('matchedIndicator=')) out.push(Number(m[1]));
  }
  return out;
}

/** Event `n`: one real ipsum address (one detection each), tagged with its sequence number. */
export const seqEvent = (n: number): string => `seq=${n} src=10.0.0.1 dst=${ipsumIps[n % 2000]} action=allowed\n`;

/** 0..n-1 */
export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
