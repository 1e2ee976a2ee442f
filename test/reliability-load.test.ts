/**
 * Load (issue 6): 1 000 concurrent connections, the connection limit, slowloris-style clients, connection floods
 * and a client that never reads its replies, against the real `feedtrace serve` (a child process, so its memory
 * and descriptors are read from /proc). Well-behaved clients must get every answer meanwhile.
 */
import fs from 'node:fs';
import net from 'node:net';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { LineClient, waitFor } from './support/service-net.js';
import { fdsOf, ipsumIps, MB, memoryOf, tmpDir, writeConfig, writeIpsum } from './reliability-support.js';
import { spawnService, type ServiceProcess } from './support/serve.js';

const FLAGS = 'X-KF-SendFinishedEventX-KF-ReplyBack';
const LIMIT = 1100;
let dir: string;
let service: ServiceProcess;
let baseFds: number;

beforeAll(async () => {
  dir = tmpDir('load');
  const config = writeConfig(dir, DEFAULT_SERVICE_CONFIG_XML, { maxConnections: LIMIT, idleTimeoutSeconds: 3 });
  service = await spawnService(['--config', config, '--reply-only', '--feed', `ipsum:${writeIpsum(dir)}`]);
  baseFds = fdsOf(service.pid);
});
afterAll(async () => {
  expect(service.child.exitCode).toBeNull();
  await service.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A well-behaved ReplyBack client: `n` events with real addresses; resolves with the detections once all are answered. */
async function goodClient(n: number, offset = 0): Promise<number> {
  const c = await LineClient.connect(service.port);
  let text = FLAGS;
  for (let i = 0; i < n; i++) text += `ip=${ipsumIps[(offset + i) % 2000]}\n`;
  c.socket.write(text);
  await waitFor(() => c.lines.filter((l) => l.includes('LookupFinished')).length >= n, `${n} answers`, 60000);
  c.end();
  await c.closed;
  return c.lines.filter((l) => l.includes('matchedIndicator=')).length;
}

const closedCount = (sockets: net.Socket[]): number => sockets.filter((s) => s.destroyed || s.closed).length;
const openSocket = (): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: service.port });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

it('1 000 concurrent connections each get their answer; memory and descriptors are bounded and released', async () => {
  const before = memoryOf(service.pid);
  const clients = await Promise.all(Array.from({ length: 1000 }, () => LineClient.connect(service.port)));
  await Promise.all(clients.map((c, i) => c.write(`${FLAGS}ip=${ipsumIps[i]}\n`)));
  await waitFor(() => clients.every((c) => c.lines.some((l) => l.includes('LookupFinished'))), 'an answer on every connection', 60000);
  clients.forEach((c, i) => expect(c.lines.some((l) => l.includes(`matchedIndicator=${ipsumIps[i]} `))).toBe(true));
  const open = fdsOf(service.pid);
  const during = memoryOf(service.pid);
  // One descriptor per connection plus the service's own (listener, feed watchers, stdio): a few dozen.
  expect(open - baseFds).toBeGreaterThanOrEqual(1000);
  expect(open - baseFds).toBeLessThan(1000 + 50);
  // A connection costs a socket, a framer and a session (a few KB of JS, tens of KB of kernel-side buffers not
  // in RSS); 100 MB for 1 000 is a generous bound that a per-connection leak of a line buffer would still exceed.
  expect(during.rss - before.rss).toBeLessThan(100 * MB);
  for (const c of clients) c.end();
  await Promise.all(clients.map((c) => c.closed));
  await waitFor(() => fdsOf(service.pid) <= baseFds + 5, 'descriptors released');
});

it('the connection limit refuses (and logs) what is over it; the service keeps serving once there is room', async () => {
  const logBefore = service.log().length;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < LIMIT + 100; i++) sockets.push(await openSocket());
  await waitFor(() => closedCount(sockets) >= 100, '100 refused connections closed by the service');
  const refused = service.log().slice(logBefore).match(/refused: \d+ connections open \(MaxConnections\)/g) ?? [];
  expect(refused.length).toBe(100);
  expect(fdsOf(service.pid) - baseFds).toBeLessThan(LIMIT + 50);
  // Room again: the first 200 leave, a well-behaved client gets all its answers.
  for (const s of sockets.slice(0, 200)) s.destroy();
  await waitFor(() => fdsOf(service.pid) < baseFds + LIMIT - 150, 'room under the limit');
  expect(await goodClient(2000)).toBe(2000);
  for (const s of sockets) s.destroy();
  await waitFor(() => fdsOf(service.pid) <= baseFds + 5, 'descriptors released');
});

it('slowloris: silent connections are closed by IdleTimeout, tricklers hold only a bounded line; good clients get every answer', async () => {
  const before = memoryOf(service.pid);
  const silent = await Promise.all(Array.from({ length: 300 }, () => openSocket()));
  const tricklers = await Promise.all(Array.from({ length: 300 }, () => openSocket()));
  // Tricklers: a header byte by byte, then an endless line, 2 bytes at a time, every 500 ms (10 rounds).
  const trickle = (async () => {
    for (let round = 0; round < 10; round++) {
      for (const s of tricklers) if (!s.destroyed) s.write(round === 0 ? 'X' : 'ab');
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const detections = await goodClient(5000, 100);
  expect(detections).toBe(5000);
  await trickle;
  // IdleTimeout is 3 s: every silent connection is closed by the service (the tricklers kept theirs alive).
  await waitFor(() => closedCount(silent) === silent.length, 'every silent connection closed', 30000);
  expect(closedCount(tricklers)).toBe(0);
  expect(memoryOf(service.pid).rss - before.rss).toBeLessThan(100 * MB);
  for (const s of tricklers) s.destroy();
  await waitFor(() => fdsOf(service.pid) <= baseFds + 5, 'descriptors released');
});

it('a flood of 5 000 connect/close and connect/reset cycles: no leak, and a good client is answered meanwhile', async () => {
  const flood = (async () => {
    for (let wave = 0; wave < 20; wave++) {
      const sockets = await Promise.all(Array.from({ length: 250 }, () => openSocket().catch(() => null)));
      sockets.forEach((s, i) => {
        if (!s) return;
        if (i % 2 === 0) s.resetAndDestroy();
        else s.end(`${FLAGS}ip=${ipsumIps[i]}`); // an event without LF, then FIN
      });
    }
  })();
  const detections = await goodClient(5000, 300);
  await flood;
  expect(detections).toBe(5000);
  await waitFor(() => fdsOf(service.pid) <= baseFds + 5, 'descriptors released after the flood');
});

it('a client that never reads its replies is paused at the reply high-water mark, with bounded memory', async () => {
  const before = memoryOf(service.pid);
  const c = await LineClient.connect(service.port);
  c.socket.pause(); // never read (until the end)
  let events = 0;
  const chunk = (): string => {
    let text = '';
    for (let i = 0; i < 1000; i++, events++) text += `ip=${ipsumIps[events % 2000]}\n`;
    return text;
  };
  c.socket.write(FLAGS);
  // Up to 2 million events (~45 MB sent, ~400 MB of replies); stop as soon as the service stops reading and
  // the kernel buffers between us are full.
  let blocked = false;
  for (let i = 0; i < 2000 && !blocked; i++) {
    if (!c.socket.write(chunk())) {
      blocked = await Promise.race([new Promise<boolean>((r) => c.socket.once('drain', () => r(false))), new Promise<boolean>((r) => setTimeout(() => r(true), 2000))]);
    }
  }
  const during = memoryOf(service.pid);
  // The replies to what it read stay under REPLY_HIGH_WATER (1 MiB) plus one read's worth; without the pause
  // the service would hold the replies of everything we managed to send (≥ 100 MB as JS strings).
  expect(during.peak - before.peak).toBeLessThan(40 * MB);
  expect(blocked).toBe(true);
  expect(events).toBeLessThan(2_000_000);
  c.socket.resume();
  await waitFor(() => c.lines.filter((l) => l.includes('LookupFinished')).length >= events, 'every answer once the client reads');
  expect(c.lines.filter((l) => l.includes('matchedIndicator=')).length).toBe(events);
  c.end();
  await c.closed;
});
