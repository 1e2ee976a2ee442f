/** OpenIOC 1.0 on the real ThreatFox exports. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FeedLoadError } from '../src/feeds/load.js';
import { dataset } from './support/paths.js';
import { collect, contextValue, countByType, tempFeeds } from './fixtures/feeds/collect.js';

/** Content of every IndicatorItem, grouped by its search term, read with plain regular expressions. */
function itemsBySearch(xml: string): Map<string, string[]> {
  const items = new Map<string, string[]>();
  for (const match of xml.matchAll(/search="([^"]+)"[^>]*\/>\s*<Content type="[a-z0-9]+">([^<]*)<\/Content>/g)) {
    if (!items.has(match[1]!)) items.set(match[1]!, []);
    items.get(match[1]!)!.push(match[2]!);
  }
  return items;
}

describe('openioc', () => {
  for (const name of ['kaspersky_threatfox_20251004_012136.xml', 'kaspersky_threatfox_20251006_012627.xml']) {
    test(`${name}: hosts, URLs, ip:port and hashes, one record per distinct item`, async () => {
      const file = dataset('threatfox-openioc', name);
      const items = itemsBySearch(readFileSync(file, 'utf8'));
      const hosts = new Set(items.get('DnsEntryItem/Host'));
      const { report, records } = await collect(file);
      expect(report.format).toBe('openioc');
      expect(countByType(records)).toEqual({
        domain: [...hosts].filter((h) => !h.includes('/')).length,
        url: [...hosts].filter((h) => h.includes('/')).length,
        ip: new Set(items.get('PortItem/remoteIP')).size,
        md5: new Set(items.get('FileItem/Md5sum')).size,
        sha256: new Set(items.get('FileItem/Sha256sum')).size,
      });
      const total = [...items.values()].reduce((sum, list) => sum + list.length, 0);
      expect(report.records + report.skipped).toBe(total);
      expect(records.filter((r) => r.type === 'ip' && !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(r.indicator))).toEqual([]);
      expect(contextValue(records[0]!, 'ioc')).toMatch(/^ThreatFox IOC Collection - 2025-10-0[46]$/);
    });
  }

  test('truncated XML fails the whole feed, naming the file and line', async () => {
    const xml = readFileSync(dataset('threatfox-openioc', 'kaspersky_threatfox_20251006_012627.xml'), 'utf8');
    const dir = tempFeeds({ 'cut.xml': xml.slice(0, Math.floor(xml.length / 2)) });
    const loading = collect(path.join(dir, 'cut.xml'));
    await expect(loading).rejects.toThrow(FeedLoadError);
    await expect(collect(path.join(dir, 'cut.xml'))).rejects.toThrow(/cut\.xml: not well-formed XML \(line \d+/);
  });

  test('other search terms and conditions are skipped and counted; hashes stay strings', async () => {
    const item = (search: string, content: string, condition = 'is'): string =>
      `<IndicatorItem id="i" condition="${condition}"><Context document="x" search="${search}" type="mir"/><Content type="string">${content}</Content></IndicatorItem>`;
    const dir = tempFeeds({
      'x.ioc': `<?xml version="1.0"?><ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="t"><short_description>synthetic</short_description><definition><Indicator operator="OR">${[
        item('FileItem/Md5sum', '12345678901234567890123456789012'),
        item('FileItem/Sha1sum', '1e10'.repeat(10)),
        item('ProcessItem/name', 'evil.exe'),
        item('DnsEntryItem/Host', 'partial.test', 'contains'),
      ].join('')}<Indicator operator="AND">${item('PortItem/remoteIP', '[2001:db8::5]:443')}</Indicator></Indicator></definition></ioc>`,
    });
    const { report, records } = await collect(path.join(dir, 'x.ioc'));
    expect(records.map((r) => [r.type, r.indicator])).toEqual([
      ['md5', '12345678901234567890123456789012'],
      ['sha1', '1e10'.repeat(10)],
      ['ip', '[2001:db8::5]:443'],
    ]);
    expect(report.skipReasons).toEqual({ 'unsupported OpenIOC search term': 1, 'IndicatorItem condition other than "is"': 1 });
  });
});
