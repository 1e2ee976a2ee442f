/**
 * Interning table for fixed-width binary keys (an IPv4 address is 1 word, an MD5 4, a SHA-256 8, an
 * IPv6 address and port 5): every distinct key gets a dense id. Keys sit back to back in one Uint32Array and
 * an open-addressing table finds them, so a key costs its own bytes plus a few bytes of table.
 *
 * A slot holds the id and the key's full hash side by side, so a probe reads one cache line and only a slot
 * with an equal hash sends it to the keys: in a table of a hundred thousand keys each of those reads is a cache
 * miss, and most lookups are misses. A one-word key is not even compared: its hash is a bijection.
 */
import { finalizeHash, grow } from './string-table.js';

export class WordTable {
  private keys: Uint32Array;
  private count = 0;
  /** Slot `s`: `slots[2s]` = id + 1 (0 = empty), `slots[2s + 1]` = the key's hash; a power of two of slots, at most 3/4 full. */
  private slots = new Uint32Array(32);

  constructor(readonly width: number) {
    this.keys = new Uint32Array(width * 8);
  }

  get size(): number {
    return this.count;
  }

  get memoryBytes(): number {
    return this.keys.byteLength + this.slots.byteLength;
  }

  /** The id of the key in `words[0 .. width)`, adding it when new. */
  intern(words: Uint32Array): number {
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

  compact(): void {
    this.keys = this.keys.slice(0, this.count * this.width);
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
