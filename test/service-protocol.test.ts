/**
 * The wire protocol: session flags (split, glued, PING), framing (CR, UTF-8 across chunks, over-long lines,
 * EventDelimiter), and the in-process service's ReplyBack answers against a real feed (ipsum).
 */
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineFramer } from '../src/service/framing.js';
import { SessionHead } from '../src/service/session.js';
import { loadServiceConfig, type ServiceConfig } from '../src/service/config.js';
import { startService, type RunningService } from '../src/service/server.js';
import { LineClient, waitFor } from './support/service-net.js';
import { IPSUM_FILE, ipsumAddresses } from './support/ipsum.js';

const IPSUM = IPSUM_FILE;
const ipsumIps = ipsumAddresses;
const HIT = ipsumIps[0]!;
const HIT2 = ipsumIps[1000]!;
const MISS = '192.0.2.77'; // TEST-NET-1: in no public feed

function frame(chunks: Buffer[], options: ConstructorParameters<typeof LineFramer>[0] = {}): { events: string[]; truncated: number } {
  const events: string[] = [];
  const framer = new LineFramer(options, (e) => events.push(e));
  for (const c of chunks) framer.push(c);
  framer.end();
  return { events, truncated: framer.truncated };
}

describe('session head', () => {
  const head = 'X-KF-SendFinishedEventX-KF-ReplyBack';
  const stream = Buffer.from(`${head}ip=${HIT}\nX-KF-ReplyBack is text here\n`);
  it('finds the flags at every split point, glued to the first event', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const h = new SessionHead();
      const first = h.feed(stream.subarray(0, cut));
      const rest = first.done ? Buffer.concat([first.rest, stream.subarray(cut)]) : (h.feed(stream.subarray(cut)) as { rest: Buffer }).rest;
      expect(h.flags).toEqual({ replyBack: true, sendFinishedEvent: true, saveStatistic: false });
      expect(rest.toString()).toBe(`ip=${HIT}\nX-KF-ReplyBack is text here\n`);
    }
  });
  it('accepts any order and combination, one byte at a time, and drops one CRLF after them', () => {
    const h = new SessionHead();
    const bytes = Buffer.from('X-KF-SaveStatisticX-KF-ReplyBackX-KF-SendFinishedEvent\r\n\r\nevent\n');
    let rest = Buffer.alloc(0);
    for (let i = 0; i < bytes.length; i++) {
      const r = h.feed(bytes.subarray(i, i + 1));
      if (r.done) rest = Buffer.concat([rest, r.rest]);
    }
    expect(h.flags).toEqual({ replyBack: true, sendFinishedEvent: true, saveStatistic: true });
    expect(rest.toString()).toBe('\r\nevent\n');
  });
  it('answers PING after ReplyBack, and a stream without flags is all events', () => {
    const h = new SessionHead();
    let pings = 0;
    expect(h.feed(Buffer.from('X-KF-ReplyBackPI'), () => pings++).done).toBe(false);
    expect(pings).toBe(0);
    h.feed(Buffer.from('NG'), () => pings++);
    expect(pings).toBe(1);
    const plain = new SessionHead();
    const r = plain.feed(Buffer.from('X-KF-Other\n'));
    expect(r.done && r.rest.toString()).toBe('X-KF-Other\n');
    expect(plain.flags.replyBack).toBe(false);
  });
});

describe('framing', () => {
  it('splits on LF, drops CR, skips empty lines, decodes UTF-8 split at every byte', () => {
    const text = Buffer.from('héllo\r\nтест 😀\n\r\n\nlast', 'utf8');
    for (let cut = 0; cut <= text.length; cut++) {
      expect(frame([text.subarray(0, cut), text.subarray(cut)]).events).toEqual(['héllo', 'тест 😀', 'last']);
    }
  });
  it('cuts an over-long line at a character boundary, counts it, discards the rest and keeps going', () => {
    const long = 'é'.repeat(100); // 200 bytes
    const chunks = [Buffer.from('a\n' + long.slice(0, 30)), Buffer.from(long.slice(30) + 'tail\nnext\n')];
    const { events, truncated } = frame(chunks, { maxLineBytes: 51 });
    expect(truncated).toBe(1);
    expect(events).toEqual(['a', 'é'.repeat(25), 'next']);
  });
  it('invalid UTF-8 becomes U+FFFD', () => {
    expect(frame([Buffer.from([0x61, 0xff, 0x62, 0x0a])]).events).toEqual(['a\uFFFDb']);
  });
  it('EventDelimiter starts a new event at each match', () => {
    const { events } = frame([Buffer.from('<![CDATA[;]]>one<![CDATA[;]]>two\nthree\n')], { eventDelimiter: /<!\[CDATA\[;\]\]>/ });
    expect(events).toEqual(['<![CDATA[;]]>one', '<![CDATA[;]]>two', 'three']);
  });
});

describe('hostile input (property)', () => {
  /** Head + framer over arbitrary chunks: what one whole buffer gives, with at most maxLineBytes per event. */
  function run(chunks: Buffer[], maxLineBytes: number): { flags: string; events: string[] } {
    const head = new SessionHead();
    const events: string[] = [];
    const framer = new LineFramer({ maxLineBytes }, (e) => events.push(e));
    for (const c of chunks) {
      const r = head.feed(c);
      if (r.done) framer.push(r.rest);
    }
    if (!head.done) framer.push(head.end());
    framer.end();
    return { flags: JSON.stringify(head.flags), events };
  }
  const pieces = fc.constantFrom('X-KF-ReplyBack', 'X-KF-SendFinishedEvent', 'PING', '\r', '\n', 'é', '😀', 'ip=1.2.3.4 ', 'X-KF-');
  const input = fc.tuple(
    fc.array(fc.oneof(pieces, fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('latin1'))), { maxLength: 30 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    fc.integer({ min: 4, max: 64 }),
  );
  it('gives the same flags and events however the stream is split into segments', () => {
    fc.assert(
      fc.property(input, ([parts, cuts, max]) => {
        const whole = Buffer.from(parts.join(''), 'utf8');
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of points) {
          chunks.push(whole.subarray(from, p));
          from = p;
        }
        chunks.push(whole.subarray(from));
        const a = run([whole], max);
        const b = run(chunks, max);
        expect(b).toEqual(a);
        for (const e of a.events) expect(Buffer.byteLength(e)).toBeLessThanOrEqual(max + 2); // a cut may leave one U+FFFD
      }),
      { numRuns: 500 },
    );
  });
});

describe('service over TCP (ReplyBack)', () => {
  let service: RunningService;
  let spoolDir: string;
  beforeAll(async () => {
    spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-proto-'));
    const config: ServiceConfig = loadServiceConfig();
    config.input.maxLineBytes = 4096;
    service = await startService({
      config,
      listen: { host: '127.0.0.1', port: 0 },
      replyOnly: true,
      spoolDir,
      feeds: [{ path: IPSUM, format: 'ipsum', role: 'feed', outdatedAlertHours: 0 }],
    });
  });
  afterAll(async () => {
    await service.close();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  });

  it('answers PING with PONG', async () => {
    const c = await LineClient.connect(service.address.port);
    await c.write('X-KF-ReplyBackPING');
    await waitFor(() => c.lines.length >= 1, 'PONG');
    expect(c.lines).toEqual(['PONG']);
    c.end();
  });

  it('reads flags split across segments and glued to the first event', async () => {
    const c = await LineClient.connect(service.address.port);
    await c.write('X-KF-SendFin');
    await c.write('ishedEventX-KF-Repl');
    await c.write(`yBackip=${HIT}\n`);
    await waitFor(() => c.lines.some((l) => l.includes('LookupFinished')), 'finished event');
    expect(c.lines.length).toBe(2);
    expect(c.lines[0]).toContain(`matchedIndicator=${HIT}`);
    expect(c.lines[0]).toContain('eventName=');
    expect(c.lines[1]).toMatch(/type=LookupFinished sent_events=1 total=\S+:1;$/);
    expect(c.lines[1]).not.toMatch(/matchedIndicator|eventName/);
    c.end();
  });

  it('answers every event in order: detections, then one finished event, also for misses', async () => {
    const c = await LineClient.connect(service.address.port);
    const events: Array<{ line: string; hits: number }> = [];
    for (let i = 0; i < 500; i++) {
      const kind = i % 5;
      if (kind === 0) events.push({ line: `src=${HIT} dst=${HIT2} n=${i}`, hits: 2 });
      else if (kind === 1) events.push({ line: `ip=${ipsumIps[i]!} n=${i}`, hits: 1 });
      else events.push({ line: `ip=${MISS} n=${i} X-KF-ReplyBack`, hits: 0 });
    }
    await c.write('X-KF-SendFinishedEventX-KF-ReplyBack' + events.map((e) => e.line + '\n').join(''));
    await waitFor(() => c.lines.filter((l) => l.includes('type=LookupFinished')).length >= events.length, 'all finished events');
    // Group the replies per event: each group ends with its finished event.
    const groups: string[][] = [[]];
    for (const l of c.lines) {
      groups[groups.length - 1]!.push(l);
      if (l.includes('type=LookupFinished')) groups.push([]);
    }
    groups.pop();
    expect(groups.length).toBe(events.length);
    groups.forEach((g, i) => {
      const detections = g.slice(0, -1);
      expect(detections.length).toBe(events[i]!.hits);
      for (const d of detections) expect(d).toContain('matchedIndicator=');
      const finished = g[g.length - 1]!;
      expect(finished).toContain(`sent_events=${events[i]!.hits}`);
      if (events[i]!.hits === 0) expect(finished).toContain('total=""');
      else expect(finished).toMatch(new RegExp(`total=IPsum_IP_Reputation:${events[i]!.hits};$`));
    });
    c.end();
  });

  it('keeps each of several concurrent sessions answered in its own order', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => LineClient.connect(service.address.port)));
    const perClient = 300;
    const sent = clients.map((_, k) => Array.from({ length: perClient }, (_, i) => ipsumIps[k * perClient + i]!));
    // Interleave the writes of all clients, several events per write, each write its own segment.
    for (let i = 0; i < perClient; i += 50) {
      await Promise.all(
        clients.map((c, k) => c.write((i === 0 ? 'X-KF-SendFinishedEventX-KF-ReplyBack' : '') + sent[k]!.slice(i, i + 50).map((ip, j) => `n=${i + j} ip=${ip}\n`).join(''))),
      );
    }
    await waitFor(() => clients.every((c) => c.lines.length >= 2 * perClient), 'every answer on every connection');
    clients.forEach((c, k) => {
      expect(c.lines.length).toBe(2 * perClient);
      const matched = c.lines.filter((l) => l.includes('matchedIndicator=')).map((l) => /matchedIndicator=(\S+)/.exec(l)![1]);
      expect(matched).toEqual(sent[k]);
      c.lines.forEach((l, i) => expect(l.includes('LookupFinished')).toBe(i % 2 === 1));
      c.end();
    });
  });

  it('cuts an over-long line, counts it, and the connection keeps working', async () => {
    const before = service.stats().truncatedLines;
    const c = await LineClient.connect(service.address.port);
    await c.write(`X-KF-SendFinishedEventX-KF-ReplyBack${'x'.repeat(3000)}`);
    await c.write(`${'y'.repeat(3000)} ip=${HIT}\nip=${HIT}\n`);
    await waitFor(() => c.lines.filter((l) => l.includes('LookupFinished')).length >= 2, 'two finished events');
    expect(service.stats().truncatedLines).toBe(before + 1);
    // The cut event lost its IP (it was past the cut); the next line matched.
    expect(c.lines.length).toBe(3);
    expect(c.lines[0]).toContain('sent_events=0');
    expect(c.lines[1]).toContain(`matchedIndicator=${HIT}`);
    c.end();
  });

  it('survives hostile input: binary garbage, NULs and a huge line without LF, then still answers', async () => {
    const c = await LineClient.connect(service.address.port);
    await c.write('X-KF-ReplyBackX-KF-SendFinishedEvent');
    const garbage = Buffer.alloc(200_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 256 === 10 ? 0 : (i * 7919) % 256;
    await c.write(garbage);
    await c.write(`\nip=${HIT}\n`);
    await waitFor(() => c.lines.some((l) => l.includes(`matchedIndicator=${HIT}`)), 'a detection after the garbage');
    c.end();
    await c.closed;
  });
});
