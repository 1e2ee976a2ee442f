/**
 * RecentMatches (the service's memory of recent URL and domain results) answers exactly what the Matcher does:
 * real URLhaus feeds against the URL and domain values of the real logs, in log order with their natural repeats;
 * never a result from feeds that have since changed; bounded in size.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { loadFeedIndex } from '../src/index/load.js';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import { RecentMatches } from '../src/index/recent-matches.js';
import { parseFeedArg } from '../src/feeds/load.js';
import { loadServiceConfig } from '../src/service/config.js';
import { EventExtractor } from '../src/service/extract.js';
import type { Match, QueryType } from '../src/types.js';
import { dataset } from './support/paths.js';

const plain = (matches: readonly Match[]): unknown => matches.map((m) => [m.type, m.category, m.matchedIndicator, m.feed, m.context]);

function domainFeed(name: string, domains: string[], domainSuffix = false): ReturnType<FeedIndexBuilder['finish']> {
  const builder = new FeedIndexBuilder({ name, role: 'feed', domainSuffix });
  for (const indicator of domains) builder.add({ type: 'domain', indicator, category: `c_${name}`, context: [['feed', name]] });
  return builder.finish();
}

describe('RecentMatches', () => {
  test('gives the Matcher’s results for every URL and domain query of the real logs, repeats included', async () => {
    const matcher = new Matcher();
    for (const file of ['urlhaus-filter-online.txt', 'urlhaus-filter-domains-online.txt']) {
      matcher.setFeed((await loadFeedIndex(parseFeedArg(`urlhaus:${dataset('urlhaus-filter', '2021-06-06', file)}`))).index);
    }
    const extractor = new EventExtractor(loadServiceConfig().input.sources);
    const queries: Array<{ type: QueryType; value: string }> = [];
    for (const log of [dataset('elastic-apache-access', 'apache_logs'), dataset('slips-zeek-json', 'http.log'), dataset('slips-zeek-json', 'dns.log'), dataset('slips-honeypot-suricata-2021-06', 'eve.json')]) {
      for (const line of readFileSync(log, 'utf8').split('\n')) queries.push(...(extractor.extract(line, '127.0.0.1')?.queries ?? []));
    }
    // Hits too: URLhaus's own entries, each asked twice.
    const entries = readFileSync(dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt'), 'utf8').split('\n').filter((l) => l.startsWith('||')).slice(0, 500);
    for (const entry of entries) for (let i = 0; i < 2; i++) queries.push({ type: 'url', value: `http://${entry.slice(2).replace(/\^?\$all$/, '')}` });

    const recent = new RecentMatches(matcher, 256);
    let repeated = 0;
    let detections = 0;
    const seen = new Set<string>();
    for (const { type, value } of queries) {
      const expected = matcher.match(type, value);
      expect(plain(recent.match(type, value))).toEqual(plain(expected));
      detections += expected.length;
      if (type === 'url' || type === 'domain') {
        if (seen.has(`${type} ${value}`)) repeated++;
        seen.add(`${type} ${value}`);
      }
    }
    expect(repeated).toBeGreaterThan(10_000);
    expect(detections).toBeGreaterThanOrEqual(1000);
    expect(recent.size).toBeLessThanOrEqual(4 * 256);
  });

  test('a feed replaced or removed is never answered from results of its earlier version', () => {
    const matcher = new Matcher();
    matcher.setFeed(domainFeed('list', ['bad.example', 'worse.example']));
    const recent = new RecentMatches(matcher);
    expect(plain(recent.match('domain', 'bad.example'))).toEqual([['domain', 'c_list', 'bad.example', 'list', [['feed', 'list']]]]);
    expect(recent.match('url', 'http://bad.example/x')).toHaveLength(1);

    matcher.setFeed(domainFeed('list', ['worse.example'])); // the new version no longer lists bad.example
    expect(recent.size).toBe(0); // forgotten at once: the old index is not kept alive by its matches
    expect(recent.match('domain', 'bad.example')).toEqual([]);
    expect(recent.match('url', 'http://bad.example/x')).toEqual([]);
    expect(recent.match('domain', 'worse.example')).toHaveLength(1);

    matcher.removeFeed('list');
    expect(recent.match('domain', 'worse.example')).toEqual([]);
  });

  test('bounded: two generations of `capacity` values per type; very long values are not kept', () => {
    const matcher = new Matcher();
    matcher.setFeed(domainFeed('list', ['kept.example']));
    const recent = new RecentMatches(matcher, 8);
    for (let i = 0; i < 1000; i++) {
      recent.match('domain', `host${i}.example`);
      recent.match('url', `http://host${i}.example/`);
      // A value in use stays through the rotations.
      expect(recent.match('domain', 'kept.example')).toHaveLength(1);
    }
    expect(recent.size).toBeLessThanOrEqual(2 * 2 * 8);
    const fresh = new RecentMatches(matcher, 8);
    expect(fresh.match('url', `http://kept.example/${'a'.repeat(5000)}`)).toHaveLength(1);
    expect(fresh.size).toBe(0);
    expect(fresh.match('url', 'http://kept.example/a')).toHaveLength(1);
    expect(fresh.size).toBe(1);
  });

  test('what it keeps does not hold on to the events the values were cut from', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const matcher = new Matcher();
    matcher.setFeed(domainFeed('list', ['kept.example'], true)); // every hN.kept.example is a hit of its own
    const recent = new RecentMatches(matcher, 1024);
    const heapAfterGc = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = heapAfterGc();
    const padding = 'x'.repeat(200_000);
    for (let i = 0; i < 300; i++) {
      // A 400 KB event per value, as the service's framer would hand it over (a flat string of its own).
      const event = JSON.parse(JSON.stringify(`${padding} host=h${i}.kept.example url=http://site${i}.example/page ${padding}`)) as string;
      const at = event.indexOf(`h${i}.`);
      const domain = event.slice(at, event.indexOf(' ', at));
      const url = event.slice(event.indexOf('http://'), event.indexOf(' ', event.indexOf('http://')));
      expect(recent.match('domain', domain)).toHaveLength(1);
      expect(recent.match('url', url)).toHaveLength(0);
    }
    expect(recent.size).toBe(600);
    // 300 events of 400 KB would be 120 MB if any kept value or match held its event.
    expect(heapAfterGc() - before).toBeLessThan(10 * 2 ** 20);
  });
});
