/**
 * Feed loading contract (the signatures are what other modules use) and its entry point:
 * picks the format (given or detected), runs its parser into a FeedSink, and reports what was loaded and skipped.
 */
import path from 'node:path';
import type { FeedRecord, IndicatorType } from '../types.js';
import { FEED_FORMATS, detectFormat } from './detect.js';
import { FeedLoadError } from './errors.js';
import type { FeedFormatParser } from './format.js';
import { FeedSink } from './sink.js';
import { csv } from './formats/csv.js';
import { feodo } from './formats/feodo.js';
import { ipsum } from './formats/ipsum.js';
import { json } from './formats/json.js';
import { kaspersky } from './formats/kaspersky.js';
import { maltrail } from './formats/maltrail.js';
import { misp } from './formats/misp.js';
import { openioc } from './formats/openioc.js';
import { stix } from './formats/stix.js';
import { tweetfeed } from './formats/tweetfeed.js';
import { urlhaus } from './formats/urlhaus.js';

export { FeedLoadError } from './errors.js';

export type FeedFormat =
  | 'kaspersky' | 'urlhaus' | 'feodo' | 'ipsum' | 'maltrail' | 'tweetfeed' | 'misp' | 'stix' | 'openioc' | 'csv' | 'json';

/** A user mapping for a generic CSV or JSON feed: which field holds which indicator type, under which category. */
export interface FeedFieldMapping {
  /** CSV column name, or JSON field path with `/` between nested names. */
  field: string;
  type: IndicatorType | 'hash';
  category: string;
}

export interface FeedSource {
  path: string;
  /** Detected from file name and content when absent. */
  format?: FeedFormat;
  /** Feed name in detections; defaults to the file name without extension. */
  name?: string;
  /** Required for `csv` and `json`; optional override for the others. */
  mapping?: FeedFieldMapping[];
  /** Match domain indicators on every parent suffix too (maltrail style). Default depends on the format. */
  domainSuffix?: boolean;
}

export interface SkippedRecord {
  /** `file:line` or `file#record-index`. */
  where: string;
  reason: string;
}

export interface FeedLoadReport {
  name: string;
  path: string;
  format: FeedFormat;
  records: number;
  skipped: number;
  /** reason → count */
  skipReasons: Record<string, number>;
  /** The first few skipped records, with where and why. */
  samples: SkippedRecord[];
  bytes: number;
  millis: number;
  domainSuffix: boolean;
}

const PARSERS: Record<FeedFormat, FeedFormatParser> = { kaspersky, urlhaus, feodo, ipsum, maltrail, tweetfeed, misp, stix, openioc, csv, json };

/** The feed name detections carry when the source gives none: the file (or directory) name without extension. */
export function defaultFeedName(feedPath: string): string {
  const base = path.basename(feedPath.replace(/[/\\]+$/, ''));
  const ext = path.extname(base);
  return ext === '' ? base : base.slice(0, -ext.length);
}

/**
 * On a preset open-feed format, a mapping replaces the category per indicator type (`hash` covers all three
 * hashes) and its `field` is not used. On `csv`, `json` and `kaspersky` the mapping says which fields to index.
 */
function categoryOverride(source: FeedSource): Map<IndicatorType, string> {
  const override = new Map<IndicatorType, string>();
  if (source.format === 'csv' || source.format === 'json' || source.format === 'kaspersky') return override;
  for (const { type, category } of source.mapping ?? []) {
    for (const t of type === 'hash' ? (['md5', 'sha1', 'sha256'] as const) : [type]) override.set(t, category);
  }
  return override;
}

/** Streams every valid record of a feed to `onRecord`; skips and counts malformed ones. */
export async function loadFeed(source: FeedSource, onRecord: (record: FeedRecord) => void): Promise<FeedLoadReport> {
  const started = performance.now();
  try {
    const format = source.format ?? (await detectFormat(source.path));
    const parser = PARSERS[format];
    if (parser === undefined) throw new FeedLoadError(source.path, `unknown format "${String(format)}"; one of ${FEED_FORMATS.join(', ')}`);
    const sink = new FeedSink(onRecord, categoryOverride({ ...source, format }));
    await parser.parse({ path: source.path, source: { ...source, format }, sink });
    return {
      name: source.name ?? defaultFeedName(source.path),
      path: source.path,
      format,
      records: sink.records,
      skipped: sink.skipped,
      skipReasons: sink.skipReasons,
      samples: sink.samples,
      bytes: sink.bytes,
      millis: Math.round(performance.now() - started),
      domainSuffix: source.domainSuffix ?? parser.domainSuffix(source.path),
    };
  } catch (error) {
    if (error instanceof FeedLoadError) throw error;
    // File-system failures (missing file, permission) fail the feed as a whole; anything else is a bug
    // in a parser, still reported as a failed load (the caller keeps the old version) but marked as such.
    const { code, name, message } = error as NodeJS.ErrnoException;
    throw new FeedLoadError(source.path, code !== undefined ? message + unknownFormatHint(source, code) : `internal error: ${name}: ${message}`);
  }
}

/** For a missing `word:path` without a format: the word was probably meant as one (`ipsun:feed.txt`). */
function unknownFormatHint(source: FeedSource, code: string): string {
  const prefix = /^([A-Za-z][\w-]+):/.exec(source.path)?.[1];
  if (code !== 'ENOENT' || source.format !== undefined || prefix === undefined) return '';
  return `; "${prefix}" is not a feed format (FORMAT:PATH takes one of ${FEED_FORMATS.join(', ')})`;
}

/**
 * The CLI's `[FORMAT:]PATH`: only a known format name before the first `:` counts as one,
 * so any other path (even one holding `:`) is taken whole.
 */
export function parseFeedArg(arg: string): FeedSource {
  const colon = arg.indexOf(':');
  if (colon > 0) {
    const prefix = arg.slice(0, colon) as FeedFormat;
    if (FEED_FORMATS.includes(prefix) && colon + 1 < arg.length) return { path: arg.slice(colon + 1), format: prefix };
  }
  return { path: arg };
}
