/**
 * The keyed default rules (RE_URL, RE_DOMAIN, SRC_IP) run only where one of their keys ends before a `=`/`:` (or
 * where RE_URL's free-text scheme or SRC_IP's line start is): the values must be exactly the reference's, on the
 * cases that decide where a key can start, and a pattern that is not exactly the shipped one must run as a regex.
 */
import fc from 'fast-check';
import { ReferenceExtractor } from '../src/bench/extract-reference.js';
import { parseServiceConfig, type ServiceConfig } from '../src/service/config.js';
import { DEFAULT_REGEXES, DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { EventExtractor, valueFinder, type EventExtraction } from '../src/service/extract.js';

type Sources = ServiceConfig['input']['sources'];
const configOf = (xml: string): Sources => parseServiceConfig(xml, '<test>').input.sources;
const defaults = configOf(DEFAULT_SERVICE_CONFIG_XML);

const patternOf = (name: string): string => DEFAULT_REGEXES.find(([rule]) => rule === name)![3];
const ruleElement = (name: string): string => {
  const [, type, extract, pattern] = DEFAULT_REGEXES.find(([rule]) => rule === name)!;
  return `<${name} type="${type}" extract="${extract}"><![CDATA[${pattern}]]></${name}>`;
};
/** The default config with one default rule's element replaced. */
const withRule = (name: string, element: string): Sources => {
  const xml = DEFAULT_SERVICE_CONFIG_XML.replace(ruleElement(name), element);
  if (xml === DEFAULT_SERVICE_CONFIG_XML) throw new Error(`no element for ${name}`);
  return configOf(xml);
};
/** The keyed rules extract="first" (SRC_IP already is). */
const firstOnly = configOf(
  DEFAULT_SERVICE_CONFIG_XML.replace(ruleElement('RE_URL'), ruleElement('RE_URL').replace('extract="all"', 'extract="first"')).replace(
    ruleElement('RE_DOMAIN'),
    ruleElement('RE_DOMAIN').replace('extract="all"', 'extract="first"'),
  ),
);

const plain = (result: EventExtraction | null): unknown =>
  result && { sourceId: result.sourceId, values: [...result.values], queries: result.queries, event: result.event };

/** Asserts both extractors agree on the event and returns EventExtractor's values of the keyed rules. */
function keyedValues(sources: Sources, event: string): Record<string, string[]> {
  const result = new EventExtractor(sources).extract(event, '127.0.0.1');
  expect(plain(result)).toEqual(plain(new ReferenceExtractor(sources).extract(event, '127.0.0.1')));
  return Object.fromEntries(['RE_URL', 'RE_DOMAIN', 'SRC_IP'].map((name) => [name, result?.values.get(name) ?? []]));
}

describe('keyed default rules', () => {
  it('are recognised by their exact pattern and flags; one changed character runs the regex', () => {
    for (const name of ['RE_URL', 'RE_DOMAIN', 'SRC_IP']) {
      expect(valueFinder(defaults.find((s) => s.id === 'default')!.regexes.find((rule) => rule.name === name)!)).toBe('keyed');
    }
    // `~` instead of `=` as the key-value separator: a key before `~` is no key of the shipped pattern.
    const tilde = patternOf('RE_DOMAIN').replace('(?:=|', '(?:~|');
    expect(tilde).not.toBe(patternOf('RE_DOMAIN'));
    const changed = withRule('RE_DOMAIN', `<RE_DOMAIN type="DOMAIN" extract="all"><![CDATA[${tilde}]]></RE_DOMAIN>`);
    expect(valueFinder(changed.find((s) => s.id === 'default')!.regexes.find((rule) => rule.name === 'RE_DOMAIN')!)).toBe('regex');
    expect(keyedValues(changed, 'host~a.example host=b.example').RE_DOMAIN).toEqual(['a.example']);
    // Case-insensitive keys through an inline flag: another pattern, so the regex.
    const caseless = withRule('RE_DOMAIN', `<RE_DOMAIN type="DOMAIN" extract="all"><![CDATA[(?i)${patternOf('RE_DOMAIN')}]]></RE_DOMAIN>`);
    expect(keyedValues(caseless, 'HOST=a.example').RE_DOMAIN).toEqual(['a.example']);
    expect(keyedValues(defaults, 'HOST=a.example').RE_DOMAIN).toEqual([]);
  });

  it.each([
    ['a key at the start of the event', 'host=a.example', { RE_DOMAIN: ['a.example'] }],
    ['keys after word characters and . - ? & / = are not keys', 'xhost=a.example b.host=b.example c-host=c.example ?host=d.example &host=e.example /host=f.example msg=host=g.example', {}],
    ['keys after other punctuation are', '(host=a.example) [host=b.example],host=c.example;host=d.example', { RE_DOMAIN: ['a.example', 'b.example', 'c.example', 'd.example'] }],
    ['quoted JSON keys', '{"url":"http://a.example/x","host": "b.example","src_ip" : "10.1.2.3"}', { RE_URL: ['http://a.example/x'], RE_DOMAIN: ['b.example'], SRC_IP: ['10.1.2.3'] }],
    ['spaces around ":" but not around "="', 'host : a.example host\t:\tb.example host = c.example host =d.example', { RE_DOMAIN: ['a.example', 'b.example'] }],
    ['other spaces before ":"', 'host\u00a0:\u3000a.example host\u2028: b.example host\r\n\x0b\f:c.example', { RE_DOMAIN: ['a.example', 'b.example', 'c.example'] }],
    ['keys that end other keys', 'dns_query=a.example query=b.example hostname=c.example dhost=d.example request_url=x/y http_url=z', { RE_URL: ['x/y', 'z'], RE_DOMAIN: ['a.example', 'b.example', 'c.example', 'd.example'] }],
    ['keys with "." and "-"', 'id.orig_h=10.1.2.3 c-ip=10.4.5.6', { SRC_IP: ['10.1.2.3'] }],
    ['case as written', 'Host=a.example HOST=b.example QueryName=c.example queryname=d.example', { RE_DOMAIN: ['a.example', 'c.example'] }],
    ['a free-text URL inside a keyed URL is part of it', 'url=http://a.example/?u=http://b.example/&host=c.example', { RE_URL: ['http://a.example/?u=http://b.example/&host=c.example'] }],
    ['free-text URLs in any case, https or not', 'see HTTP://a.example/x, hTtPs://b.example/y. xhttp://c.example/ ahttps://d.example', { RE_URL: ['HTTP://a.example/x', 'hTtPs://b.example/y'] }],
    ['a keyed URL is not a bare path', 'url=/x url=a.example/x', { RE_URL: ['a.example/x'] }],
    ['a scheme that is not http(s)', 'ftp://a.example/ httpx://b.example/ htps://c.example/ http:/d.example', {}],
    ['a keyed URL and the same URL in free text: one value', 'url=http://a.example/ http://a.example/', { RE_URL: ['http://a.example/'] }],
    ['the first field of a line, or a keyed source', '10.1.2.3 - - "GET / HTTP/1.1" src=10.4.5.6', { SRC_IP: ['10.1.2.3'] }],
    ['a keyed source when the line does not start with an address', 'x 10.1.2.3 src=10.4.5.6 src=10.7.8.9', { SRC_IP: ['10.4.5.6'] }],
    ['a key whose value does not match, then one that does', 'host=10.1.2.3 host=a.example src=nope src=10.1.2.3', { RE_DOMAIN: ['a.example'], SRC_IP: ['10.1.2.3'] }],
    ['non-ASCII text around keys', 'é host=bücher.example ßurl=http://ü.example/ 😀host=c.example', { RE_URL: ['http://ü.example/'], RE_DOMAIN: ['bücher.example', 'c.example'] }],
    ['separators without keys', '== :: "":"" =host= :host: host="=a.example"', {}],
  ])('%s', (_name, event, expected) => {
    expect(keyedValues(defaults, event)).toEqual({ RE_URL: [], RE_DOMAIN: [], SRC_IP: [], ...expected });
  });

  it('stop at the first value with extract="first"', () => {
    expect(keyedValues(firstOnly, 'host=a.example url=x/1 host=b.example url=x/2 http://c.example/')).toEqual({ RE_URL: ['x/1'], RE_DOMAIN: ['a.example'], SRC_IP: [] });
    expect(keyedValues(firstOnly, 'http://c.example/ url=x/1')).toEqual({ RE_URL: ['http://c.example/'], RE_DOMAIN: [], SRC_IP: [] });
  });

  /** Keys, near-keys, separators, the lookbehind's characters, values and non-ASCII text. */
  const pieces = [
    'url', 'URL', 'request', 'request_url', 'http_url', 'host', 'Host', 'hostname', 'dhost', 'query', 'dns_query', 'QueryName', 'src', 'src_ip',
    'id.orig_h', 'c-ip', 'xurl', 'HOST', 'id', '=', ':', ' : ', '"', '":"', '" : "', '=', ' ', '\t', '\u00a0', '.', '-', '?', '&', '/', '\\', '\r\n',
    'a.example', 'bücher.example', '10.1.2.3', '1.2.3', '::1', 'fe80::1', 'http://', 'HTTPS://', 'hTtP://x.example/', 'http', 's', '://',
    'x', '1', '_', ',', ')', '(', '{', '}', "'", '<', 'é', '\u{1F600}', '\u2028',
  ];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((parts) => parts.join(''));

  it.each([
    ['the default config', defaults],
    ['the keyed rules extract="first"', firstOnly],
  ])('give the reference extraction on generated text, %s', (_name, sources) => {
    const fast = new EventExtractor(sources);
    const reference = new ReferenceExtractor(sources);
    fc.assert(
      fc.property(text, (event) => {
        expect(plain(fast.extract(event, '127.0.0.1'))).toEqual(plain(reference.extract(event, '127.0.0.1')));
      }),
      { numRuns: 5000 },
    );
  });
});
