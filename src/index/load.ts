/** Builds a FeedIndex straight from a feed file: the feed loader's records go into the index builder. */
import { defaultFeedName, loadFeed, type FeedLoadReport, type FeedSource } from '../feeds/load.js';
import type { FeedRole } from '../types.js';
import { FeedIndex, FeedIndexBuilder } from './feed-index.js';

export interface LoadedFeedIndex {
  index: FeedIndex;
  /** The loader's report; records the index could not use (a URL that does not normalize) count as skipped. */
  report: FeedLoadReport;
}

/** Throws FeedLoadError when the feed fails as a whole; the caller keeps its previous version then. */
export async function loadFeedIndex(source: FeedSource, role: FeedRole = 'feed'): Promise<LoadedFeedIndex> {
  const name = source.name ?? defaultFeedName(source.path);
  const builder = new FeedIndexBuilder({ name, role, domainSuffix: source.domainSuffix ?? false });
  const report = await loadFeed(source, (record) => builder.add(record));
  const index = builder.finish({ name: report.name, domainSuffix: report.domainSuffix });
  const rejected = Object.entries(index.rejected);
  if (rejected.length === 0) return { index, report };
  const skipReasons = { ...report.skipReasons };
  let count = 0;
  for (const [reason, n] of rejected) {
    skipReasons[reason] = (skipReasons[reason] ?? 0) + n;
    count += n;
  }
  return { index, report: { ...report, records: report.records - count, skipped: report.skipped + count, skipReasons } };
}
