/**
 * The naive baseline the engine is measured against: one plain Map from `type:value` strings to the loader's
 * record objects, masks tested one by one as regular expressions, CIDRs tried as one `net/len` string per
 * prefix length. Same matching rules as the engine, none of its storage or indexing.
 */
import { normalizeUrl } from '../normalize/url.js';
import type { FeedRecord, Match, QueryType } from '../types.js';

/** The feed a record came from; filled in once the feed has loaded. */
export interface NaiveFeed {
  name: string;
  domainSuffix: boolean;
}

interface Entry {
  record: FeedRecord;
  feed: NaiveFeed;
}

const HASH_TYPES: Record<number, QueryType> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

function ipv4Number(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export class NaiveMatcher {
  private readonly map = new Map<string, Entry[]>();
  private readonly masks: Array<{ pattern: RegExp; entry: Entry }> = [];
  private readonly prefixLengths = new Set<number>();

  add(record: FeedRecord, feed: NaiveFeed): void {
    const entry = { record, feed };
    const value = record.indicator.trim();
    let key: string;
    switch (record.type) {
      case 'url': {
        const normalized = normalizeUrl(value.replaceAll('*', 'ftstar0q7z'));
        if (!normalized.ok) return;
        const url = normalized.url.replaceAll('ftstar0q7z', '*');
        if (url.includes('*')) {
          const source = url.split('*').map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
          this.masks.push({ pattern: new RegExp(`^${source}$`), entry });
          return;
        }
        key = `url:${url}`;
        break;
      }
      case 'domain':
        key = `domain:${value.toLowerCase().replace(/\.$/, '')}`;
        break;
      case 'ip': {
        const cidr = /^([\d.]+)\/(\d+)$/.exec(value);
        if (cidr) {
          const length = Number(cidr[2]);
          const size = 2 ** (32 - length);
          key = `ip:${ipv4Text(Math.floor(ipv4Number(cidr[1]!) / size) * size)}/${length}`;
          this.prefixLengths.add(length);
        } else key = `ip:${value.toLowerCase()}`;
        break;
      }
      default:
        key = `hash:${value.toLowerCase()}`;
    }
    const list = this.map.get(key);
    if (list) list.push(entry);
    else this.map.set(key, [entry]);
  }

  match(type: QueryType, value: string): Match[] {
    const out: Match[] = [];
    switch (type) {
      case 'url': {
        const normalized = normalizeUrl(value);
        if (!normalized.ok) return out;
        const url = normalized.url;
        const host = url.split(/[/?]/)[0]!;
        this.get(`url:${url}`, out);
        if (host !== url) this.get(`url:${host}`, out);
        for (const { pattern, entry } of this.masks) if (pattern.test(url)) out.push(toMatch(entry));
        if (/^[\d.]+$/.test(host)) this.matchIp(host, out);
        else this.matchDomain(host, out);
        return out;
      }
      case 'domain':
        this.matchDomain(value.toLowerCase().replace(/\.$/, ''), out);
        return out;
      case 'ip':
        this.matchIp(value, out);
        return out;
      default:
        if (type !== 'hash' && HASH_TYPES[value.length] !== type) return out;
        this.get(`hash:${value.toLowerCase()}`, out);
        return out;
    }
  }

  private matchDomain(domain: string, out: Match[]): void {
    const labels = domain.split('.');
    this.get(`domain:${domain}`, out);
    for (let i = 1; i < labels.length; i++) this.get(`domain:${labels.slice(i).join('.')}`, out, true);
  }

  private matchIp(value: string, out: Match[]): void {
    const colon = value.indexOf(':');
    const ip = colon < 0 ? value : value.slice(0, colon);
    this.get(`ip:${ip}`, out);
    if (colon >= 0) this.get(`ip:${value}`, out);
    const n = ipv4Number(ip);
    for (const length of this.prefixLengths) {
      const size = 2 ** (32 - length);
      this.get(`ip:${ipv4Text(Math.floor(n / size) * size)}/${length}`, out);
    }
  }

  private get(key: string, out: Match[], suffixOnly = false): void {
    for (const entry of this.map.get(key) ?? []) if (!suffixOnly || entry.feed.domainSuffix) out.push(toMatch(entry));
  }
}

function toMatch({ record, feed }: Entry): Match {
  return { type: record.type, category: record.category, matchedIndicator: record.indicator, feed: feed.name, context: record.context };
}
