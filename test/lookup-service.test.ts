/**
 * End to end: the real launcher and bundle (and `feedtrace lookup` / `feedtrace check`) against the real
 * `feedtrace serve` on loopback, with real feeds from ../shared/datasets and real values taken from them.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { FIELDS, makeApp, runWithInput, startService, type RealService, type TempApp } from './lookup-support.js';
import { cliBundle, dataset } from './support/paths.js';
import { LineClient, waitFor } from './support/service-net.js';

// Splunk's CSV: CRLF rows, and (RFC 4180) any field holding a CR or LF is quoted; csv-stringify would leave a
// bare LF unquoted in CRLF mode, which a reader must take as a row break.
const csv = (rows: string[][]): string => stringify(rows, { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
const header = FIELDS;
const row = (inputs: Partial<Record<string, string>>): string[] => header.map((f) => inputs[f] ?? '');
const col = (name: string): number => header.indexOf(name);

const IPSUM = dataset('ipsum', 'ipsum.txt');
const URLHAUS = dataset('urlhaus-filter', '2025-07-19', 'urlhaus-filter-online.txt');
const TWEETFEED = dataset('tweetfeed', 'month.csv');
const ZEUS = dataset('maltrail-trails', 'trails', 'static', 'malware', 'zeus.txt');
const FEEDS = ['--feed', `ipsum:${IPSUM}`, '--feed', URLHAUS, '--feed', `tweetfeed:${TWEETFEED}`, '--feed', `maltrail:${ZEUS}`];

/** ipsum: IP → number of blocklists, in file order. */
const ipsum = readFileSync(IPSUM, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t') as [string, string]);
const tweets = (parse(readFileSync(TWEETFEED, 'utf8'), { columns: false, relax_column_count: true }) as string[][]).filter((r) => r.length >= 4);
const tweet = (type: string): string => tweets.find((r) => r[2] === type)![3]!;
/** The first host/path entry of URLhaus-filter (`||host/path^$all`), without a scheme as proxies log them. */
const urlhausUrl = /^\|\|([^^]+\/[^^]+)\^/m.exec(readFileSync(URLHAUS, 'utf8'))![1]!;
const zeusDomain = readFileSync(ZEUS, 'utf8').split('\n').find((l) => /^[a-z0-9-]+\.[a-z]+$/.test(l))!;

let service: RealService;
let app: TempApp;
beforeAll(async () => {
  service = await startService(FEEDS);
  app = makeApp();
}, 120000);
afterAll(async () => {
  app.remove();
  await service.stop();
});
/** Sends `text` on one connection and returns the first `lines` answer lines. */
async function rawExchange(port: number, text: string, lines: number): Promise<string[]> {
  const client = await LineClient.connect(port);
  client.socket.write(text);
  await waitFor(() => client.lines.length >= lines, 'the service to answer');
  client.socket.destroy();
  return client.lines.slice(0, lines);
}

const lookup = (input: string, a: TempApp = app, port = service.port) => runWithInput(a.launcher, FIELDS, input, { FEEDTRACE_SERVICE: `127.0.0.1:${port}` });

describe('lookup script against the real service', () => {
  it('finds real indicators of every feed, with CIM fields and record context', async () => {
    const [ip, blocklists] = ipsum[0]!;
    const input = [
      header,
      row({ ip: `${ip}:443` }),
      row({ url: urlhausUrl }),
      row({ domain: tweet('domain') }),
      row({ url: tweet('url') }),
      row({ md5: tweet('md5').toUpperCase() }),
      row({ hash: tweet('sha256') }),
      row({ domain: zeusDomain }),
      row({ ip: '192.0.2.77', url: 'http://example.invalid/clean' }),
    ];
    const r = await lookup(csv(input));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = (parse(r.stdout) as string[][]).slice(1);
    const byValue = (v: string) => out.filter((o) => o[col('threat_match_value')] === v);
    const ipRows = byValue(`${ip}:443`).filter((o) => o[col('feed')] === 'ipsum');
    expect(ipRows.map((o) => [o[col('matchedIndicator')], o[col('threat_match_field')], o[col('context')]])).toEqual([[ip, 'ip', `blocklists=${blocklists}`]]);
    expect(byValue(urlhausUrl).map((o) => o[col('feed')])).toContain('urlhaus-filter-online');
    expect(byValue(tweet('domain')).map((o) => o[col('feed')])).toContain('month');
    expect(byValue(tweet('url')).map((o) => o[col('feed')])).toContain('month');
    const md5 = byValue(tweet('md5').toUpperCase());
    expect(md5.map((o) => [o[col('feed')], o[col('threat_match_field')], o[col('matchedIndicator')].toLowerCase()])).toEqual([['month', 'md5', tweet('md5').toLowerCase()]]);
    expect(md5[0]![col('context')]).toContain('user=');
    expect(byValue(tweet('sha256')).map((o) => [o[col('feed')], o[col('threat_match_field')]])).toEqual([['month', 'hash']]);
    expect(byValue(zeusDomain).map((o) => o[col('feed')])).toEqual(['zeus']);
    expect(byValue('192.0.2.77')).toEqual([]);
    for (const o of out) expect(o[col('category')]).not.toBe('');
  });

  it('hostile values reach nothing and do not disturb the pairing of the values around them', async () => {
    const hostile = ['\r\nX-KF-ReplyBackPING', 'x\u0000y', `http://a/ ip=${ipsum[1]![0]}`, 'X-KF-SendFinishedEvent', '"', '\\', '=', `${ipsum[2]![0]}\n${ipsum[3]![0]}`];
    const good = ipsum.slice(10, 20).map(([ip]) => ip);
    const input = [header];
    for (let i = 0; i < good.length; i++) {
      input.push(row({ ip: good[i] }));
      for (const h of hostile) input.push(row({ url: h + i }), row({ ip: h }), row({ domain: h + i }), row({ md5: h }));
    }
    const r = await lookup(csv(input));
    expect(r.code).toBe(0);
    const out = (parse(r.stdout) as string[][]).slice(1).filter((o) => o[col('feed')] === 'ipsum');
    expect(out.map((o) => [o[col('threat_match_value')], o[col('matchedIndicator')]])).toEqual(good.map((ip) => [ip, ip]));
  });

  it('100 k rows of unique real IPs: every one matched once by its feed, in input order', async () => {
    const ips = ipsum.slice(0, 100000).map(([ip]) => ip);
    const r = await lookup(csv([header, ...ips.map((ip) => row({ ip }))]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = (parse(r.stdout) as string[][]).slice(1).filter((o) => o[col('feed')] === 'ipsum');
    expect(out.map((o) => o[col('ip')])).toEqual(ips);
  }, 300000);

  it('pairs by request id when the service echoes one (CyberTrace balancer style %REQ% formats)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-req-'));
    const config = path.join(dir, 'service.xml');
    writeFileSync(
      config,
      DEFAULT_SERVICE_CONFIG_XML.replace('<EventFormat>%Date% ', '<EventFormat>%REQ% %Date% ').replace(/<FinishedEventFormat enabled="false">%Date% /, '<FinishedEventFormat enabled="false">%REQ% %Date% '),
    );
    const withIds = await startService(['--config', config, '--feed', `ipsum:${IPSUM}`]);
    try {
      // The service really echoes the id at the start of both kinds of line.
      const echo = await rawExchange(withIds.port, `X-KF-SendFinishedEventX-KF-ReplyBack41 ip=${ipsum[0]![0]} md5= sha1= sha256= url=\n`, 2);
      expect(echo.map((l) => l.split(' ')[0])).toEqual(['41', '41']);
      expect(echo[1]).toContain('LookupFinished');
      const ips = ipsum.slice(0, 3000).map(([ip]) => ip);
      const rows = ips.flatMap((ip, i) => [row({ ip }), row({ ip: `10.9.${i >> 8}.${i & 255}` })]);
      const r = await lookup(csv([header, ...rows]), app, withIds.port);
      expect(r.stderr).toBe('');
      const out = (parse(r.stdout) as string[][]).slice(1);
      expect(out.map((o) => [o[col('ip')], o[col('matchedIndicator')]])).toEqual(ips.map((ip) => [ip, ip]));
    } finally {
      await withIds.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);

  it('fails over from an instance that dies mid-run without losing or duplicating a row', async () => {
    const a = await startService(['--feed', `ipsum:${IPSUM}`]);
    const b = await startService(['--feed', `ipsum:${IPSUM}`]);
    const twoApp = makeApp('[service]\nmax_in_flight = 64\n');
    try {
      const ips = ipsum.slice(0, 30000).map(([ip]) => ip);
      const run = runWithInput(twoApp.launcher, FIELDS, csv([header, ...ips.map((ip) => row({ ip }))]), { FEEDTRACE_SERVICE: `127.0.0.1:${a.port},127.0.0.1:${b.port}` });
      // Kill one instance while the lookup runs (if the run is already over, the result must be the same).
      await new Promise((r) => setTimeout(r, 300));
      await a.stop();
      const r = await run;
      expect(r.code).toBe(0);
      const out = (parse(r.stdout) as string[][]).slice(1);
      expect(out.map((o) => o[col('ip')])).toEqual(ips);
    } finally {
      twoApp.remove();
      await a.stop();
      await b.stop();
    }
  }, 180000);
});

describe('feedtrace lookup and feedtrace check against the real service', () => {
  it('feedtrace lookup runs the same contract from the CLI', async () => {
    const [ip, blocklists] = ipsum[5]!;
    const r = await runWithInput(process.execPath, [cliBundle, 'lookup', '--service', `127.0.0.1:${service.port}`, 'ip', 'feed', 'context'], `ip,feed,context\n${ip},,\n10.0.0.1,,\n`);
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toContainEqual([ip, 'ipsum', `blocklists=${blocklists}`]);
    expect(parse(r.stdout)).toHaveLength(1 + (parse(r.stdout) as string[][]).filter((o) => o[0] === ip).length);
  });

  it('feedtrace check: PONG, the built-in list answered, a given indicator OK, a missing one fails the check', async () => {
    const [ip] = ipsum[7]!;
    const ok = await runWithInput(process.execPath, [cliBundle, 'check', '--service', `127.0.0.1:${service.port}`, '--indicator', `ipsum=${ip}`], '');
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^service 127\\.0\\.0\\.1:${service.port}: PONG in \\d+ ms$`));
    expect(lines[1]).toMatch(/^feed\s+indicator\s+status$/);
    expect(lines).toContainEqual(expect.stringMatching(/^IP_Reputation_Data_Feed\s+192\.0\.2\.0\s+FALSE$/));
    expect(lines.at(-1)).toMatch(new RegExp(`^ipsum\\s+${ip.replace(/\./g, '\\.')}\\s+OK \\(\\S+\\)$`));
    // The service's own feeds: the first plain indicator of each must come back from that feed.
    const feeds = await runWithInput(process.execPath, [cliBundle, 'check', '--no-builtin', '--service', `127.0.0.1:${service.port}`, ...FEEDS], '');
    expect(feeds.stderr).toBe('');
    expect(feeds.code).toBe(0);
    const feedLines = feeds.stdout.trimEnd().split('\n').slice(2);
    expect(feedLines.map((l) => l.split(/\s+/)[0])).toEqual(['ipsum', 'urlhaus-filter-online', 'month', 'zeus']);
    for (const l of feedLines) expect(l).toMatch(/\sOK \(\S+\)$/);
    const miss = await runWithInput(process.execPath, [cliBundle, 'check', '--no-builtin', '--service', `127.0.0.1:${service.port}`, '--indicator', 'ipsum=192.0.2.123'], '');
    expect(miss.code).toBe(1);
    expect(miss.stdout).toMatch(/ipsum\s+192\.0\.2\.123\s+FALSE/);
  });
});
