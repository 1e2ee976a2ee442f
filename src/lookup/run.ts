/**
 * One lookup run: Splunk's external-lookup CSV on the input, the same CSV with matches on the output.
 *
 * - Arguments are the lookup's field names; the known input names (url, domain, ip, md5, sha1, sha256, hash) are
 *   inputs, the others outputs. Header columns not named are echoed untouched.
 * - A row with inputs filled and no output filled is looked up: each match of each of its input values becomes
 *   one output row (the input row unchanged, the outputs filled); a row without a match is not written.
 *   Any other row (reverse lookup: only outputs filled; or both filled) is passed through untouched.
 * - Each unique value is sent once; rows leave in input order as soon as their values are answered.
 *
 * Exit code: 0 when every value was answered (invalid values are skipped, counted on stderr, and are no error);
 * 1 when some values could not be looked up (service down, timing out, deadline): the rows that could be
 * answered are still written, and stderr says what failed, so Splunk shows an error instead of silently
 * missing matches; 2 for a usage, configuration or input error.
 */
import type { Readable, Writable } from 'node:stream';
import { parse } from 'csv-parse';
import type { LookupConfig } from './config.js';
import { csvRecord } from './csv.js';
import { formatAddress } from './config.js';
import { Dispatcher, type Request } from './dispatcher.js';
import { Fifo } from './fifo.js';
import { formatKv } from './kv.js';
import { contextPairs, type Detection } from './reply.js';
import { INPUT_FIELDS, isInputField, prepareValue, type InputField, type WireType } from './values.js';

export const EXIT_OK = 0;
export const EXIT_LOOKUP_FAILED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

export interface RunOptions {
  /** The lookup's field names (external_cmd arguments); empty: take them from the header. */
  fields: string[];
  input: Readable;
  output: Writable;
  config: LookupConfig;
  /** One line each, without line end (stderr → Splunk's search.log). */
  log: (line: string) => void;
  /** Input reading pauses while this many rows wait for answers (memory stays bounded on huge inputs). */
  maxPendingRows?: number;
}

export interface RunResult {
  exitCode: number;
  rowsIn: number;
  rowsOut: number;
  uniqueValues: number;
  skipped: number;
  failedValues: number;
}

/** The answer state of one unique value. */
interface Entry {
  /**
   * Per detection, its output values (`Columns.outputs` order), computed once when the answer arrives: rows that
   * share the value share them, and the detection itself need not be kept. Undefined until answered.
   */
  matches: string[][] | undefined;
  failed: boolean;
}

/** No detection: shared by every value without a match. */
const NO_MATCHES: string[][] = [];

interface PendingRow {
  row: string[];
  /** (input column, entry) per looked-up value; empty for a pass-through row. */
  lookups: Array<{ column: number; entry: Entry }>;
  passThrough: boolean;
}

interface Columns {
  inputs: Array<{ index: number; field: InputField }>;
  outputs: Array<{ index: number; name: string }>;
}

function resolveColumns(header: string[], fields: string[]): Columns {
  const named = fields.length > 0 ? new Set(fields) : new Set(header);
  const inputs: Columns['inputs'] = [];
  const outputs: Columns['outputs'] = [];
  header.forEach((name, index) => {
    if (!named.has(name)) return;
    if (isInputField(name)) inputs.push({ index, field: name });
    else outputs.push({ index, name });
  });
  if (fields.length > 0 && !fields.some(isInputField)) {
    throw new UsageError(`no input field among the arguments "${fields.join(' ')}" (expected some of ${INPUT_FIELDS.join(', ')})`);
  }
  if (inputs.length === 0) throw new UsageError(`the CSV header "${header.join(',')}" has no input field (${INPUT_FIELDS.join(', ')})`);
  return { inputs, outputs };
}

export async function runLookup(opts: RunOptions): Promise<RunResult> {
  const { config, log } = opts;
  const result: RunResult = { exitCode: EXIT_OK, rowsIn: 0, rowsOut: 0, uniqueValues: 0, skipped: 0, failedValues: 0 };
  const skipReasons = new Map<string, number>();
  const failReasons = new Map<string, number>();
  /** Wire type → wire value → its entry (two levels: no key string to build and hash per row). */
  const entries = new Map<WireType, Map<string, Entry>>();
  /** Request id → entry, until answered (ids count up from 1: an array, not a hash map). */
  const byRequest: Array<Entry | undefined> = [];
  const rows = new Fifo<PendingRow>();
  const maxPendingRows = opts.maxPendingRows ?? 100_000;
  let resumeInput: (() => void) | undefined;
  let header: string[] | undefined;
  let columns: Columns | undefined;

  // Rows are written in batches: one write per row would be one system call per row on a pipe.
  let batch = '';
  let batchRows = 0;
  let batchScheduled = false;
  const writeBatch = (): void => {
    batchScheduled = false;
    if (batch === '') return;
    opts.output.write(batch);
    batch = '';
    batchRows = 0;
  };
  const write = (row: string[]): void => {
    batch += csvRecord(row);
    result.rowsOut++;
    if (++batchRows >= 2048) writeBatch();
    else if (!batchScheduled) {
      batchScheduled = true;
      setImmediate(writeBatch);
    }
  };

  /** Writes the output rows of a row whose values are all answered; the row is not used afterwards, so it is filled in place. */
  const fill = (p: PendingRow): void => {
    if (p.passThrough) {
      write(p.row);
      return;
    }
    const row = p.row;
    const outputs = columns!.outputs;
    for (const { column, entry } of p.lookups) {
      const matches = entry.matches;
      if (matches === undefined || matches.length === 0) continue;
      // A short row (relaxed CSV) is padded so every output column exists.
      while (row.length < header!.length) row.push('');
      const field = header![column]!;
      const value = row[column]!;
      for (const values of matches) {
        for (let i = 0; i < outputs.length; i++) {
          const { index, name } = outputs[i]!;
          row[index] = name === 'threat_match_field' ? field : name === 'threat_match_value' ? value : values[i]!;
        }
        write(row);
      }
    }
  };

  /** Whether every value of a row is answered (or failed). */
  const ready = (p: PendingRow): boolean => {
    for (const { entry } of p.lookups) if (entry.matches === undefined && !entry.failed) return false;
    return true;
  };

  /** Writes every leading row whose values are all answered (or failed). */
  const flush = (): void => {
    for (let p = rows.peek(); p !== undefined && ready(p); p = rows.peek()) {
      fill(p);
      rows.shift();
    }
    if (resumeInput && rows.length <= maxPendingRows / 2) {
      const resume = resumeInput;
      resumeInput = undefined;
      resume();
    }
  };

  const dispatcher = new Dispatcher(config, {
    answered(request: Request, detections: readonly Detection[]) {
      const entry = byRequest[request.id]!;
      byRequest[request.id] = undefined;
      entry.matches = detections.length === 0 ? NO_MATCHES : detections.map((d) => columns!.outputs.map(({ name }) => detectionValue(name, d)));
      flush();
    },
    failed(request: Request, reason: string) {
      const entry = byRequest[request.id]!;
      byRequest[request.id] = undefined;
      entry.failed = true;
      result.failedValues++;
      failReasons.set(reason, (failReasons.get(reason) ?? 0) + 1);
      flush();
    },
  });

  const onRow = (row: string[]): void => {
    result.rowsIn++;
    const { inputs, outputs } = columns!;
    let hasInput = false;
    for (let i = 0; i < inputs.length && !hasInput; i++) hasInput = filled(row, inputs[i]!.index);
    let hasOutput = false;
    for (let i = 0; i < outputs.length && !hasOutput; i++) hasOutput = filled(row, outputs[i]!.index);
    if (!hasInput && !hasOutput) return; // nothing to look up, nothing to keep
    const pending: PendingRow = { row, lookups: [], passThrough: !hasInput || hasOutput };
    if (!pending.passThrough) {
      for (const { index, field } of inputs) {
        if (!filled(row, index)) continue;
        const prepared = prepareValue(field, row[index]!);
        const type = prepared.ok ? config.pattern.sendAs(prepared.type) : undefined;
        if (!prepared.ok || !type) {
          result.skipped++;
          const why = prepared.ok ? `${field}: the pattern has no placeholder for ${prepared.type}` : `${field}: ${prepared.reason}`;
          skipReasons.set(why, (skipReasons.get(why) ?? 0) + 1);
          continue;
        }
        let ofType = entries.get(type);
        if (!ofType) entries.set(type, (ofType = new Map()));
        let entry = ofType.get(prepared.wire);
        if (!entry) {
          entry = { matches: undefined, failed: false };
          ofType.set(prepared.wire, entry);
          const request = dispatcher.submit(config.pattern.render(prepared.type, prepared.wire));
          byRequest[request.id] = entry;
          result.uniqueValues++;
        }
        pending.lookups.push({ column: index, entry });
      }
      if (pending.lookups.length === 0) return;
    }
    rows.push(pending);
  };

  const parser = opts.input.pipe(
    // Both line ends, whatever the first row uses: csv-parse otherwise takes the first row's as the only one,
    // and a file mixing CRLF and LF would glue rows together (their values lost or looked up with a line break).
    parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n'] }),
  );
  // Records come through 'data' events rather than `for await`, whose promise per record costs more than the
  // rest of a row's parsing; pausing the parser holds the input back the same way.
  let inputError: string | undefined;
  await new Promise<void>((resolve) => {
    let stopped = false;
    const stop = (error: string | undefined): void => {
      if (stopped) return;
      stopped = true;
      if (error !== undefined) {
        inputError = error;
        parser.destroy();
        opts.input.unpipe?.();
        opts.input.resume?.();
      }
      resolve();
    };
    parser.on('data', (record: string[]) => {
      if (stopped) return;
      try {
        if (!header) {
          header = record;
          columns = resolveColumns(header, opts.fields);
          batch += csvRecord(header);
          return;
        }
        onRow(record);
        if (rows.length === 1) flush();
        if (rows.length >= maxPendingRows) {
          parser.pause();
          resumeInput = () => parser.resume();
        }
      } catch (err) {
        stop(err instanceof UsageError ? err.message : `input is not valid CSV: ${(err as Error).message}`);
      }
    });
    parser.on('error', (err: Error) => stop(`input is not valid CSV: ${err.message}`));
    parser.on('end', () => stop(undefined));
  });
  await dispatcher.close();
  flush();
  writeBatch();

  if (skipReasons.size > 0) {
    log(`skipped ${result.skipped} value(s) that cannot be valid for their field: ${[...skipReasons].map(([r, n]) => `${r} (${n})`).join('; ')}`);
  }
  if (inputError) {
    log(inputError);
    result.exitCode = EXIT_USAGE;
  } else if (result.failedValues > 0) {
    const services = config.services.map(formatAddress).join(', ');
    log(`${result.failedValues} of ${result.uniqueValues} value(s) could not be looked up, so their rows are missing: ${[...failReasons].map(([r, n]) => `${r} (${n})`).join('; ')}. Check that the service runs at ${services} and that feedtrace.conf [service] hosts points to it`);
    result.exitCode = EXIT_LOOKUP_FAILED;
  }
  return result;
}

function filled(row: string[], index: number): boolean {
  return (row[index] ?? '') !== '';
}

/**
 * The value of one output field for one detection; `threat_match_field` and `threat_match_value` come from the
 * row, not the detection (`fill` sets them).
 */
function detectionValue(name: string, d: Detection): string {
  switch (name) {
    case 'context': return formatKv(contextPairs(d));
    case 'threat_match_field': case 'threat_match_value': return '';
    default: return d.get(name) ?? '';
  }
}
