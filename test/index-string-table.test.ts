/**
 * The string interning table under the URL, domain and mask indexes, on real indicator text: every URL and domain
 * of the URLhaus lists and 50,000 maltrail trails, interned through all of the table's growth steps.
 * Its slots hold a hash tag beside the id: a wrong tag or id would lose strings or find absent ones here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { HashFilter, StringTable, hashText } from '../src/index/string-table.js';
import { dataset } from './support/paths.js';

const listLines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('!') && !line.startsWith('#'));

const trailsDir = dataset('maltrail-trails', 'trails', 'static');
const trailFiles = readdirSync(trailsDir, { recursive: true })
  .map(String)
  .filter((name) => name.endsWith('.txt'))
  .map((name) => path.join(trailsDir, name));

const texts = [
  ...listLines(dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt')),
  ...listLines(dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-domains-online.txt')),
  // The first 50,000 trails (all of them take seconds more, and add no growth step of interest).
  ...trailFiles.flatMap((file) => listLines(file).map((line) => line.split('#')[0]!.trim())).slice(0, 50_000),
  // Non-ASCII text is hashed from its UTF-8 bytes (another path through the table).
  'bücher.example/straße',
  'пример.испытание',
  '例え.テスト/パス?q=値',
].filter((text) => text !== '');

describe('StringTable on real indicators', () => {
  const table = new StringTable();
  const ids = new Map<string, number>();
  for (const text of texts) {
    const id = table.intern(text);
    if (!ids.has(text)) ids.set(text, id);
  }

  test('gives each distinct string the next dense id, and the same id again', () => {
    expect(ids.size).toBeGreaterThan(50_000);
    expect(table.size).toBe(ids.size);
    expect([...ids.values()].every((id, i) => id === i)).toBe(true);
    expect([...ids].filter(([text, id]) => table.intern(text) !== id)).toEqual([]);
    expect(table.size).toBe(ids.size);
  });

  test('finds every string, also as a slice of a longer text, and reads it back', () => {
    const wrong = [...ids].filter(([text, id]) => table.find(text) !== id || table.find(`<${text}>`, 1, text.length + 1) !== id || table.text(id) !== text);
    expect(wrong).toEqual([]);
  });

  test('finds nothing that was not interned', () => {
    let found = 0;
    for (const text of ids.keys()) {
      for (const absent of [`${text}/`, `x${text}`, text.slice(0, -1)]) if (!ids.has(absent) && table.find(absent) >= 0) found++;
    }
    expect(found).toBe(0);
  });

  test('keeps finding after compact(), and finds nothing once compacted unfindable', () => {
    table.compact();
    expect([...ids].filter(([text, id]) => table.find(text) !== id)).toEqual([]);
    table.compact({ findable: false });
    expect([...ids.keys()].filter((text) => table.find(text) >= 0)).toEqual([]);
    expect(table.text(ids.get('пример.испытание')!)).toBe('пример.испытание');
    expect(() => table.intern('new.example')).toThrow(/after compact/);
  });
});

describe('HashFilter on the same texts', () => {
  const noted = texts.slice(0, 40_000);
  const notedSet = new Set(noted);
  const absent = texts.slice(40_000).filter((text) => !notedSet.has(text));
  const filter = new HashFilter();
  for (const text of noted) filter.add(hashText(text, 0, text.length));
  filter.finish();

  test('passes every noted text, and every non-ASCII one', () => {
    expect(noted.filter((text) => !filter.mayHave(hashText(text, 0, text.length)))).toEqual([]);
    expect(filter.mayHave(hashText('пример.испытание', 0, 16))).toBe(true);
  });

  test('rules out most other texts (8 bits a text: about one in eight passes)', () => {
    expect(absent.length).toBeGreaterThan(10_000);
    const passed = absent.filter((text) => filter.mayHave(hashText(text, 0, text.length))).length;
    expect(passed / absent.length).toBeLessThan(0.2);
    expect(filter.memoryBytes).toBeLessThanOrEqual(noted.length * 2);
  });
});
