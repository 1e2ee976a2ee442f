import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { csvRecord } from '../src/lookup/csv.js';

describe('csvRecord', () => {
  it('writes what csv-stringify writes with windows record delimiters', () => {
    const tricky = ['ends in cr\r', '', 'a', 'a,b', 'say "hi"', '"', 'line\nbreak', 'cr\rlf\r\n', ' padded ', '=1+1', '-x', 'ünï', '\t'];
    expect(csvRecord(tricky)).toBe(stringify([tricky], { record_delimiter: 'windows' }));
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' ', 'é', '=') }), { minLength: 1, maxLength: 6 }), (row) => {
        expect(csvRecord(row)).toBe(stringify([row], { record_delimiter: 'windows' }));
      }),
    );
  });
});
