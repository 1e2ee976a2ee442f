/**
 * Domain matching on real data: maltrail's demo sensor events (DNS queries) against the shipped maltrail
 * trails, exact and on parent suffixes as maltrail does. Expected counts come from a simple scan here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import { dataset } from './support/paths.js';

const trailsDir = dataset('maltrail-trails', 'trails', 'static');
const trailFiles = ['', 'malware', 'malicious', 'suspicious'].flatMap((dir) =>
  readdirSync(path.join(trailsDir, dir))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => path.join(trailsDir, dir, f)),
);

/** Domain-shaped trails: no path, port, wildcard or IP (maltrail files mix all of these). */
function domainTrails(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.split('#')[0]!.trim())
    .filter((t) => t.includes('.') && !/[/:*\s\\]/.test(t) && !/^[\d.]+$/.test(t));
}

const trails = new Map<string, string>(); // domain → feed (file) name; the first file wins for the expectation
for (const file of trailFiles) for (const domain of domainTrails(file)) if (!trails.has(domain.toLowerCase())) trails.set(domain.toLowerCase(), path.basename(file, '.txt'));

function buildMatcher(domainSuffix: boolean): Matcher {
  const matcher = new Matcher();
  for (const file of trailFiles) {
    const name = path.basename(file, '.txt');
    const builder = new FeedIndexBuilder({ name, role: 'feed', domainSuffix });
    for (const indicator of domainTrails(file)) builder.add({ type: 'domain', indicator, category: `maltrail_${name}`, context: [] });
    matcher.setFeed(builder.finish());
  }
  return matcher;
}

/** `"ts" sensor src sport dst dport proto TYPE trail "info" reference`; maltrail writes a suffix hit as `(cdn).x.com`. */
const dnsQueries = readFileSync(dataset('maltrail-demo-events', 'maltrail_demo_events.log'), 'utf8')
  .split('\n')
  .map((line) => /^"[^"]*" \S+ \S+ \S+ \S+ \S+ \S+ (\S+) (\S+) /.exec(line))
  .filter((m): m is RegExpExecArray => m !== null && m[1] === 'DNS')
  .map((m) => m[2]!.replace(/[()]/g, ''));

/** The name and each parent suffix, as maltrail checks them. */
function suffixes(name: string): string[] {
  const labels = name.toLowerCase().split('.');
  return labels.map((_, i) => labels.slice(i).join('.'));
}

describe('maltrail demo DNS events against maltrail trails', () => {
  test('suffix matching finds every event a suffix scan finds, with the suffix as matched indicator', () => {
    const matcher = buildMatcher(true);
    expect(dnsQueries.length).toBeGreaterThan(1000);
    let expected = 0;
    let found = 0;
    for (const name of dnsQueries) {
      const hits = suffixes(name).filter((s) => trails.has(s));
      const matches = matcher.match('domain', name);
      if (hits.length > 0) expected++;
      if (matches.length > 0) found++;
      expect(new Set(matches.map((m) => m.matchedIndicator.toLowerCase()))).toEqual(new Set(hits));
      for (const m of matches) expect(m).toMatchObject({ type: 'domain', category: `maltrail_${m.feed}` });
    }
    expect(expected).toBeGreaterThan(0);
    expect(found).toBe(expected);
  });

  test('without domainSuffix only exact names match', () => {
    const matcher = buildMatcher(false);
    const expected = dnsQueries.filter((name) => trails.has(name.toLowerCase())).length;
    const suffixOnly = dnsQueries.filter((name) => !trails.has(name.toLowerCase()) && suffixes(name).some((s) => trails.has(s)));
    expect(suffixOnly.length).toBeGreaterThan(0);
    expect(dnsQueries.filter((name) => matcher.match('domain', name).length > 0).length).toBe(expected);
    for (const name of suffixOnly) expect(matcher.match('domain', name)).toEqual([]);
  });
});

describe('domain spelling', () => {
  const builder = new FeedIndexBuilder({ name: 'd', role: 'feed', domainSuffix: true });
  for (const indicator of ['Evil.Example.COM.', 'другой.рф']) builder.add({ type: 'domain', indicator, category: 'c', context: [['k', 'v']] });
  const matcher = new Matcher();
  matcher.setFeed(builder.finish());

  test('case and a trailing dot do not matter; the indicator is reported as the feed wrote it', () => {
    for (const q of ['evil.example.com', 'EVIL.example.com.', 'a.b.evil.example.com']) {
      // The context is read through its getter (matches decode it on first read).
      expect(matcher.match('domain', q).map(({ type, category, matchedIndicator, feed, context }) => ({ type, category, matchedIndicator, feed, context }))).toEqual([
        { type: 'domain', category: 'c', matchedIndicator: 'Evil.Example.COM.', feed: 'd', context: [['k', 'v']] },
      ]);
    }
    expect(matcher.match('domain', 'example.com')).toEqual([]);
    expect(matcher.match('domain', 'xevil.example.com')).toEqual([]);
  });

  test('non-ASCII names', () => {
    expect(matcher.match('domain', 'www.ДРУГОЙ.рф')).toHaveLength(1);
  });

  test('odd queries match nothing', () => {
    for (const q of ['', '.', '..', 'a b', 'evil.example.com/x', '*.example.com']) expect(matcher.match('domain', q)).toEqual([]);
  });
});
