/**
 * Feed records attached to indicator keys, stored column-wise in typed arrays.
 *
 * While building, records are appended in feed order with the id of their key. `finish` sorts them by key
 * (a counting sort), so the records of key `k` are `start[k] .. start[k + 1]` and no per-record key or
 * pointer is kept. A record holds a category (with flags) and a context id, each in the narrowest column that
 * fits (`NarrowColumn`): most feeds have one category and few contexts, so a record costs 0 to 8 bytes, plus 4
 * bytes per distinct key when some key has several records.
 * Categories and contexts are interned once per feed: thousands of records usually share a handful of them;
 * a context's field names are stored once per distinct list of names.
 */
import type { ContextFields, IndicatorType, Match } from '../types.js';
import { ContextEncoder, type KeyReferences, decodeContext } from './context-codec.js';
import { StringTable, grow } from './string-table.js';

/** A record's meta: its category id shifted past two flag bits (low, so that the meta column stays narrow). */
const FLAG_BITS = 2;
const MAX_CATEGORIES = 2 ** (32 - FLAG_BITS);
/** The indicator was written in upper case in the feed (hashes, mostly): render the key upper-cased. */
const UPPER_CASE = 1;
/** The indicator as written in the feed is kept in `originals` (it differs from the key's rendering). */
const HAS_ORIGINAL = 2;

/**
 * How many decoded contexts a feed keeps at hand at most: a feed with fewer contexts keeps every one it has
 * decoded; a bigger one, the last one decoded per slot (context id modulo the size), so memory stays bounded.
 */
const DECODED_CONTEXTS = 16384;

/** Strings shared by every table of one feed. */
export class FeedStrings {
  private readonly categoryIds = new Map<string, number>();
  readonly categories: string[] = [];
  /** Context fields in their binary form (context-codec.ts), interned. */
  contexts = new StringTable();
  /** Indicators whose feed spelling differs from the key's canonical rendering. */
  readonly originals = new StringTable();

  category(name: string): number {
    let id = this.categoryIds.get(name);
    if (id === undefined) {
      id = this.categories.length;
      if (id >= MAX_CATEGORIES) throw new Error(`more than ${MAX_CATEGORIES} distinct categories in one feed`);
      this.categories.push(name);
      this.categoryIds.set(name, id);
    }
    return id;
  }

  /** The feed's hash keys, which contexts refer to instead of holding the hashes (set by the feed's tables). */
  keyReferences: KeyReferences | undefined;
  private lastFields: ContextFields | undefined;
  private lastContext = 0;
  /** Dropped by `compact` (its scratch buffer is as large as the largest context). */
  private encoder: ContextEncoder | undefined = new ContextEncoder();
  /** Field-name lists (joined by NUL), interned: a context is stored as its names' id and its values. */
  private readonly shapes = new StringTable();
  private readonly shapeNames: string[][] = [];
  private readonly shapeId = (names: string): number => this.shapes.intern(names);
  private readonly namesOf = (shape: number): string[] => (this.shapeNames[shape] ??= this.shapes.text(shape).split('\0'));

  /**
   * Loaders often hand the same context array to consecutive records (a file's or a section's context), so
   * it is encoded once; a record's context array must not change after it was added.
   */
  context(fields: ContextFields): number {
    if (fields !== this.lastFields) {
      const encoder = this.encoder;
      if (encoder === undefined) throw new Error('FeedStrings: a context added after compact()');
      encoder.encode(fields, this.shapeId, this.keyReferences);
      this.lastContext = this.contexts.internBytes(encoder.bytes, encoder.length);
      this.lastFields = fields;
    }
    return this.lastContext;
  }

  /**
   * Decoded contexts by context id, direct-mapped (`decodedIds[slot]` says whose fields `decoded[slot]` holds):
   * a context is usually shared by many records, and its decoded array is read-only, so matches share it.
   */
  private decodedIds: Int32Array | undefined;
  private decoded: ContextFields[] = [];

  decodeContext(id: number): ContextFields {
    if (this.decodedIds === undefined) {
      const size = Math.min(DECODED_CONTEXTS, powerOfTwoAtLeast(this.contexts.size));
      this.decodedIds = new Int32Array(size).fill(-1);
      this.decoded = new Array<ContextFields>(size);
    }
    const ids = this.decodedIds;
    const slot = id & (ids.length - 1);
    if (ids[slot] === id) return this.decoded[slot]!;
    const contexts = this.contexts;
    const fields = decodeContext(contexts.data, contexts.byteStart(id), contexts.byteEnd(id), this.namesOf, this.keyReferences);
    ids[slot] = id;
    this.decoded[slot] = fields;
    return fields;
  }

  /**
   * Encodes every context again, after the keys that contexts refer to got new ids: `encoded` resolves the
   * references as they were encoded, and `keyReferences` gives the new ones. Each context keeps its id.
   */
  recodeContexts(encoded: KeyReferences): void {
    const encoder = this.encoder;
    if (encoder === undefined) throw new Error('FeedStrings: recodeContexts() after compact()');
    const before = this.contexts;
    const after = new StringTable();
    for (let id = 0; id < before.size; id++) {
      const fields = decodeContext(before.data, before.byteStart(id), before.byteEnd(id), this.namesOf, encoded);
      encoder.encode(fields, this.shapeId, this.keyReferences);
      // Distinct contexts stay distinct (references change one to one), so the ids come out in the same order.
      after.internBytes(encoder.bytes, encoder.length);
    }
    this.contexts = after;
    this.lastFields = undefined;
    this.decodedIds = undefined;
  }

  /** After the last `context` and `originals.intern`: only reads by id remain, so the interning slots go. */
  compact(): void {
    this.encoder = undefined;
    this.contexts.compact({ findable: false });
    this.originals.compact({ findable: false });
    this.shapes.compact({ findable: false });
  }

  get memoryBytes(): number {
    return this.contexts.memoryBytes + this.originals.memoryBytes + this.shapes.memoryBytes;
  }
}

/** Renders a key of the owning table as text (the canonical spelling of the indicator). */
export type KeyRenderer = (keyId: number) => string;

export class KeyedRecords {
  private count = 0;
  /** Build columns (record index → key id, meta, context id), dropped by `finish`. */
  private keyOf: Uint32Array | undefined = new Uint32Array(16);
  private buildMeta = new Uint32Array(16);
  private buildContext = new Uint32Array(16);
  /** The final columns, sorted by key. */
  private meta = NarrowColumn.EMPTY;
  private context = NarrowColumn.EMPTY;
  /** Build order: (record index, originals id) pairs; after `finish`, sorted by final record index. */
  private originalAt = new Uint32Array(0);
  private originalId = new Uint32Array(0);
  private originalCount = 0;
  /** Group boundaries; undefined when every key has exactly one record (then record `k` is key `k`'s). */
  private start: Uint32Array | undefined;

  constructor(private readonly strings: FeedStrings, private readonly render: KeyRenderer) {}

  get size(): number {
    return this.count;
  }

  get memoryBytes(): number {
    const build = (this.keyOf?.byteLength ?? 0) + this.buildMeta.byteLength + this.buildContext.byteLength;
    return build + this.meta.byteLength + this.context.byteLength + (this.start?.byteLength ?? 0) + this.originalAt.byteLength * 2;
  }

  /**
   * `rendered` is the key's canonical text (what `render(keyId)` returns); `original` is the indicator as written
   * in the feed, kept only when it differs from `rendered`.
   */
  add(keyId: number, rendered: string, original: string, category: string, context: ContextFields): void {
    if (this.keyOf === undefined) throw new Error('records already finished');
    if (this.count === this.keyOf.length) {
      const length = this.count * 2;
      this.keyOf = grow(this.keyOf, length);
      this.buildMeta = grow(this.buildMeta, length);
      this.buildContext = grow(this.buildContext, length);
    }
    let meta = this.strings.category(category) * 2 ** FLAG_BITS;
    if (original !== rendered) {
      if (original === rendered.toUpperCase()) meta |= UPPER_CASE;
      else {
        meta |= HAS_ORIGINAL;
        if (this.originalCount === this.originalAt.length) {
          this.originalAt = grow(this.originalAt, Math.max(16, this.originalCount * 2));
          this.originalId = grow(this.originalId, this.originalAt.length);
        }
        this.originalAt[this.originalCount] = this.count;
        this.originalId[this.originalCount++] = this.strings.originals.intern(original);
      }
    }
    this.keyOf[this.count] = keyId;
    this.buildMeta[this.count] = meta;
    this.buildContext[this.count] = this.strings.context(context);
    this.count++;
  }

  /**
   * Groups the records by key; `keyCount` is the number of keys of the owning table, `newKeyId` (old → new) is
   * given when its keys got new ids since the records were added (WordTable.freeze).
   */
  finish(keyCount: number, newKeyId?: Uint32Array): void {
    const keyOf = this.keyOf;
    if (keyOf === undefined) return;
    if (newKeyId !== undefined) for (let r = 0; r < this.count; r++) keyOf[r] = newKeyId[keyOf[r]!]!;
    const { start, position } = groupByKey(keyOf, this.count, keyCount);
    const meta = new Uint32Array(this.count);
    const context = new Uint32Array(this.count);
    for (let r = 0; r < this.count; r++) {
      meta[position[r]!] = this.buildMeta[r]!;
      context[position[r]!] = this.buildContext[r]!;
    }
    // Originals: move to final positions, then sort by position (pairs packed into doubles sort as numbers).
    const packed = new Float64Array(this.originalCount);
    for (let i = 0; i < this.originalCount; i++) packed[i] = position[this.originalAt[i]!]! * 2 ** 32 + this.originalId[i]!;
    packed.sort();
    this.originalAt = new Uint32Array(this.originalCount);
    this.originalId = new Uint32Array(this.originalCount);
    for (let i = 0; i < this.originalCount; i++) {
      this.originalAt[i] = Math.floor(packed[i]! / 2 ** 32);
      this.originalId[i] = packed[i]! % 2 ** 32;
    }
    // Without `start` only when every key has one record (a key may have none: a hash that contexts refer to).
    this.start = this.count === keyCount && start.every((first, k) => first === k) ? undefined : start;
    this.meta = NarrowColumn.of(meta);
    this.context = NarrowColumn.of(context);
    this.keyOf = undefined;
    this.buildMeta = this.buildContext = new Uint32Array(0);
  }

  /** Appends one Match per record of `keyId`; `rendered` is `render(keyId)` when the caller has it at hand (the query's text). */
  emit(keyId: number, type: IndicatorType, feed: string, out: Match[], rendered?: string): void {
    const first = this.start === undefined ? keyId : this.start[keyId]!;
    const end = this.start === undefined ? keyId + 1 : this.start[keyId + 1]!;
    for (let r = first; r < end; r++) {
      const meta = this.meta.at(r);
      out.push(new RecordMatch(type, this.strings.categories[meta >>> FLAG_BITS]!, this.indicatorOf(r, keyId, meta, rendered), feed, this.strings, this.context.at(r)));
    }
  }

  private indicatorOf(record: number, keyId: number, meta: number, rendered: string | undefined): string {
    if (meta & HAS_ORIGINAL) return this.strings.originals.text(this.originalId[lowerBound(this.originalAt, record)]!);
    const text = rendered ?? this.render(keyId);
    return meta & UPPER_CASE ? text.toUpperCase() : text;
  }
}

/**
 * A match whose context fields are decoded when first read: formatting a detection reads them once, while a
 * match that is only counted, or that an allow-list suppresses, never pays for decoding them.
 */
class RecordMatch implements Match {
  readonly #strings: FeedStrings;
  readonly #contextId: number;
  #context: ContextFields | undefined;

  constructor(
    readonly type: IndicatorType,
    readonly category: string,
    readonly matchedIndicator: string,
    readonly feed: string,
    strings: FeedStrings,
    contextId: number,
  ) {
    this.#strings = strings;
    this.#contextId = contextId;
  }

  get context(): ContextFields {
    return (this.#context ??= this.#strings.decodeContext(this.#contextId));
  }
}

/**
 * Unsigned numbers in the narrowest typed array that holds the largest of them, or, when all are equal, one
 * value read through an index mask of 0 (a feed's records mostly share one category and a few contexts).
 */
class NarrowColumn {
  static readonly EMPTY = new NarrowColumn(new Uint8Array(1), 0);

  private constructor(private readonly values: Uint8Array | Uint16Array | Uint32Array, private readonly mask: number) {}

  static of(values: Uint32Array): NarrowColumn {
    let max = 0;
    let uniform = true;
    for (let i = 0; i < values.length; i++) {
      max = Math.max(max, values[i]!);
      uniform &&= values[i] === values[0];
    }
    if (uniform) return new NarrowColumn(Uint32Array.of(values[0] ?? 0), 0);
    const narrow = max < 0x100 ? Uint8Array.from(values) : max < 0x10000 ? Uint16Array.from(values) : values;
    return new NarrowColumn(narrow, -1);
  }

  at(index: number): number {
    return this.values[index & this.mask]!;
  }

  get byteLength(): number {
    return this.values.byteLength;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let power = 1;
  while (power < n) power *= 2;
  return power;
}

function lowerBound(sorted: Uint32Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Counting sort of items by key: items of key `k` go to positions `start[k] .. start[k + 1]`, item `i` to
 * `position[i]`, in their original order within a key.
 */
export function groupByKey(keyOf: Uint32Array, count: number, keyCount: number): { start: Uint32Array<ArrayBuffer>; position: Uint32Array<ArrayBuffer> } {
  const start = new Uint32Array(keyCount + 1);
  for (let i = 0; i < count; i++) start[keyOf[i]! + 1]!++;
  for (let k = 0; k < keyCount; k++) start[k + 1]! += start[k]!;
  const next = start.slice(0, keyCount);
  const position = new Uint32Array(count);
  for (let i = 0; i < count; i++) position[i] = next[keyOf[i]!]!++;
  return { start, position };
}
