/**
 * Reading feed files the three ways formats need: text lines and CSV rows streamed (lists run to hundreds
 * of MB), JSON and XML documents whole. Every reader adds the bytes it read to the sink's count.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse';
import { FeedLoadError } from './errors.js';
import type { FeedSink } from './sink.js';

/** Bigger reads than the stream default: fewer chunks to split on multi-hundred-MB lists. */
const READ_CHUNK = 1 << 20;
/** No line or CSV record of a real feed comes near this; a longer one means the file is not a list. */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Calls `onLine` for each line of a text file with its 1-based number, streaming (LF splits, a trailing CR
 * is dropped). A callback rather than an async generator: one await a chunk, not one a line.
 */
export async function forEachLine(path: string, sink: FeedSink, onLine: (line: string, number: number) => void): Promise<void> {
  sink.bytes += (await stat(path)).size;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let number = 0;
  const emit = (line: string): void => {
    const text = number === 0 && line.startsWith('\uFEFF') ? line.slice(1) : line; // a byte-order mark is not data
    onLine(text.endsWith('\r') ? text.slice(0, -1) : text, ++number);
  };
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
    const text = pending + decoder.write(chunk as Buffer);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      emit(text.slice(start, end));
      start = end + 1;
    }
    pending = text.slice(start);
    if (pending.length > MAX_LINE_CHARS) throw new FeedLoadError(path, `line ${number + 1} is longer than ${MAX_LINE_CHARS} characters: not a line-per-record feed`);
  }
  pending += decoder.end();
  if (pending !== '') emit(pending);
}

/**
 * Each CSV row of a file as an array of fields, with the number of the line it ends on.
 * Whole-line `#` comments and empty lines are passed over; rows the CSV grammar rejects are skipped and counted.
 */
export async function* csvRows(path: string, sink: FeedSink): AsyncGenerator<{ fields: string[]; line: number }> {
  sink.bytes += (await stat(path)).size;
  const input = createReadStream(path);
  const parser = input.pipe(
    parseCsv({
      bom: true,
      max_record_size: MAX_LINE_CHARS,
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_records_with_error: true,
      info: true,
      on_skip: (error) => {
        sink.skip(`${path}:${error?.lines ?? '?'}`, 'unreadable CSV row', error?.message);
        return undefined;
      },
    }),
  );
  // pipe() does not pass a read error on: without this, an unreadable file would leave the loop waiting forever.
  input.on('error', (error) => parser.destroy(error));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { fields: record, line: info.lines };
    }
  } catch (error) {
    throw new FeedLoadError(path, `unreadable CSV: ${(error as Error).message}`);
  }
}

/** The text of a whole document file; one too large for a single string is a load error, not a crash. */
export async function documentText(path: string, sink: FeedSink): Promise<string> {
  const buffer = await readFile(path);
  sink.bytes += buffer.length;
  try {
    return buffer.toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new FeedLoadError(path, `too large to read as one document (${buffer.length} bytes): ${(error as Error).message}`);
  }
}

/** Parses a whole JSON file; malformed or truncated JSON fails the whole feed, naming the line. */
export async function jsonDocument(path: string, sink: FeedSink): Promise<unknown> {
  const text = await documentText(path, sink);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const line = position ? `line ${text.slice(0, Number(position[1])).split('\n').length}: ` : '';
    throw new FeedLoadError(path, `not valid JSON (${line}${message})`);
  }
}

export interface CsvRecord {
  /** Column name → field. */
  row: Record<string, string>;
  /** Column names in file order. */
  columns: readonly string[];
  line: number;
}

/**
 * CSV rows keyed by column name. The first row is the header when it holds `keyColumn`; otherwise
 * `defaultColumns` name the columns (feeds published without a header) and the first row is data.
 * A row with a different number of fields than the header is skipped and counted.
 */
export async function* csvRecords(
  path: string,
  sink: FeedSink,
  keyColumn: string,
  defaultColumns?: readonly string[],
): AsyncGenerator<CsvRecord> {
  let columns: readonly string[] | undefined;
  for await (const { fields, line } of csvRows(path, sink)) {
    if (columns === undefined) {
      if (fields.includes(keyColumn)) {
        columns = fields;
        continue;
      }
      if (defaultColumns === undefined) throw new FeedLoadError(path, `line ${line}: expected a header row naming column "${keyColumn}"`);
      columns = defaultColumns;
    }
    if (fields.length !== columns.length) {
      sink.skip(`${path}:${line}`, `expected ${columns.length} CSV fields`, fields.join(','));
      continue;
    }
    const row: Record<string, string> = Object.create(null) as Record<string, string>;
    columns.forEach((name, i) => (row[name] = fields[i]!));
    yield { row, columns, line };
  }
}

/** The non-empty fields of a CSV record as context pairs, in column order, leaving out `omit`. */
export function csvContext({ row, columns }: CsvRecord, omit: readonly string[]): Array<readonly [string, string]> {
  return columns.filter((name) => !omit.includes(name) && row[name] !== '').map((name) => [name, row[name]!] as const);
}
