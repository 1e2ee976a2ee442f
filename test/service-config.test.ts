import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig, networkContains, parseHostPort, parseNetwork, parseServiceConfig, ServiceConfigError } from '../src/service/config.js';
import { DEFAULT_REGEXES, DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';

/** A minimal valid config with the given pieces swapped in, to test one element at a time. */
function config(parts: { input?: string; regexes?: string; output?: string; rest?: string; root?: string } = {}): string {
  const root = parts.root ?? 'Settings';
  return `<?xml version="1.0"?>
<${root}>
  <InputSettings>
    <ConnectionString>127.0.0.1:9999</ConnectionString>
${parts.input ?? ''}
    <RegExps>
${parts.regexes ?? '      <Source id="default"><RE_IP type="IP" extract="all">(\\d+\\.\\d+\\.\\d+\\.\\d+)</RE_IP></Source>'}
    </RegExps>
  </InputSettings>
  <OutputSettings>
${parts.output ?? `    <ConnectionString>127.0.0.1:9998</ConnectionString>
    <EventFormat>%Date% eventName=%Category% matchedIndicator=%MatchedIndicator%%RecordContext%</EventFormat>
    <RecordFieldContextFormat> %ParamName%=%ParamValue%</RecordFieldContextFormat>
    <ActionableFieldContextFormat> %ParamName%:%ParamValue%</ActionableFieldContextFormat>
    <FinishedEventFormat enabled="true">%Date% type=LookupFinished%RecordContext%</FinishedEventFormat>`}
  </OutputSettings>
${parts.rest ?? ''}
</${root}>
`;
}

/** The error a config raises; fails the test when it parses. */
function errorOf(xml: string, file = '/etc/feedtrace/service.xml'): ServiceConfigError {
  try {
    parseServiceConfig(xml, file);
  } catch (error) {
    if (error instanceof ServiceConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** 1-based line of the first line containing `needle`. */
function lineOf(xml: string, needle: string): number {
  const index = xml.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`"${needle}" is not in the config`);
  return index + 1;
}

describe('the shipped default config', () => {
  const defaults = loadServiceConfig();

  it('listens on 127.0.0.1:9999 and sends to 127.0.0.1:9998', () => {
    expect(defaults.input.listen).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(defaults.output.connection).toEqual({ host: '127.0.0.1', port: 9998 });
    expect(defaults.output.alertConnection).toBeUndefined();
  });

  it('uses exactly the formats of docs/event-formats.md', async () => {
    const { readFileSync } = await import('node:fs');
    const { repoRoot } = await import('./support/paths.js');
    const doc = readFileSync(path.join(repoRoot, 'docs', 'event-formats.md'), 'utf8');
    // The fenced template right under each heading.
    const fenced = (heading: string): string => {
      const after = doc.slice(doc.indexOf(heading));
      return /```\n(.*)\n```/.exec(after)![1]!;
    };
    expect(defaults.output.eventFormat).toBe(fenced('## Detection'));
    expect(defaults.output.finishedEventFormat.template).toBe(fenced('## Finished event'));
    expect(defaults.output.alertFormat).toBe(fenced('## Alerts'));
    expect(doc).toContain(`(\`${defaults.output.recordFieldContextFormat}\`, a leading space each)`);
  });

  it('has the documented defaults for limits, retries, spool and statistics', () => {
    expect(defaults.input.maxLineBytes).toBe(1024 * 1024);
    expect(defaults.notification).toEqual({ retriesCount: 3, retriesTimeoutMs: 10_000 });
    expect(defaults.statisticsIntervalMs).toBe(60_000);
    expect(defaults.spool.dir).toBe(path.resolve('spool'));
    expect(defaults.spool.memoryQueueEvents).toBeGreaterThan(0);
    expect(defaults.input.allowedClients).toEqual([]);
    expect(defaults.feeds).toEqual([]);
    expect(defaults.ignored).toEqual([]);
  });

  it('has every default regex, with the type and extract mode it was declared with', () => {
    const [source] = defaults.input.sources;
    expect(defaults.input.sources).toHaveLength(1);
    expect(source!.id).toBe('default');
    expect(source!.regexes.map((r) => [r.name, r.type, r.extract])).toEqual(DEFAULT_REGEXES.map(([name, type, extract]) => [name, type, extract]));
    for (const name of ['RE_URL', 'RE_IP', 'RE_DOMAIN', 'RE_MD5', 'RE_SHA1', 'RE_SHA256', 'SRC_IP', 'REQ']) {
      expect(source!.regexes.some((r) => r.name === name)).toBe(true);
    }
    expect(source!.regexes.find((r) => r.name === 'REQ')!.queryType).toBeNull();
    expect(source!.regexes.find((r) => r.name === 'RE_URL')!.queryType).toBe('url');
  });

  it('is the same as the XML text it ships (loadServiceConfig() parses DEFAULT_SERVICE_CONFIG_XML)', () => {
    const parsed = parseServiceConfig(DEFAULT_SERVICE_CONFIG_XML, '<default>');
    expect(parsed.output).toEqual(defaults.output);
    expect(parsed.input.sources[0]!.regexes.map((r) => r.regex.source)).toEqual(defaults.input.sources[0]!.regexes.map((r) => r.regex.source));
  });
});

describe('CyberTrace configs', () => {
  it('accepts 5.x formats under OutputSettings > EventSettings and the enable spelling', () => {
    const xml = config({
      output: `    <ConnectionString>[::1]:9998</ConnectionString>
    <RecordFieldContextFormat> %ParamName%=%ParamValue%</RecordFieldContextFormat>
    <EventSettings>
      <EventFormat>%REQ% category=%Category% %RecordContext%</EventFormat>
      <ActionableFieldContextFormat> %ParamName%:%ParamValue%</ActionableFieldContextFormat>
      <FinishedEventFormat enable="true">%Date% %RecordContext%</FinishedEventFormat>
    </EventSettings>
    <AlertFormat>%Date% alert=%Alert%%RecordContext%</AlertFormat>
    <AlertConnectionString enabled="true">10.1.2.3:9997</AlertConnectionString>`,
    });
    const parsed = parseServiceConfig(xml, 'x.xml');
    expect(parsed.output.connection).toEqual({ host: '::1', port: 9998 });
    expect(parsed.output.eventFormat).toBe('%REQ% category=%Category% %RecordContext%');
    expect(parsed.output.finishedEventFormat).toEqual({ template: '%Date% %RecordContext%', enabled: true });
    expect(parsed.output.alertConnection).toEqual({ host: '10.1.2.3', port: 9997 });
  });

  it('has no alerts without AlertFormat and sends alerts to the output when AlertConnectionString is disabled', () => {
    const xml = config().replace('</OutputSettings>', '<AlertConnectionString enabled="false">10.1.2.3:9997</AlertConnectionString></OutputSettings>');
    const parsed = parseServiceConfig(xml, 'x.xml');
    expect(parsed.output.alertFormat).toBeUndefined();
    expect(parsed.output.alertConnection).toBeUndefined();
  });

  it('reads retries with either spelling of EventSendingRetriesTimeout (Latin or Cyrillic "е")', () => {
    const cyrillic = 'EventS\u0435ndingRetriesTimeout';
    const xml = config({
      rest: `<NotificationSettings><EventSettings><EventSendingRetriesCount>0</EventSendingRetriesCount><${cyrillic}>60</${cyrillic}></EventSettings></NotificationSettings>`,
    });
    expect(parseServiceConfig(xml, 'x.xml').notification).toEqual({ retriesCount: 0, retriesTimeoutMs: 60_000 });
  });

  it('maps ScanSettings > ScannersCount to the connection limit and lists what has no effect', () => {
    const xml = config({ rest: '<EULA>accepted</EULA><ScanSettings><ScannersCount>9</ScannersCount><ScanningThreadsPerScanner>8</ScanningThreadsPerScanner></ScanSettings>' });
    const parsed = parseServiceConfig(xml, 'x.xml');
    expect(parsed.input.maxConnections).toBe(9);
    expect(parsed.ignored.map((entry) => entry.replace(/ \(line \d+\)$/, ''))).toEqual(['Settings/EULA', 'Settings/ScanSettings/ScanningThreadsPerScanner']);
  });

  it('reads regexes written with XML entities, CDATA, Boost escapes and NormalizingRules', () => {
    const xml = config({
      regexes: `<Source id="default">
        <NormalizingRules>
          <Replace input="^&lt;(\\d+)&gt;" output="NEW_EVENT\\:\\1\\s"/>
          <Ignore input="Device0002"/>
        </NormalizingRules>
        <RE_URL type="url" extract="all">url\\=(.*?)(?:\\s|$)</RE_URL>
        <RE_MD5 type="MD5"><![CDATA[(?<![[:xdigit:]])([[:xdigit:]]{32})(?![[:xdigit:]])]]></RE_MD5>
      </Source>`,
    });
    const [source] = parseServiceConfig(xml, 'x.xml').input.sources;
    expect(source!.normalizing.map((r) => r.kind)).toEqual(['replace', 'ignore']);
    const replace = source!.normalizing[0]!;
    expect(replace.kind === 'replace' && '<13>x'.replace(replace.input, replace.replacement)).toBe('NEW_EVENT:13 x');
    const [url, md5] = source!.regexes;
    expect(url!.type).toBe('URL');
    expect(url!.extract).toBe('all');
    expect(url!.regex.exec('a url=http://x/y b')![1]).toBe('http://x/y');
    expect(md5!.extract).toBe('first'); // CyberTrace's default when the attribute is absent
    expect(md5!.regex.exec('h=776735a8ca96db15b422879da599f474;')![1]).toBe('776735a8ca96db15b422879da599f474');
  });

  it('accepts CyberTrace Web\'s lookup sources (no ip) but never applies them to events', () => {
    const xml = config({
      regexes: `<Source id="default"><RE_IP type="IP">(\\S+)</RE_IP></Source>
      <Source id="http_single_lookup"><RE_IP type="IP" extract="all">(.*)</RE_IP></Source>
      <Source id="http_file_lookup"><RE_MD5 type="MD5" extract="all">([[:xdigit:]]{32})</RE_MD5></Source>`,
    });
    const parsed = parseServiceConfig(xml, 'x.xml');
    expect(parsed.input.sources.map((s) => s.id)).toEqual(['default']);
    expect(parsed.ignored.map((entry) => entry.replace(/ \(line \d+\).*$/, ''))).toEqual([
      'Settings/InputSettings/RegExps/Source[id=http_single_lookup]',
      'Settings/InputSettings/RegExps/Source[id=http_file_lookup]',
    ]);
    // Still checked like any source.
    expect(() => parseServiceConfig(xml.replace('(.*)', '(?>x)'), 'x.xml')).toThrow(/Source\[id=http_single_lookup\]\/RE_IP>: .*atomic/);
  });

  it('orders specific sources first and the default last, and parses ip selectors', () => {
    const xml = config({
      regexes: `<Source id="default"><RE_IP type="IP">(\\S+)</RE_IP></Source>
      <Source id="fw-1" ip="10.0.0.0/8"><RE_IP type="IP">src=(\\S+)</RE_IP></Source>
      <Source id="proxy.example" ip="proxy\\d+\\.example\\.org"><RE_URL type="URL">u=(\\S+)</RE_URL></Source>`,
    });
    const sources = parseServiceConfig(xml, 'x.xml').input.sources;
    expect(sources.map((s) => s.id)).toEqual(['fw-1', 'proxy.example', 'default']);
    expect(sources[0]!.selector.kind).toBe('network');
    const name = sources[1]!.selector;
    expect(name.kind === 'name' && name.pattern.test('PROXY12.example.org')).toBe(true);
    expect(name.kind === 'name' && name.pattern.test('xproxy12.example.org')).toBe(false);
  });

  it('reads feeds with roles, mappings and paths relative to the config file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-config-'));
    const file = path.join(dir, 'service.xml');
    writeFileSync(
      file,
      config({
        rest: `<Feeds outdatedAlertPeriod="24">
    <Feed path="feeds/ipsum.txt" format="ipsum"/>
    <Feed path="/data/iocs.csv" format="csv" name="local" role="block" domainSuffix="true" outdatedAlertPeriod="0">
      <Field name="value" type="URL" category="KL_InternalTI_URL"/>
    </Feed>
    <WhiteList path="allow.txt"/>
    <BlackList path="block.txt" format="maltrail"/>
  </Feeds>`,
      }),
    );
    const feeds = loadServiceConfig(file).feeds;
    expect(feeds).toEqual([
      { path: path.join(dir, 'feeds/ipsum.txt'), format: 'ipsum', role: 'feed', outdatedAlertHours: 24 },
      { path: '/data/iocs.csv', format: 'csv', name: 'local', role: 'block', domainSuffix: true, outdatedAlertHours: 0, mapping: [{ field: 'value', type: 'url', category: 'KL_InternalTI_URL' }] },
      { path: path.join(dir, 'allow.txt'), role: 'allow', outdatedAlertHours: 24 },
      { path: path.join(dir, 'block.txt'), format: 'maltrail', role: 'block', outdatedAlertHours: 24 },
    ]);
  });

  it('reads CyberTrace 4.x feeds: filename in ServiceSettings > Bases, enabled, outdated periods, update_frequency', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-config-'));
    const file = path.join(dir, 'kl_feed_service.conf');
    writeFileSync(
      file,
      config({
        rest: `<ServiceSettings><Bases>bases</Bases><OutdatedBasesAlertPeriod>120</OutdatedBasesAlertPeriod><LogLevel>info</LogLevel></ServiceSettings>
  <Feeds per_scan_detect_limit="10000" update_frequency="30">
    <Feed filename="Demo_Botnet_CnC_URL_Data_Feed.json" enabled="true" confidence="100"/>
    <Feed filename="Demo_IP_Reputation_Data_Feed.json" enabled="false" confidence="100"/>
    <Feed filename="Demo_Malicious_Hash_Data_Feed.json" enabled="true" confidence="50" outdated_alert_period="0"/>
  </Feeds>`,
      }),
    );
    const parsed = loadServiceConfig(file);
    expect(parsed.feeds).toEqual([
      { path: path.join(dir, 'bases', 'Demo_Botnet_CnC_URL_Data_Feed.json'), role: 'feed', outdatedAlertHours: 120 },
      { path: path.join(dir, 'bases', 'Demo_Malicious_Hash_Data_Feed.json'), role: 'feed', outdatedAlertHours: 0 },
    ]);
    expect(parsed.feedUpdateIntervalMs).toBe(30 * 60_000);
    expect(parsed.ignored.map((entry) => entry.replace(/ \(line \d+\)/, ''))).toEqual([
      'Settings/ServiceSettings/LogLevel',
      'Settings/Feeds: attribute per_scan_detect_limit',
      'Settings/Feeds/Feed: attribute confidence',
      'Settings/Feeds/Feed: attribute confidence',
      'Settings/Feeds/Feed: Demo_IP_Reputation_Data_Feed.json (enabled="false")',
      'Settings/Feeds/Feed: attribute confidence',
    ]);
  });

  it('reads the Feedtrace input limits and client allow-list', () => {
    const xml = config({ input: '<MaxEventSize>65536</MaxEventSize><MaxConnections>3</MaxConnections><IdleTimeout>30</IdleTimeout><AllowedClients>127.0.0.1, 10.0.0.0/8 ::1</AllowedClients><EventDelimiter><![CDATA[<\\d+>]]></EventDelimiter>' });
    const input = parseServiceConfig(xml, 'x.xml').input;
    expect([input.maxLineBytes, input.maxConnections, input.idleTimeoutMs]).toEqual([65536, 3, 30_000]);
    expect(input.allowedClients).toHaveLength(3);
    expect(input.eventDelimiter!.source).toBe('<\\d+>');
  });
});

describe('invalid configs name the element, its line and the problem', () => {
  const file = '/etc/feedtrace/service.xml';
  const cases: Array<[title: string, xml: string, element: string, needle: string | null, problem: RegExp]> = [
    ['a misspelled element', config({ input: '    <EventDelimitr>;</EventDelimitr>' }), 'Settings/InputSettings/EventDelimitr', '<EventDelimitr>', /unknown element <EventDelimitr> \(did you mean <EventDelimiter>\?\)/],
    ['an unknown top-level element', config({ rest: '<Outputsettings/>' }), 'Settings/Outputsettings', '<Outputsettings/>', /did you mean <OutputSettings>/],
    ['a missing default source', config({ regexes: '<Source id="fw" ip="10.0.0.1"><X type="IP">(x)</X></Source>' }), 'Settings/InputSettings/RegExps', '<RegExps>', /missing <Source id="default">/],
    ['a bad regex type', config({ regexes: '<Source id="default"><RE_X type="URI">(x)</RE_X></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/RE_X', '<RE_X', /type "URI" is not one of URL, MD5/],
    ['a bad extract mode', config({ regexes: '<Source id="default"><RE_X type="URL" extract="every">(x)</RE_X></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/RE_X', '<RE_X', /extract "every" is not "all" or "first"/],
    ['a misspelled regex attribute', config({ regexes: '<Source id="default"><RE_X type="URL" extarct="all">(x)</RE_X></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/RE_X', '<RE_X', /unknown attribute "extarct" \(did you mean "extract"\?\)/],
    ['an atomic group', config({ regexes: '<Source id="default"><RE_URL type="URL">(?&gt;a+)b</RE_URL></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/RE_URL', '<RE_URL', /regex \/\(\?>a\+\)b\/: atomic groups are not supported.*\(\?=\(X\)\)\\N/],
    ['a regex that does not compile', config({ regexes: '<Source id="default"><RE_URL type="URL">(a</RE_URL></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/RE_URL', '<RE_URL', /does not compile as ECMAScript/],
    ['an empty regex', config({ regexes: '<Source id="default"><RE_URL type="URL">  </RE_URL></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/RE_URL', '<RE_URL', /empty regex/],
    ['two regexes with one name', config({ regexes: '<Source id="default"><A type="IP">(x)</A>\n<A type="IP">(y)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/A', '<A type="IP">(y)', /a second regex named A/],
    ['a source without ip', config({ regexes: '<Source id="default"><A>(x)</A></Source>\n<Source id="fw"><A>(x)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=fw]', '<Source id="fw">', /needs an "ip" attribute/],
    ['a bad source id', config({ regexes: '<Source id="default"><A>(x)</A></Source>\n<Source id="fw 1" ip="1.2.3.4"><A>(x)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=fw 1]', '<Source id="fw 1"', /Latin letters, digits/],
    ['a replacement referring to a missing group', config({ regexes: '<Source id="default"><NormalizingRules><Replace input="a(b)" output="\\2"/></NormalizingRules><A>(x)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/NormalizingRules/Replace', '<Replace', /refers to group 2 but the input regex has 1 group/],
    ['a misspelled NormalizingRules', config({ regexes: '<Source id="default">\n<NormalizingRule><Ignore input="x"/></NormalizingRule><A>(x)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/NormalizingRule', '<NormalizingRule>', /regex element holds only its pattern \(did you mean <NormalizingRules>\?\)/],
    ['a rule outside NormalizingRules', config({ regexes: '<Source id="default">\n<Ignore input="x"/><A>(x)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/Ignore', '<Ignore', /<Ignore> belongs inside <NormalizingRules>/],
    ['a regex named like an output pattern', config({ regexes: '<Source id="default">\n<Category type="CONTEXT">cat=(\\S+)</Category></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/Category', '<Category', /Category is an output pattern \(%Category%\)/],
    ['a Replace without output', config({ regexes: '<Source id="default"><NormalizingRules><Replace input="a"/></NormalizingRules><A>(x)</A></Source>' }), 'Settings/InputSettings/RegExps/Source[id=default]/NormalizingRules/Replace', '<Replace', /missing attribute "output"/],
    ['a bad listen address', config().replace('127.0.0.1:9999', 'localhost:99999'), 'Settings/InputSettings/ConnectionString', '9999', /port 99999 is out of range/],
    ['a named pipe', config().replace('127.0.0.1:9998', '\\\\.\\pipe\\kl'), 'Settings/OutputSettings/ConnectionString', 'pipe', /named pipes are not supported/],
    ['a host name as output', config().replace('127.0.0.1:9998', 'splunk.example:9998'), 'Settings/OutputSettings/ConnectionString', 'splunk.example', /"splunk.example" is not an IP address/],
    ['a missing EventFormat', config().replace(/<EventFormat>.*<\/EventFormat>/, ''), 'Settings/OutputSettings', '<OutputSettings>', /missing required element <EventFormat>/],
    ['a multi-line format', config().replace('%Date% eventName', '%Date%\n  eventName'), 'Settings/OutputSettings/EventFormat', '<EventFormat>', /single line/],
    ['a field format without its value', config().replace(' %ParamName%:%ParamValue%', ' %ParamName%'), 'Settings/OutputSettings/ActionableFieldContextFormat', '<ActionableFieldContextFormat>', /must contain %ParamValue%/],
    ['a finished event that looks like a detection', config().replace('type=LookupFinished', 'eventName=LookupFinished'), 'Settings/OutputSettings/FinishedEventFormat', '<FinishedEventFormat', /must not contain "matchedIndicator" or "eventName"/],
    ['a bad finished-event flag', config().replace('enabled="true"', 'enabled="yes"'), 'Settings/OutputSettings/FinishedEventFormat', '<FinishedEventFormat', /enabled="yes" must be "true" or "false"/],
    ['too many retries', config({ rest: '<NotificationSettings><EventSettings><EventSendingRetriesCount>11</EventSendingRetriesCount></EventSettings></NotificationSettings>' }), 'Settings/NotificationSettings/EventSettings/EventSendingRetriesCount', '<EventSendingRetriesCount>', /11 is out of range \(0–10\)/],
    ['a retry timeout that is not a number', config({ rest: '<NotificationSettings><EventSettings><EventSendingRetriesTimeout>10s</EventSendingRetriesTimeout></EventSettings></NotificationSettings>' }), 'Settings/NotificationSettings/EventSettings/EventSendingRetriesTimeout', '<EventSendingRetriesTimeout>', /"10s" is not a whole number/],
    ['a feed with both path and filename', config({ rest: '<Feeds>\n<Feed path="a.txt" filename="b.json" confidence="100"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed path', /either "path" or CyberTrace's "filename"/],
    ['a feed without a file', config({ rest: '<Feeds>\n<Feed enabled="true" confidence="100"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed enabled', /missing attribute "path" \(or CyberTrace's "filename"\)/],
    ['a bad feed enabled flag', config({ rest: '<Feeds>\n<Feed filename="a.json" enabled="yes"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed filename', /enabled="yes" must be "true" or "false"/],
    ['a bad update_frequency', config({ rest: '<Feeds update_frequency="half-hourly">\n<Feed filename="a.json"/></Feeds>' }), 'Settings/Feeds', '<Feeds', /update_frequency="half-hourly" is not a whole number of minutes/],
    ['a bad feed role', config({ rest: '<Feeds>\n<Feed path="a.txt" role="deny"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed path', /role "deny" is not feed, allow or block/],
    ['a CSV feed without a mapping', config({ rest: '<Feeds>\n<Feed path="a.csv" format="csv"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed path', /needs <Field name=/],
    ['an unknown feed format', config({ rest: '<Feeds>\n<Feed path="a.txt" format="yaml"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed path', /format "yaml" is not one of/],
    ['two feeds with one name', config({ rest: '<Feeds><Feed path="a/x.txt"/>\n<Feed path="b/x.txt"/></Feeds>' }), 'Settings/Feeds/Feed', '<Feed path="b', /a second feed named "x"/],
    ['a bad client network', config({ input: '<AllowedClients>10.0.0.0/33</AllowedClients>' }), 'Settings/InputSettings/AllowedClients', '<AllowedClients>', /"10.0.0.0\/33" is not an IP address or CIDR range/],
    ['a too small event size', config({ input: '<MaxEventSize>10</MaxEventSize>' }), 'Settings/InputSettings/MaxEventSize', '<MaxEventSize>', /10 is out of range/],
    ['CyberTrace 5.x tenants', config({ rest: '<Domains/>' }), 'Settings', '<Settings>', /<Domains> \(tenants\) are not supported/],
    ['text where elements belong', config({ input: '<MaxConnections><Value>3</Value></MaxConnections>' }), 'Settings/InputSettings/MaxConnections/Value', '<Value>', /<MaxConnections> holds text, not elements/],
  ];

  it.each(cases)('%s', (_title, xml, element, needle, problem) => {
    const error = errorOf(xml, file);
    expect(error.element).toBe(element);
    expect(error.message).toMatch(problem);
    expect(error.message.startsWith(`${file}:${needle === null ? '' : lineOf(xml, needle)}: <${element}>: `)).toBe(true);
  });

  it('reports XML syntax errors with their line', () => {
    const xml = config().replace('</ConnectionString>', '</ConnectionStrin>');
    const error = errorOf(xml, file);
    expect(error.line).toBe(lineOf(xml, '</ConnectionStrin>'));
    expect(error.message).toMatch(/not well-formed XML/);
  });

  it('reports a missing or unreadable file', () => {
    expect(() => loadServiceConfig('/nonexistent/feedtrace.xml')).toThrow(/\/nonexistent\/feedtrace.xml: cannot read the config/);
  });
});

describe('addresses', () => {
  it('parses host:port forms', () => {
    expect(parseHostPort('0.0.0.0:9999')).toEqual({ host: '0.0.0.0', port: 9999 });
    expect(parseHostPort('[2001:db8::1]:514')).toEqual({ host: '2001:db8::1', port: 514 });
    expect(parseHostPort('2001:db8::1:514')).toEqual({ host: '2001:db8::1', port: 514 });
    expect(parseHostPort('1.2.3.4')).toMatch(/not <ip>:<port>/);
    expect(parseHostPort('1.2.3.4:0')).toMatch(/out of range/);
  });

  it('tests membership of IPv4, IPv6 and IPv4-mapped addresses in networks', () => {
    const v4 = parseNetwork('192.168.1.129/25')!;
    expect(networkContains(v4, '192.168.1.128')).toBe(true);
    expect(networkContains(v4, '192.168.1.255')).toBe(true);
    expect(networkContains(v4, '192.168.1.127')).toBe(false);
    expect(networkContains(v4, '::ffff:192.168.1.200')).toBe(true);
    const v6 = parseNetwork('fe80::/10')!;
    expect(networkContains(v6, 'fe80::1cf4:44d2:904a:14f7')).toBe(true);
    expect(networkContains(v6, 'ff02::1:3')).toBe(false);
    expect(networkContains(v6, '10.0.0.1')).toBe(false);
    const exact = parseNetwork('::ffff:10.0.0.1')!;
    expect(networkContains(exact, '::ffff:10.0.0.1')).toBe(false); // an IPv4-mapped connection address compares as IPv4
    expect(networkContains(parseNetwork('10.0.0.1')!, '::ffff:10.0.0.1')).toBe(true);
    expect(parseNetwork('1.2.3.4/x')).toBeUndefined();
    expect(parseNetwork('example.org')).toBeUndefined();
  });
});

describe('hostile config files', () => {
  it('a damaged default config either parses or fails with a ServiceConfigError (property test)', () => {
    const pieces = ['<', '>', '/', '"', '=', '&', '&amp;', ']]>', '<![CDATA[', '(?>', '\\', '%', 'x', ' ', '\n', '<Source id="default">', '</Source>', '<Feed path="a"/>'];
    fc.assert(
      fc.property(fc.nat(DEFAULT_SERVICE_CONFIG_XML.length), fc.nat(40), fc.constantFrom(...pieces), (at, cut, insert) => {
        const xml = DEFAULT_SERVICE_CONFIG_XML.slice(0, at) + insert + DEFAULT_SERVICE_CONFIG_XML.slice(at + cut);
        try {
          parseServiceConfig(xml, 'damaged.xml');
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceConfigError);
          expect((error as ServiceConfigError).message.startsWith('damaged.xml')).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
