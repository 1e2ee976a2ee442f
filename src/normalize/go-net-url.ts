/**
 * The parts of Go's `net/url` (as of Go 1.22) that Kaspersky's reference normalizer depends on: `url.Parse`,
 * `URL.EscapedPath`, `PathUnescape` and `QueryUnescape`. Re-stated from the Go documentation and behaviour, on
 * byte strings (see go-text.ts), quirks included: which characters each component accepts, the %-escape rules
 * of hosts and IPv6 zones, how the query and a trailing `?` are split off, and when the escaped path is the
 * text as written versus a re-escaping of the decoded path.
 *
 * Go 1.25+ rejects some bracketed hosts that Go 1.22 accepts (`http://[foo]/`, `a[b`); this module follows
 * Go 1.22, the version the reference declares (docs/url-normalization.md lists the difference).
 */

/** Escaping modes of Go's net/url (only those the normalizer needs). */
const enum Mode {
  Path,
  PathSegment,
  Host,
  Zone,
  UserPassword,
  QueryComponent,
  Fragment,
}

/** A parse failure. `escape` marks Go's EscapeError ("invalid URL escape …"), which the reference retries. */
export class GoUrlError {
  constructor(
    readonly reason: string,
    readonly escape: boolean,
  ) {}
}

/** The fields of Go's url.URL that the normalizer reads. All strings are byte strings. */
export interface GoUrl {
  scheme: string;
  opaque: string;
  host: string;
  /** Decoded path. */
  path: string;
  /** The path as written, kept only when it differs from Go's default re-escaping of `path`. */
  rawPath: string;
  rawQuery: string;
  forceQuery: boolean;
  fragment: string;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Go's shouldEscape(c, mode) for one byte. */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === Mode.Host || mode === Mode.Zone) && `!$&'()*+,;=:[]<>"`.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case Mode.Path:
        return ch === '?';
      case Mode.PathSegment:
        return '/;,?'.includes(ch);
      case Mode.UserPassword:
        return '@/?:'.includes(ch);
      case Mode.QueryComponent:
        return true;
      case Mode.Fragment:
        return false;
      default:
        break;
    }
  }
  if (mode === Mode.Fragment && '!()*'.includes(ch)) return false;
  return true;
}

/** shouldEscape tables: bit `mode` of entry `c` is set when byte c must be escaped in that mode. */
const escapeTable: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    for (let m = Mode.Path; m <= Mode.Fragment; m++) if (shouldEscape(c, m)) t[c]! |= 1 << m;
  }
  return t;
})();

function mustEscape(c: number, mode: Mode): boolean {
  return (escapeTable[c]! & (1 << mode)) !== 0;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const UPPER_HEX = '0123456789ABCDEF';

/** Go's unescape(s, mode): validates every %XX (and, for hosts, which bytes may appear), then decodes. */
function unescape(s: string, mode: Mode): string | GoUrlError {
  let percents = 0;
  let plus = false;
  if (mode !== Mode.Host && mode !== Mode.Zone) {
    // Only '%' and '+' matter outside hosts: jump between them.
    for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 3)) {
      percents++;
      if (i + 2 >= s.length || hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) {
        return new GoUrlError('invalid URL escape', true);
      }
    }
    plus = mode === Mode.QueryComponent && s.includes('+');
  } else {
    for (let i = 0; i < s.length; ) {
      const c = s.charCodeAt(i);
      if (c === 0x25) {
        percents++;
        if (i + 2 >= s.length || hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) {
          return new GoUrlError('invalid URL escape', true);
        }
        // RFC 3986 lets hosts %-encode only non-ASCII bytes (and %25 for IPv6 zones).
        if (mode === Mode.Host && hexValue(s.charCodeAt(i + 1)) < 8 && s.slice(i, i + 3) !== '%25') {
          return new GoUrlError('invalid URL escape', true);
        }
        if (mode === Mode.Zone) {
          const v = hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2));
          if (s.slice(i, i + 3) !== '%25' && v !== 0x20 && mustEscape(v, Mode.Host)) {
            return new GoUrlError('invalid URL escape', true);
          }
        }
        i += 3;
      } else {
        if (c !== 0x2b && c < 0x80 && mustEscape(c, mode)) return new GoUrlError('invalid character in host name', false);
        i++;
      }
    }
  }
  if (percents === 0 && !plus) return s;
  // Validated above: every '%' starts an escape. '+' is replaced first, so a decoded %2B stays '+'. Native
  // replaceAll and split do the scanning.
  const text = plus ? s.replaceAll('+', ' ') : s;
  if (percents === 0) return text;
  const parts = text.split('%');
  let out = parts[0]!;
  for (let k = 1; k < parts.length; k++) {
    const part = parts[k]!;
    out += String.fromCharCode(hexValue(part.charCodeAt(0)) * 16 + hexValue(part.charCodeAt(1))) + part.slice(2);
  }
  return out;
}

/** Go's escape(s, encodePath). */
function escapePath(s: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (mustEscape(c, Mode.Path)) {
      out += s.slice(from, i) + '%' + UPPER_HEX[c >> 4]! + UPPER_HEX[c & 15]!;
      from = i + 1;
    }
  }
  return from === 0 ? s : out + s.slice(from);
}

/** Go's validEncoded(s, encodePath): no byte that the path encoder would escape, except sub-delims, [ ] and %. */
function validEncodedPath(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (`!$&'()*+,;=:@[]%`.includes(s[i]!)) continue;
    if (mustEscape(c, Mode.Path)) return false;
  }
  return true;
}

/** Go's url.PathUnescape. */
export function pathUnescape(s: string): string | GoUrlError {
  return s.indexOf('%') < 0 ? s : unescape(s, Mode.PathSegment);
}

/** Go's url.QueryUnescape (`+` becomes a space). */
export function queryUnescape(s: string): string | GoUrlError {
  return unescape(s, Mode.QueryComponent);
}

/** Go's URL.EscapedPath: the path as written when that is a valid encoding of it, else a re-escaping. */
export function escapedPath(u: GoUrl): string {
  if (u.rawPath !== '' && validEncodedPath(u.rawPath)) {
    const p = unescape(u.rawPath, Mode.Path);
    if (p === u.path) return u.rawPath;
  }
  if (u.path === '*') return '*';
  return escapePath(u.path);
}

const CONTROL_BYTE = /[\x00-\x1f\x7f]/;

function hasControlByte(s: string): boolean {
  return CONTROL_BYTE.test(s);
}

/** Go's getScheme: [a-zA-Z][a-zA-Z0-9+.-]* before a ':'; anything else means "no scheme". */
function getScheme(raw: string): { scheme: string; rest: string } | GoUrlError {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) return new GoUrlError('missing protocol scheme', false);
      return { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

/** Go's validOptionalPort: empty, or ':' followed by digits only. */
function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port.charCodeAt(0) !== 0x3a) return false;
  for (let i = 1; i < port.length; i++) {
    const c = port.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Go 1.22's parseHost: host[:port], a bracketed IP literal with an optional %25 zone, %-escapes decoded. */
function parseHost(host: string): string | GoUrlError {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) return new GoUrlError("missing ']' in host", false);
    if (!validOptionalPort(host.slice(close + 1))) return new GoUrlError('invalid port after host', false);
    const zone = host.slice(0, close).indexOf('%25');
    if (zone >= 0) {
      const before = unescape(host.slice(0, zone), Mode.Host);
      if (before instanceof GoUrlError) return before;
      const zonePart = unescape(host.slice(zone, close), Mode.Zone);
      if (zonePart instanceof GoUrlError) return zonePart;
      const after = unescape(host.slice(close), Mode.Host);
      if (after instanceof GoUrlError) return after;
      return before + zonePart + after;
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !validOptionalPort(host.slice(colon))) return new GoUrlError('invalid port after host', false);
  }
  return unescape(host, Mode.Host);
}

/** Go's validUserinfo (RFC 3986 §3.2.1 characters, plus '%' and '@'; any non-ASCII byte is invalid). */
function validUserinfo(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isAlnum(c)) continue;
    if (!`-._:~!$&'()*+,;=%@`.includes(s[i]!)) return false;
  }
  return true;
}

/** Go's parseAuthority, keeping only the host (the normalizer discards userinfo, but its errors still count). */
function parseAuthority(authority: string): string | GoUrlError {
  const at = authority.lastIndexOf('@');
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (host instanceof GoUrlError || at < 0) return host;
  const userinfo = authority.slice(0, at);
  if (!validUserinfo(userinfo)) return new GoUrlError('invalid userinfo', false);
  const colon = userinfo.indexOf(':');
  for (const part of colon < 0 ? [userinfo] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)]) {
    const decoded = unescape(part, Mode.UserPassword);
    if (decoded instanceof GoUrlError) return decoded;
  }
  return host;
}

/** Go's parse(rawURL, viaRequest=false) on the part before '#'. */
function parseWithoutFragment(raw: string): GoUrl | GoUrlError {
  if (hasControlByte(raw)) return new GoUrlError('invalid control character in URL', false);
  const u: GoUrl = { scheme: '', opaque: '', host: '', path: '', rawPath: '', rawQuery: '', forceQuery: false, fragment: '' };
  if (raw === '*') {
    u.path = '*';
    return u;
  }
  const sr = getScheme(raw);
  if (sr instanceof GoUrlError) return sr;
  u.scheme = sr.scheme.toLowerCase();
  let rest = sr.rest;
  const q = rest.indexOf('?');
  if (q === rest.length - 1 && q >= 0) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else if (q >= 0) {
    u.rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest;
      return u;
    }
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) {
      return new GoUrlError('first path segment in URL cannot contain colon', false);
    }
  }
  if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const host = parseAuthority(authority);
    if (host instanceof GoUrlError) return host;
    u.host = host;
  }
  const path = unescape(rest, Mode.Path);
  if (path instanceof GoUrlError) return path;
  u.path = path;
  u.rawPath = escapePath(path) === rest ? '' : rest;
  return u;
}

/** Go's url.Parse. `raw` is a byte string. */
export function goParseUrl(raw: string): GoUrl | GoUrlError {
  const hash = raw.indexOf('#');
  const u = parseWithoutFragment(hash < 0 ? raw : raw.slice(0, hash));
  if (u instanceof GoUrlError || hash < 0) return u;
  const fragment = unescape(raw.slice(hash + 1), Mode.Fragment);
  if (fragment instanceof GoUrlError) return fragment;
  u.fragment = fragment;
  return u;
}
