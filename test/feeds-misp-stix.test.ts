/** MISP feed (manifest + event files) and STIX 2.1 bundles on the real TweetFeed exports. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FeedLoadError } from '../src/feeds/load.js';
import { dataset } from './support/paths.js';
import { collect, contextValue, countByType, tempFeeds } from './fixtures/feeds/collect.js';

const mispDir = dataset('tweetfeed', 'misp');
const MISP_TYPE: Record<string, string> = { url: 'url', domain: 'domain', 'ip-dst': 'ip', md5: 'md5', sha256: 'sha256' };

describe('misp', () => {
  const manifest = JSON.parse(readFileSync(path.join(mispDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const eventFiles = readdirSync(mispDir).filter((name) => /^[0-9a-f-]{36}\.json$/.test(name));

  /** Distinct indicators of the event files, per indicator type, worked out from the raw JSON here. */
  function expectedByType(): Record<string, number> {
    const seen = new Map<string, Set<string>>();
    for (const name of eventFiles) {
      const event = JSON.parse(readFileSync(path.join(mispDir, name), 'utf8')).Event as { Attribute: Array<{ type: string; value: string }> };
      for (const { type, value } of event.Attribute) {
        const indicatorType = MISP_TYPE[type]!;
        if (!seen.has(indicatorType)) seen.set(indicatorType, new Set());
        seen.get(indicatorType)!.add(value);
      }
    }
    return Object.fromEntries([...seen].map(([type, values]) => [type, values.size]));
  }

  test('the directory: every event file present is loaded, every missing one counted', async () => {
    expect(eventFiles).toHaveLength(4);
    const { report, records } = await collect(mispDir);
    expect(report.format).toBe('misp');
    expect(countByType(records)).toEqual(expectedByType());
    expect(report.skipReasons['event file missing']).toBe(Object.keys(manifest).length - eventFiles.length);
    expect(records.filter((r) => r.category !== `MISP_${{ url: 'URL', domain: 'Domain', ip: 'IP', md5: 'Hash_MD5', sha256: 'Hash_SHA256' }[r.type as 'url']}`)).toEqual([]);
    const attribute = records.find((r) => r.indicator === 'https://io8rthrtthgfjglklibvfgt.pages.dev')!;
    expect(contextValue(attribute, 'event')).toBe('TweetFeed IOCs 2026-08-20');
    expect(contextValue(attribute, 'comment')).toBe('https://x.com/bomccss/status/2090294868581204201');
    expect(contextValue(attribute, 'event_tags')).toBe('TweetFeed,type:OSINT,tlp:clear');
  });

  test('the manifest path loads the same feed as its directory', async () => {
    const fromManifest = await collect(path.join(mispDir, 'manifest.json'));
    const fromDir = await collect(mispDir);
    expect(fromManifest.records).toEqual(fromDir.records);
  });

  test('hashes.csv is MISP cache data, never indicators: it is refused', async () => {
    await expect(collect(path.join(mispDir, 'hashes.csv'))).rejects.toThrow(FeedLoadError);
    await expect(collect({ path: path.join(mispDir, 'hashes.csv'), format: 'misp' })).rejects.toThrow(/not indicators/);
  });

  test('attribute kinds: ip|port, domain|ip, filename|hash, objects; to_ids false, deleted and unknown types counted', async () => {
    const uuid = '11111111-2222-3333-4444-555555555555';
    const event = {
      Event: {
        uuid,
        info: 'synthetic test event',
        Attribute: [
          { type: 'ip-dst|port', value: '203.0.113.9|8080', to_ids: true },
          { type: 'domain|ip', value: 'evil.test|198.51.100.4', to_ids: true },
          { type: 'filename|sha1', value: 'a.exe|' + 'a'.repeat(40), to_ids: true },
          { type: 'hostname', value: 'host.evil.test', to_ids: false },
          { type: 'url', value: 'http://deleted.test/', deleted: true },
          { type: 'mutex', value: 'Global\\x', to_ids: true },
          'not an object',
        ],
        Object: [{ name: 'file', Attribute: [{ type: 'sha256', value: 'b'.repeat(64), to_ids: true }] }],
      },
    };
    const dir = tempFeeds({
      'manifest.json': JSON.stringify({ [uuid]: { info: 'synthetic test event' }, 'not-a-uuid': {} }),
      [`${uuid}.json`]: JSON.stringify(event),
    });
    const { report, records } = await collect({ path: dir, format: 'misp' });
    expect(records.map((r) => [r.type, r.indicator])).toEqual([
      ['ip', '203.0.113.9:8080'],
      ['domain', 'evil.test'],
      ['ip', '198.51.100.4'],
      ['sha1', 'a'.repeat(40)],
      ['sha256', 'b'.repeat(64)],
    ]);
    expect(report.skipReasons).toEqual({
      'manifest key is not an event uuid': 1,
      'attribute not for detection (to_ids false)': 1,
      'deleted attribute': 1,
      'unsupported attribute type': 1,
      'attribute is not an object': 1,
    });
    expect(report.samples.find((s) => s.reason.startsWith('unsupported'))?.where).toBe(`${path.join(dir, `${uuid}.json`)}#Attribute[5]`);
  });
});

describe('stix', () => {
  /** Indicator patterns of a bundle, read here with a plain regular expression. */
  function patternTypes(file: string): Record<string, number> {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { objects: Array<{ type: string; pattern?: string }> };
    const counts: Record<string, number> = {};
    const kinds: Array<[RegExp, string]> = [
      [/^\[domain-name:value/, 'domain'],
      [/^\[url:value/, 'url'],
      [/^\[ipv[46]-addr:value/, 'ip'],
      [/^\[file:hashes\.(MD5|'MD5')/, 'md5'],
      [/^\[file:hashes\.'SHA-256'/, 'sha256'],
    ];
    for (const object of bundle.objects.filter((o) => o.type === 'indicator')) {
      const kind = kinds.find(([pattern]) => pattern.test(object.pattern!))![1];
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  }

  test('week.json: one record per indicator, as many as the STIX manifest announces', async () => {
    const file = dataset('tweetfeed', 'stix', 'week.json');
    const manifest = JSON.parse(readFileSync(dataset('tweetfeed', 'stix', 'manifest.json'), 'utf8'));
    const { report, records } = await collect(file);
    expect(report.format).toBe('stix');
    expect(report.records).toBe(manifest.bundles.week.indicator_count);
    expect(countByType(records)).toEqual(patternTypes(file));
    const first = records[0]!;
    expect(first).toMatchObject({ type: 'domain', indicator: 'hndjsy.com', category: 'STIX_Domain' });
    expect(contextValue(first, 'labels')).toBe('phishing');
    expect(contextValue(first, 'external_references/url')).toBe('https://x.com/masaomi346/status/2088794108454465822');
  });

  test('today.json loads as many indicators as announced', async () => {
    const manifest = JSON.parse(readFileSync(dataset('tweetfeed', 'stix', 'manifest.json'), 'utf8'));
    const { report } = await collect(dataset('tweetfeed', 'stix', 'today.json'));
    expect(report.records).toBe(manifest.bundles.today.indicator_count);
  });

  test('patterns other than one simple comparison are skipped and counted', async () => {
    const indicator = (pattern: string, extra: object = {}): object => ({ type: 'indicator', id: `indicator--${pattern.length}`, pattern, pattern_type: 'stix', ...extra });
    const dir = tempFeeds({
      'bundle.json': JSON.stringify({
        type: 'bundle',
        id: 'bundle--1',
        objects: [
          indicator("[ipv6-addr:value = '2001:db8::1']"),
          indicator("[file:hashes.'SHA-1' = '" + 'c'.repeat(40) + "']"),
          indicator("[url:value = 'http://o\\'brien.test/x']"),
          indicator("[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'x.test']"),
          indicator("[process:name = 'evil.exe']"),
          indicator("[domain-name:value = 'revoked.test']", { revoked: true }),
          indicator('alert tcp any any -> any any', { pattern_type: 'snort' }),
          { type: 'malware', id: 'malware--1', name: 'not an indicator' },
        ],
      }),
    });
    const { report, records } = await collect(path.join(dir, 'bundle.json'));
    expect(records.map((r) => [r.type, r.indicator])).toEqual([
      ['ip', '2001:db8::1'],
      ['sha1', 'c'.repeat(40)],
      ['url', "http://o'brien.test/x"],
    ]);
    expect(report.skipReasons).toEqual({ 'unsupported STIX pattern': 2, 'revoked indicator': 1, 'pattern language other than stix': 1 });
  });
});
