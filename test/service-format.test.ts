import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { loadServiceConfig, parseServiceConfig, type OutputConfig } from '../src/service/config.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { EventExtractor } from '../src/service/extract.js';
import { compileOutput, formatDate, quoteValue, renderAlert, renderDetection, renderFinished } from '../src/service/format.js';
import type { Match } from '../src/types.js';
import { dataset, repoRoot } from './support/paths.js';

const output = loadServiceConfig().output;
const doc = readFileSync(path.join(repoRoot, 'docs', 'event-formats.md'), 'utf8');

/**
 * Splunk `KV_MODE = auto_escaped`: key=value pairs separated by whitespace; a value is bare up to whitespace, or
 * double-quoted where `\"` and `\\` are escapes (any other backslash stays as it is). `decodeControls` adds the
 * app's transform step that also turns `\n`, `\r`, `\t` and `\xHH` back into characters.
 */
function splunkPairs(text: string, decodeControls = false): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq);
    if (/\s/.test(key)) throw new Error(`key with whitespace: "${key}"`);
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          if (next === '"' || next === '\\') value += next;
          else if (decodeControls && next === 'n') value += '\n';
          else if (decodeControls && next === 'r') value += '\r';
          else if (decodeControls && next === 't') value += '\t';
          else if (decodeControls && next === 'x') {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
            i += 2;
          } else value += `\\${next}`;
          i += 2;
        } else value += text[i++];
      }
      if (text[i] !== '"') throw new Error(`unterminated quoted value in: ${text}`);
      i++;
      if (i < text.length && text[i] !== ' ') throw new Error(`text glued to a quoted value at ${i}: ${text}`);
    } else {
      while (i < text.length && text[i] !== ' ') value += text[i++];
    }
    pairs.push([key, value]);
  }
  return pairs;
}

/** A line's pairs after the `Mon DD HH:MM:SS ` date. */
const pairsOf = (line: string, decodeControls = false): Array<[string, string]> => splunkPairs(line.slice('Nov 26 06:24:37 '.length), decodeControls);

const sampleMatch: Match = {
  type: 'ip',
  category: 'KL_IP_Reputation',
  matchedIndicator: '45.144.225.135',
  feed: 'ipsum',
  context: [['blocklists', '3']],
};
const when = new Date(2026, 10, 26, 6, 24, 37);

describe('the date', () => {
  it('is Mon DD HH:MM:SS in local time, the day padded with a space', () => {
    const month = (d: Date): string => new Intl.DateTimeFormat('en-US', { month: 'short' }).format(d);
    for (const date of [when, new Date(2026, 0, 5, 0, 0, 9), new Date(2025, 11, 31, 23, 59, 59), new Date(2024, 1, 29, 12, 0, 0)]) {
      const day = String(date.getDate()).padStart(2, ' ');
      const time = [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
      expect(formatDate(date)).toBe(`${month(date)} ${day} ${time}`);
    }
    expect(formatDate(new Date(2026, 0, 5, 0, 0, 9))).toBe('Jan  5 00:00:09');
  });
});

describe('detections (EventFormat)', () => {
  it('reproduces the example of docs/event-formats.md', () => {
    const example = /Example:\n```\n(.*)\n```/.exec(doc)![1]!;
    const line = renderDetection(output, {
      date: when,
      match: sampleMatch,
      matchedValue: '45.144.225.135',
      queryType: 'ip',
      sourceId: 'default',
      values: new Map([['RE_IP', ['45.144.225.135']]]),
      regexName: 'RE_IP',
    });
    expect(line).toBe(example.replace(/^Nov 26 06:24:37/, formatDate(when)));
  });

  it('fills every pattern: %Date% %Category% %MatchedIndicator% %FeedName% %SourceId% %IndicatorType% %MatchedValue% %RecordContext% %ActionableFields% %<RegexName>%', () => {
    const config = parseServiceConfig(
      DEFAULT_SERVICE_CONFIG_XML.replace(/<EventFormat>.*<\/EventFormat>/, '<EventFormat>%Date%|%Category%|%MatchedIndicator%|%FeedName%|%SourceId%|%IndicatorType%|%MatchedValue%|%RE_URL%|%RE_IP%|%NOPE%|%ActionableFields%|%RecordContext%</EventFormat>')
        .replace('<ActionableFields></ActionableFields>', '<ActionableFields>threat, tags</ActionableFields>'),
      'patterns.xml',
    );
    const match: Match = { type: 'url', category: 'KL_Malicious_URL', matchedIndicator: 'evil.example/x', feed: 'urlhaus', context: [['threat', 'malware_download'], ['tags', 'elf,mozi'], ['id', '42']] };
    const line = renderDetection(config.output, {
      date: when,
      match,
      matchedValue: 'http://evil.example/x',
      queryType: 'url',
      sourceId: 'proxy-1',
      values: new Map([['RE_URL', ['http://a.example/', 'http://evil.example/x']], ['RE_IP', ['10.0.0.1', '10.0.0.2']]]),
    });
    expect(line).toBe(
      `${formatDate(when)}|KL_Malicious_URL|evil.example/x|urlhaus|proxy-1|url|http://evil.example/x|http://evil.example/x|10.0.0.1|""| threat:malware_download tags:elf,mozi| threat=malware_download tags=elf,mozi id=42`,
    );
  });

  it('%<RegexName>% of the regex that produced the query is the matched value even when it was not extracted first', () => {
    const values = new Map([['RE_IP', ['10.0.0.1', '45.144.225.135']], ['SRC_IP', ['10.0.0.1']]]);
    const line = renderDetection(output, { date: when, match: sampleMatch, matchedValue: '45.144.225.135', queryType: 'ip', sourceId: 'default', values, regexName: 'RE_IP' });
    const pairs = new Map(pairsOf(line));
    expect(pairs.get('ip')).toBe('45.144.225.135');
    expect(pairs.get('src')).toBe('10.0.0.1');
    expect(pairs.get('url')).toBe('');
  });

  it('the HA balancer format echoes the request id first', () => {
    const config = parseServiceConfig(DEFAULT_SERVICE_CONFIG_XML.replace(/<EventFormat>.*<\/EventFormat>/, '<EventFormat>%REQ% category=%Category% %RecordContext%</EventFormat>'), 'ha.xml');
    const extraction = new EventExtractor(config.input.sources).extract('4711 ip=45.144.225.135', '127.0.0.1')!;
    const line = renderDetection(config.output, { date: when, match: sampleMatch, matchedValue: '45.144.225.135', queryType: 'ip', sourceId: extraction.sourceId, values: extraction.values });
    expect(line).toBe('4711 category=KL_IP_Reputation  blocklists=3');
  });

  it('renders a real Suricata event end to end, and Splunk reads back every value', () => {
    const line = readFileSync(dataset('slips-honeypot-suricata-2021-06', 'eve.json'), 'utf8').split('\n').find((l) => l.includes('"event_type":"http"'))!;
    const record = JSON.parse(line) as { src_ip: string; dest_ip: string; http: { http_user_agent: string } };
    const extraction = new EventExtractor(loadServiceConfig().input.sources).extract(line, '127.0.0.1')!;
    const match: Match = { type: 'ip', category: 'KL_IP_Reputation', matchedIndicator: record.src_ip, feed: 'ipsum', context: [['user agent', record.http.http_user_agent], ['note', 'seen "twice"; a=b\\c']] };
    const rendered = renderDetection(output, { date: when, match, matchedValue: record.src_ip, queryType: 'ip', sourceId: extraction.sourceId, values: extraction.values, regexName: 'RE_IP' });
    const pairs = new Map(pairsOf(rendered));
    expect(pairs.get('matchedIndicator')).toBe(record.src_ip);
    expect(pairs.get('ip')).toBe(record.src_ip);
    expect(pairs.get('src')).toBe(record.src_ip);
    expect(pairs.get('user_agent')).toBe(record.http.http_user_agent);
    expect(pairs.get('note')).toBe('seen "twice"; a=b\\c');
    expect(pairs.get('eventName')).toBe('KL_IP_Reputation');
  });
});

describe('finished events and alerts', () => {
  it('finished events as documented, never with matchedIndicator or eventName', () => {
    const two = renderFinished(output, { date: when, sentEvents: 2, totals: new Map([['KL_Malicious_URL', 1], ['KL_IP_Reputation', 1]]), values: new Map() });
    expect(two).toBe(`${formatDate(when)} type=LookupFinished sent_events=2 total=KL_Malicious_URL:1;KL_IP_Reputation:1;`);
    const none = renderFinished(output, { date: when, sentEvents: 0, totals: new Map(), values: new Map() });
    expect(none).toBe(`${formatDate(when)} type=LookupFinished sent_events=0 total=""`);
    for (const line of [two, none]) expect(line).not.toMatch(/matchedIndicator|eventName/);
    expect(doc).toContain('`Nov 26 06:24:37 type=LookupFinished sent_events=2 total=KL_Malicious_URL:1;KL_IP_Reputation:1;`');
  });

  it('a finished format with a regex pattern gets that regex\'s first value', () => {
    const config = parseServiceConfig(DEFAULT_SERVICE_CONFIG_XML.replace('%Date% type=LookupFinished%RecordContext%', '%REQ% type=LookupFinished%RecordContext%'), 'f.xml');
    expect(renderFinished(config.output, { date: when, sentEvents: 1, totals: new Map([['KL_IP_Reputation', 1]]), values: new Map([['REQ', ['17']]]) })).toBe('17 type=LookupFinished sent_events=1 total=KL_IP_Reputation:1;');
  });

  it('alerts in CyberTrace\'s shape, with quoted error text; none without AlertFormat', () => {
    expect(renderAlert(output, { date: new Date(2026, 3, 16, 9, 5, 41), alert: 'KL_ALERT_UpdatedFeed', context: [['feed', 'Phishing_URL_Data_Feed.json'], ['records', '200473']] })).toBe(
      'Apr 16 09:05:41 alert=KL_ALERT_UpdatedFeed feed=Phishing_URL_Data_Feed.json records=200473',
    );
    const failed = renderAlert(output, { date: when, alert: 'KL_ALERT_FailedToUpdateFeed', context: [['feed', 'urlhaus'], ['error', 'ENOENT: no such file, open "/x y"\nat line 2']] })!;
    expect(failed).not.toMatch(/[\r\n]/);
    expect(pairsOf(failed, true)).toEqual([['alert', 'KL_ALERT_FailedToUpdateFeed'], ['feed', 'urlhaus'], ['error', 'ENOENT: no such file, open "/x y"\nat line 2']]);
    const quiet: OutputConfig = { ...output, alertFormat: undefined };
    expect(renderAlert(quiet, { date: when, alert: 'KL_ALERT_ServiceStarted', context: [] })).toBeNull();
  });

  it('compiles each config\'s templates once', () => {
    expect(compileOutput(output)).toBe(compileOutput(output));
    expect(compileOutput({ ...output })).not.toBe(compileOutput(output));
  });
});

describe('quoting', () => {
  const awkward: Array<[what: string, value: string]> = [
    ['URL with a query and spaces', 'http://evil.example/a b?x=1&y=2 3'],
    ['quotes', 'say "hi"'],
    ['equals signs', 'a=b=c'],
    ['a backslash, also at the end', 'C:\\Windows\\'],
    ['an escaped quote already in the text', 'x\\"y'],
    ['unicode', 'тест.рф/путь ✓ 𝔘'],
    ['an injected pair', 'x matchedIndicator=evil.example'],
    ['an injected line', 'x\nNov 26 06:24:37 eventName=Fake matchedIndicator=1.2.3.4'],
    ['control characters', 'a\tb\rc\u0000d\u001be\u007ff\u0085g\u2028h'],
    ['empty', ''],
    ['only spaces', '   '],
    ['a lone quote', '"'],
  ];

  it.each(awkward)('%s: one line, and Splunk reads back the exact value', (_what, value) => {
    const match: Match = { ...sampleMatch, matchedIndicator: value, context: [['whois org', value], ['x', 'y']] };
    const line = renderDetection(output, { date: when, match, matchedValue: value, queryType: 'ip', sourceId: 'default', values: new Map([['RE_URL', [value]]]) });
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    const hasControls = /[\x00-\x1f\x7f-\x9f]/.test(value);
    // Without control characters Splunk's own rules recover the value; with them, the app's transform does.
    const pairs = pairsOf(line, hasControls);
    const get = (key: string): string[] => pairs.filter(([k]) => k === key).map(([, v]) => v);
    expect(get('matchedIndicator')).toEqual([value]);
    expect(get('matchedValue')).toEqual([value]);
    expect(get('url')).toEqual([value]);
    expect(get('whois_org')).toEqual([value]);
    expect(get('x')).toEqual(['y']);
    expect(pairs.map(([k]) => k)).toEqual(['eventName', 'category', 'matchedIndicator', 'feed', 'sourceId', 'indicatorType', 'matchedValue', 'url', 'ip', 'domain', 'md5', 'sha1', 'sha256', 'src', 'whois_org', 'x']);
  });

  it('writes plain values bare and the rest quoted, as documented', () => {
    expect(quoteValue('45.144.225.135')).toBe('45.144.225.135');
    expect(quoteValue('KL_Malicious_URL:1;KL_IP_Reputation:1;')).toBe('KL_Malicious_URL:1;KL_IP_Reputation:1;');
    expect(quoteValue('')).toBe('""');
    expect(quoteValue('a b')).toBe('"a b"');
    expect(quoteValue('a=b')).toBe('"a=b"');
    expect(quoteValue('a\\b')).toBe('"a\\\\b"');
    expect(quoteValue('a"b')).toBe('"a\\"b"');
    expect(quoteValue('a\r\n\tb\u0001')).toBe('"a\\r\\n\\tb\\x01"');
  });

  it('round-trips any string (property test)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', maxLength: 20 }), (value, other) => {
        const line = `k=${quoteValue(value)} o=${quoteValue(other)}`;
        expect(line).not.toMatch(/[\r\n]/);
        expect(splunkPairs(line, true)).toEqual([['k', value], ['o', other]]);
        if (!/[\x00-\x1f\x7f-\x9f]/.test(value)) expect(splunkPairs(line)).toEqual([['k', value], ['o', other]]);
      }),
      { numRuns: 2000 },
    );
  });
});
