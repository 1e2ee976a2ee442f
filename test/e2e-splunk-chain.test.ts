/**
 * The whole chain as Splunk drives it, without Splunk (docs/splunk-app.md, single instance):
 * - the service is the built bundle (dist/feedtrace.js serve) as a separate process, with real open feeds;
 * - events reach it as Splunk's raw tcpout sends them: the port-3000 input's events, broken by the packaged
 *   props.conf [feedtrace:source], each as raw bytes plus "\n", no session flags;
 * - its output arrives on a real socket (the 9998 input) and is parsed with the packaged props.conf [feedtrace],
 *   transforms.conf and eventtypes.conf through the app's model of Splunk's semantics (src/splunk/emulate.ts);
 * - the lookup runs from the unpacked all-in-one tarball: bin/<external_cmd> with its arguments, a CSV on stdin;
 * - every count is compared with one computed here from the datasets (test/e2e-support.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar';
import { parse } from 'csv-parse/sync';
import { readConf, type ConfStanza } from '../src/splunk/conf.js';
import { breakEvents, eventTypeMatches, extractTimestamp, searchTimeFields, type Fields } from '../src/splunk/emulate.js';
import { spawnService, type ServiceProcess } from '../src/demo/service-process.js';
import { VERSION } from '../src/version.js';
import { cliBundle, dataset, repoRoot } from './support/paths.js';
import { waitFor } from './support/service-net.js';
import { differences, IpFeeds, ipValues, listWords, maltrailCategory, tally } from './e2e-support.js';

const IPSUM = dataset('ipsum', 'ipsum.txt');
const MASS = dataset('maltrail-trails', 'trails', 'static', 'mass_scanner.txt');
const MASS_CIDR = dataset('maltrail-trails', 'trails', 'static', 'mass_scanner_cidr.txt');
const LOGS = [dataset('slips-honeypot-suricata-2021-06', 'eve.json'), dataset('elastic-apache-access', 'apache_logs')];

// Feed names are the file names (the service's rule); categories as docs/feeds.md gives them.
const feeds = new IpFeeds()
  .add('ipsum', 'IPsum_IP_Reputation', listWords(IPSUM))
  .add('mass_scanner', maltrailCategory(MASS), listWords(MASS))
  .add('mass_scanner_cidr', maltrailCategory(MASS_CIDR), listWords(MASS_CIDR));

let tmp: string;
let appDir: string;
let service: ServiceProcess;
let receiver: net.Server;
const received: Buffer[] = [];
let packaged: { props: Map<string, ConfStanza>; transforms: Map<string, ConfStanza>; eventtypes: Map<string, ConfStanza> };

const stanzas = (file: string): Map<string, ConfStanza> => new Map(readConf(file).stanzas.map((s) => [s.name, s]));
const setting = (s: ConfStanza | undefined, key: string): string => {
  const v = s?.settings.filter((x) => x.key === key).pop()?.value;
  if (v === undefined) throw new Error(`[${s?.name}] ${key} is not set`);
  return v;
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-e2e-'));
  // The all-in-one package, built by the real CLI and unpacked as `splunk install app` would.
  execFileSync(process.execPath, [cliBundle, 'package', '--only', 'all-in-one', '--out', path.join(tmp, 'packages')], { cwd: repoRoot });
  fs.mkdirSync(path.join(tmp, 'apps'));
  await extract({ file: path.join(tmp, 'packages', `feedtrace-${VERSION}.tgz`), cwd: path.join(tmp, 'apps') });
  appDir = path.join(tmp, 'apps', 'feedtrace');
  packaged = {
    props: stanzas(path.join(appDir, 'default', 'props.conf')),
    transforms: stanzas(path.join(appDir, 'default', 'transforms.conf')),
    eventtypes: stanzas(path.join(appDir, 'default', 'eventtypes.conf')),
  };

  // Splunk's 9998 input: a plain TCP listener; what arrives is kept as bytes and broken into events later.
  receiver = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const receiverPort = (receiver.address() as net.AddressInfo).port;

  service = await spawnService({
    args: ['--listen', '127.0.0.1:0', '--output', `127.0.0.1:${receiverPort}`, '--spool', path.join(tmp, 'spool'),
      '--feed', `ipsum:${IPSUM}`, '--feed', `maltrail:${MASS}`, '--feed', `maltrail:${MASS_CIDR}`],
  });
});

afterAll(async () => {
  await service?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Writes bytes on one connection as a raw tcpout does, then half-closes and waits for the service to close. */
async function sendRaw(data: string): Promise<void> {
  const socket = net.connect({ host: service.host, port: service.port });
  socket.resume();
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.on('error', () => {});
  socket.end(data);
  await closed;
}

function receivedEvents(): Array<{ raw: string; fields: Fields; types: string[] }> {
  const props = packaged.props.get('feedtrace')!;
  return breakEvents(Buffer.concat(received).toString('utf8'), props).map((raw) => {
    const fields = searchTimeFields(raw, props, packaged.transforms);
    fields.set('sourcetype', 'feedtrace');
    const types = [...packaged.eventtypes.values()].filter((s) => eventTypeMatches(setting(s, 'search'), fields)).map((s) => s.name);
    return { raw, fields, types };
  });
}

it('Splunk forwards the logs raw; the 9998 input gets exactly the detections the feeds predict, parsed by the app', async () => {
  const sourceProps = packaged.props.get('feedtrace:source')!;
  const events = LOGS.flatMap((file) => breakEvents(fs.readFileSync(file, 'utf8'), sourceProps));
  expect(events.length).toBe(15000);
  await sendRaw(events.map((e) => e + '\n').join(''));
  // Synchronisation only, not part of Splunk's traffic: every line above was processed when the service closed
  // that connection, so a finished event asked for now is queued behind all of their detections.
  await sendRaw('X-KF-SendFinishedEvent' + 'e2e-end\n');
  await waitFor(() => Buffer.concat(received).toString('utf8').includes('type=LookupFinished'), 'the end marker on the 9998 input', 60_000);

  const parsed = receivedEvents();
  const detections = parsed.filter((e) => e.types.includes('feedtrace_detection'));
  const alerts = parsed.filter((e) => e.types.includes('feedtrace_alert'));
  expect(parsed.filter((e) => e.types.includes('feedtrace_finished'))).toHaveLength(1);
  // Every line is one of the three kinds, with a timestamp Splunk reads.
  expect(detections.length + alerts.length + 1).toBe(parsed.length);
  for (const e of parsed) expect(() => extractTimestamp(e.raw, packaged.props.get('feedtrace')!)).not.toThrow();
  expect(alerts.map((a) => a.fields.get('alert'))).toEqual(expect.arrayContaining(['KL_ALERT_ServiceStarted', 'KL_ALERT_UpdatedFeed']));

  const want = tally(events.flatMap((event) => ipValues(event).flatMap((v) => feeds.match(v).map((r) => `${r.feed}|${r.category}|${r.indicator}|${v}`))));
  // IPv4 detections only (the computation above is IPv4): IPv6 ones are counted separately.
  const ipv4 = detections.filter((d) => /^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(d.fields.get('matchedValue') ?? ''));
  const got = tally(ipv4.map((d) => ['feed', 'category', 'matchedIndicator', 'matchedValue'].map((k) => d.fields.get(k)).join('|')));
  expect(differences(got, want)).toEqual([]);
  const byFeed = tally(ipv4.map((d) => d.fields.get('feed')!));
  for (const feed of ['ipsum', 'mass_scanner', 'mass_scanner_cidr']) expect(byFeed.get(feed) ?? 0).toBeGreaterThan(0);
  // The app's CIM and ES fields on every detection.
  for (const d of detections) {
    const f = d.fields;
    expect([f.get('signature'), f.get('threat_collection'), f.get('vendor_product'), f.get('threat_match_field')]).toEqual([f.get('category'), f.get('feed'), 'Feedtrace', f.get('indicatorType')]);
  }
  process.stdout.write(`e2e: ${events.length} events forwarded; ${detections.length} detections (${ipv4.length} IPv4: ${[...byFeed].map(([k, v]) => `${k} ${v}`).join(', ')}), ${alerts.length} alerts\n`);
});

it('the lookup from the unpacked app answers exactly the matches the feeds predict', async () => {
  const cmd = setting(packaged.transforms.get('feedtrace'), 'external_cmd').split(/\s+/);
  const fieldsList = setting(packaged.transforms.get('feedtrace'), 'fields_list').split(/\s*,\s*/);
  // The admin's only setting for a service on another port; the rest is the packaged default/.
  fs.mkdirSync(path.join(appDir, 'local'), { recursive: true });
  fs.writeFileSync(path.join(appDir, 'local', 'feedtrace.conf'), `[service]\nhosts = 127.0.0.1:${service.port}\n`);

  const ips = [...new Set(LOGS.flatMap((file) => fs.readFileSync(file, 'utf8').split('\n').flatMap((l) => ipValues(l).map((v) => v.split(':')[0]!))))];
  // Splunk's external lookup input: a header of the lookup's fields, the input field filled, the outputs empty.
  const csv = [fieldsList.join(','), ...ips.map((ip) => fieldsList.map((f) => (f === 'ip' ? ip : '')).join(','))].join('\n') + '\n';
  // As splunkd runs it: bin/<command> from the app, with a sparse environment (node found on PATH).
  const child = spawn(path.join(appDir, 'bin', cmd[0]!), cmd.slice(1), {
    cwd: path.join(appDir, 'bin'),
    env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const code = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  child.stdin.end(csv);
  expect({ code: await code, stderr: Buffer.concat(err).toString() }).toEqual({ code: 0, stderr: '' });

  const rows = parse(Buffer.concat(out), { columns: true }) as Array<Record<string, string>>;
  const got = tally(rows.map((r) => `${r['ip']}|${r['feed']}|${r['category']}|${r['matchedIndicator']}`));
  const want = tally(ips.flatMap((ip) => feeds.match(ip).map((r) => `${ip}|${r.feed}|${r.category}|${r.indicator}`)));
  expect(differences(got, want)).toEqual([]);
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect([r['threat_match_field'], r['threat_match_value']]).toEqual(['ip', r['ip']]);
  process.stdout.write(`e2e lookup: ${ips.length} IPs in, ${rows.length} rows out (${new Set(rows.map((r) => r['ip'])).size} IPs matched)\n`);
});
