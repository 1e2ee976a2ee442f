/**
 * Lookup benchmark (`node dist/bench.js lookup`), every figure against a baseline measured in the same run:
 * - cold start of the bundle on an empty input, against `node -e ""` (Node's own start-up), and the bundle size;
 * - rows/s of the lookup bundle for 10 k and 100 k unique values against the real `feedtrace serve` (half of
 *   them real ipsum addresses that match, half addresses that do not), against (a) a plain csv-parse →
 *   csv-stringify passthrough of the same CSV in its own process, bundled apart so that it starts about as fast
 *   as the lookup bundle (the ceiling; csv-passthrough.ts), and (b) one connection per
 *   value, as CyberTrace's own Splunk lookup does (the peer; timed on a sample of the values).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService, type ServiceProcess } from '../demo/service-process.js';
import { SESSION_FLAGS } from '../lookup/dispatcher.js';
import { DEFAULT_PATTERN, LinePattern } from '../lookup/pattern.js';

const dist = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(dist, '..');
const datasets = process.env['FEEDTRACE_DATASETS'] ?? path.resolve(repo, '..', 'shared', 'datasets');
const ds = (...p: string[]): string => path.join(datasets, ...p);
const FIELDS = ['url', 'domain', 'ip', 'md5', 'sha1', 'sha256', 'hash', 'category', 'matchedIndicator', 'feed', 'context', 'threat_match_field', 'threat_match_value'];

interface Timed {
  ms: number;
  stdoutBytes: number;
}

/** Runs a process with a file on stdin, counting (not keeping) its output; rejects on a non-zero exit. */
function timeProcess(args: string[], inputFile: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(args[0]!, args.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => (stdoutBytes += b.length));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve({ ms, stdoutBytes });
    });
    if (inputFile) createReadStream(inputFile).pipe(child.stdin);
    else child.stdin.end();
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function startService(feeds: string[]): Promise<ServiceProcess> {
  return spawnService({
    args: ['--listen', '127.0.0.1:0', '--reply-only', ...feeds.flatMap((f) => ['--feed', f])],
    cli: path.join(dist, 'feedtrace.js'),
    onLine: (line) => process.stderr.write(`${line}\n`),
  });
}

/** One connection per value, as CyberTrace's lookup: flags, the line, read to the first line end, close. */
async function peerLookup(port: number, lines: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  for (const line of lines) {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.write(SESSION_FLAGS);
        socket.write(`${line}\n`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('\n')) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
    });
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function runLookupBench(args: string[]): Promise<void> {
  const peerSample = Number(args.find((a) => a.startsWith('--peer-sample='))?.slice(14) ?? 2000);
  const bundle = path.join(dist, 'app', 'bin', 'feedtrace_lookup.js');
  const work = mkdtempSync(path.join(tmpdir(), 'feedtrace-bench-lookup-'));
  try {
    // A Splunk app folder as installed: launcher, bundle, default/feedtrace.conf.
    const app = path.join(work, 'app');
    mkdirSync(path.join(app, 'bin'), { recursive: true });
    mkdirSync(path.join(app, 'default'));
    copyFileSync(path.join(repo, 'app', 'bin', 'feedtrace_lookup'), path.join(app, 'bin', 'feedtrace_lookup'));
    copyFileSync(bundle, path.join(app, 'bin', 'feedtrace_lookup.js'));
    copyFileSync(path.join(repo, 'default', 'feedtrace.conf'), path.join(app, 'default', 'feedtrace.conf'));
    const launcher = path.join(app, 'bin', 'feedtrace_lookup');

    // Cold start: alternate the three so load changes hit them alike.
    const node: number[] = [];
    const cold: number[] = [];
    const viaLauncher: number[] = [];
    for (let i = 0; i < 15; i++) {
      node.push((await timeProcess([process.execPath, '-e', ''], undefined)).ms);
      cold.push((await timeProcess([process.execPath, bundle, 'url', 'category'], undefined)).ms);
      viaLauncher.push((await timeProcess(['/bin/sh', launcher, 'url', 'category'], undefined, { PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}` })).ms);
    }
    const size = statSync(bundle).size;

    // Values: half real ipsum addresses (hits), half addresses no feed has (misses), all unique.
    const ipsum = readFileSync(ds('ipsum', 'ipsum.txt'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t')[0]!);
    const values = (n: number): string[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? ipsum[i >> 1]! : `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`));
    const inputFor = (n: number): string => {
      const file = path.join(work, `input-${n}.csv`);
      const ipCol = FIELDS.indexOf('ip');
      const empty = FIELDS.map(() => '');
      writeFileSync(file, [FIELDS.join(','), ...values(n).map((v) => { const r = empty.slice(); r[ipCol] = v; return r.join(','); })].join('\r\n') + '\r\n');
      return file;
    };

    const feeds = [
      `ipsum:${ds('ipsum', 'ipsum.txt')}`,
      ds('urlhaus-filter', '2025-07-19', 'urlhaus-filter-online.txt'),
      `tweetfeed:${ds('tweetfeed', 'month.csv')}`,
      `maltrail:${ds('maltrail-trails', 'trails', 'static', 'mass_scanner.txt')}`,
    ].filter((f) => existsSync(f.slice(f.indexOf(':') + 1)) || existsSync(f));
    const service = await startService(feeds);
    const rows: string[][] = [];
    try {
      const pattern = new LinePattern(DEFAULT_PATTERN);
      for (const n of [10_000, 100_000]) {
        const input = inputFor(n);
        // Warm the service's caches and the page cache alike for both, then alternate.
        const lookupMs: number[] = [];
        const passMs: number[] = [];
        const runs = n >= 100_000 ? 1 : 3;
        for (let i = 0; i < runs; i++) {
          passMs.push((await timeProcess([process.execPath, path.join(dist, 'bench-passthrough.js')], input)).ms);
          lookupMs.push((await timeProcess([process.execPath, bundle, ...FIELDS], input, { FEEDTRACE_SERVICE: `127.0.0.1:${service.port}` })).ms);
        }
        const sample = values(n).slice(0, Math.min(peerSample, n)).map((v) => pattern.render('ip', v));
        const peerMs = await peerLookup(service.port, sample);
        const lookupRate = n / (median(lookupMs) / 1000);
        const passRate = n / (median(passMs) / 1000);
        const peerRate = sample.length / (peerMs / 1000);
        rows.push([`${fmt(n)} unique values`, fmt(lookupRate), fmt(passRate), fmt(lookupRate / passRate, 2), fmt(peerRate), fmt(lookupRate / peerRate, 1)]);
        process.stderr.write(`${n}: lookup ${fmt(median(lookupMs))} ms, passthrough ${fmt(median(passMs))} ms, peer ${fmt(peerMs)} ms for ${sample.length}\n`);
      }
    } finally {
      await service.stop();
    }

    const out: string[] = [];
    out.push('| cold start (empty input) | median ms | baseline `node -e ""` ms | over Node\'s own start | goal |');
    out.push('|---|---|---|---|---|');
    out.push(`| bundle | ${fmt(median(cold), 1)} | ${fmt(median(node), 1)} | ${fmt(median(cold) - median(node), 1)} ms | ≤ 100 ms |`);
    out.push(`| launcher + bundle | ${fmt(median(viaLauncher), 1)} | ${fmt(median(node), 1)} | ${fmt(median(viaLauncher) - median(node), 1)} ms | |`);
    out.push('');
    out.push(`Bundle size: ${fmt(size / 1024, 1)} KiB (goal ≤ 1 MiB).`);
    out.push('');
    out.push('| rows (one value each) | lookup rows/s | passthrough rows/s | lookup / passthrough (goal ≥ 0.3) | one connection per value rows/s | lookup / peer (goal ≥ 20) |');
    out.push('|---|---|---|---|---|---|');
    for (const r of rows) out.push(`| ${r.join(' | ')} |`);
    out.push('');
    out.push('Lookup goal: ≥ 100,000 rows/s. The service, lookup and passthrough share the machine; rates are wall-clock.');
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
