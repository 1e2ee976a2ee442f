/**
 * Interning table for fixed-width binary keys (an IPv4 address is 1 word, an MD5 4, a SHA-256 8, an
 * IPv6 address and port 5): every distinct key gets a dense id. Keys sit back to back in one Uint32Array and
 * an open-addressing table of ids finds them, so a key costs its own bytes plus a few bytes of table.
 */
import { grow } from './string-table.js';

export class WordTable {
  private keys: Uint32Array;
  private count = 0;
  /** slot → id + 1 (0 = empty); a power of two kept at most half full. */
  private slots = new Uint32Array(16);

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
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(id);
    return id;
  }

  /** The id of the key in `words[0 .. width)`, or -1; `hash` may be given when the caller has it (`hashWords`). */
  find(words: Uint32Array, hash = hashWords(words, 0, this.width)): number {
    if (this.count === 0) return -1;
    const width = this.width;
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      const base = (entry - 1) * width;
      let w = 0;
      while (w < width && this.keys[base + w] === words[w]) w++;
      if (w === width) return entry - 1;
    }
  }

  /** The words of key `id` (a view: do not keep it across inserts). */
  key(id: number): Uint32Array {
    return this.keys.subarray(id * this.width, (id + 1) * this.width);
  }

  compact(): void {
    this.keys = this.keys.slice(0, this.count * this.width);
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    let slot = hashWords(this.keys, id * this.width, this.width) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
  }

  private rehash(slotCount: number): void {
    this.slots = new Uint32Array(slotCount);
    for (let id = 0; id < this.count; id++) this.place(id);
  }
}

/** Murmur3-style mixing: consecutive IPv4 addresses must not land in consecutive slots. */
export function hashWords(words: Uint32Array, from: number, width: number): number {
  let hash = 0x9747b28c;
  for (let w = 0; w < width; w++) {
    let k = Math.imul(words[from + w]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    hash ^= Math.imul(k, 0x1b873593);
    hash = Math.imul((hash << 13) | (hash >>> 19), 5) + 0xe6546b64;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}
