/**
 * Soak run (`node dist/bench.js soak [--seconds N] [--rate N] [--reload N]`; 10 minutes by default; the test
 * suite runs a short one): the real `feedtrace serve` as a child process, events at a steady rate, each with a
 * real ipsum address (one detection) and a sequence number that every detection line repeats; the feed file is
 * replaced every few seconds. The receiver checks order, loss and duplicates as lines arrive; the service's
 * resident memory and open file descriptors are sampled every second from /proc.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService, type ServiceProcess } from '../demo/service-process.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../service/default-config.js';

export interface SoakOptions {
  seconds: number;
  /** Events a second. */
  rate: number;
  /** Replace the feed file this often. */
  reloadEverySeconds: number;
  /** The CLI bundle (default: feedtrace.js beside this bundle, or the repo's dist/ when run from source). */
  cli?: string;
  /** Directory of the shared datasets (ipsum/ipsum.txt). */
  datasets?: string;
  log?: (line: string) => void;
}

export interface SoakResult {
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** KL_ALERT_UpdatedFeed alerts received after start-up (one per successful feed reload). */
  reloads: number;
  reloadFailures: number;
  /** Resident memory (MB) averaged over the second fifth and over the last fifth of the run, and its peak. */
  rssEarlyMB: number;
  rssLateMB: number;
  rssPeakMB: number;
  fdsEarly: number;
  fdsLate: number;
  seconds: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench.js when bundled, src/bench/soak.ts when run from source (tests). */
const repoRoot = fs.existsSync(path.join(here, 'feedtrace.js')) ? path.resolve(here, '..') : path.resolve(here, '..', '..');
const defaultCli = (): string => path.join(repoRoot, 'dist', 'feedtrace.js');
const defaultDatasets = (): string => process.env['FEEDTRACE_DATASETS'] ?? path.resolve(repoRoot, '..', 'shared', 'datasets');

/** The default config with a `SEQ` context regex rendered at the end of every detection line, and a quick reconnect. */
export function soakConfigXml(): string {
  return DEFAULT_SERVICE_CONFIG_XML.replace('<Source id="default">', '<Source id="default">\n        <SEQ type="CONTEXT" extract="first"><![CDATA[\\bseq=(\\d+)]]></SEQ>')
    .replace(/<EventFormat>[^<]*<\/EventFormat>/, '<EventFormat>%Date% category=%Category% matchedIndicator=%MatchedIndicator% feed=%FeedName% seq=%SEQ%</EventFormat>')
    .replace(/<EventSendingRetriesTimeout>\d+</, '<EventSendingRetriesTimeout>1<')
    .replace(/<StatisticsInterval>\d+</, '<StatisticsInterval>5<');
}

/**
 * CPU time (user + system) a process has used so far, in seconds (Linux /proc; clock ticks of 1/100 s, the
 * USER_HZ that /proc reports in on every Linux platform).
 */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's resident size in bytes (Linux /proc). */
export function residentBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

function procSample(pid: number): { rss: number; fds: number } {
  return { rss: residentBytes(pid), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-soak-'));
  const ips = fs
    .readFileSync(path.join(options.datasets ?? defaultDatasets(), 'ipsum', 'ipsum.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t')[0]!)
    .slice(0, 5000);
  const feed = path.join(dir, 'ipsum.txt');
  /** The same addresses, in a different order each time, so every replacement is a real re-read. */
  const writeFeed = (turn: number): void => {
    const rotated = [...ips.slice(turn % ips.length), ...ips.slice(0, turn % ips.length)];
    const tmp = path.join(dir, 'ipsum.tmp');
    fs.writeFileSync(tmp, rotated.map((ip) => `${ip}\t3\n`).join(''));
    fs.renameSync(tmp, feed);
  };
  writeFeed(0);
  const configFile = path.join(dir, 'service.xml');
  fs.writeFileSync(configFile, soakConfigXml());

  // Receiver: checks every detection's sequence number as it arrives.
  let expected = 0;
  let received = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let reloads = 0;
  let reloadFailures = 0;
  const seen = new Uint8Array(options.seconds * 10 * Math.max(1, Math.round(options.rate / 10)) + 1);
  const onLine = (line: string): void => {
    if (line.includes('alert=KL_ALERT_UpdatedFeed')) reloads++;
    else if (line.includes('alert=KL_ALERT_FailedToUpdateFeed')) reloadFailures++;
    const m = / seq=(\d+)$/.exec(line);
    if (!m || !line.includes('matchedIndicator=')) return;
    const seq = Number(m[1]);
    received++;
    if (seen[seq]) duplicated++;
    seen[seq] = 1;
    if (seq !== expected) outOfOrder++;
    expected = seq + 1;
  };
  const receiver = net.createServer((socket) => {
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      for (const p of parts) onLine(p);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const rport = (receiver.address() as net.AddressInfo).port;

  let service: ServiceProcess | undefined;
  try {
    service = await spawnService({
      cli: options.cli ?? defaultCli(),
      args: ['--config', configFile, '--listen', '127.0.0.1:0', '--feed', `ipsum:${feed}`, '--output', `127.0.0.1:${rport}`, '--spool', path.join(dir, 'spool')],
      startTimeoutMs: 60_000,
    });
    const { port } = service;
    // Start-up alerts count as no reload.
    for (let i = 0; i < 100 && reloads === 0; i++) await sleep(20);
    const startupReloads = reloads;

    const client = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });

    // Steady rate: one batch every 100 ms, the schedule measured from the start so slow turns catch up.
    const ticks = options.seconds * 10;
    const perTick = Math.max(1, Math.round(options.rate / 10));
    const samples: Array<{ rss: number; fds: number }> = [];
    const started = Date.now();
    let sent = 0;
    let feedTurn = 0;
    for (let tick = 0; tick < ticks; tick++) {
      let text = '';
      for (let i = 0; i < perTick; i++, sent++) text += `seq=${sent} src=10.0.0.1 dst=${ips[sent % ips.length]} action=allowed\n`;
      if (!client.write(text)) await new Promise((r) => client.once('drain', r));
      if (tick % 10 === 9) {
        samples.push(procSample(service.child.pid!));
        if (tick % 100 === 99) log(`soak: ${Math.round((tick + 1) / 10)} s, sent ${sent}, received ${received}, rss ${(samples.at(-1)!.rss / 1048576).toFixed(1)} MB, fds ${samples.at(-1)!.fds}`);
      }
      if ((tick + 1) % (options.reloadEverySeconds * 10) === 0) writeFeed(++feedTurn * 7);
      const wait = started + (tick + 1) * 100 - Date.now();
      if (wait > 0) await sleep(wait);
    }
    client.end();
    // Drain: every detection should arrive; give up after 60 s (the result then shows the loss).
    for (let i = 0; i < 600 && received < sent; i++) await sleep(100);
    await sleep(500); // late duplicates would show up here
    const fifth = Math.max(1, Math.floor(samples.length / 5));
    const avg = (xs: Array<{ rss: number; fds: number }>, k: 'rss' | 'fds'): number => xs.reduce((s, x) => s + x[k], 0) / Math.max(1, xs.length);
    const early = samples.slice(fifth, 2 * fifth);
    const late = samples.slice(-fifth);
    return {
      sent,
      received,
      lost: sent - (received - duplicated),
      duplicated,
      outOfOrder,
      reloads: reloads - startupReloads,
      reloadFailures,
      rssEarlyMB: avg(early, 'rss') / 1048576,
      rssLateMB: avg(late, 'rss') / 1048576,
      rssPeakMB: Math.max(...samples.map((s) => s.rss)) / 1048576,
      fdsEarly: Math.round(avg(early, 'fds')),
      fdsLate: Math.round(avg(late, 'fds')),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await service?.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `bench soak`: prints the result as a markdown table. */
export async function runSoakBench(args: string[]): Promise<void> {
  const arg = (name: string, fallback: number): number => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i === -1) return fallback;
    const text = args[i]!.includes('=') ? args[i]!.split('=')[1]! : args[i + 1]!;
    const n = Number(text);
    if (!(n > 0)) throw new Error(`--${name}: "${text}" is not a positive number`);
    return n;
  };
  const options = { seconds: arg('seconds', 600), rate: arg('rate', 2000), reloadEverySeconds: arg('reload', 10) };
  process.stdout.write(`soak: ${options.seconds} s at ${options.rate} events/s, feed replaced every ${options.reloadEverySeconds} s\n`);
  const r = await runSoak({ ...options, log: (l) => process.stderr.write(l + '\n') });
  process.stdout.write(
    [
      '| seconds | sent | received | lost | duplicated | out of order | feed reloads (failed) | RSS early → late MB (peak) | fds early → late |',
      '|---|---|---|---|---|---|---|---|---|',
      `| ${r.seconds.toFixed(0)} | ${r.sent} | ${r.received} | ${r.lost} | ${r.duplicated} | ${r.outOfOrder} | ${r.reloads} (${r.reloadFailures}) | ${r.rssEarlyMB.toFixed(1)} → ${r.rssLateMB.toFixed(1)} (${r.rssPeakMB.toFixed(1)}) | ${r.fdsEarly} → ${r.fdsLate} |`,
      '',
    ].join('\n'),
  );
  if (r.lost !== 0 || r.duplicated !== 0 || r.outOfOrder !== 0) process.exitCode = 1;
}
