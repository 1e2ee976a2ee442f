/**
 * Matcher contract (the index work fills in the implementation; the signatures are what other modules use).
 */
import type { FeedRole, FeedRecord, Match, QueryType } from '../types.js';

export interface FeedIndexOptions {
  name: string;
  role: FeedRole;
  domainSuffix: boolean;
}

/** An immutable index of one feed; built once, then swapped into a Matcher as a whole. */
export class FeedIndex {
  constructor(readonly options: FeedIndexOptions, readonly size: number) {}
}

export class FeedIndexBuilder {
  constructor(readonly options: FeedIndexOptions) {}
  add(record: FeedRecord): void {
    void record;
  }
  finish(): FeedIndex {
    return new FeedIndex(this.options, 0);
  }
}

export class Matcher {
  /** Adds or atomically replaces the feed of the same name. */
  setFeed(index: FeedIndex): void {
    void index;
  }
  removeFeed(name: string): void {
    void name;
  }
  /** url: a raw URL (normalized here); ip: IPv4/IPv6 with optional port (`1.2.3.4:80`, `[::1]:80`); hash types by name or 'hash'. */
  match(type: QueryType, value: string): Match[] {
    void type;
    void value;
    return [];
  }
}
