/**
 * The index of one feed: its IP, domain, URL and hash tables, built by `FeedIndexBuilder` and immutable
 * afterwards, so that a Matcher can swap a whole feed at once.
 */
import type { FeedRecord, FeedRole, Match } from '../types.js';
import { DomainIndex } from './domain.js';
import { HashIndex } from './hash.js';
import { IpIndex } from './ip.js';
import type { Ipv4Blocks } from './ipv4-blocks.js';
import type { ParsedQuery, QueryKind } from './query.js';
import { FeedStrings } from './records.js';
import { UrlIndex } from './url.js';

export interface FeedIndexOptions {
  name: string;
  role: FeedRole;
  domainSuffix: boolean;
}

class FeedTables {
  readonly strings = new FeedStrings();
  readonly ip = new IpIndex(this.strings);
  readonly domain = new DomainIndex(this.strings);
  readonly url = new UrlIndex(this.strings);
  readonly hash = new HashIndex(this.strings);

  constructor() {
    this.strings.keyReferences = this.hash;
  }
}

/** An immutable index of one feed; built once, then swapped into a Matcher as a whole. */
export class FeedIndex {
  /** Records the index could not use: reason → count (for instance a URL that does not normalize). */
  readonly rejected: Readonly<Record<string, number>>;
  private readonly tables: FeedTables;
  /** The query kinds that can match something here: a Matcher asks only these feeds (most hold one kind). */
  private readonly kinds: ReadonlySet<QueryKind>;

  constructor(readonly options: FeedIndexOptions, readonly size: number, tables?: FeedTables, rejected: Record<string, number> = {}) {
    this.tables = tables ?? new FeedTables();
    this.rejected = rejected;
    const t = this.tables;
    const kinds = new Set<QueryKind>();
    if (t.ip.size > 0 || t.url.hasIpHosts) kinds.add('ip');
    if (t.domain.size > 0 || t.url.size > 0) kinds.add('domain');
    if (t.url.size > 0 || t.domain.size > 0 || t.ip.size > 0) kinds.add('url');
    if (t.hash.size > 0) kinds.add('hash');
    this.kinds = kinds;
  }

  /** Whether a query of this kind can match anything in this feed (see `collect`). */
  answers(kind: QueryKind): boolean {
    return this.kinds.has(kind);
  }

  /** Bytes held in typed arrays (keys, records, contexts); JS object overhead not included. */
  get memoryBytes(): number {
    const t = this.tables;
    return t.strings.memoryBytes + t.ip.memoryBytes + t.domain.memoryBytes + t.url.memoryBytes + t.hash.memoryBytes;
  }

  /** Marks every IPv4 address an IPv4 query can match in this feed (addresses, ranges, `ip:port`, bare-IP URLs). */
  markIpv4(blocks: Ipv4Blocks): void {
    this.tables.ip.markIpv4(blocks);
    this.tables.url.markIpv4(blocks);
  }

  /** Appends this feed's matches of a parsed query to `out`. */
  collect(query: ParsedQuery, out: Match[]): void {
    const feed = this.options.name;
    const t = this.tables;
    switch (query.kind) {
      case 'ip':
        t.ip.collect(query.ip, feed, out);
        if (query.ip.port < 0) t.url.collectBareHost(query.ip, feed, out);
        return;
      case 'hash':
        t.hash.collect(query.hashType, query.text, query.hashWords, query.hashKey, feed, out);
        return;
      case 'domain':
        t.domain.collect(query.text, query.host, this.options.domainSuffix, feed, out);
        t.url.collectHost(query, feed, out);
        return;
      case 'url':
        t.url.collectUrl(query, feed, out);
        if (query.hostIsIp) t.ip.collect(query.ip, feed, out);
        else t.domain.collect(query.text, query.host, this.options.domainSuffix, feed, out);
        return;
      case 'none':
        return;
    }
  }
}

export class FeedIndexBuilder {
  private readonly tables: FeedTables;
  private readonly rejected: Record<string, number> = {};
  private added = 0;
  private finished = false;

  constructor(readonly options: FeedIndexOptions) {
    this.tables = new FeedTables();
  }

  /** Adds one record; returns why the index could not use it (also counted in `FeedIndex.rejected`), or undefined. */
  add(record: FeedRecord): string | undefined {
    if (this.finished) throw new Error(`feed ${this.options.name}: add() after finish()`);
    const reason = this.addToTable(record);
    if (reason === undefined) this.added++;
    else this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    return reason;
  }

  /** Freezes the tables into a FeedIndex; `options` may settle what was not known when building began. */
  finish(options: Partial<FeedIndexOptions> = {}): FeedIndex {
    if (this.finished) throw new Error(`feed ${this.options.name}: finish() called twice`);
    this.finished = true;
    const t = this.tables;
    t.ip.finish();
    t.domain.finish();
    t.url.finish();
    t.hash.finish();
    t.strings.compact();
    return new FeedIndex({ ...this.options, ...options }, this.added, t, this.rejected);
  }

  private addToTable({ type, indicator, category, context }: FeedRecord): string | undefined {
    if (typeof indicator !== 'string' || typeof category !== 'string' || !Array.isArray(context)) return 'malformed record';
    const t = this.tables;
    switch (type) {
      case 'ip':
        return t.ip.add(indicator, category, context);
      case 'domain':
        return t.domain.add(indicator, category, context);
      case 'url':
        return t.url.add(indicator, category, context);
      case 'md5':
      case 'sha1':
      case 'sha256':
        return t.hash.add(type, indicator, category, context);
      default:
        return `unknown indicator type ${String(type)}`;
    }
  }
}
