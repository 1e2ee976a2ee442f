/** Generic CSV feeds with a mapping: a header row names the columns; every column is context. */
import type { FeedFormatParser } from '../format.js';
import { FeedLoadError } from '../errors.js';
import { csvContext, csvRecords } from '../files.js';
import { emitMapped, requireMapping } from '../mapping.js';

export const csv: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, source, sink }) {
    const mapping = await requireMapping(source);
    let checked = false;
    for await (const record of csvRecords(path, sink, mapping[0]!.field)) {
      if (!checked) {
        const missing = mapping.filter(({ field }) => !record.columns.includes(field)).map(({ field }) => field);
        if (missing.length > 0) throw new FeedLoadError(path, `the header has no column ${missing.map((m) => `"${m}"`).join(', ')}`);
        checked = true;
      }
      const value = record.row;
      emitMapped(sink, `${path}:${record.line}`, mapping, (field) => [value[field] ?? ''], csvContext(record, []));
    }
  },
};
