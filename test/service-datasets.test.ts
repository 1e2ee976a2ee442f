/**
 * Real logs against real open feeds through the running service (ReplyBack + finished events), with the
 * expected detections computed here independently: IPs taken from the log with JSON.parse / a plain regex,
 * looked up in a Set (exact feeds) or with a 32-bit range check (CIDR feed).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig } from '../src/service/config.js';
import { startService, type RunningService } from '../src/service/server.js';
import { dataset } from './support/paths.js';
import { LineClient, waitFor } from './support/service-net.js';

const IPSUM = dataset('ipsum', 'ipsum.txt');
const MASS = dataset('maltrail-trails', 'trails', 'static', 'mass_scanner.txt');
const MASS_CIDR = dataset('maltrail-trails', 'trails', 'static', 'mass_scanner_cidr.txt');

const dataLines = (file: string): string[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');

const ipsum = new Set(dataLines(IPSUM).map((l) => l.split(/\s+/)[0]!));
const massScanner = new Set(dataLines(MASS).map((l) => l.split(/\s+/)[0]!));
const v4 = (ip: string): number => ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
const cidrs = dataLines(MASS_CIDR)
  .map((l) => l.split(/\s+/)[0]!)
  .filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c))
  .map((c) => {
    const [ip, bits] = c.split('/');
    const size = 2 ** (32 - Number(bits));
    const start = Math.floor(v4(ip!) / size) * size;
    return { c, start, end: start + size };
  });

/** Every IPv4 address written in the line, as a whole token. */
const IPV4_IN_TEXT = /(?<![\w.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![\w]|\.\d)/g;

function expectedFor(line: string): Set<string> {
  const ips = new Set<string>();
  for (const m of line.matchAll(IPV4_IN_TEXT)) if (net.isIPv4(m[1]!)) ips.add(m[1]!);
  const out = new Set<string>();
  for (const ip of ips) {
    if (ipsum.has(ip)) out.add(`ipsum|${ip}`);
    if (massScanner.has(ip)) out.add(`mass_scanner|${ip}`);
    const n = v4(ip);
    for (const r of cidrs) if (n >= r.start && n < r.end) out.add(`mass_scanner_cidr|${r.c}`);
  }
  return out;
}

const field = (line: string, key: string): string => {
  const m = new RegExp(` ${key}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`).exec(line);
  return m ? m[1]!.replace(/^"|"$/g, '') : '';
};

let service: RunningService;
let spoolDir: string;
beforeAll(async () => {
  spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-ds-'));
  service = await startService({
    config: loadServiceConfig(),
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir,
    feeds: [
      { path: IPSUM, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 },
      { path: MASS, format: 'maltrail', role: 'feed', outdatedAlertHours: 0 },
      { path: MASS_CIDR, format: 'maltrail', role: 'feed', outdatedAlertHours: 0 },
    ],
  });
});
afterAll(async () => {
  await service.close();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

/** Sends a log through one ReplyBack session; returns the replies grouped per event (finished event last). */
async function replay(lines: string[]): Promise<string[][]> {
  const c = await LineClient.connect(service.address.port);
  await c.write('X-KF-SendFinishedEventX-KF-ReplyBack' + lines.map((l) => l + '\n').join(''));
  await waitFor(() => c.lines.filter((l) => l.includes(' type=LookupFinished')).length >= lines.length, 'a finished event per line', 60000);
  c.end();
  const groups: string[][] = [[]];
  for (const l of c.lines) {
    groups[groups.length - 1]!.push(l);
    if (l.includes(' type=LookupFinished')) groups.push([]);
  }
  groups.pop();
  return groups;
}

function compare(lines: string[], groups: string[][]): { detections: number; events: number; byFeed: Record<string, number> } {
  expect(groups.length).toBe(lines.length);
  let detections = 0;
  let events = 0;
  const byFeed: Record<string, number> = {};
  const mismatches: string[] = [];
  groups.forEach((g, i) => {
    const ipDetections = g.slice(0, -1).filter((d) => field(d, 'indicatorType') === 'ip');
    const got = new Set(ipDetections.map((d) => `${field(d, 'feed')}|${field(d, 'matchedIndicator')}`));
    const want = expectedFor(lines[i]!);
    if ([...got].sort().join() !== [...want].sort().join()) mismatches.push(`line ${i + 1}: got ${[...got]} want ${[...want]}`);
    // The finished event counts every detection line of its event.
    expect(field(g[g.length - 1]!, 'sent_events')).toBe(String(g.length - 1));
    detections += want.size;
    if (want.size > 0) events++;
    for (const k of want) byFeed[k.split('|')[0]!] = (byFeed[k.split('|')[0]!] ?? 0) + 1;
  });
  expect(mismatches.slice(0, 10)).toEqual([]);
  return { detections, events, byFeed };
}

it('Suricata eve.json (honeypot) vs ipsum, maltrail mass_scanner and mass_scanner_cidr', async () => {
  const lines = fs.readFileSync(dataset('slips-honeypot-suricata-2021-06', 'eve.json'), 'utf8').split('\n').filter((l) => l);
  expect(lines.length).toBe(5000);
  const result = compare(lines, await replay(lines));
  // Every feed really hits this log (SOURCES.md measured overlaps), so the comparison is not vacuous.
  expect(result.byFeed['ipsum']).toBeGreaterThan(0);
  expect(result.byFeed['mass_scanner']).toBeGreaterThan(0);
  expect(result.byFeed['mass_scanner_cidr']).toBeGreaterThan(0);
});

it('Apache access log vs the same feeds', async () => {
  const lines = fs.readFileSync(dataset('elastic-apache-access', 'apache_logs'), 'utf8').split('\n').filter((l) => l);
  const result = compare(lines, await replay(lines));
  expect(result.byFeed['ipsum']).toBeGreaterThan(0);
});

it('benign Zeek and Sysmon logs: detections only where the feeds really list an address of the event', async () => {
  for (const file of [dataset('slips-zeek-json', 'conn.log'), dataset('otrf-sysmon-bitsadmin', 'cmd_bitsadmin_download_psh_script_2020-10-2302365189.json')]) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l);
    compare(lines, await replay(lines));
  }
});
