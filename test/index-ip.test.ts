/**
 * IP matching on real data: the 2021 honeypot's Suricata events against IPsum and maltrail's scanner lists
 * (exact and CIDR), zeek connections against maltrail's `ip:port` trails; then IPv6 and CIDR edge cases.
 * Expected counts come from simple scans written here, independent of the index.
 */
import { readFileSync } from 'node:fs';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import type { FeedRecord, FeedRole } from '../src/types.js';
import { dataset } from './support/paths.js';

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n');
}

/** Dotted IPv4, optionally with `/prefix` or `:port` (maltrail lists mix them with domains and URLs). */
const IPV4_TRAIL = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2}|:\d{1,5})?$/;

/** maltrail / IPsum style: one indicator a line (first token), `#` comments; only the IPv4 ones. */
function trailIndicators(path: string): string[] {
  return lines(path)
    .map((line) => line.split('#')[0]!.trim().split(/\s+/)[0]!)
    .filter((token) => IPV4_TRAIL.test(token));
}

function buildFeed(name: string, indicators: string[], role: FeedRole = 'feed', category = `test_${name}`): Matcher {
  const matcher = new Matcher();
  matcher.setFeed(feedIndex(name, indicators, role, category));
  return matcher;
}

function feedIndex(name: string, indicators: string[], role: FeedRole = 'feed', category = `test_${name}`) {
  const builder = new FeedIndexBuilder({ name, role, domainSuffix: false });
  const rejected: string[] = [];
  for (const indicator of indicators) {
    const record: FeedRecord = { type: 'ip', indicator, category, context: [['source', name]] };
    if (builder.add(record) !== undefined) rejected.push(indicator);
  }
  expect(rejected).toEqual([]);
  return builder.finish();
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function isPublicIPv4(ip: string): boolean {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const [a, b] = ip.split('.').map(Number) as [number, number];
  if (a === 10 || a === 127 || a === 0 || a >= 224) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 169 && b === 254) return false;
  return true;
}

const honeypotIps = (() => {
  const ips = new Set<string>();
  for (const line of lines(dataset('slips-honeypot-suricata-2021-06', 'eve.json'))) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { src_ip?: string; dest_ip?: string };
    for (const ip of [event.src_ip, event.dest_ip]) if (ip !== undefined && isPublicIPv4(ip)) ips.add(ip);
  }
  return [...ips];
})();

describe('honeypot Suricata events against real IP feeds', () => {
  test('IPsum: exact addresses', () => {
    const ipsum = trailIndicators(dataset('ipsum', 'ipsum.txt'));
    const feed = new Set(ipsum);
    const expected = honeypotIps.filter((ip) => feed.has(ip));
    const matcher = buildFeed('ipsum', ipsum);
    const hits = honeypotIps.filter((ip) => matcher.match('ip', ip).length > 0);
    expect(expected.length).toBeGreaterThan(0);
    expect(hits.sort()).toEqual(expected.sort());
    const sample = matcher.match('ip', expected[0]!)[0]!;
    expect(sample).toMatchObject({ type: 'ip', feed: 'ipsum', matchedIndicator: expected[0], category: 'test_ipsum' });
    expect(sample.context).toEqual([['source', 'ipsum']]);
  });

  test('maltrail mass_scanner: exact addresses, also when the query carries a port', () => {
    const trails = trailIndicators(dataset('maltrail-trails', 'trails', 'static', 'mass_scanner.txt'));
    const feed = new Set(trails);
    const expected = honeypotIps.filter((ip) => feed.has(ip));
    const matcher = buildFeed('mass_scanner', trails);
    expect(expected.length).toBeGreaterThan(0);
    expect(honeypotIps.filter((ip) => matcher.match('ip', ip).length > 0).sort()).toEqual(expected.sort());
    expect(honeypotIps.filter((ip) => matcher.match('ip', `${ip}:445`).length > 0).sort()).toEqual(expected.sort());
  });

  test('maltrail mass_scanner_cidr: every containing range is reported', () => {
    const cidrs = trailIndicators(dataset('maltrail-trails', 'trails', 'static', 'mass_scanner_cidr.txt'));
    const ranges = cidrs.map((cidr) => {
      const [address, length] = cidr.split('/') as [string, string];
      const size = 2 ** (32 - Number(length));
      const first = Math.floor(ipv4ToNumber(address) / size) * size;
      return { cidr, first, last: first + size - 1 };
    });
    const matcher = buildFeed('mass_scanner_cidr', cidrs);
    let expectedIps = 0;
    let expectedPairs = 0;
    let ips = 0;
    let pairs = 0;
    for (const ip of honeypotIps) {
      const n = ipv4ToNumber(ip);
      const containing = ranges.filter((r) => r.first <= n && n <= r.last).map((r) => r.cidr);
      const matched = matcher.match('ip', ip).map((m) => m.matchedIndicator);
      expect(matched.sort()).toEqual(containing.sort());
      if (containing.length > 0) expectedIps++;
      expectedPairs += containing.length;
      if (matched.length > 0) ips++;
      pairs += matched.length;
    }
    expect(expectedIps).toBeGreaterThan(0);
    expect(ips).toBe(expectedIps);
    expect(pairs).toBe(expectedPairs);
  });
});

describe('ip:port trails against zeek connections', () => {
  const bazarloader = trailIndicators(dataset('maltrail-trails', 'trails', 'static', 'malware', 'bazarloader.txt'));
  const connections = lines(dataset('slips-zeek-json', 'conn.log'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .map((c) => ({ ip: String(c['id.resp_h']), port: Number(c['id.resp_p']) }));
  const query = (c: { ip: string; port: number }): string => (c.ip.includes(':') ? `[${c.ip}]:${c.port}` : `${c.ip}:${c.port}`);
  const pairs = new Set(bazarloader);
  const expected = [...new Set(connections.map(query).filter((q) => pairs.has(q)))];

  test('only the IP+port pair matches, not the bare IP', () => {
    const matcher = buildFeed('bazarloader', bazarloader);
    const hits = [...new Set(connections.map(query).filter((q) => matcher.match('ip', q).length > 0))];
    expect(expected.length).toBeGreaterThan(0);
    expect(hits.sort()).toEqual(expected.sort());
    for (const hit of hits) expect(matcher.match('ip', hit.slice(0, hit.lastIndexOf(':')))).toEqual([]);
    expect(matcher.match('ip', hits[0]!)[0]).toMatchObject({ matchedIndicator: hits[0], feed: 'bazarloader', type: 'ip' });
  });

  test('an allow-list suppresses the false positive; a block-list detects it anyway', () => {
    // The allow and block feeds are synthetic: they hold the address of the one real false positive.
    const falsePositive = expected[0]!;
    const address = falsePositive.slice(0, falsePositive.lastIndexOf(':'));
    const matcher = new Matcher();
    matcher.setFeed(feedIndex('bazarloader', bazarloader));
    expect(matcher.match('ip', falsePositive)).toHaveLength(1);
    matcher.setFeed(feedIndex('false-positives', [address], 'allow'));
    expect(matcher.match('ip', falsePositive)).toEqual([]);
    matcher.setFeed(feedIndex('internal-ti', [`${address}/24`], 'block', 'KL_InternalTI_IP'));
    expect(matcher.match('ip', falsePositive)).toEqual([
      expect.objectContaining({ feed: 'internal-ti', category: 'KL_InternalTI_IP', matchedIndicator: `${address}/24` }),
    ]);
    matcher.removeFeed('false-positives');
    expect(matcher.match('ip', falsePositive).map((m) => m.feed).sort()).toEqual(['bazarloader', 'internal-ti']);
  });
});

describe('IPv6 and CIDR edge cases (synthetic feeds)', () => {
  const matcher = new Matcher();
  matcher.setFeed(feedIndex('wide', ['0.0.0.0/0', '::/0', '10.0.0.0/8', '2001:db8::/32']));
  matcher.setFeed(feedIndex('narrow', ['10.1.0.0/16', '10.1.2.3/32', '2001:db8::1/128', '2001:DB8:0:0::2', '10.1.2.3:8080', '[2001:db8::1]:443']));
  matcher.setFeed(feedIndex('mapped', ['::ffff:192.0.2.1', '10.1.2.0/255'.replace('/255', '/24')]));
  const found = (value: string): string[] => matcher.match('ip', value).map((m) => `${m.feed} ${m.matchedIndicator}`).sort();

  test('all containing ranges from every feed, /0 included', () => {
    expect(found('10.1.2.3')).toEqual(['mapped 10.1.2.0/24', 'narrow 10.1.0.0/16', 'narrow 10.1.2.3/32', 'wide 0.0.0.0/0', 'wide 10.0.0.0/8']);
    expect(found('10.1.2.3:8080')).toEqual([
      'mapped 10.1.2.0/24', 'narrow 10.1.0.0/16', 'narrow 10.1.2.3/32', 'narrow 10.1.2.3:8080', 'wide 0.0.0.0/0', 'wide 10.0.0.0/8',
    ]);
    expect(found('10.1.2.4')).toEqual(['mapped 10.1.2.0/24', 'narrow 10.1.0.0/16', 'wide 0.0.0.0/0', 'wide 10.0.0.0/8']);
    expect(found('192.168.0.1')).toEqual(['wide 0.0.0.0/0']);
  });

  test('a hit shows the address as the feed has it, however the query spells it', () => {
    const spelled = new Matcher();
    spelled.setFeed(feedIndex('plain', ['198.51.100.7', '198.51.100.0/24', '0.0.0.0']));
    for (const query of ['198.51.100.7', '198.051.100.007', '198.51.100.7:443', '::ffff:198.51.100.7', '[::ffff:198.51.100.7]:80']) {
      expect(spelled.match('ip', query).map((m) => m.matchedIndicator)).toEqual(['198.51.100.7', '198.51.100.0/24']);
    }
    expect(spelled.match('ip', '00.0.0.0').map((m) => m.matchedIndicator)).toEqual(['0.0.0.0']);
    expect(spelled.match('ip', '198.51.100.70').map((m) => m.matchedIndicator)).toEqual(['198.51.100.0/24']);
  });

  test('IPv6: exact /128, bracketed with port, non-canonical spellings, /0', () => {
    expect(found('2001:db8::1')).toEqual(['narrow 2001:db8::1/128', 'wide 2001:db8::/32', 'wide ::/0']);
    expect(found('[2001:0DB8:0000::0001]:443')).toEqual(['narrow 2001:db8::1/128', 'narrow [2001:db8::1]:443', 'wide 2001:db8::/32', 'wide ::/0']);
    expect(found('2001:db8::2')).toEqual(['narrow 2001:DB8:0:0::2', 'wide 2001:db8::/32', 'wide ::/0']);
    expect(found('2001:db9::1')).toEqual(['wide ::/0']);
  });

  test('a feed with every prefix length reports every containing range, longest first (more tables than selector bits)', () => {
    const address = '203.0.113.77';
    const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
    const value = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
    const network = (prefix: number): string => {
      const n = prefix === 0 ? 0 : (value & (0xffffffff << (32 - prefix))) >>> 0;
      return `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/${prefix}`;
    };
    const prefixes = Array.from({ length: 33 }, (_, i) => 32 - i);
    const v6 = Array.from({ length: 40 }, (_, i) => `2001:db8::/${128 - i}`);
    const every = new Matcher();
    every.setFeed(feedIndex('every', [...prefixes.map(network), ...v6, '198.51.100.0/24']));
    const ranges = every.match('ip', address).map((m) => m.matchedIndicator);
    expect(ranges).toEqual(prefixes.map(network));
    expect(every.match('ip', '2001:db8::').map((m) => m.matchedIndicator)).toEqual(v6);
    // 198 = 0b11000110 and 203 = 0b11001011 share their first 4 bits: /4 and shorter contain both.
    expect(every.match('ip', '198.51.100.9').map((m) => m.matchedIndicator)).toEqual(['198.51.100.0/24', ...[4, 3, 2, 1, 0].map(network)]);
    expect(every.match('ip', '198.51.101.9').map((m) => m.matchedIndicator)).not.toContain('198.51.100.0/24');
  });

  test('random networks of /8 to /32 against a scan: their first and last addresses, and the addresses beside them', () => {
    // Few networks spread over the whole space: most queries are in a top-16 value that holds a network but in
    // a block of 20 bits that holds none, which the table selector answers from its block bits alone.
    let seed = 20261126;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const toText = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const ranges = new Map<string, { first: number; last: number }>();
    for (let i = 0; i < 600; i++) {
      const prefix = 8 + (random() % 25);
      const size = 2 ** (32 - prefix);
      const first = Math.floor(random() / size) * size;
      ranges.set(`${toText(first)}/${prefix}`, { first, last: first + size - 1 });
    }
    const queries: number[] = [];
    for (const { first, last } of ranges.values()) {
      queries.push(first, last, Math.max(0, first - 1), Math.min(2 ** 32 - 1, last + 1), Math.min(2 ** 32 - 1, first + 4096), Math.max(0, last - 4096));
      // The same 20-bit block and top-16 value as the network, outside it.
      queries.push((first ^ 0x800) >>> 0, (first ^ 0x8000) >>> 0);
    }
    for (let i = 0; i < 3000; i++) queries.push(random());
    const matcher = buildFeed('random', [...ranges.keys()]);
    let found = 0;
    for (const n of queries) {
      const expected = [...ranges].filter(([, r]) => r.first <= n && n <= r.last).map(([cidr]) => cidr);
      const matched = matcher.match('ip', toText(n)).map((m) => m.matchedIndicator);
      expect({ query: toText(n), matched: matched.sort() }).toEqual({ query: toText(n), matched: expected.sort() });
      found += matched.length;
    }
    expect(found).toBeGreaterThan(2 * ranges.size);
    // IPv6 networks of /12 to /28: their blocks of 20 bits are in the first word (2001:f000 is 0x2001f000) too.
    const v6 = new Matcher();
    v6.setFeed(feedIndex('v6', ['2001:8000::/17', '2000::/12', '2001:f000::/20', '2001:fff0::/28']));
    const v6Found = (value: string): string[] => v6.match('ip', value).map((m) => m.matchedIndicator).sort();
    expect(v6Found('2001:8000::')).toEqual(['2000::/12', '2001:8000::/17']);
    expect(v6Found('2001:efff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual(['2000::/12', '2001:8000::/17']);
    expect(v6Found('2001:f000::1')).toEqual(['2000::/12', '2001:8000::/17', '2001:f000::/20']);
    expect(v6Found('2001:fff7::')).toEqual(['2000::/12', '2001:8000::/17', '2001:f000::/20', '2001:fff0::/28']);
    expect(v6Found('2001:7fff::')).toEqual(['2000::/12']);
    expect(v6Found('2010::')).toEqual([]);
  });

  test('IPv4-mapped IPv6 matches the IPv4 address', () => {
    expect(found('192.0.2.1')).toContain('mapped ::ffff:192.0.2.1');
    expect(found('::ffff:10.1.2.3')).toContain('narrow 10.1.2.3/32');
  });

  test('invalid queries match nothing and never throw', () => {
    for (const bad of ['', ' ', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4:', '1.2.3.4:65536', '[::1', '[::1]x', '::1::', 'g::1', '1.2.3.4/8', 'x', '1:2:3:4:5:6:7:8:9']) {
      expect(matcher.match('ip', bad)).toEqual([]);
    }
  });

  test('a feed replaced by setFeed is swapped whole', () => {
    const swapped = new Matcher();
    swapped.setFeed(feedIndex('f', ['1.1.1.1']));
    expect(swapped.match('ip', '1.1.1.1')).toHaveLength(1);
    swapped.setFeed(feedIndex('f', ['2.2.2.2']));
    expect(swapped.match('ip', '1.1.1.1')).toEqual([]);
    expect(swapped.match('ip', '2.2.2.2')).toHaveLength(1);
  });

  test('malformed IP indicators are rejected with a reason and counted', () => {
    const builder = new FeedIndexBuilder({ name: 'bad', role: 'feed', domainSuffix: false });
    for (const bad of ['1.2.3.4/33', 'example.com', '1.2.3.4:99999', '::/129']) {
      expect(builder.add({ type: 'ip', indicator: bad, category: 'c', context: [] })).toMatch(/not an IP/);
    }
    const index = builder.finish();
    expect(index.size).toBe(0);
    expect(Object.values(index.rejected).reduce((a, b) => a + b, 0)).toBe(4);
  });
});
