/**
 * Types shared by every module: what a feed record is, what a match is.
 * Kept here so that feeds, index, service and lookup agree on one shape.
 */

/** Kinds of indicator a feed can hold. `ip` covers addresses, CIDR ranges and `ip:port` pairs. */
export type IndicatorType = 'url' | 'domain' | 'ip' | 'md5' | 'sha1' | 'sha256';

/** Kinds of value an event or a lookup can ask about (CyberTrace regex `type`s; HASH is told by length). */
export type QueryType = IndicatorType | 'hash';

/** Context of a feed record: field name → value, nested fields flattened with `/`, lists comma-joined. Order kept. */
export type ContextFields = ReadonlyArray<readonly [name: string, value: string]>;

/** One indicator as a feed parser produces it. */
export interface FeedRecord {
  type: IndicatorType;
  /** The indicator as stored in the feed (a URL mask, a CIDR, `ip:port`, a hash in its original case). */
  indicator: string;
  /** Detection category, e.g. `KL_Malicious_URL`. */
  category: string;
  context: ContextFields;
}

/** What a lookup returns, one per (indicator, feed, category) that matched. */
export interface Match {
  /** The indicator type that matched (a URL query can match a `domain` or `ip` indicator through its host). */
  type: IndicatorType;
  category: string;
  /** The indicator as stored in the feed (the mask for a mask match). */
  matchedIndicator: string;
  /** Feed name. */
  feed: string;
  /** Read-only: the index decodes it on first read. */
  readonly context: ContextFields;
}

/** Role of a feed: ordinary, allow-list (FalsePositive / white list) or block-list (InternalTI / black list). */
export type FeedRole = 'feed' | 'allow' | 'block';
