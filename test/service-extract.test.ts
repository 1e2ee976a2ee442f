import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { loadServiceConfig, parseServiceConfig } from '../src/service/config.js';
import { EventExtractor, type EventExtraction } from '../src/service/extract.js';
import { DEFAULT_PATTERN, LinePattern } from '../src/lookup/pattern.js';
import { prepareValue, type InputField } from '../src/lookup/values.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { dataset, repoRoot } from './support/paths.js';

const defaults = loadServiceConfig();
const extractor = new EventExtractor(defaults.input.sources);

function extract(line: string, sourceIp = '127.0.0.1'): EventExtraction {
  const result = extractor.extract(line, sourceIp);
  if (!result) throw new Error(`event dropped: ${line}`);
  return result;
}

const linesOf = (...parts: string[]): string[] => readFileSync(dataset(...parts), 'utf8').split('\n').filter((line) => line.trim() !== '');
const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();
const valuesOf = (result: EventExtraction, name: string): string[] => sorted(result.values.get(name) ?? []);

/** Every string leaf of a parsed JSON value, with its key. */
function stringLeaves(value: unknown, key = ''): Array<[key: string, value: string]> {
  if (typeof value === 'string') return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((item) => stringLeaves(item, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, k));
  return [];
}

/** URLs in free text the way a reader sees them: whitespace-separated words from the scheme on, without trailing punctuation. */
const urlsInText = (text: string): string[] =>
  text.split(/\s+/).flatMap((word) => {
    const start = word.search(/https?:\/\//i);
    return start < 0 ? [] : [word.slice(start).replace(/[).,]+$/, '')];
  });

/** Hex words of a hash's length: words split at anything but letters, digits, "_" and "-". */
const hexWords = (text: string, length: number): string[] =>
  text.split(/[^0-9A-Za-z_-]+/).filter((word) => word.length === length && /^[0-9a-f]+$/i.test(word));

/**
 * Addresses in a field: words (runs of letters, digits, "_", "." and ":") that are an IP address, or an IPv4 address
 * with a port (looked up as ip:port). Left out: the unspecified address "::" (in text mostly a separator) and an
 * IPv4 word right after "/" (the host of a URL, looked up through the URL).
 */
const addressesIn = (text: string): string[] => {
  const words: string[] = [];
  let start = 0;
  for (const word of text.split(/[^\w.:]/)) {
    const after = text[start - 1];
    start += word.length + 1;
    if (isIP(word) === 6 && word !== '::') words.push(word);
    const v4 = /^([\d.]+)(?::\d{1,5})?$/.exec(word);
    if (v4 && isIP(v4[1]!) === 4 && after !== '/') words.push(word);
  }
  return words;
};

const isDomainLike = (value: string): boolean => value.includes('.') && isIP(value) === 0 && /^[\p{L}\p{N}_.-]+$/u.test(value);

/**
 * Differences between extracted and expected values over a whole log, reported at once with their line numbers
 * (one jest assertion per line would dominate the run time).
 */
class Differences {
  readonly found: string[] = [];
  same(where: string, what: string, actual: unknown, expected: unknown): void {
    const got = JSON.stringify(actual);
    const want = JSON.stringify(expected);
    if (got !== want) this.found.push(`${where} ${what}: got ${got}, expected ${want}`);
  }
  contains(where: string, what: string, list: readonly string[] | undefined, value: string): void {
    if (!(list ?? []).includes(value)) this.found.push(`${where} ${what}: ${JSON.stringify(list ?? [])} lacks ${JSON.stringify(value)}`);
  }
}

describe('the default regexes on real logs (expected values read from the parsed record)', () => {
  it('Suricata EVE JSON: every IP-valued field, host names, src_ip', () => {
    const lines = linesOf('slips-honeypot-suricata-2021-06', 'eve.json');
    expect(lines.length).toBe(5000);
    const diff = new Differences();
    let withHostname = 0;
    lines.forEach((line, i) => {
      const at = `eve.json:${i + 1}`;
      const record = JSON.parse(line) as { src_ip: string };
      const leaves = stringLeaves(record);
      const result = extract(line);
      // IP fields (src_ip, dest_ip, http.hostname when it is an address, dns answers ...), and nothing else.
      diff.same(at, 'RE_IP', valuesOf(result, 'RE_IP'), sorted(leaves.flatMap(([, v]) => addressesIn(v))));
      const hosts = leaves.filter(([k, v]) => ['hostname', 'host', 'rrname', 'sni'].includes(k) && isDomainLike(v)).map(([, v]) => v);
      diff.same(at, 'RE_DOMAIN', valuesOf(result, 'RE_DOMAIN'), sorted(hosts));
      if (leaves.some(([k]) => k === 'hostname')) withHostname++;
      diff.same(at, 'SRC_IP', result.values.get('SRC_IP'), [record.src_ip]);
      // Hex strings of hash length (here: ja3 fingerprints) are hashes to the universal regexes.
      for (const [name, length] of [['RE_MD5', 32], ['RE_SHA1', 40], ['RE_SHA256', 64]] as const) {
        diff.same(at, name, valuesOf(result, name), sorted(leaves.flatMap(([, v]) => hexWords(v, length))));
      }
      // http(s) URLs in any field, and whatever a "url" field holds unless it is a bare path.
      const keyedUrls = leaves.filter(([k, v]) => k === 'url' && !v.startsWith('/') && !/\s/.test(v)).map(([, v]) => v);
      diff.same(at, 'RE_URL', valuesOf(result, 'RE_URL'), sorted([...leaves.flatMap(([, v]) => urlsInText(v)), ...keyedUrls]));
      diff.same(at, 'sourceId', result.sourceId, 'default');
    });
    expect(diff.found).toEqual([]);
    expect(withHostname).toBeGreaterThan(50); // the http events were really exercised
  });

  it('Zeek JSON conn/http/dns/files logs: addresses, hosts, queries and file hashes', () => {
    const diff = new Differences();
    let hashed = 0;
    for (const log of ['conn.log', 'http.log', 'dns.log', 'files.log']) {
      linesOf('slips-zeek-json', log).forEach((line, i) => {
        const at = `${log}:${i + 1}`;
        const record = JSON.parse(line) as Record<string, unknown>;
        const leaves = stringLeaves(record);
        const result = extract(line);
        diff.same(at, 'RE_IP', valuesOf(result, 'RE_IP'), sorted(leaves.flatMap(([, v]) => addressesIn(v))));
        if (typeof record['id.orig_h'] === 'string' && record['id.orig_h'] !== '::') diff.same(at, 'SRC_IP', result.values.get('SRC_IP'), [record['id.orig_h']]);
        const hosts = leaves.filter(([k, v]) => ['host', 'query', 'server_name'].includes(k) && isDomainLike(v)).map(([, v]) => v);
        diff.same(at, 'RE_DOMAIN', valuesOf(result, 'RE_DOMAIN'), sorted(hosts));
        diff.same(at, 'RE_MD5', valuesOf(result, 'RE_MD5'), sorted(leaves.flatMap(([, v]) => hexWords(v, 32))));
        diff.same(at, 'RE_SHA1', valuesOf(result, 'RE_SHA1'), sorted(leaves.flatMap(([, v]) => hexWords(v, 40))));
        if (typeof record.sha1 === 'string') diff.contains(at, 'RE_SHA1', result.values.get('RE_SHA1'), record.sha1);
        if (typeof record.md5 === 'string') {
          hashed++;
          diff.contains(at, 'RE_MD5', result.values.get('RE_MD5'), record.md5);
          diff.same(at, 'md5 query', result.queries.filter((q) => q.value === record.md5), [{ regexName: 'RE_MD5', type: 'md5', value: record.md5 }]);
        }
      });
    }
    expect(diff.found).toEqual([]);
    expect(hashed).toBeGreaterThan(100);
  });

  it('Sysmon JSON: the hashes of Hashes= (never IMPHASH), DestinationIp, QueryName, URLs on the command line', () => {
    const file = 'cmd_bitsadmin_download_psh_script_2020-10-2302365189.json';
    const diff = new Differences();
    let hashed = 0;
    let queried = 0;
    linesOf('otrf-sysmon-bitsadmin', file).forEach((line, i) => {
      const at = `${file}:${i + 1}`;
      const record = JSON.parse(line) as Record<string, string>;
      const result = extract(line);
      if (typeof record.Hashes === 'string') {
        hashed++;
        const hashes = Object.fromEntries(record.Hashes.split(',').map((pair) => pair.split('=') as [string, string]));
        diff.same(at, 'RE_MD5', valuesOf(result, 'RE_MD5'), hashes.MD5 ? [hashes.MD5] : []);
        diff.same(at, 'RE_SHA1', valuesOf(result, 'RE_SHA1'), hashes.SHA1 ? [hashes.SHA1] : []);
        diff.same(at, 'RE_SHA256', valuesOf(result, 'RE_SHA256'), hashes.SHA256 ? [hashes.SHA256] : []);
        if (hashes.IMPHASH) diff.same(at, 'IMPHASH', (result.values.get('RE_MD5') ?? []).includes(hashes.IMPHASH), false);
      }
      if (typeof record.DestinationIp === 'string') diff.contains(at, 'RE_IP', result.values.get('RE_IP'), record.DestinationIp);
      if (typeof record.SourceIp === 'string') diff.same(at, 'SRC_IP', result.values.get('SRC_IP'), [record.SourceIp]);
      if (typeof record.QueryName === 'string') {
        queried++;
        diff.same(at, 'RE_DOMAIN', valuesOf(result, 'RE_DOMAIN'), isDomainLike(record.QueryName) ? [record.QueryName] : []);
      }
      const commandUrls = (record.CommandLine ?? '').split(/\s+/).filter((word) => /^https?:\/\//.test(word));
      for (const url of commandUrls) diff.contains(at, 'RE_URL', result.values.get('RE_URL'), url);
    });
    expect(diff.found).toEqual([]);
    expect(hashed).toBeGreaterThan(100);
    expect(queried).toBeGreaterThan(0);
  });

  it('Apache combined log: client address (SRC_IP and RE_IP) and referrer URL', () => {
    const combined = /^(\S+) \S+ \S+ \[[^\]]+\] "(?:[^"\\]|\\.)*" \d{3} \S+ "((?:[^"\\]|\\.)*)" "(?:[^"\\]|\\.)*"$/;
    const diff = new Differences();
    let referrers = 0;
    linesOf('elastic-apache-access', 'apache_logs').forEach((line, i) => {
      const at = `apache_logs:${i + 1}`;
      const fields = combined.exec(line);
      const result = extract(line);
      if (!fields) {
        // One line of the file is cut off inside the user agent: only its client address is certain.
        diff.same(at, 'SRC_IP', result.values.get('SRC_IP'), [line.split(' ')[0]]);
        return;
      }
      const [, client, referrer] = fields;
      diff.same(at, 'SRC_IP', result.values.get('SRC_IP'), [client]);
      diff.same(at, 'first RE_IP', result.values.get('RE_IP')?.[0], client);
      if (/^https?:\/\/\S+$/.test(referrer!) && !/["'<>\\]/.test(referrer!)) {
        referrers++;
        diff.contains(at, 'RE_URL', result.values.get('RE_URL'), urlsInText(referrer!)[0]!);
      }
    });
    expect(diff.found).toEqual([]);
    expect(referrers).toBeGreaterThan(1000);
  });

  it('maltrail sensor events: source, destination and address trails', () => {
    const diff = new Differences();
    let trails = 0;
    linesOf('maltrail-demo-events', 'maltrail_demo_events.log').forEach((line, i) => {
      const at = `maltrail_demo_events.log:${i + 1}`;
      // "ts" sensor src sport dst dport proto TYPE trail "info" reference
      const [, , src, , dst, , , type, trailField] = line.replace(/^"[^"]*"/, 'ts').split(' ');
      const trail = trailField!.replace(/^"/, ''); // an IP trail may be quoted with a note: "1.2.3.4 (name)"
      const result = extract(line);
      const ips = result.values.get('RE_IP');
      // A field lists several addresses, comma-separated, when the sensor merged events.
      for (const address of [...src!.split(','), ...dst!.split(',')]) diff.contains(at, 'RE_IP', ips, address);
      if (type === 'IP' || type === 'IPORT') {
        trails++;
        diff.same(at, 'trail query', result.queries.filter((q) => q.value === trail), [{ regexName: 'RE_IP', type: 'ip', value: trail }]);
      }
    });
    expect(diff.found).toEqual([]);
    expect(trails).toBe(112 + 101);
  });
});

describe('the lookup script line, key=value, CEF and LEEF (lines built here from real feed values)', () => {
  const ipsum = linesOf('ipsum', 'ipsum.txt').filter((l) => !l.startsWith('#'))[0]!.split('\t')[0]!;
  const tweetfeed = linesOf('tweetfeed', 'month.csv').map((l) => l.split(','));
  const feedValue = (type: string): string => tweetfeed.find((row) => row[2] === type)![3]!;
  const md5 = feedValue('md5');
  const sha256 = feedValue('sha256');
  const url = feedValue('url');
  const domain = feedValue('domain');

  it('the lookup pattern with empty values asks exactly for the given values', () => {
    const result = extract(`ip=${ipsum} md5=${md5} sha1= sha256=${sha256} url=${url}`);
    expect(result.queries).toEqual([
      { regexName: 'RE_URL', type: 'url', value: url },
      { regexName: 'RE_IP', type: 'ip', value: ipsum },
      { regexName: 'RE_MD5', type: 'md5', value: md5 },
      { regexName: 'RE_SHA256', type: 'sha256', value: sha256 },
    ]);
    expect(extract('ip= md5= sha1= sha256= url=').queries).toEqual([]);
    expect(extract('ip= md5= sha1= sha256= url= ').values.size).toBe(0);
  });

  it('single-value lookups: <type>=<value> with a trailing space, a bare value, and a domain', () => {
    expect(extract(`url=${url} `).queries).toEqual([{ regexName: 'RE_URL', type: 'url', value: url }]);
    expect(extract(md5).queries).toEqual([{ regexName: 'RE_MD5', type: 'md5', value: md5 }]);
    expect(extract(`domain=${domain} `).queries).toEqual([{ regexName: 'RE_DOMAIN', type: 'domain', value: domain }]);
    expect(extract('url=example.com/path?q=1').queries).toEqual([{ regexName: 'RE_URL', type: 'url', value: 'example.com/path?q=1' }]);
  });

  it('a leading request id is CONTEXT: a value for %REQ%, no query', () => {
    const result = extract(`4711 ip=${ipsum}`);
    expect(result.values.get('REQ')).toEqual(['4711']);
    expect(result.queries.map((q) => q.regexName)).toEqual(['RE_IP']);
  });

  it('CEF: request (with the \\= escape undone), src, dst, fileHash, dhost', () => {
    const line = `CEF:0|Vendor|Proxy|1.0|100|blocked|5|src=10.1.2.3 dst=${ipsum} request=${url}?a\\=1 fileHash=${md5} dhost=${domain} msg=url\\=seen`;
    const result = extract(line);
    expect(result.values.get('RE_URL')).toEqual([`${url}?a=1`]);
    expect(result.values.get('RE_IP')).toEqual(['10.1.2.3', ipsum]);
    expect(result.values.get('SRC_IP')).toEqual(['10.1.2.3']);
    expect(result.values.get('RE_MD5')).toEqual([md5]);
    expect(result.values.get('RE_DOMAIN')).toEqual([domain]);
    expect(result.event).toContain('request=' + url + '?a=1');
  });

  it('LEEF: tab-separated key=value', () => {
    const line = `LEEF:2.0|Vendor|Gateway|1.0|Allowed|src=192.0.2.7\tdst=${ipsum}\turl=${url}\tusrName=bob`;
    const result = extract(line);
    expect(result.values.get('RE_URL')).toEqual([url]);
    expect(result.values.get('RE_IP')).toEqual(['192.0.2.7', ipsum]);
    expect(result.values.get('SRC_IP')).toEqual(['192.0.2.7']);
  });

  it('free text: several URLs, IPv4 with a port, IPv6, and no values from look-alikes', () => {
    const result = extract(`saw http://a.example/x and HTTPS://b.example/y?z=1 from ${ipsum}:8080 and 2001:db8::1; build 10.0.18362.959, time 06:24:37, mac 00:11:22:33:44:55, 1.2.3.4.5, 999.1.1.1`);
    expect(result.values.get('RE_URL')).toEqual(['http://a.example/x', 'HTTPS://b.example/y?z=1']);
    expect(result.values.get('RE_IP')).toEqual([`${ipsum}:8080`, '2001:db8::1']);
  });
});

describe('per-source rules', () => {
  const xml = `<Settings>
  <InputSettings>
    <ConnectionString>127.0.0.1:9999</ConnectionString>
    <RegExps>
      <Source id="default">
        <NormalizingRules>
          <Replace input="hxxp" output="http"/>
          <Ignore input="^DEBUG"/>
        </NormalizingRules>
        <RE_URL type="URL" extract="all">(https?://\\S+)</RE_URL>
        <RE_IP type="IP" extract="all">(\\d+\\.\\d+\\.\\d+\\.\\d+)</RE_IP>
        <USER type="CONTEXT">user=(\\S+)</USER>
      </Source>
      <Source id="firewall" ip="10.0.0.0/8">
        <NormalizingRules>
          <Replace input="\\[(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)\\]" output="\\1.\\2.\\3.\\4"/>
          <Ignore input="Device0002"/>
        </NormalizingRules>
        <RE_IP type="IP" extract="first">dst=(\\S+)</RE_IP>
      </Source>
      <Source id="proxy" ip="proxy\\d+\\.corp">
        <RE_URL type="URL" extract="first">u=(\\S+)</RE_URL>
        <RE_HASH type="HASH" extract="all">h=(\\w+)</RE_HASH>
      </Source>
    </RegExps>
  </InputSettings>
  <OutputSettings>
    <ConnectionString>127.0.0.1:9998</ConnectionString>
    <EventFormat>%Date% eventName=%Category% matchedIndicator=%MatchedIndicator%</EventFormat>
    <RecordFieldContextFormat> %ParamName%=%ParamValue%</RecordFieldContextFormat>
    <ActionableFieldContextFormat> %ParamName%:%ParamValue%</ActionableFieldContextFormat>
  </OutputSettings>
</Settings>`;
  const sources = parseServiceConfig(xml, 'per-source.xml').input.sources;
  const perSource = new EventExtractor(sources);
  const run = (event: string, ip: string): EventExtraction | null => perSource.extract(event, ip);

  it('a source-specific rule wins over the default rule of the same name', () => {
    const result = run('src=1.1.1.1 dst=2.2.2.2 dst=3.3.3.3', '10.20.30.40')!;
    expect(result.sourceId).toBe('firewall');
    expect(result.values.get('RE_IP')).toEqual(['2.2.2.2']); // extract="first", and the default RE_IP did not run
  });

  it('the default rule of the same name runs when the specific one found nothing', () => {
    const result = run('src=1.1.1.1 to 2.2.2.2', '10.20.30.40')!;
    expect(result.sourceId).toBe('firewall');
    expect(result.values.get('RE_IP')).toEqual(['1.1.1.1', '2.2.2.2']);
  });

  it('default rules with other names run too, after the specific ones', () => {
    const result = run('dst=2.2.2.2 user=bob http://x.example/', '10.0.0.1')!;
    expect([...result.values.keys()]).toEqual(['RE_IP', 'RE_URL', 'USER']);
    expect(result.queries).toEqual([
      { regexName: 'RE_IP', type: 'ip', value: '2.2.2.2' },
      { regexName: 'RE_URL', type: 'url', value: 'http://x.example/' },
    ]);
  });

  it('other addresses use only the default source', () => {
    const result = run('dst=2.2.2.2 user=bob', '192.168.0.1')!;
    expect(result.sourceId).toBe('default');
    expect(result.values.get('RE_IP')).toEqual(['2.2.2.2']);
    expect(result.values.get('USER')).toEqual(['bob']);
    expect(result.queries).toEqual([{ regexName: 'RE_IP', type: 'ip', value: '2.2.2.2' }]);
  });

  it('IPv4-mapped connection addresses (dual-stack listeners) match IPv4 sources', () => {
    expect(run('dst=2.2.2.2', '::ffff:10.9.8.7')!.sourceId).toBe('firewall');
  });

  it('a host-name source matches the syslog HOSTNAME of the event (RFC 3164 and 5424) or the address', () => {
    expect(run('<13>Nov 26 06:24:37 proxy7.corp squid: u=http://a/ h=abc', '192.168.0.1')!.sourceId).toBe('proxy');
    expect(run('<13>1 2026-11-26T06:24:37Z PROXY12.corp squid - - - u=http://a/', '192.168.0.1')!.sourceId).toBe('proxy');
    expect(run('<13>Nov 26 06:24:37 mail.corp smtpd: u=http://a/', '192.168.0.1')!.sourceId).toBe('default');
    expect(run('proxy7.corp says u=x', '192.168.0.1')!.sourceId).toBe('default'); // not a syslog header
  });

  it('HASH and extract modes', () => {
    const result = run('<13>Nov 26 06:24:37 proxy1.corp x: u=http://a/ u=http://b/ h=d41d8cd98f00b204e9800998ecf8427e h=da39a3ee5e6b4b0d3255bfef95601890afd80709', '192.168.0.1')!;
    expect(result.values.get('RE_URL')).toEqual(['http://a/']);
    expect(result.queries.filter((q) => q.type === 'hash').map((q) => q.value)).toEqual(['d41d8cd98f00b204e9800998ecf8427e', 'da39a3ee5e6b4b0d3255bfef95601890afd80709']);
  });

  it('normalizing rules run before regexes: the source\'s first, then default\'s, in document order', () => {
    const result = run('dst=[8.8.4.4] via hxxp://evil.example/a', '10.0.0.1')!;
    expect(result.event).toBe('dst=8.8.4.4 via http://evil.example/a');
    expect(result.values.get('RE_IP')).toEqual(['8.8.4.4']);
    expect(result.values.get('RE_URL')).toEqual(['http://evil.example/a']);
  });

  it('Ignore drops the event: the source\'s rule only for that source, the default\'s for everyone', () => {
    expect(run('Device0002 dst=1.1.1.1', '10.0.0.1')).toBeNull();
    expect(run('Device0002 dst=1.1.1.1', '192.168.0.1')).not.toBeNull();
    expect(run('DEBUG dst=1.1.1.1', '10.0.0.1')).toBeNull();
    expect(run('DEBUG dst=1.1.1.1', '192.168.0.1')).toBeNull();
    // A Replace that runs before an Ignore can create or remove what Ignore looks for.
    expect(run('hxxp DEBUG', '192.168.0.1')).not.toBeNull();
  });

  it('the same value is asked once, empty values are skipped, a zero-width match does not loop', () => {
    const zeroWidth = new EventExtractor(
      parseServiceConfig(xml.replace('<USER type="CONTEXT">user=(\\S+)</USER>', '<EMPTY type="URL" extract="all">x*</EMPTY><U2 type="URL" extract="all">(https?://\\S+)</U2>'), 'z.xml').input.sources,
    );
    const result = zeroWidth.extract('http://a/ http://a/ xx', '192.168.0.1')!;
    expect(result.values.get('RE_URL')).toEqual(['http://a/']);
    expect(result.values.get('EMPTY')).toEqual(['xx']);
    expect(result.queries).toEqual([
      { regexName: 'RE_URL', type: 'url', value: 'http://a/' },
      { regexName: 'EMPTY', type: 'url', value: 'xx' },
    ]);
  });
});

describe('hostile events', () => {
  it('any text extracts without error, and every value is text of the (normalized) event (property test)', () => {
    const tokens = ['url=', 'http://', 'host=', '"host":"', '1.2.3.4', ':', '::', '.', 'a', 'f', '0', ' ', '\t', '"', '\\=', 'IMPHASH=', 'd41d8cd98f00b204e9800998ecf8427e', '\u0000', 'тест', '😀'];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 40 }), (parts) => {
        const result = extract(parts.join(''));
        for (const [, found] of result.values) for (const value of found) expect(result.event).toContain(value);
        for (const query of result.queries) expect(result.values.get(query.regexName)).toContain(query.value);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('what the lookup script sends (src/lookup) is what the default config extracts', () => {
  const tweetfeed = linesOf('tweetfeed', 'month.csv').slice(1).map((l) => l.split(','));
  const sample = (type: string, count: number): string[] => tweetfeed.filter((row) => row[2] === type).slice(0, count).map((row) => row[3]!);
  const inputs: Array<[InputField, string]> = [
    ...sample('url', 200).map((v) => ['url', v] as [InputField, string]),
    ...sample('domain', 100).map((v) => ['domain', v] as [InputField, string]),
    ...sample('ip', 100).map((v) => ['ip', v] as [InputField, string]),
    ...sample('md5', 50).map((v) => ['hash', v] as [InputField, string]),
    ...sample('sha256', 50).map((v) => ['sha256', v] as [InputField, string]),
    ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['ip', '2001:DB8::1'],
    ['ip', '[fe80::1cf4:44d2:904a:14f7]:443'],
    ['ip', '45.144.225.135:8080'],
    ['domain', 'Тест.рф'],
    ['url', 'example.com/a b?q="x"'],
  ];

  it.each([
    ['the default pattern', DEFAULT_PATTERN],
    ['a pattern with %DOMAIN%', `${DEFAULT_PATTERN} domain=%DOMAIN%`],
  ])('%s: one query per request, of the sent type and value', (_title, patternText) => {
    const pattern = new LinePattern(patternText);
    let sent = 0;
    for (const [field, raw] of inputs) {
      const prepared = prepareValue(field, raw);
      if (!prepared.ok) throw new Error(`${field} ${raw}: ${prepared.reason}`);
      const as = pattern.sendAs(prepared.type)!;
      const line = pattern.render(prepared.type, prepared.wire);
      const expected = as === prepared.type ? prepared.wire : `http://${prepared.wire}`;
      expect(extract(line).queries).toEqual([{ regexName: `RE_${as.toUpperCase()}`, type: as, value: expected }]);
      sent++;
    }
    expect(sent).toBe(inputs.length);
  });
});

describe('the device-specific Source example of docs/service-config.md', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'service-config.md'), 'utf8');
  const snippet = /### Example: a maltrail sensor[\s\S]*?```xml\n([\s\S]*?)```/.exec(doc)![1]!;
  const xml = DEFAULT_SERVICE_CONFIG_XML.replace('</RegExps>', `${snippet}</RegExps>`);
  const sensor = new EventExtractor(parseServiceConfig(xml, 'docs-example.xml').input.sources);

  it('reads the DNS domain of real maltrail events from the sensor, and only from it', () => {
    const diff = new Differences();
    let dns = 0;
    linesOf('maltrail-demo-events', 'maltrail_demo_events.log').forEach((line, i) => {
      const at = `maltrail_demo_events.log:${i + 1}`;
      const [, , src, , dst, , , type, trail] = line.replace(/^"[^"]*"/, 'ts').split(' ');
      const fromSensor = sensor.extract(line, '10.0.0.7')!;
      const fromElsewhere = sensor.extract(line, '10.0.0.8')!;
      diff.same(at, 'sourceId', [fromSensor.sourceId, fromElsewhere.sourceId], ['maltrail', 'default']);
      if (type === 'DNS') {
        dns++;
        diff.same(at, 'RE_DOMAIN', fromSensor.values.get('RE_DOMAIN'), [trail!.replace(/[()]/g, '')]);
        diff.same(at, 'RE_DOMAIN elsewhere', fromElsewhere.values.get('RE_DOMAIN'), undefined);
      }
      // The default rules still apply to the sensor's events.
      for (const address of [...src!.split(','), ...dst!.split(',')]) diff.contains(at, 'RE_IP', fromSensor.values.get('RE_IP'), address);
    });
    expect(diff.found).toEqual([]);
    expect(dns).toBe(2016);
  });
});
