/**
 * `feedtrace demo` run as a process from the built bundle: its summary is checked against what the test counts
 * itself — the sample logs' lines, the detections file it wrote, and the IPv4 detections and lookup rows the
 * sample feeds predict (test/e2e-support.ts) — and a SIGINT in the middle of the replay stops everything.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { cliBundle, repoRoot } from './support/paths.js';
import { waitFor } from './support/service-net.js';
import { differences, IpFeeds, ipValues, listWords, maltrailCategory, tally } from './e2e-support.js';

const samples = path.join(repoRoot, 'src', 'samples');
const feedFile = (name: string): string => path.join(samples, 'feeds', name);
const logs = fs.readdirSync(path.join(samples, 'logs')).sort().map((f) => path.join(samples, 'logs', f));
const maltrailFiles = fs.readdirSync(feedFile('maltrail')).filter((f) => f.endsWith('.txt')).map((f) => path.join(feedFile('maltrail'), f));

/** The sample feeds' IPv4 indicators, read with plain string code; names and categories per docs/feeds.md. */
function sampleIpFeeds(): IpFeeds {
  const feeds = new IpFeeds().add('ipsum-level3', 'IPsum_IP_Reputation', listWords(feedFile('ipsum-level3.txt')));
  const feodo = fs.readFileSync(feedFile('feodo-ipblocklist.csv'), 'utf8').split('\n').filter((l) => /^"\d/.test(l));
  feeds.add('feodo-ipblocklist', 'Feodo_BotnetCnC_IP', feodo.map((l) => { const c = l.split(',').map((x) => x.replace(/"/g, '')); return `${c[1]}:${c[2]}`; }));
  // urlhaus-filter: a line without "/" is a host; "!" lines are comments.
  feeds.add('urlhaus-filter-online', 'URLhaus_Malicious_IP', listWords(feedFile('urlhaus-filter-online.txt')).filter((w) => !w.startsWith('!') && !w.includes('/')));
  const tweets = fs.readFileSync(feedFile('tweetfeed-week.csv'), 'utf8').split('\n').map((l) => l.split(','));
  feeds.add('tweetfeed-week', 'TweetFeed_IP', tweets.filter((c) => c[2] === 'ip').map((c) => c[3]!));
  for (const file of maltrailFiles) feeds.add('maltrail', maltrailCategory(file), listWords(file));
  return feeds;
}

/** `key=value` of a service line (bare or quoted), enough for the fixed fields. */
const field = (line: string, key: string): string | undefined => {
  const m = new RegExp(`(?:^| )${key}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`).exec(line);
  return m ? m[1]!.replace(/^"|"$/g, '') : undefined;
};

/** The value after a summary label, e.g. `  detections          126`. */
const summaryValue = (summary: string, label: string): string => new RegExp(`^  ${label} +(.*)$`, 'm').exec(summary)?.[1] ?? '';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-demo-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('prints a summary that matches the sample logs, the detections it received and the feeds', async () => {
  const out = path.join(tmp, 'run');
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    execFile(process.execPath, [cliBundle, 'demo', '--out', out], { cwd: tmp }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }))),
  );
  // Not a terminal: phase lines, no progress bar.
  expect(stderr).toContain('demo: replaying');
  expect(stderr).not.toContain('\r');

  const events = logs.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.replace(/\r/g, '') !== ''));
  expect(summaryValue(stdout, 'events sent')).toMatch(new RegExp(`^${events.length} \\(`));

  const files = ['detections.log', 'service.log', 'lookup-input.csv', 'lookup-output.csv'].map((f) => path.join(out, f));
  for (const f of files) expect(stdout).toContain(f);
  const lines = fs.readFileSync(files[0]!, 'utf8').split('\n').filter((l) => l !== '');
  const detections = lines.filter((l) => field(l, 'matchedIndicator') !== undefined);
  expect(summaryValue(stdout, 'detections')).toBe(String(detections.length));
  // One line per category, as counted here.
  const byCategory = tally(detections.map((d) => field(d, 'category')!));
  for (const [category, n] of byCategory) expect(stdout).toMatch(new RegExp(`^    ${category} +${n}$`, 'm'));
  const top = [...tally(detections.map((d) => field(d, 'matchedIndicator')!))].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
  expect(summaryValue(stdout, 'top indicators')).toBe(top.map(([i, n]) => `${i} (${n})`).join(', '));

  // The IPv4 detections are exactly those the sample feeds predict for the sample logs.
  const feeds = sampleIpFeeds();
  const want = tally(events.flatMap((e) => ipValues(e).flatMap((v) => feeds.match(v).map((r) => `${r.feed}|${r.category}|${r.indicator}|${v}`))));
  const ipv4 = detections.filter((d) => /^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(field(d, 'matchedValue') ?? ''));
  const got = tally(ipv4.map((d) => ['feed', 'category', 'matchedIndicator', 'matchedValue'].map((k) => field(d, k)).join('|')));
  expect(differences(got, want)).toEqual([]);
  expect(ipv4.length).toBeGreaterThan(0);

  // The lookup: input rows, result rows and matched values as counted here; its IP rows as the feeds predict.
  const input = parse(fs.readFileSync(files[2]!), { columns: true }) as Array<Record<string, string>>;
  const output = parse(fs.readFileSync(files[3]!), { columns: true }) as Array<Record<string, string>>;
  const matched = new Set(output.map((r) => `${r['ip']}|${r['domain']}`)).size;
  expect(summaryValue(stdout, 'lookup')).toMatch(new RegExp(`^${input.length} rows in [\\d.]+ s, \\d+ rows/s; ${matched} matched, ${output.length} result rows$`));
  const ipRows = output.filter((r) => r['ip'] !== '');
  const wantRows = tally(input.filter((r) => r['ip'] !== '').flatMap((r) => feeds.match(r['ip']!).map((m) => `${r['ip']}|${m.feed}|${m.category}|${m.indicator}`)));
  expect(differences(tally(ipRows.map((r) => `${r['ip']}|${r['feed']}|${r['category']}|${r['matchedIndicator']}`)), wantRows)).toEqual([]);
  // Some indicators match and some do not, and domains are looked up too.
  expect(matched).toBeGreaterThan(0);
  expect(matched).toBeLessThan(input.length);
  expect(output.some((r) => r['domain'] !== '')).toBe(true);
  process.stdout.write(stdout);
});

it('stops cleanly on SIGINT in the middle of the replay: children gone, ports closed, exit 130', async () => {
  const child = spawn(process.execPath, [cliBundle, 'demo', '--out', path.join(tmp, 'interrupted'), '--rate', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => (stderr += t));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await waitFor(() => stderr.includes('demo: replaying'), 'the replay to start', 60_000);
  const pid = Number(/service pid (\d+) listening on [\d.]+:(\d+)/.exec(stderr)![1]);
  const servicePort = Number(/service pid \d+ listening on [\d.]+:(\d+)/.exec(stderr)![1]);
  const receiverPort = Number(/9998 listening on [\d.]+:(\d+)/.exec(stderr)![1]);
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(stderr).toContain('demo: interrupted');
  expect(stderr).not.toContain('Feedtrace demo summary');
  // The service child has exited (it was stopped, not orphaned) and neither port accepts connections.
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  for (const port of [servicePort, receiverPort]) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect({ port, refused }).toEqual({ port, refused: true });
  }
  // The service said it stopped on the signal it was sent.
  expect(fs.readFileSync(path.join(tmp, 'interrupted', 'service.log'), 'utf8')).toMatch(/SIGTERM: stopping/);
});
