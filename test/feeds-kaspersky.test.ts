/**
 * Kaspersky Threat Data Feeds through the built-in catalog (on the synthetic fixtures: no public sample
 * exists), and user mappings for generic JSON and CSV feeds (on real data).
 */
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KASPERSKY_FEEDS, kasperskyFeedForFile } from '../src/feeds/catalog.js';
import { FeedLoadError } from '../src/feeds/load.js';
import { parseMappingSpec } from '../src/feeds/mapping.js';
import { dataset, repoRoot } from './support/paths.js';
import { collect, contextValue, countByType, tempFeeds } from './fixtures/feeds/collect.js';

const fixture = (name: string): string => path.join(repoRoot, 'test', 'fixtures', 'feeds', 'kaspersky', name);
type KlRecord = Record<string, unknown> & { mask?: string; files?: Array<Record<string, string>> };
const fixtureRecords = (name: string): KlRecord[] => JSON.parse(readFileSync(fixture(name), 'utf8')) as KlRecord[];

describe('catalog', () => {
  // The self-test table of the Splunk app (feed → verification indicator), typed out again here.
  const verification: Array<[string, string]> = [
    ['Malicious_URL_Data_Feed', 'http://fakess123.nu'],
    ['Phishing_URL_Data_Feed', 'http://fakess123ap.nu'],
    ['Botnet_CnC_URL_Data_Feed', 'http://a7396d61caffe18a4cffbb3b428c9b60.com'],
    ['Botnet_CnC_URL_Data_Feed', 'http://fakess123bn.nu/'],
    ['IP_Reputation_Data_Feed', '192.0.2.0'],
    ['Malicious_Hash_Data_Feed', 'C912705B4BBB14EC7E78FA8B370532C9'],
    ['Ransomware_URL_Data_Feed', 'http://fakess123r.nu'],
    ['Mobile_Malicious_Hash_Data_Feed', '60300A92E1D0A55C7FDD360EE40A9DC1'],
    ['Mobile_BotnetCnC_Data_Feed', '001F6251169E6916C455495050A3FB8D'],
    ['APT_URL_Data_Feed', 'http://b046f5b25458638f6705d53539c79f62.com'],
    ['APT_Hash_Data_Feed', '7A2E65A0F70EE0615EC0CA34240CF082'],
    ['APT_IP_Data_Feed', '192.0.2.4'],
    ['IoT_URL_Data_Feed', 'http://e593461621ee0f9134c632d00bf108fd.com/.i'],
    ['Vulnerability_Data_Feed', 'D8C1F5B4AD32296649FF46027177C594'],
    ['ICS_Hash_Data_Feed', '7A8F30B40C6564EFF95E678F7C43346C'],
    ['Demo_Botnet_CnC_URL_Data_Feed', 'http://5a015004f9fc05290d87e86d69c4b237.com'],
    ['Demo_IP_Reputation_Data_Feed', '192.0.2.1'],
    ['Demo_Malicious_Hash_Data_Feed', '776735A8CA96DB15B422879DA599F474'],
  ];

  test('every verification indicator is in its feed, under the category of its kind', () => {
    const listed = KASPERSKY_FEEDS.flatMap((feed) => feed.verification.map((v) => [feed.name, v.indicator]));
    expect(listed.sort()).toEqual([...verification].sort());
    const kindCategory = (category: string): string => (/_URL$/.test(category) ? 'url' : /_IP(_Reputation)?$|_IP_/.test(category) ? 'ip' : 'hash');
    for (const feed of KASPERSKY_FEEDS) {
      for (const { indicator, category } of feed.verification) {
        const kind = indicator.startsWith('http') ? 'url' : /^[0-9A-F]{32}$/.test(indicator) ? 'hash' : 'ip';
        expect([feed.name, kindCategory(category)]).toEqual([feed.name, kind]);
        expect(feed.fields.map((f) => f.category)).toContain(category);
      }
    }
  });

  test('documented field → category entries', () => {
    const fields = (name: string): string[] => kasperskyFeedForFile(`${name}.json`)!.fields.map((f) => `${f.name} ${f.type} ${f.category}`);
    expect(fields('Botnet_CnC_URL_Data_Feed')).toEqual([
      'mask URL KL_BotnetCnC_URL',
      'files/MD5 MD5 KL_BotnetCnC_Hash_MD5',
      'files/SHA1 SHA1 KL_BotnetCnC_Hash_SHA1',
      'files/SHA256 SHA256 KL_BotnetCnC_Hash_SHA256',
    ]);
    expect(fields('Malicious_URL_Data_Feed')).toEqual(['mask URL KL_Malicious_URL']);
    expect(fields('Phishing_URL_Data_Feed')).toEqual(['mask URL KL_Phishing_URL']);
    expect(fields('IP_Reputation_Data_Feed')).toEqual(['ip IP KL_IP_Reputation']);
    expect(fields('Malicious_Hash_Data_Feed')).toEqual(['MD5 MD5 KL_Malicious_Hash_MD5', 'SHA1 SHA1 KL_Malicious_Hash_SHA1', 'SHA256 SHA256 KL_Malicious_Hash_SHA256']);
    expect(fields('Demo_IP_Reputation_Data_Feed')).toEqual(fields('IP_Reputation_Data_Feed'));
    expect(kasperskyFeedForFile('Botnet_CnC_URL_Data_Feed.json')!.id).toBe(65);
    expect(kasperskyFeedForFile('IP_Reputation_Data_Feed.json')!.id).toBe(68);
    expect(kasperskyFeedForFile('Demo_IP_Reputation_Data_Feed.json')!.id).toBe(87);
    expect(kasperskyFeedForFile('Some_Other_Feed.json')).toBeUndefined();
  });
});

describe('kaspersky feeds (synthetic fixtures)', () => {
  test('Malicious_URL: one url record per mask; the hashes of a URL feed are not indexed unless listed', async () => {
    const raw = fixtureRecords('Malicious_URL_Data_Feed.json');
    const { report, records } = await collect(fixture('Malicious_URL_Data_Feed.json'));
    expect(report.format).toBe('kaspersky');
    expect(records.map((r) => r.indicator)).toEqual(raw.map((r) => r.mask));
    expect(records.filter((r) => r.type !== 'url' || r.category !== 'KL_Malicious_URL')).toEqual([]);
    const drop = records.find((r) => r.indicator === '*.malware-drop.example/payload/*')!;
    expect(contextValue(drop, 'files/MD5')).toBe(raw[1]!.files!.map((f) => f.MD5).join(','));
    expect(contextValue(drop, 'whois/contact/country')).toBe('DE');
    expect(contextValue(drop, 'geo')).toBe('de');
    expect(drop.context[0]).toEqual(['id', '2']);
  });

  test('Botnet_CnC_URL: masks and the listed files/MD5|SHA1|SHA256 hashes', async () => {
    const raw = fixtureRecords('Botnet_CnC_URL_Data_Feed.json');
    const files = raw.flatMap((r) => r.files ?? []);
    const { records } = await collect(fixture('Botnet_CnC_URL_Data_Feed.json'));
    expect(countByType(records)).toEqual({ url: raw.length, md5: files.length, sha1: files.length, sha256: files.length });
    expect(records.filter((r) => r.type === 'sha256').every((r) => r.category === 'KL_BotnetCnC_Hash_SHA256')).toBe(true);
  });

  test('IP_Reputation and its Demo variant; Malicious_Hash: three hashes a record', async () => {
    const ip = await collect(fixture('IP_Reputation_Data_Feed.json'));
    expect(ip.records.map((r) => r.indicator)).toEqual(fixtureRecords('IP_Reputation_Data_Feed.json').map((r) => r.ip));
    expect(contextValue(ip.records[1]!, 'threat_score')).toBe('75');
    const demo = await collect(fixture('Demo_IP_Reputation_Data_Feed.json'));
    expect(demo.report.format).toBe('kaspersky');
    expect(demo.records.every((r) => r.category === 'KL_IP_Reputation')).toBe(true);
    const hash = await collect(fixture('Malicious_Hash_Data_Feed.json'));
    expect(countByType(hash.records)).toEqual({ md5: 3, sha1: 3, sha256: 3 });
    expect(contextValue(hash.records[3]!, 'urls/url')).toBe('malware-drop.example/payload/a.exe,198.51.100.7/install.exe');
  });

  test('every fixture holds its feed verification indicator under the catalog category (what the self-test looks up)', async () => {
    for (const name of ['Malicious_URL_Data_Feed', 'Phishing_URL_Data_Feed', 'Botnet_CnC_URL_Data_Feed', 'IP_Reputation_Data_Feed', 'Demo_IP_Reputation_Data_Feed', 'Malicious_Hash_Data_Feed']) {
      const { records } = await collect(fixture(`${name}.json`));
      for (const { indicator, category } of kasperskyFeedForFile(`${name}.json`)!.verification) {
        const stored = indicator.replace(/^http:\/\//, '');
        expect(records.find((r) => r.indicator === stored)?.category).toBe(category);
      }
    }
  });

  test('malformed records are skipped with their record index and reason', async () => {
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let i = 0; i < 40; i++) node = (node.next = {}) as Record<string, unknown>;
    const dir = tempFeeds({
      'Malicious_URL_Data_Feed.json': JSON.stringify([
        { mask: 'ok.test/a' },
        42,
        { mask: 7 },
        { mask: '*' },
        { mask: '*/*' },
        { mask: '  ' },
        { mask: { nested: 'x' } },
        { type: 1 },
        { mask: 'deep.test', deep },
        { mask: 'ok.test/a' },
      ]),
    });
    const { report, records } = await collect(path.join(dir, 'Malicious_URL_Data_Feed.json'));
    expect(records.map((r) => r.indicator)).toEqual(['ok.test/a']);
    expect(report.skipReasons).toEqual({
      'record is not a JSON object': 1,
      'mask is not a string': 2,
      'mask matches every URL': 2,
      'no indicator in the mapped fields': 2,
      'nested deeper than 16 levels': 1,
      'duplicate indicator': 1,
    });
    expect(report.samples[0]!.where).toBe(`${path.join(dir, 'Malicious_URL_Data_Feed.json')}#1`);
  });

  test('truncated JSON fails the whole feed with the line; an unknown feed name asks for a mapping', async () => {
    const text = readFileSync(fixture('Malicious_URL_Data_Feed.json'), 'utf8');
    const dir = tempFeeds({ 'Malicious_URL_Data_Feed.json': text.slice(0, 700), 'My_Feed.json': '[{"indicator": "x.test"}]' });
    await expect(collect(path.join(dir, 'Malicious_URL_Data_Feed.json'))).rejects.toThrow(/Malicious_URL_Data_Feed\.json: not valid JSON \(line \d+/);
    await expect(collect({ path: path.join(dir, 'My_Feed.json'), format: 'kaspersky' })).rejects.toThrow(/not a catalog feed file name .*give a mapping/);
    const mapped = await collect({ path: path.join(dir, 'My_Feed.json'), format: 'kaspersky', mapping: [{ field: 'indicator', type: 'domain', category: 'My_Domain' }] });
    expect(mapped.records).toEqual([{ type: 'domain', indicator: 'x.test', category: 'My_Domain', context: [['indicator', 'x.test']] }]);
  });
});

describe('json and csv with a mapping', () => {
  const tweetRows = parse(readFileSync(dataset('tweetfeed', 'week.csv')), { relax_quotes: true }) as string[][];

  test('json: a JSON array (and JSON lines) built from real TweetFeed rows, hashes typed by length', async () => {
    const objects = tweetRows.map(([date, user, type, value, tags, tweet]) => ({ date, source: { user, tweet }, ioc: { [type === 'md5' || type === 'sha256' ? 'hash' : type!]: value }, tags: tags!.split(' ').filter(Boolean) }));
    const dir = tempFeeds({ 'week.json': JSON.stringify(objects), 'week.jsonl': objects.map((o) => JSON.stringify(o)).join('\n') + '\n{broken\n' });
    const mapping = parseMappingSpec('ioc/url=url:TF_URL, ioc/domain=domain:TF_Domain, ioc/ip=ip:TF_IP, ioc/hash=hash:TF_Hash');
    const { report, records } = await collect({ path: path.join(dir, 'week.json'), format: 'json', mapping });
    const tweetfeed = await collect(dataset('tweetfeed', 'week.csv'));
    expect(countByType(records)).toEqual(countByType(tweetfeed.records));
    expect(report.records + report.skipped).toBe(tweetRows.length);
    expect(new Set(records.map((r) => r.category))).toEqual(new Set(['TF_URL', 'TF_Domain', 'TF_IP', 'TF_Hash']));
    expect(contextValue(records[0]!, 'source/user')).toBe(tweetRows[0]![1]);
    const lines = await collect({ path: path.join(dir, 'week.jsonl'), format: 'json', mapping });
    expect(lines.records).toEqual(records);
    expect(lines.report.skipReasons['not valid JSON']).toBe(1);
  });

  test('csv: the Feodo CSV mapped by column name, every column as context', async () => {
    const file = dataset('feodotracker', 'ipblocklist.csv');
    const { report, records } = await collect({ path: file, format: 'csv', mapping: [{ field: 'dst_ip', type: 'ip', category: 'My_C2' }] });
    expect(report.records).toBe(28);
    expect(records[0]).toEqual({
      type: 'ip',
      indicator: '192.9.135.73',
      category: 'My_C2',
      context: [['first_seen_utc', '2023-05-23 17:51:44'], ['dst_ip', '192.9.135.73'], ['dst_port', '1194'], ['c2_status', 'online'], ['last_online', '2024-04-01'], ['malware', 'Pikabot']],
    });
    await expect(collect({ path: file, format: 'csv', mapping: [{ field: 'dst_ip', type: 'ip', category: 'C' }, { field: 'nope', type: 'url', category: 'C' }] })).rejects.toThrow(/no column "nope"/);
    await expect(collect({ path: file, format: 'csv' })).rejects.toThrow(/needs a mapping/);
  });

  test('a mapping in a sidecar file <feed>.mapping needs no code and no flag', async () => {
    const csvText = readFileSync(dataset('feodotracker', 'ipblocklist.csv'));
    const dir = tempFeeds({
      'c2.csv': csvText,
      'c2.csv.mapping': '# Feodo rows, by destination IP\ndst_ip=ip:Sidecar_C2\n',
      'bad.csv': csvText,
      'bad.csv.mapping': 'dst_ip=email:X',
    });
    const { records } = await collect({ path: path.join(dir, 'c2.csv'), format: 'csv' });
    expect(records).toHaveLength(28);
    expect(new Set(records.map((r) => r.category))).toEqual(new Set(['Sidecar_C2']));
    await expect(collect({ path: path.join(dir, 'bad.csv'), format: 'csv' })).rejects.toThrow(/bad\.csv\.mapping: mapping item "dst_ip=email:X"/);
  });

  test('a mapping on a preset format renames its categories per type', async () => {
    const { records } = await collect({ path: dataset('feodotracker', 'ipblocklist.csv'), mapping: [{ field: '', type: 'ip', category: 'Botnet_C2' }] });
    expect(new Set(records.map((r) => r.category))).toEqual(new Set(['Botnet_C2']));
  });

  test('mapping spec syntax errors name the item', () => {
    expect(parseMappingSpec('a/b=sha256:X')).toEqual([{ field: 'a/b', type: 'sha256', category: 'X' }]);
    expect(parseMappingSpec('# comment, with a comma\nx=url:U\n\ny=domain:D, z=hash:H')).toEqual([
      { field: 'x', type: 'url', category: 'U' },
      { field: 'y', type: 'domain', category: 'D' },
      { field: 'z', type: 'hash', category: 'H' },
    ]);
    expect(() => parseMappingSpec('a=email:X')).toThrow(/mapping item "a=email:X"/);
    expect(() => parseMappingSpec('just-a-field')).toThrow(/expected field=type:category/);
  });
});
