import fc from 'fast-check';
import { BoostRegexError, compileBoostRegex, compileReplacement, groupCount, translateBoostRegex } from '../src/service/regex.js';

/** All values (group 1, or the whole match) a Boost pattern extracts from a text. */
function values(pattern: string, text: string): string[] {
  return [...text.matchAll(compileBoostRegex(pattern, 'g'))].map((m) => m[1] ?? m[0]);
}

function rejection(pattern: string): BoostRegexError {
  try {
    compileBoostRegex(pattern);
  } catch (error) {
    if (error instanceof BoostRegexError) return error;
    throw error;
  }
  throw new Error(`expected /${pattern}/ to be rejected`);
}

describe('Boost/Perl constructs that translate', () => {
  it('\\A, \\z and \\Z anchor at the whole input, even with (?m)', () => {
    expect(values('\\A(\\w+)', 'ab cd')).toEqual(['ab']);
    expect(values('(\\w+)\\z', 'ab cd')).toEqual(['cd']);
    expect(values('(\\w+)\\Z', 'ab cd\n')).toEqual(['cd']);
    expect(values('(?m)\\A(\\w+)', 'ab\ncd')).toEqual(['ab']);
    expect(values('(?m)^(\\w+)', 'ab\ncd')).toEqual(['ab', 'cd']);
  });

  it('a leading (?i), (?s), (?x) become flags', () => {
    expect(translateBoostRegex('(?i)url=(\\S+)').flags).toBe('iu');
    expect(values('(?i)url=(\\S+)', 'URL=a Url=b')).toEqual(['a', 'b']);
    expect(values('(?s)a(.)b', 'a\nb')).toEqual(['\n']);
    expect(values('(?x) url = ( \\S+ ) # the value\n', 'url=z')).toEqual(['z']);
  });

  it('\\h, \\H, \\v and \\R', () => {
    expect(values('a\\h+(b)', 'a \t\u00a0b')).toEqual(['b']);
    expect(values('(\\H+)', 'ab\tcd')).toEqual(['ab', 'cd']);
    expect(values('[\\h,](x)', ',x x')).toEqual(['x', 'x']);
    expect(values('a\\Rb', 'a\r\nb a\nb')).toEqual(['a\r\nb', 'a\nb']);
    expect(values('(\\V+)', 'ab\ncd')).toEqual(['ab', 'cd']);
  });

  it('POSIX classes inside brackets', () => {
    expect(values('([[:digit:]]+)', 'a12b3')).toEqual(['12', '3']);
    expect(values('([[:xdigit:][:space:]]+)', 'zz aF 9zz')).toEqual([' aF 9']);
    expect(values('([^[:alpha:]]+)', 'ab12cd')).toEqual(['12']);
    expect(values('([[:^digit:]]+)', '12ab34')).toEqual(['ab']);
    expect(values('([[:punct:]]+)', 'a!/@[`{~b')).toEqual(['!/@[`{~']);
  });

  it('named groups in Perl, Python and quote style, and named back-references', () => {
    expect(values('(?<v>\\d+)-\\k<v>', '12-12 3-4')).toEqual(['12']);
    expect(values('(?P<v>\\d+)-(?P=v)', '7-7')).toEqual(['7']);
    expect(values("(?'v'\\d+)-\\g{v}", '5-5')).toEqual(['5']);
    expect(values('(\\d)\\g1\\g{1}', '111 12')).toEqual(['1']);
  });

  it('\\Q..\\E quotes metacharacters, also inside brackets', () => {
    expect(values('\\Q(a.b)*\\E(\\d)', '(a.b)*1 (axb)2')).toEqual(['1']);
    expect(values('[\\Q]-^\\E]+', 'x]-^y')).toEqual([']-^']);
    expect(values('\\Qa+b', 'a+b')).toEqual(['a+b']);
  });

  it('escaped punctuation stands for itself (url\\=, NEW_EVENT\\:)', () => {
    expect(values('url\\=(\\S+)', 'url=http://x')).toEqual(['http://x']);
    expect(values('a\\:b\\"c\\ d\\#', 'a:b"c d#')).toEqual(['a:b"c d#']);
    expect(values('[\\-\\/]+', 'a-/b')).toEqual(['-/']);
  });

  it('character escapes: \\e, \\a, \\0, \\o{}, \\x{}, \\cX, \\p{L}', () => {
    expect(values('\\e\\a\\012', '\x1b\x07\n')).toEqual(['\x1b\x07\n']);
    expect(values('\\o{101}\\x{42}\\x43', 'ABC')).toEqual(['ABC']);
    expect(values('\\cJ', '\n')).toEqual(['\n']);
    expect(values('(\\p{L}+)', '12тест34')).toEqual(['тест']);
    expect(values('(\\pL+)', '1ab')).toEqual(['ab']);
    expect(values('(\\p{^L}+)', 'ab12')).toEqual(['12']);
  });

  it('a leading ] in a bracket is a literal, and lone braces are literals', () => {
    expect(values('([]a]+)', 'x]a]y')).toEqual([']a]']);
    expect(values('([^]a]+)', ']bc]')).toEqual(['bc']);
    expect(values('(\\{\\w+})', 'x{ab}y')).toEqual(['{ab}']);
    expect(values('a{x}', 'a{x}')).toEqual(['a{x}']);
    expect(values('a{2}', 'aaa')).toEqual(['aa']);
  });

  it('lazy quantifiers, lookbehind and comments', () => {
    expect(values('url=(.*?)(?:\\s|$)', 'url=a b url=c')).toEqual(['a', 'c']);
    expect(values('(?<=src=)\\d+(?#the port)', 'src=12 dst=34')).toEqual(['12']);
    expect(values('a{1,3}?', 'aaa')).toEqual(['a', 'a', 'a']);
  });
});

describe('constructs that cannot translate are rejected with the construct and a rewrite', () => {
  const cases: Array<[pattern: string, construct: string, problem: RegExp, suggestion: RegExp]> = [
    ['(?>a+)b', '(?>', /atomic groups/, /\(\?=\(X\)\)\\N/],
    ['a*+b', '*+', /possessive/, /write "\*"/],
    ['a{2,5}+b', '{2,5}+', /possessive/, /write "\{2,5\}"/],
    ['\\Gx', '\\G', /\\G/, /\(\?<=key=\)/],
    ['a(?R)?b', '(?R)', /recursion/, /bounded nesting/],
    ['(a)(?1)', '(?1)', /recursion/, /repeat the sub-pattern/],
    ['(a)?(?(1)b|c)', '(?(1)', /conditional/, /\(\?:A\|B\)/],
    ['x(?i)y', '(?i)', /inline flags/, /start of the pattern/],
    ['(?i:x)', '(?i:', /inline flags/, /start of the pattern/],
    ['(?|(a)|(b))', '(?|', /branch-reset/, /first group that matched/],
    ['a\\Kb', '\\K', /keep-out/, /lookbehind/],
    ['(*SKIP)a', '(*SKIP)', /control verbs/, /\(\?!\)/],
    ['\\X', '\\X', /grapheme/, /\[\\s\\S\]/],
    ['\\Ua', '\\U', /replacement text/, /\[A-Z\]/],
    ['[[:alphanum:]]', '[:alphanum:]', /unknown POSIX class/, /known classes/],
    ['[[:^alpha:]]', '[:^alpha:]', /negated POSIX class/, /\[\^\[:alpha:\]\]/],
    ['\\q', '\\q', /unknown escape \\q/, /without the backslash/],
    ['\\g{-1}', '\\g{-1}', /relative back-references/, /\\2/],
    ['[a-z', '[a-z', /unterminated character class/, /close it/],
  ];

  it.each(cases)('/%s/', (pattern, construct, problem, suggestion) => {
    const error = rejection(pattern);
    expect(error.construct).toBe(construct);
    expect(error.problem).toMatch(problem);
    expect(error.suggestion).toMatch(suggestion);
    expect(error.message).toContain(`(at "${construct}")`);
  });

  it('the suggested emulation of an atomic group is itself accepted and behaves atomically', () => {
    // (?>a+)a can never match; the emulation (?=(a+))\1a must not match either.
    expect(values('(?=(a+))\\1a', 'aaaa')).toEqual([]);
    expect(values('(?=(a+))\\1b', 'aaab')).toEqual(['aaa']);
  });

  it('validates with the u flag but runs without it when nothing needs it (same matches, faster scans)', () => {
    expect(compileBoostRegex('(\\d+)\\-x').flags).toBe('');
    expect(compileBoostRegex('(\\p{L}+)').flags).toBe('u');
    expect(compileBoostRegex('\\x{1F600}').flags).toBe('u');
    expect(values('([^\\s]+)', 'a😀b c')).toEqual(['a😀b', 'c']);
    // Invalid only in u mode (a reference to a missing group): still rejected.
    expect(rejection('(a)\\2').problem).toMatch(/does not compile/);
  });

  it('what the walk lets through but ECMAScript refuses is reported with the translation', () => {
    const error = rejection('(?<n>a)(?<n>b)');
    expect(error.problem).toMatch(/does not compile as ECMAScript \(translated to \/\(\?<n>a\)\(\?<n>b\)\/u\)/);
  });
});

describe('replacement text of normalizing rules', () => {
  it("runs Kaspersky's documented Replace rule on a syslog line: \\< and \\> are the literal angle brackets", () => {
    const input = compileBoostRegex('^\\<(\\d+)\\>');
    const output = compileReplacement('NEW_EVENT\\:\\1\\s', groupCount(input));
    expect('<13>Nov 26 host app: x'.replace(input, output)).toBe('NEW_EVENT:13 Nov 26 host app: x');
  });

  const replace = (input: string, output: string, text: string): string => {
    const regex = compileBoostRegex(input, 'g');
    return text.replace(regex, compileReplacement(output, groupCount(regex)));
  };

  it('supports \\1, $1, ${1}, $& and escaped characters', () => {
    expect(replace('^<(\\d+)>', 'NEW_EVENT\\:\\1\\s', '<13>Jan 1 host msg')).toBe('NEW_EVENT:13 Jan 1 host msg');
    expect(replace('(\\w+)=(\\w+)', '$2=${1}', 'a=b c=d')).toBe('b=a d=c');
    expect(replace('\\\\=', '=', 'url\\=http://x/?a\\=b')).toBe('url=http://x/?a=b');
    expect(replace('x', '[$&]', 'axb')).toBe('a[x]b');
    expect(replace('(a)|(b)', '<\\2>', 'ab')).toBe('<><b>');
  });

  it('counts groups, which bounds the references', () => {
    expect(groupCount(compileBoostRegex('a(b)(?:c)(?<n>d)'))).toBe(2);
    expect(() => compileReplacement('\\3', 2)).toThrow(/refers to group 3/);
    expect(() => compileReplacement('${x}', 2)).toThrow(/only numbered references/);
  });
});

describe('hostile patterns', () => {
  it('any pattern either compiles or is rejected with a BoostRegexError (property test)', () => {
    const alphabet = [...'\\()[]{}?*+|^$.:=!<>PpQEgkxo0123456789aAzZhHvVR-_,#\'"/ '].map((c) => fc.constant(c));
    fc.assert(
      fc.property(fc.array(fc.oneof(...alphabet), { maxLength: 24 }), (chars) => {
        const pattern = chars.join('');
        try {
          const regex = compileBoostRegex(pattern, 'g');
          expect(regex).toBeInstanceOf(RegExp);
        } catch (error) {
          expect(error).toBeInstanceOf(BoostRegexError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
