/** TweetFeed CSV on the real month/week/day files. */
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { dataset } from './support/paths.js';
import { collect, contextValue, countByType } from './fixtures/feeds/collect.js';

const CATEGORY: Record<string, string> = {
  url: 'TweetFeed_URL',
  domain: 'TweetFeed_Domain',
  ip: 'TweetFeed_IP',
  md5: 'TweetFeed_Hash_MD5',
  sha256: 'TweetFeed_Hash_SHA256',
};

describe('tweetfeed', () => {
  test('month.csv: distinct (type, value) pairs per type; over-long domain names skipped', async () => {
    const file = dataset('tweetfeed', 'month.csv');
    const rows = parse(readFileSync(file), { relax_quotes: true }) as string[][];
    expect(rows).toHaveLength(12092);
    const distinct = new Map<string, Set<string>>();
    for (const [, , type, value] of rows) {
      if (!distinct.has(type!)) distinct.set(type!, new Set());
      distinct.get(type!)!.add(value!);
    }
    const tooLong = [...distinct.get('domain')!].filter((domain) => domain.length > 253).length;
    const { report, records } = await collect(file);
    expect(report.format).toBe('tweetfeed');
    expect(countByType(records)).toEqual({
      url: distinct.get('url')!.size,
      domain: distinct.get('domain')!.size - tooLong,
      ip: distinct.get('ip')!.size,
      md5: distinct.get('md5')!.size,
      sha256: distinct.get('sha256')!.size,
    });
    expect(report.records + report.skipped).toBe(rows.length);
    expect(report.skipReasons['domain name longer than 253 characters']).toBe(tooLong);
    expect(records.filter((r) => r.category !== CATEGORY[r.type])).toEqual([]);
    expect(records[0]).toEqual({
      type: 'domain',
      indicator: 'biglobemailsjp.vercel.app',
      category: 'TweetFeed_Domain',
      context: [['date', '2026-07-23 01:31:00'], ['user', 'masaomi346'], ['tags', '#phishing'], ['tweet_url', 'https://x.com/masaomi346/status/2080103456434725042']],
    });
  });

  test('the 2021 daily file and today.csv load every row as a record or a counted skip', async () => {
    for (const file of [dataset('tweetfeed', '2021', '202108', '20210809.csv'), dataset('tweetfeed', 'today.csv')]) {
      const rows = parse(readFileSync(file), { relax_quotes: true }) as string[][];
      const { report, records } = await collect(file);
      expect(report.format).toBe('tweetfeed');
      expect(report.records + report.skipped).toBe(rows.length);
      expect(records.length).toBeGreaterThan(0);
      expect(records.every((r) => contextValue(r, 'tweet_url')?.startsWith('https://'))).toBe(true);
    }
  });
});
