/**
 * EventExtractor takes shortcuts (the hash rules without their regexes, the address rule only where an address can
 * start, cheap pre-checks); its output must be exactly that of the straightforward ReferenceExtractor: on every line of the real logs, on a config with a
 * specific Source, and on generated text made of the pieces the shortcuts decide on.
 */
import fc from 'fast-check';
import { extractionCorpus } from '../src/bench/extract-logs.js';
import { ReferenceExtractor } from '../src/bench/extract-reference.js';
import { loadServiceConfig, parseServiceConfig } from '../src/service/config.js';
import { EventExtractor, type EventExtraction } from '../src/service/extract.js';
import { DEFAULT_SERVICE_CONFIG_XML, hexWordPattern } from '../src/service/default-config.js';
import { datasets } from './support/paths.js';

/** Everything an extraction carries, Map order included (formatting iterates it). */
const plain = (result: EventExtraction | null): unknown =>
  result && { sourceId: result.sourceId, values: [...result.values], queries: result.queries, event: result.event };

interface Extractor {
  extract(event: string, sourceIp: string): EventExtraction | null;
}

/** Lines where the two disagree (at most a few, with both outputs), and how many values the reference found. */
function compare(fast: Extractor, reference: Extractor, lines: readonly string[], sourceIp = '127.0.0.1'): { differences: string[]; values: number } {
  const differences: string[] = [];
  let values = 0;
  for (const line of lines) {
    const expected = reference.extract(line, sourceIp);
    values += expected ? [...expected.values.values()].reduce((n, list) => n + list.length, 0) : 0;
    const want = JSON.stringify(plain(expected));
    const got = JSON.stringify(plain(fast.extract(line, sourceIp)));
    if (got !== want && differences.length < 5) differences.push(`${JSON.stringify(line.slice(0, 300))}\n  got      ${got}\n  expected ${want}`);
  }
  return { differences, values };
}

const defaults = loadServiceConfig().input.sources;
const corpus = extractionCorpus(datasets, true);

/** The main log types: each must yield values (a few small Zeek logs, e.g. pe.log, have none to find). */
const MAIN_LOGS = ['apache', 'suricata eve.json', 'zeek http (json)', 'zeek conn (json)', 'zeek conn (tsv)', 'sysmon json', 'maltrail demo events', 'lookup lines'];

describe('EventExtractor gives exactly the reference extraction', () => {
  it('covers the real logs', () => {
    expect(corpus.map((log) => log.name)).toEqual(expect.arrayContaining(MAIN_LOGS));
  });

  it.each(corpus.map((log) => [log.name, log.lines] as const))('on every line of %s', (name, lines) => {
    const { differences, values } = compare(new EventExtractor(defaults), new ReferenceExtractor(defaults), lines);
    expect(differences).toEqual([]);
    if (MAIN_LOGS.includes(name)) expect(values).toBeGreaterThan(0);
  });

  it('finds hashes through the shortcut on the real logs (Sysmon hashes, Zeek file digests, lookup lines)', () => {
    const extractor = new EventExtractor(defaults);
    const found = new Set<string>();
    for (const { lines } of corpus) for (const line of lines) for (const q of extractor.extract(line, '127.0.0.1')?.queries ?? []) found.add(q.type);
    expect([...found]).toEqual(expect.arrayContaining(['md5', 'sha1', 'sha256']));
  });

  // A specific Source with normalizing rules (literal and not), its own hash rules (same patterns, one `first`,
  // one at another length, one giving the same queries as the default's RE_MD5) and a same-name rule of the
  // default's: per-source order, fallback and query de-duplication must be kept.
  const custom = parseServiceConfig(
    DEFAULT_SERVICE_CONFIG_XML.replace(
      '<Source id="default">',
      `<Source id="sensor" ip="10.0.0.0/8">
        <NormalizingRules>
          <Replace input="hxxp" output="http"/>
          <Replace input="\\[\\.\\]" output="."/>
          <Ignore input="DROP ME"/>
        </NormalizingRules>
        <RE_SHA1 type="SHA1" extract="first"><![CDATA[${hexWordPattern(40)}]]></RE_SHA1>
        <HEX16 type="CONTEXT" extract="all"><![CDATA[${hexWordPattern(16)}]]></HEX16>
        <RE_MD5 type="MD5" extract="all"><![CDATA[md5:([0-9a-f]{32})]]></RE_MD5>
        <MD5_WORD type="MD5" extract="all"><![CDATA[${hexWordPattern(32)}]]></MD5_WORD>
        <RE_IP type="IP" extract="first"><![CDATA[ip=(\d+\.\d+\.\d+\.\d+)]]></RE_IP>
      </Source>
      <Source id="default">`,
    ),
    '<test>',
  ).input.sources;

  /** Text where hex words, addresses, their neighbours and near-misses meet (fast-check favours the first pieces). */
  const pieces = [
    ' ', 'd41d8cd98f00b204e9800998ecf8427e', 'ip=10.1.2.3', '2001:db8::1', 'md5:d41d8cd98f00b204e9800998ecf8427e', '-', '10.1.2.3',
    '1.2.3.4:80', '1:2:3:4:5:6:7:8', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'abcd:', '::', '::ffff:', 'fe80::1', '1.2.3', '255.255.255.2555', 'ff:ff:', '1', ':1', '1.',
    'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'IMPHASH=', '0123456789abcdef', 'hxxp', '[.]', 'DROP ME', '\\=', 'url\\=',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'http://a.example/x', 'ip=', 'md5:', 'MD5=', 'SHA256=', 'DROP',
    'a', 'F', '0', '9', 'g', 'Z', '_', '.', ':', '=', '"', '/', '\\', 'é', '\u{1F600}',
  ];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((parts) => parts.join(''));

  it('on generated text, with the default config and with a specific Source (from its address and others)', () => {
    const fastDefault = new EventExtractor(defaults);
    const referenceDefault = new ReferenceExtractor(defaults);
    const fastCustom = new EventExtractor(custom);
    const referenceCustom = new ReferenceExtractor(custom);
    fc.assert(
      fc.property(text, fc.constantFrom('127.0.0.1', '10.9.8.7'), (event, sourceIp) => {
        expect(compare(fastDefault, referenceDefault, [event], sourceIp).differences).toEqual([]);
        expect(compare(fastCustom, referenceCustom, [event], sourceIp).differences).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('on the real logs with the specific Source', () => {
    const lines = corpus.flatMap((log) => log.lines.slice(0, 300));
    const { differences } = compare(new EventExtractor(custom), new ReferenceExtractor(custom), lines, '10.9.8.7');
    expect(differences).toEqual([]);
  });
});
