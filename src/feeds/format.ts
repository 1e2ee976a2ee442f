/** What every feed format module provides, and the category names open feeds share. */
import type { IndicatorType } from '../types.js';
import type { FeedSource } from './load.js';
import type { FeedSink } from './sink.js';

export interface FeedInput {
  /** The file (or directory) to read. */
  path: string;
  source: FeedSource;
  sink: FeedSink;
}

export interface FeedFormatParser {
  /** Sends every record of the feed to the sink; throws FeedLoadError when the feed is unusable as a whole. */
  parse(input: FeedInput): Promise<void>;
  /** Whether domain indicators match on every parent suffix when the source does not say. */
  domainSuffix(path: string): boolean;
}

const TYPE_SUFFIX: Record<IndicatorType, string> = {
  url: 'URL',
  domain: 'Domain',
  ip: 'IP',
  md5: 'Hash_MD5',
  sha1: 'Hash_SHA1',
  sha256: 'Hash_SHA256',
};

/** Open-feed categories follow Kaspersky's naming: `<prefix>_URL`, `<prefix>_IP`, `<prefix>_Hash_SHA256`, … */
export function typeCategory(prefix: string, type: IndicatorType): string {
  return `${prefix}_${TYPE_SUFFIX[type]}`;
}
