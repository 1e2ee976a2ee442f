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

/**
 * `text[from, to)` split at the stars of a pattern: it must start with the first piece, end with the last, hold
 * the rest in order. (A range, so that a URL's host and rest are tested without slicing them out.)
 */
export function matchesPieces(pieces: readonly string[], text: string, from = 0, to = text.length): boolean {
  const last = pieces.length - 1;
  const head = pieces[0]!;
  if (last === 0) return to - from === head.length && text.startsWith(head, from);
  const tail = pieces[last]!;
  if (to - from < head.length + tail.length || !text.startsWith(head, from) || !text.endsWith(tail, to)) return false;
  let position = from + head.length;
  const limit = to - tail.length;
  for (let p = 1; p < last; p++) {
    const piece = pieces[p]!;
    const found = text.indexOf(piece, position);
    if (found < 0 || found + piece.length > limit) return false;
    position = found + piece.length;
  }
  return true;
}

/** A mask ready for matching: host and rest (path and query) patterns, or one pattern for the whole URL. */
export type CompiledMask =
  | { whole: readonly string[] }
  | { host: readonly string[]; rest: readonly string[]; trailingSlashStar: boolean };

export function compileMask(mask: string): CompiledMask {
  const end = hostEnd(mask);
  if (end === mask.length && mask.endsWith('*')) return { whole: mask.split('*') };
  const rest = mask.slice(end);
  return { host: mask.slice(0, end).split('*'), rest: rest.split('*'), trailingSlashStar: rest.endsWith('/*') };
}

/** Whether a mask matches a normalized URL (whose host ends at `end`). */
export function maskMatches(mask: CompiledMask, url: string, end = hostEnd(url)): boolean {
  if ('whole' in mask) return matchesPieces(mask.whole, url);
  if (!matchesPieces(mask.host, url, 0, end)) return false;
  return matchesPieces(mask.rest, url, end) || (mask.trailingSlashStar && matchesPieces(mask.rest, `${url.slice(end)}/`));
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

  /** The ids of the masks filed under `text[from, to)` (`hash`: its `hashText`), or undefined. */
  find(text: string, from: number, to: number, hash: number): Uint32Array | undefined {
    if (this.keys.size === 0) return undefined;
    const key = this.keys.findHashed(text, from, to, hash);
    return key < 0 ? undefined : this.masks.subarray(this.start[key]!, this.start[key + 1]!);
  }
}

export class MaskIndex {
  /** Distinct masks (normalized text with `*`) and their records. */
  private readonly masks = new StringTable();
  private readonly records: KeyedRecords;
  private readonly byHost = new MaskBuckets();
  private readonly byPath = new MaskBuckets();
  private readonly residual: number[] = [];
  /** The residual masks compiled once: they are tested on every lookup. */
  private residualCompiled: CompiledMask[] = [];

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
    const known = this.masks.find(mask);
    const id = known >= 0 ? known : this.masks.intern(mask);
    if (known < 0) this.file(id, mask);
    this.records.add(id, mask, original, category, context);
  }

  finish(): void {
    this.masks.compact();
    this.records.finish(this.masks.size);
    this.byHost.finish();
    this.byPath.finish();
    this.residualCompiled = this.residual.map((id) => compileMask(this.masks.text(id)));
  }

  /** Appends the matches of a URL or domain query (its normalized `text`, with its host and the host's suffixes). */
  collect(query: ParsedQuery, feed: string, out: Match[]): void {
    if (this.masks.size === 0) return;
    const { text: url, host } = query;
    for (let k = 0; k < host.count; k++) this.testAll(this.byHost.find(url, host.start[k]!, host.end, host.hash[k]!), url, host.end, feed, out);
    if (this.byPath.size > 0) this.testAll(this.byPath.find(url, host.end, url.length, query.pathHash()), url, host.end, feed, out);
    for (let i = 0; i < this.residual.length; i++) {
      if (maskMatches(this.residualCompiled[i]!, url, host.end)) this.records.emit(this.residual[i]!, 'url', feed, out);
    }
  }

  private testAll(ids: Uint32Array | undefined, url: string, end: number, feed: string, out: Match[]): void {
    if (ids === undefined) return;
    for (const id of ids) this.test(id, url, end, feed, out);
  }

  /** Masks are compiled when tested (a lookup tests a few): keeping a compiled form of each costs more memory than the masks. */
  private test(id: number, url: string, end: number, feed: string, out: Match[]): void {
    if (maskMatches(compileMask(this.masks.text(id)), url, end)) this.records.emit(id, 'url', feed, out);
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
