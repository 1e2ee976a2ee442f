/**
 * The fixed-width key table under the IP and hash indexes, on real keys: every IPsum address (one word) and the
 * TweetFeed MD5 and SHA-256 hashes (four and eight words), before and after `freeze` re-files them into buckets.
 * A key filed under a wrong bucket, or an id that does not follow its key, would be lost or misread here.
 */
import { readFileSync } from 'node:fs';
import { parseHex } from '../src/index/hash.js';
import { WordTable } from '../src/index/word-table.js';
import { dataset } from './support/paths.js';

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));

const ipsumAddresses = lines(dataset('ipsum', 'ipsum.txt')).map((line) => {
  const [a, b, c, d] = line.split('\t')[0]!.split('.').map(Number);
  return Uint32Array.of(((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0);
});
const tweetfeedHashes = (type: string, hexLength: number): Uint32Array[] =>
  lines(dataset('tweetfeed', 'month.csv'))
    .map((line) => line.split(','))
    .filter((fields) => fields[2] === type)
    .map((fields) => {
      const words = new Uint32Array(hexLength / 8);
      if (!parseHex(fields[3]!, hexLength, words)) throw new Error(`not a ${type}: ${fields[3]}`);
      return words;
    });

const cases: Array<[name: string, width: number, keys: Uint32Array[]]> = [
  ['IPsum IPv4 addresses', 1, ipsumAddresses],
  ['TweetFeed MD5s', 4, tweetfeedHashes('md5', 32)],
  ['TweetFeed SHA-256s', 8, tweetfeedHashes('sha256', 64)],
];

describe.each(cases)('WordTable of %s', (_name, width, keys) => {
  const table = new WordTable(width);
  const ids = keys.map((key) => table.intern(key));
  const distinct = new Set(keys.map((key) => key.join()));
  // Each key with its last word changed: absent unless the feed happens to hold that key too.
  const absent = keys.map((key) => key.map((word, w) => (w === width - 1 ? word ^ 1 : word))).filter((key) => !distinct.has(key.join()));

  test('the data is big enough to take many buckets', () => {
    expect(keys.length).toBeGreaterThan(200);
    expect(absent.length).toBeGreaterThan(100);
    expect(table.size).toBe(distinct.size);
  });

  // Mismatches are collected, not expected one by one: 120,000 expect() calls take a minute.
  test('while building, every key is found under its id', () => {
    expect(keys.filter((key, i) => table.find(key) !== ids[i])).toEqual([]);
    expect(absent.filter((key) => table.find(key) !== -1)).toEqual([]);
  });

  test('after freeze, every key is found under its new id, holds its words, and absent keys stay absent', () => {
    const before = table.memoryBytes;
    const newId = table.freeze();
    expect([...newId].sort((a, b) => a - b)).toEqual([...Array(table.size).keys()]);
    const misfiled = keys.filter((key, i) => {
      const id = newId[ids[i]!]!;
      const wordsRead = key.every((word, w) => table.word(id, w) === word) && table.key(id).join() === key.join();
      return table.find(key) !== id || (width === 1 && table.findWord(key[0]!) !== id) || !wordsRead;
    });
    expect(misfiled).toEqual([]);
    expect(absent.filter((key) => table.find(key) !== -1 || (width === 1 && table.findWord(key[0]!) !== -1))).toEqual([]);
    // The keys' own bytes plus at most a byte a key of bucket starts (and the one bucket end).
    expect(table.memoryBytes).toBeLessThanOrEqual(table.size * (width * 4 + 1) + 4);
    expect(table.memoryBytes).toBeLessThan(before);
    expect(() => table.intern(absent[0]!)).toThrow(/after freeze/);
  });
});

test('an empty table freezes and finds nothing', () => {
  const table = new WordTable(4);
  expect(table.freeze()).toHaveLength(0);
  expect(table.find(Uint32Array.of(1, 2, 3, 4))).toBe(-1);
  expect(new WordTable(1).freeze()).toHaveLength(0);
});
