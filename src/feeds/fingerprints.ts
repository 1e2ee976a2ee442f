/**
 * Remembers which records a load has already sent, by a 64-bit fingerprint of their key, in two flat
 * typed arrays (open addressing). A Set of key strings cost ~200 bytes a record and most of the load time
 * on multi-million-line feeds; this costs at most 16 bytes. Two different keys sharing all 64 bits is
 * about a one-in-a-million event for ten million records: that record would be counted as a duplicate.
 */
const EMPTY = 0;
/** Held locally: a global lookup of `Math` per character is 50× slower inside test sandboxes (jest's vm context). */
const imul = Math.imul;
const MAX_LOAD = 0.75;

export class FingerprintSet {
  private high: Uint32Array;
  private low: Uint32Array;
  private count = 0;

  constructor(capacity = 1 << 12) {
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the key made of `parts` (joined by a NUL); returns false when it was there already. */
  add(...parts: string[]): boolean {
    // Two independent 32-bit hashes over the same characters: FNV-1a and a multiply-xorshift.
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let p = 0; p < parts.length; p++) {
      const text = parts[p]!;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        a = imul(a ^ c, 0x01000193);
        b = imul(b ^ c, 0x5bd1e995);
        b ^= b >>> 15;
      }
      a = imul(a ^ 0, 0x01000193);
      b = imul(b ^ 0xff, 0x5bd1e995);
    }
    a >>>= 0;
    b >>>= 0;
    if (a === EMPTY && b === EMPTY) a = 1;
    if (!this.insert(a, b)) return false;
    if (++this.count > this.high.length * MAX_LOAD) this.grow();
    return true;
  }

  private insert(a: number, b: number): boolean {
    const mask = this.high.length - 1;
    for (let slot = (a ^ imul(b, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const h = this.high[slot]!;
      const l = this.low[slot]!;
      if (h === EMPTY && l === EMPTY) {
        this.high[slot] = a;
        this.low[slot] = b;
        return true;
      }
      if (h === a && l === b) return false;
    }
  }

  private grow(): void {
    const { high, low } = this;
    this.high = new Uint32Array(high.length * 2);
    this.low = new Uint32Array(low.length * 2);
    for (let i = 0; i < high.length; i++) if (high[i] !== EMPTY || low[i] !== EMPTY) this.insert(high[i]!, low[i]!);
  }
}
