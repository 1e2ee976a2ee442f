/**
 * Interning table for variable-length strings: every distinct string gets a dense id (0, 1, 2, ...).
 * Strings live as UTF-8 bytes in one growing byte arena, located through an offsets array; an open-addressing
 * table of ids finds them. A million short strings cost their bytes plus about 12 bytes each, instead of a
 * JS string and a Map entry each (about 4× as much).
 */

const textEncoder = new TextEncoder();

/** The slots of a table compacted with `findable: false`: one empty slot, so every probe ends at once. */
const EMPTY_SLOTS = new Uint32Array(1);

/** FNV-1a over UTF-8 bytes; the same function hashes arena bytes and query characters. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class StringTable {
  private bytes = new Uint8Array(1024);
  /** `bytes` as a Buffer, whose UTF-8 decoding of a short range costs half of a TextDecoder's; made when first needed. */
  private buffer: Buffer | undefined;
  private byteLength = 0;
  /** offsets[id] .. offsets[id + 1] are the bytes of string `id`. */
  private offsets = new Uint32Array(64);
  private count = 0;
  /**
   * slot → 0 when empty, else the string's hash with its low bits (those that pick a slot, `slots.length - 1`)
   * replaced by id + 1. A probe compares the high bits with the query's hash before it reads the string's
   * offsets (one more cache miss, in vain for most slots a probe passes). A power of two of slots, at most half
   * full, so id + 1 always fits in the low bits.
   */
  private slots = new Uint32Array(64);

  get size(): number {
    return this.count;
  }

  /** Bytes held (arena, offsets and slots), for memory reports. */
  get memoryBytes(): number {
    return this.bytes.byteLength + this.offsets.byteLength + this.slots.byteLength;
  }

  /** The id of `text`, adding it when new. */
  intern(text: string): number {
    this.assertFindable();
    const found = this.find(text);
    if (found >= 0) return found;
    this.ensureBytes(text.length * 3);
    const from = this.byteLength;
    let ascii = true;
    for (let i = 0; i < text.length && ascii; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) ascii = false;
      else this.bytes[from + i] = code;
    }
    const written = ascii ? text.length : textEncoder.encodeInto(text, this.bytes.subarray(from)).written;
    return this.append(written);
  }

  /** The id of the byte string `source[0 .. length)` (a binary encoding, read back with `data`), adding it when new. */
  internBytes(source: Uint8Array, length: number): number {
    this.assertFindable();
    const found = this.findBytes(source, length);
    if (found >= 0) return found;
    this.ensureBytes(length);
    this.bytes.set(source.subarray(0, length), this.byteLength);
    return this.append(length);
  }

  /** Adds the `length` bytes just written after the arena's end as the next string. */
  private append(length: number): number {
    const from = this.byteLength;
    const id = this.count++;
    if (this.count + 1 > this.offsets.length) this.offsets = grow(this.offsets, this.offsets.length * 2);
    this.offsets[id] = from;
    this.byteLength += length;
    this.offsets[id + 1] = this.byteLength;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(id, hashBytes(this.bytes, from, this.byteLength));
    return id;
  }

  private assertFindable(): void {
    if (this.slots === EMPTY_SLOTS) throw new Error('StringTable: a string added after compact({ findable: false })');
  }

  /** The id of `text.slice(start, end)`, or -1; allocates nothing for ASCII text. */
  find(text: string, start = 0, end = text.length): number {
    return this.findHashed(text, start, end, hashText(text, start, end));
  }

  /**
   * `find` with the slice's `hashText` computed by the caller: a query probes the same slices in every feed's
   * tables, so it hashes them once.
   */
  findHashed(text: string, start: number, end: number, hash: number): number {
    if (this.count === 0) return -1;
    if (hash < 0) {
      const bytes = encodeScratch(text.slice(start, end));
      return this.findBytes(bytes, bytes.length);
    }
    const mask = this.slots.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      if (((entry ^ hash) & ~mask) !== 0) continue;
      const id = (entry & mask) - 1;
      const from = this.offsets[id]!;
      if (this.offsets[id + 1]! - from !== length) continue;
      let i = 0;
      while (i < length && this.bytes[from + i] === text.charCodeAt(start + i)) i++;
      if (i === length) return id;
    }
  }

  text(id: number): string {
    return this.data.toString('utf8', this.offsets[id]!, this.offsets[id + 1]!);
  }

  /** The arena as a Buffer (string `id` is `data[byteStart(id) .. byteEnd(id))`); valid until the next string is added. */
  get data(): Buffer {
    if (this.buffer?.buffer !== this.bytes.buffer) this.buffer = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.buffer;
  }

  /**
   * The arena's bytes (string `id` is `arena[byteStart(id) .. byteEnd(id))`), for byte-wise matching; valid until
   * the next string is added.
   */
  get arena(): Uint8Array {
    return this.bytes;
  }

  byteStart(id: number): number {
    return this.offsets[id]!;
  }

  byteEnd(id: number): number {
    return this.offsets[id + 1]!;
  }

  /**
   * Drops the growth slack once no more strings will be added; with `findable: false` also the slots, when
   * strings will only be read by id from now on (`find` then finds nothing).
   */
  compact({ findable = true }: { findable?: boolean } = {}): void {
    this.bytes = this.bytes.slice(0, this.byteLength);
    this.offsets = this.offsets.slice(0, this.count + 1);
    if (!findable) this.slots = EMPTY_SLOTS;
  }

  private findBytes(query: Uint8Array, length: number): number {
    if (this.count === 0) return -1;
    const hash = hashBytes(query, 0, length);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      if (((entry ^ hash) & ~mask) !== 0) continue;
      const id = (entry & mask) - 1;
      const from = this.offsets[id]!;
      if (this.offsets[id + 1]! - from !== length) continue;
      let i = 0;
      while (i < length && this.bytes[from + i] === query[i]) i++;
      if (i === length) return id;
    }
  }

  private place(id: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = (hash & ~mask) | (id + 1);
  }

  private rehash(slotCount: number): void {
    this.slots = new Uint32Array(slotCount);
    for (let id = 0; id < this.count; id++) this.place(id, hashBytes(this.bytes, this.offsets[id]!, this.offsets[id + 1]!));
  }

  private ensureBytes(extra: number): void {
    if (this.byteLength + extra <= this.bytes.length) return;
    this.bytes = grow(this.bytes, Math.max(this.bytes.length * 2, this.byteLength + extra));
  }
}

/*
 * The hash runs from the last character to the first, so that one pass over a host name yields the hash of
 * every parent suffix on the way (`HostSuffixes`).
 */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let hash = FNV_OFFSET;
  for (let i = to - 1; i >= from; i--) hash = Math.imul(hash ^ bytes[i]!, FNV_PRIME);
  return finalizeHash(hash);
}

/** The table hash of `text.slice(start, end)`, or -1 when it is not ASCII (then its UTF-8 bytes are hashed). */
export function hashText(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = end - 1; i >= start; i--) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  return finalizeHash(hash);
}

/**
 * A set of table hashes (`hashText`) as bits, 8 bits of set a hash, so about one absent text in eight passes: a
 * probe that it rules out reads a bit in a set an eighth of the size of the table's slots (which, in a table of
 * hundreds of thousands, is a cache miss).
 */
export class HashFilter {
  private hashes: Uint32Array | undefined = new Uint32Array(16);
  private count = 0;
  private bits = new Uint32Array(0);

  /** Notes the hash of a text (-1, a non-ASCII text, need not be noted: such a query always passes). */
  add(hash: number): void {
    if (hash < 0 || this.hashes === undefined) return;
    if (this.count === this.hashes.length) this.hashes = grow(this.hashes, this.count * 2);
    this.hashes[this.count++] = hash;
  }

  finish(): void {
    if (this.hashes === undefined) return;
    let words = 2;
    while (words * 32 < this.count * 8) words *= 2;
    this.bits = new Uint32Array(words);
    const mask = words * 32 - 1;
    for (let i = 0; i < this.count; i++) {
      const bit = this.hashes[i]! & mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.hashes = undefined;
  }

  /** False when no text noted has the hash `hash` (-1: not ASCII, maybe). */
  mayHave(hash: number): boolean {
    if (hash < 0) return true;
    const bit = hash & (this.bits.length * 32 - 1);
    return (this.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  get memoryBytes(): number {
    return this.bits.byteLength + (this.hashes?.byteLength ?? 0);
  }
}

/**
 * Mixes the high bits of a hash down into the low ones, which pick a slot; invertible (word tables rely on it).
 * FNV-1a needs it: its low bits depend only on the low bits of each step (a multiplication carries upwards only).
 */
export function finalizeHash(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

/**
 * A host name of a query and each of its parent suffixes (`a.b.c`, `b.c`, `c`) with their table hashes, from
 * one pass over the name: a lookup probes them in the domain and mask tables of every feed.
 */
export class HostSuffixes {
  /** Suffix `k < count` (0: the whole host, possibly empty) is `text.slice(start[k], end)`; its hash is `hash[k]` (-1: not ASCII). */
  count = 0;
  end = 0;
  readonly start: number[] = [];
  readonly hash: number[] = [];

  /** Set to the host `text.slice(start, end)`. */
  set(text: string, start: number, end: number): void {
    this.end = end;
    let count = 1;
    for (let dot = text.indexOf('.', start); dot >= 0 && dot < end - 1; dot = text.indexOf('.', dot + 1)) count++;
    this.count = count;
    // Hashed from the end, so suffixes are found shortest first: filled in from the back.
    let hash = FNV_OFFSET;
    let ascii = true;
    for (let i = end - 1; i >= start; i--) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) ascii = false;
      hash = Math.imul(hash ^ code, FNV_PRIME);
      if (i === start || text.charCodeAt(i - 1) === 0x2e /* . */) {
        this.start[--count] = i;
        this.hash[count] = ascii ? finalizeHash(hash) : -1;
      }
    }
    if (start === end) {
      this.start[0] = start;
      this.hash[0] = finalizeHash(FNV_OFFSET);
    }
  }
}

/** Reused buffer for the UTF-8 bytes of non-ASCII queries. */
let scratch = new Uint8Array(256);

function encodeScratch(text: string): Uint8Array {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const { written } = textEncoder.encodeInto(text, scratch);
  return scratch.subarray(0, written);
}

export function grow<T extends Uint8Array | Uint32Array | Float64Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length);
  bigger.set(array);
  return bigger;
}
