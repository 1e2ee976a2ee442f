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
import { IpAddress, formatIp, parseIpQuery } from './ip-address.js';
import type { Ipv4Blocks } from './ipv4-blocks.js';
import type { ParsedQuery } from './query.js';
import { HashFilter, StringTable, grow, hashText } from './string-table.js';
import { Top16Set } from './ip.js';
import { WordTable } from './word-table.js';

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
  /** Returns the key's id. */
  add(key: string, original: string, category: string, context: ContextFields): number {
    const id = this.keys.intern(key);
    this.records.add(id, key, original, category, context);
    return id;
  }
  finish(): void {
    this.keys.compact();
    this.records.finish(this.keys.size);
  }
  emit(id: number, feed: string, out: Match[]): void {
    this.records.emit(id, 'url', feed, out);
  }
  get size(): number {
    return this.keys.size;
  }
  collect(text: string, start: number, end: number, hash: number, feed: string, out: Match[]): void {
    const id = this.keys.findHashed(text, start, end, hash);
    if (id >= 0) this.records.emit(id, 'url', feed, out, text.slice(start, end));
  }
  get memoryBytes(): number {
    return this.keys.memoryBytes + this.records.memoryBytes;
  }
}

const hostAddress = new IpAddress();

/** Address words (one for IPv4, four for IPv6) → the id of an exact entry. */
class AddressEntries {
  private readonly addresses: WordTable;
  private entries = new Uint32Array(16);
  /** Most IP queries are on no listed host: one bit says so without hashing. */
  private readonly top16 = new Top16Set();

  constructor(width: number) {
    this.addresses = new WordTable(width);
  }

  add(words: Uint32Array, entry: number): void {
    this.top16.add(words[0]!);
    const id = this.addresses.intern(words);
    if (id === this.entries.length) this.entries = grow(this.entries, id * 2);
    this.entries[id] = entry;
  }

  get size(): number {
    return this.addresses.size;
  }

  /** The exact entry id of the address, or -1. */
  find(words: Uint32Array): number {
    if (this.addresses.size === 0 || !this.top16.has(words[0]!)) return -1;
    const id = this.addresses.find(words);
    return id < 0 ? -1 : this.entries[id]!;
  }

  finish(): void {
    const newId = this.addresses.freeze();
    const entries = new Uint32Array(this.addresses.size);
    for (let id = 0; id < entries.length; id++) entries[newId[id]!] = this.entries[id]!;
    this.entries = entries;
  }

  /** Marks every address (of a table of IPv4 addresses). */
  markIpv4(blocks: Ipv4Blocks): void {
    for (let id = 0; id < this.addresses.size; id++) {
      const address = this.addresses.word(id, 0);
      blocks.addRange(address, address);
    }
  }

  get memoryBytes(): number {
    return this.addresses.memoryBytes + this.entries.byteLength + this.top16.byteLength;
  }
}

/**
 * Exact entries that are a bare IP host (`1.2.3.4`, `[2001:db8::1]`), by address: an IP query finds them with
 * one probe of its words, without rendering its address as text. Only entries in the canonical spelling an IP
 * query's host has (`formatIp`) are filed: those are the ones its text would have found.
 */
class IpHosts {
  private readonly v4 = new AddressEntries(1);
  private readonly v6 = new AddressEntries(4);

  add(key: string, entry: number): void {
    if (!parseIpQuery(key, hostAddress) || hostAddress.port >= 0) return;
    const canonical = formatIp(hostAddress.version, hostAddress.words, hostAddress.version === 4 ? 32 : 128, -1);
    if (key !== (hostAddress.version === 4 ? canonical : `[${canonical}]`)) return;
    (hostAddress.version === 4 ? this.v4 : this.v6).add(hostAddress.words, entry);
  }

  /** The exact entry id of the address, or -1. */
  find(address: IpAddress): number {
    return (address.version === 4 ? this.v4 : this.v6).find(address.words);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  finish(): void {
    this.v4.finish();
    this.v6.finish();
  }

  markIpv4(blocks: Ipv4Blocks): void {
    this.v4.markIpv4(blocks);
  }

  get memoryBytes(): number {
    return this.v4.memoryBytes + this.v6.memoryBytes;
  }
}

export class UrlIndex {
  private readonly exact: UrlTable;
  /** The hosts of the exact entries: a URL whose host is in none skips the exact probes and the whole-URL hash. */
  private readonly exactHosts = new HashFilter();
  private readonly masks: MaskIndex;
  private readonly ipHosts = new IpHosts();

  constructor(strings: FeedStrings) {
    this.exact = new UrlTable(strings);
    this.masks = new MaskIndex(strings);
  }

  get size(): number {
    return this.exact.records.size + this.masks.size;
  }

  get memoryBytes(): number {
    return this.exact.memoryBytes + this.exactHosts.memoryBytes + this.masks.memoryBytes + this.ipHosts.memoryBytes;
  }

  add(indicator: string, category: string, context: ContextFields): string | undefined {
    const entry = normalizeUrlIndicator(indicator);
    switch (entry.kind) {
      case 'invalid':
        return entry.reason;
      case 'exact': {
        const id = this.exact.add(entry.key, indicator, category, context);
        this.exactHosts.add(hashText(entry.key, 0, hostEnd(entry.key)));
        if (/^(\d+\.\d+\.\d+\.\d+|\[[\da-f:.]+\])$/.test(entry.key)) this.ipHosts.add(entry.key, id);
        return undefined;
      }
      case 'mask':
        this.masks.add(entry.key, indicator, category, context);
        return undefined;
    }
  }

  finish(): void {
    this.exact.finish();
    this.exactHosts.finish();
    this.masks.finish();
    this.ipHosts.finish();
  }

  /** Marks the IPv4 addresses of bare-IP-host entries (the only ones an IP query can match here). */
  markIpv4(blocks: Ipv4Blocks): void {
    this.ipHosts.markIpv4(blocks);
  }

  /** Whether some entry is a bare IP host (only those can match an IP query). */
  get hasIpHosts(): boolean {
    return this.ipHosts.size > 0;
  }

  /** Matches a URL query (its normalized `text`) with its host: exact, bare host, masks. */
  collectUrl(query: ParsedQuery, feed: string, out: Match[]): void {
    const { text, host } = query;
    if (this.exact.size > 0 && this.exactHosts.mayHave(host.hash[0]!)) {
      this.exact.collect(text, 0, text.length, query.textHash(), feed, out);
      if (host.end < text.length) this.exact.collect(text, 0, host.end, host.hash[0]!, feed, out);
    }
    this.masks.collect(query, feed, out);
  }

  /** Matches a domain query (the whole of its `text`) against bare-host entries and masks. */
  collectHost(query: ParsedQuery, feed: string, out: Match[]): void {
    if (this.exact.size > 0 && this.exactHosts.mayHave(query.host.hash[0]!)) this.exact.collect(query.text, 0, query.text.length, query.host.hash[0]!, feed, out);
    this.masks.collect(query, feed, out);
  }

  /** Matches an IP query (without port) against bare-host entries only (one probe: IP lookups are the hot path). */
  collectBareHost(address: IpAddress, feed: string, out: Match[]): void {
    const id = this.ipHosts.find(address);
    if (id >= 0) this.exact.emit(id, feed, out);
  }
}
