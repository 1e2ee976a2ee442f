import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildConfig, ConfigError, DEFAULT_SETTINGS, loadConfig, parseAddressList } from '../src/lookup/config.js';
import { Fifo } from '../src/lookup/fifo.js';
import { formatKv, parseKv, parseKvGeneral, parseKvSimple } from '../src/lookup/kv.js';
import { DEFAULT_PATTERN, LinePattern, PatternError } from '../src/lookup/pattern.js';
import { contextPairs, parseReplyLine } from '../src/lookup/reply.js';
import { prepareValue } from '../src/lookup/values.js';
import { loadServiceConfig } from '../src/service/config.js';
import { renderDetection } from '../src/service/format.js';
import { readConf, layerConfs } from '../src/splunk/conf.js';
import type { Match } from '../src/types.js';
import { repoRoot } from './support/paths.js';

/** When the fast key=value path answers for `line`, it answers what the general parser does; whether it answered. */
function fastAgreesWhereItAnswers(line: string): boolean {
  const fast = parseKvSimple(line);
  if (fast === undefined) return false;
  expect(fast).toEqual(parseKvGeneral(line));
  return true;
}

describe('key=value parsing (inverse of the service quoting)', () => {
  it('reads the documented detection example, date words as prefix', () => {
    const line = 'Nov 26 06:24:37 eventName=KL_IP_Reputation category=KL_IP_Reputation matchedIndicator=45.144.225.135 feed=ipsum sourceId=default indicatorType=ip matchedValue=45.144.225.135 url="" ip=45.144.225.135 domain="" md5="" sha1="" sha256="" src="" blocklists=3';
    const kv = parseKv(line);
    expect(kv.prefix).toEqual(['Nov', '26', '06:24:37']);
    expect(kv.pairs[0]).toEqual(['eventName', 'KL_IP_Reputation']);
    expect(new Map(kv.pairs).get('url')).toBe('');
    expect(kv.pairs.at(-1)).toEqual(['blocklists', '3']);
  });

  it('decodes quoted values with every escape', () => {
    expect(parseKv('a="x y" b="q\\"uo\\\\te" c="l1\\nl2\\r\\t\\x01" d=bare=still').pairs).toEqual([
      ['a', 'x y'], ['b', 'q"uo\\te'], ['c', 'l1\nl2\r\t\x01'], ['d', 'bare=still'],
    ]);
  });

  it('joins unquoted words to the previous bare value, as a real CyberTrace writes context', () => {
    expect(parseKv('category=KL_X threat=Trojan Downloader x=1').pairs).toEqual([['category', 'KL_X'], ['threat', 'Trojan Downloader'], ['x', '1']]);
  });

  it('keeps a value whose closing quote is missing', () => {
    expect(parseKv('a="open and never closed').pairs).toEqual([['a', 'open and never closed']]);
  });

  it('round-trips any values through quoting', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z_][\w/]{0,8}$/), fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 6 }), (pairs) => {
        const line = formatKv(pairs);
        expect(line).not.toMatch(/[\r\n]/);
        expect(parseKv(line).pairs).toEqual(pairs);
      }),
    );
  });

  it('the fast path agrees with the general parser wherever it answers', () => {
    const word = fc.oneof(fc.constantFrom('k=v', 'k=""', 'k="a b"', 'a', '=x', 'k="x', '"', 'k=a"b', 'k="\\n"', 'x=y=z', ''), fc.string({ maxLength: 6 }));
    let answered = 0;
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (words) => {
        if (fastAgreesWhereItAnswers(words.join(' '))) answered++;
      }),
      { numRuns: 3000 },
    );
    expect(answered).toBeGreaterThan(300);
  });

  it('the fast path agrees with the general parser on the service\'s detection lines, and on hostile edits of them', () => {
    const output = loadServiceConfig().output;
    const plain = fc.stringMatching(/^[\w.:/-]{1,20}$/);
    const anyValue = fc.oneof({ arbitrary: plain, weight: 8 }, fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', 'a b', 'q"uote', 'back\\slash', 'x=1', ' lead', 'tab\there'));
    const match = (value: fc.Arbitrary<string>): fc.Arbitrary<Match> => fc.record({
      type: fc.constant('ip' as const),
      category: value,
      matchedIndicator: value,
      feed: value,
      context: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z_][\w]{0,8}$/), value), { maxLength: 5 }),
    });
    const render = (m: Match): string => renderDetection(output, {
      date: new Date(Date.UTC(2026, 10, 26, 6, 24, 37)), match: m, matchedValue: m.matchedIndicator, queryType: 'ip', sourceId: 'default', values: new Map(),
    });
    // Lines the service writes for plain values take the fast path.
    fc.assert(
      fc.property(match(plain), (m) => {
        const line = render(m);
        const fast = parseKvSimple(line);
        expect(fast).toBeDefined();
        expect(fast).toEqual(parseKvGeneral(line));
        expect(new Map(fast!.pairs).get('feed')).toBe(m.feed);
      }),
      { numRuns: 300 },
    );
    // Any values, then characters inserted anywhere: where the fast path answers, it answers the same.
    const edit = fc.tuple(fc.nat(), fc.constantFrom(' ', '  ', '"', '\\', '=', '\t', '\r', '\u00a0', 'x', '" ', ' ="'));
    let answered = 0;
    fc.assert(
      fc.property(match(anyValue), fc.array(edit, { maxLength: 4 }), (m, edits) => {
        let line = render(m);
        for (const [at, text] of edits) {
          const i = at % (line.length + 1);
          line = line.slice(0, i) + text + line.slice(i);
        }
        if (fastAgreesWhereItAnswers(line)) answered++;
      }),
      { numRuns: 3000 },
    );
    expect(answered).toBeGreaterThan(600);
  });

  it('the fast path stays linear on a long line of words without =', () => {
    // Quadratic rescans of the rest of the line per word would take minutes here, not milliseconds.
    const line = 'k=v' + ' w'.repeat(500_000);
    const fast = parseKvSimple(line);
    expect(fast?.pairs).toHaveLength(1);
    expect(fast?.pairs[0]![1].length).toBe(1 + 2 * 500_000);
  });

  it('reads the service\'s \\u escapes and keeps an invalid \\x as x', () => {
    expect(parseKv('a="\\u2028 \\xZZ"').pairs).toEqual([['a', '\u2028 xZZ']]);
  });
});

describe('reply lines', () => {
  it('tells detections, finished lines and others apart, and reads a leading or REQ request id', () => {
    const d = parseReplyLine('17 category=KL_X matchedIndicator=1.2.3.4 feed=f ip=1.2.3.4 blocklists=3');
    expect(d.kind).toBe('detection');
    if (d.kind !== 'detection') throw new Error();
    expect(d.id).toBe(17);
    expect(d.detection.get('feed')).toBe('f');
    expect(contextPairs(d.detection)).toEqual([['blocklists', '3']]);
    expect(parseReplyLine('Nov 26 06:24:37 type=LookupFinished sent_events=0 total=""')).toEqual({ kind: 'finished', id: undefined });
    expect(parseReplyLine('Nov 26 06:24:37 type=LookupFinished REQ=42 sent_events=0')).toEqual({ kind: 'finished', id: 42 });
    expect(parseReplyLine('Nov 26 06:24:37 alert=KL_ALERT_UpdatedFeed feed=x records=1').kind).toBe('other');
    expect(parseReplyLine('PONG').kind).toBe('other');
    // The word without the key is not a detection.
    expect(parseReplyLine('note="matchedIndicator missing"').kind).toBe('other');
  });
});

describe('value preparation', () => {
  const ok = (field: Parameters<typeof prepareValue>[0], raw: string) => {
    const p = prepareValue(field, raw);
    if (!p.ok) throw new Error(`${raw}: ${p.reason}`);
    return [p.type, p.wire];
  };
  const bad = (field: Parameters<typeof prepareValue>[0], raw: string) => {
    const p = prepareValue(field, raw);
    return p.ok ? `accepted as ${p.wire}` : p.reason;
  };

  it('gives a URL without a scheme http:// and keeps one with a scheme', () => {
    expect(ok('url', ' example.com/a?b=c ')).toEqual(['url', 'http://example.com/a?b=c']);
    expect(ok('url', 'HTTPS://Example.com/')).toEqual(['url', 'HTTPS://Example.com/']);
    expect(ok('url', 'example.com:8080/x')).toEqual(['url', 'http://example.com:8080/x']);
    expect(ok('url', '//cdn.example.com/x')).toEqual(['url', 'http://cdn.example.com/x']);
    expect(bad('url', 'http:///path')).toBe('URL without a host');
    expect(bad('url', '   ')).toBe('empty');
    expect(bad('url', `http://x.com/${'a'.repeat(8192)}`)).toBe('longer than 8192 characters');
  });

  it('percent-encodes whitespace and control characters inside a URL', () => {
    expect(ok('url', 'http://x.com/a b\r\nc\u2028d"e')).toEqual(['url', 'http://x.com/a%20b%0D%0Ac%E2%80%A8d%22e']);
  });

  it('validates IPs and splits off a port', () => {
    expect(ok('ip', '1.2.3.4')).toEqual(['ip', '1.2.3.4']);
    expect(ok('ip', '1.2.3.4:8080')).toEqual(['ip', '1.2.3.4']);
    expect(ok('ip', '[2001:DB8::1]:443')).toEqual(['ip', '2001:db8::1']);
    expect(ok('ip', '2001:db8::1')).toEqual(['ip', '2001:db8::1']);
    expect(bad('ip', '1.2.3.4:99999')).toBe('bad port');
    expect(bad('ip', '1.2.3.256')).toBe('not an IP address');
    expect(bad('ip', '1.2.3.0/24')).toBe('not an IP address');
    expect(bad('ip', 'example.com')).toBe('not an IP address');
  });

  it('trims hashes, checks hex and length, tells a hash type by length', () => {
    expect(ok('md5', ' c912705b4bbb14ec7e78fa8b370532c9 ')).toEqual(['md5', 'C912705B4BBB14EC7E78FA8B370532C9']);
    expect(ok('hash', 'a'.repeat(40))).toEqual(['sha1', 'A'.repeat(40)]);
    expect(ok('hash', 'b'.repeat(64))).toEqual(['sha256', 'B'.repeat(64)]);
    expect(bad('md5', 'a'.repeat(40))).toBe('not 32 hex digits');
    expect(bad('sha256', 'g'.repeat(64))).toBe('not 64 hex digits');
    expect(bad('hash', 'a'.repeat(33))).toBe('not 32, 40 or 64 hex digits');
  });

  it('lower-cases a domain and drops its final dot; refuses what no domain contains', () => {
    expect(ok('domain', 'WWW.Example.COM.')).toEqual(['domain', 'www.example.com']);
    expect(bad('domain', 'a b.com')).toBe('not a domain name');
    expect(bad('domain', 'http://x.com')).toBe('not a domain name');
    expect(bad('domain', 'a..b')).toBe('not a domain name');
  });

  it('never lets whitespace, control characters or an X-KF- flag reach the wire', () => {
    const fields = ['url', 'domain', 'ip', 'md5', 'sha1', 'sha256', 'hash'] as const;
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('X-KF-ReplyBack', 'x\nX-KF-ReplyBackPING', 'http://X-KF-SendFinishedEvent.com/X-KF-ReplyBack', 'a\u0000b', '1.2.3.4\n5.6.7.8'),
      fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('X-KF-', 'x-Kf-', '\r', '\n', '\u0085', '\u2028', ' '), fc.string({ maxLength: 10 })).map((p) => p.join('')),
    );
    fc.assert(
      fc.property(fc.constantFrom(...fields), hostile, (field, raw) => {
        const p = prepareValue(field, raw);
        if (!p.ok) return;
        expect(p.wire).not.toMatch(/[\x00-\x20\x7f-\x9f\u2028\u2029]/);
        expect(p.wire).not.toContain('X-KF-');
        const line = new LinePattern(DEFAULT_PATTERN).render(p.type, p.wire);
        expect(line).not.toMatch(/[\r\n\x00]/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('line pattern', () => {
  it('fills one placeholder and leaves the others empty', () => {
    const p = new LinePattern(DEFAULT_PATTERN);
    expect(p.render('ip', '1.2.3.4')).toBe('ip=1.2.3.4 md5= sha1= sha256= url=');
    expect(p.render('url', 'http://x/')).toBe('ip= md5= sha1= sha256= url=http://x/');
  });

  it('sends a domain as a URL unless the pattern has %DOMAIN%', () => {
    expect(new LinePattern(DEFAULT_PATTERN).render('domain', 'x.com')).toBe('ip= md5= sha1= sha256= url=http://x.com');
    expect(new LinePattern('url=%URL% domain=%DOMAIN%').render('domain', 'x.com')).toBe('url= domain=x.com');
  });

  it('knows which types it cannot carry', () => {
    const p = new LinePattern('url=%URL%');
    expect(p.has('md5')).toBe(false);
    expect(p.has('domain')).toBe(true);
  });

  it('accepts CyberTrace\'s trailing \\n and refuses unusable patterns', () => {
    expect(new LinePattern('ip=%IP%\\n').render('ip', '1.1.1.1')).toBe('ip=1.1.1.1');
    expect(() => new LinePattern('no placeholders')).toThrow(PatternError);
    expect(() => new LinePattern('ip=%IP%\nurl=%URL%')).toThrow(PatternError);
    expect(() => new LinePattern('X-KF-ReplyBack ip=%IP%')).toThrow(PatternError);
    expect(() => new LinePattern('ip=%IP% note=x-kf-savestatistic')).toThrow(PatternError);
    expect(() => new LinePattern('PING=%IP%')).toThrow(PatternError);
  });
});

describe('configuration', () => {
  it('the shipped default/feedtrace.conf says what the built-in defaults say', () => {
    const shipped = layerConfs([readConf(path.join(repoRoot, 'default', 'feedtrace.conf'))]);
    for (const [stanza, keys] of Object.entries(DEFAULT_SETTINGS)) {
      expect(Object.fromEntries(shipped.get(stanza)!)).toEqual(keys);
    }
    expect(shipped.get('runtime')!.get('node_path')).toBe('');
  });

  it('README/feedtrace.conf.spec documents every stanza and key that default/feedtrace.conf sets, and no other', () => {
    const spec = readFileSync(path.join(repoRoot, 'app', 'README', 'feedtrace.conf.spec'), 'utf8');
    const documented = new Set<string>();
    let stanza = '';
    for (const line of spec.split('\n')) {
      const header = /^\[(\w+)\]$/.exec(line);
      if (header) stanza = header[1]!;
      const key = /^(\w+) = </.exec(line);
      if (key) documented.add(`${stanza}/${key[1]}`);
    }
    const shipped = layerConfs([readConf(path.join(repoRoot, 'default', 'feedtrace.conf'))]);
    const set = [...shipped].flatMap(([name, keys]) => [...keys.keys()].map((k) => `${name}/${k}`));
    expect([...documented].sort()).toEqual(set.sort());
  });

  it('layers local over default key by key and applies FEEDTRACE_SERVICE last', () => {
    const conf = new Map([['service', new Map([['hosts', '10.0.0.1:9999, [::1]:9998'], ['request_timeout', '0.5']])]]);
    const c = buildConfig(conf);
    expect(c.services).toEqual([{ host: '10.0.0.1', port: 9999 }, { host: '::1', port: 9998 }]);
    expect(c.requestTimeoutMs).toBe(500);
    expect(c.connections).toBe(4);
    expect(buildConfig(conf, { service: '127.0.0.1:1' }).services).toEqual([{ host: '127.0.0.1', port: 1 }]);
    expect(loadConfig(undefined, { FEEDTRACE_SERVICE: '127.0.0.2:7' }).services).toEqual([{ host: '127.0.0.2', port: 7 }]);
  });

  it('names the file, stanza and key of a bad setting', () => {
    const conf = (stanza: string, key: string, value: string) => new Map([[stanza, new Map([[key, value]])]]);
    expect(() => buildConfig(conf('service', 'connections', 'many'))).toThrow(new ConfigError('feedtrace.conf [service] connections = "many": expected a whole number from 1 to 64'));
    expect(() => buildConfig(conf('service', 'hosts', 'localhost'))).toThrow(/feedtrace.conf \[service\] hosts: bad service address "localhost"/);
    expect(() => buildConfig(conf('lookup', 'pattern', 'nothing'))).toThrow(/\[lookup\] pattern: pattern has none of/);
    expect(() => buildConfig(conf('service', 'request_ids', 'maybe'))).toThrow(/expected true or false/);
    expect(() => buildConfig(conf('service', 'deadline', '0'))).toThrow(/expected seconds/);
    expect(() => parseAddressList(' , ')).toThrow(/no service address/);
  });
});

describe('Fifo', () => {
  it('keeps order across compaction and removal', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    for (let i = 0; i < 3000; i++) expect(q.shift()).toBe(i);
    expect(q.remove(4000)).toBe(true);
    expect(q.length).toBe(1999);
    expect(q.peek()).toBe(3000);
    expect(q.drain().slice(999, 1001)).toEqual([3999, 4001]);
    expect(q.length).toBe(0);
  });
});
