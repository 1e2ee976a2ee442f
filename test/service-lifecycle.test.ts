/**
 * The running service's life: feeds re-read when their file changes (and kept when the new version fails),
 * allow-lists, config reload (valid and invalid), connection limits, allowed clients and the idle timeout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig, parseNetwork } from '../src/service/config.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { startService, type RunningService } from '../src/service/server.js';
import { LineClient, waitFor } from './support/service-net.js';
import { ipsumAddresses, writeIpsum } from './support/ipsum.js';

const ipsumIps = ipsumAddresses;

let tmp: string;
/** The first 2,000 ipsum entries as an ipsum file (the whole feed is loaded in other tests; here speed matters). */
let smallIpsum: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-life-'));
  smallIpsum = writeIpsum(tmp);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One ReplyBack lookup per call: returns the matched indicators of one event. */
async function lookup(service: RunningService, event: string): Promise<string[]> {
  const c = await LineClient.connect(service.address.port);
  await c.write(`X-KF-SendFinishedEventX-KF-ReplyBack${event}\n`);
  await waitFor(() => c.lines.some((l) => l.includes('LookupFinished')), 'the finished event');
  c.end();
  return c.lines.filter((l) => l.includes('matchedIndicator=')).map((l) => /matchedIndicator=(\S+)/.exec(l)![1]!);
}

it('re-reads a feed when its file changes; a failed reload keeps the loaded version and alerts', async () => {
  const feedFile = path.join(tmp, 'ipsum.txt');
  const ipsumLine = (ip: string): string => `${ip}\t3\n`;
  fs.writeFileSync(feedFile, ipsumIps.slice(0, 100).map(ipsumLine).join(''));
  const log: string[] = [];
  const service = await startService({
    config: loadServiceConfig(),
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir: path.join(tmp, 'spool'),
    feedPollMs: 100,
    feeds: [{ path: feedFile, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
    log: (m) => log.push(m),
  });
  try {
    const newIp = ipsumIps[500]!;
    expect(await lookup(service, `ip=${newIp}`)).toEqual([]);
    fs.appendFileSync(feedFile, ipsumLine(newIp));
    await waitFor(() => log.some((l) => l.includes('alert=KL_ALERT_UpdatedFeed feed=ipsum records=101')), 'UpdatedFeed with 101 records');
    expect(await lookup(service, `ip=${newIp}`)).toEqual([newIp]);

    // Atomic replacement (write a new file, rename it over the old one), as feed downloaders do.
    const third = ipsumIps[900]!;
    fs.writeFileSync(`${feedFile}.tmp`, ipsumIps.slice(0, 100).concat(newIp, third).map(ipsumLine).join(''));
    fs.renameSync(`${feedFile}.tmp`, feedFile);
    await waitFor(() => log.some((l) => l.includes('alert=KL_ALERT_UpdatedFeed feed=ipsum records=102')), 'UpdatedFeed after a rename');
    expect(await lookup(service, `ip=${third}`)).toEqual([third]);
    // And the path is still watched after the rename.
    fs.appendFileSync(feedFile, ipsumLine(ipsumIps[901]!));
    await waitFor(() => log.some((l) => l.includes('alert=KL_ALERT_UpdatedFeed feed=ipsum records=103')), 'UpdatedFeed after an append to the new file');

    fs.rmSync(feedFile);
    await waitFor(() => log.some((l) => l.includes('alert=KL_ALERT_FailedToUpdateFeed feed=ipsum')), 'FailedToUpdateFeed');
    // The loaded version stays in use.
    expect(await lookup(service, `ip=${newIp}`)).toEqual([newIp]);
    expect(service.feeds.status().find((f) => f.feed === 'ipsum')).toMatchObject({ status: 'failed', records: 103 });
  } finally {
    await service.close();
  }
});

it('an allow-list suppresses detections of the values it lists', async () => {
  const allowFile = path.join(tmp, 'fp.txt');
  fs.writeFileSync(allowFile, `${ipsumIps[7]}\t1\n`);
  const service = await startService({
    config: loadServiceConfig(),
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir: path.join(tmp, 'spool'),
    feeds: [
      { path: smallIpsum, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 },
      { path: allowFile, format: 'ipsum', role: 'allow', outdatedAlertHours: 0 },
    ],
  });
  try {
    expect(await lookup(service, `ip=${ipsumIps[7]} ip=${ipsumIps[8]}`)).toEqual([ipsumIps[8]]);
  } finally {
    await service.close();
  }
});

it('config reload: an invalid file is rejected (running config kept), a valid one applies', async () => {
  const configFile = path.join(tmp, 'service.xml');
  fs.writeFileSync(configFile, DEFAULT_SERVICE_CONFIG_XML);
  const log: string[] = [];
  const service = await startService({
    config: loadServiceConfig(configFile),
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir: path.join(tmp, 'spool'),
    feeds: [{ path: smallIpsum, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
    log: (m) => log.push(m),
  });
  try {
    fs.writeFileSync(configFile, DEFAULT_SERVICE_CONFIG_XML.replace('<RE_IP type="IP"', '<RE_IP type="NOPE"'));
    expect(await service.reload()).toBe(false);
    expect(log.some((l) => l.includes('alert=KL_ALERT_ConfigurationRejected') && l.includes('NOPE'))).toBe(true);
    expect(await lookup(service, `ip=${ipsumIps[3]}`)).toEqual([ipsumIps[3]]);

    fs.writeFileSync(configFile, DEFAULT_SERVICE_CONFIG_XML.replace('eventName=%Category%', 'eventName=%Category% reloaded=yes'));
    expect(await service.reload()).toBe(true);
    expect(log.some((l) => l.includes('alert=KL_ALERT_ConfigurationUpdated'))).toBe(true);
    const c = await LineClient.connect(service.address.port);
    await c.write(`X-KF-ReplyBackip=${ipsumIps[3]}\n`);
    await waitFor(() => c.lines.length >= 1, 'a detection');
    expect(c.lines[0]).toContain(' reloaded=yes ');
    c.end();
  } finally {
    await service.close();
  }
});

it('connection limit, allowed clients and idle timeout close connections; the service keeps serving', async () => {
  const config = loadServiceConfig();
  config.input.maxConnections = 2;
  config.input.idleTimeoutMs = 2000; // long enough that only the limit can close the third connection, even on a busy machine
  const service = await startService({ config, listen: { host: '127.0.0.1', port: 0 }, replyOnly: true, spoolDir: path.join(tmp, 'spool') });
  try {
    const a = await LineClient.connect(service.address.port);
    const b = await LineClient.connect(service.address.port);
    await waitFor(() => service.stats().connections === 2, 'two connections');
    const c = await LineClient.connect(service.address.port);
    await c.closed; // over the limit: closed at once
    expect(service.stats().rejectedConnections).toBe(1);
    await a.closed; // idle: closed by the timeout
    await b.closed;
    const d = await LineClient.connect(service.address.port);
    await d.write('X-KF-ReplyBackPING');
    await waitFor(() => d.lines.includes('PONG'), 'PONG after the others left');
    d.end();

    config.input.allowedClients = [parseNetwork('10.0.0.0/8')!];
    const e = await LineClient.connect(service.address.port);
    await e.closed; // 127.0.0.1 is not in AllowedClients
    expect(service.stats().rejectedConnections).toBe(2);
  } finally {
    await service.close();
  }
});

it('an old feed file is reported outdated once; --feed-refresh re-reads unchanged feeds', async () => {
  const oldFeed = path.join(tmp, 'old.txt');
  fs.writeFileSync(oldFeed, ipsumIps.slice(0, 10).map((ip) => `${ip}\t1\n`).join(''));
  const hoursAgo = 100;
  const then = new Date(Date.now() - hoursAgo * 3_600_000);
  fs.utimesSync(oldFeed, then, then);
  const log: string[] = [];
  const service = await startService({
    config: loadServiceConfig(),
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir: path.join(tmp, 'spool'),
    feedRefreshMs: 100,
    feeds: [
      { path: oldFeed, format: 'ipsum', role: 'feed', outdatedAlertHours: 48 },
      { path: smallIpsum, format: 'ipsum', name: 'fresh', role: 'feed', outdatedAlertHours: 48 },
    ],
    log: (m) => log.push(m),
  });
  try {
    const status = service.feeds.status();
    expect(status.find((f) => f.feed === 'old')).toMatchObject({ status: 'outdated', records: 10 });
    expect(Math.floor(status.find((f) => f.feed === 'old')!.ageHours)).toBe(hoursAgo);
    expect(status.find((f) => f.feed === 'fresh')).toMatchObject({ status: 'ok', records: 2000 });
    service.feeds.status();
    const outdated = log.filter((l) => l.includes('alert=KL_ALERT_OutdatedFeed'));
    expect(outdated).toEqual([expect.stringContaining(`alert=KL_ALERT_OutdatedFeed feed=old age_hours=${hoursAgo}`)]);
    // Unchanged files, re-read by the refresh interval: UpdatedFeed again for both.
    await waitFor(() => log.filter((l) => l.includes('alert=KL_ALERT_UpdatedFeed feed=old')).length >= 2, 'a periodic re-read');
    // The same old version re-read is not outdated news again.
    service.feeds.status();
    expect(log.filter((l) => l.includes('alert=KL_ALERT_OutdatedFeed')).length).toBe(1);
  } finally {
    await service.close();
  }
});
