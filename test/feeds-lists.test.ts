/** Plain lists and simple CSV feeds on the real files: IPsum, urlhaus-filter, Feodo Tracker. */
import { readFileSync } from 'node:fs';
import { dataset } from './support/paths.js';
import path from 'node:path';
import { collect, contextValue, countByType, dataLines, tempFeeds } from './fixtures/feeds/collect.js';

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

describe('ipsum', () => {
  test('ipsum.txt: one ip record per IP, the blocklist count in context', async () => {
    const lines = dataLines(dataset('ipsum', 'ipsum.txt'));
    const counts = new Map(lines.map((line) => line.split('\t') as [string, string]));
    const { report, records } = await collect(dataset('ipsum', 'ipsum.txt'));
    expect(report.format).toBe('ipsum');
    expect(report.records).toBe(counts.size);
    expect(records).toHaveLength(counts.size);
    expect(report.skipped).toBe(lines.length - counts.size);
    expect(report.bytes).toBe(readFileSync(dataset('ipsum', 'ipsum.txt')).length);
    // One expect over the whole list: a failing record is named, and 120k expect calls would be slow.
    const wrong = records.filter(
      (r) => r.type !== 'ip' || r.category !== 'IPsum_IP_Reputation' || contextValue(r, 'blocklists') !== counts.get(r.indicator),
    );
    expect(wrong).toEqual([]);
  });

  test('levels/3.txt (bare IPs) is detected as ipsum and loads every IP', async () => {
    const ips = new Set(dataLines(dataset('ipsum', 'levels', '3.txt')));
    const { report, records } = await collect(dataset('ipsum', 'levels', '3.txt'));
    expect(report.format).toBe('ipsum');
    expect(new Set(records.map((r) => r.indicator))).toEqual(ips);
    expect(records.every((r) => r.context.length === 0)).toBe(true);
  });
});

describe('urlhaus-filter', () => {
  const day = (file: string): string => dataset('urlhaus-filter', '2025-07-19', file);

  /** The online list's entries without the adblock decoration (`||`, `^`, `$all`), written independently. */
  function onlineEntries(file: string): string[] {
    return dataLines(file, ['!', '#']).map((line) => line.replace(/^\|\|/, '').replace(/\^?\$all$/, ''));
  }

  test('online list: host lines are ip or domain, host/path lines are url', async () => {
    const entries = [...new Set(onlineEntries(day('urlhaus-filter-online.txt')))];
    const { report, records } = await collect(day('urlhaus-filter-online.txt'));
    expect(report.format).toBe('urlhaus');
    expect(report.domainSuffix).toBe(false);
    expect(countByType(records)).toEqual({
      url: entries.filter((e) => e.includes('/')).length,
      ip: entries.filter((e) => IPV4.test(e)).length,
      domain: entries.filter((e) => !e.includes('/') && !IPV4.test(e)).length,
    });
    const category = { url: 'URLhaus_Malicious_URL', ip: 'URLhaus_Malicious_IP', domain: 'URLhaus_Malicious_Domain' } as const;
    expect(records.filter((r) => r.category !== category[r.type as keyof typeof category])).toEqual([]);
    expect(records.map((r) => r.indicator)).toContain('xemhang.vn/website1/hue2/view.exe');
    expect(contextValue(records[0]!, 'updated')).toBe('2025-07-19T12:11:28Z');
  });

  test('the Splunk CSV lookup holds the same indicators as the online list of the same day', async () => {
    const csv = await collect(day('urlhaus-filter-splunk-online.csv'));
    const list = await collect(day('urlhaus-filter-online.txt'));
    expect(csv.report.format).toBe('urlhaus');
    const key = (r: { type: string; indicator: string }): string => `${r.type} ${r.indicator}`;
    expect(new Set(csv.records.map(key))).toEqual(new Set(list.records.map(key)));
    const rows = dataLines(day('urlhaus-filter-splunk-online.csv')).slice(1);
    expect(csv.report.records + csv.report.skipped).toBe(rows.length);
    expect(contextValue(csv.records[0]!, 'message')).toBe('urlhaus-filter malicious website detected');
  });

  test('wildcard list: *.domain lines are domains matched on their subdomains, the same set as the domains list', async () => {
    const wildcard = await collect(day('urlhaus-filter-wildcard.txt'));
    expect(wildcard.report.domainSuffix).toBe(true);
    const expected = new Set(dataLines(day('urlhaus-filter-wildcard.txt')).map((line) => line.replace(/^\*\./, '')));
    expect(new Set(wildcard.records.map((r) => r.indicator))).toEqual(expected);
    expect(wildcard.records.every((r) => r.type === 'domain' || r.type === 'ip')).toBe(true);
    const domains = await collect(day('urlhaus-filter-domains.txt'));
    expect(domains.report.domainSuffix).toBe(false);
    expect(new Set(domains.records.map((r) => r.indicator))).toEqual(expected);
  });

  test('dnscrypt blocked IPs: every line an ip record', async () => {
    const ips = new Set(dataLines(day('urlhaus-filter-dnscrypt-blocked-ips.txt')));
    const { records } = await collect(day('urlhaus-filter-dnscrypt-blocked-ips.txt'));
    expect(records).toHaveLength(ips.size);
    expect(records.every((r) => r.type === 'ip' && r.category === 'URLhaus_Malicious_IP')).toBe(true);
  });

  test('2021 online list holds the Mozi hosts the honeypot log met that day', async () => {
    const { records } = await collect(dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt'));
    const entries = new Set(onlineEntries(dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt')));
    expect(records).toHaveLength(entries.size);
    const hosts = new Set(records.map((r) => r.indicator.split('/')[0]));
    for (const ip of ['112.249.236.129', '182.124.139.124', '27.216.189.101', '45.144.225.135']) expect(hosts.has(ip)).toBe(true);
  });

  test('hosts with a port or in IPv6 brackets, adblock options, and lines that are not hosts', async () => {
    const dir = tempFeeds({
      'urlhaus-filter-online.txt': ['! Title: test', '198.51.100.9:8080', '[2001:db8::9]', '||[2001:db8::9]:443/x.sh^$all', '||evil.test^$all,third-party', 'bad host.test', '*/*', ''].join('\n'),
    });
    const { report, records } = await collect(path.join(dir, 'urlhaus-filter-online.txt'));
    expect(records.map((r) => [r.type, r.indicator])).toEqual([
      ['ip', '198.51.100.9:8080'],
      ['ip', '2001:db8::9'],
      ['url', '[2001:db8::9]:443/x.sh'],
      ['domain', 'evil.test'],
    ]);
    expect(report.skipReasons).toEqual({ 'not a domain name': 1, 'mask matches every URL': 1 });
  });
});

describe('feodo', () => {
  test('ipblocklist.csv: one ip:port record per row, the count the footer states', async () => {
    const file = dataset('feodotracker', 'ipblocklist.csv');
    const footer = /# END (\d+) entries/.exec(readFileSync(file, 'utf8'));
    const { report, records } = await collect(file);
    expect(report.format).toBe('feodo');
    expect(report.records).toBe(Number(footer![1]));
    expect(report.skipped).toBe(0);
    expect(records.filter((r) => r.type !== 'ip' || r.category !== 'Feodo_BotnetCnC_IP' || !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(r.indicator))).toEqual([]);
    expect(records[0]).toEqual({
      type: 'ip',
      indicator: '192.9.135.73:1194',
      category: 'Feodo_BotnetCnC_IP',
      context: [['first_seen_utc', '2023-05-23 17:51:44'], ['c2_status', 'online'], ['last_online', '2024-04-01'], ['malware', 'Pikabot']],
    });
  });
});
