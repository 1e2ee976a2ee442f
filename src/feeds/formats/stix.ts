/**
 * STIX 2.1 bundles: `indicator` objects whose pattern is a single comparison `[type:value = '...']`
 * (domain-name, url, ipv4-addr, ipv6-addr values; file hashes MD5, SHA-1, SHA-256). Any other pattern,
 * a revoked indicator or a non-STIX pattern language is skipped and counted.
 */
import type { IndicatorType } from '../../types.js';
import type { FeedFormatParser } from '../format.js';
import { typeCategory } from '../format.js';
import { FeedLoadError } from '../errors.js';
import { NestingTooDeep, flattenContext, isRecord } from '../fields.js';
import { jsonDocument } from '../files.js';
import type { FeedSink } from '../sink.js';

export const STIX_CATEGORY_PREFIX = 'STIX';

/** `[object:property = 'value']`, the value a STIX string literal (`\'` and `\\` escapes). */
const SIMPLE_PATTERN = /^\[\s*([a-z0-9-]+):([A-Za-z0-9_.'-]+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$/;

const PROPERTY_TYPES: Record<string, IndicatorType> = {
  'domain-name:value': 'domain',
  'url:value': 'url',
  'ipv4-addr:value': 'ip',
  'ipv6-addr:value': 'ip',
  'file:hashes.MD5': 'md5',
  "file:hashes.'MD5'": 'md5',
  "file:hashes.'SHA-1'": 'sha1',
  'file:hashes.SHA1': 'sha1',
  "file:hashes.'SHA1'": 'sha1',
  "file:hashes.'SHA-256'": 'sha256',
  'file:hashes.SHA256': 'sha256',
  "file:hashes.'SHA256'": 'sha256',
};

/** Indicator properties worth showing with a detection. */
const CONTEXT_PROPERTIES = ['id', 'name', 'description', 'indicator_types', 'labels', 'valid_from', 'valid_until', 'external_references'];

export const stix: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, sink }) {
    const bundle = await jsonDocument(path, sink);
    if (!isRecord(bundle) || bundle.type !== 'bundle' || !Array.isArray(bundle.objects)) {
      throw new FeedLoadError(path, 'expected a STIX 2.1 bundle: {"type": "bundle", "objects": [...]}');
    }
    bundle.objects.forEach((object, index) => {
      if (isRecord(object) && object.type === 'indicator') emitIndicator(sink, `${path}#${index}`, object);
    });
  },
};

function emitIndicator(sink: FeedSink, where: string, indicator: Record<string, unknown>): void {
  if (indicator.revoked === true) {
    sink.skip(where, 'revoked indicator');
    return;
  }
  const language = indicator.pattern_type ?? 'stix';
  if (language !== 'stix') {
    sink.skip(where, 'pattern language other than stix', String(language));
    return;
  }
  const pattern = typeof indicator.pattern === 'string' ? indicator.pattern.trim() : '';
  const match = SIMPLE_PATTERN.exec(pattern);
  const type = match ? PROPERTY_TYPES[`${match[1]}:${match[2]}`] : undefined;
  if (match === null || type === undefined) {
    sink.skip(where, 'unsupported STIX pattern', pattern);
    return;
  }
  const value = match[3]!.replace(/\\(.)/g, '$1');
  const picked = Object.fromEntries(CONTEXT_PROPERTIES.filter((key) => key in indicator).map((key) => [key, indicator[key]]));
  try {
    sink.emit(where, type, value, typeCategory(STIX_CATEGORY_PREFIX, type), flattenContext(picked));
  } catch (error) {
    if (!(error instanceof NestingTooDeep)) throw error;
    sink.skip(where, error.message);
  }
}
