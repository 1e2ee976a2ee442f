/**
 * Go string semantics on JavaScript strings.
 *
 * Go strings are byte strings and the reference normalizer works on bytes (percent-decoding can yield invalid
 * UTF-8, which Go then keeps, re-escapes, or turns into U+FFFD depending on the step). To be byte-exact we carry
 * "byte strings": JavaScript strings whose every char code is one byte (0–255). ASCII text is its own byte
 * string, so the common case costs nothing.
 */
import { GO_LOWER_RUNS, GO_NON_ASCII_SPACES } from './go-unicode-data.js';

/** UTF-8 bytes of `s` as a byte string (a lone surrogate becomes U+FFFD, as in any UTF-8 encoder). */
export function toByteString(s: string): string {
  return isAscii(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/** Decodes a byte string the way Go ranges over a string: each byte of an invalid sequence becomes U+FFFD. */
export function fromByteString(b: string): string {
  if (isAscii(b)) return b;
  return Buffer.from(sanitizeUtf8(b), 'latin1').toString('utf8');
}

const NON_ASCII = /[^\x00-\x7f]/;

export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

const REPLACEMENT = '\xef\xbf\xbd'; // U+FFFD as UTF-8 bytes

/**
 * Length of the valid UTF-8 sequence starting at byte `i`, or 0 if Go's utf8.DecodeRune would return
 * (RuneError, 1) there: bad lead byte, bad or missing continuation, overlong form, surrogate, > U+10FFFF.
 */
export function utf8SequenceLength(b: string, i: number): number {
  const c = b.charCodeAt(i);
  if (c < 0x80) return 1;
  const n = b.length;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => {
    if (j >= n) return false;
    const x = b.charCodeAt(j);
    return x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** Replaces each byte that does not start a valid UTF-8 sequence with U+FFFD (Go's `for range` decoding). */
export function sanitizeUtf8(b: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < b.length; ) {
    if (b.charCodeAt(i) < 0x80) {
      i++;
      continue;
    }
    const w = utf8SequenceLength(b, i);
    if (w > 0) {
      i += w;
      continue;
    }
    out += b.slice(from, i) + REPLACEMENT;
    i++;
    from = i;
  }
  return from === 0 ? b : out + b.slice(from);
}

function decodeCodePoint(b: string, i: number, w: number): number {
  const c = b.charCodeAt(i);
  if (w === 2) return ((c & 0x1f) << 6) | (b.charCodeAt(i + 1) & 0x3f);
  if (w === 3) return ((c & 0x0f) << 12) | ((b.charCodeAt(i + 1) & 0x3f) << 6) | (b.charCodeAt(i + 2) & 0x3f);
  return (
    ((c & 0x07) << 18) | ((b.charCodeAt(i + 1) & 0x3f) << 12) | ((b.charCodeAt(i + 2) & 0x3f) << 6) | (b.charCodeAt(i + 3) & 0x3f)
  );
}

function encodeCodePoint(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  return String.fromCharCode(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

const lowerMap: Map<number, number> = (() => {
  const map = new Map<number, number>();
  for (const run of GO_LOWER_RUNS.split(';')) {
    const [start, count, delta, step] = run.split(',');
    const s = parseInt(start!, 16);
    const n = parseInt(count!, 16);
    const d = Number(delta);
    const st = Number(step);
    for (let k = 0; k < n; k++) if (s + k * st >= 0x80) map.set(s + k * st, s + k * st + d);
  }
  return map;
})();

const nonAsciiSpaces = new Set(GO_NON_ASCII_SPACES.split(',').map((h) => parseInt(h, 16)));

/** Go's strings.ToLower on a byte string: per code point (unicode.ToLower), invalid bytes become U+FFFD. */
export function goToLower(b: string): string {
  if (!NON_ASCII.test(b)) return b.toLowerCase();
  let out = '';
  for (let i = 0; i < b.length; ) {
    const c = b.charCodeAt(i);
    if (c < 0x80) {
      out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : b[i];
      i++;
      continue;
    }
    const w = utf8SequenceLength(b, i);
    if (w === 0) {
      out += REPLACEMENT;
      i++;
      continue;
    }
    const lower = lowerMap.get(decodeCodePoint(b, i, w));
    out += lower === undefined ? b.slice(i, i + w) : encodeCodePoint(lower);
    i += w;
  }
  return out;
}

/**
 * The reference's `collapse`: runs of `symbol` become one (a trailing one is dropped when `trim`). It ranges over
 * runes, so invalid UTF-8 comes out as U+FFFD.
 */
export function goCollapse(b: string, symbol: string, trim: boolean): string {
  return collapseValid(isAscii(b) ? b : sanitizeUtf8(b), symbol, trim);
}

/** goCollapse for text known to be ASCII or valid UTF-8 (nothing to replace with U+FFFD). */
export function collapseValid(s: string, symbol: string, trim: boolean): string {
  // The two symbols URLs use get their doubled form as a literal: no string built per call on this hot path.
  if (s.indexOf(symbol === '/' ? '//' : symbol === '.' ? '..' : symbol + symbol) < 0 && !(trim && s.endsWith(symbol))) return s;
  const sym = symbol.charCodeAt(0);
  let out = '';
  let from = 0;
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) !== sym) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) === sym) j++;
    if (j === s.length && trim) {
      out += s.slice(from, i);
      from = j;
      break;
    }
    if (j - i > 1) {
      out += s.slice(from, i + 1);
      from = j;
    }
    i = j;
  }
  return from === 0 ? s : out + s.slice(from);
}

function isGoSpaceAt(b: string, i: number): number {
  const c = b.charCodeAt(i);
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d) ? 1 : 0;
  const w = utf8SequenceLength(b, i);
  return w > 0 && nonAsciiSpaces.has(decodeCodePoint(b, i, w)) ? w : 0;
}

/** Go's strings.TrimSpace (unicode.IsSpace at both ends) on a byte string. */
export function goTrimSpace(b: string): string {
  let start = 0;
  for (let w = 0; start < b.length && (w = isGoSpaceAt(b, start)) > 0; ) start += w;
  let end = b.length;
  while (end > start) {
    // Step back to the start of the last code point (at most 4 bytes), then test it.
    let k = end - 1;
    while (k > start && end - k < 4 && (b.charCodeAt(k) & 0xc0) === 0x80) k--;
    const w = isGoSpaceAt(b, k);
    if (w === 0 || k + w !== end) break;
    end = k;
  }
  return b.slice(start, end);
}
