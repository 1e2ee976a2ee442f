/**
 * `feedtrace serve` and `feedtrace replay` as real processes: start-up line, output delivery to a real receiver
 * that is stopped and restarted mid-stream, alerts and statistics at the receiver, clean SIGTERM, the spool
 * surviving a restart of the service, and replay's summary.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { mallocAdvice } from '../src/service/garbage.js';
import { cliBundle, dataset } from './support/paths.js';
import { LineClient, LineReceiver, waitFor } from './support/service-net.js';
import { killServices, spawnService } from './support/serve.js';
import { IPSUM_FILE, ipsumAddresses } from './support/ipsum.js';

const IPSUM = IPSUM_FILE;
const ipsumIps = ipsumAddresses;

let tmp: string;
let configFile: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-cli-'));
  configFile = path.join(tmp, 'service.xml');
  // Reconnect every second and emit statistics every second, so the test does not wait for the defaults.
  fs.writeFileSync(
    configFile,
    DEFAULT_SERVICE_CONFIG_XML.replace(/<EventSendingRetriesCount>\d+</, '<EventSendingRetriesCount>1<')
      .replace(/<EventSendingRetriesTimeout>\d+</, '<EventSendingRetriesTimeout>1<')
      .replace(/<StatisticsInterval>\d+</, '<StatisticsInterval>1<'),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A test that fails midway must not leave a service running (jest would wait for it).
afterEach(killServices);

it('serve: one start-up line, output survives a receiver restart in order, alerts, statistics, clean SIGTERM', async () => {
  const receiver = new LineReceiver();
  const rport = await receiver.start(0);
  const s = await spawnService(['--config', configFile, '--output', `127.0.0.1:${rport}`, '--feed', `ipsum:${IPSUM}`, '--spool', path.join(tmp, 'spool1')]);
  // The start-up line, after the memory advice when glibc's defaults apply (IPsum has over 100,000 addresses).
  const advice = mallocAdvice(ipsumIps.length);
  expect(s.log()).toBe(
    `${advice === undefined ? '' : `feedtrace: ${advice}\n`}feedtrace: listening on 127.0.0.1:${s.port}; feeds: ipsum ${ipsumIps.length}; output 127.0.0.1:${rport}\n`,
  );
  await waitFor(() => receiver.lines.some((l) => l.includes('alert=KL_ALERT_ServiceStarted')), 'ServiceStarted at the receiver');

  // Events without session flags: detections go to the output connection. One hit per event, misses between.
  const hits = ipsumIps.slice(0, 12000);
  const events = hits.map((ip, i) => `src=${ip} n=${i}\nsrc=192.0.2.${i % 250} n=${i} miss`);
  const client = await LineClient.connect(s.port);
  await client.write(events.slice(0, 4000).join('\n') + '\n');
  await waitFor(() => receiver.lines.filter((l) => l.includes('matchedIndicator=')).length >= 4000, 'first batch');
  await receiver.stop();
  await client.write(events.slice(4000, 8000).join('\n') + '\n');
  await receiver.start(rport);
  await client.write(events.slice(8000).join('\n') + '\n');
  client.end();
  await waitFor(() => receiver.lines.filter((l) => l.includes('matchedIndicator=')).length >= hits.length, 'every detection at the receiver', 60000);

  const detections = receiver.lines.filter((l) => l.includes('matchedIndicator='));
  expect(detections.length).toBe(hits.length);
  expect(detections.map((l) => /matchedIndicator=(\S+)/.exec(l)![1])).toEqual(hits);
  await waitFor(() => receiver.lines.some((l) => l.includes('alert=FT_Statistics') && / events=24000 /.test(l)), 'statistics with all events');
  const stats = receiver.lines.filter((l) => l.includes('alert=FT_Statistics')).pop()!;
  expect(stats).toContain(`detections=${hits.length} `);
  expect(stats).toContain(`total=IPsum_IP_Reputation:${hits.length};`);
  expect(receiver.lines.some((l) => /alert=FT_FeedStatus feed=ipsum records=\d+ .*status=ok/.test(l))).toBe(true);

  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
  await waitFor(() => receiver.lines.some((l) => l.includes('alert=KL_ALERT_ServiceStopped')), 'ServiceStopped');
  await receiver.stop();
});

it('serve: lines spooled while the receiver is down are delivered by the next run of the service, in order', async () => {
  const receiver = new LineReceiver();
  const rport = await receiver.start(0);
  await receiver.stop();
  const spool = path.join(tmp, 'spool2');
  const first = await spawnService(['--config', configFile, '--output', `127.0.0.1:${rport}`, '--feed', `ipsum:${IPSUM}`, '--spool', spool]);
  const hits = ipsumIps.slice(5000, 8000);
  const client = await LineClient.connect(first.port);
  await client.write(hits.map((ip) => `ip=${ip}`).join('\n') + '\n');
  client.end();
  await client.closed;
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  expect(fs.readdirSync(spool).some((f) => f.endsWith('.spool'))).toBe(true);

  await receiver.start(rport);
  const second = await spawnService(['--config', configFile, '--output', `127.0.0.1:${rport}`, '--feed', `ipsum:${IPSUM}`, '--spool', spool]);
  await waitFor(() => receiver.lines.filter((l) => l.includes('matchedIndicator=')).length >= hits.length, 'spooled detections');
  expect(receiver.lines.filter((l) => l.includes('matchedIndicator=')).map((l) => /matchedIndicator=(\S+)/.exec(l)![1])).toEqual(hits);
  // The first run's alerts were spooled too, before the second run's.
  await waitFor(() => receiver.lines.filter((l) => l.includes('alert=KL_ALERT_ServiceStarted')).length >= 2, 'the second start-up alert');
  const alerts = receiver.lines.filter((l) => /alert=KL_ALERT_Service/.test(l)).map((l) => /alert=(\S+)/.exec(l)![1]);
  expect(alerts.slice(0, 3)).toEqual(['KL_ALERT_ServiceStarted', 'KL_ALERT_ServiceStopped', 'KL_ALERT_ServiceStarted']);
  second.child.kill('SIGINT');
  expect(await second.exited).toBe(0);
  await receiver.stop();
});

it('replay --reply-back sends a real log and reports the detections the service returned', async () => {
  const s = await spawnService(['--reply-only', '--feed', `ipsum:${IPSUM}`]);
  const log = dataset('elastic-apache-access', 'apache_logs');
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l);
  // Independently: client IPs (first field) that ipsum lists, one detection per line.
  const ipsum = new Set(ipsumIps);
  const expected = lines.filter((l) => ipsum.has(l.split(' ')[0]!)).length;
  expect(expected).toBeGreaterThan(0);
  const child = spawn(process.execPath, [cliBundle, 'replay', log, '--to', `127.0.0.1:${s.port}`, '--reply-back'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(code).toBe(0);
  expect(out).toMatch(new RegExp(`^sent ${lines.length} lines, ${fs.statSync(log).size} bytes in [\\d.]+ s \\(\\d+ lines/s\\); detections received ${expected}, finished events ${lines.length}\\n$`));

  // --rate, without --reply-back: every non-empty line is sent, nothing is waited for.
  const demo = dataset('maltrail-demo-events', 'maltrail_demo_events.log');
  const demoLines = fs.readFileSync(demo, 'utf8').split('\n').filter((l) => l.replace(/\r/g, '') !== '');
  const rated = spawn(process.execPath, [cliBundle, 'replay', demo, '--to', `127.0.0.1:${s.port}`, '--rate', '20000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let ratedOut = '';
  rated.stdout!.on('data', (d: Buffer) => (ratedOut += d.toString()));
  expect(await new Promise<number | null>((r) => rated.on('close', r))).toBe(0);
  expect(ratedOut).toMatch(new RegExp(`^sent ${demoLines.length} lines, \\d+ bytes in [\\d.]+ s \\(\\d+ lines/s\\)\\n$`));
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
});

it('replay names a missing log file before it connects, and a refused connection by its address', async () => {
  const run = async (args: string[]): Promise<{ code: number | null; err: string }> => {
    const child = spawn(process.execPath, [cliBundle, 'replay', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return { code: await new Promise<number | null>((r) => child.on('close', r)), err };
  };
  // A listener that counts connections: the missing file must be reported without opening a session.
  let connections = 0;
  const listener = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const port = (listener.address() as net.AddressInfo).port;
  const missing = path.join(tmp, 'no-such.log');
  const noFile = await run([missing, '--to', `127.0.0.1:${port}`]);
  expect(noFile.code).toBe(1);
  expect(noFile.err).toBe(`feedtrace: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'\n`);
  expect(connections).toBe(0);
  // The same port once nothing listens there.
  await new Promise<void>((r) => listener.close(() => r()));
  const refused = await run([dataset('maltrail-demo-events', 'maltrail_demo_events.log'), '--to', `127.0.0.1:${port}`]);
  expect(refused.code).toBe(1);
  expect(refused.err).toBe(`feedtrace: cannot connect to the service at 127.0.0.1:${port}: connection refused (is the service running and listening there?)\n`);
});

it('serve refuses to start on a missing feed and names it', async () => {
  const child = spawn(process.execPath, [cliBundle, 'serve', '--listen', '127.0.0.1:0', '--reply-only', '--feed', path.join(tmp, 'missing.txt')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(code).not.toBe(0);
  expect(err).toContain('missing.txt');
  expect(err).not.toContain('listening on');
});

it('serve refuses a spool directory that another running service uses', async () => {
  const spool = path.join(tmp, 'spool-shared');
  const first = await spawnService(['--output', '127.0.0.1:9', '--spool', spool]);
  const child = spawn(process.execPath, [cliBundle, 'serve', '--listen', '127.0.0.1:0', '--output', '127.0.0.1:9', '--spool', spool], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(code).not.toBe(0);
  expect(err).toContain(`spool ${spool} is in use by another running service (pid ${first.child.pid})`);
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  expect(fs.existsSync(path.join(spool, 'lock'))).toBe(false);
});

it('serve exits with the reason when its listen address is taken', async () => {
  const blocker = new LineReceiver();
  const port = await blocker.start(0);
  const child = spawn(process.execPath, [cliBundle, 'serve', '--listen', `127.0.0.1:${port}`, '--output', '127.0.0.1:9', '--spool', path.join(tmp, 'spool-taken')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(code).toBe(1);
  expect(err).toContain(`cannot listen on 127.0.0.1:${port}`);
  expect(err).toContain('EADDRINUSE');
  await blocker.stop();
});

it('serve refuses an invalid config and names the element and the problem', async () => {
  const bad = path.join(tmp, 'bad.xml');
  fs.writeFileSync(bad, DEFAULT_SERVICE_CONFIG_XML.replace('<ConnectionString>127.0.0.1:9998</ConnectionString>', '<ConnectionString>splunk:99999</ConnectionString>'));
  const child = spawn(process.execPath, [cliBundle, 'serve', '--config', bad], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  expect(await new Promise<number | null>((r) => child.on('close', r))).toBe(1);
  expect(err).toMatch(/bad\.xml:\d+: <[^>]*OutputSettings\/ConnectionString>: /);
  expect(err).not.toContain('listening on');
});

it('serve reloads its config on SIGHUP and when the file changes; an invalid one is rejected and the service keeps going', async () => {
  const receiver = new LineReceiver();
  const rport = await receiver.start(0);
  const file = path.join(tmp, 'reload.xml');
  const base = fs.readFileSync(configFile, 'utf8');
  fs.writeFileSync(file, base);
  const s = await spawnService(['--config', file, '--output', `127.0.0.1:${rport}`, '--feed', `ipsum:${IPSUM}`, '--spool', path.join(tmp, 'spool-reload')]);
  const alerts = (name: string): number => receiver.lines.filter((l) => l.includes(`alert=${name}`)).length;
  await waitFor(() => alerts('KL_ALERT_ServiceStarted') === 1, 'start-up alert');

  fs.writeFileSync(file, base.replace('<ConnectionString>127.0.0.1:9999</ConnectionString>', '<ConnectionString>nonsense</ConnectionString>'));
  s.child.kill('SIGHUP');
  await waitFor(() => alerts('KL_ALERT_ConfigurationRejected') >= 1, 'ConfigurationRejected');
  expect(receiver.lines.find((l) => l.includes('KL_ALERT_ConfigurationRejected'))).toContain('InputSettings/ConnectionString');

  // A valid change of the file is picked up without a signal.
  fs.writeFileSync(file, base.replace('eventName=%Category%', 'eventName=%Category% v=2'));
  await waitFor(() => alerts('KL_ALERT_ConfigurationUpdated') >= 1, 'ConfigurationUpdated after the file changed');
  const c = await LineClient.connect(s.port);
  await c.write(`X-KF-ReplyBackip=${ipsumIps[9]}\n`);
  await waitFor(() => c.lines.length >= 1, 'a detection with the new format');
  expect(c.lines[0]).toContain(' v=2 ');
  c.end();
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
  await receiver.stop();
});

it('serve: a signal sent the moment the start-up line appears still stops it cleanly (8 starts)', async () => {
  // Whoever waits for the start-up line (a supervisor, `feedtrace start`, a test) may signal within microseconds
  // of reading it; the handlers must already be in place, or the process dies by the signal without stopping.
  for (let i = 0; i < 8; i++) {
    const signal = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
    const child = spawn(process.execPath, [cliBundle, 'serve', '--listen', '127.0.0.1:0', '--reply-only'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/listening on/.test(d.toString())) child.kill(signal);
    });
    const [code, killedBy] = await new Promise<[number | null, string | null]>((r) => child.on('close', (c, s) => r([c, s])));
    expect({ code, killedBy, err }).toEqual({ code: 0, killedBy: null, err: expect.stringMatching(new RegExp(`${signal}: stopping\\n[^]*stopped after 0 events`)) });
  }
});
