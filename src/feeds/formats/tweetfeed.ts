/** TweetFeed CSV (no header): `date,user,type,value,tags,tweet_url`, type one of url/domain/ip/md5/sha1/sha256. */
import type { IndicatorType } from '../../types.js';
import type { FeedFormatParser } from '../format.js';
import { typeCategory } from '../format.js';
import { csvContext, csvRecords } from '../files.js';

export const TWEETFEED_CATEGORY_PREFIX = 'TweetFeed';
const COLUMNS = ['date', 'user', 'type', 'value', 'tags', 'tweet_url'];
const TYPES: ReadonlySet<string> = new Set<IndicatorType>(['url', 'domain', 'ip', 'md5', 'sha1', 'sha256']);

export const tweetfeed: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, sink }) {
    for await (const record of csvRecords(path, sink, 'tweet_url', COLUMNS)) {
      const type = (record.row.type ?? '').trim().toLowerCase();
      const where = `${path}:${record.line}`;
      if (!TYPES.has(type)) {
        sink.skip(where, 'unsupported TweetFeed type', type);
        continue;
      }
      const indicatorType = type as IndicatorType;
      sink.emit(where, indicatorType, record.row.value ?? '', typeCategory(TWEETFEED_CATEGORY_PREFIX, indicatorType), csvContext(record, ['type', 'value']));
    }
  },
};
