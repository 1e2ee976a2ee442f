/**
 * The app's parsing rules (default/props.conf, transforms.conf, eventtypes.conf) applied to lines the real
 * service formatter writes (src/service/format.ts with the shipped default config), through a model of
 * Splunk's semantics (src/splunk/emulate.ts): every field must come out exactly as the service had it.
 */
import path from 'node:path';
import { readConf, type ConfStanza } from '../src/splunk/conf.js';
import { applyReport, breakEvents, cleanKey, evaluate, pcreAsJs, eventTypeMatches, extractTimestamp, parseEval, searchTimeFields, type Fields } from '../src/splunk/emulate.js';
import { parseServiceConfig } from '../src/service/config.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { renderAlert, renderDetection, renderFinished } from '../src/service/format.js';
import type { ContextFields, Match } from '../src/types.js';
import { repoRoot } from './support/paths.js';

const conf = (name: string) => readConf(path.join(repoRoot, 'default', name));
const stanzas = (name: string) => new Map(conf(name).stanzas.map((s) => [s.name, s]));
const props = stanzas('props.conf').get('feedtrace')!;
const transforms = stanzas('transforms.conf');
const eventtypes = stanzas('eventtypes.conf');
const output = parseServiceConfig(DEFAULT_SERVICE_CONFIG_XML, 'default-config').output;

const date = new Date(2026, 10, 6, 6, 4, 7); // Nov  6 06:04:07 local: a space-padded day

/** What Splunk would show for one line: its search-time fields plus the sourcetype. */
function parse(line: string): Fields {
  const fields = searchTimeFields(line, props, transforms);
  fields.set('sourcetype', 'feedtrace');
  return fields;
}

function eventTypesOf(fields: Fields): string[] {
  return [...eventtypes.values()].filter((s) => eventTypeMatches(s.settings.find((x) => x.key === 'search')!.value, fields)).map((s) => s.name);
}

function detection(match: Match, matchedValue: string, values: Record<string, string[]>): string {
  return renderDetection(output, { date, match, matchedValue, queryType: match.type, sourceId: 'default', values: new Map(Object.entries(values)) });
}

/** Values that exercise every quoting rule of docs/event-formats.md. */
const AWKWARD = {
  url: 'http://evil.example/a?x=1&y="two words"\\path\tend',
  control: 'line1\r\nline2\x01\x7f\x85 and\u2028sep\u2029',
  unicode: 'пример.рф/путь?q=ü 100%+more',
  percent: '%41%zz+%2B',
  equals: 'a=b=c',
  nbsp: 'non\u00a0breaking',
};

describe('index-time rules of sourcetype feedtrace', () => {
  it('makes one event per service line, however the lines arrive', () => {
    const lines = [detection({ type: 'ip', category: 'KL_IP_Reputation', matchedIndicator: '45.144.225.135', feed: 'ipsum', context: [['blocklists', '3']] }, '45.144.225.135', { RE_IP: ['45.144.225.135'] }), 'Nov 26 06:24:37 alert=KL_ALERT_ServiceStarted'];
    expect(breakEvents(lines.join('\n') + '\n', props)).toEqual(lines);
    expect(breakEvents(lines.join('\r\n') + '\r\n\n', props)).toEqual(lines);
  });

  it('reads the syslog-style timestamp, space-padded days included, within the lookahead', () => {
    const line = renderAlert(output, { date, alert: 'KL_ALERT_ServiceStarted', context: [] })!;
    expect(line.startsWith('Nov  6 06:04:07 ')).toBe(true);
    expect(extractTimestamp(line, props)).toEqual({ month: 11, day: 6, hour: 6, minute: 4, second: 7 });
    expect(extractTimestamp('Dec 31 23:59:59 alert=x', props)).toEqual({ month: 12, day: 31, hour: 23, minute: 59, second: 59 });
  });

  it('keeps long record context whole (TRUNCATE is above any line the service writes)', () => {
    const context: ContextFields = Array.from({ length: 400 }, (_, i) => [`field${i}`, 'v'.repeat(100)] as const);
    const line = detection({ type: 'url', category: 'KL_Malicious_URL', matchedIndicator: 'evil.example/*', feed: 'f', context }, 'http://evil.example/', {});
    expect(Buffer.byteLength(line)).toBeGreaterThan(40000);
    expect(breakEvents(line + '\n', props)).toEqual([line]);
  });
});

describe('search-time fields of detections', () => {
  it('recovers the documented example line exactly', () => {
    const example = 'Nov 26 06:24:37 eventName=KL_IP_Reputation category=KL_IP_Reputation matchedIndicator=45.144.225.135 feed=ipsum sourceId=default indicatorType=ip matchedValue=45.144.225.135 url="" ip=45.144.225.135 domain="" md5="" sha1="" sha256="" src="" blocklists=3';
    const fields = parse(example);
    expect(Object.fromEntries([...fields].filter(([k]) => !['sourcetype', 'signature', 'vendor_product', 'ids_type', 'threat_match_field', 'threat_collection', 'dest'].includes(k)))).toEqual({
      eventName: 'KL_IP_Reputation',
      category: 'KL_IP_Reputation',
      matchedIndicator: '45.144.225.135',
      feed: 'ipsum',
      sourceId: 'default',
      indicatorType: 'ip',
      matchedValue: '45.144.225.135',
      ip: '45.144.225.135',
      blocklists: '3',
    });
    // Empty values ("") give no field, as Splunk drops empty extractions.
    for (const empty of ['url', 'domain', 'md5', 'sha1', 'sha256', 'src']) expect(fields.has(empty)).toBe(false);
    expect(eventTypesOf(fields)).toEqual(['feedtrace_detection']);
  });

  it('recovers awkward values exactly from real formatter output', () => {
    for (const [name, value] of Object.entries(AWKWARD)) {
      const match: Match = { type: 'url', category: 'KL_Malicious_URL', matchedIndicator: value, feed: 'feed with spaces', context: [] };
      const line = detection(match, value, { RE_URL: [value], SRC_IP: ['10.1.2.3'] });
      expect(line).not.toMatch(/[\r\n]/);
      const fields = parse(line);
      expect({ name, url: fields.get('url') }).toEqual({ name, url: value });
      expect({ name, v: fields.get('matchedValue') }).toEqual({ name, v: value });
      expect({ name, v: fields.get('matchedIndicator') }).toEqual({ name, v: value });
      expect(fields.get('feed')).toBe('feed with spaces');
      expect(fields.get('src')).toBe('10.1.2.3');
      expect(fields.get('category')).toBe('KL_Malicious_URL');
    }
  });

  it('never takes a key=value inside a quoted value for a field', () => {
    const value = 'http://x.example/?category=fake matchedIndicator=fake feed="fake"';
    const line = detection({ type: 'url', category: 'KL_Phishing_URL', matchedIndicator: 'x.example/*', feed: 'real', context: [['note', 'feed=spoof category=spoof']] }, value, { RE_URL: [value] });
    const fields = parse(line);
    expect(fields.get('category')).toBe('KL_Phishing_URL');
    expect(fields.get('feed')).toBe('real');
    expect(fields.get('matchedIndicator')).toBe('x.example/*');
    expect(fields.get('url')).toBe(value);
    expect(fields.get('note')).toBe('feed=spoof category=spoof');
  });

  it('gives record-context fields with their nested names cleaned, and sets the CIM fields', () => {
    const context: ContextFields = [
      ['threat_score', '85'],
      ['files/MD5', 'C912705B4BBB14EC7E78FA8B370532C9'],
      ['first_seen', '2026-11-01 10:00:00'],
    ];
    const line = detection({ type: 'ip', category: 'KL_IP_Reputation', matchedIndicator: '192.0.2.0', feed: 'IP_Reputation_Data_Feed', context }, '192.0.2.0', { RE_IP: ['192.0.2.0'], SRC_IP: ['10.9.8.7'] });
    const fields = parse(line);
    expect(fields.get('threat_score')).toBe('85');
    expect(fields.get(cleanKey('files/MD5'))).toBe('C912705B4BBB14EC7E78FA8B370532C9');
    expect(fields.get('files_MD5')).toBe('C912705B4BBB14EC7E78FA8B370532C9');
    expect(fields.get('first_seen')).toBe('2026-11-01 10:00:00');
    expect(fields.get('signature')).toBe('KL_IP_Reputation');
    expect(fields.get('vendor_product')).toBe('Feedtrace');
    expect(fields.get('threat_match_field')).toBe('ip');
    expect(fields.get('threat_collection')).toBe('IP_Reputation_Data_Feed');
    expect(fields.get('dest')).toBe('192.0.2.0');
  });
});

describe('search-time fields of finished events and alerts', () => {
  it('reads finished events and gives them no detection fields', () => {
    const line = renderFinished(output, { date, sentEvents: 2, totals: new Map([['KL_Malicious_URL', 1], ['KL_IP_Reputation', 1]]), values: new Map() });
    const fields = parse(line);
    expect(fields.get('type')).toBe('LookupFinished');
    expect(fields.get('sent_events')).toBe('2');
    expect(fields.get('total')).toBe('KL_Malicious_URL:1;KL_IP_Reputation:1;');
    expect(fields.has('signature')).toBe(false);
    expect(eventTypesOf(fields)).toEqual(['feedtrace_finished']);
    const none = parse(renderFinished(output, { date, sentEvents: 0, totals: new Map(), values: new Map() }));
    expect(none.get('sent_events')).toBe('0');
    expect(none.has('total')).toBe(false);
  });

  const alerts: Array<[string, ContextFields]> = [
    ['KL_ALERT_ServiceStarted', []],
    ['KL_ALERT_ServiceStopped', []],
    ['KL_ALERT_UpdatedFeed', [['feed', 'urlhaus'], ['records', '12345']]],
    ['KL_ALERT_FailedToUpdateFeed', [['feed', 'urlhaus'], ['error', 'connect ECONNREFUSED 1.2.3.4:443 "quoted" \\ and\nnewline']]],
    ['KL_ALERT_OutdatedFeed', [['feed', 'ipsum'], ['age_hours', '49']]],
    ['KL_ALERT_ConfigurationUpdated', []],
    ['KL_ALERT_ConfigurationRejected', [['error', 'line 3: unknown element <Foo>']]],
    ['KL_ALERT_SpoolFull', [['spool_bytes', '1073741824']]],
    ['FT_Statistics', [['events', '1000'], ['events_per_sec', '16.7'], ['detections', '12'], ['detections_per_sec', '0.2'], ['connections', '3'], ['queue_depth', '0'], ['spool_events', '5'], ['spool_bytes', '900'], ['truncated_lines', '0'], ['total', 'KL_Malicious_URL:10;IPsum_IP_Reputation:2;']]],
    ['FT_FeedStatus', [['feed', 'urlhaus'], ['records', '2000'], ['updated', '1795500000'], ['age_hours', '0.5'], ['status', 'ok']]],
  ];
  it.each(alerts)('reads %s with every context field exact', (alert, context) => {
    const fields = parse(renderAlert(output, { date, alert, context })!);
    expect(fields.get('alert')).toBe(alert);
    for (const [k, v] of context) expect({ k, v: fields.get(k) }).toEqual({ k, v });
    expect(eventTypesOf(fields)).toEqual(['feedtrace_alert']);
  });
});

describe('the decoding expression', () => {
  it('is one expression: every EVAL that decodes a field and the feedtrace_unescape macro agree', () => {
    const macro = conf('macros.conf').stanzas.find((x) => x.name === 'feedtrace_unescape(1)')!;
    const template = macro.settings.find((x) => x.key === 'definition')!.value;
    const decoders = props.settings.filter((x) => x.key.startsWith('EVAL-') && x.value.startsWith('urldecode('));
    expect(decoders.map((x) => x.key)).toEqual(['EVAL-url', 'EVAL-matchedIndicator', 'EVAL-matchedValue', 'EVAL-error']);
    for (const d of decoders) expect(d.value).toBe(template.split('$field$').join(d.key.slice('EVAL-'.length)));
  });

  it('decodes a record-context field through the macro exactly', () => {
    const macro = conf('macros.conf').stanzas.find((x) => x.name === 'feedtrace_unescape(1)')!;
    const expression = macro.settings.find((x) => x.key === 'definition')!.value.split('$field$').join('note');
    const value = AWKWARD.url + AWKWARD.control + AWKWARD.percent;
    const raw = parse(renderAlert(output, { date, alert: 'FT_Statistics', context: [['note', value]] })!).get('note')!;
    expect(raw).not.toBe(value);
    const fields = new Map([['note', raw]]);
    expect(evaluate(parseEval(expression), fields)).toBe(value);
  });
});

describe('the Splunk model itself', () => {
  const t = (regex: string, extra: Array<[string, string]> = []): ConfStanza => ({ name: 't', line: 0, settings: [['REGEX', regex], ['FORMAT', '$1::$2'], ...extra].map(([key, value]) => ({ key: key!, value: value!, line: 0 })) });

  it('keeps the first value of a repeated key and drops empty values, as MV_ADD/KEEP_EMPTY_VALS defaults do', () => {
    const fields: Fields = new Map();
    applyReport('a=1 a=2 b= c=3', t('(\\w+)=(\\S*)'), fields);
    expect([...fields]).toEqual([['a', '1'], ['c', '3']]);
  });

  it('cleans keys as CLEAN_KEYS does', () => {
    expect(cleanKey('files/MD5')).toBe('files_MD5');
    expect(cleanKey('_9lives-x')).toBe('lives_x');
  });

  it('refuses PCRE-only syntax that JavaScript would read differently', () => {
    expect(() => pcreAsJs('\\Afoo')).toThrow(/PCRE-only/);
    expect(() => pcreAsJs('(?|a(b)|c(d))')).toThrow(/PCRE-only/);
    expect(() => pcreAsJs('a++')).toThrow(/PCRE-only/);
    expect(pcreAsJs('(?<!\\S)([^\\s="]+)=').flags).toBe('g');
  });

  it('reads \\s and \\S as PCRE does without Unicode properties: ASCII whitespace only', () => {
    expect(pcreAsJs('^\\s$').source).toBe('^[\\t\\n\\v\\f\\r ]$');
    expect(new RegExp(pcreAsJs('^\\s$').source).test('\u00a0')).toBe(false);
    expect(new RegExp(pcreAsJs('^[^\\s=]+$').source).test('a\u00a0b')).toBe(true);
    expect(new RegExp(pcreAsJs('^\\S+$').source).test('a\u2028b')).toBe(true);
    expect(() => pcreAsJs('[\\S]')).toThrow(/not modelled/);
  });

  it('refuses settings it does not model instead of guessing', () => {
    expect(() => applyReport('a=1', t('(\\w+)=(\\S*)', [['MV_ADD', 'true']]), new Map())).toThrow(/not modelled/);
    expect(() => searchTimeFields('x', { ...props, settings: [...props.settings, { key: 'EVAL-x', value: 'lower(url)', line: 0 }] }, transforms)).toThrow(/lower\(\) is not modelled/);
  });
});
