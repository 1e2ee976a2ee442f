/**
 * Matcher: the set of loaded feeds and the lookup over all of them, with allow-list and block-list roles.
 *
 * Roles (Kaspersky FalsePositive / InternalTI semantics):
 *  - `feed`: ordinary detections;
 *  - `allow`: when any allow-list feed matches the queried value, the ordinary detections of that value are
 *    dropped (the value itself is a known false positive). Allow-lists never produce detections;
 *  - `block`: detections that are always reported, allow-listed or not.
 */
import type { Match, QueryType } from '../types.js';
import { FeedIndex, FeedIndexBuilder, type FeedIndexOptions } from './feed-index.js';
import { Ipv4Blocks } from './ipv4-blocks.js';
import { ParsedQuery, type QueryKind, parseQuery, queryKindOf } from './query.js';

export { FeedIndex, FeedIndexBuilder, type FeedIndexOptions };

export class Matcher {
  /** Replaced as a whole (never mutated), so a lookup always sees a consistent set of complete feeds. */
  private feeds: readonly FeedIndex[] = [];
  /** `feeds` by the query kinds they answer (same order), replaced with `feeds`: a lookup skips feeds without its kind. */
  private feedsFor: Readonly<Record<QueryKind, readonly FeedIndex[]>> = feedsByKind([]);
  /** The IPv4 blocks where `feeds` have anything for an IPv4 query; undefined when none has. Rebuilt with `feeds`. */
  private ipv4Blocks: Ipv4Blocks | undefined;
  private readonly query = new ParsedQuery();
  /** Called after every change of the feeds (RecentMatches forgets its results then: they hold the old feeds). */
  private readonly changeListeners: Array<() => void> = [];

  onFeedsChanged(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Adds or atomically replaces the feed of the same name. */
  setFeed(index: FeedIndex): void {
    const position = this.feeds.findIndex((f) => f.options.name === index.options.name);
    this.setFeeds(position < 0 ? [...this.feeds, index] : this.feeds.map((f, i) => (i === position ? index : f)));
  }

  removeFeed(name: string): void {
    this.setFeeds(this.feeds.filter((f) => f.options.name !== name));
  }

  private setFeeds(feeds: readonly FeedIndex[]): void {
    const feedsFor = feedsByKind(feeds);
    let ipv4Blocks: Ipv4Blocks | undefined;
    if (feedsFor.ip.length > 0) {
      // Rebuilt in place (no lookup runs until this returns), so a feed change does not leave 2 MiB behind.
      ipv4Blocks = this.ipv4Blocks ?? new Ipv4Blocks();
      ipv4Blocks.clear();
      for (const feed of feedsFor.ip) feed.markIpv4(ipv4Blocks);
    }
    this.feeds = feeds;
    this.feedsFor = feedsFor;
    this.ipv4Blocks = ipv4Blocks;
    for (const listener of this.changeListeners) listener();
  }

  /** The loaded feeds, in the order they were first added. */
  get feedIndexes(): readonly FeedIndex[] {
    return this.feeds;
  }

  /** url: a raw URL (normalized here); ip: IPv4/IPv6 with optional port (`1.2.3.4:80`, `[::1]:80`); hash types by name or 'hash'. */
  match(type: QueryType, value: string): Match[] {
    // No feed of that kind: nothing to parse for (a URL is not normalized when no feed answers URLs).
    const kind = queryKindOf(type);
    if (kind === undefined) return [];
    const feeds = this.feedsFor[kind];
    if (feeds.length === 0) return [];
    const query = parseQuery(type, value, this.query);
    if (query.kind === 'none') return [];
    if (query.kind === 'ip' && query.ip.version === 4 && !this.ipv4Blocks?.has(query.ip.words[0]!)) return [];
    const detections: Match[] = [];
    let blocked: Match[] | undefined;
    let allowed: Match[] | undefined;
    for (const feed of feeds) {
      switch (feed.options.role) {
        case 'feed':
          feed.collect(query, detections);
          break;
        case 'block':
          feed.collect(query, (blocked ??= []));
          break;
        case 'allow':
          allowed ??= [];
          if (allowed.length === 0) feed.collect(query, allowed);
          break;
      }
    }
    if (allowed !== undefined && allowed.length > 0) return blocked ?? [];
    return blocked === undefined || blocked.length === 0 ? detections : [...detections, ...blocked];
  }
}

function feedsByKind(feeds: readonly FeedIndex[]): Record<QueryKind, readonly FeedIndex[]> {
  const answering = (kind: QueryKind): FeedIndex[] => feeds.filter((feed) => feed.answers(kind));
  return { url: answering('url'), domain: answering('domain'), ip: answering('ip'), hash: answering('hash') };
}
