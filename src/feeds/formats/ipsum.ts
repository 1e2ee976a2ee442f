/**
 * IPsum (stamparm/ipsum): `IP<TAB>count` lines, the count being how many blocklists name the IP.
 * The `levels/N.txt` files hold bare IPs, which load too (without a count).
 */
import type { FeedFormatParser } from '../format.js';
import { forEachLine } from '../files.js';

export const IPSUM_CATEGORY = 'IPsum_IP_Reputation';

export const ipsum: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, sink }) {
    await forEachLine(path, sink, (line, number) => {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) return;
      const where = `${path}:${number}`;
      const [ip, count, ...rest] = text.split(/\s+/);
      if (rest.length > 0 || (count !== undefined && !/^\d+$/.test(count))) {
        sink.skip(where, 'expected IP and blocklist count', text);
        return;
      }
      sink.emit(where, 'ip', ip!, IPSUM_CATEGORY, count === undefined ? [] : [['blocklists', count]]);
    });
  },
};
