/**
 * Hostile feed and config files (issue 6): truncated XML/JSON, wrong types, huge files, duplicate indicators,
 * bad CIDRs, masks that would match everything, zip-bomb-like nesting in JSON/STIX/MISP/XML. Every case ends in
 * a clear `FeedLoadError` / `ServiceConfigError` naming the file (never an "internal error", never a crash or
 * hang) or in a load whose bad records are skipped and counted while the good ones around them load.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { FeedLoadError, loadFeed, type FeedFormat, type FeedSource } from '../src/feeds/load.js';
import { parseServiceConfig, ServiceConfigError } from '../src/service/config.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import type { FeedRecord } from '../src/types.js';
import { dataset } from './support/paths.js';
import { tmpDir } from './reliability-support.js';

let dir: string;
beforeAll(() => (dir = tmpDir('hostile-feeds')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function file(name: string, content: string | Buffer): string {
  const d = path.join(dir, String(fileNo++));
  fs.mkdirSync(d);
  const p = path.join(d, name);
  fs.writeFileSync(p, content);
  return p;
}

type Outcome = { ok: true; records: FeedRecord[]; skipped: number; skipReasons: Record<string, number> } | { ok: false; message: string };

/** Loads a feed; anything but a report or a FeedLoadError that names the file and is no internal error fails. */
async function load(source: FeedSource): Promise<Outcome> {
  const records: FeedRecord[] = [];
  try {
    const report = await loadFeed(source, (r) => records.push(r));
    return { ok: true, records, skipped: report.skipped, skipReasons: report.skipReasons };
  } catch (error) {
    expect(error).toBeInstanceOf(FeedLoadError);
    const message = (error as Error).message;
    expect(message.startsWith(source.path)).toBe(true);
    expect(message).not.toMatch(/internal error/);
    return { ok: false, message };
  }
}
const indicators = (o: Outcome): string[] => (o.ok ? o.records.map((r) => r.indicator) : []);

describe('feeds', () => {
  it('text lists: bad addresses, bad CIDRs, "*" masks, NULs and duplicates are skipped and counted; good lines load', async () => {
    const trail = ['good-one.example', '*', '*.', '*/*', 'http://*', '10.0.0.0/99', '10.0.0.0/-1', '300.1.1.1', '1.2.3.0/24', 'a\u0000b.example', 'good-one.example', 'http://bad host/x', 'x'.repeat(300) + '.example', 'good-two.example'];
    const o = await load({ path: file('bad.txt', trail.join('\n') + '\n'), format: 'maltrail' });
    expect(o.ok).toBe(true);
    expect(indicators(o)).toEqual(expect.arrayContaining(['good-one.example', '1.2.3.0/24', 'good-two.example']));
    expect(indicators(o)).not.toContain('*');
    expect(indicators(o).filter((i) => i === 'good-one.example')).toHaveLength(1);
    const reasons = Object.keys((o as { skipReasons: Record<string, number> }).skipReasons).join('; ');
    expect(reasons).toMatch(/duplicate indicator/);
    expect((o as { skipped: number }).skipped).toBeGreaterThanOrEqual(8);

    const ipsum = ['1.2.3.4\t3', '999.1.1.1\t3', 'not-an-ip\t2', '1.2.3.4\t3', '\u0000\t1', '5.6.7.8\t1'].join('\n');
    const i = await load({ path: file('ipsum.txt', '\uFEFF' + ipsum + '\n'), format: 'ipsum' });
    expect(indicators(i)).toEqual(['1.2.3.4', '5.6.7.8']);
  });

  it('a line over 1 MiB fails a text feed as a whole with a clear error (the file is not a list)', async () => {
    const o = await load({ path: file('huge.txt', `good.example\n${'a'.repeat(2 * 1024 * 1024)}.example\n`), format: 'maltrail' });
    expect(o.ok).toBe(false);
  });

  it('truncated and wrongly typed JSON: whole-file errors or counted skips', async () => {
    const mapping = [{ field: 'ip', type: 'ip' as const, category: 'Test_IP' }];
    expect((await load({ path: file('t.json', '[{"ip":"1.2.3.4"},{"ip":'), format: 'json', mapping })).ok).toBe(false);
    const wrong = await load({
      path: file('w.json', JSON.stringify([{ ip: '1.2.3.4' }, { ip: 123 }, { ip: { a: 1 } }, { ip: ['1.1.1.1'] }, { ip: null }, 'x', 7, null, { ip: '5.6.7.8' }])),
      format: 'json',
      mapping,
    });
    expect(indicators(wrong)).toEqual(expect.arrayContaining(['1.2.3.4', '5.6.7.8']));
    expect(indicators(wrong)).not.toContain('123');
    expect(await load({ path: file('n.json', '{"not":"an array"}'), format: 'json', mapping })).toMatchObject({ ok: false });
    // The same for the Kaspersky and MISP shapes.
    expect((await load({ path: file('IP_Reputation_Data_Feed.json', '[{"ip":"1.2.3.4","threat_score":'), format: 'kaspersky' })).ok).toBe(false);
    expect(indicators(await load({ path: file('e.json', '{"Event":{"Attribute":"not a list","Object":7}}'), format: 'misp' }))).toEqual([]);
  });

  it('zip-bomb-like nesting (100 000 levels) in JSON, STIX, MISP and XML: a clear error or a skip, no stack overflow', async () => {
    const depth = 100_000;
    const deepValue = '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const mapping = [{ field: 'ip', type: 'ip' as const, category: 'Test_IP' }];
    const json = await load({ path: file('d.json', `[{"ip":"1.2.3.4"},{"ip":"2.3.4.5","x":${deepObject}},{"ip":"5.6.7.8","y":${deepValue}}]`), format: 'json', mapping });
    if (json.ok) expect(indicators(json)).toEqual(expect.arrayContaining(['1.2.3.4']));
    const stix = await load({
      path: file('s.json', `{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1","pattern_type":"stix","pattern":"[ipv4-addr:value = '1.2.3.4']","x":${deepObject}},${deepValue}]}`),
      format: 'stix',
    });
    if (stix.ok) expect(indicators(stix)).toContain('1.2.3.4');
    const misp = await load({ path: file('m.json', `{"Event":{"info":"x","Attribute":[{"type":"ip-dst","value":"1.2.3.4"}],"Object":[${deepObject}],"Tag":${deepValue}}}`), format: 'misp' });
    if (misp.ok) expect(indicators(misp)).toContain('1.2.3.4');
    const xml = await load({ path: file('i.ioc', `<?xml version="1.0"?><ioc>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</ioc>`), format: 'openioc' });
    expect(xml.ok).toBe(false);
  });

  const samples: Array<[FeedFormat, string, string]> = [
    ['ipsum', dataset('ipsum', 'ipsum.txt'), 'ipsum.txt'],
    ['feodo', dataset('feodotracker', 'ipblocklist.csv'), 'ipblocklist.csv'],
    ['tweetfeed', dataset('tweetfeed', 'month.csv'), 'month.csv'],
    ['openioc', dataset('threatfox-openioc', 'kaspersky_threatfox_20251006_012627.xml'), 'x.xml'],
    ['misp', dataset('tweetfeed', 'misp', '67317f07-5461-555f-9491-d7685196f614.json'), 'event.json'],
    ['stix', dataset('tweetfeed', 'stix', 'today.json'), 'today.json'],
    ['kaspersky', path.join('test', 'fixtures', 'feeds', 'kaspersky', 'Malicious_URL_Data_Feed.json'), 'Malicious_URL_Data_Feed.json'],
  ];
  it.each(samples)('%s: a real file truncated anywhere or with random bytes spliced in never crashes the loader (property)', async (format, src, name) => {
    const whole = fs.readFileSync(src).subarray(0, 64 * 1024);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(whole.length), fc.nat(whole.length), fc.uint8Array({ maxLength: 64 }), async (cut, at, junk) => {
        runs++;
        const head = whole.subarray(0, cut);
        const spliced = Buffer.concat([head.subarray(0, at), Buffer.from(junk), head.subarray(at)]);
        await load({ path: file(name, spliced), format });
      }),
      { numRuns: 25 },
    );
    expect(runs).toBe(25);
  });
});

describe('service config', () => {
  const parse = (xml: string): string => {
    try {
      parseServiceConfig(xml, '/etc/feedtrace/test.xml');
      return 'ok';
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/^\/etc\/feedtrace\/test\.xml(:\d+)?: /);
      return message;
    }
  };
  const withInput = (inner: string): string => DEFAULT_SERVICE_CONFIG_XML.replace('<InputSettings>', `<InputSettings>${inner}`);

  it('the default config truncated at any point is valid or a clear error naming the file (property)', () => {
    const xml = DEFAULT_SERVICE_CONFIG_XML;
    fc.assert(
      fc.property(fc.nat(xml.length), (cut) => {
        parse(xml.slice(0, cut));
      }),
      { numRuns: 300 },
    );
    expect(parse(xml.slice(0, Math.floor(xml.length / 2)))).not.toBe('ok');
  });

  it('wrong types, out-of-range numbers, duplicates, bad CIDRs and deep nesting are named errors', () => {
    for (const bad of [
      '<MaxConnections>many</MaxConnections>',
      '<MaxConnections>-1</MaxConnections>',
      '<MaxConnections>1e400</MaxConnections>',
      '<MaxEventSize>99999999999999999999</MaxEventSize>',
      '<IdleTimeout>1.5</IdleTimeout>',
      '<AllowedClients>10.0.0.0/99</AllowedClients>',
      '<AllowedClients>300.1.2.3</AllowedClients>',
      '<AllowedClients>*</AllowedClients>',
      '<MaxConnections>8</MaxConnections><MaxConnections>9</MaxConnections>',
      '<MaxConnections><x>1</x></MaxConnections>',
      `<AllowedClients>${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</AllowedClients>`,
    ]) {
      const message = parse(withInput(bad));
      expect(message).not.toBe('ok');
    }
  });

  it('a huge config (50 MB of comments and whitespace) is read without a crash', () => {
    const padding = `<!-- ${'x'.repeat(1024 * 1024)} -->\n`.repeat(50);
    expect(parse(DEFAULT_SERVICE_CONFIG_XML.replace('<InputSettings>', `${padding}<InputSettings>`))).toBe('ok');
  });
});
