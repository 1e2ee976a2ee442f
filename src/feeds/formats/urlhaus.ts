/**
 * urlhaus-filter (curbengh, URLhaus-derived) lists:
 * - `urlhaus-filter-online.txt` (adblock syntax): `host` or `||host/path^$all` lines;
 * - `urlhaus-filter-domains*.txt`: one host a line; `urlhaus-filter-wildcard.txt`: `*.domain` lines;
 * - `urlhaus-filter-dnscrypt-blocked-ips.txt`: one IP a line;
 * - `urlhaus-filter-splunk-online.csv`: the Splunk lookup `"host","path","message","updated"`.
 * A host line is an `ip` or `domain` indicator, a line with a path a `url`.
 */
import path from 'node:path';
import type { ContextFields } from '../../types.js';
import type { FeedFormatParser } from '../format.js';
import { typeCategory } from '../format.js';
import { csvContext, csvRecords, forEachLine } from '../files.js';
import { hostType } from '../indicator.js';
import type { FeedSink } from '../sink.js';

export const URLHAUS_CATEGORY_PREFIX = 'URLhaus_Malicious';

/** The wildcard list says `*.domain`: those domains match every subdomain. */
const isWildcardList = (file: string): boolean => path.basename(file).includes('wildcard');

export const urlhaus: FeedFormatParser = {
  domainSuffix: isWildcardList,
  async parse({ path: file, sink }) {
    if (file.toLowerCase().endsWith('.csv')) await parseSplunkLookup(file, sink);
    else await parseList(file, sink);
  },
};

function emitHostOrUrl(sink: FeedSink, where: string, host: string, urlPath: string, context: ContextFields): void {
  if (urlPath === '') {
    const type = hostType(host);
    // A bracketed IPv6 host without a port is the bare address as an indicator.
    const indicator = type === 'ip' ? host.replace(/^\[([^\]]*)\]$/, '$1') : host;
    sink.emit(where, type, indicator, typeCategory(URLHAUS_CATEGORY_PREFIX, type), context);
  } else {
    sink.emit(where, 'url', host + urlPath, typeCategory(URLHAUS_CATEGORY_PREFIX, 'url'), context);
  }
}

async function parseSplunkLookup(file: string, sink: FeedSink): Promise<void> {
  for await (const record of csvRecords(file, sink, 'host')) {
    const where = `${file}:${record.line}`;
    const host = (record.row.host ?? '').trim();
    if (host === '') {
      sink.skip(where, 'empty host');
      continue;
    }
    // The lookup writes a whole-host entry (`||host^` in the adblock list) with the path "/".
    const urlPath = (record.row.path ?? '').trim();
    emitHostOrUrl(sink, where, host, urlPath === '/' ? '' : urlPath, csvContext(record, ['host', 'path']));
  }
}

/** `||host/path^$options` (adblock) → `host/path`; anything else is returned trimmed. */
function stripAdblockSyntax(line: string): string {
  if (!line.startsWith('||')) return line;
  let rule = line.slice(2);
  const options = rule.lastIndexOf('$');
  if (options !== -1) rule = rule.slice(0, options);
  return rule.endsWith('^') ? rule.slice(0, -1) : rule;
}

async function parseList(file: string, sink: FeedSink): Promise<void> {
  let context: ContextFields = [];
  await forEachLine(file, sink, (line, number) => {
    const text = line.trim();
    if (text === '') return;
    if (text.startsWith('#') || text.startsWith('!')) {
      // The list header says when the list was built: worth showing with every detection.
      const updated = /^[#!]\s*Updated:\s*(.+)$/.exec(text);
      if (updated) context = [['updated', updated[1]!.trim()]];
      return;
    }
    const where = `${file}:${number}`;
    const entry = stripAdblockSyntax(text);
    if (entry.startsWith('*.')) {
      sink.emit(where, 'domain', entry.slice(2), typeCategory(URLHAUS_CATEGORY_PREFIX, 'domain'), context);
      return;
    }
    const slash = entry.indexOf('/');
    emitHostOrUrl(sink, where, slash === -1 ? entry : entry.slice(0, slash), slash === -1 ? '' : entry.slice(slash), context);
  });
}
