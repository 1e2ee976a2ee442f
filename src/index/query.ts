/**
 * A query value parsed once per lookup (URL normalized, IP and hash decoded), then matched against every feed.
 */
import type { QueryType } from '../types.js';
import { toByteString } from '../normalize/go-text.js';
import { normalizeDomain } from './domain.js';
import { type HashType, HEX_LENGTH, hashTypeOfLength, parseHex } from './hash.js';
import { IpAddress, parseIpQuery } from './ip-address.js';
import { hostEnd } from './mask.js';
import { HostSuffixes, hashText } from './string-table.js';
import { normalizeUrlSafely } from './url.js';
import { hashWords } from './word-table.js';

/** A hash not computed yet (`hashText` gives -1 or an unsigned 32-bit value). */
const UNSET = -2;

/** What a parsed query is looked up as. */
export type QueryKind = 'url' | 'domain' | 'ip' | 'hash';

export class ParsedQuery {
  kind: QueryKind | 'none' = 'none';
  /** url: the normalized URL; domain: the normalized name; hash: the hex digits as given. */
  text = '';
  /**
   * Table hashes of what feeds probe, computed at most once a query. `host`: the host and its parent suffixes
   * (domain: the name), always. The whole URL's hash and the rest's are computed on first use: most feeds
   * rule a URL out by its host, and hashing a long URL costs more than the probes.
   */
  readonly host = new HostSuffixes();
  private wholeHash = UNSET;
  private restHash = UNSET;

  /** `hashText` of the whole `text`. */
  textHash(): number {
    if (this.wholeHash === UNSET) this.wholeHash = hashText(this.text, 0, this.text.length);
    return this.wholeHash;
  }

  /** `hashText` of what follows the host in `text` (url: path and query; domain: the empty rest). */
  pathHash(): number {
    if (this.restHash === UNSET) this.restHash = hashText(this.text, this.host.end, this.text.length);
    return this.restHash;
  }

  /** Forgets the hashes and byte text of the previous value. */
  forgetPrevious(): void {
    this.wholeHash = UNSET;
    this.restHash = UNSET;
    this.hasByteText = false;
  }

  /**
   * `text` as a byte string (a character per UTF-8 byte, how mask tables hold their masks; ASCII text is itself)
   * and where its host ends there. Made by `toBytes` on first use: most queries test no mask.
   */
  byteText = '';
  byteHostEnd = 0;
  private hasByteText = false;

  toBytes(): void {
    if (this.hasByteText) return;
    this.byteText = toByteString(this.text);
    this.byteHostEnd = this.byteText === this.text ? this.host.end : Buffer.byteLength(this.text.slice(0, this.host.end), 'utf8');
    this.hasByteText = true;
  }

  /** url: the host is an IP address (then `ip` holds it). */
  hostIsIp = false;
  readonly ip = new IpAddress();
  hashType: HashType = 'md5';
  readonly hashWords = new Uint32Array(8);
  /** hash: `hashWords` hashed for the word tables. */
  hashKey = 0;
}

/** The kind a query of `type` is looked up as once parsed (`parseQuery`), known before parsing; undefined for no type. */
export function queryKindOf(type: string): QueryKind | undefined {
  switch (type) {
    case 'ip':
    case 'url':
    case 'domain':
      return type;
    case 'hash':
    case 'md5':
    case 'sha1':
    case 'sha256':
      return 'hash';
    default:
      return undefined;
  }
}

/** Fills `into` from a query; `kind` is 'none' when the value cannot be of that type. */
export function parseQuery(type: QueryType, value: string, into: ParsedQuery): ParsedQuery {
  into.kind = 'none';
  if (typeof value !== 'string') return into;
  switch (type) {
    case 'url': {
      const normalized = normalizeUrlSafely(value);
      if (!normalized.ok || normalized.url.length === 0) return into;
      into.text = normalized.url;
      const end = hostEnd(normalized.url);
      into.hostIsIp = startsLikeIp(normalized.url) && parseIpQuery(normalized.url.slice(0, end), into.ip);
      into.host.set(into.text, 0, end);
      into.forgetPrevious();
      into.kind = 'url';
      return into;
    }
    case 'domain': {
      const domain = normalizeDomain(value);
      if (domain === undefined) return into;
      into.text = domain;
      into.host.set(domain, 0, domain.length);
      into.forgetPrevious();
      into.kind = 'domain';
      return into;
    }
    case 'ip':
      if (parseIpQuery(value.trim(), into.ip)) into.kind = 'ip';
      return into;
    case 'hash':
    case 'md5':
    case 'sha1':
    case 'sha256': {
      const text = value.trim();
      const hashType = type === 'hash' ? hashTypeOfLength(text.length) : type;
      if (hashType !== undefined && parseHex(text, HEX_LENGTH[hashType], into.hashWords)) {
        into.text = text;
        into.hashType = hashType;
        into.hashKey = hashWords(into.hashWords, 0, HEX_LENGTH[hashType] / 8);
        into.kind = 'hash';
      }
      return into;
    }
    default:
      // A type from untyped input (a configuration, a request) that is none of the above.
      return into;
  }
}

function startsLikeIp(text: string): boolean {
  const first = text.charCodeAt(0);
  return first === 0x5b /* [ */ || (first >= 0x30 && first <= 0x39);
}

const HEX = /^[0-9a-f]+$/i;
const URL_SHAPE = /^[a-z][a-z0-9+.-]*:|[/?#@\\]/i;

/**
 * The query type a value looks like: an IP (with optional port), a 32/40/64-digit hex hash, a URL (has a
 * scheme, a path or a query), otherwise a domain. Undefined for empty or blank values.
 */
export function detectQueryType(value: string): QueryType | undefined {
  const text = value.trim();
  if (text.length === 0 || /\s/.test(text)) return undefined;
  if (parseIpQuery(text, new IpAddress())) return 'ip';
  if (hashTypeOfLength(text.length) !== undefined && HEX.test(text)) return 'hash';
  if (URL_SHAPE.test(text)) return 'url';
  return 'domain';
}
