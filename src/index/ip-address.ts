/**
 * IP address text ↔ 32-bit words, without allocation on the query path.
 * Accepted: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`, and for feed
 * indicators also `1.2.3.0/24`, `2001:db8::/32`. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is read as IPv4, so
 * both spellings of the same host match each other. IPv4 parts are decimal (leading zeros allowed, never octal).
 */

export class IpAddress {
  version: 4 | 6 = 4;
  /** v4: words[0]; v6: words[0..3], most significant first. */
  readonly words = new Uint32Array(4);
  /** -1 when absent. */
  port = -1;
  /** Prefix length of a CIDR; 32 or 128 for a single address. */
  prefix = 32;
  /** The text parsed, when it was a plain IPv4 address (no port or prefix): see canonicalText. */
  plainText: string | undefined = undefined;
}

/**
 * The text an address was parsed from when it is exactly how formatIp writes it (a plain IPv4 address without
 * leading zeros: most queries), so a hit can show it as is. Checked on a hit only, not on every parse.
 */
export function canonicalText(address: IpAddress): string | undefined {
  const text = address.plainText;
  // Each part has at least as many digits as its value needs: the same total length means no leading zero.
  return text !== undefined && text.length === dottedLength(address.words[0]!) ? text : undefined;
}

/** Parses a query value (address with optional port). Returns false on anything else. */
export function parseIpQuery(text: string, into: IpAddress): boolean {
  return parseIp(text, into, false);
}

/** Parses a feed indicator: a query form, or an address with `/prefix` (no port). */
export function parseIpIndicator(text: string, into: IpAddress): boolean {
  return parseIp(text, into, true);
}

function parseIp(text: string, into: IpAddress, allowPrefix: boolean): boolean {
  let end = text.length;
  into.port = -1;
  into.plainText = undefined;
  let prefix = -1;
  if (allowPrefix) {
    const slash = text.lastIndexOf('/');
    if (slash >= 0) {
      prefix = parseDecimal(text, slash + 1, end, 128);
      if (prefix < 0) return false;
      end = slash;
    }
  }
  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const close = text.indexOf(']');
    if (close < 0 || prefix >= 0) return false;
    if (close + 1 < end) {
      if (text.charCodeAt(close + 1) !== 0x3a /* : */) return false;
      into.port = parseDecimal(text, close + 2, end, 65535);
      if (into.port < 0) return false;
    }
    if (!parseIPv6(text, 1, close, into.words)) return false;
    setVersion6(into, prefix);
    return into.prefix >= 0;
  }
  const firstColon = text.indexOf(':');
  if (firstColon < 0 || firstColon >= end) {
    const v4 = parseIPv4(text, 0, end);
    if (v4 < 0 || prefix > 32) return false;
    into.version = 4;
    into.words[0] = v4;
    into.prefix = prefix < 0 ? 32 : prefix;
    if (prefix < 0) into.plainText = text;
    return true;
  }
  if (text.indexOf(':', firstColon + 1) < 0) {
    // One colon: IPv4 with a port.
    if (prefix >= 0) return false;
    const v4 = parseIPv4(text, 0, firstColon);
    const port = parseDecimal(text, firstColon + 1, end, 65535);
    if (v4 < 0 || port < 0) return false;
    into.version = 4;
    into.words[0] = v4;
    into.port = port;
    into.prefix = 32;
    return true;
  }
  if (!parseIPv6(text, 0, end, into.words)) return false;
  setVersion6(into, prefix);
  return into.prefix >= 0;
}

/** Records a parsed IPv6 address, turning IPv4-mapped ones into IPv4; sets prefix -1 when it does not fit. */
function setVersion6(into: IpAddress, prefix: number): void {
  const w = into.words;
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff && (prefix < 0 || prefix >= 96)) {
    into.version = 4;
    w[0] = w[3]!;
    into.prefix = prefix < 0 ? 32 : prefix - 96;
    return;
  }
  into.version = 6;
  into.prefix = prefix < 0 ? 128 : prefix;
}

/** A decimal number within [0, max] spelled by text[start, end), or -1. */
function parseDecimal(text: string, start: number, end: number, max: number): number {
  if (end <= start || end - start > 5) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value <= max ? value : -1;
}

/** Dotted-quad text[start, end) as an unsigned 32-bit number, or -1. */
export function parseIPv4(text: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else {
      const digit = code - 0x30;
      if (digit < 0 || digit > 9 || ++digits > 3) return -1;
      part = part * 10 + digit;
      if (part > 255) return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

/** IPv6 text[start, end) into words[0..3]; false when it is not an IPv6 address. */
function parseIPv6(text: string, start: number, end: number, words: Uint32Array): boolean {
  const groups = new Array<number>();
  let gap = -1;
  let i = start;
  if (text.startsWith('::', i)) {
    gap = 0;
    i += 2;
    if (i === end) return fillWords(groups, gap, words);
  }
  while (i < end) {
    let next = text.indexOf(':', i);
    if (next < 0 || next > end) next = end;
    if (next === end && text.lastIndexOf('.', end - 1) >= i) {
      // Embedded IPv4 in the last 32 bits.
      const v4 = parseIPv4(text, i, end);
      if (v4 < 0) return false;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = end;
      break;
    }
    const length = next - i;
    if (length < 1 || length > 4) return false;
    let group = 0;
    for (let j = i; j < next; j++) {
      const digit = hexDigit(text.charCodeAt(j));
      if (digit < 0) return false;
      group = group * 16 + digit;
    }
    groups.push(group);
    if (next === end) {
      i = end;
      break;
    }
    if (text.charCodeAt(next + 1) === 0x3a /* : */) {
      if (gap >= 0) return false;
      gap = groups.length;
      i = next + 2;
    } else {
      i = next + 1;
      if (i === end) return false; // trailing single colon
    }
  }
  return fillWords(groups, gap, words);
}

function fillWords(groups: number[], gap: number, words: Uint32Array): boolean {
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const full = new Array<number>(8).fill(0);
  if (gap < 0) for (let g = 0; g < 8; g++) full[g] = groups[g]!;
  else {
    for (let g = 0; g < gap; g++) full[g] = groups[g]!;
    const tail = groups.length - gap;
    for (let g = 0; g < tail; g++) full[8 - tail + g] = groups[gap + g]!;
  }
  for (let w = 0; w < 4; w++) words[w] = (full[2 * w]! * 65536 + full[2 * w + 1]!) >>> 0;
  return true;
}

export function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The length of formatIPv4(value). */
function dottedLength(value: number): number {
  const digits = (part: number): number => (part < 10 ? 1 : part < 100 ? 2 : 3);
  return 3 + digits(value >>> 24) + digits((value >>> 16) & 255) + digits((value >>> 8) & 255) + digits(value & 255);
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(words: ArrayLike<number>): string {
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) groups.push(words[w]! >>> 16, words[w]! & 0xffff);
  let bestStart = -1;
  let bestLength = 1;
  for (let g = 0; g < 8; ) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let run = g;
    while (run < 8 && groups[run] === 0) run++;
    if (run - g > bestLength) {
      bestStart = g;
      bestLength = run - g;
    }
    g = run;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Canonical text of an address with optional prefix (omitted for a single address) and port. */
export function formatIp(version: 4 | 6, words: ArrayLike<number>, prefix: number, port: number): string {
  const address = version === 4 ? formatIPv4(words[0]!) : formatIPv6(words);
  const full = version === 4 ? 32 : 128;
  if (port >= 0) return version === 4 ? `${address}:${port}` : `[${address}]:${port}`;
  return prefix < full ? `${address}/${prefix}` : address;
}
