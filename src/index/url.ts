/**
 * URL indicators of one feed, all kept in Kaspersky-normalized form (`host[/path][?query]`):
 *  - exact URLs; an entry that is a bare host (`evil.com`, as CyberTrace-style URL feeds and URLhaus host lists
 *    hold) matches every URL on that host;
 *  - masks with `*` (see mask.ts); a path-only entry (`/bins/mozi.m`, as maltrail holds) is the mask `*`
 *    followed by the path: that path on any host.
 */
import type { ContextFields, Match } from '../types.js';
import { normalizeUrl, type UrlNormalization } from '../normalize/url.js';
import { FeedStrings, KeyedRecords } from './records.js';
import { MaskIndex, hostEnd } from './mask.js';
import { type HostSuffixes, StringTable, hashText } from './string-table.js';

/**
 * Stands in for `*` while a mask goes through URL normalization, which would otherwise treat it as text
 * (a path of exactly `*` is dropped, for one). Lower-case letters and digits survive every normalization step.
 */
const STAR_STAND_IN = 'ftstar0q7z';
/** Host put in front of a path-only entry so that it normalizes like the path of a URL. */
const PATH_HOST = 'path.invalid';

/** normalizeUrl that reports an unexpected exception as an invalid URL: loads and lookups must never throw. */
export function normalizeUrlSafely(raw: string): UrlNormalization {
  try {
    return normalizeUrl(raw);
  } catch (error) {
    return { ok: false, reason: `normalization failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export type UrlEntry = { kind: 'exact' | 'mask'; key: string } | { kind: 'invalid'; reason: string };

/** The normalized form of a URL indicator, or why it has none. */
export function normalizeUrlIndicator(indicator: string): UrlEntry {
  const text = indicator.trim();
  if (text.startsWith('/') && !text.startsWith('//')) {
    const normalized = normalizeUrlSafely(`${PATH_HOST}${text.replaceAll('*', STAR_STAND_IN)}`);
    if (!normalized.ok) return { kind: 'invalid', reason: `URL path not valid: ${normalized.reason}` };
    return { kind: 'mask', key: `*${normalized.url.slice(hostEnd(normalized.url)).replaceAll(STAR_STAND_IN, '*')}` };
  }
  const normalized = normalizeUrlSafely(text.replaceAll('*', STAR_STAND_IN));
  if (!normalized.ok) return { kind: 'invalid', reason: `URL not valid: ${normalized.reason}` };
  const key = normalized.url.replaceAll(STAR_STAND_IN, '*');
  if (key.length === 0) return { kind: 'invalid', reason: 'URL normalizes to nothing' };
  return { kind: key.includes('*') ? 'mask' : 'exact', key };
}

class UrlTable {
  readonly keys = new StringTable();
  readonly records: KeyedRecords;
  constructor(strings: FeedStrings) {
    this.records = new KeyedRecords(strings, (id) => this.keys.text(id));
  }
  add(key: string, original: string, category: string, context: ContextFields): void {
    this.records.add(this.keys.intern(key), key, original, category, context);
  }
  finish(): void {
    this.keys.compact();
    this.records.finish(this.keys.size);
  }
  collect(text: string, start: number, end: number, hash: number, feed: string, out: Match[]): void {
    if (this.keys.size === 0) return;
    const id = this.keys.findHashed(text, start, end, hash);
    if (id >= 0) this.records.emit(id, 'url', feed, out, text.slice(start, end));
  }
  get memoryBytes(): number {
    return this.keys.memoryBytes + this.records.memoryBytes;
  }
}

export class UrlIndex {
  private readonly exact: UrlTable;
  private readonly masks: MaskIndex;
  /** Some exact entry is a bare IP host (`1.2.3.4`, `[2001:db8::1]`): only then do IP queries look here. */
  private hasIpHosts = false;

  constructor(strings: FeedStrings) {
    this.exact = new UrlTable(strings);
    this.masks = new MaskIndex(strings);
  }

  get size(): number {
    return this.exact.records.size + this.masks.size;
  }

  get memoryBytes(): number {
    return this.exact.memoryBytes + this.masks.memoryBytes;
  }

  add(indicator: string, category: string, context: ContextFields): string | undefined {
    const entry = normalizeUrlIndicator(indicator);
    switch (entry.kind) {
      case 'invalid':
        return entry.reason;
      case 'exact':
        if (/^(\d+\.\d+\.\d+\.\d+|\[[\da-f:.]+\])$/.test(entry.key)) this.hasIpHosts = true;
        this.exact.add(entry.key, indicator, category, context);
        return undefined;
      case 'mask':
        this.masks.add(entry.key, indicator, category, context);
        return undefined;
    }
  }

  finish(): void {
    this.exact.finish();
    this.masks.finish();
  }

  /** Matches a normalized URL (`hash`: its `hashText`) with its host (exact, bare host, masks). */
  collectUrl(url: string, hash: number, host: HostSuffixes, pathHash: number, feed: string, out: Match[]): void {
    this.exact.collect(url, 0, url.length, hash, feed, out);
    if (host.end < url.length) this.exact.collect(url, 0, host.end, host.hash[0]!, feed, out);
    this.masks.collect(url, host, pathHash, feed, out);
  }

  /** Matches a domain query (the whole of `text`) against bare-host entries and masks. */
  collectHost(text: string, host: HostSuffixes, pathHash: number, feed: string, out: Match[]): void {
    this.exact.collect(text, 0, text.length, host.hash[0]!, feed, out);
    this.masks.collect(text, host, pathHash, feed, out);
  }

  /** Matches an IP query against bare-host entries only (one probe: IP lookups are the hot path). */
  collectBareHost(host: () => string, feed: string, out: Match[]): void {
    if (!this.hasIpHosts) return;
    const text = host();
    this.exact.collect(text, 0, text.length, hashText(text, 0, text.length), feed, out);
  }
}
