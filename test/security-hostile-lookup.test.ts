/**
 * Hostile input to the Splunk lookup (issue 6): malformed CSV (unbalanced quotes, ragged rows, BOM, CRLF mixes,
 * 1 MB fields), a header without the expected fields, values crafted to inject lines or `X-KF-` flags. The real
 * launcher and bundle run against the real `feedtrace serve`; each case puts real indicators around the bad rows
 * and requires their matches.
 */
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import { makeApp, runWithInput, type TempApp } from './lookup-support.js';
import { ipsumIps, tmpDir, writeIpsum } from './reliability-support.js';
import { spawnService, type ServiceProcess } from './support/serve.js';

const FIELDS = ['ip', 'url', 'domain', 'category', 'matchedIndicator', 'feed', 'threat_match_value'];
let dir: string;
let service: ServiceProcess;
let app: TempApp;

beforeAll(async () => {
  dir = tmpDir('hostile-lookup');
  service = await spawnService(['--reply-only', '--feed', `ipsum:${writeIpsum(dir)}`]);
  app = makeApp();
});
afterAll(async () => {
  expect(service.child.exitCode).toBeNull();
  app.remove();
  await service.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
});

const lookup = (input: string | Buffer, fields = FIELDS) => runWithInput(app.launcher, fields, input, { FEEDTRACE_SERVICE: `127.0.0.1:${service.port}` });
/** The `ip` column of the output rows that ipsum matched, in output order. */
const matchedIps = (stdout: string): string[] =>
  (parse(stdout, { relax_column_count: true }) as string[][]).slice(1).filter((r) => r[5] === 'ipsum').map((r) => r[0]!);

const good = (i: number): string => ipsumIps[i]!;

it('BOM, CRLF / LF / CR-less mixes and ragged rows: every valid row around them is matched', async () => {
  const input =
    '\uFEFFip,url,domain,category,matchedIndicator,feed\r\n' +
    `${good(1)},,,,,\n` +
    `${good(2)}\r\n` + // short row
    `${good(3)},,,,,,,extra,columns,here\r\n` + // long row
    '\r\n\n' + // empty lines
    `${good(4)},,,,,`; // no final line end
  const r = await lookup(input);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(matchedIps(r.stdout)).toEqual([good(1), good(2), good(3), good(4)]);
});

it('quotes: stray quotes inside fields are relaxed; an unclosed quote is a clear input error after the rows before it', async () => {
  const relaxed = `ip,url,domain,category,matchedIndicator,feed\n${good(5)},ab"c,,,,\n${good(6)},"quoted ""ok""",,,,\n${good(7)},x"y"z,,,,\n`;
  const r1 = await lookup(relaxed);
  expect(r1.code).toBe(0);
  expect(matchedIps(r1.stdout)).toEqual([good(5), good(6), good(7)]);

  const unclosed = `ip,url,domain,category,matchedIndicator,feed\n${good(8)},,,,,\n${good(9)},"http://never-closed,,,,\n${good(10)},,,,,\n`;
  const r2 = await lookup(unclosed);
  expect(r2.code).toBe(2);
  expect(r2.stderr).toMatch(/^feedtrace_lookup: input is not valid CSV: .*quote/im);
  expect(r2.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
  expect(matchedIps(r2.stdout)).toEqual([good(8)]);
});

it('1 MB fields (input and echoed columns) do not stop the rows around them', async () => {
  const big = 'A'.repeat(1024 * 1024);
  const input = [
    'ip,url,domain,category,matchedIndicator,feed,note',
    `${good(11)},,,,,,`,
    `,http://${big.slice(0, 1000)}.example/${big},,,,,`,
    `,,${big}.example,,,,`,
    `${good(12)},,,,,,${big}`,
    `${good(13)},,,,,,`,
  ].join('\n');
  // `note` is not a lookup field: echoed untouched (a named output column that is filled would make the row a
  // pass-through, reverse-lookup row).
  const r = await lookup(input);
  expect(r.code).toBe(0);
  expect(matchedIps(r.stdout)).toEqual([good(11), good(12), good(13)]);
  // The echoed 1 MB column comes back whole.
  const rows = parse(r.stdout) as string[][];
  expect(rows.find((row) => row[0] === good(12))![6]).toBe(big);
});

it('a header without any input field is a clear usage error, not a crash', async () => {
  const r = await lookup('src_ip,category\n1.2.3.4,\n', ['src_ip', 'category']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/feedtrace_lookup: .*no input field/);

  const r2 = await lookup('foo,bar\n1,2\n', ['ip', 'category']);
  expect(r2.code).toBe(2);
  expect(r2.stderr).toMatch(/has no input field/);
});

it('values crafted to inject lines or X-KF- flags never yield a match from outside the value and never shift the pairing (property)', async () => {
  const pieces = fc.constantFrom('\n', '\r', '\r\n', '\u0000', '"', ',', 'X-KF-ReplyBack', 'X-KF-SendFinishedEvent', 'X-KF-ReplyBackPING', 'PONG', ` ip=${good(1999)} `, `${good(1998)}`, 'url=', 'LookupFinished', '%0a', '\u2028', 'é');
  const value = fc.array(fc.oneof(pieces, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('ip', 'url', 'domain'), value), { minLength: 1, maxLength: 12 }), async (bad) => {
      const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
      const lines = ['ip,url,domain,category,matchedIndicator,feed,threat_match_value'];
      const expected: string[] = [];
      bad.forEach(([field, v], i) => {
        const ip = good(100 + i);
        expected.push(ip);
        lines.push(`${ip},,,,,`);
        // A hostile value that is a listed address once trimmed (with or without brackets or a port) is a legitimate
        // match, as the lookup trims and splits values (docs/lookup.md); a trailing "x" keeps it out.
        if (field === 'ip' && /^\[?[\d.]+\]?(?::\d*)?$/.test(v.trim())) v = `${v}x`;
        lines.push(field === 'ip' ? `${quote(v)},,,,,` : field === 'url' ? `,${quote(v)},,,,` : `,,${quote(v)},,,`);
      });
      const r = await lookup(lines.join('\r\n') + '\r\n');
      expect(r.code).toBe(0);
      const out = (parse(r.stdout, { relax_column_count: true }) as string[][]).slice(1).filter((row) => row[5] === 'ipsum');
      // The good rows, in order; any other match is of an address written inside the hostile value itself (the
      // service's default RE_IP finds addresses in any looked-up text, as CyberTrace's does), never of a line or
      // flag smuggled past it.
      expect(out.filter((row) => row[0] !== '' && row[0] === row[6]).map((row) => row[0])).toEqual(expected);
      for (const row of out) expect(row[6]).toContain(row[4]);
    }),
    { numRuns: 15 },
  );
});
