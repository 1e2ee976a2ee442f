import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvRecord } from '../src/lookup/csv.js';

describe('csvRecord', () => {
  it('writes what csv-stringify writes with windows record delimiters and every line break quoted', () => {
    const splunkCsv = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;
    const tricky = ['ends in cr\r', '', 'a', 'a,b', 'say "hi"', '"', 'line\nbreak', 'cr\rlf\r\n', ' padded ', '=1+1', '-x', 'ünï', '\t'];
    expect(csvRecord(tricky)).toBe(stringify([tricky], splunkCsv));
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' ', 'é', '=') }), { minLength: 1, maxLength: 6 }), (row) => {
        expect(csvRecord(row)).toBe(stringify([row], splunkCsv));
      }),
    );
  });

  it('a value with a line break reads back as one field of one row', () => {
    const row = ['a\nb', 'c\rd', 'plain'];
    expect(parse(csvRecord(row), { record_delimiter: ['\r\n', '\n'] })).toEqual([row]);
  });
});
