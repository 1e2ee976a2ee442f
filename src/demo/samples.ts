/**
 * Where the built product finds itself and its shipped samples at run time: the CLI bundle's folder (dist/),
 * the lookup bundle under it, and the sample feeds and logs that build/build.mjs copies to dist/samples
 * (sources and licences: src/samples/SOURCES.md). Nothing here reads outside the product.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** dist/: the bundle's own folder; from the TypeScript sources (jest), the repo's dist/. */
export const distDir = path.basename(here) === 'demo' && path.basename(path.dirname(here)) === 'src' ? path.resolve(here, '..', '..', 'dist') : here;
export const cliBundle = path.join(distDir, 'feedtrace.js');
export const lookupBundle = path.join(distDir, 'app', 'bin', 'feedtrace_lookup.js');
export const samplesDir = path.join(distDir, 'samples');

/** The sample feeds as `feedtrace serve --feed FORMAT:PATH` values (formats given, not detected: they are known). */
const SAMPLE_FEEDS: ReadonlyArray<readonly [format: string, file: string]> = [
  ['ipsum', 'ipsum-level3.txt'],
  ['feodo', 'feodo-ipblocklist.csv'],
  ['urlhaus', 'urlhaus-filter-online.txt'],
  ['tweetfeed', 'tweetfeed-week.csv'],
  ['maltrail', 'maltrail'],
];

export class SamplesMissingError extends Error {
  override name = 'SamplesMissingError';
}

function checked(file: string): string {
  if (!existsSync(file)) throw new SamplesMissingError(`${file} is missing: the samples are copied there by \`npm run build\``);
  return file;
}

export function sampleFeedArgs(dir = samplesDir): string[] {
  return SAMPLE_FEEDS.flatMap(([format, file]) => ['--feed', `${format}:${checked(path.join(dir, 'feeds', file))}`]);
}

/** Every shipped sample log, sorted by name. */
export function sampleLogs(dir = samplesDir): string[] {
  const logs = path.join(checked(path.join(dir, 'logs')));
  return readdirSync(logs)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => path.join(logs, f));
}

/** One IP the sample IPsum feed lists (its first record), for a copy-paste lookup check. */
export function sampleIp(dir = samplesDir): string {
  const text = readFileSync(checked(path.join(dir, 'feeds', 'ipsum-level3.txt')), 'utf8');
  return /^(\d+\.\d+\.\d+\.\d+)\b/m.exec(text)?.[1] ?? '1.2.3.4';
}
