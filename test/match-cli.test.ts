/**
 * `feedtrace match` end to end through the built bundle, on real feeds and real event values.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliBundle, dataset } from './support/paths.js';

function run(args: string[], input: string) {
  const result = spawnSync(process.execPath, [cliBundle, 'match', ...args], { input, encoding: 'utf8' });
  const detections = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: result.status, stderr: result.stderr, detections };
}

const ipsumPath = dataset('ipsum', 'ipsum.txt');
const ipsum = new Map(
  readFileSync(ipsumPath, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split('\t') as [string, string]),
);
const honeypotIps = [
  ...new Set(
    readFileSync(dataset('slips-honeypot-suricata-2021-06', 'eve.json'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .flatMap((line) => {
        const event = JSON.parse(line) as { src_ip?: string; dest_ip?: string };
        return [event.src_ip, event.dest_ip].filter((ip): ip is string => ip !== undefined);
      }),
  ),
];

describe('feedtrace match', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'feedtrace-match-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('honeypot IPs against IPsum: one JSON line per detection, with the value as given and the context', () => {
    const expected = honeypotIps.filter((ip) => ipsum.has(ip));
    const { status, stderr, detections } = run(['--feed', `ipsum:${ipsumPath}`], `${honeypotIps.join('\n')}\n`);
    expect(status).toBe(0);
    expect(expected.length).toBeGreaterThan(0);
    expect(detections.map((d) => d['value']).sort()).toEqual(expected.sort());
    for (const d of detections) {
      expect(d).toEqual({
        value: d['value'],
        type: 'ip',
        category: expect.any(String),
        matchedIndicator: d['value'],
        feed: 'ipsum',
        context: { blocklists: ipsum.get(d['value'] as string) },
      });
    }
    expect(stderr).toMatch(new RegExp(`ipsum: ${ipsum.size} records`));
    expect(stderr).toMatch(/resident memory [\d.]+ MiB/);
    expect(stderr).toMatch(new RegExp(`${expected.length} of ${honeypotIps.length} values detected`));
  });

  test('auto type, allow-list and block-list with the bazarloader false positive (allow/block files are synthetic)', () => {
    const bazarloader = dataset('maltrail-trails', 'trails', 'static', 'malware', 'bazarloader.txt');
    const allow = path.join(scratch, 'false-positives.txt');
    const block = path.join(scratch, 'internal.txt');
    writeFileSync(allow, '204.79.197.200\n');
    writeFileSync(block, '204.79.197.0/24\n');
    const input = '204.79.197.200:443\n204.79.197.200\n\nnot a value\n';
    const plain = run(['--feed', `maltrail:${bazarloader}`], input);
    expect(plain.status).toBe(0);
    expect(plain.detections).toEqual([expect.objectContaining({ value: '204.79.197.200:443', matchedIndicator: '204.79.197.200:443', feed: 'bazarloader' })]);
    const allowed = run(['--feed', `maltrail:${bazarloader}`, '--allow', `maltrail:${allow}`], input);
    expect(allowed.detections).toEqual([]);
    expect(allowed.stderr).toMatch(/false-positives as allow-list: 1 records/);
    const blocked = run(['--feed', `maltrail:${bazarloader}`, '--allow', `maltrail:${allow}`, '--block', `maltrail:${block}`], input);
    expect(blocked.detections.map((d) => `${d['value']} ${d['feed']} ${d['matchedIndicator']}`)).toEqual([
      '204.79.197.200:443 internal 204.79.197.0/24',
      '204.79.197.200 internal 204.79.197.0/24',
    ]);
  });

  test('explicit --type: a domain query with maltrail suffix matching', () => {
    const trails = dataset('maltrail-trails', 'trails', 'static', 'suspicious', 'dynamic_domain.txt');
    const domain = readFileSync(trails, 'utf8')
      .split('\n')
      .map((line) => line.split('#')[0]!.trim())
      .find((t) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(t))!;
    const { detections } = run(['--feed', `maltrail:${trails}`, '--type', 'domain'], `host.${domain}\n`);
    expect(detections.map((d) => d['matchedIndicator'])).toContain(domain);
    expect(detections.every((d) => d['type'] === 'domain' && d['value'] === `host.${domain}`)).toBe(true);
  });

  test('a missing feed fails with a message naming the file; no feed at all is an error', () => {
    const missing = path.join(scratch, 'missing.txt');
    const failed = run(['--feed', `ipsum:${missing}`], '1.2.3.4\n');
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain(missing);
    const none = run([], '1.2.3.4\n');
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/--feed/);
  });

  test('--help explains every option with an example', () => {
    const help = spawnSync(process.execPath, [cliBundle, 'match', '--help'], { encoding: 'utf8' }).stdout;
    for (const option of ['--feed', '--allow', '--block', '--type', 'Example']) expect(help).toContain(option);
  });
});
