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

/**
 * host with optional ":digits" · path starting with '/' · optional "?query" (printable ASCII but '#'), after the
 * scheme. Host characters are all allowed by Go's host parser; path characters are all either left alone by
 * Go's path escaper or accepted by its validEncoded; there is no '%' before the query.
 */
const COMMON_SHAPE = /^([A-Za-z0-9._~*-]*(?::[0-9]*)?)((?:\/[A-Za-z0-9._~*!$&'()+,;=:@/-]*)?)(?:\?([\x20-\x22\x24-\x7e]*))?$/;

/** The ParsedUrl of a common-shape URL, or undefined when `raw` is not of that shape. */
export function parseCommonShape(raw: string): ParsedUrl | undefined {
  // The reference's scheme step: "http(s)://" + the rest without leading '/'; with no scheme written, "http://"
  // + the input without leading '/', unless the text before the first ':' is a listed scheme.
  let scheme: string;
  let bodyStart: number;
  if (raw.startsWith('http://')) {
    scheme = 'http://';
    bodyStart = 7;
  } else if (raw.startsWith('https://')) {
    scheme = 'https://';
    bodyStart = 8;
  } else {
    const colon = raw.indexOf(':');
    const candidate = colon < 0 ? raw : raw.slice(0, colon);
    // Listed names are ASCII; a non-ASCII or otherwise odd candidate fails the shape test below anyway.
    if (candidate.length <= LONGEST_SCHEME && IANA_SCHEMES.has(candidate.toLowerCase())) return undefined;
    scheme = 'http://';
    bodyStart = 0;
  }
  let trimmed = bodyStart;
  while (trimmed < raw.length && raw.charCodeAt(trimmed) === 0x2f) trimmed++;
  const body = raw.slice(trimmed);
  const m = COMMON_SHAPE.exec(body);
  if (m === null) return undefined;
  const path = m[2]!;
  const query = m[3];
  return {
    prepared: bodyStart > 0 && trimmed === bodyStart ? raw : scheme + body,
    host: m[1]!,
    escapedPath: path,
    path,
    // Go: a '?' that is the last character and the only one sets ForceQuery; otherwise it splits at the first '?'.
    rawQuery: query ?? '',
    forceQuery: query === '',
    hasFragment: false,
    hasScheme: true,
  };
}
