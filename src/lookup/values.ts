/**
 * Input values → what goes on the wire: reformatted to the service's regex conventions and made safe.
 *
 * The wire form never contains whitespace or control characters (the service splits events on LF and its
 * key-anchored regexes stop at whitespace, so either would let a value forge another key or another event),
 * nor the `X-KF-` flag prefix in the case the service recognises.
 */
import { isIP } from 'node:net';

/** The lookup's input fields; `hash` is told apart by length. */
export const INPUT_FIELDS = ['url', 'domain', 'ip', 'md5', 'sha1', 'sha256', 'hash'] as const;
export type InputField = (typeof INPUT_FIELDS)[number];

/** What a prepared value is sent as (the pattern placeholder it fills). */
export type WireType = 'url' | 'domain' | 'ip' | 'md5' | 'sha1' | 'sha256';

export type Prepared = { ok: true; type: WireType; wire: string } | { ok: false; reason: string };

export function isInputField(name: string): name is InputField {
  return (INPUT_FIELDS as readonly string[]).includes(name);
}

const HASH_BY_LENGTH: Record<number, WireType> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };
const HASH_LENGTH: Record<string, number> = { md5: 32, sha1: 40, sha256: 64 };

// Characters that may not reach the wire as such: ASCII controls, space, DEL, C1 controls, and the Unicode
// line/paragraph separators and no-break/other spaces that some tools treat as line ends or word breaks.
const UNSAFE_CHAR = /[\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const FLAG_PREFIX = /x-kf-/gi;

/**
 * The service's flag tokens (`X-KF-ReplyBack`, ...) are case-sensitive; lower-casing their prefix keeps them off
 * the wire without changing what matches: hosts are case-insensitive and Kaspersky's URL normalization
 * lower-cases path and query too.
 */
function defuseFlags(s: string): string {
  return s.replace(FLAG_PREFIX, 'x-kf-');
}

/**
 * Longer values are refused: no indicator is that long, and a service that cuts or splits an over-long event
 * (CyberTrace's line limit is not published; ours is MaxEventSize) would break the one-answer-per-line pairing.
 */
export const MAX_VALUE_LENGTH = 8192;

export function prepareValue(field: InputField, raw: string): Prepared {
  const value = raw.trim();
  if (value === '') return { ok: false, reason: 'empty' };
  if (value.length > MAX_VALUE_LENGTH) return { ok: false, reason: `longer than ${MAX_VALUE_LENGTH} characters` };
  switch (field) {
    case 'url': return prepareUrl(value);
    case 'domain': return prepareDomain(value);
    case 'ip': return prepareIp(value);
    case 'hash': {
      const type = HASH_BY_LENGTH[value.length];
      if (!type || !/^[0-9a-fA-F]+$/.test(value)) return { ok: false, reason: 'not 32, 40 or 64 hex digits' };
      return { ok: true, type, wire: value.toUpperCase() };
    }
    default: {
      const len = HASH_LENGTH[field]!;
      if (value.length !== len || !/^[0-9a-fA-F]+$/.test(value)) return { ok: false, reason: `not ${len} hex digits` };
      // Kaspersky feeds and test indicators are upper-case hex; our service compares without case.
      return { ok: true, type: field, wire: value.toUpperCase() };
    }
  }
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Also `"`: the service's keyed URL regex ends a value there (it is never valid in a URL anyway). */
const URL_ENCODE = new RegExp(`${UNSAFE_CHAR.source.slice(0, -1)}"]`, 'g');

function prepareUrl(value: string): Prepared {
  // Percent-encoding is what a URL does with these bytes anyway; the service's normalization decodes it.
  const encoded = value.replace(URL_ENCODE, (ch) => encodeURIComponent(ch));
  // The service's default URL regex expects a protocol (CyberTrace's too).
  const url = SCHEME.test(encoded) ? encoded : encoded.startsWith('//') ? `http:${encoded}` : `http://${encoded}`;
  const rest = url.slice(url.indexOf('://') + 3);
  const authority = rest.split(/[/?#]/, 1)[0]!;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host === '' || host.startsWith(':')) return { ok: false, reason: 'URL without a host' };
  return { ok: true, type: 'url', wire: defuseFlags(url) };
}

function prepareDomain(value: string): Prepared {
  const domain = value.replace(/\.$/, '').toLowerCase();
  if (domain === '' || UNSAFE_CHAR.test(domain) || /[/:?#@\\"'<>=,;]/.test(domain) || domain.startsWith('.') || domain.includes('..')) {
    return { ok: false, reason: 'not a domain name' };
  }
  return { ok: true, type: 'domain', wire: defuseFlags(domain) };
}

const BRACKETED = /^\[([^\]]*)\](?::(\d+))?$/;
const V4_PORT = /^([^:]+):(\d+)$/;

function prepareIp(value: string): Prepared {
  let addr = value;
  // [v6]:port, [v6], v4:port (a bare v6 has several colons and no port). Most values are a bare v4 address: the
  // regexes run only when the value can match them.
  const bracketed = addr.charCodeAt(0) === 91 ? BRACKETED.exec(addr) : null;
  if (bracketed) {
    if (bracketed[2] !== undefined && !validPort(bracketed[2])) return { ok: false, reason: 'bad port' };
    addr = bracketed[1]!;
  } else if (addr.includes(':')) {
    const v4port = V4_PORT.exec(addr);
    if (v4port) {
      if (!validPort(v4port[2]!)) return { ok: false, reason: 'bad port' };
      addr = v4port[1]!;
    }
  }
  const version = isIP(addr);
  if (version === 0) return { ok: false, reason: 'not an IP address' };
  return { ok: true, type: 'ip', wire: version === 6 ? addr.toLowerCase() : addr };
}

function validPort(p: string): boolean {
  const n = Number(p);
  return p.length <= 5 && n >= 1 && n <= 65535;
}
