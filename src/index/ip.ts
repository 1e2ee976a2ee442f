/**
 * IP indicators of one feed: IPv4/IPv6 addresses, CIDR ranges and `ip:port` pairs.
 *
 * Ranges are bucketed by prefix length: one hash table of network addresses per length that occurs in the
 * feed (a single address is the /32 or /128 bucket). A lookup masks the query once per bucket and probes it,
 * so every containing range is found (not only the longest prefix) in as many probes as the feed has distinct
 * prefix lengths, usually a handful.
 */
import type { ContextFields, Match } from '../types.js';
import { FeedStrings, KeyedRecords } from './records.js';
import { IpAddress, canonicalText, formatIp, parseIpIndicator } from './ip-address.js';
import type { Ipv4Blocks } from './ipv4-blocks.js';
import { WordTable } from './word-table.js';

/** The words of a key being rendered (address, then port in a port table). */
const rendered = new Uint32Array(5);

/** A set of 16-bit values (the top 16 bits of an address) as a bitmap: one bit read answers a probe. */
export class Top16Set {
  private readonly bits = new Uint8Array(8192);

  /** Adds the top 16 bits of an address (its first word). */
  add(word0: number): void {
    const top = word0 >>> 16;
    this.bits[top >>> 3]! |= 1 << (top & 7);
  }

  has(word0: number): boolean {
    const top = word0 >>> 16;
    return (this.bits[top >>> 3]! & (1 << (top & 7))) !== 0;
  }

  readonly byteLength = 8192;
}

/**
 * One hash table of keys of the same shape (same version, prefix length, with or without port), with a bitmap
 * of the top 16 bits of its keys: most probes of a sparse range table stop at one bit, without hashing.
 */
class AddressTable {
  readonly keys: WordTable;
  readonly records: KeyedRecords;
  /** The prefix as address words (the network mask), so a query is masked with one `&` a word. */
  readonly netmask: Uint32Array;
  private readonly top16 = new Top16Set();

  constructor(strings: FeedStrings, readonly version: 4 | 6, readonly prefix: number, readonly withPort: boolean) {
    const addressWords = version === 4 ? 1 : 4;
    this.keys = new WordTable(addressWords + (withPort ? 1 : 0));
    this.records = new KeyedRecords(strings, (id) => this.render(id));
    this.netmask = new Uint32Array(addressWords);
    for (let w = 0; w < addressWords; w++) {
      const bits = Math.min(32, Math.max(0, prefix - 32 * w));
      this.netmask[w] = bits === 0 ? 0 : 0xffffffff << (32 - bits);
    }
  }

  /** This table's key of `address` in `into`: its words masked by the prefix, then its port in a port table. */
  keyOf(address: IpAddress, into: Uint32Array): Uint32Array {
    const words = this.netmask.length;
    for (let w = 0; w < words; w++) into[w] = address.words[w]! & this.netmask[w]!;
    if (this.withPort) into[words] = address.port;
    return into;
  }

  /** The id of the network holding an IPv4 address (given as its word) in this table, or -1. */
  findNetworkV4(address: number): number {
    const network = (address & this.netmask[0]!) >>> 0;
    return this.top16.has(network) ? this.keys.findWord(network) : -1;
  }

  /** Interns the key in `words` (the first word's top 16 bits are noted in the bitmap). */
  intern(words: Uint32Array): number {
    this.top16.add(words[0]!); // the key itself: a query is masked before it is probed
    return this.keys.intern(words);
  }

  /** The id of the key in `words`, or -1. */
  find(words: Uint32Array): number {
    if (!this.top16.has(words[0]!)) return -1;
    return this.keys.find(words);
  }

  render(id: number): string {
    for (let w = 0; w < this.keys.width; w++) rendered[w] = this.keys.word(id, w);
    return this.formatKey(rendered);
  }

  /**
   * render() of the key that `address` was found under, from the address itself (the slot already proved the key
   * equal to the masked address): the query's own text for a single address written canonically, else formatted
   * from the masked address, without a read of the key's words (one more cache miss).
   */
  renderFound(address: IpAddress): string {
    const text = this.version === 4 && this.prefix === 32 && !this.withPort ? canonicalText(address) : undefined;
    return text ?? this.formatKey(this.keyOf(address, rendered));
  }

  /** A key of this table (address words, then the port in a port table) as text. */
  private formatKey(key: Uint32Array): string {
    const addressWords = this.netmask.length;
    return formatIp(this.version, key, this.prefix, this.withPort ? key[addressWords]! : -1);
  }

  finish(): void {
    this.records.finish(this.keys.size, this.keys.freeze());
  }

  /** Marks the addresses of every key of an IPv4 table (a network's whole range). */
  markIpv4(blocks: Ipv4Blocks): void {
    const hostBits = ~this.netmask[0]! >>> 0;
    for (let id = 0; id < this.keys.size; id++) {
      const network = this.keys.word(id, 0);
      blocks.addRange(network, (network | hostBits) >>> 0);
    }
  }

  get memoryBytes(): number {
    return this.keys.memoryBytes + this.records.memoryBytes + this.top16.byteLength;
  }
}

const scratch = new Uint32Array(5);
const parsed = new IpAddress();

/**
 * Which prefix tables of one IP version can hold a network containing an address, by the address's top 16 bits:
 * bit `i` of `masks[top]` stands for table `i` (longest prefix first), bit 31 for table 31 and every later one.
 * A query then probes only those tables, usually none or one, instead of every prefix length of the feed.
 * Before that, `blocks20[top]` says which of the 16 blocks of 20 bits under `top` hold any network at all: a
 * feed with a network in most top-16 values (450 k addresses, 65 k ranges) has one in few of those blocks, so
 * most queries that do not match here stop at one bit instead of probing a table.
 */
class TableSelector {
  /** As narrow as the number of tables allows (most feeds have one or a few prefix lengths). */
  private readonly masks: Uint8Array | Uint16Array | Uint32Array;
  private readonly blocks20 = new Uint16Array(65536);

  constructor(tables: readonly AddressTable[]) {
    this.masks = tables.length <= 8 ? new Uint8Array(65536) : tables.length <= 16 ? new Uint16Array(65536) : new Uint32Array(65536);
    tables.forEach((table, index) => {
      const bit = 1 << Math.min(index, 31);
      // A network shorter than /16 spans several top-16 values, one shorter than /20 several blocks of 20 bits.
      const spread = table.prefix >= 16 ? 1 : 2 ** (16 - table.prefix);
      const blockCount = table.prefix >= 20 ? 1 : 2 ** (20 - Math.max(table.prefix, 16));
      const blockBits = (2 ** blockCount - 1) & 0xffff;
      for (let id = 0; id < table.keys.size; id++) {
        const word = table.keys.word(id, 0);
        const first = word >>> 16;
        const blocks = blockBits << block20(word);
        for (let top = first; top < first + spread; top++) {
          this.masks[top]! |= bit;
          this.blocks20[top]! |= blocks;
        }
      }
    });
  }

  /** Appends the matches of `query` from the tables its top 16 bits select. */
  collect(tables: readonly AddressTable[], query: IpAddress, feed: string, out: Match[]): void {
    const word = query.words[0]!;
    if ((this.blocks20[word >>> 16]! & (1 << block20(word))) === 0) return;
    let mask = this.masks[word >>> 16]!;
    while (mask !== 0) {
      const index = 31 - Math.clz32(mask & -mask); // the lowest bit: tables stay in order
      mask &= mask - 1;
      for (let t = index, end = index < 31 ? index + 1 : tables.length; t < end; t++) {
        const table = tables[t]!;
        const id = query.version === 4 ? table.findNetworkV4(query.words[0]!) : table.find(table.keyOf(query, scratch));
        if (id >= 0) table.records.emit(id, 'ip', feed, out, table.renderFound(query));
      }
    }
  }

  get byteLength(): number {
    return this.masks.byteLength + this.blocks20.byteLength;
  }
}

/** Which of the 16 blocks of 20 bits under its top 16 bits the first word of an address (or network) is in. */
function block20(word: number): number {
  return (word >>> 12) & 15;
}

export class IpIndex {
  /** Prefix tables, longest prefix first (only for the lengths present). */
  private v4: AddressTable[] = [];
  private v6: AddressTable[] = [];
  private v4Port: AddressTable | undefined;
  private v6Port: AddressTable | undefined;
  /** Made by `finish`, for versions that have prefix tables. */
  private v4Selector: TableSelector | undefined;
  private v6Selector: TableSelector | undefined;

  constructor(private readonly strings: FeedStrings) {}

  get size(): number {
    return this.tables().reduce((sum, t) => sum + t.records.size, 0);
  }

  get memoryBytes(): number {
    return this.tables().reduce((sum, t) => sum + t.memoryBytes, 0) + (this.v4Selector?.byteLength ?? 0) + (this.v6Selector?.byteLength ?? 0);
  }

  /** Adds one indicator; returns why it was rejected, or undefined. */
  add(indicator: string, category: string, context: ContextFields): string | undefined {
    if (!parseIpIndicator(indicator.trim(), parsed)) return 'not an IP address, CIDR range or ip:port';
    const table = this.tableFor(parsed);
    const id = table.intern(table.keyOf(parsed, scratch));
    table.records.add(id, table.render(id), indicator, category, context);
    return undefined;
  }

  finish(): void {
    for (const table of this.tables()) table.finish();
    if (this.v4.length > 0) this.v4Selector = new TableSelector(this.v4);
    if (this.v6.length > 0) this.v6Selector = new TableSelector(this.v6);
  }

  /** Marks the IPv4 addresses an IPv4 query can match here (see `Ipv4Blocks`). */
  markIpv4(blocks: Ipv4Blocks): void {
    for (const table of this.v4) table.markIpv4(blocks);
    this.v4Port?.markIpv4(blocks);
  }

  /** Appends matches of an address (a port also matches `ip:port` indicators; plain ones always match). */
  collect(query: IpAddress, feed: string, out: Match[]): void {
    if (query.version === 4) this.v4Selector?.collect(this.v4, query, feed, out);
    else this.v6Selector?.collect(this.v6, query, feed, out);
    if (query.port < 0) return;
    const portTable = query.version === 4 ? this.v4Port : this.v6Port;
    if (portTable === undefined) return;
    const id = portTable.find(portTable.keyOf(query, scratch));
    if (id >= 0) portTable.records.emit(id, 'ip', feed, out, portTable.renderFound(query));
  }

  private tableFor(address: IpAddress): AddressTable {
    if (address.port >= 0) {
      if (address.version === 4) return (this.v4Port ??= new AddressTable(this.strings, 4, 32, true));
      return (this.v6Port ??= new AddressTable(this.strings, 6, 128, true));
    }
    const tables = address.version === 4 ? this.v4 : this.v6;
    let table = tables.find((t) => t.prefix === address.prefix);
    if (table === undefined) {
      table = new AddressTable(this.strings, address.version, address.prefix, false);
      tables.push(table);
      tables.sort((a, b) => b.prefix - a.prefix);
    }
    return table;
  }

  private tables(): AddressTable[] {
    return [...this.v4, ...this.v6, ...(this.v4Port ? [this.v4Port] : []), ...(this.v6Port ? [this.v6Port] : [])];
  }
}
