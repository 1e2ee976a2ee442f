/**
 * Hash matching: TweetFeed's real MD5/SHA-256 rows and the real Sysmon `Hashes` fields of the OTRF dataset.
 * No public log shares a hash with these feeds, so the positive cases put a feed hash into a real Sysmon
 * `Hashes` value (marked below); the real pairing is checked as a negative case.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseHex } from '../src/index/hash.js';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import type { IndicatorType } from '../src/types.js';
import { dataset } from './support/paths.js';

const tweetfeed = readFileSync(dataset('tweetfeed', 'month.csv'), 'utf8')
  .split('\n')
  .map((line) => line.split(','))
  .filter((f) => f[2] === 'md5' || f[2] === 'sha256')
  .map((f) => ({ type: f[2] as IndicatorType, value: f[3]!, tags: f[4] ?? '' }));

const sysmonFile = readdirSync(dataset('otrf-sysmon-bitsadmin')).find((f) => f.endsWith('.json'))!;
/** Each Sysmon `Hashes` field: `SHA1=…,MD5=…,SHA256=…,IMPHASH=…` (upper-case hex). */
const sysmonHashes = [...readFileSync(dataset('otrf-sysmon-bitsadmin', sysmonFile), 'utf8').matchAll(/"Hashes":"([^"]+)"/g)].map(
  (m) => Object.fromEntries(m[1]!.split(',').map((kv) => kv.split('=') as [string, string])),
);

function matcherOf(name: string, records: Array<{ type: IndicatorType; value: string }>): Matcher {
  const builder = new FeedIndexBuilder({ name, role: 'feed', domainSuffix: false });
  for (const r of records) expect(builder.add({ type: r.type, indicator: r.value, category: `c_${r.type}`, context: [['feed', name]] })).toBeUndefined();
  const matcher = new Matcher();
  matcher.setFeed(builder.finish());
  return matcher;
}

describe('hashes', () => {
  const feed = matcherOf('tweetfeed', tweetfeed);

  test('every feed hash is found in upper and lower case, by its type and as `hash`', () => {
    expect(tweetfeed.length).toBeGreaterThan(100);
    for (const { type, value } of tweetfeed) {
      for (const query of [value.toLowerCase(), value.toUpperCase()]) {
        const expected = tweetfeed.filter((r) => r.value.toLowerCase() === query.toLowerCase()).length;
        expect(feed.match(type, query)).toHaveLength(expected);
        expect(feed.match('hash', query)).toHaveLength(expected);
        expect(feed.match(type, query)[0]).toMatchObject({ type, matchedIndicator: value, category: `c_${type}`, feed: 'tweetfeed' });
      }
    }
  });

  test('real Sysmon hashes are not in TweetFeed (a scan agrees)', () => {
    const feedSet = new Set(tweetfeed.map((r) => r.value.toLowerCase()));
    expect(sysmonHashes.length).toBeGreaterThan(10);
    for (const hashes of sysmonHashes) {
      for (const key of ['MD5', 'SHA256'] as const) {
        const value = hashes[key]!;
        expect(feed.match('hash', value).length > 0).toBe(feedSet.has(value.toLowerCase()));
      }
    }
  });

  test('a feed hash planted into a real Sysmon Hashes value is detected (synthetic event)', () => {
    const planted = tweetfeed.find((r) => r.type === 'md5')!;
    const event = { ...sysmonHashes[0]!, MD5: planted.value.toUpperCase() };
    const found = Object.values(event).flatMap((value) => feed.match('hash', value));
    expect(found.map((m) => m.matchedIndicator)).toEqual([planted.value]);
  });

  test('upper-case feeds report the indicator as written; SHA-1 by length', () => {
    const sha1 = sysmonHashes.map((h) => ({ type: 'sha1' as IndicatorType, value: h['SHA1']! }));
    const matcher = matcherOf('sysmon-sha1', sha1);
    const value = sha1[0]!.value;
    expect(matcher.match('hash', value.toLowerCase())[0]!.matchedIndicator).toBe(value);
    expect(matcher.match('sha256', value)).toEqual([]);
  });

  test('wrong lengths and non-hex never match', () => {
    const md5 = tweetfeed.find((r) => r.type === 'md5')!.value;
    for (const bad of [md5.slice(1), `${md5}0`, `${md5.slice(0, 31)}g`, '', ' ']) {
      expect(feed.match('hash', bad)).toEqual([]);
      expect(feed.match('md5', bad)).toEqual([]);
    }
    expect(feed.match('sha1', md5)).toEqual([]);
  });

  test('malformed hash indicators are rejected with a reason', () => {
    const builder = new FeedIndexBuilder({ name: 'bad', role: 'feed', domainSuffix: false });
    expect(builder.add({ type: 'md5', indicator: 'xyz', category: 'c', context: [] })).toMatch(/MD5/);
    expect(builder.add({ type: 'sha256', indicator: 'a'.repeat(32), category: 'c', context: [] })).toMatch(/SHA256/);
    expect(builder.finish().rejected).toEqual({ 'not a 32-digit hex MD5': 1, 'not a 64-digit hex SHA256': 1 });
  });
});

test('parseHex agrees with a plain reading of the digits for every character at every position', () => {
  const reference = (text: string, length: number): number[] | false =>
    text.length === length && /^[0-9a-f]+$/i.test(text) ? Array.from({ length: length / 8 }, (_, w) => parseInt(text.slice(w * 8, w * 8 + 8), 16)) : false;
  // Every ASCII character, and non-ASCII ones whose low bits are those of a hex digit (they would alias one in a
  // table indexed by the low bits).
  const characters = [...Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)), '\u0130', '\u00e1', '\u0161', '\u1030', '\uff41', '\u0b30'];
  const words = new Uint32Array(8);
  const base = '0123456789abcdefABCDEF0123456789abcdef0123456789ABCDEFabcdef0123';
  for (const length of [32, 40, 64]) {
    for (let at = 0; at < length; at++) {
      for (const character of characters) {
        const text = base.slice(0, at) + character + base.slice(at + 1, length);
        const expected = reference(text, length);
        const ok = parseHex(text, length, words);
        expect({ text, ok }).toEqual({ text, ok: expected !== false });
        if (expected !== false) expect(Array.from(words.subarray(0, length / 8))).toEqual(expected);
      }
    }
  }
});
