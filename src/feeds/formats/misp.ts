/**
 * MISP feeds: `manifest.json` (event uuid → summary) with one `<uuid>.json` event file beside it per event.
 * The path is the manifest, its directory, or a single event file. Attributes of the event and of its
 * objects become indicators by type; attributes marked `to_ids: false` or deleted are skipped and counted.
 * `hashes.csv` beside the manifest holds MD5s of attribute values for MISP's feed cache: it is never loaded.
 */
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ContextFields, IndicatorType } from '../../types.js';
import type { FeedFormatParser } from '../format.js';
import { typeCategory } from '../format.js';
import { isMispCacheFile } from '../detect.js';
import { FeedLoadError } from '../errors.js';
import { isRecord } from '../fields.js';
import { jsonDocument } from '../files.js';
import { hostType, ipWithPort } from '../indicator.js';
import type { FeedSink } from '../sink.js';

export const MISP_CATEGORY_PREFIX = 'MISP';

export const misp: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path: target, sink }) {
    if (isMispCacheFile(target)) {
      throw new FeedLoadError(target, 'hashes.csv holds MD5s of attribute values for MISP caching, not indicators; load manifest.json');
    }
    const isDirectory = (await stat(target)).isDirectory();
    if (!isDirectory && path.basename(target).toLowerCase() !== 'manifest.json') {
      await parseEventFile(target, sink);
      return;
    }
    const manifestPath = isDirectory ? path.join(target, 'manifest.json') : target;
    const manifest = await jsonDocument(manifestPath, sink);
    if (!isRecord(manifest)) throw new FeedLoadError(manifestPath, 'expected a MISP manifest: an object of event uuid → event summary');
    const dir = path.dirname(manifestPath);
    for (const uuid of Object.keys(manifest)) {
      const where = `${manifestPath}#${uuid}`;
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) {
        sink.skip(where, 'manifest key is not an event uuid', uuid);
        continue;
      }
      const eventFile = path.join(dir, `${uuid}.json`);
      if (await exists(eventFile)) await parseEventFile(eventFile, sink);
      else sink.skip(where, 'event file missing');
    }
  },
};

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

const text = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');
const tagNames = (tags: unknown): string =>
  Array.isArray(tags) ? tags.map((tag) => (isRecord(tag) ? text(tag.name) : '')).filter((name) => name !== '').join(',') : '';

/** Context pairs without the empty ones. */
function pairs(entries: Array<[string, string]>): ContextFields {
  return entries.filter(([, value]) => value !== '');
}

async function parseEventFile(file: string, sink: FeedSink): Promise<void> {
  const document = await jsonDocument(file, sink);
  const event = isRecord(document) ? document.Event : undefined;
  if (!isRecord(event)) {
    sink.skip(file, 'no Event object in the event file');
    return;
  }
  const eventContext: Array<[string, string]> = [
    ['event', text(event.info)],
    ['event_date', text(event.date)],
    ['event_uuid', text(event.uuid)],
    ['threat_level_id', text(event.threat_level_id)],
    ['event_tags', tagNames(event.Tag)],
  ];
  const attributes: Array<{ where: string; attribute: unknown }> = [];
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  list(event.Attribute).forEach((attribute, i) => attributes.push({ where: `${file}#Attribute[${i}]`, attribute }));
  list(event.Object).forEach((object, j) => {
    if (isRecord(object)) {
      list(object.Attribute).forEach((attribute, k) => attributes.push({ where: `${file}#Object[${j}]/Attribute[${k}]`, attribute }));
    }
  });
  for (const { where, attribute } of attributes) emitAttribute(sink, where, attribute, eventContext);
}

function emitAttribute(sink: FeedSink, where: string, attribute: unknown, eventContext: Array<[string, string]>): void {
  if (!isRecord(attribute)) {
    sink.skip(where, 'attribute is not an object');
    return;
  }
  if (attribute.deleted === true) {
    sink.skip(where, 'deleted attribute');
    return;
  }
  if (attribute.to_ids === false) {
    sink.skip(where, 'attribute not for detection (to_ids false)');
    return;
  }
  const type = text(attribute.type);
  const value = text(attribute.value).trim();
  const context = pairs([
    ...eventContext,
    ['attribute_category', text(attribute.category)],
    ['comment', text(attribute.comment)],
    ['tags', tagNames(attribute.Tag)],
  ]);
  const emit = (indicatorType: IndicatorType, indicator: string): void => {
    sink.emit(where, indicatorType, indicator, typeCategory(MISP_CATEGORY_PREFIX, indicatorType), context);
  };
  const [first = '', second = ''] = value.split('|');
  switch (type) {
    case 'ip-dst':
    case 'ip-src':
      return emit('ip', value);
    case 'ip-dst|port':
    case 'ip-src|port':
      return emit('ip', ipWithPort(first, second));
    case 'domain':
    case 'hostname':
      return emit(hostType(value), value);
    case 'domain|ip':
      emit('domain', first);
      return emit('ip', second);
    case 'url':
      return emit('url', value);
    case 'md5':
    case 'sha1':
    case 'sha256':
      return emit(type, value);
    case 'filename|md5':
    case 'filename|sha1':
    case 'filename|sha256':
      return emit(type.slice('filename|'.length) as IndicatorType, second);
    default:
      sink.skip(where, 'unsupported attribute type', type);
  }
}
