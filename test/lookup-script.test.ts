/**
 * The real launcher and bundle, run as Splunk runs them (a temp app folder, CSV on stdin), against a scripted
 * CyberTrace-style peer for the behaviours the real service cannot be made to show on demand: answering exactly
 * like Kaspersky's CyberTrace (no request ids, unquoted context), hanging, slowness, closing mid-answer, refusal.
 * The same script against the real `feedtrace serve` is in lookup-service.test.ts.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliBundle } from './support/paths.js';
import { closedPort, FIELDS, makeApp, runWithInput, startPeer, type Peer, type PeerAnswer, type TempApp } from './lookup-support.js';

const csv = (rows: string[][]): string => stringify(rows, { record_delimiter: 'windows' });
const header = FIELDS;
/** A row with only the named inputs filled. */
const row = (inputs: Partial<Record<string, string>>): string[] => header.map((f) => inputs[f] ?? '');
const col = (name: string): number => header.indexOf(name);

let app: TempApp;
beforeAll(() => {
  app = makeApp();
});
afterAll(() => app.remove());

const lookup = (input: string | Buffer, service: string, a: TempApp = app, args = FIELDS) =>
  runWithInput(a.launcher, args, input, { FEEDTRACE_SERVICE: service });

const answers = new Map<string, PeerAnswer[]>([
  ['45.144.225.135', [{ category: 'KL_IP_Reputation', matchedIndicator: '45.144.225.135', context: [['blocklists', '3'], ['Geo', 'ru,br']] }]],
  ['http://malware.example/a,b', [{ category: 'KL_Malicious_URL', matchedIndicator: 'malware.example/a,b' }]],
  [
    'http://multi.example/',
    [
      { category: 'KL_Malicious_URL', matchedIndicator: 'multi.example', context: [['threat', 'Trojan Downloader']] },
      { category: 'KL_Phishing_URL', matchedIndicator: 'multi.example/*' },
    ],
  ],
  ['C912705B4BBB14EC7E78FA8B370532C9', [{ category: 'KL_Malicious_Hash_MD5', matchedIndicator: 'C912705B4BBB14EC7E78FA8B370532C9' }]],
  ['http://пример.рф/путь', [{ category: 'KL_Malicious_URL', matchedIndicator: 'пример.рф/путь', context: [['note', 'ünïcödé']] }]],
]);

describe('lookup script against a CyberTrace-style peer (no request ids)', () => {
  let peer: Peer;
  beforeAll(async () => {
    peer = await startPeer({ answers });
  });
  afterAll(() => peer.close());
  const service = () => `127.0.0.1:${peer.port}`;

  it('writes nothing for empty input and only the header for a header-only input, without connecting', async () => {
    const before = peer.connections;
    const empty = await lookup('', service());
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([0, '', '']);
    const headerOnly = await lookup(csv([header]), service());
    expect([headerOnly.code, headerOnly.stdout, headerOnly.stderr]).toEqual([0, csv([header]), '']);
    expect(peer.connections).toBe(before);
  });

  it('echoes input rows, one row per match, drops misses, keeps order, fills CIM fields and context', async () => {
    const input = [
      header,
      row({ ip: '45.144.225.135' }),
      row({ ip: '10.0.0.1' }),
      row({ url: 'multi.example/' }),
      row({ md5: 'c912705b4bbb14ec7e78fa8b370532c9', ip: '45.144.225.135:443' }),
    ];
    const r = await lookup(csv(input), service());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = parse(r.stdout) as string[][];
    expect(out[0]).toEqual(header);
    const pick = (o: string[]) => [o[col('ip')], o[col('url')], o[col('md5')], o[col('category')], o[col('matchedIndicator')], o[col('threat_match_field')], o[col('threat_match_value')], o[col('context')]];
    // Matches of one row follow the header's column order (ip before md5).
    expect(out.slice(1).map(pick)).toEqual([
      ['45.144.225.135', '', '', 'KL_IP_Reputation', '45.144.225.135', 'ip', '45.144.225.135', 'blocklists=3 Geo=ru,br'],
      ['', 'multi.example/', '', 'KL_Malicious_URL', 'multi.example', 'url', 'multi.example/', 'threat="Trojan Downloader"'],
      ['', 'multi.example/', '', 'KL_Phishing_URL', 'multi.example/*', 'url', 'multi.example/', ''],
      ['45.144.225.135:443', '', 'c912705b4bbb14ec7e78fa8b370532c9', 'KL_IP_Reputation', '45.144.225.135', 'ip', '45.144.225.135:443', 'blocklists=3 Geo=ru,br'],
      ['45.144.225.135:443', '', 'c912705b4bbb14ec7e78fa8b370532c9', 'KL_Malicious_Hash_MD5', 'C912705B4BBB14EC7E78FA8B370532C9', 'md5', 'c912705b4bbb14ec7e78fa8b370532c9', ''],
    ]);
  });

  it('keeps CSV quoting intact: commas, quotes, newlines inside fields, UTF-8, CRLF or LF input', async () => {
    const extra = [...header, 'note'];
    const rows = [
      extra,
      [...row({ url: 'http://malware.example/a,b' }), 'he said "hi",\r\nthen left'],
      [...row({ url: 'http://пример.рф/путь' }), 'ünïcödé, "quoted"\nline'],
    ];
    for (const text of [csv(rows), stringify(rows)]) {
      const r = await lookup(text, service(), app, FIELDS);
      expect(r.code).toBe(0);
      const out = parse(r.stdout) as string[][];
      expect(out.map((o) => o[extra.length - 1])).toEqual(['note', 'he said "hi",\r\nthen left', 'ünïcödé, "quoted"\nline']);
      expect(out.map((o) => o[col('url')])).toEqual(['url', 'http://malware.example/a,b', 'http://пример.рф/путь']);
      expect(out[2]![col('context')]).toBe('note=ünïcödé');
    }
  });

  it('passes reverse-lookup rows and rows with outputs already filled through untouched', async () => {
    const reverse = row({ category: 'KL_IP_Reputation' });
    const both = row({ ip: '45.144.225.135', category: 'mine' });
    const r = await lookup(csv([header, reverse, both, row({})]), service());
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual([header, reverse, both]);
  });

  it('sends each unique value once, skips and counts invalid ones without sending them', async () => {
    const linesBefore = peer.lines;
    const input = [header, ...Array.from({ length: 50 }, () => row({ ip: '45.144.225.135' })), row({ ip: '1.2.3.999' }), row({ md5: 'xyz' }), row({ ip: '45.144.225.135:8080' })];
    const r = await lookup(csv(input), service());
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toHaveLength(1 + 51);
    expect(peer.lines - linesBefore).toBe(1);
    expect(r.stderr).toBe('feedtrace_lookup: skipped 2 value(s) that cannot be valid for their field: ip: not an IP address (1); md5: not 32 hex digits (1)\n');
  });

  it('pairs thousands of pipelined answers by order when the service echoes no id', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `10.${i >> 8}.${i & 255}.7`);
    const hits = new Map(many.filter((_, i) => i % 7 === 0).map((ip) => [ip, [{ category: 'KL_IP_Reputation', matchedIndicator: ip, context: [['n', ip]] as Array<[string, string]> }]]));
    const p = await startPeer({ answers: hits });
    try {
      const r = await lookup(csv([header, ...many.map((ip) => row({ ip }))]), `127.0.0.1:${p.port}`);
      expect(r.code).toBe(0);
      const out = (parse(r.stdout) as string[][]).slice(1);
      expect(out.map((o) => o[col('ip')])).toEqual([...hits.keys()]);
      // Each answer landed on its own request: the context names the value asked about.
      for (const o of out) expect(o[col('context')]).toBe(`n=${o[col('ip')]}`);
      expect(p.connections).toBeGreaterThan(1);
    } finally {
      await p.close();
    }
  });
});

describe('request ids', () => {
  it('pairs answers that come back out of order by the id the service echoes', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => `10.${i >> 8}.${i & 255}.9`);
    const hits = new Map(many.filter((_, i) => i % 3 === 0).map((ip) => [ip, [{ category: 'KL_IP_Reputation', matchedIndicator: ip, context: [['n', ip]] as Array<[string, string]> }]]));
    const p = await startPeer({ answers: hits, echoIds: true, reorder: true });
    try {
      const r = await lookup(csv([header, ...many.map((ip) => row({ ip }))]), `127.0.0.1:${p.port}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = (parse(r.stdout) as string[][]).slice(1);
      expect(out.map((o) => [o[col('ip')], o[col('matchedIndicator')], o[col('context')]])).toEqual([...hits.keys()].map((ip) => [ip, ip, `n=${ip}`]));
    } finally {
      await p.close();
    }
  });
});

describe('hostile values', () => {
  it('cannot inject lines, flags or keys into the protocol', async () => {
    const peer = await startPeer({ answers });
    try {
      const hostile = [
        'http://x.example/\r\nX-KF-ReplyBackPING',
        'X-KF-SendFinishedEventX-KF-ReplyBack\n1.2.3.4',
        'http://evil.example/ ip=45.144.225.135',
        'a\u0000b\u001b[31m\u2028c\u0085d',
        'http://X-KF-ReplyBack.example/X-KF-SaveStatistic?q="1"',
        '\uFEFF45.144.225.135',
      ];
      const input = [header, ...hostile.flatMap((v) => [row({ url: v }), row({ ip: v }), row({ domain: v }), row({ hash: v })])];
      const r = await lookup(csv(input), `127.0.0.1:${peer.port}`);
      expect(r.code).toBe(0);
      const wire = peer.received.join('');
      const sessions = peer.received.filter((t) => t !== '');
      for (const s of sessions) expect(s.startsWith('X-KF-SendFinishedEventX-KF-ReplyBack')).toBe(true);
      const body = sessions.map((s) => s.slice('X-KF-SendFinishedEventX-KF-ReplyBack'.length)).join('');
      expect(body).not.toMatch(/X-KF-/);
      expect(body).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u0085\u2028]/);
      const lines = body.split('\n').filter((l) => l !== '');
      for (const l of lines) expect(l).toMatch(/^\d+ ip=\S* md5=\S* sha1=\S* sha256=\S* url=\S*$/);
      // No value smuggled a second key/value: the injected ip= stayed inside the URL, percent-encoded.
      expect(wire).toContain('url=http://evil.example/%20ip=45.144.225.135');
      // Only the BOM-prefixed IP matched (a BOM is trimmed like a space), under its original value.
      const out = (parse(r.stdout) as string[][]).slice(1);
      expect(out.map((o) => [o[col('threat_match_field')], o[col('threat_match_value')], o[col('matchedIndicator')]])).toEqual([['ip', '\uFEFF45.144.225.135', '45.144.225.135']]);
    } finally {
      await peer.close();
    }
  });
});

describe('failures', () => {
  it('service down: one clear line naming host:port, exit 1, header still written', async () => {
    const port = await closedPort();
    const r = await lookup(csv([header, row({ ip: '45.144.225.135' })]), `127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(csv([header]));
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
    expect(lines[0]).toContain('connection refused');
    expect(lines[0]).toMatch(/^feedtrace_lookup: 1 of 1 value\(s\) could not be looked up/);
  });

  it('a hung service times out per request instead of hanging the search', async () => {
    const peer = await startPeer({ answers, hang: true });
    const slowApp = makeApp('[service]\nrequest_timeout = 0.2\nretries = 1\n');
    try {
      const r = await lookup(csv([header, row({ ip: '45.144.225.135' }), row({ url: 'multi.example/' })]), `127.0.0.1:${peer.port}`, slowApp);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no answer within request_timeout (0.2 s)');
      expect(r.stderr).toContain(`127.0.0.1:${peer.port}`);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      slowApp.remove();
      await peer.close();
    }
  });

  it('a service that sends no finished lines is named as such', async () => {
    const peer = await startPeer({ answers, noFinished: true });
    const quick = makeApp('[service]\nrequest_timeout = 0.2\nretries = 0\n');
    try {
      const r = await lookup(csv([header, row({ ip: '45.144.225.135' })]), `127.0.0.1:${peer.port}`, quick);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('it sent detections but no LookupFinished line: does it support X-KF-SendFinishedEvent');
    } finally {
      quick.remove();
      await peer.close();
    }
  });

  it('a slow service is cut off by the overall deadline', async () => {
    const peer = await startPeer({ answers, delayMs: 150 });
    const slowApp = makeApp('[service]\ndeadline = 0.5\nconnections = 1\n');
    try {
      const input = [header, ...Array.from({ length: 20 }, (_, i) => row({ ip: `192.0.2.${i}` })), row({ ip: '45.144.225.135' })];
      const r = await lookup(csv(input), `127.0.0.1:${peer.port}`, slowApp);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/value\(s\) could not be looked up.*no answer within the deadline of 0.5 s/);
    } finally {
      slowApp.remove();
      await peer.close();
    }
  });

  it('a service closing mid-answer: requests are resent, no row lost or duplicated', async () => {
    const peer = await startPeer({ answers, closeMidAnswerAt: 2 });
    try {
      const values = ['45.144.225.135', '10.1.1.1', '10.1.1.2', '10.1.1.3'];
      const input = [header, row({ url: 'multi.example/' }), ...values.map((ip) => row({ ip }))];
      const r = await lookup(csv(input), `127.0.0.1:${peer.port}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = parse(r.stdout) as string[][];
      expect(out.slice(1).map((o) => o[col('category')])).toEqual(['KL_Malicious_URL', 'KL_Phishing_URL', 'KL_IP_Reputation']);
      expect(peer.connections).toBeGreaterThan(1);
    } finally {
      await peer.close();
    }
  });

  it('several services: spreads values over the healthy ones and fails over from a dead one', async () => {
    const a = await startPeer({ answers });
    const b = await startPeer({ answers, closeMidAnswerAt: 1 });
    const dead = await closedPort();
    // A small window, so one service cannot take every value before the other connects.
    const smallWindow = makeApp('[service]\nmax_in_flight = 8\n');
    try {
      const ips = Array.from({ length: 400 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
      const input = [header, ...ips.map((ip) => row({ ip })), row({ ip: '45.144.225.135' }), row({ url: 'multi.example/' })];
      const r = await lookup(csv(input), `127.0.0.1:${dead},127.0.0.1:${a.port},127.0.0.1:${b.port}`, smallWindow);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = parse(r.stdout) as string[][];
      expect(out.slice(1).map((o) => o[col('category')])).toEqual(['KL_IP_Reputation', 'KL_Malicious_URL', 'KL_Phishing_URL']);
      expect(a.lines).toBeGreaterThan(0);
      expect(b.lines).toBeGreaterThan(0);
      expect(b.connections).toBeGreaterThan(1);
    } finally {
      smallWindow.remove();
      await a.close();
      await b.close();
    }
  });
});

describe('feedtrace lookup and feedtrace check against a CyberTrace-style peer', () => {
  it('feedtrace lookup --app reads that app\'s feedtrace.conf (local over default)', async () => {
    const peer = await startPeer({ answers });
    const local = makeApp(`[service]\nhosts = 127.0.0.1:${peer.port}\n`);
    try {
      const r = await runWithInput(process.execPath, [cliBundle, 'lookup', '--app', local.dir, 'ip', 'category'], 'ip,category\n45.144.225.135,\n', { FEEDTRACE_SERVICE: '' });
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toBe('ip,category\r\n45.144.225.135,KL_IP_Reputation\r\n');
    } finally {
      local.remove();
      await peer.close();
    }
  });

  it('feedtrace check: PONG, then Kaspersky\'s verification indicators; OK where the service knows one', async () => {
    const peer = await startPeer({ answers: new Map([['C912705B4BBB14EC7E78FA8B370532C9', [{ category: 'KL_Malicious_Hash_MD5', matchedIndicator: 'C912705B4BBB14EC7E78FA8B370532C9' }]]]) });
    try {
      const r = await runWithInput(process.execPath, [cliBundle, 'check', '--service', `127.0.0.1:${peer.port}`], '');
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^service 127\.0\.0\.1:\d+: PONG in \d+ ms$/);
      expect(lines).toContainEqual(expect.stringMatching(/^Malicious_Hash_Data_Feed\s+C912705B4BBB14EC7E78FA8B370532C9\s+OK \(KL_Malicious_Hash_MD5\)$/));
      expect(lines).toContainEqual(expect.stringMatching(/^Malicious_URL_Data_Feed\s+http:\/\/fakess123\.nu\s+FALSE$/));
      expect(lines.filter((l) => /\s(OK|FALSE)/.test(l)).length).toBe(lines.length - 2);
    } finally {
      await peer.close();
    }
  });

  it('feedtrace check: a service that is down fails the check with one line', async () => {
    const port = await closedPort();
    const r = await runWithInput(process.execPath, [cliBundle, 'check', '--service', `127.0.0.1:${port}`], '');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`service 127.0.0.1:${port}: PING failed: connection refused (is the service running and listening there?)\n`);
  });
});

describe('usage and input errors', () => {
  it('bad configuration: exit 2, one line naming the setting', async () => {
    const bad = makeApp('[service]\nconnections = lots\n');
    try {
      const r = await runWithInput(bad.launcher, FIELDS, csv([header, row({ ip: '1.1.1.1' })]));
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('feedtrace_lookup: configuration error: feedtrace.conf [service] connections = "lots": expected a whole number from 1 to 64\n');
    } finally {
      bad.remove();
    }
  });

  it('no input field, or CSV that cannot be parsed: exit 2 with one line', async () => {
    const port = await closedPort();
    const noInput = await lookup(csv([['a', 'b'], ['1', '2']]), `127.0.0.1:${port}`, app, ['a', 'b']);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/^feedtrace_lookup: no input field among the arguments "a b".*\n$/);
    const broken = await lookup('ip,category\n"1.2.3.4,\n', `127.0.0.1:${port}`, app, ['ip', 'category']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^feedtrace_lookup: input is not valid CSV: .*\n$/);
  });
});

describe('launcher', () => {
  const nodeBin = process.execPath;
  /** A PATH with only what the launcher needs besides node. */
  const toolsOnly = (dir: string): string => {
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  it('without any Node.js: exits 1 with one line naming what to install or configure', async () => {
    const r = await runWithInput('/bin/sh', [app.launcher, 'ip'], '', { PATH: toolsOnly(path.join(app.dir, 'empty-path')), SPLUNK_HOME: path.join(app.dir, 'no-splunk') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`feedtrace_lookup: no Node.js 20 or later found; install Node.js 20+ on this host (on PATH), set [runtime] node_path in ${app.dir}/local/feedtrace.conf, or put the single executable from npm run build:sea in ${app.dir}/bin (Splunk 10.2 ships no Node.js)\n`);
  });

  it('uses [runtime] node_path from local/ over default/, then $SPLUNK_HOME/bin/node, and refuses an old Node', async () => {
    const a = makeApp();
    try {
      // A node wrapper that says it was used.
      const wrapper = path.join(a.dir, 'mynode');
      writeFileSync(wrapper, `#!/bin/sh\necho used-wrapper >&2\nexec "${nodeBin}" "$@"\n`);
      chmodSync(wrapper, 0o755);
      mkdirSync(path.join(a.dir, 'local'));
      writeFileSync(path.join(a.dir, 'local', 'feedtrace.conf'), `[runtime]\nnode_path = ${wrapper}\n`);
      // An empty PATH: the launcher reads feedtrace.conf with shell built-ins alone.
      const viaConf = await runWithInput('/bin/sh', [a.launcher, 'ip', 'category'], 'ip,category\n', { PATH: toolsOnly(path.join(a.dir, 'empty-path')) });
      expect(viaConf.code).toBe(0);
      expect(viaConf.stdout).toBe('ip,category\r\n');
      expect(viaConf.stderr).toBe('used-wrapper\n');

      const splunk = path.join(a.dir, 'splunk');
      mkdirSync(path.join(splunk, 'bin'), { recursive: true });
      writeFileSync(path.join(splunk, 'bin', 'node'), '#!/bin/sh\n[ "$1" = --version ] && echo v8.17.0 && exit 0\nexit 3\n');
      chmodSync(path.join(splunk, 'bin', 'node'), 0o755);
      writeFileSync(path.join(a.dir, 'local', 'feedtrace.conf'), '[runtime]\nnode_path =\n');
      const old = await runWithInput('/bin/sh', [a.launcher, 'ip'], '', { PATH: toolsOnly(path.join(a.dir, 'empty-path')), SPLUNK_HOME: splunk });
      expect(old.code).toBe(1);
      expect(old.stderr).toContain(`${splunk}/bin/node is Node.js 8, too old;`);

      // A Splunk whose node is recent enough is used when nothing is configured and nothing is on PATH.
      const goodSplunk = path.join(a.dir, 'splunk10');
      mkdirSync(path.join(goodSplunk, 'bin'), { recursive: true });
      symlinkSync(nodeBin, path.join(goodSplunk, 'bin', 'node'));
      const viaSplunk = await runWithInput('/bin/sh', [a.launcher, 'ip', 'category'], 'ip,category\n', { PATH: toolsOnly(path.join(a.dir, 'empty-path')), SPLUNK_HOME: goodSplunk });
      expect([viaSplunk.code, viaSplunk.stdout, viaSplunk.stderr]).toEqual([0, 'ip,category\r\n', '']);

      writeFileSync(path.join(a.dir, 'local', 'feedtrace.conf'), `[runtime]\nnode_path = ${path.join(splunk, 'bin', 'node')}\n`);
      const badConf = await runWithInput('/bin/sh', [a.launcher, 'ip'], '', { PATH: '/usr/bin:/bin' });
      expect(badConf.code).toBe(1);
      expect(badConf.stderr).toBe(`feedtrace_lookup: feedtrace.conf [runtime] node_path = ${splunk}/bin/node is Node.js 8; Node.js 20 or later is needed\n`);
    } finally {
      a.remove();
    }
  });
});
