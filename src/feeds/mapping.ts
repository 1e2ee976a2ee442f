/**
 * Applies a user (or catalog) field mapping to one record: every value found in a mapped field becomes an
 * indicator of the mapped type under the mapped category (`hash` is told apart by length).
 */
import { readFile } from 'node:fs/promises';
import type { ContextFields } from '../types.js';
import { FeedLoadError } from './errors.js';
import { hashTypeOf } from './indicator.js';
import type { FeedFieldMapping, FeedSource } from './load.js';
import type { FeedSink } from './sink.js';

/** Where a feed's mapping can live without any code or flag: a text file beside it, `<feed file>.mapping`. */
export const mappingSidecar = (feedPath: string): string => `${feedPath}.mapping`;

/**
 * The mapping a `csv` or `json` feed must have: the source's own, else the sidecar file's, else a load error
 * saying how to give one. A malformed sidecar is a load error naming the sidecar.
 */
export async function requireMapping(source: FeedSource): Promise<FeedFieldMapping[]> {
  const mapping = source.mapping ?? (await sidecarMapping(source.path));
  if (mapping === undefined || mapping.length === 0) {
    throw new FeedLoadError(
      source.path,
      `the ${source.format} format needs a mapping: field → indicator type → category (give one, or write ${mappingSidecar(source.path)})`,
    );
  }
  return mapping;
}

export async function sidecarMapping(feedPath: string): Promise<FeedFieldMapping[] | undefined> {
  let text: string;
  try {
    text = await readFile(mappingSidecar(feedPath), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parseMappingSpec(text);
  } catch (error) {
    throw new FeedLoadError(mappingSidecar(feedPath), (error as Error).message);
  }
}

/** Emits the mapped indicators of one record; a record with none of them is skipped and counted. */
export function emitMapped(
  sink: FeedSink,
  where: string,
  mapping: readonly FeedFieldMapping[],
  valuesOf: (field: string) => unknown[],
  context: ContextFields,
): void {
  let found = 0;
  for (const { field, type, category } of mapping) {
    for (const raw of valuesOf(field)) {
      if (typeof raw !== 'string') {
        found++;
        sink.skip(where, `${field} is not a string`, JSON.stringify(raw) ?? String(raw));
        continue;
      }
      const value = raw.trim();
      if (value === '') continue;
      found++;
      const indicatorType = type === 'hash' ? hashTypeOf(value) : type;
      if (indicatorType === undefined) sink.skip(where, `${field} is not an MD5, SHA1 or SHA256 hash`, value);
      else sink.emit(where, indicatorType, value, category, context);
    }
  }
  if (found === 0) sink.skip(where, 'no indicator in the mapped fields');
}

const TYPES = ['url', 'domain', 'ip', 'md5', 'sha1', 'sha256', 'hash'] as const;

/**
 * The mapping a user writes on the command line or in a sidecar: `field=type:category` items separated by
 * `,` or new lines, `#` starting a comment line (e.g. `indicator=url:My_Bad_URL, sha256=hash:My_Bad_Hash`).
 * The field may hold `/` (a JSON path), not `=`.
 */
export function parseMappingSpec(spec: string): FeedFieldMapping[] {
  return spec
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const match = /^([^=]+)=([a-z0-9]+):(\S+)$/i.exec(item);
      const type = match?.[2]!.toLowerCase() as (typeof TYPES)[number] | undefined;
      if (!match || type === undefined || !TYPES.includes(type)) {
        throw new Error(`mapping item "${item}": expected field=type:category, type one of ${TYPES.join(', ')}`);
      }
      return { field: match[1]!.trim(), type, category: match[3]! };
    });
}
