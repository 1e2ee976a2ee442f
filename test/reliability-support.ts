/**
 * Support for the reliability and security tests (which run the real `feedtrace serve` through
 * support/serve.ts): its memory and file descriptors from /proc, configs, sequence-tagged events, a small real feed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipsumAddresses, writeIpsum } from './support/ipsum.js';

/** Real ipsum addresses (the feed's data lines, in file order). */
export const ipsumIps = ipsumAddresses;
export { writeIpsum };

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `feedtrace-${prefix}-`));
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
