/**
 * Feed loading contract (the feeds work fills in the implementation; the signatures are what other modules use).
 */
import type { FeedRecord, IndicatorType } from '../types.js';

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

/** Thrown when a feed cannot be loaded as a whole (missing file, unreadable format): callers keep the old version. */
export class FeedLoadError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'FeedLoadError';
  }
}

/** Streams every valid record of a feed to `onRecord`; skips and counts malformed ones. */
export async function loadFeed(source: FeedSource, onRecord: (record: FeedRecord) => void): Promise<FeedLoadReport> {
  void onRecord;
  throw new FeedLoadError(source.path, 'feed loading is not built yet');
}
