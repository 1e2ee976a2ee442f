/**
 * `feedtrace normalize-url` through the built bundle (npm test builds it first; alone: `npm run build`):
 * one output line per input line, in order, for LF and CRLF input, empty lines included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cliBundle } from './support/paths.js';
import { readVectors } from './fixtures/normalize-url/vectors.js';

function runCli(input: string): string[] {
  if (!existsSync(cliBundle)) throw new Error(`${cliBundle} is missing: run npm run build first`);
  const r = spawnSync(process.execPath, [cliBundle, 'normalize-url'], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.endsWith('\n')).toBe(true);
  return r.stdout.slice(0, -1).split('\n');
}

// Vectors that fit on one line: no CR/LF in the input, nor in the output (a decoded %0A would print a line break).
const vectors = readVectors().filter((v) => !/[\r\n]/.test(v.input) && !/[\r\n]/.test(v.expected ?? ''));

describe('feedtrace normalize-url', () => {
  it('prints the reference output or <INVALID>, a tab and a reason, one line per input line', () => {
    expect(vectors.length).toBeGreaterThan(15000);
    const out = runCli(vectors.map((v) => v.input).join('\n') + '\n');
    expect(out.length).toBe(vectors.length);
    const wrong = vectors
      .map((v, i) => ({ line: v.line, input: v.input, expected: v.expected, got: out[i]! }))
      .filter((x) => (x.expected === undefined ? !/^<INVALID>\t[^\t]+$/.test(x.got) : x.got !== x.expected));
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(out.filter((l) => l.startsWith('<INVALID>\t')).length).toBe(vectors.filter((v) => v.expected === undefined).length);
  });

  it('drops the CR of CRLF lines and keeps empty lines as empty output lines', () => {
    const lines = ['HTTP://WWW.Example.COM:8080/A/./B/../C?Q=1#x', '', 'javascript:alert(1)', '', 'x.com/p?', 'x.com/%41 '];
    const expected = ['example.com/a/c?q=1', '', '<INVALID>', '', 'x.com/p?', 'x.com/a '];
    for (const input of [lines.join('\r\n') + '\r\n', lines.join('\n'), lines.join('\r\n')]) {
      const out = runCli(input);
      expect(out.map((l) => (l.startsWith('<INVALID>\t') ? '<INVALID>' : l))).toEqual(expected);
    }
  });

  it('prints a decoded CR or LF as %0D / %0A so one input line still gives one output line', () => {
    const out = runCli('http://x.com/a%0Ab?q=%0d\nhttp://y.com/\n');
    expect(out).toEqual(['x.com/a%0Ab?q=%0D', 'y.com']);
  });
});
