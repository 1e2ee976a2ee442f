/** loadFeed as a whole: format detection on every real feed file, the CLI argument syntax, and hostile input. */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FeedLoadError, loadFeed, parseFeedArg, type FeedFormat } from '../src/feeds/load.js';
import { isIP } from 'node:net';
import { detectFormat } from '../src/feeds/detect.js';
import { FingerprintSet } from '../src/feeds/fingerprints.js';
import { ipProblem } from '../src/feeds/indicator.js';
import { MAX_SAMPLES, MAX_SAMPLES_PER_REASON } from '../src/feeds/sink.js';
import { dataLines } from './fixtures/feeds/collect.js';
import { dataset, repoRoot } from './support/paths.js';
import { collect, tempFeeds } from './fixtures/feeds/collect.js';

describe('format detection', () => {
  const cases: Array<[string, FeedFormat]> = [
    ['ipsum/ipsum.txt', 'ipsum'],
    ['ipsum/levels/3.txt', 'ipsum'],
    ['feodotracker/ipblocklist.csv', 'feodo'],
    ['urlhaus-filter/2025-07-19/urlhaus-filter-online.txt', 'urlhaus'],
    ['urlhaus-filter/2025-07-19/urlhaus-filter-splunk-online.csv', 'urlhaus'],
    ['urlhaus-filter/2025-07-19/urlhaus-filter-wildcard.txt', 'urlhaus'],
    ['urlhaus-filter/2021-06-06/urlhaus-filter-domains-online.txt', 'urlhaus'],
    ['maltrail-trails/trails', 'maltrail'],
    ['maltrail-trails/trails/static/malware/bazarloader.txt', 'maltrail'],
    ['maltrail-trails/trails/static/suspicious/web_shells.txt', 'maltrail'],
    ['tweetfeed/month.csv', 'tweetfeed'],
    ['tweetfeed/2021/202108/20210809.csv', 'tweetfeed'],
    ['tweetfeed/misp', 'misp'],
    ['tweetfeed/misp/manifest.json', 'misp'],
    ['tweetfeed/misp/06159a36-6012-5d68-bff5-7fac1110a2a6.json', 'misp'],
    ['tweetfeed/stix/week.json', 'stix'],
    ['threatfox-openioc/kaspersky_threatfox_20251004_012136.xml', 'openioc'],
  ];
  test.each(cases)('%s → %s', async (file, format) => {
    expect(await detectFormat(dataset(...file.split('/')))).toBe(format);
  });

  test('content rules work without telling file names', async () => {
    const dir = tempFeeds({
      'a.csv': '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n"2024-01-01 00:00:00","198.51.100.1","443","online","2024-01-02","X"\n',
      'b.txt': '# Title: list\n# Source: https://urlhaus.abuse.ch/api/\nevil.test\n',
      'c.txt': '198.51.100.2\t7\n',
      'd.dat': '2026-01-01 00:00:00,someone,domain,evil.test,#x,https://x.com/a\n',
      'e.json': '{"type": "bundle", "id": "bundle--1", "objects": []}',
      'f.xml': '<?xml version="1.0"?>\n<ioc xmlns="http://schemas.mandiant.com/2010/ioc"><definition/></ioc>',
    });
    const formats = await Promise.all(['a.csv', 'b.txt', 'c.txt', 'd.dat', 'e.json', 'f.xml'].map(async (name) => (await collect(path.join(dir, name))).report.format));
    expect(formats).toEqual(['feodo', 'urlhaus', 'ipsum', 'tweetfeed', 'stix', 'openioc']);
  });

  test('an undetectable file is a FeedLoadError naming the file and listing the formats', async () => {
    const dir = tempFeeds({ 'notes.txt': 'hello world\n', 'data.json': '[{"a": 1}]', 'page.xml': '<html/>' });
    for (const name of ['notes.txt', 'data.json', 'page.xml']) {
      const loading = collect(path.join(dir, name));
      await expect(loading).rejects.toThrow(FeedLoadError);
      await expect(collect(path.join(dir, name))).rejects.toThrow(new RegExp(`${name}: .*FORMAT one of kaspersky, urlhaus, feodo, ipsum, maltrail, tweetfeed, misp, stix, openioc, csv, json`));
    }
  });
});

describe('parseFeedArg', () => {
  test('a known format before the first colon is the format; any other colon belongs to the path', () => {
    expect(parseFeedArg('maltrail:/data/trails')).toEqual({ format: 'maltrail', path: '/data/trails' });
    expect(parseFeedArg('csv:feeds/a:b.csv')).toEqual({ format: 'csv', path: 'feeds/a:b.csv' });
    expect(parseFeedArg('/data/ipsum.txt')).toEqual({ path: '/data/ipsum.txt' });
    expect(parseFeedArg('feeds/2024-01-01T00:00:00.csv')).toEqual({ path: 'feeds/2024-01-01T00:00:00.csv' });
    expect(parseFeedArg('unknown:file.txt')).toEqual({ path: 'unknown:file.txt' });
    expect(parseFeedArg('ipsum:')).toEqual({ path: 'ipsum:' });
  });
});

describe('whole-feed failures and the report', () => {
  test('a missing file or an unreadable path is a FeedLoadError for that path', async () => {
    await expect(loadFeed({ path: '/nonexistent/feed.txt' }, () => {})).rejects.toThrow(FeedLoadError);
    await expect(loadFeed({ path: '/nonexistent/feed.txt', format: 'ipsum' }, () => {})).rejects.toThrow(/^\/nonexistent\/feed\.txt: /);
    for (const format of ['ipsum', 'feodo', 'stix', 'openioc'] as const) {
      await expect(loadFeed({ path: repoRoot, format }, () => {})).rejects.toThrow(FeedLoadError);
    }
  });

  test('a missing file whose name starts with "word:" says the word is not a format', async () => {
    await expect(loadFeed(parseFeedArg('ipsun:/nonexistent/feed.txt'), () => {})).rejects.toThrow(
      'ipsun:/nonexistent/feed.txt: ENOENT: no such file or directory, stat \'ipsun:/nonexistent/feed.txt\'; "ipsun" is not a feed format (FORMAT:PATH takes one of kaspersky, urlhaus, feodo, ipsum, maltrail, tweetfeed, misp, stix, openioc, csv, json)',
    );
    // Only for a missing file: a path with a colon that exists loads; a named format or a plain path gets no hint.
    await expect(loadFeed(parseFeedArg('ipsum:/nonexistent/feed.txt'), () => {})).rejects.toThrow(/feed\.txt'$/);
    await expect(loadFeed({ path: '/nonexistent/feed.txt' }, () => {})).rejects.toThrow(/feed\.txt'$/);
  });

  test('the report names the feed, counts bytes, and keeps only the first samples', async () => {
    const badIps = Array.from({ length: 50 }, (_, i) => `not-an-ip-${i}\t1`);
    const badCounts = Array.from({ length: 50 }, (_, i) => `198.51.100.${i}\tmany`);
    const badPrefixes = Array.from({ length: 50 }, (_, i) => `198.51.${i}.0/40\t1`);
    const lines = [...badIps, ...badCounts, ...badPrefixes, '198.51.100.7\t2'];
    const dir = tempFeeds({ 'list.txt': lines.join('\n') });
    const { report } = await collect({ path: path.join(dir, 'list.txt'), format: 'ipsum', name: 'My IPs' });
    expect(report).toMatchObject({ name: 'My IPs', records: 1, skipped: 150, bytes: lines.join('\n').length, domainSuffix: false });
    expect(report.skipReasons).toEqual({ 'not an IP address, CIDR or ip:port': 50, 'expected IP and blocklist count': 50, 'bad CIDR prefix length': 50 });
    // Each reason shows its first examples, so a flood of one reason does not hide the others.
    expect(report.samples).toHaveLength(3 * MAX_SAMPLES_PER_REASON);
    expect(report.samples[0]).toEqual({ where: `${path.join(dir, 'list.txt')}:1`, reason: 'not an IP address, CIDR or ip:port: "not-an-ip-0"' });
    expect(report.samples[MAX_SAMPLES_PER_REASON]!.where).toBe(`${path.join(dir, 'list.txt')}:51`);
    expect(report.samples.length).toBeLessThanOrEqual(MAX_SAMPLES);
    expect(report.millis).toBeGreaterThanOrEqual(0);
    const named = await collect({ path: path.join(dir, 'list.txt'), format: 'ipsum' });
    expect(named.report.name).toBe('list');
  });

  test('a byte-order mark is not data; a line over 1 MiB fails the feed (not a list); so does XML nested over 100 deep', async () => {
    const dir = tempFeeds({
      'bom.txt': '\uFEFF198.51.100.1\t3\n',
      'long.txt': `198.51.100.1\t3\n${'x'.repeat(3 << 20)}\n`,
      'deep.xml': `<ioc><definition>${'<Indicator>'.repeat(120)}${'</Indicator>'.repeat(120)}</definition></ioc>`,
    });
    expect((await collect({ path: path.join(dir, 'bom.txt'), format: 'ipsum' })).records.map((r) => r.indicator)).toEqual(['198.51.100.1']);
    await expect(collect({ path: path.join(dir, 'long.txt'), format: 'ipsum' })).rejects.toThrow(/long\.txt: line 2 is longer than 1048576 characters/);
    await expect(collect({ path: path.join(dir, 'deep.xml'), format: 'openioc' })).rejects.toThrow(/deep\.xml: unreadable OpenIOC XML: Maximum nested tags exceeded/);
  });

  test('an empty file loads as an empty feed', async () => {
    const dir = tempFeeds({ 'empty.txt': '' });
    const { report } = await collect({ path: path.join(dir, 'empty.txt'), format: 'maltrail' });
    expect(report).toMatchObject({ records: 0, skipped: 0, bytes: 0 });
  });
});

describe('building blocks', () => {
  test('the hand-written IPv4 check agrees with net.isIP on address-like strings', () => {
    const addressLike = fc.array(fc.constantFrom('0', '1', '2', '5', '9', '25', '255', '256', '01', '.', '.', 'a', ' '), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(fc.property(addressLike, (text) => (ipProblem(text) === undefined) === (isIP(text) !== 0)), { numRuns: 2000 });
  });

  test('the duplicate filter counts exactly the distinct keys of the real ipsum and urlhaus lists', () => {
    const keys = [...dataLines(dataset('ipsum', 'ipsum.txt')).map((line) => line.split('\t')[0]!), ...dataLines(dataset('urlhaus-filter', '2025-07-19', 'urlhaus-filter-domains.txt'))];
    const set = new FingerprintSet(4);
    const added = keys.filter((key) => set.add('ip', 'X', key)).length;
    expect(added).toBe(new Set(keys).size);
    expect(set.size).toBe(added);
    expect(keys.filter((key) => set.add('ip', 'X', key))).toEqual([]);
    // The parts are kept apart: the same text under another category or split differently is a new key.
    expect(set.add('ip', 'Y', keys[0]!)).toBe(true);
    expect(set.add('i', 'pX', keys[0]!)).toBe(true);
  });
});

describe('hostile input never crashes a load', () => {
  const formats: FeedFormat[] = ['kaspersky', 'urlhaus', 'feodo', 'ipsum', 'maltrail', 'tweetfeed', 'misp', 'stix', 'openioc', 'csv', 'json'];
  const dir = tempFeeds({});
  let n = 0;

  /** Loads `content` as `format`: it must either give a report or fail with a FeedLoadError. */
  async function survives(format: FeedFormat, content: string | Uint8Array): Promise<boolean> {
    const file = path.join(dir, `input-${n++}.${format === 'openioc' ? 'xml' : format === 'csv' ? 'csv' : 'json'}`);
    writeFileSync(file, content);
    try {
      const report = await loadFeed({ path: file, format, mapping: [{ field: 'a', type: 'hash', category: 'X' }] }, () => {});
      return report.records + report.skipped >= 0;
    } catch (error) {
      if (error instanceof FeedLoadError && !error.message.includes('internal error')) return true;
      throw error;
    }
  }

  test.each(formats)('%s: random text, JSON-ish and XML-ish input', async (format) => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      fc.array(fc.constantFrom('<ioc>', '</ioc>', '<definition>', '<Indicator>', '<IndicatorItem condition="is">', '<Context search="FileItem/Md5sum"/>', '<Content>', '</Content>', 'x', '"', ',', '\n', '#', '[', '{', '}', ']', '1.2.3.4', ':', '/'), { maxLength: 60 }).map((parts) => parts.join('')),
    );
    await fc.assert(fc.asyncProperty(text, (content) => survives(format, content)), { numRuns: 40 });
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), (bytes) => survives(format, bytes)), { numRuns: 15 });
  });
});
