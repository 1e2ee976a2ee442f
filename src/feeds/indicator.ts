/**
 * Checks that a value is a plausible indicator of its type before it reaches the index.
 * Only shape is checked here; normalization (URL rules, hash case, CIDR masking) belongs to the index.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { IndicatorType } from '../types.js';

const HASH_LENGTH = { md5: 32, sha1: 40, sha256: 64 } as const;
export type HashType = keyof typeof HASH_LENGTH;

/** The hash type a hex string's length says it is, or undefined. */
export function hashTypeOf(value: string): HashType | undefined {
  if (!/^[0-9a-fA-F]+$/.test(value)) return undefined;
  for (const [type, length] of Object.entries(HASH_LENGTH)) if (value.length === length) return type as HashType;
  return undefined;
}

/** Dotted-quad IPv4 without leading zeros, checked by hand: most indicators are IPv4 and net.isIP is a big regex. */
function isDottedQuad(value: string): boolean {
  let parts = 0;
  let octet = -1;
  let digits = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 46; // a final '.' closes the last octet
    if (c === 46) {
      if (digits === 0 || octet > 255 || ++parts > 4) return false;
      octet = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return false; // leading zero: leave the odd forms to net.isIP
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** `1.2.3.4`, `::1`, `1.2.3.0/24`, `2001:db8::/32`, `1.2.3.4:80`, `[2001:db8::1]:443`. */
export function ipProblem(value: string): string | undefined {
  if (isDottedQuad(value) || isIP(value)) return undefined;
  const slash = value.indexOf('/');
  if (slash !== -1) {
    const address = value.slice(0, slash);
    const prefix = value.slice(slash + 1);
    const bits = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
    if (bits === 0) return 'bad CIDR address';
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return 'bad CIDR prefix length';
    return undefined;
  }
  const withPort = /^(?:\[([^\]]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(value);
  if (withPort) {
    const [, v6, v4, port] = withPort;
    if (v6 !== undefined ? !isIPv6(v6) : !isIPv4(v4!)) return 'bad IP address before the port';
    if (Number(port) > 65535) return 'port out of range';
    return undefined;
  }
  return 'not an IP address, CIDR or ip:port';
}

/** Writes an address and port the way `ip` indicators carry them (`[v6]:port` for IPv6). */
export function ipWithPort(address: string, port: string): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Host names as feeds write them: ASCII or IDN labels, `_` allowed (real feeds have it), no spaces or URL syntax. */
const DOMAIN = /^[^\s/\\:*?#@[\]]+$/u;

export function domainProblem(value: string): string | undefined {
  if (!DOMAIN.test(value)) return 'not a domain name';
  if (value.startsWith('.') || value.endsWith('.') || value.includes('..')) return 'empty label in domain name';
  if (value.length > 253) return 'domain name longer than 253 characters';
  return undefined;
}

/** A URL or URL mask that, once its scheme is dropped, is only `*` and `/` matches every URL: never index it. */
export function urlProblem(value: string): string | undefined {
  if (/\s/.test(value)) return 'URL contains white space';
  const withoutScheme = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (/^[*/]*$/.test(withoutScheme)) return 'mask matches every URL';
  return undefined;
}

/** Why `value` cannot be an indicator of `type`, or undefined when it can. */
export function indicatorProblem(type: IndicatorType, value: string): string | undefined {
  if (value.length === 0) return 'empty indicator';
  switch (type) {
    case 'url':
      return urlProblem(value);
    case 'domain':
      return domainProblem(value);
    case 'ip':
      return ipProblem(value);
    case 'md5':
    case 'sha1':
    case 'sha256':
      return hashTypeOf(value) === type ? undefined : `not a ${type.toUpperCase()} hex string`;
  }
}

/** A bare host from a list is an `ip` indicator when it is an address (with or without a port), a `domain` otherwise. */
export function hostType(host: string): 'ip' | 'domain' {
  return ipProblem(host) === undefined || isIP(host.replace(/^\[(.*)\]$/, '$1')) ? 'ip' : 'domain';
}
