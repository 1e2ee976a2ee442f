/**
 * Fast parse for the common shape of URLs in events and feeds: printable ASCII `http://` or `https://` (or no
 * scheme), a plain host with an optional numeric port, a path without escapes, an optional query, no fragment.
 *
 * For such input Go's url.Parse cannot fail and leaves everything as written: no %-escape outside the query
 * (so no retry, no decoding), host characters all allowed, EscapedPath equal to the path as written (every
 * path character here is either left alone by Go's path escaper or accepted by its validEncoded). So the
 * ParsedUrl built here equals parseLikeReference's; the tests check that on every vector. Anything else returns
 * undefined and goes through the full emulation.
 */
import { IANA_SCHEMES, LONGEST_SCHEME } from './iana-schemes.js';
import type { ParsedUrl } from './url.js';

const HOST = 1;
const PATH = 2;
const QUERY = 4;

/** Character classes by ASCII code: which part of a common-shape URL may contain the character. */
const classes: Uint8Array = (() => {
  const t = new Uint8Array(128);
  const mark = (chars: string, bits: number): void => {
    for (const ch of chars) t[ch.charCodeAt(0)]! |= bits;
  };
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  mark(alnum + '.-_~*', HOST | PATH);
  mark("!$&'()+,;=:@/", PATH);
  // The query is not validated by url.Parse and is decoded by the shared step; only '#' (fragment) is excluded.
  for (let c = 0x20; c < 0x7f; c++) if (c !== 0x23) t[c]! |= QUERY;
  return t;
})();

function is(c: number, cls: number): boolean {
  return c < 0x80 && (classes[c]! & cls) !== 0;
}

/** The ParsedUrl of a common-shape URL, or undefined when `raw` is not of that shape. */
export function parseCommonShape(raw: string): ParsedUrl | undefined {
  let i: number;
  let prepared: string;
  if (raw.startsWith('http://')) i = 7;
  else if (raw.startsWith('https://')) i = 8;
  else i = 0;
  const n = raw.length;
  if (i > 0) {
    if (raw.charCodeAt(i) === 0x2f) return undefined; // more slashes: the scheme step would trim them
    prepared = raw;
  } else {
    // Empty input and leading '/' (which the scheme step trims) are left to the full path.
    if (n === 0 || raw.charCodeAt(0) === 0x2f) return undefined;
    prepared = ''; // decided once the text is known to be ASCII (below)
  }
  const hostStart = i;
  while (i < n && is(raw.charCodeAt(i), HOST)) i++;
  if (i < n && raw.charCodeAt(i) === 0x3a) {
    i++;
    while (i < n && raw.charCodeAt(i) >= 0x30 && raw.charCodeAt(i) <= 0x39) i++;
  }
  const hostEnd = i;
  if (i < n && raw.charCodeAt(i) !== 0x2f && raw.charCodeAt(i) !== 0x3f) return undefined;
  const pathStart = i;
  while (i < n && is(raw.charCodeAt(i), PATH)) i++;
  const pathEnd = i;
  let rawQuery = '';
  let forceQuery = false;
  if (i < n) {
    if (raw.charCodeAt(i) !== 0x3f) return undefined;
    const queryStart = i + 1;
    for (i = queryStart; i < n; i++) if (!is(raw.charCodeAt(i), QUERY)) return undefined;
    // Go: a '?' that is the last character and the only one sets ForceQuery; otherwise it splits at the first '?'.
    if (queryStart === n) forceQuery = true;
    else rawQuery = raw.slice(queryStart);
  }
  if (prepared === '') {
    // No scheme written: the reference adds http:// unless the text before the first ':' is a listed scheme.
    const colon = raw.indexOf(':');
    const candidate = colon < 0 ? raw : raw.slice(0, colon);
    if (candidate.length <= LONGEST_SCHEME && IANA_SCHEMES.has(candidate.toLowerCase())) return undefined;
    prepared = 'http://' + raw;
  }
  const path = raw.slice(pathStart, pathEnd);
  return {
    prepared,
    host: raw.slice(hostStart, hostEnd),
    escapedPath: path,
    path,
    rawQuery,
    forceQuery,
    hasFragment: false,
    hasScheme: true,
  };
}
