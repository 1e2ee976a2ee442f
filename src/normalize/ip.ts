/**
 * IP address handling of Kaspersky's reference normalizer: its own inet_aton-like IPv4 reading (with its
 * 255ⁿ bound), and IPv6 canonicalization through Go's net.ParseIP / net.IP.String (which parse with
 * net/netip: strict dotted IPv4, no zones, at most 4 hex digits a group; print RFC 5952 form, IPv4-mapped
 * addresses as dotted IPv4).
 */
import { goTrimSpace } from './go-text.js';

/** An ASCII byte that is neither white space nor possible in an address ([0-9a-fA-FxX.]). */
const NOT_ADDRESS_CHAR = /[\x00-\x08\x0e-\x1f\x21-\x2d\x2f\x3a-\x40\x47-\x57\x59-\x60\x67-\x77\x79-\x7f]/;

/** Go's strconv.ParseUint(s[from:to], base, 32) for base 8, 10 or 16 (no sign, prefix or '_'); -1 on error. */
function parseUint32(s: string, from: number, to: number, base: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x7a) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x5a) d = c - 0x41 + 10;
    else return -1;
    if (d >= base) return -1;
    n = n * base + d;
    if (n > 0xffffffff) return -1;
  }
  return n;
}

/** One dotted part s[from:to] as the reference reads it: 0x… hex, 0… octal, else decimal; at most 255^blocks. */
function parsePart(s: string, from: number, to: number, blocks: number): number {
  let n: number;
  if (to - from >= 2 && s.charCodeAt(from) === 0x30 && s.charCodeAt(from + 1) === 0x78) n = parseUint32(s, from + 2, to, 16);
  else if (to - from > 1 && s.charCodeAt(from) === 0x30) n = parseUint32(s, from + 1, to, 8);
  else n = parseUint32(s, from, to, 10);
  if (n < 0) return -1;
  // The reference bounds a part with 255^blocks, not 256^blocks - 1, so e.g. 4294967295 is not an address.
  return n > 255 ** blocks ? -1 : n;
}

/**
 * The reference's NormalizeIPv4: 1–4 dot-separated parts, the last one filling the remaining bytes; returns the
 * dotted-decimal form, or undefined when `host` is not such an address.
 */
export function normalizeIPv4(host: string): string | undefined {
  // Most hosts are names: one byte that cannot occur in an address (nor be trimmed as space) rules them out.
  if (NOT_ADDRESS_CHAR.test(host)) return undefined;
  const s = goTrimSpace(host);
  if (s === '') return undefined;
  let parts = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x2e) parts++;
  if (parts > 4) return undefined;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0x2e) continue;
    const n = parsePart(s, start, i, 1);
    if (n < 0) return undefined;
    out += n + '.';
    start = i + 1;
  }
  const last = parsePart(s, start, s.length, 5 - parts);
  if (last < 0) return undefined;
  // The last part fills the remaining bytes: print only those of its four bytes.
  if (parts <= 1) out += (last >>> 24) + '.';
  if (parts <= 2) out += ((last >>> 16) & 255) + '.';
  if (parts <= 3) out += ((last >>> 8) & 255) + '.';
  return out + (last & 255);
}

/** netip's strict dotted-quad reader into `into[at..at+3]`; false on any deviation. */
function parseDottedQuad(s: string, into: Uint8Array, at: number): boolean {
  let val = 0;
  let digits = 0;
  let pos = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return false; // leading zero
      val = val * 10 + (c - 0x30);
      digits++;
      if (val > 255) return false;
    } else if (c === 0x2e) {
      if (i === 0 || i === s.length - 1 || s.charCodeAt(i - 1) === 0x2e) return false;
      if (pos === 3) return false;
      into[at + pos] = val;
      pos++;
      val = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (pos < 3) return false;
  into[at + 3] = val;
  return true;
}

/** netip's IPv6 reader (zones make net.ParseIP fail, so any '%' fails here). */
function parseIPv6(s: string): Uint8Array | undefined {
  if (s.includes('%')) return undefined;
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const c = s.charCodeAt(off);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else break;
      acc = acc * 16 + d;
      if (off > 3 || acc > 0xffff) return undefined;
    }
    if (off === 0) return undefined;
    if (off < s.length && s[off] === '.') {
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      if (!parseDottedQuad(s, ip, i)) return undefined;
      s = '';
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 255;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    return undefined;
  }
  return ip;
}

/** Go's net.ParseIP(s).String(), or undefined when ParseIP returns nil. */
export function goCanonicalIP(s: string): string | undefined {
  let ip: Uint8Array | undefined;
  for (let i = 0; i < s.length && ip === undefined; i++) {
    const c = s[i];
    if (c === '.') {
      const v4 = new Uint8Array(16);
      if (!parseDottedQuad(s, v4, 12)) return undefined;
      v4[10] = 0xff;
      v4[11] = 0xff;
      ip = v4;
    } else if (c === ':') {
      ip = parseIPv6(s);
      if (ip === undefined) return undefined;
    } else if (c === '%') {
      return undefined;
    }
  }
  if (ip === undefined) return undefined;
  if (ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) {
    return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  }
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push((ip[2 * g]! << 8) | ip[2 * g + 1]!);
  // RFC 5952: the first longest run of two or more zero groups becomes "::".
  let zeroStart = -1;
  let zeroLen = 1;
  for (let g = 0; g < 8; g++) {
    let j = g;
    while (j < 8 && groups[j] === 0) j++;
    if (j - g > zeroLen) {
      zeroStart = g;
      zeroLen = j - g;
    }
  }
  let out = '';
  for (let g = 0; g < 8; g++) {
    if (g === zeroStart) {
      out += '::';
      g += zeroLen - 1;
      continue;
    }
    if (g > 0 && !out.endsWith(':')) out += ':';
    out += groups[g]!.toString(16);
  }
  return out;
}

/** The reference's NormalizeIPv6: canonical form, keeping a leading '[' and a trailing ']' if present. */
export function normalizeIPv6(host: string): string | undefined {
  const open = host.startsWith('[');
  const close = host.endsWith(']');
  let start = 0;
  let end = host.length;
  while (start < end && (host[start] === '[' || host[start] === ']')) start++;
  while (end > start && (host[end - 1] === '[' || host[end - 1] === ']')) end--;
  if (start === end) return undefined;
  const ip = goCanonicalIP(host.slice(start, end));
  if (ip === undefined) return undefined;
  return (open ? '[' : '') + ip + (close ? ']' : '');
}
