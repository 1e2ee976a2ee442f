/**
 * OpenIOC 1.0 XML (e.g. ThreatFox exports "for Kaspersky"): every `IndicatorItem` with condition `is` whose
 * Context search is a known network or file term becomes an indicator; other terms and conditions are
 * skipped and counted. Malformed or truncated XML fails the whole feed.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ContextFields, IndicatorType } from '../../types.js';
import type { FeedFormatParser } from '../format.js';
import { typeCategory } from '../format.js';
import { FeedLoadError } from '../errors.js';
import { MAX_DEPTH, isRecord } from '../fields.js';
import { documentText } from '../files.js';
import { hostType } from '../indicator.js';
import type { FeedSink } from '../sink.js';

export const OPENIOC_CATEGORY_PREFIX = 'OpenIOC';

/** OpenIOC search term → indicator type; `host` means an IP, domain or URL, whichever the value is. */
const SEARCH_TYPES: Record<string, IndicatorType | 'host'> = {
  'DnsEntryItem/Host': 'host',
  'DnsEntryItem/RecordName': 'host',
  'Network/DNS': 'host',
  'PortItem/remoteIP': 'ip',
  'ProcessItem/PortList/PortItem/remoteIP': 'ip',
  'UrlHistoryItem/URL': 'url',
  'FileItem/Md5sum': 'md5',
  'FileItem/Sha1sum': 'sha1',
  'FileItem/Sha256sum': 'sha256',
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  // Keep every value a string: a hash such as 1234e5… must not turn into a number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'Indicator' || name === 'IndicatorItem',
});

const text = (value: unknown): string =>
  typeof value === 'string' ? value : isRecord(value) && typeof value['#text'] === 'string' ? value['#text'] : '';

export const openioc: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, sink }) {
    const xml = await documentText(path, sink);
    const valid = XMLValidator.validate(xml);
    if (valid !== true) throw new FeedLoadError(path, `not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
    let document: unknown;
    try {
      document = parser.parse(xml);
    } catch (error) {
      // The parser's own limits (e.g. more than 100 nested elements) refuse the document as a whole.
      throw new FeedLoadError(path, `unreadable OpenIOC XML: ${(error as Error).message}`);
    }
    const ioc = isRecord(document) ? document.ioc : undefined;
    if (!isRecord(ioc)) throw new FeedLoadError(path, 'no OpenIOC 1.0 <ioc> root element');
    const iocContext: ContextFields = [
      ['ioc', text(ioc.short_description)],
      ['ioc_id', text(ioc['@_id'])],
      ['authored_date', text(ioc.authored_date)],
    ].filter(([, value]) => value !== '') as Array<[string, string]>;
    let itemIndex = 0;
    const walk = (indicators: unknown, depth: number): void => {
      if (!Array.isArray(indicators)) return;
      if (depth > MAX_DEPTH) {
        sink.skip(`${path}#${itemIndex}`, `Indicator nested deeper than ${MAX_DEPTH} levels`);
        return;
      }
      for (const indicator of indicators) {
        if (!isRecord(indicator)) continue;
        for (const item of Array.isArray(indicator.IndicatorItem) ? indicator.IndicatorItem : []) {
          emitItem(sink, `${path}#${itemIndex++}`, item, iocContext);
        }
        walk(indicator.Indicator, depth + 1);
      }
    };
    walk(isRecord(ioc.definition) ? ioc.definition.Indicator : undefined, 0);
  },
};

function emitItem(sink: FeedSink, where: string, item: unknown, iocContext: ContextFields): void {
  if (!isRecord(item)) {
    sink.skip(where, 'IndicatorItem without Context and Content');
    return;
  }
  const condition = text(item['@_condition']) || 'is';
  const search = isRecord(item.Context) ? text(item.Context['@_search']) : '';
  const value = text(item.Content).trim();
  if (condition !== 'is') {
    sink.skip(where, 'IndicatorItem condition other than "is"', condition);
    return;
  }
  const kind = SEARCH_TYPES[search];
  if (kind === undefined) {
    sink.skip(where, 'unsupported OpenIOC search term', search);
    return;
  }
  // ThreatFox exports put whole URLs into DnsEntryItem/Host: index those as the URLs they are.
  const type = kind !== 'host' ? kind : value.includes('/') ? 'url' : hostType(value);
  const itemId = text(item['@_id']);
  const context = itemId === '' ? iocContext : [...iocContext, ['item_id', itemId] as const];
  sink.emit(where, type, value, typeCategory(OPENIOC_CATEGORY_PREFIX, type), context);
}
