/**
 * Extraction benchmark (`node dist/bench.js extract`): events/s of the default config's extraction alone (no
 * network, no matching) per real log type, for EventExtractor and, in the same run, the straightforward
 * ReferenceExtractor it must agree with. CPU time of this process (the machine may be shared), median of
 * several rounds that alternate between the two implementations.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServiceConfig } from '../service/config.js';
import { EventExtractor } from '../service/extract.js';
import { extractionCorpus } from './extract-logs.js';
import { ReferenceExtractor } from './extract-reference.js';

const datasets = process.env['FEEDTRACE_DATASETS'] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'datasets');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** CPU time per round and implementation. */
const ROUND_MILLIS = Number(process.env['BENCH_MILLIS'] ?? 300);

interface Extractor {
  extract(event: string, sourceIp: string): unknown;
}

const cpuMillis = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Events per CPU second: whole passes over the lines until ROUND_MILLIS of CPU time are used. */
function rate(extractor: Extractor, lines: string[]): number {
  let events = 0;
  const start = cpuMillis();
  let used = 0;
  do {
    for (const line of lines) extractor.extract(line, '127.0.0.1');
    events += lines.length;
    used = cpuMillis() - start;
  } while (used < ROUND_MILLIS);
  return (events / used) * 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const k = (perSecond: number): string => `${(perSecond / 1000).toFixed(1)} k`;

export async function runExtractBench(): Promise<void> {
  const sources = loadServiceConfig().input.sources;
  const current = new EventExtractor(sources);
  const reference = new ReferenceExtractor(sources);
  // Each event a string of its own, as the service's framer decodes it (not a slice of the whole file).
  const corpus = extractionCorpus(datasets).map(({ name, lines }) => ({ name, lines: lines.map((line) => Buffer.from(line).toString()) }));
  if (corpus.length === 0) throw new Error(`no logs under ${datasets} (set FEEDTRACE_DATASETS)`);
  process.stdout.write(`\nDefault config, one core, CPU time, median of ${ROUNDS} rounds of ${ROUND_MILLIS} ms.\n\n`);
  process.stdout.write('| log | lines | bytes/line | EventExtractor events/s | reference events/s | speed-up |\n|---|---:|---:|---:|---:|---:|\n');
  for (const { name, lines } of corpus) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(rate(current, lines));
      theirs.push(rate(reference, lines));
    }
    const bytes = lines.reduce((n, line) => n + Buffer.byteLength(line), 0) / lines.length;
    process.stdout.write(`| ${name} | ${lines.length} | ${bytes.toFixed(0)} | ${k(median(ours))} | ${k(median(theirs))} | ${(median(ours) / median(theirs)).toFixed(2)}× |\n`);
  }
}
