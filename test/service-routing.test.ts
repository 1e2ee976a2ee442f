/**
 * Where lines go: X-KF-SendFinishedEvent alone sends detections and finished events to the output connection;
 * AlertConnectionString takes the alerts away from the output connection; X-KF-SaveStatistic decides whether a
 * ReplyBack session counts in the statistics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig } from '../src/service/config.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { startService } from '../src/service/server.js';
import { LineClient, LineReceiver, waitFor } from './support/service-net.js';
import { ipsumAddresses, writeIpsum } from './support/ipsum.js';

const ips = ipsumAddresses.slice(0, 500);

it('routes detections, finished events and alerts to the right connections', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-route-'));
  const feed = writeIpsum(tmp, ips.length);
  const output = new LineReceiver();
  const alerts = new LineReceiver();
  const config = loadServiceConfig();
  config.output.alertConnection = { host: '127.0.0.1', port: await alerts.start(0) };
  const service = await startService({
    config,
    listen: { host: '127.0.0.1', port: 0 },
    output: { host: '127.0.0.1', port: await output.start(0) },
    spoolDir: path.join(tmp, 'spool'),
    feeds: [{ path: feed, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
  });
  try {
    await waitFor(() => alerts.lines.some((l) => l.includes('alert=KL_ALERT_ServiceStarted')), 'ServiceStarted on the alert connection');

    // SendFinishedEvent alone: both kinds of line go to the output connection, in order.
    const c = await LineClient.connect(service.address.port);
    await c.write(`X-KF-SendFinishedEventip=${ips[1]}\nip=192.0.2.1\n`);
    await waitFor(() => output.lines.filter((l) => l.includes('LookupFinished')).length >= 2, 'two finished events at the output');
    expect(output.lines.map((l) => (l.includes('LookupFinished') ? 'F' : l.includes(`matchedIndicator=${ips[1]}`) ? 'D' : '?'))).toEqual(['D', 'F', 'F']);
    c.end();

    // ReplyBack without SaveStatistic is not counted; with it, it is.
    const before = service.stats();
    for (const head of ['X-KF-ReplyBack', 'X-KF-ReplyBackX-KF-SaveStatistic']) {
      const r = await LineClient.connect(service.address.port);
      await r.write(`${head}ip=${ips[2]}\n`);
      await waitFor(() => r.lines.length >= 1, 'the detection');
      r.end();
    }
    const after = service.stats();
    expect(after.processedEvents - before.processedEvents).toBe(2);
    expect(after.events - before.events).toBe(1);
    expect(after.detections - before.detections).toBe(1);

    // No alert ever reached the output connection.
    expect(output.lines.some((l) => l.includes('alert='))).toBe(false);
  } finally {
    await service.close();
    await waitFor(() => alerts.lines.some((l) => l.includes('alert=KL_ALERT_ServiceStopped')), 'ServiceStopped on the alert connection');
    await output.stop();
    await alerts.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

it('the connection address selects per-source rules (sourceId and the source regex in the detection)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-route-'));
  const feed = writeIpsum(tmp, ips.length);
  const configFile = path.join(tmp, 'service.xml');
  fs.writeFileSync(
    configFile,
    DEFAULT_SERVICE_CONFIG_XML.replace(
      '<Source id="default">',
      '<Source id="loopback" ip="127.0.0.0/8"><LAB_IP type="IP" extract="all">lab:(\\S+)</LAB_IP></Source>\n      <Source id="default">',
    ).replace('sourceId=%SourceId%', 'sourceId=%SourceId% lab=%LAB_IP%'),
  );
  const service = await startService({
    config: loadServiceConfig(configFile),
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir: path.join(tmp, 'spool'),
    feeds: [{ path: feed, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
  });
  try {
    const c = await LineClient.connect(service.address.port);
    await c.write(`X-KF-ReplyBackX-KF-SendFinishedEventlab:${ips[3]}\n`);
    await waitFor(() => c.lines.some((l) => l.includes('LookupFinished')), 'the finished event');
    expect(c.lines.length).toBe(2);
    expect(c.lines[0]).toContain(`sourceId=loopback lab=${ips[3]} `);
    c.end();
  } finally {
    await service.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

it('listens and sends output over IPv6 loopback', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-route-'));
  const feed = writeIpsum(tmp, ips.length);
  const output = new LineReceiver();
  const service = await startService({
    config: loadServiceConfig(),
    listen: { host: '::1', port: 0 },
    output: { host: '::1', port: await output.start(0, '::1') },
    spoolDir: path.join(tmp, 'spool'),
    feeds: [{ path: feed, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
  });
  try {
    expect(service.address.host).toBe('::1');
    const c = await LineClient.connect(service.address.port, '::1');
    await c.write(`ip=${ips[4]} ip=2001:db8::1\n`);
    await waitFor(() => output.lines.some((l) => l.includes(`matchedIndicator=${ips[4]}`)), 'the detection over IPv6');
    c.end();
  } finally {
    await service.close();
    await output.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

it('EventDelimiter from the config splits one line into several events on the wire', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-route-'));
  const feed = writeIpsum(tmp, ips.length);
  const config = loadServiceConfig();
  config.input.eventDelimiter = /<!\[CDATA\[;\]\]>/;
  const service = await startService({
    config,
    listen: { host: '127.0.0.1', port: 0 },
    replyOnly: true,
    spoolDir: path.join(tmp, 'spool'),
    feeds: [{ path: feed, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
  });
  try {
    const c = await LineClient.connect(service.address.port);
    await c.write(`X-KF-SendFinishedEventX-KF-ReplyBack<![CDATA[;]]>ip=${ips[5]}<![CDATA[;]]>ip=192.0.2.9<![CDATA[;]]>ip=${ips[6]}\n`);
    await waitFor(() => c.lines.filter((l) => l.includes('LookupFinished')).length >= 3, 'three finished events');
    expect(c.lines.map((l) => (l.includes('LookupFinished') ? 'F' : /matchedIndicator=(\S+)/.exec(l)![1]))).toEqual([ips[5], 'F', 'F', ips[6], 'F']);
    c.end();
  } finally {
    await service.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
