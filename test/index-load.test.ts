/**
 * loadFeedIndex: the real feed loader feeding the index builder, on a real feed, and the merge of what the
 * index rejects into the load report (on a small synthetic trail file written here).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FeedLoadError } from '../src/feeds/load.js';
import { loadFeedIndex } from '../src/index/load.js';
import { Matcher } from '../src/index/matcher.js';
import { ParsedQuery, parseQuery, queryKindOf } from '../src/index/query.js';
import { dataset } from './support/paths.js';

describe('loadFeedIndex', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'feedtrace-index-load-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('IPsum: every listed address is indexed under the feed name, with its role', async () => {
    const file = dataset('ipsum', 'levels', '3.txt');
    const listed = readFileSync(file, 'utf8').split('\n').filter((line) => /^\d+\.\d+\.\d+\.\d+/.test(line));
    const { index, report } = await loadFeedIndex({ path: file, format: 'ipsum', name: 'ipsum-3' }, 'block');
    expect(report.records).toBe(listed.length);
    expect(index.size).toBe(listed.length);
    expect(index.options).toEqual({ name: 'ipsum-3', role: 'block', domainSuffix: false });
    const matcher = new Matcher();
    matcher.setFeed(index);
    const address = listed[listed.length - 1]!.split(/\s/)[0]!;
    expect(matcher.match('ip', address)).toEqual([expect.objectContaining({ feed: 'ipsum-3', matchedIndicator: address })]);
  });

  test('records the index rejects are counted as skipped, with the reason (synthetic trail file)', async () => {
    const file = path.join(scratch, 'trails.txt');
    writeFileSync(file, 'evil.example\nhttp://[bad\n1.2.3.4\nhttp://ok.example/x\n');
    const { index, report } = await loadFeedIndex({ path: file, format: 'maltrail' });
    expect(index.size).toBe(3);
    expect(report.records).toBe(3);
    expect(report.skipped).toBe(1);
    expect(Object.keys(report.skipReasons)).toEqual([expect.stringMatching(/^URL not valid: /)]);
    expect(index.options.domainSuffix).toBe(true);
    const matcher = new Matcher();
    matcher.setFeed(index);
    expect(matcher.match('domain', 'a.evil.example').map((m) => m.matchedIndicator)).toEqual(['evil.example']);
  });

  test('a feed that cannot be read fails as a whole with FeedLoadError naming it', async () => {
    const missing = path.join(scratch, 'missing.txt');
    await expect(loadFeedIndex({ path: missing, format: 'ipsum' })).rejects.toThrow(FeedLoadError);
    await expect(loadFeedIndex({ path: missing, format: 'ipsum' })).rejects.toThrow(missing);
  });

  test('a query is parsed as the kind known from its type (the Matcher skips kinds no feed answers before parsing)', () => {
    const values = { url: 'http://evil.example/x', domain: 'evil.example', ip: '1.2.3.4:80', md5: 'd41d8cd98f00b204e9800998ecf8427e', sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', hash: 'D41D8CD98F00B204E9800998ECF8427E' };
    for (const [type, value] of Object.entries(values)) expect([type, parseQuery(type as never, value, new ParsedQuery()).kind]).toEqual([type, queryKindOf(type)]);
    expect(queryKindOf('email')).toBeUndefined();
    expect(queryKindOf('toString')).toBeUndefined();
  });

  test('the Matcher ignores query types it does not know instead of throwing', () => {
    const matcher = new Matcher();
    expect(matcher.match('email' as never, 'x@example.org')).toEqual([]);
    expect(matcher.match('ip', undefined as never)).toEqual([]);
  });
});
