/**
 * Kaspersky URL normalization: byte-exact agreement with the reference implementation.
 *
 * The vectors (test/fixtures/normalize-url/vectors.tsv) were produced by running Kaspersky's reference
 * algorithm on Go 1.22 net/url semantics over real URLs from ../shared/datasets and hand-written edge cases
 * (docs/url-normalization.md says how). Every vector also goes through the full emulation without the fast
 * path, and wherever the fast path applies its parse must equal the full emulation's parse, and wherever the
 * as-written shortcut applies its result must equal the general steps'.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { parseCommonShape } from '../src/normalize/url-fast-path.js';
import { normalizeAsWritten, normalizeParsed, normalizeUrl, normalizeUrlFull, parseLikeReference } from '../src/normalize/url.js';
import { IANA_SCHEMES } from '../src/normalize/iana-schemes.js';
import { readVectors, vectorsFile } from './fixtures/normalize-url/vectors.js';
import { dataset } from './support/paths.js';

const vectors = readVectors();

function show(r: ReturnType<typeof normalizeUrl>): string | undefined {
  return r.ok ? r.url : undefined;
}

describe('normalizeUrl on the reference vectors', () => {
  it('reads one vector per non-comment line of the fixture', () => {
    const dataLines = readFileSync(vectorsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(vectors.length).toBe(dataLines.length);
    expect(vectors.length).toBeGreaterThan(20000);
    // Both outcomes are well represented.
    expect(vectors.filter((v) => v.expected === undefined).length).toBeGreaterThan(2000);
  });

  it('gives the reference output, and rejects exactly the inputs the reference rejects', () => {
    const mismatches = vectors
      .filter((v) => show(normalizeUrl(v.input)) !== v.expected)
      .map((v) => ({ line: v.line, input: v.input, expected: v.expected, got: normalizeUrl(v.input) }));
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it('gives the same results without the fast path', () => {
    const mismatches = vectors
      .filter((v) => show(normalizeUrlFull(v.input)) !== v.expected)
      .map((v) => ({ line: v.line, input: v.input, expected: v.expected, got: normalizeUrlFull(v.input) }));
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it('fast path: wherever it applies, it parses exactly as the full emulation of Go url.Parse', () => {
    let applied = 0;
    const differing: Array<{ line: number; input: string }> = [];
    for (const v of vectors) {
      const fast = parseCommonShape(v.input);
      if (fast === undefined) continue;
      applied++;
      if (JSON.stringify(fast) !== JSON.stringify(parseLikeReference(v.input))) differing.push({ line: v.line, input: v.input });
    }
    expect(differing.slice(0, 20)).toEqual([]);
    // The comparison means something only if the fast path covers many vectors (most real ones).
    expect(applied).toBeGreaterThan(4000);
  });

  it('as-written shortcut: wherever it applies, it gives what the general steps give', () => {
    let applied = 0;
    let appliedDecoding = 0;
    const differing: Array<{ line: number; input: string; shortcut: string; general: string | undefined }> = [];
    for (const v of vectors) {
      const fast = parseCommonShape(v.input);
      const shortcut = fast === undefined ? undefined : normalizeAsWritten(fast);
      if (fast === undefined || shortcut === undefined) continue;
      applied++;
      if (/[%+]/.test(fast.rawQuery)) appliedDecoding++;
      const general = show(normalizeParsed(fast));
      if (shortcut !== general) differing.push({ line: v.line, input: v.input, shortcut, general });
    }
    expect(differing.slice(0, 20)).toEqual([]);
    // Most real URLs take it (a test on a handful would prove little), queries with escapes or '+' included.
    expect(applied).toBeGreaterThan(3000);
    expect(appliedDecoding).toBeGreaterThan(50);
  });

  it('gives a reason for every rejection', () => {
    for (const v of vectors.filter((x) => x.expected === undefined).slice(0, 500)) {
      const r = normalizeUrl(v.input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/^[a-zA-Z][^\t\r\n]{5,60}$/);
    }
  });
});

describe('rules and quirks of the reference (docs/url-normalization.md)', () => {
  const cases: Array<[string, string | undefined]> = [
    // Doc examples and the reference's own test data.
    ['https://www.example.com:443/?q=hello%20world#fragment', 'example.com/?q=hello world'],
    ['http://example.com:80', 'example.com'],
    ['http://www.example.com/../a/b/../c/./d.html', 'example.com/a/c/d.html'],
    ['github.com@520966948', '31.13.83.36'],
    // Scheme: a listed scheme gets "//", anything else gets http:// in front.
    ['mailto:u@x.com', 'x.com'],
    ['file:///etc/passwd', 'etc/passwd'],
    ['foo://x/p', 'foo/x/p'],
    ['javascript:alert(1)', undefined],
    ['hxxps://Evil.COM/X', 'evil.com/x'],
    ['ftp', ''],
    ['', ''],
    // Only leading spaces are trimmed; a leading tab is a control character.
    ['   x.com/a ', 'x.com/a '],
    ['\thttp://x.com/', undefined],
    // Host.
    ['www.www.x', 'www.x'],
    ['www2.x.com', 'www2.x.com'],
    ['..a..b..', 'a.b'],
    ['тест.РФ', 'тест.рф'],
    ['%C3%89.com', 'é.com'],
    ['x.com:abc', undefined],
    // IPv4, inet_aton style with the 255^n bound.
    ['0x7f.1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['4294967295', '4294967295'],
    ['0xffffffff', '0xffffffff'],
    ['1.2.65535', '1.2.65535'],
    ['1.2.65025', '1.2.254.1'],
    // IPv6: two or more ':' parse host and port together.
    ['[2001:DB8:0::1]', '[2001:db8::1]'],
    ['[::ffff:1.2.3.4]', '[1.2.3.4]'],
    ['[::1]:80', undefined],
    ['http://::1/x', '::1/x'],
    // Path: cleaned while escaped, then decoded and lower-cased per segment.
    ['x.com/a%2F..%2Fb', 'x.com/a/../b'],
    ['x.com/A%41/B', 'x.com/aa/b'],
    ['x.com/a\\b', 'x.com/a\\b'],
    ['x.com/İ', 'x.com/i'],
    ['x.com/ΣΑΣ', 'x.com/σασ'],
    ['x.com/%E2%82A', 'x.com/\ufffd\ufffda'],
    ['x.com/%FF', 'x.com/\ufffd'],
    ['x.com/%0a', 'x.com/\n'],
    ['x.com/a//b/', 'x.com/a/b'],
    // Query: '+' kept, %00 removed, decoded once, '/' runs collapsed, lower-cased.
    ['x.com/?url=http://a//b', 'x.com/?url=http:/a/b'],
    ['x.com/p?q=A+B%2BC%00D', 'x.com/p?q=a+b+cd'],
    ['x.com/p?q=%ZZ+A', 'x.com/p?q=%zz%2ba'],
    ['x.com/?q=1', 'x.com/?q=1'],
    ['x.com/p/?', 'x.com/p'],
    ['x.com/p?', 'x.com/p?'],
    ['x.com/path.?q=1', 'x.com/path./?q=1'],
    // A final "/." is dropped, also when the query ends with it; a port is dropped, "www." once.
    ['http://WWW.x.com/A/b/?q=/.', 'x.com/a/b/?q='],
    ['http://WWW.x.com:8080/A/b/?q=/.', 'x.com/a/b/?q='],
    // A bad escape outside the query turns every '%' into %25: nothing is decoded.
    ['x.com/p%zz?q=%41', 'x.com/p%zz?q=%41'],
    ['x.com/p#%zz?q', 'x.com/p'],
    // Control characters before the fragment are rejected; after '#' they are dropped with it.
    ['x.com/a\u0001', undefined],
    ['x.com/a#\u0001', 'x.com/a'],
  ];
  it.each(cases)('%j → %j', (input, expected) => {
    expect(show(normalizeUrl(input))).toBe(expected);
    expect(show(normalizeUrlFull(input))).toBe(expected);
  });

  it('keeps the reference scheme list (379 names, hxxp and hxxps included, javascript not)', () => {
    expect(IANA_SCHEMES.size).toBe(379);
    expect(IANA_SCHEMES.has('hxxp') && IANA_SCHEMES.has('hxxps')).toBe(true);
    expect(IANA_SCHEMES.has('javascript')).toBe(false);
  });
});

describe('URL masks ("*") pass through unchanged except for the reference rules', () => {
  const cases: Array<[string, string]> = [
    ['*.example.com/path*', '*.example.com/path*'],
    ['http://*.Example.com:8080/A*B?C=*', '*.example.com/a*b?c=*'],
    ['www.*.com', '*.com'],
    ['*example.com*', '*example.com*'],
    ['example.com/*', 'example.com'],
    ['example.com/*/', 'example.com'],
    ['example.com/a/*', 'example.com/a/*'],
    ['example.com/*?q', 'example.com?q'], // a path of exactly "*" is dropped, even before a query
    ['*', '*'],
    ['x.com/%2A', 'x.com'],
  ];
  it.each(cases)('%j → %j', (input, expected) => {
    expect(show(normalizeUrl(input))).toBe(expected);
  });
});

describe('real URLs from the datasets', () => {
  it('normalizes every tweetfeed url row: valid, no scheme, host lower-cased without www.', () => {
    const rows = parse(readFileSync(dataset('tweetfeed', 'month.csv')), { relax_column_count: true }) as string[][];
    const urls = rows.filter((r) => r[2] === 'url').map((r) => r[3]!);
    expect(urls.length).toBe(5610); // SOURCES.md: 5,610 url rows
    let hostsChecked = 0;
    for (const u of urls) {
      const r = normalizeUrl(u);
      expect(r).toMatchObject({ ok: true });
      if (!r.ok) continue;
      expect(r).toEqual(normalizeUrlFull(u));
      expect(r.url).not.toMatch(/^[a-z]+:\/\//);
      // Independent check of the host rule with the WHATWG parser, for ASCII URLs of plain names, no userinfo.
      const whatwg = /^[\x21-\x7e]+$/.test(u) && URL.canParse(u) ? new URL(u) : undefined;
      if (whatwg && whatwg.username === '' && /^[a-z0-9.-]+$/.test(whatwg.hostname) && /[a-z]/.test(whatwg.hostname)) {
        const host = whatwg.hostname.replace(/\.+$/, '').replace(/^www\./, '');
        expect(r.url.split(/[/?]/)[0]).toBe(host);
        hostsChecked++;
      }
    }
    expect(hostsChecked).toBeGreaterThan(5000);
  });
});

describe('arbitrary input', () => {
  const alphabet = fc.constantFrom(
    ...['%', '2', 'F', 'e', '5', 'C', '/', '.', ':', '@', '[', ']', '?', '#', '\\', '+', 'a', 'W', '0', 'x', ' '],
    ...['*', 'é', 'İ', 'Σ', '\t', '\u00a0', '%C2', '%A0', '%E2', '%82', '%2e', '%00', 'www.', 'http://', '[::1]'],
  );
  it('never throws, and the fast path agrees with the full emulation', () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }), (parts) => {
        const input = parts.join('');
        const fast = parseCommonShape(input);
        if (fast !== undefined) expect(fast).toEqual(parseLikeReference(input));
        expect(normalizeUrl(input)).toEqual(normalizeUrlFull(input));
      }),
      { numRuns: 20000, seed: 20261126 },
    );
  });
});
