/**
 * `feedtrace check`: the self-test of Kaspersky's `klsearch verification`, per configured service:
 * PING (`X-KF-ReplyBackPING` → `PONG`), then one verification indicator per feed through the same lookup path
 * as the Splunk script. Indicators: Kaspersky's published test records (one per feed of the built-in catalog,
 * which real Kaspersky feeds always contain), the first plain indicator of each feed file the service was given
 * (`--feed`, as `feedtrace serve` takes it: the service does not list its feeds on the wire), and any given as
 * FEED=VALUE.
 */
import net from 'node:net';
import { isIP } from 'node:net';
import { KASPERSKY_FEEDS } from '../feeds/catalog.js';
import { defaultFeedName, loadFeed, parseFeedArg } from '../feeds/load.js';
import type { FeedRecord } from '../types.js';
import { describeSocketError } from '../socket-error.js';
import { formatAddress, type LookupConfig, type ServiceAddress } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { prepareValue, type InputField } from './values.js';

export interface VerificationIndicator {
  feed: string;
  indicator: string;
  /** Given by the user: a miss is then a failure, not just a feed that is not loaded. */
  required: boolean;
  /** The feed name detections must carry (when they carry one) to count as OK. */
  expectFeed?: string;
  /** The input field to ask as; told from the indicator when absent. */
  field?: InputField;
}

/** OK: a detection came back. FALSE: answered without one (the feed is not loaded). ERROR: no answer. */
export type CheckStatus = 'OK' | 'FALSE' | 'ERROR';

export interface CheckRow extends VerificationIndicator {
  status: CheckStatus;
  detail: string;
}

export interface ServiceCheck {
  service: string;
  pong: boolean;
  pingDetail: string;
  rows: CheckRow[];
}

/** One indicator per catalog feed that has one (the first, as Kaspersky's self-test does). */
export function builtInIndicators(): VerificationIndicator[] {
  return KASPERSKY_FEEDS.filter((f) => f.verification.length > 0).map((f) => ({ feed: f.name, indicator: f.verification[0]!.indicator, required: false }));
}

export function parseIndicatorOption(text: string): VerificationIndicator {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new Error(`--indicator "${text}": expected FEED=VALUE`);
  return { feed: text.slice(0, eq), indicator: text.slice(eq + 1), required: true };
}

/** An indicator the lookup can ask about as it is: no CIDR, `ip:port`, mask or wildcard. */
function plain(record: FeedRecord): boolean {
  if (record.type === 'ip') return isIP(record.indicator) !== 0;
  if (record.type === 'url' || record.type === 'domain') return !/[*?\s^$|]/.test(record.indicator);
  return true;
}

/** The first plain indicator of each feed (`[FORMAT:]PATH`), to be found under that feed's name. */
export async function feedIndicators(feedArgs: string[]): Promise<VerificationIndicator[]> {
  const out: VerificationIndicator[] = [];
  for (const arg of feedArgs) {
    const source = parseFeedArg(arg);
    let first: FeedRecord | undefined;
    const report = await loadFeed(source, (record) => {
      if (first === undefined && plain(record)) first = record;
    });
    if (first === undefined) throw new Error(`--feed ${arg}: no indicator the lookup can ask about as it is (${report.records} records)`);
    const feed = source.name ?? defaultFeedName(source.path);
    out.push({ feed, indicator: first.indicator, required: true, expectFeed: feed, field: first.type });
  }
  return out;
}

/** The input field a bare indicator belongs to (Kaspersky's list mixes URLs, IPs and hashes). */
function fieldOf(indicator: string): InputField {
  if (isIP(indicator) !== 0) return 'ip';
  if (/^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(indicator)) return 'hash';
  return 'url';
}

export function ping(address: ServiceAddress, connectTimeoutMs: number, answerTimeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const socket = net.connect({ host: address.host, port: address.port });
    let text = '';
    const finish = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, detail });
    };
    let timer = setTimeout(() => finish(false, `no connection within ${connectTimeoutMs / 1000} s`), connectTimeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false, `no PONG within ${answerTimeoutMs / 1000} s`), answerTimeoutMs);
      socket.write('X-KF-ReplyBackPING');
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('PONG')) finish(true, `PONG in ${Number((process.hrtime.bigint() - started) / 1000000n)} ms`);
      else if (text.length > 4096) finish(false, 'answered, but not PONG');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(false, describeSocketError(err)));
    socket.on('close', () => finish(false, 'connection closed without PONG'));
  });
}

/** Looks every indicator up on one service through the lookup's dispatcher. */
async function verify(config: LookupConfig, address: ServiceAddress, indicators: VerificationIndicator[]): Promise<CheckRow[]> {
  const rows: CheckRow[] = indicators.map((i) => ({ ...i, status: 'ERROR', detail: '' }));
  const byRequest = new Map<number, CheckRow>();
  const dispatcher = new Dispatcher({ ...config, services: [address], connections: 1, retries: 0 }, {
    answered(request, detections) {
      const row = byRequest.get(request.id)!;
      const fromFeed = row.expectFeed === undefined ? detections : detections.filter((d) => (d.get('feed') ?? row.expectFeed) === row.expectFeed);
      row.status = fromFeed.length > 0 ? 'OK' : 'FALSE';
      row.detail = fromFeed.length > 0 || detections.length === 0
        ? fromFeed.map((d) => d.get('category') ?? '').join(',')
        : `matched only by ${[...new Set(detections.map((d) => d.get('feed')))].join(',')}`;
    },
    failed(request, reason) {
      byRequest.get(request.id)!.detail = reason;
    },
  });
  for (const row of rows) {
    const prepared = prepareValue(row.field ?? fieldOf(row.indicator), row.indicator);
    if (!prepared.ok || !config.pattern.has(prepared.type)) {
      row.detail = prepared.ok ? `the pattern has no placeholder for ${prepared.type}` : prepared.reason;
      continue;
    }
    byRequest.set(dispatcher.submit(config.pattern.render(prepared.type, prepared.wire)).id, row);
  }
  await dispatcher.close();
  return rows;
}

export async function checkServices(config: LookupConfig, indicators: VerificationIndicator[]): Promise<ServiceCheck[]> {
  const results: ServiceCheck[] = [];
  for (const address of config.services) {
    const p = await ping(address, config.connectTimeoutMs, config.requestTimeoutMs);
    const rows = p.ok ? await verify(config, address, indicators) : [];
    results.push({ service: formatAddress(address), pong: p.ok, pingDetail: p.detail, rows });
  }
  return results;
}

/** Passed: every service answered PING and every lookup, and every user-given indicator matched. */
export function checkPassed(results: ServiceCheck[]): boolean {
  return results.every((r) => r.pong && r.rows.every((row) => row.status !== 'ERROR' && (row.status === 'OK' || !row.required)));
}

/** Plain-text table: `feed, indicator, status` under one heading line per service. */
export function formatCheck(results: ServiceCheck[]): string {
  let out = '';
  for (const r of results) {
    out += `service ${r.service}: ${r.pong ? r.pingDetail : `PING failed: ${r.pingDetail}`}\n`;
    if (r.rows.length === 0) continue;
    const table = [['feed', 'indicator', 'status'], ...r.rows.map((row) => [row.feed, row.indicator, row.status + (row.detail ? ` (${row.detail})` : '')])];
    const w0 = Math.max(...table.map((t) => t[0]!.length));
    const w1 = Math.max(...table.map((t) => t[1]!.length));
    for (const t of table) out += `${t[0]!.padEnd(w0)}  ${t[1]!.padEnd(w1)}  ${t[2]}\n`;
  }
  return out;
}
