/**
 * Kaspersky Threat Data Feeds: a JSON array of records. The fields to index come from the built-in catalog
 * (by file name, `<Name>.json` or `Demo_<Name>.json`), or from the source's own mapping for other feeds.
 */
import path from 'node:path';
import type { FeedFormatParser } from '../format.js';
import { KASPERSKY_FEEDS, kasperskyFeedForFile, kasperskyMapping } from '../catalog.js';
import { FeedLoadError } from '../errors.js';
import { sidecarMapping } from '../mapping.js';
import { parseJsonRecords } from './json.js';

export const kaspersky: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path: file, source, sink }) {
    const feed = kasperskyFeedForFile(path.basename(file));
    const mapping = source.mapping ?? (feed ? kasperskyMapping(feed) : await sidecarMapping(file));
    if (mapping === undefined || mapping.length === 0) {
      const known = KASPERSKY_FEEDS.filter((f) => !f.name.startsWith('Demo_')).map((f) => `${f.name}.json`);
      throw new FeedLoadError(file, `not a catalog feed file name (${known.join(', ')}, also with Demo_); give a mapping or write ${file}.mapping`);
    }
    await parseJsonRecords(file, sink, mapping);
  },
};
