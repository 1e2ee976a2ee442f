/**
 * Interning table for fixed-width binary keys (an IPv4 address is 1 word, an MD5 4, a SHA-256 8, an
 * IPv6 address and port 5): every distinct key gets a dense id. Keys sit back to back in one Uint32Array, so a
 * key costs its own bytes plus, once the table is frozen, about one byte of directory.
 *
 * While building, a slot holds the id and the key's full hash side by side, so a probe reads one cache line and
 * only a slot with an equal hash sends it to the keys. A one-word key is not even compared: its hash is a
 * bijection.
 *
 * `freeze` (at the end of a load) drops the slots, which took 8 bytes a slot at most 3/4 full (up to 21 bytes a
 * key beside the key's own 4 for IPv4): the keys are reordered into buckets by the top bits of their hash, 4 to 8
 * keys a bucket, and a directory gives where each bucket starts (0.5 to 1 byte a key). A lookup reads its
 * bucket's start in the directory and compares the bucket's keys, which sit side by side.
 */
import { groupByKey } from './records.js';
import { finalizeHash, grow } from './string-table.js';

/** A frozen table has the largest power of two of buckets that gives each at least this many keys on average. */
const KEYS_PER_BUCKET = 4;

export class WordTable {
  private keys: Uint32Array;
  private count = 0;
  /** Slot `s`: `slots[2s]` = id + 1 (0 = empty), `slots[2s + 1]` = the key's hash; a power of two of slots, at most 3/4 full. */
  private slots = new Uint32Array(32);
  /** After `freeze`: bucket `b` (the keys whose hash >>> bucketShift is b) holds ids bucketStart[b] .. bucketStart[b + 1]. */
  private bucketStart: Uint32Array | undefined;
  private bucketShift = 32;

  constructor(readonly width: number) {
    this.keys = new Uint32Array(width * 8);
  }

  get size(): number {
    return this.count;
  }

  get memoryBytes(): number {
    return this.keys.byteLength + this.slots.byteLength + (this.bucketStart?.byteLength ?? 0);
  }

  /** Whether `freeze` has ended the building (only `find` from then on). */
  get frozen(): boolean {
    return this.bucketStart !== undefined;
  }

  /** The id of the key in `words[0 .. width)`, adding it when new. */
  intern(words: Uint32Array): number {
    if (this.bucketStart !== undefined) throw new Error('WordTable: intern() after freeze()');
    const found = this.find(words);
    if (found >= 0) return found;
    const id = this.count++;
    if (this.count * this.width > this.keys.length) this.keys = grow(this.keys, this.keys.length * 2);
    for (let w = 0; w < this.width; w++) this.keys[id * this.width + w] = words[w]!;
    if (this.count * 8 > this.slots.length * 3) this.rehash();
    else this.place(id);
    return id;
  }

  /** The id of the key in `words[0 .. width)`, or -1; `hash` may be given when the caller has it (`hashWords`). */
  find(words: Uint32Array, hash?: number): number {
    const width = this.width;
    if (width === 1) return this.findWord(words[0]!);
    if (this.count === 0) return -1;
    hash ??= hashWords(words, 0, width);
    if (this.bucketStart !== undefined) {
      const keys = this.keys;
      const bucket = hash >>> this.bucketShift;
      for (let id = this.bucketStart[bucket]!, end = this.bucketStart[bucket + 1]!; id < end; id++) {
        const base = id * width;
        let w = 0;
        while (w < width && keys[base + w] === words[w]) w++;
        if (w === width) return id;
      }
      return -1;
    }
    const slots = this.slots;
    const mask = slots.length - 2;
    for (let at = (hash << 1) & mask; ; at = (at + 2) & mask) {
      const entry = slots[at]!;
      if (entry === 0) return -1;
      if (slots[at + 1] !== hash) continue;
      const base = (entry - 1) * width;
      let w = 0;
      while (w < width && this.keys[base + w] === words[w]) w++;
      if (w === width) return entry - 1;
    }
  }

  /** `find` for a table of one-word keys, given the word (no array to fill: IPv4 lookups are the hot path). Equal hashes are equal keys. */
  findWord(word: number): number {
    if (this.count === 0) return -1;
    const hash = hashWord(word);
    if (this.bucketStart !== undefined) {
      const keys = this.keys;
      const bucket = hash >>> this.bucketShift;
      for (let id = this.bucketStart[bucket]!, end = this.bucketStart[bucket + 1]!; id < end; id++) if (keys[id] === word) return id;
      return -1;
    }
    const slots = this.slots;
    const mask = slots.length - 2;
    for (let at = (hash << 1) & mask; ; at = (at + 2) & mask) {
      const entry = slots[at]!;
      if (entry === 0) return -1;
      if (slots[at + 1] === hash) return entry - 1;
    }
  }

  /** Word `w` of key `id` (no view allocated, unlike `key`: renderers of query hits use this). */
  word(id: number, w: number): number {
    return this.keys[id * this.width + w]!;
  }

  /** The words of key `id` (a view: do not keep it across inserts). */
  key(id: number): Uint32Array {
    return this.keys.subarray(id * this.width, (id + 1) * this.width);
  }

  /**
   * Ends the building: the keys get new ids, bucket by bucket (see the top of this file), and the slots go.
   * Returns old id → new id, for whatever the caller filed under the old ids.
   */
  freeze(): Uint32Array {
    if (this.bucketStart !== undefined) throw new Error('WordTable: freeze() called twice');
    const { count, width } = this;
    let bits = 1; // at least 2 buckets: a shift by 32 would shift nothing
    while (2 ** (bits + 1) * KEYS_PER_BUCKET <= count) bits++;
    this.bucketShift = 32 - bits;
    const bucketOf = new Uint32Array(count);
    for (let id = 0; id < count; id++) bucketOf[id] = hashWords(this.keys, id * width, width) >>> this.bucketShift;
    const { start, position: newId } = groupByKey(bucketOf, count, 2 ** bits);
    const keys = new Uint32Array(count * width);
    for (let id = 0; id < count; id++) {
      for (let w = 0; w < width; w++) keys[newId[id]! * width + w] = this.keys[id * width + w]!;
    }
    this.keys = keys;
    this.bucketStart = start;
    this.slots = new Uint32Array(0);
    return newId;
  }

  private place(id: number): void {
    const mask = this.slots.length - 2;
    const hash = hashWords(this.keys, id * this.width, this.width);
    let at = (hash << 1) & mask;
    while (this.slots[at] !== 0) at = (at + 2) & mask;
    this.slots[at] = id + 1;
    this.slots[at + 1] = hash;
  }

  /** Twice as many slots. */
  private rehash(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    for (let id = 0; id < this.count; id++) this.place(id);
  }
}

/**
 * Murmur3-style mixing: consecutive IPv4 addresses must not land in consecutive slots. Every step is invertible,
 * so one word hashes to a distinct value (WordTable.find relies on it).
 */
export function hashWords(words: Uint32Array, from: number, width: number): number {
  let hash = SEED;
  for (let w = 0; w < width; w++) hash = mixWord(hash, words[from + w]!);
  return finalizeHash(hash);
}

/** hashWords of the one-word key `word`. */
function hashWord(word: number): number {
  return finalizeHash(mixWord(SEED, word));
}

const SEED = 0x9747b28c;

function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  hash ^= Math.imul(k, 0x1b873593);
  return (Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64) | 0;
}
