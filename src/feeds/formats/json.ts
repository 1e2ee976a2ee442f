/**
 * Generic JSON feeds with a mapping: a JSON array of records (or, for `.jsonl`/`.ndjson` files, one record a
 * line). Mapped fields are `/` paths into the record; the whole record, flattened, is the context.
 */
import type { FeedFieldMapping } from '../load.js';
import type { FeedFormatParser } from '../format.js';
import { FeedLoadError } from '../errors.js';
import { NestingTooDeep, flattenContext, isRecord, valuesAt } from '../fields.js';
import { forEachLine, jsonDocument } from '../files.js';
import { emitMapped, requireMapping } from '../mapping.js';
import type { FeedSink } from '../sink.js';

export const json: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, source, sink }) {
    await parseJsonRecords(path, sink, await requireMapping(source));
  },
};

function emitRecord(sink: FeedSink, where: string, record: unknown, mapping: readonly FeedFieldMapping[]): void {
  if (!isRecord(record)) {
    sink.skip(where, 'record is not a JSON object');
    return;
  }
  try {
    emitMapped(sink, where, mapping, (field) => valuesAt(record, field), flattenContext(record));
  } catch (error) {
    if (!(error instanceof NestingTooDeep)) throw error;
    sink.skip(where, error.message);
  }
}

export async function parseJsonRecords(path: string, sink: FeedSink, mapping: readonly FeedFieldMapping[]): Promise<void> {
  if (/\.(jsonl|ndjson)$/i.test(path)) {
    await forEachLine(path, sink, (line, number) => {
      if (line.trim() === '') return;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        sink.skip(`${path}:${number}`, 'not valid JSON', line);
        return;
      }
      emitRecord(sink, `${path}:${number}`, record, mapping);
    });
    return;
  }
  const document = await jsonDocument(path, sink);
  if (!Array.isArray(document)) throw new FeedLoadError(path, 'expected a JSON array of records');
  document.forEach((record, index) => emitRecord(sink, `${path}#${index}`, record, mapping));
}
