/**
 * Engine benchmark: load time, resident memory and lookups per second of the indicator index, next to a naive
 * baseline measured in the same run, on the real datasets and on a synthetic scale-up to ~2 M indicators.
 *
 * Every (scenario, implementation) pair runs in its own child process, so that its resident memory is its
 * own; one more child that loads nothing gives the process's baseline memory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultFeedName, loadFeed, parseFeedArg } from '../feeds/load.js';
import { loadFeedIndex } from '../index/load.js';
import { FeedIndexBuilder, Matcher } from '../index/matcher.js';
import { ParsedQuery, parseQuery } from '../index/query.js';
import { heapSettled } from '../service/garbage.js';
import type { Match, QueryType } from '../types.js';
import { type NaiveFeed, NaiveMatcher } from './engine-naive.js';
import { type QueryClass, type Scenario, writeSyntheticFeeds } from './engine-synthetic.js';

type ChildKind = 'engine' | 'naive' | 'empty' | 'lookups';

/** A child that loaded the feeds with one implementation: load time and memory. */
interface MemoryMeasurement {
  records: number;
  loadMillis: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

interface LookupRate {
  perSecond: number;
  hitRate: number;
}

/**
 * The lookup child: both implementations loaded side by side, timed in alternation, and with them the engine's
 * first step alone (`parse`, see `readQuery`).
 */
type LookupMeasurement = Array<{ name: string; engine: LookupRate; naive: LookupRate; parse: LookupRate }>;

/** Time spent on each query class and implementation (after a short warm-up). */
const BUDGET_MILLIS = Number(process.env['BENCH_MILLIS'] ?? 600);

export async function runEngineBench(args: string[]): Promise<void> {
  const scale = Number(args.find((a) => a.startsWith('--scale='))?.slice(8) ?? process.env['BENCH_SCALE'] ?? 1);
  const work = mkdtempSync(path.join(tmpdir(), 'feedtrace-bench-'));
  try {
    const scenarios: Scenario[] = [];
    const real = realScenario();
    if (real) scenarios.push(real);
    else process.stderr.write('datasets not found (set FEEDTRACE_DATASETS): real-data scenario skipped\n');
    process.stderr.write(`writing synthetic feeds (scale ${scale}) to ${work} …\n`);
    scenarios.push(await writeSyntheticFeeds(path.join(work, 'synthetic'), scale));
    const empty = runChild<MemoryMeasurement>('empty', { name: 'empty', feeds: [], queries: [] }, work);
    for (const scenario of scenarios) {
      const bytes = scenario.feeds.reduce((sum, f) => sum + sizeOnDisk(parseFeedArg(f).path), 0);
      const engine = runChild<MemoryMeasurement>('engine', scenario, work);
      const engineFixedThreshold = runChild<MemoryMeasurement>('engine', scenario, work, FIXED_MMAP_THRESHOLD);
      const naive = runChild<MemoryMeasurement>('naive', scenario, work);
      const lookups = runChild<LookupMeasurement>('lookups', scenario, work);
      process.stdout.write(report(scenario, bytes, empty, engine, engineFixedThreshold, naive, lookups));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * glibc's malloc raises its mmap threshold each time a large block is freed, so the buffers a feed load grows
 * and drops stay resident in its heap; with the threshold fixed, they go back to the system. The service's
 * documented launch sets this (docs/operations.md); the benchmark shows RSS both ways.
 */
const FIXED_MMAP_THRESHOLD = { MALLOC_MMAP_THRESHOLD_: '131072' };

function runChild<T>(kind: ChildKind, scenario: Scenario, work: string, env: Record<string, string> = {}): T {
  process.stderr.write(`measuring ${kind} on ${scenario.name} …\n`);
  // Memory children get the feed list only: the query lists would sit in their heaps.
  const file = path.join(work, `${scenario.name}-${kind}.json`);
  writeFileSync(file, JSON.stringify(kind === 'lookups' ? scenario : { ...scenario, queries: [] }));
  const bundle = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--expose-gc', bundle, '--child', 'engine', kind, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  if (child.status !== 0) throw new Error(`benchmark child ${kind}/${scenario.name} failed (${child.status})`);
  return JSON.parse(child.stdout) as T;
}

type MatchFunction = (type: QueryType, value: string) => Match[];

const parsed = new ParsedQuery();
const NO_MATCHES: Match[] = [];
/**
 * What `Matcher.match` does before it asks any feed: read the query (hex digits, an IP address, a URL's
 * normalization and its host's suffix hashes). Timed alone, it shows how much of a lookup no index can save.
 */
const readQuery: MatchFunction = (type, value) => {
  parseQuery(type, value, parsed);
  return NO_MATCHES;
};

/**
 * Child entry. `engine` / `naive` / `empty`: load the feeds with one implementation (or none), report load
 * time and memory. `lookups`: load both from one pass over the feeds, then time each query class on both in
 * alternation, so that a busy moment of a shared machine does not favour one of them.
 */
export async function measureEngineChild(args: string[]): Promise<void> {
  const [kind, file] = args as [ChildKind, string];
  const scenario = JSON.parse(readFileSync(file, 'utf8')) as Scenario;
  if (kind === 'lookups') {
    const { engine, naive } = await loadBoth(scenario.feeds);
    // Warm every code path up first (the first class timed would otherwise pay for JIT compilation); collect
    // the loading garbage (the naive heap is large) before each class, outside the timings.
    for (const query of scenario.queries) {
      lookupTimer(query, engine).run(BUDGET_MILLIS / 6);
      lookupTimer(query, naive).run(BUDGET_MILLIS / 6);
      lookupTimer(query, readQuery).run(BUDGET_MILLIS / 6);
    }
    const result: LookupMeasurement = [];
    for (const query of scenario.queries) {
      await settle();
      result.push({ name: query.name, ...timeAll(query, engine, naive) });
    }
    process.stdout.write(JSON.stringify(result));
    return;
  }
  const started = performance.now();
  let records = 0;
  const keep: unknown[] = [];
  const matcher = new Matcher();
  keep.push(matcher);
  for (const feed of scenario.feeds) {
    if (kind === 'engine') {
      // Into a Matcher, as the service holds them (it adds the IPv4 block set).
      const { index } = await loadFeedIndex(parseFeedArg(feed));
      matcher.setFeed(index);
      records += index.size;
    } else if (kind === 'naive') {
      const naive = new NaiveMatcher();
      const info: NaiveFeed = { name: '', domainSuffix: false };
      const report = await loadFeed(parseFeedArg(feed), (record) => naive.add(record, info));
      keep.push(naive);
      records += report.records;
    }
  }
  const loadMillis = performance.now() - started;
  await settleIdle();
  const memory = process.memoryUsage();
  const result: MemoryMeasurement = { records, loadMillis, rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed, external: memory.external };
  process.stdout.write(JSON.stringify(result));
  keep.length = 0;
}

/**
 * Memory is measured as a long-running service sees it: V8 keeps the young generation it grew while loading
 * until a collection finds the allocation rate low, which takes some seconds of idling. So: collect once a
 * second until the heap is near its live size, at most 20 s.
 */
async function settleIdle(): Promise<void> {
  const started = performance.now();
  for (;;) {
    await settle();
    if (heapSettled() || performance.now() - started > 20_000) return;
    await new Promise((resolve) => setTimeout(resolve, 800));
  }
}

/** Full garbage collections (the children run with --expose-gc), then a pause for background work to finish. */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/** One pass over every feed, each record going into both the engine's index and the naive Map. */
async function loadBoth(feeds: string[]): Promise<{ engine: MatchFunction; naive: MatchFunction }> {
  const matcher = new Matcher();
  const naive = new NaiveMatcher();
  for (const feed of feeds) {
    const source = parseFeedArg(feed);
    const builder = new FeedIndexBuilder({ name: defaultFeedName(source.path), role: 'feed', domainSuffix: false });
    const info: NaiveFeed = { name: '', domainSuffix: false };
    const report = await loadFeed(source, (record) => {
      builder.add(record);
      naive.add(record, info);
    });
    Object.assign(info, { name: report.name, domainSuffix: report.domainSuffix });
    matcher.setFeed(builder.finish({ name: report.name, domainSuffix: report.domainSuffix }));
  }
  return { engine: (type, value) => matcher.match(type, value), naive: (type, value) => naive.match(type, value) };
}

function timeAll(query: QueryClass, engine: MatchFunction, naive: MatchFunction): { engine: LookupRate; naive: LookupRate; parse: LookupRate } {
  const timers = { engine: lookupTimer(query, engine), naive: lookupTimer(query, naive), parse: lookupTimer(query, readQuery) };
  const rounds = 3;
  for (const timer of Object.values(timers)) timer.run(BUDGET_MILLIS / 6);
  for (let round = 0; round < rounds; round++) for (const timer of Object.values(timers)) timer.run(BUDGET_MILLIS / rounds);
  return { engine: timers.engine.result(), naive: timers.naive.result(), parse: timers.parse.result() };
}

/** Runs lookups of one query class in timed rounds; keeps the best round's rate and the overall hit rate. */
function lookupTimer(query: QueryClass, match: MatchFunction): { run: (budget: number) => void; result: () => LookupRate } {
  let next = 0;
  let best = 0;
  let count = 0;
  let hits = 0;
  return {
    // The clock is read once a batch; batches grow while a batch takes under 1 ms.
    run(budget: number): void {
      const start = performance.now();
      let done = 0;
      let batch = 1;
      for (;;) {
        const batchStart = performance.now();
        for (let i = 0; i < batch; i++) {
          const matches = match(query.type, query.values[next]!);
          if (matches.length > 0) hits++;
          if (query.readContext) for (const m of matches) void m.context;
          next = next + 1 === query.values.length ? 0 : next + 1;
        }
        done += batch;
        const now = performance.now();
        if (now - start >= budget) {
          best = Math.max(best, (done / (now - start)) * 1000);
          count += done;
          return;
        }
        if (now - batchStart < 1) batch *= 2;
      }
    },
    result: () => ({ perSecond: best, hitRate: count === 0 ? 0 : hits / count }),
  };
}

function sizeOnDisk(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(target, { recursive: true })
    .map((name) => path.join(target, String(name)))
    .filter((file) => statSync(file).isFile())
    .reduce((sum, file) => sum + statSync(file).size, 0);
}

const MiB = 2 ** 20;
const fixed = (n: number, digits = 1): string => n.toFixed(digits);
const rate = (n: number): string => (n >= 1e6 ? `${fixed(n / 1e6, 2)} M/s` : n >= 1e3 ? `${fixed(n / 1e3, 1)} k/s` : `${fixed(n, 0)} /s`);

function report(scenario: Scenario, bytes: number, empty: MemoryMeasurement, engine: MemoryMeasurement, engineFixedThreshold: MemoryMeasurement, naive: MemoryMeasurement, lookups: LookupMeasurement): string {
  const heap = (m: MemoryMeasurement): number => m.heapUsed + m.external;
  const lines = [
    `\n### ${scenario.name}: ${engine.records.toLocaleString('en')} records from ${scenario.feeds.length} feed(s), ${fixed(bytes / MiB)} MiB on disk\n`,
    '| | engine | naive Map | engine / naive | reading the query, of the engine\'s lookup |',
    '|---|---|---|---|---|',
    `| load time | ${fixed(engine.loadMillis / 1000, 2)} s | ${fixed(naive.loadMillis / 1000, 2)} s | ${fixed(engine.loadMillis / naive.loadMillis, 2)}× |`,
    `| RSS after load | ${fixed(engine.rss / MiB)} MiB | ${fixed(naive.rss / MiB)} MiB | ${fixed(engine.rss / naive.rss, 2)}× |`,
    `| RSS ÷ feed size on disk | ${fixed(engine.rss / bytes, 2)}× | ${fixed(naive.rss / bytes, 2)}× | |`,
    `| (RSS − empty process ${fixed(empty.rss / MiB)} MiB) ÷ size on disk | ${fixed((engine.rss - empty.rss) / bytes, 2)}× | ${fixed((naive.rss - empty.rss) / bytes, 2)}× | |`,
    `| with MALLOC_MMAP_THRESHOLD_=${FIXED_MMAP_THRESHOLD.MALLOC_MMAP_THRESHOLD_}: load time, RSS after load | ${fixed(engineFixedThreshold.loadMillis / 1000, 2)} s, ${fixed(engineFixedThreshold.rss / MiB)} MiB = ${fixed(engineFixedThreshold.rss / bytes, 2)}× disk (${fixed((engineFixedThreshold.rss - empty.rss) / bytes, 2)}× without the empty process) | | |`,
    `| JS heap + external memory (typed arrays) after load | ${fixed(heap(engine) / MiB)} MiB | ${fixed(heap(naive) / MiB)} MiB | ${fixed(heap(engine) / heap(naive), 2)}× |`,
  ];
  const nanos = (r: LookupRate): number => 1e9 / r.perSecond;
  for (const { name, engine: e, naive: n, parse: p } of lookups) {
    const hits = Math.abs(e.hitRate - n.hitRate) < 0.005 ? `hits ${fixed(e.hitRate * 100, 0)}%` : `hits ${fixed(e.hitRate * 100, 0)}% vs ${fixed(n.hitRate * 100, 0)}%`;
    lines.push(`| lookups: ${name} (${hits}) | ${rate(e.perSecond)} | ${rate(n.perSecond)} | ${fixed(e.perSecond / n.perSecond, 1)}× | ${fixed(nanos(p), 0)} of ${fixed(nanos(e), 0)} ns (${fixed((100 * e.perSecond) / p.perSecond, 0)} %) |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The real datasets beside the repository, with real event values as queries. */
export function realScenario(): Scenario | undefined {
  const root = process.env['FEEDTRACE_DATASETS'] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'datasets');
  const at = (...parts: string[]): string => path.join(root, ...parts);
  if (!existsSync(at('ipsum', 'ipsum.txt'))) return undefined;
  const text = (...parts: string[]): string[] => readFileSync(at(...parts), 'utf8').split('\n').filter((line) => line.trim() !== '');
  const events = text('slips-honeypot-suricata-2021-06', 'eve.json').map((line) => JSON.parse(line) as Record<string, any>);
  const honeypotIps = [...new Set(events.flatMap((e) => [e['src_ip'], e['dest_ip']]).filter((ip): ip is string => typeof ip === 'string'))];
  const honeypotUrls = events.filter((e) => e['event_type'] === 'http').map((e) => `http://${e['http']['hostname'] ?? e['dest_ip']}${e['http']['url']}`);
  const dns = text('maltrail-demo-events', 'maltrail_demo_events.log')
    .map((line) => /^"[^"]*" \S+ \S+ \S+ \S+ \S+ \S+ DNS (\S+) /.exec(line)?.[1]?.replace(/[()]/g, ''))
    .filter((name): name is string => name !== undefined);
  const urlhausUrls = text('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt')
    .filter((line) => line.startsWith('||'))
    .map((line) => `http://${line.slice(2).replace(/\$all$/, '')}`);
  const tweetHashes = text('tweetfeed', 'month.csv')
    .map((line) => line.split(','))
    .filter((f) => f[2] === 'sha256' || f[2] === 'md5')
    .map((f) => f[3]!);
  const sysmonFile = readdirSync(at('otrf-sysmon-bitsadmin')).find((f) => f.endsWith('.json'))!;
  const sysmonHashes = [...readFileSync(at('otrf-sysmon-bitsadmin', sysmonFile), 'utf8').matchAll(/(?:MD5|SHA256)=([0-9A-F]+)/g)].map((m) => m[1]!);
  const queries: QueryClass[] = [
    { name: 'IPv4 (honeypot events)', type: 'ip', values: honeypotIps },
    { name: 'domain (maltrail demo DNS)', type: 'domain', values: dns },
    { name: 'URL (URLhaus entries)', type: 'url', values: urlhausUrls },
    { name: 'URL (honeypot HTTP)', type: 'url', values: honeypotUrls },
    { name: 'hash (TweetFeed)', type: 'hash', values: tweetHashes },
    { name: 'hash (Sysmon)', type: 'hash', values: sysmonHashes },
  ];
  const feeds = [
    `ipsum:${at('ipsum', 'ipsum.txt')}`,
    `maltrail:${at('maltrail-trails', 'trails', 'static')}`,
    `urlhaus:${at('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt')}`,
    `tweetfeed:${at('tweetfeed', 'month.csv')}`,
    `feodo:${at('feodotracker', 'ipblocklist.csv')}`,
  ];
  return { name: 'real datasets', feeds, queries };
}
