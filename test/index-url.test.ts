/**
 * URL matching: real URLhaus host/path entries (2021-06-06 list) and maltrail path trails against real
 * maltrail demo events; masks on synthetic data built from the real URLhaus hosts (marked as such).
 * Expected results come from simple scans written here.
 */
import { readFileSync } from 'node:fs';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import { hostEnd, maskHostKey } from '../src/index/mask.js';
import { normalizeUrlIndicator } from '../src/index/url.js';
import type { IndicatorType, FeedRole } from '../src/types.js';
import { dataset } from './support/paths.js';

function feed(name: string, entries: Array<[IndicatorType, string]>, role: FeedRole = 'feed', domainSuffix = false) {
  const builder = new FeedIndexBuilder({ name, role, domainSuffix });
  const rejected = entries.filter(([type, indicator]) => builder.add({ type, indicator, category: `c_${name}`, context: [['feed', name]] }) !== undefined);
  return { index: builder.finish(), rejected };
}

function matcherOf(...feeds: Array<ReturnType<typeof feed>>): Matcher {
  const matcher = new Matcher();
  for (const f of feeds) matcher.setFeed(f.index);
  return matcher;
}

/** URLhaus filter lines: `host` or uBlock-style `||host/path$all`; `!` comments. */
const urlhaus = readFileSync(dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('!'))
  .map((line) => line.trim().replace(/^\|\|/, '').replace(/\$all$/, ''));
const bareHosts = urlhaus.filter((entry) => !entry.includes('/'));
const withPath = urlhaus.filter((entry) => entry.includes('/'));

describe('URLhaus entries (real)', () => {
  const urlhausFeed = feed('urlhaus', urlhaus.map((u) => ['url', u]));
  const matcher = matcherOf(urlhausFeed);

  test('every entry normalizes and is found from a raw URL spelling of it', () => {
    expect(urlhausFeed.rejected).toEqual([]);
    expect(withPath.length).toBeGreaterThan(100);
    for (const entry of withPath) {
      const slash = entry.indexOf('/');
      const raw = `HTTP://${entry.slice(0, slash).toUpperCase()}:8080${entry.slice(slash)}#fragment`;
      expect(matcher.match('url', raw).map((m) => m.matchedIndicator)).toContain(entry);
    }
  });

  test('a bare-host entry matches every URL on that host, a host/path entry only its own path', () => {
    const hostSet = new Set(bareHosts.map((h) => h.toLowerCase()));
    for (const entry of withPath) {
      const host = entry.slice(0, entry.indexOf('/')).toLowerCase();
      const expected = hostSet.has(host) ? [host] : [];
      const found = matcher.match('url', `http://${entry}/zz-not-listed`).map((m) => m.matchedIndicator.toLowerCase());
      expect(found).toEqual(expected);
    }
    for (const host of bareHosts.slice(0, 500)) {
      expect(matcher.match('url', `https://${host}/any/path.php?x=1`).map((m) => m.matchedIndicator)).toEqual([host]);
      expect(matcher.match('domain', host).map((m) => m.matchedIndicator)).toEqual([host]);
    }
    const ipHosts = bareHosts.filter((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h));
    expect(ipHosts.length).toBeGreaterThan(0);
    for (const ip of ipHosts) {
      expect(matcher.match('ip', ip)).toEqual([expect.objectContaining({ type: 'url', matchedIndicator: ip })]);
      expect(matcher.match('ip', `${ip}:80`)).toEqual([]);
    }
  });

  test('a URL query also checks its host against domain and IP feeds', () => {
    const domains = bareHosts.filter((h) => !/^[\d.]+$/.test(h)).slice(0, 50);
    const ips = bareHosts.filter((h) => /^[\d.]+$/.test(h)).slice(0, 50);
    expect(ips.length).toBe(50);
    const hosts = matcherOf(
      feed('domains', domains.map((d) => ['domain', d]), 'feed', true),
      feed('ips', ips.map((ip) => ['ip', `${ip.split('.').slice(0, 3).join('.')}.0/24`])),
    );
    for (const domain of domains) {
      expect(hosts.match('url', `http://sub.${domain}/x`)).toEqual([expect.objectContaining({ type: 'domain', matchedIndicator: domain, feed: 'domains' })]);
    }
    for (const ip of ips) {
      const found = hosts.match('url', `http://${ip}:81/bins/x`);
      expect(found.map((m) => m.type)).toContain('ip');
      expect(found.every((m) => m.feed === 'ips')).toBe(true);
    }
  });

  test('an allow-listed URL is not detected; a block-list detects it anyway', () => {
    const entry = withPath[0]!;
    const both = matcherOf(urlhausFeed, feed('fp', [['url', `http://${entry}`]], 'allow'));
    expect(both.match('url', `http://${entry}`)).toEqual([]);
    expect(both.match('url', `http://${withPath[1]!}`)).toHaveLength(1);
    both.setFeed(feed('internal', [['url', entry]], 'block').index);
    expect(both.match('url', `http://${entry}`).map((m) => m.feed)).toEqual(['internal']);
  });
});

  test('each query kind asks the feeds that can answer it, also through another table (bare IP hosts, domains)', () => {
    const ip = bareHosts.find((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h))!;
    const domain = bareHosts.find((h) => !/^[\d.]+$/.test(h))!;
    const sha256 = 'ab'.repeat(32);
    const mixed = matcherOf(
      feed('hashes', [['sha256', sha256]]),
      feed('urls', [['url', ip], ['url', `${domain}/a/b.php`]]),
      feed('domains', [['domain', domain]]),
      feed('ips', [['ip', ip]]),
    );
    const found = (type: Parameters<Matcher['match']>[0], value: string): string[] => mixed.match(type, value).map((m) => `${m.feed}:${m.type}`);
    expect(found('ip', ip)).toEqual(['urls:url', 'ips:ip']);
    expect(found('hash', sha256.toUpperCase())).toEqual(['hashes:sha256']);
    expect(found('domain', domain)).toEqual(['domains:domain']);
    expect(found('url', `http://${domain}/a/b.php`)).toEqual(['urls:url', 'domains:domain']);
    expect(found('url', `http://${domain}/a/other.php`)).toEqual(['domains:domain']);
    expect(found('url', `http://${ip}/x`)).toEqual(['urls:url', 'ips:ip']);
    mixed.removeFeed('urls');
    expect(found('ip', ip)).toEqual(['ips:ip']);
    expect(found('url', `http://${domain}/a/b.php`)).toEqual(['domains:domain']);
  });

  test('exact URLs on non-ASCII hosts and among many hosts are found; other paths on a listed host are not', () => {
    const idn = feed('idn', [['url', 'http://пример.рф/файл.exe'], ...withPath.map((u): [IndicatorType, string] => ['url', u])]);
    const matcher = matcherOf(idn);
    expect(matcher.match('url', 'http://ПРИМЕР.рф/файл.exe').map((m) => m.matchedIndicator)).toEqual(['http://пример.рф/файл.exe']);
    expect(matcher.match('url', 'http://пример.рф/other.exe')).toEqual([]);
    for (const entry of withPath.slice(0, 300)) {
      expect(matcher.match('url', `http://${entry}`)).toHaveLength(1);
      expect(matcher.match('url', `http://${entry}x`)).toEqual([]);
      expect(matcher.match('url', `http://not-listed-${entry}`)).toEqual([]);
    }
  });

describe('maltrail path trails against maltrail demo URL events (real)', () => {
  const trails = readFileSync(dataset('maltrail-trails', 'trails', 'static', 'suspicious', 'web_shells.txt'), 'utf8')
    .split('\n')
    .map((line) => line.split('#')[0]!.trim())
    .filter((t) => t.startsWith('/'));
  /** URL events are written `(host)/path` (the parenthesised part is what the trail did not cover). */
  const events = readFileSync(dataset('maltrail-demo-events', 'maltrail_demo_events.log'), 'utf8')
    .split('\n')
    .map((line) => /^"[^"]*" \S+ \S+ \S+ \S+ \S+ \S+ URL \(([^)/]+)\)(\/\S+) /.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ host: m[1]!, path: m[2]! }));

  test('a path trail matches that path on any host', () => {
    const matcher = matcherOf(feed('web_shells', trails.map((t) => ['url', t])));
    const trailSet = new Set(trails);
    const expected = events.filter((e) => trailSet.has(e.path));
    expect(expected.length).toBeGreaterThan(0);
    for (const event of events) {
      const found = matcher.match('url', `http://${event.host}${event.path}`);
      expect(found.map((m) => m.matchedIndicator)).toEqual(trailSet.has(event.path) ? [event.path] : []);
    }
    expect(matcher.match('url', 'http://example.org/not/shell.php')).toEqual([]);
    expect(matcher.match('url', 'http://example.org/shell.php?x=1')).toEqual([]);
    // maltrail's loader hands path trails over as the mask `*/path`: the same entry.
    const asMask = matcherOf(feed('web_shells', [['url', `*${trails[0]!}`]]));
    expect(asMask.match('url', `http://192.0.2.1${trails[0]!}`).map((m) => m.matchedIndicator)).toEqual([`*${trails[0]!}`]);
  });
});

/**
 * The mask semantics of src/index/mask.ts as regular expressions (an independent check of its byte matcher): the
 * mask's host against the URL's host and its rest against the URL's rest, or, for a mask without a path that
 * ends in `*`, the whole mask against the whole URL; a rest ending in `/*` also matches the URL's rest plus `/`.
 */
function maskOracle(mask: string): (url: string) => boolean {
  const glob = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^]*')}$`);
  const end = hostEnd(mask);
  if (end === mask.length && mask.endsWith('*')) return (url) => glob(mask).test(url);
  const host = glob(mask.slice(0, end));
  const rest = glob(mask.slice(end));
  const trailingSlashStar = mask.slice(end).endsWith('/*');
  return (url) => {
    const urlHostEnd = hostEnd(url);
    const urlRest = url.slice(urlHostEnd);
    return host.test(url.slice(0, urlHostEnd)) && (rest.test(urlRest) || (trailingSlashStar && rest.test(`${urlRest}/`)));
  };
}

describe('URL masks (synthetic masks built from real URLhaus hosts)', () => {
  const hosts = bareHosts.filter((h) => !/^[\d.]+$/.test(h) && h.split('.').length >= 3).slice(0, 2000);
  const sharedParent = (h: string): boolean => hosts.filter((o) => o.endsWith(h.slice(h.indexOf('.')))).length > 1;
  // Three synthetic mask shapes per host: any subdomain, anything under the host, a file-name pattern.
  const masks = hosts.flatMap((h) => {
    const parent = h.slice(h.indexOf('.') + 1);
    return [`*.${parent}/*`, `${h}/dl/*`, `${h}/*/payload*.exe`];
  });
  const maskFeed = feed('masks', [...masks.map((m): [IndicatorType, string] => ['url', m]), ['url', '*/wp-login.php'], ['url', 'cdn*.example.net/x']]);
  const matcher = matcherOf(maskFeed);
  const normalized = [...masks, '*/wp-login.php', 'cdn*.example.net/x'].map((m) => {
    const entry = normalizeUrlIndicator(m);
    if (entry.kind !== 'mask') throw new Error(`${m} is not a mask`);
    return { mask: m, matches: maskOracle(entry.key) };
  });

  test('the host index finds exactly what a scan of every mask finds', () => {
    expect(maskFeed.rejected).toEqual([]);
    const queries = hosts.slice(0, 300).flatMap((h) => [
      `http://${h}/dl/file.bin`,
      `http://new.${h}/`,
      `http://${h}/a/b/payload-1.exe`,
      `http://${h}/a/b/payload-1.exe.txt`,
      `http://${h}`,
      `http://other.invalid/${h}`,
    ]);
    for (const query of [...queries, 'http://cdn7.example.net/x', 'http://cdn.example.net/y', 'http://x.org/wp-login.php']) {
      const url = (normalizeUrlIndicator(query) as { key: string }).key;
      const expected = normalized.filter((m) => m.matches(url)).map((m) => m.mask);
      expect(matcher.match('url', query).map((m) => m.matchedIndicator).sort()).toEqual(expected.sort());
    }
  });

  test('mask semantics: anchored, host stars stay in the host, trailing /* also matches the bare prefix', () => {
    const h = hosts.find((x) => !sharedParent(x))!;
    const parent = h.slice(h.indexOf('.') + 1);
    const found = (q: string): string[] => matcher.match('url', q).map((m) => m.matchedIndicator).sort();
    expect(found(`http://${h}/dl`)).toEqual([`*.${parent}/*`, `${h}/dl/*`].sort());
    expect(found(`http://a.b.${parent}/anything?q=1`)).toEqual([`*.${parent}/*`]);
    expect(found(`http://${parent}/`)).toEqual([]);
    expect(found('http://cdn.example.net/x')).toEqual(['cdn*.example.net/x']);
    expect(found('http://cdn.example.net/x/y')).toEqual([]);
    expect(found('http://any.host.example/wp-login.php')).toEqual(['*/wp-login.php']);
    expect(found('http://any.host.example/deep/wp-login.php')).toEqual([]);
    expect(found(`http://other.example/x.${parent}/y`)).toEqual([]);
    expect(matcher.match('domain', `x.${parent}`).map((m) => m.matchedIndicator)).toEqual([`*.${parent}/*`]);
  });

  test('residual masks (tested on every lookup) and non-ASCII masks, matched as UTF-8 bytes', () => {
    const other = matcherOf(feed('other', [['url', 'evil.*'], ['url', '*/dl/*.exe'], ['url', 'bücher.example/*/straße*'], ['url', '*.пример.рф/*']]));
    const found = (q: string): string[] => other.match('url', q).map((m) => m.matchedIndicator).sort();
    expect(found('http://evil.com/x?y=1')).toEqual(['evil.*']);
    expect(found('http://a.org/dl/x/setup.exe')).toEqual(['*/dl/*.exe']);
    expect(found('http://a.org/dl/setup.exe.txt')).toEqual([]);
    // A star retried far into the URL, and a literal tail that first matches too early.
    expect(found(`http://a.org/dl/${'x.ex/'.repeat(40)}setup.exe`)).toEqual(['*/dl/*.exe']);
    expect(found('http://a.org/dl/a.exe.b.exe')).toEqual(['*/dl/*.exe']);
    expect(found('http://a.org/dl/a.exe.b.ex')).toEqual([]);
    expect(found('http://bücher.example/a/straße-1')).toEqual(['bücher.example/*/straße*']);
    expect(found('http://bücher.example/a/strasse-1')).toEqual([]);
    expect(found('http://cdn.пример.рф/путь')).toEqual(['*.пример.рф/*']);
    expect(found('http://пример.рф.evil.org/')).toEqual([]);
  });

  test('mask host keys: literal host, label-aligned tail after the last star, residual', () => {
    expect(maskHostKey('evil.com/dl/*')).toBe('evil.com');
    expect(maskHostKey('*.evil.com/*')).toBe('evil.com');
    expect(maskHostKey('*evil.com')).toBe('com');
    expect(maskHostKey('cdn*.evil.com/x')).toBe('evil.com');
    expect(maskHostKey('*/x.php')).toBeUndefined();
    expect(maskHostKey('evil.*')).toBeUndefined();
    expect(maskHostKey('*')).toBeUndefined();
  });
});
