/** Maltrail trail files and directories on the real trails, checked against counts computed here. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { dataset } from './support/paths.js';
import { collect, contextValue, countByType, dataLines, tempFeeds } from './fixtures/feeds/collect.js';

const trails = (...parts: string[]): string => dataset('maltrail-trails', 'trails', 'static', ...parts);

/** Trail lines of a file: comments and inline comments removed. */
const trailLines = (file: string): string[] => dataLines(file).map((line) => line.replace(/\s*#.*$/, '')).filter((line) => line !== '');

describe('maltrail trail files', () => {
  test('emotet.txt: every distinct trail once, ip:port and domains, with family, class and the reference above it', async () => {
    const lines = trailLines(trails('malware', 'emotet.txt'));
    const { report, records } = await collect(trails('malware', 'emotet.txt'));
    expect(report.format).toBe('maltrail');
    expect(report.domainSuffix).toBe(true);
    expect(report.records).toBe(new Set(lines).size);
    expect(report.skipReasons).toEqual({ 'duplicate indicator': lines.length - new Set(lines).size });
    const ipPort = lines.filter((line) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(line));
    expect(countByType(records).ip).toBe(new Set(ipPort).size);
    expect(records.filter((r) => r.category !== 'Maltrail_Malware')).toEqual([]);
    expect(records[0]).toEqual({
      type: 'ip',
      indicator: '66.210.228.178:443',
      category: 'Maltrail_Malware',
      context: [['family', 'emotet'], ['class', 'malware'], ['reference', 'https://twitter.com/_lockhum/status/1221213324525867008']],
    });
    const dvr = records.find((r) => r.indicator === 'dvr.petcp.com')!;
    expect(dvr.type).toBe('domain');
    expect(contextValue(dvr, 'reference')).toBe('https://twitter.com/_lockhum/status/1221245124707078144');
  });

  test('mass_scanner_cidr.txt: CIDR ranges (and a few single IPs) with their inline comments dropped', async () => {
    const lines = trailLines(trails('mass_scanner_cidr.txt'));
    const { records } = await collect(trails('mass_scanner_cidr.txt'));
    expect(records).toHaveLength(new Set(lines).size);
    expect(records.filter((r) => r.type !== 'ip' || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r.indicator))).toEqual([]);
    expect(records.filter((r) => r.indicator.includes('/')).length).toBe(new Set(lines.filter((line) => line.includes('/'))).size);
    expect(records[0]).toMatchObject({ indicator: '5.63.151.0/24', category: 'Maltrail_Mass_Scanner_Cidr' });
  });

  test('web_shells.txt: path-only trails become the URL mask */path', async () => {
    const paths = trailLines(trails('suspicious', 'web_shells.txt')).filter((line) => line.startsWith('/'));
    const { records } = await collect(trails('suspicious', 'web_shells.txt'));
    const masks = records.filter((r) => r.indicator.startsWith('*/'));
    expect(new Set(masks.map((r) => r.indicator))).toEqual(new Set(paths.map((line) => `*${line}`)));
    expect(masks.filter((r) => r.type !== 'url' || r.category !== 'Maltrail_Suspicious')).toEqual([]);
  });

  test('bazarloader.txt: the Bing ip:port the benign Zeek log meets, and scheme URLs kept as URLs', async () => {
    const { records } = await collect(trails('malware', 'bazarloader.txt'));
    const bing = records.find((r) => r.indicator === '204.79.197.200:443');
    expect(bing?.type).toBe('ip');
    expect(records.find((r) => r.indicator === 'http://51.89.177.16')?.type).toBe('url');
  });
});

describe('maltrail directory', () => {
  const root = dataset('maltrail-trails', 'trails');
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((name) => name.endsWith('.txt')).map((name) => path.join(root, name));

  test('every *.txt below the directory loads as one feed; each trail line is loaded or skipped with a reason', async () => {
    const { report, records } = await collect(root);
    expect(report.format).toBe('maltrail');
    expect(report.bytes).toBe(files.reduce((sum, file) => sum + readFileSync(file).length, 0));
    const lines = files.flatMap((file) => trailLines(file));
    expect(report.records + report.skipped).toBe(lines.length);
    expect(records).toHaveLength(report.records);
    // Regex trails, told apart here by regex syntax in the host part of a non-URL, non-path trail.
    const regex = lines.filter((line) => !line.startsWith('/') && !line.includes('://') && /[[\](){}*+?|\\^$]/.test(line.split('/')[0]!));
    expect(report.skipReasons['regex trail (unsupported)']).toBe(regex.length);
    expect(regex).toContain('backdates[0-9]{1,2}\\.(com|net)');
    const families = new Set(records.map((r) => contextValue(r, 'family')));
    expect(families).toEqual(new Set(files.map((file) => path.basename(file, '.txt'))));
  });

  test('every IPORT trail of the maltrail demo events is loaded as an ip record', async () => {
    const events = readFileSync(dataset('maltrail-demo-events', 'maltrail_demo_events.log'), 'utf8').split('\n');
    const iport = events.map((line) => / IPORT (\S+) /.exec(line)?.[1]).filter((trail): trail is string => trail !== undefined);
    expect(iport).toHaveLength(101);
    const { records } = await collect(root);
    const ips = new Set(records.filter((r) => r.type === 'ip').map((r) => r.indicator));
    expect(iport.filter((trail) => !ips.has(trail))).toEqual([]);
  });
});

describe('maltrail odd lines', () => {
  test('CIDR, ip:port, IPv6, bad addresses, match-everything paths and regexes', async () => {
    const dir = tempFeeds({
      'odd.txt': [
        '# Reference: https://example.test/ref',
        '10.0.0.0/8',
        '10.0.0.0/33',
        '999.1.1.1:80',
        '[2001:db8::1]:443',
        '2001:db8::/32',
        '/',
        'evil[0-9]+\\.test',
        '.leading.dots.test.',
        'host.test/path?q=1 # inline comment',
        '# Reference:',
        'after.test',
        'www.Www-Trail.test',
      ].join('\r\n'),
    });
    const { report, records } = await collect({ path: path.join(dir, 'odd.txt'), format: 'maltrail' });
    expect(records.map((r) => [r.type, r.indicator])).toEqual([
      ['ip', '10.0.0.0/8'],
      ['ip', '[2001:db8::1]:443'],
      ['ip', '2001:db8::/32'],
      ['domain', 'leading.dots.test'],
      ['url', 'host.test/path?q=1'],
      ['domain', 'after.test'],
      ['domain', 'Www-Trail.test'],
    ]);
    expect(report.skipReasons).toEqual({
      'bad CIDR prefix length': 1,
      'not a valid IP trail': 1,
      'mask matches every URL': 1,
      'regex trail (unsupported)': 1,
    });
    expect(report.samples.map((s) => s.where)).toEqual([3, 4, 7, 8].map((line) => `${path.join(dir, 'odd.txt')}:${line}`));
    expect(contextValue(records[4]!, 'reference')).toBe('https://example.test/ref');
    // A bare "# Reference:" ends the group: the trail after it carries no reference.
    expect(contextValue(records[5]!, 'reference')).toBeUndefined();
    expect(records[0]!.category).toBe('Maltrail_Odd');
  });

  test('trails.csv (the assembled trail set): class from the info, regex trails counted', async () => {
    const file = dataset('maltrail-trails', 'sensor', 'tests', 'corpus', 'trails.csv');
    const rows = dataLines(file);
    const { report, records } = await collect({ path: file, format: 'maltrail' });
    expect(report.records + report.skipped).toBe(rows.length);
    expect(report.skipReasons).toEqual({ 'regex trail (unsupported)': 1 });
    expect(records.find((r) => r.indicator === '6.6.6.6:8443')?.category).toBe('Maltrail_Malware');
    expect(records.find((r) => r.indicator === '[dead::beef]:443')?.type).toBe('ip');
    expect(records.find((r) => r.indicator === '*/malicious-login.php')?.type).toBe('url');
  });
});
