/**
 * Hostile input: arbitrary strings as feed indicators, contexts and queries of every type never make the index
 * throw; rejected indicators come with a reason, contexts come back intact (NUL and all), and what was
 * accepted is found again.
 */
import fc from 'fast-check';
import { FeedIndexBuilder, Matcher } from '../src/index/matcher.js';
import type { IndicatorType, QueryType } from '../src/types.js';

const INDICATOR_TYPES: IndicatorType[] = ['url', 'domain', 'ip', 'md5', 'sha1', 'sha256'];
const QUERY_TYPES: QueryType[] = [...INDICATOR_TYPES, 'hash'];

/** Strings biased towards the characters that matter to the parsers. */
const tricky = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF.:/[]*?#%@\\ -x'.split('')), maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

test('arbitrary indicators and queries never throw', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(...INDICATOR_TYPES), tricky), { maxLength: 30 }), fc.array(fc.tuple(fc.constantFrom(...QUERY_TYPES), tricky), { maxLength: 30 }), (indicators, queries) => {
      const builder = new FeedIndexBuilder({ name: 'hostile', role: 'feed', domainSuffix: true });
      const accepted: Array<[IndicatorType, string]> = [];
      for (const [type, indicator] of indicators) {
        const reason = builder.add({ type, indicator, category: 'c', context: [[indicator, indicator]] });
        if (reason === undefined) accepted.push([type, indicator]);
        else expect(reason.length).toBeGreaterThan(0);
      }
      const index = builder.finish();
      expect(index.size).toBe(accepted.length);
      const matcher = new Matcher();
      matcher.setFeed(index);
      // Each record's context is [[indicator, indicator]]: whatever matches must carry its own, intact.
      const matches = [...queries, ...accepted].flatMap(([type, value]) => matcher.match(type, value));
      for (const m of matches) expect(m.context).toEqual([[m.matchedIndicator, m.matchedIndicator]]);
    }),
    { numRuns: 300 },
  );
});

test('accepted IPs, domains and hashes are found by their own text', () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.ipV6(), fc.domain(), fc.stringMatching(/^[0-9a-fA-F]{64}$/), (v4, v6, domain, sha256) => {
      const builder = new FeedIndexBuilder({ name: 'f', role: 'feed', domainSuffix: false });
      for (const [type, indicator] of [['ip', v4], ['ip', v6], ['domain', domain], ['sha256', sha256]] as Array<[IndicatorType, string]>) {
        expect(builder.add({ type, indicator, category: 'c', context: [] })).toBeUndefined();
      }
      const matcher = new Matcher();
      matcher.setFeed(builder.finish());
      expect(matcher.match('ip', v4).map((m) => m.matchedIndicator)).toContain(v4);
      expect(matcher.match('ip', v6).map((m) => m.matchedIndicator)).toContain(v6);
      expect(matcher.match('domain', domain.toUpperCase()).map((m) => m.matchedIndicator)).toEqual([domain]);
      expect(matcher.match('hash', sha256.toLowerCase()).map((m) => m.matchedIndicator)).toEqual([sha256]);
    }),
    { numRuns: 300 },
  );
});
