/**
 * Kaspersky URL normalization, byte-for-byte as Kaspersky's public reference implementation
 * (KasperskyLab/threat-intelligence, normalize_url/, Go 1.22 standard library), quirks included.
 * docs/url-normalization.md describes the rules, the quirks and how the test vectors were made.
 *
 * Output is `host[/path][?query]`: no scheme, userinfo, port or fragment; host, path and query lower-cased;
 * path and query percent-decoded once. Inputs the reference rejects give `{ ok: false, reason }`.
 */
import { escapedPath, goParseUrl, GoUrlError, pathUnescape, queryUnescape, type GoUrl } from './go-net-url.js';
import { collapseValid, fromByteString, goToLower, isAscii, toByteString } from './go-text.js';
import { IANA_SCHEMES, LONGEST_SCHEME } from './iana-schemes.js';
import { normalizeIPv4, normalizeIPv6 } from './ip.js';
import { parseCommonShape } from './url-fast-path.js';

export type UrlNormalization = { ok: true; url: string } | { ok: false; reason: string };

/** What the normalization steps read from a parsed URL (a subset of Go's url.URL, as byte strings). */
export interface ParsedUrl {
  /** The input after the reference's preparation (leading spaces trimmed, `scheme://` written out). */
  prepared: string;
  /** Host and port as url.Parse leaves them (percent-decoded). */
  host: string;
  /** URL.EscapedPath(). */
  escapedPath: string;
  /** Decoded path (URL.Path). */
  path: string;
  rawQuery: string;
  forceQuery: boolean;
  hasFragment: boolean;
  hasScheme: boolean;
}

/** Normalizes one URL (or URL mask) the way Kaspersky's reference does. */
export function normalizeUrl(raw: string): UrlNormalization {
  const common = parseCommonShape(raw);
  if (common !== undefined) {
    const url = normalizeAsWritten(common);
    return url !== undefined ? { ok: true, url } : normalizeParsed(common);
  }
  const parsed = parseLikeReference(raw);
  return parsed instanceof GoUrlError ? { ok: false, reason: parsed.reason } : normalizeParsed(parsed);
}

/**
 * normalizeParsed of a common-shape URL (parseCommonShape's: printable ASCII, no escape before the query) whose
 * path and query the steps change only in case and in the slashes around the path, once the query is decoded:
 * a path that path.Clean leaves alone (no `//`, `.` or `..` segment) and that does not end in `.`, a query that
 * decodes (decodeQuery) to ASCII without `//`, and a host that does not normalize to nothing (the host goes
 * through the general host step). Such URLs are most of what events carry, and this costs a fraction of the
 * general steps (one lower-casing per part, no scans for runs or non-ASCII text). Undefined for any other URL;
 * the tests check it against the general steps on every vector it applies to.
 */
export function normalizeAsWritten(u: ParsedUrl): string | undefined {
  const { path, rawQuery } = u;
  if (UNCLEAN_SEGMENTS.test(path) || path.endsWith('.')) return undefined;
  // Decoded ASCII needs neither the UTF-8 repairs of goToLower nor, without '//', collapsing. A common-shape
  // query is ASCII as written; %-escapes (cloud-storage links: 42 % of the engine benchmark's URLhaus entries)
  // may decode to any byte.
  const decoded = decodeQuery(rawQuery);
  if (decoded.includes('//') || (decoded !== rawQuery && !isAscii(decoded))) return undefined;
  // The general host step (a common-shape host is never IPv6 and never has a '/'): only an empty result differs.
  const name = normalizeHost(u.host);
  if (name === undefined || name === '') return undefined;
  // path.Clean drops a trailing '/', the reference a leading one.
  const rest = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  if (rest === '*') return undefined;
  let out = rest === '' ? name : `${name}/${rest.toLowerCase()}`;
  if ((rawQuery !== '' || u.prepared.endsWith('?')) && path.endsWith('/')) out += '/';
  const query = decoded.toLowerCase();
  if (query !== '') out += '?' + query;
  else if (u.forceQuery) out += '?';
  if (out.endsWith('/?') && query.length < 2) out = out.slice(0, -2);
  if (out.endsWith('/.')) out = out.slice(0, -2);
  return out;
}

/** normalizeUrl without the fast path: every input goes through the emulation of Go's url.Parse. */
export function normalizeUrlFull(raw: string): UrlNormalization {
  const parsed = parseLikeReference(raw);
  return parsed instanceof GoUrlError ? { ok: false, reason: parsed.reason } : normalizeParsed(parsed);
}

/**
 * The reference's scheme step: a listed scheme before the first ':' (lower-cased) is rewritten as `scheme://`
 * plus the rest without leading slashes; anything else gets `http://` in front of the input without leading
 * slashes.
 */
export function withScheme(raw: string): string {
  const colon = raw.indexOf(':');
  const candidate = colon < 0 ? raw : raw.slice(0, colon);
  // Lower-casing can shrink a non-ASCII candidate (the Kelvin sign is 3 bytes, its "k" one).
  if (candidate.length <= 3 * LONGEST_SCHEME) {
    const scheme = goToLower(candidate);
    if (IANA_SCHEMES.has(scheme)) return `${scheme}://${trimLeadingSlashes(colon < 0 ? '' : raw.slice(colon + 1))}`;
  }
  return `http://${trimLeadingSlashes(raw)}`;
}

function trimLeadingSlashes(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) === 0x2f) i++;
  return i === 0 ? s : s.slice(i);
}

/** Prepares and parses `raw` with the emulation of Go's url.Parse, retrying a bad %-escape as the reference does. */
export function parseLikeReference(raw: string): ParsedUrl | GoUrlError {
  let bytes = toByteString(raw);
  let start = 0;
  while (start < bytes.length && bytes.charCodeAt(start) === 0x20) start++;
  bytes = withScheme(bytes.slice(start));
  let u = goParseUrl(bytes);
  // The reference retries when the error text contains "invalid URL escape"; Go's message quotes the URL,
  // so a URL containing those words retries too (the retry then fails the same way).
  if (u instanceof GoUrlError && (u.escape || bytes.includes('invalid URL escape'))) {
    u = goParseUrl(bytes.replaceAll('%', '%25'));
  }
  if (u instanceof GoUrlError) return u;
  return fromGoUrl(bytes, u);
}

function fromGoUrl(prepared: string, u: GoUrl): ParsedUrl {
  return {
    prepared,
    host: u.host,
    escapedPath: escapedPath(u),
    path: u.path,
    rawQuery: u.rawQuery,
    forceQuery: u.forceQuery,
    hasFragment: u.fragment !== '',
    hasScheme: u.scheme !== '',
  };
}

/** The reference's steps after parsing: host, path, query, then assembling and the final clean-ups. */
export function normalizeParsed(u: ParsedUrl): UrlNormalization {
  const host = normalizeHost(u.host);
  if (host === undefined) return { ok: false, reason: 'invalid IPv6 host' };
  const path = normalizePath(u.escapedPath);
  if (path === undefined) return { ok: false, reason: 'invalid URL escape in path' };
  const query = normalizeQuery(u.rawQuery);

  let out = host;
  if (host !== '' && path !== '' && path.charCodeAt(0) !== 0x2f) out += '/';
  out += path;
  const wantsSlash =
    (u.rawQuery !== '' || u.prepared.endsWith('?')) && (u.path.endsWith('/') || u.path.endsWith('.'));
  if (wantsSlash && !path.endsWith('/')) out += '/';
  if (query !== '') out += '?' + query;
  else if (u.forceQuery) out += '?';

  // Every part is ASCII or valid UTF-8 by now (lower-casing replaced invalid bytes), so no U+FFFD step.
  let res = collapseValid(out, '/', false);
  // query.length is Go's byte length: query is a byte string here.
  if (res.endsWith('/?') && query.length < 2 && (u.hasFragment || u.hasScheme)) res = res.slice(0, -2);
  if (res.endsWith('/.')) res = res.slice(0, -2);
  return { ok: true, url: fromByteString(res) };
}

/**
 * Host: lower-cased; two or more ':' means IPv6 (canonical form, brackets kept; undefined if it does not parse);
 * otherwise the port is dropped, dot runs collapsed, one leading '.' and one leading "www." removed, and an
 * inet_aton-style IPv4 rewritten in dotted decimal.
 */
export function normalizeHost(raw: string): string | undefined {
  if (raw === '') return '';
  const lower = goToLower(raw); // valid UTF-8 from here on
  const firstColon = lower.indexOf(':');
  if (firstColon >= 0 && lower.indexOf(':', firstColon + 1) >= 0) return normalizeIPv6(raw);
  let host = collapseValid(firstColon < 0 ? lower : lower.slice(0, firstColon), '.', true);
  if (host.startsWith('.')) host = host.slice(1);
  if (host.startsWith('www.')) host = host.slice(4);
  return normalizeIPv4(host) ?? host;
}

/**
 * Path (escaped form): dot segments cleaned lexically, leading '/' dropped, '/' runs collapsed, then each
 * segment percent-decoded and lower-cased; exactly "*" becomes empty. undefined on a bad escape.
 */
export function normalizePath(raw: string): string | undefined {
  if (raw === '') return '';
  let p = cleanPath(raw);
  if (p.startsWith('/')) p = p.slice(1);
  if (p.includes('\\')) p = p.replaceAll('\\', '/');
  // The escaped path is ASCII unless Go kept a RawPath with raw non-ASCII bytes (it never does: such a path
  // is re-escaped), so no U+FFFD step is needed before collapsing.
  p = collapseValid(p, '/', true);
  if (p.includes('%')) {
    const segments = p.split('/');
    for (let i = 0; i < segments.length; i++) {
      const decoded = pathUnescape(segments[i]!);
      if (decoded instanceof GoUrlError) return undefined;
      segments[i] = goToLower(decoded);
    }
    p = segments.join('/');
  } else {
    // Without escapes, decoding is the identity and lower-casing (per code point) commutes with the split.
    p = goToLower(p);
  }
  return p === '*' ? '' : p;
}

/** Query: decoded (decodeQuery), '/' runs collapsed, lower-cased. */
export function normalizeQuery(raw: string): string {
  if (raw === '') return '';
  // Lower-casing first is equivalent (no code point lower-cases to or from '/') and leaves valid UTF-8.
  return collapseValid(goToLower(decodeQuery(raw)), '/', false);
}

/** The query's decoding step: '+' protected as %2B, %00 removed, decoded once when that succeeds (a byte string). */
function decodeQuery(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  const q = raw.replaceAll('+', '%2B').replaceAll('%00', '');
  const decoded = queryUnescape(q);
  return decoded instanceof GoUrlError ? q : decoded;
}

/** Go's path.Clean (filepath.Clean on Unix): lexical removal of '.', '..' and repeated '/'. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.charCodeAt(0) === 0x2f;
  // Most paths are clean, or only end in '/' (a directory), which Clean drops: no split and join for those.
  if (!UNCLEAN_SEGMENTS.test(p)) return p.length > 1 && p.charCodeAt(p.length - 1) === 0x2f ? p.slice(0, -1) : p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/** Something path.Clean would change besides a trailing '/': an empty, "." or ".." segment. */
const UNCLEAN_SEGMENTS = /\/\/|\/\.\.?(?:\/|$)|^\.\.?(?:\/|$)/;
