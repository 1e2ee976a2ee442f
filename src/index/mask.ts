/**
 * Kaspersky URL masks: a normalized URL pattern where `*` stands for any run of characters (possibly empty),
 * anchored at both ends. `?` is not a wildcard: in a normalized URL it starts the query.
 *
 * A `*` in the host part of a mask stands for host characters only (`*.evil.com/x` does not match
 * `a.org/b.evil.com/x`; `*` followed by `/wp-login.php` means that path at the root of any host), except a `*`
 * that ends a mask without a path (`evil.*`, a bare `*`), which matches the rest of the URL. The mask's host
 * is matched against the URL's host, its path and query against the URL's. Because normalization drops a
 * trailing `/`, a mask ending in `/*` (`evil.com/dl/*`) also matches the URL without it (`evil.com/dl`).
 *
 * Index: a mask is filed under a literal part of its host, so a lookup probes a few host keys instead of
 * testing every mask:
 *  - host without `*` (`evil.com/dl/*`): filed under the host itself;
 *  - host with `*` (`*.evil.com/*`, `cdn*.evil.com`): filed under the label-aligned tail of the literal text
 *    after its last `*` (`evil.com`);
 *  - any host and a literal path (`*` then `/shell.php`, how maltrail path trails arrive): filed under the
 *    path, which the URL's path and query must equal;
 *  - anything else (a bare `*`, `evil.*`, a star before the slash and in the path): kept in a residual list
 *    tested on every lookup.
 * A lookup probes the query's host and each parent suffix (`a.b.c`, `b.c`, `c`), and its path, and tests the
 * masks filed there: every mask that can match is found, since a matching host must end with the mask's
 * literal tail.
 */
import type { ContextFields, Match } from '../types.js';
import { FeedStrings, KeyedRecords, groupByKey } from './records.js';
import type { ParsedQuery } from './query.js';
import { StringTable, grow } from './string-table.js';

/** Where the host of a normalized URL (or mask) ends: at the first `/` or `?`. */
export function hostEnd(url: string): number {
  for (let i = 0; i < url.length; i++) {
    const code = url.charCodeAt(i);
    if (code === 0x2f /* / */ || code === 0x3f /* ? */) return i;
  }
  return url.length;
}

/** The host key a mask is filed under, or undefined for the residual list. */
export function maskHostKey(mask: string): string | undefined {
  const host = mask.slice(0, hostEnd(mask));
  const star = host.lastIndexOf('*');
  if (star < 0) return host.length > 0 ? host : undefined;
  const tail = host.slice(star + 1);
  const key = tail.startsWith('.') ? tail.slice(1) : tail.slice(tail.indexOf('.') + 1 || tail.length);
  return key.length > 0 ? key : undefined;
}

const STAR = 0x2a;
const SLASH = 0x2f;

/**
 * Whether the glob `pattern[from, to)` (`*` stands for any run of bytes) matches all of the byte string
 * `text[start, stop)` (a character per byte), followed by a `/` when `slash`. The usual single-pass wildcard
 * match: on a mismatch it retries from the last star, one byte further; masks hold few stars, so this stays
 * close to one pass.
 */
function globMatches(pattern: Uint8Array, from: number, to: number, text: string, start: number, stop: number, slash: boolean): boolean {
  const length = stop - start + (slash ? 1 : 0);
  let p = from;
  let t = 0;
  let starAt = -1;
  let starText = 0;
  while (t < length) {
    const code = t < stop - start ? text.charCodeAt(start + t) : SLASH;
    const want = p < to ? pattern[p]! : -1;
    if (want === STAR) {
      if (p + 1 === to) return true; // a last star takes the rest
      starAt = p++;
      starText = t;
    } else if (want === code) {
      p++;
      t++;
    } else if (starAt >= 0) {
      p = starAt + 1;
      t = ++starText;
    } else return false;
  }
  while (p < to && pattern[p] === STAR) p++;
  return p === to;
}

/**
 * Whether the mask `mask[from, to)` (UTF-8 bytes) matches a normalized URL given as a byte string `url` (a
 * character per UTF-8 byte, its host ending at `hostEnd`): the mask's host against the URL's host, its path and
 * query against the URL's, or, for a mask without a path that ends in `*`, the mask against the whole URL (see
 * the top of this file). Matched where it is stored: no mask is decoded or split to be tested.
 */
export function maskMatches(mask: Uint8Array, from: number, to: number, url: string, hostEnd: number): boolean {
  let maskHostEnd = from;
  while (maskHostEnd < to && mask[maskHostEnd] !== SLASH && mask[maskHostEnd] !== 0x3f /* ? */) maskHostEnd++;
  if (maskHostEnd === to && to > from && mask[to - 1] === STAR) return globMatches(mask, from, to, url, 0, url.length, false);
  if (!globMatches(mask, from, maskHostEnd, url, 0, hostEnd, false)) return false;
  if (globMatches(mask, maskHostEnd, to, url, hostEnd, url.length, false)) return true;
  // Normalization drops a trailing '/': a mask ending in "/*" also matches the URL without it.
  const trailingSlashStar = to - maskHostEnd >= 2 && mask[to - 1] === STAR && mask[to - 2] === SLASH;
  return trailingSlashStar && globMatches(mask, maskHostEnd, to, url, hostEnd, url.length, true);
}

/** Mask ids filed under string keys: appended while building, grouped by key in `finish`. */
class MaskBuckets {
  readonly keys = new StringTable();
  private filedKey = new Uint32Array(16);
  private filedMask = new Uint32Array(16);
  private filedCount = 0;
  private start = new Uint32Array(1);
  private masks = new Uint32Array(0);

  get memoryBytes(): number {
    return this.keys.memoryBytes + this.start.byteLength + this.masks.byteLength;
  }

  get size(): number {
    return this.keys.size;
  }

  file(key: string, maskId: number): void {
    if (this.filedCount === this.filedKey.length) {
      this.filedKey = grow(this.filedKey, this.filedCount * 2);
      this.filedMask = grow(this.filedMask, this.filedCount * 2);
    }
    this.filedKey[this.filedCount] = this.keys.intern(key);
    this.filedMask[this.filedCount++] = maskId;
  }

  finish(): void {
    this.keys.compact();
    const { start, position } = groupByKey(this.filedKey, this.filedCount, this.keys.size);
    this.masks = new Uint32Array(this.filedCount);
    for (let i = 0; i < this.filedCount; i++) this.masks[position[i]!] = this.filedMask[i]!;
    this.start = start;
    this.filedKey = new Uint32Array(0);
    this.filedMask = new Uint32Array(0);
  }

  /** The key `text[from, to)` (`hash`: its `hashText`) masks are filed under, or -1. */
  find(text: string, from: number, to: number, hash: number): number {
    return this.keys.size === 0 ? -1 : this.keys.findHashed(text, from, to, hash);
  }

  /** The masks of key `key` are `mask(i)` for `i` in `[first(key), first(key + 1))` (no subarray allocated per lookup). */
  first(key: number): number {
    return this.start[key]!;
  }

  mask(i: number): number {
    return this.masks[i]!;
  }
}

export class MaskIndex {
  /** Distinct masks (normalized text with `*`) and their records. */
  private readonly masks = new StringTable();
  private readonly records: KeyedRecords;
  private readonly byHost = new MaskBuckets();
  private readonly byPath = new MaskBuckets();
  /** Masks filed under no key: tested on every lookup. */
  private readonly residual: number[] = [];

  constructor(strings: FeedStrings) {
    this.records = new KeyedRecords(strings, (id) => this.masks.text(id));
  }

  get size(): number {
    return this.records.size;
  }

  get memoryBytes(): number {
    return this.masks.memoryBytes + this.records.memoryBytes + this.byHost.memoryBytes + this.byPath.memoryBytes;
  }

  /** `mask` is already normalized (stars kept); `original` is as written in the feed. */
  add(mask: string, original: string, category: string, context: ContextFields): void {
    const distinct = this.masks.size;
    const id = this.masks.intern(mask);
    if (id === distinct) this.file(id, mask); // a new mask
    this.records.add(id, mask, original, category, context);
  }

  finish(): void {
    // Masks are read by id from now on (buckets and the residual list hold the ids): no slots kept.
    this.masks.compact({ findable: false });
    this.records.finish(this.masks.size);
    this.byHost.finish();
    this.byPath.finish();
  }

  /** Appends the matches of a URL or domain query (its normalized `text`, with its host and the host's suffixes). */
  collect(query: ParsedQuery, feed: string, out: Match[]): void {
    if (this.masks.size === 0) return;
    const { text: url, host } = query;
    for (let k = 0; k < host.count; k++) this.testFiled(this.byHost, this.byHost.find(url, host.start[k]!, host.end, host.hash[k]!), query, feed, out);
    if (this.byPath.size > 0) this.testFiled(this.byPath, this.byPath.find(url, host.end, url.length, query.pathHash()), query, feed, out);
    for (let i = 0; i < this.residual.length; i++) this.test(this.residual[i]!, query, feed, out);
  }

  private testFiled(buckets: MaskBuckets, key: number, query: ParsedQuery, feed: string, out: Match[]): void {
    if (key < 0) return;
    for (let i = buckets.first(key), end = buckets.first(key + 1); i < end; i++) this.test(buckets.mask(i), query, feed, out);
  }

  private test(id: number, query: ParsedQuery, feed: string, out: Match[]): void {
    query.toBytes();
    if (maskMatches(this.masks.arena, this.masks.byteStart(id), this.masks.byteEnd(id), query.byteText, query.byteHostEnd)) this.records.emit(id, 'url', feed, out);
  }

  private file(id: number, mask: string): void {
    const hostKey = maskHostKey(mask);
    if (hostKey !== undefined) return this.byHost.file(hostKey, id);
    const end = hostEnd(mask);
    const rest = mask.slice(end);
    if (end === 1 && mask[0] === '*' && rest.length > 0 && !rest.includes('*')) return this.byPath.file(rest, id);
    this.residual.push(id);
  }
}
