/**
 * Record contexts survive the index's binary encoding exactly: every record of real feeds (Kaspersky hash and
 * URL feeds, where contexts repeat the record's hashes; MISP; ThreatFox OpenIOC) comes back from a lookup with
 * the context the loader gave, and so do awkward values (hex in either case or mixed, NUL, non-ASCII, long).
 */
import path from 'node:path';
import { ContextEncoder, decodeContext } from '../src/index/context-codec.js';
import { HashIndex } from '../src/index/hash.js';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import { FeedStrings } from '../src/index/records.js';
import type { ContextFields, FeedRecord, QueryType } from '../src/types.js';
import { collect } from './fixtures/feeds/collect.js';
import { dataset, repoRoot } from './support/paths.js';

const kaspersky = (name: string): string => path.join(repoRoot, 'test', 'fixtures', 'feeds', 'kaspersky', name);

function indexOf(records: FeedRecord[]): Matcher {
  const builder = new FeedIndexBuilder({ name: 'feed', role: 'feed', domainSuffix: false });
  for (const record of records) builder.add(record);
  const matcher = new Matcher();
  matcher.setFeed(builder.finish());
  return matcher;
}

const queryType = (record: FeedRecord): QueryType => (record.type === 'md5' || record.type === 'sha1' || record.type === 'sha256' ? 'hash' : record.type);

/** Every record is found with its own context (among the matches of its indicator). */
function expectContextsKept(records: FeedRecord[]): void {
  const matcher = indexOf(records);
  let checked = 0;
  for (const record of records) {
    if (record.type === 'url' && record.indicator.includes('*')) continue; // masks match URLs, not themselves
    const contexts = matcher.match(queryType(record), record.indicator).map((m) => m.context);
    expect(contexts).toContainEqual(record.context);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
}

describe('record contexts through the index', () => {
  test.each([
    ['Kaspersky Malicious_Hash_Data_Feed', kaspersky('Malicious_Hash_Data_Feed.json')],
    ['Kaspersky IP_Reputation_Data_Feed', kaspersky('IP_Reputation_Data_Feed.json')],
    ['Kaspersky Botnet_CnC_URL_Data_Feed', kaspersky('Botnet_CnC_URL_Data_Feed.json')],
    ['TweetFeed MISP events', dataset('tweetfeed', 'misp')],
    ['ThreatFox OpenIOC', dataset('threatfox-openioc', 'kaspersky_threatfox_20251006_012627.xml')],
  ])('%s: every record comes back with the context it was loaded with', async (_name, file) => {
    const { records } = await collect(file);
    expect(records.length).toBeGreaterThan(0);
    expectContextsKept(records);
  });

  test('awkward values come back exactly', () => {
    const contexts: ContextFields[] = [
      [],
      [['MD5', 'D41D8CD98F00B204E9800998ECF8427E'], ['SHA256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']],
      [['mixed', 'D41d8cd98f00b204e9800998ecf8427e'], ['digits', '1234567890123456'], ['odd', 'abcdef0123456789a'], ['short', 'ABCDEF01']],
      // Packed hex longer than a SHA-256 (SHA-384, SHA-512): formatted another way than shorter values.
      [['SHA384', '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b'], ['SHA512', 'CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E']],
      [['nul', 'a\0b'], ['empty', ''], ['utf8', 'Zoë → 東京 🙂'], ['long', 'x'.repeat(5000)]],
      // ASCII values after non-ASCII ones, after a multi-byte length and after packed hex (cut from one string).
      [['utf8', 'Zoë'], ['ascii', 'plain'], ['long', 'y'.repeat(300)], ['hex', 'D41D8CD98F00B204E9800998ECF8427E'], ['after', 'tail']],
      [['same name', '1'], ['same name', '2']],
      [['', 'no name']],
    ];
    const records: FeedRecord[] = contexts.map((context, i) => ({ type: 'ip', indicator: `192.0.2.${i + 1}`, category: 'c', context }));
    expectContextsKept(records);
  });

  test("a context refers to the feed's hash keys instead of holding its hashes", async () => {
    const { records } = await collect(kaspersky('Malicious_Hash_Data_Feed.json'));
    const context = records.find((r) => r.type === 'md5')!.context;
    const hashes = context.filter(([name]) => ['MD5', 'SHA1', 'SHA256'].includes(name));
    expect(hashes.map(([, value]) => value.length).sort()).toEqual([32, 40, 64]);
    const names = context.map(([name]) => name);
    const encoder = new ContextEncoder();
    encoder.encode(context, () => 0);
    const packed = encoder.bytes.slice(0, encoder.length);
    const keys = new HashIndex(new FeedStrings());
    encoder.encode(context, () => 0, keys);
    const referenced = encoder.bytes.slice(0, encoder.length);
    // Packed hex costs its header (a varint of 4 × bytes + kind: 1 or 2 bytes) and half the digits; a reference
    // one byte of header and, in a table of three keys, one of reference.
    const header = (bytes: number): number => (bytes * 4 + 2 < 128 ? 1 : 2);
    expect(packed.length - referenced.length).toBe(hashes.reduce((sum, [, value]) => sum + header(value.length / 2) + value.length / 2 - 2, 0));
    expect(decodeContext(Buffer.from(referenced), 0, referenced.length, () => names, keys)).toEqual(context);
    expect(decodeContext(Buffer.from(packed), 0, packed.length, () => names)).toEqual(context);
  });

  test('a hash only a context holds is found by no lookup; keys with none or several records keep theirs', () => {
    const only = 'D41D8CD98F00B204E9800998ECF8427E';
    const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    const indicator = '9e107d9d372bb6826bd81d3542a419d6';
    const records: FeedRecord[] = [
      { type: 'md5', indicator, category: 'first', context: [['MD5', only], ['note', 'upper-case hash held only here']] },
      { type: 'md5', indicator, category: 'second', context: [['SHA1', sha1]] },
      { type: 'url', indicator: 'http://example.org/x', category: 'url', context: [['payload', only.toLowerCase()]] },
    ];
    const matcher = indexOf(records);
    expect(matcher.match('hash', only)).toEqual([]);
    expect(matcher.match('hash', sha1)).toEqual([]);
    const found = matcher.match('md5', indicator);
    expect(found.map((m) => [m.category, m.context])).toEqual(records.slice(0, 2).map((r) => [r.category, r.context]));
    expect(matcher.match('url', 'http://example.org/x').map((m) => m.context)).toEqual([records[2]!.context]);
  });

  test('a field name with NUL or a field that is not a pair of strings is kept too', () => {
    const odd = [['a\0b', 'v'], ['n', 42]] as unknown as ContextFields;
    const matcher = indexOf([{ type: 'ip', indicator: '198.51.100.7', category: 'c', context: odd }]);
    expect(matcher.match('ip', '198.51.100.7')[0]!.context).toEqual(odd);
  });
});
