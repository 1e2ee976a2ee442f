/**
 * CSV output records, byte for byte what csv-stringify writes with `record_delimiter: 'windows'` and default
 * options, without its per-field option handling: rows leave here at the lookup's full rate. A field is quoted
 * when it holds `"`, `,` or CRLF; a bare CR or LF is not quoted (csv-stringify quotes those only when no record
 * delimiter is set). Quotes inside are doubled.
 */

const NEEDS_QUOTES = /[",]|\r\n/;

function field(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record with its CRLF. */
export function csvRecord(row: readonly (string | undefined)[]): string {
  let out = '';
  for (let i = 0; i < row.length; i++) out += i === 0 ? field(row[i]) : `,${field(row[i])}`;
  return out + '\r\n';
}
