/**
 * CSV output records as Splunk reads them (RFC 4180, CRLF rows), written directly rather than through
 * csv-stringify's per-field option handling: rows leave here at the lookup's full rate. A field is quoted when it
 * holds `"`, `,`, CR or LF — a bare line break left unquoted would split the row for a reader (our own input
 * parser included) — and quotes inside are doubled.
 */

const NEEDS_QUOTES = /[",\r\n]/;

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
