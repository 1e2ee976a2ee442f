/**
 * The Matcher's IPv4 block filter answers an address outside every feed's blocks without asking the feeds, so
 * it must never hide a match: every IPv4 indicator of real feeds (IPsum addresses, maltrail CIDR ranges at both
 * ends, Feodo's `ip:port`, URLhaus bare-IP hosts) is still found, ranges wider than a block and at block edges
 * are covered, and replacing or removing a feed updates the blocks.
 */
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import { Ipv4Blocks } from '../src/index/ipv4-blocks.js';
import type { FeedRecord, FeedRole } from '../src/types.js';
import { collect } from './fixtures/feeds/collect.js';
import { dataset } from './support/paths.js';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function toNumber(address: string): number {
  const [, a, b, c, d] = IPV4.exec(address)!;
  return ((Number(a) << 24) | (Number(b) << 16) | (Number(c) << 8) | Number(d)) >>> 0;
}

function toText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function index(name: string, records: FeedRecord[], role: FeedRole = 'feed') {
  const builder = new FeedIndexBuilder({ name, role, domainSuffix: false });
  for (const record of records) builder.add(record);
  return builder.finish();
}

const ip = (indicator: string): FeedRecord => ({ type: 'ip', indicator, category: 'c', context: [] });

describe('Ipv4Blocks', () => {
  test('ranges within one word, across words, and the whole space mark exactly their /24 blocks', () => {
    const blocks = new Ipv4Blocks();
    blocks.addRange(toNumber('10.0.1.7'), toNumber('10.0.1.7'));
    blocks.addRange(toNumber('10.0.31.0'), toNumber('10.0.96.255'));
    expect(blocks.has(toNumber('10.0.1.0'))).toBe(true);
    expect(blocks.has(toNumber('10.0.1.255'))).toBe(true);
    expect(blocks.has(toNumber('10.0.0.255'))).toBe(false);
    expect(blocks.has(toNumber('10.0.2.0'))).toBe(false);
    expect(blocks.has(toNumber('10.0.30.255'))).toBe(false);
    for (const third of [31, 32, 63, 64, 95, 96]) expect(blocks.has(toNumber(`10.0.${third}.9`))).toBe(true);
    expect(blocks.has(toNumber('10.0.97.0'))).toBe(false);

    const all = new Ipv4Blocks();
    all.addRange(0, 0xffffffff);
    for (const address of ['0.0.0.0', '127.0.0.1', '255.255.255.255', '128.0.0.0']) expect(all.has(toNumber(address))).toBe(true);
  });
});

describe('the Matcher with the IPv4 block filter', () => {
  test('every IPv4 indicator of real feeds is still found (ranges at both ends, ip:port, bare-IP URLs)', async () => {
    const feeds = {
      ipsum: (await collect({ path: dataset('ipsum', 'levels', '3.txt'), format: 'ipsum' })).records,
      scanners: (await collect({ path: dataset('maltrail-trails', 'trails', 'static', 'mass_scanner_cidr.txt'), format: 'maltrail' })).records,
      feodo: (await collect({ path: dataset('feodotracker', 'ipblocklist.csv'), format: 'feodo' })).records,
      urlhaus: (await collect({ path: dataset('urlhaus-filter', '2025-07-19', 'urlhaus-filter-online.txt'), format: 'urlhaus' })).records,
    };
    const matcher = new Matcher();
    for (const [name, records] of Object.entries(feeds)) matcher.setFeed(index(name, records));

    const queries: string[] = [];
    for (const { type, indicator } of Object.values(feeds).flat()) {
      if (type === 'ip') {
        const cidr = /^([\d.]+)\/(\d+)$/.exec(indicator);
        if (cidr) {
          const first = toNumber(cidr[1]!);
          const size = 2 ** (32 - Number(cidr[2]));
          queries.push(toText(first), toText(first + size - 1));
        } else queries.push(indicator); // an address, or address:port
      } else if (type === 'url') {
        const host = /^(?:https?:\/\/)?(\d+\.\d+\.\d+\.\d+)\/?$/.exec(indicator)?.[1];
        if (host !== undefined) queries.push(host);
      }
    }
    expect(queries.filter((q) => q.includes(':')).length).toBeGreaterThan(0); // Feodo's ip:port
    expect(queries.length).toBeGreaterThan(1000);
    const missed = queries.filter((q) => matcher.match('ip', q).length === 0);
    expect(missed).toEqual([]);
  });

  test('ranges wider than a block, block edges, allow-lists, replacement and removal', () => {
    const matcher = new Matcher();
    matcher.setFeed(index('wide', [ip('10.0.0.0/8'), ip('192.0.2.254/31'), ip('198.51.100.7:8080')]));
    expect(matcher.match('ip', '10.255.255.255')).toHaveLength(1);
    expect(matcher.match('ip', '11.0.0.0')).toEqual([]);
    expect(matcher.match('ip', '192.0.2.255')).toHaveLength(1);
    expect(matcher.match('ip', '192.0.3.0')).toEqual([]);
    expect(matcher.match('ip', '198.51.100.7:8080')).toHaveLength(1);
    expect(matcher.match('ip', '198.51.100.7:8081')).toEqual([]);

    // A bare-IP URL entry is found by an IP query even in a block no IP indicator has.
    matcher.setFeed(index('urls', [{ type: 'url', indicator: 'http://198.18.0.9/', category: 'c', context: [] }]));
    expect(matcher.match('ip', '198.18.0.9').map((m) => m.feed)).toEqual(['urls']);

    // An allow-list entry in a block no other feed has still suppresses (and is found at all).
    matcher.setFeed(index('block', [ip('203.0.113.5')], 'block'));
    matcher.setFeed(index('allow', [ip('203.0.113.5'), ip('10.1.2.3')], 'allow'));
    expect(matcher.match('ip', '203.0.113.5').map((m) => m.feed)).toEqual(['block']);
    expect(matcher.match('ip', '10.1.2.3')).toEqual([]);

    // Replaced without the wide range, then removed: its blocks go with it.
    matcher.setFeed(index('wide', [ip('172.16.0.1')]));
    expect(matcher.match('ip', '10.255.255.255')).toEqual([]);
    expect(matcher.match('ip', '172.16.0.1')).toHaveLength(1);
    matcher.removeFeed('wide');
    expect(matcher.match('ip', '172.16.0.1')).toEqual([]);

    // The whole space, and IPv6 queries, which the filter does not concern.
    matcher.setFeed(index('everything', [ip('0.0.0.0/0'), ip('2001:db8::/32')]));
    expect(matcher.match('ip', '8.8.8.8')).toHaveLength(1);
    expect(matcher.match('ip', '2001:db8::1')).toHaveLength(1);
  });
});
