/**
 * Domain indicators of one feed: exact, and, when the feed asks for it (maltrail style), on every parent
 * suffix of the queried name (`a.b.evil.com` is looked up as itself, `b.evil.com`, `evil.com` and `com`).
 */
import type { ContextFields, Match } from '../types.js';
import { FeedStrings, KeyedRecords } from './records.js';
import { HashFilter, type HostSuffixes, StringTable, hashText } from './string-table.js';

/** Lower case, surrounding blanks and one trailing dot removed; undefined when it cannot be a host name. */
export function normalizeDomain(text: string): string | undefined {
  let domain = text.trim().toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (domain.length === 0) return undefined;
  let ascii = true;
  for (let i = 0; i < domain.length; i++) {
    const code = domain.charCodeAt(i);
    if (code >= 0x80) ascii = false;
    else if (NOT_IN_HOST[code] === 1) return undefined;
  }
  // Blanks beyond ASCII (which `\s` matches too) are looked for only in non-ASCII names.
  return ascii || !/\s/.test(domain) ? domain : undefined;
}

/** ASCII characters that cannot be in a host name: blanks, `/ \ ? # @ * : [ ]`. */
const NOT_IN_HOST = new Uint8Array(128);
for (const character of ' \t\n\v\f\r/\\?#@*:[]') NOT_IN_HOST[character.charCodeAt(0)] = 1;

export class DomainIndex {
  private readonly keys = new StringTable();
  /** The keys' hashes: most names and parent suffixes a query probes are in no feed, and most are ruled out here. */
  private readonly filter = new HashFilter();
  private readonly records: KeyedRecords;

  constructor(strings: FeedStrings) {
    this.records = new KeyedRecords(strings, (id) => this.keys.text(id));
  }

  get size(): number {
    return this.records.size;
  }

  get memoryBytes(): number {
    return this.keys.memoryBytes + this.filter.memoryBytes + this.records.memoryBytes;
  }

  add(indicator: string, category: string, context: ContextFields): string | undefined {
    const domain = normalizeDomain(indicator);
    if (domain === undefined) return 'not a domain name';
    const known = this.keys.size;
    const id = this.keys.intern(domain);
    if (id === known) this.filter.add(hashText(domain, 0, domain.length));
    this.records.add(id, domain, indicator, category, context);
    return undefined;
  }

  finish(): void {
    this.keys.compact();
    this.filter.finish();
    this.records.finish(this.keys.size);
  }

  /** Matches the normalized host `host` of `text`: exactly, then on each parent suffix when `suffixes`. */
  collect(text: string, host: HostSuffixes, suffixes: boolean, feed: string, out: Match[]): void {
    if (this.keys.size === 0) return;
    const probes = suffixes ? host.count : 1;
    for (let k = 0; k < probes; k++) {
      if (!this.filter.mayHave(host.hash[k]!)) continue;
      const id = this.keys.findHashed(text, host.start[k]!, host.end, host.hash[k]!);
      // The key's text is the query's (no decoding from the table).
      if (id >= 0) this.records.emit(id, 'domain', feed, out, text.slice(host.start[k]!, host.end));
    }
  }
}
