/**
 * Expected IPv4 detections computed here, independently of the product: feed files read with split/regex,
 * addresses taken from log text with one plain regex, exact addresses in Sets, `ip:port` trails as strings,
 * CIDR ranges as 32-bit integer intervals. Shared by the end-to-end and demo tests.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface IpRecord {
  feed: string;
  category: string;
  /** As the feed writes it: `1.2.3.4`, `1.2.3.4:80` or `1.2.3.0/24`. */
  indicator: string;
}

const toInt = (ip: string): number => ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
const isV4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((o) => Number(o) <= 255);

/** Data lines of a list file: comments (whole-line and inline ` #`) and blanks dropped, first word kept. */
export function listWords(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*/, '').trim().split(/[\s,]+/)[0]!)
    .filter((w) => w !== '');
}

export class IpFeeds {
  private exact = new Map<string, IpRecord[]>();
  private withPort = new Map<string, IpRecord[]>();
  private ranges: Array<{ start: number; end: number; record: IpRecord }> = [];

  /** IPv4 indicators of one feed (other indicator kinds are left out: the comparisons are IPv4 only). */
  add(feed: string, category: string, indicators: string[]): this {
    for (const indicator of indicators) {
      const record = { feed, category, indicator };
      const cidr = /^([\d.]+)\/(\d+)$/.exec(indicator);
      const port = /^([\d.]+):(\d+)$/.exec(indicator);
      if (cidr && isV4(cidr[1]!)) {
        const size = 2 ** (32 - Number(cidr[2]));
        const start = Math.floor(toInt(cidr[1]!) / size) * size;
        this.ranges.push({ start, end: start + size, record });
      } else if (port && isV4(port[1]!)) {
        this.push(this.withPort, indicator, record);
      } else if (isV4(indicator)) {
        this.push(this.exact, indicator, record);
      }
    }
    return this;
  }

  private push(map: Map<string, IpRecord[]>, key: string, record: IpRecord): void {
    const list = map.get(key) ?? [];
    // A feed lists an indicator once (duplicates are skipped on load).
    if (!list.some((r) => r.feed === record.feed && r.category === record.category)) list.push(record);
    map.set(key, list);
  }

  /**
   * Records matching a query value `ip` or `ip:port` (docs/matching.md): the plain address and the ranges
   * match either; an `ip:port` record only that same port.
   */
  match(value: string): IpRecord[] {
    const [ip, port] = value.split(':');
    const n = toInt(ip!);
    return [
      ...(this.exact.get(ip!) ?? []),
      ...(port === undefined ? [] : (this.withPort.get(value) ?? [])),
      ...this.ranges.filter((r) => n >= r.start && n < r.end).map((r) => r.record),
    ];
  }
}

/**
 * IPv4 values of an event as the default config defines RE_IP (docs/service-config.md): a dotted quad with an
 * optional `:port`, not inside a longer dotted or word run and not right after `/` (a URL's host). A value
 * repeated in one event is looked up once (docs/service-config.md).
 */
export function ipValues(event: string): string[] {
  const out: string[] = [];
  for (const m of event.matchAll(/(?<![\w./])(\d{1,3}(?:\.\d{1,3}){3})(:\d{1,5}(?!\d))?(?!\w|\.\d)/g)) {
    if (isV4(m[1]!)) out.push(m[1]! + (m[2] ?? ''));
  }
  return [...new Set(out)];
}

/** maltrail's category of a trail file outside its malware/malicious/suspicious folders: Maltrail_<Name>. */
export function maltrailCategory(file: string): string {
  return 'Maltrail_' + path.basename(file, '.txt').split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('_');
}

/** Multiset of keys → counts. */
export function tally(keys: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Keys whose counts differ (at most `limit`), for a readable failure. */
export function differences(got: Map<string, number>, want: Map<string, number>, limit = 10): string[] {
  const out: string[] = [];
  for (const k of new Set([...got.keys(), ...want.keys()])) {
    if ((got.get(k) ?? 0) !== (want.get(k) ?? 0)) out.push(`${k}: got ${got.get(k) ?? 0}, want ${want.get(k) ?? 0}`);
    if (out.length >= limit) break;
  }
  return out;
}
