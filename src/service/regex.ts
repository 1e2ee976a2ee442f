/**
 * Boost/Perl regular expressions (as written in CyberTrace configs) → ECMAScript RegExp.
 *
 * The translation walks the pattern once, token by token, and either rewrites a construct into its ECMAScript
 * equivalent or rejects it with a `BoostRegexError` that names the construct and suggests a rewrite. The result
 * is compiled with the `u` flag, so anything the walk let through that ECMAScript does not accept is still caught
 * at start-up (never at match time).
 */

/** A construct that has no ECMAScript equivalent, or a pattern that does not compile. */
export class BoostRegexError extends Error {
  constructor(
    readonly construct: string,
    readonly problem: string,
    readonly suggestion?: string,
  ) {
    super(`${problem}${construct ? ` (at "${construct}")` : ''}${suggestion ? `; ${suggestion}` : ''}`);
    this.name = 'BoostRegexError';
  }
}

export interface TranslatedRegex {
  /** ECMAScript source, to be compiled with `flags`. */
  source: string;
  /** Always contains `u`; plus `i`, `s`, `m` from a leading inline-flag group. */
  flags: string;
}

/** Horizontal whitespace (`\h` in Boost/Perl): tab, space and the Unicode space separators. */
const HORIZONTAL_SPACE = '\\t \\u00A0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000';
/** Vertical whitespace (`\v` in Perl ≥ 5.10 and Boost): LF, VT, FF, CR, NEL, LS, PS. */
const VERTICAL_SPACE = '\\n\\x0B\\f\\r\\x85\\u2028\\u2029';

/** POSIX bracket classes as ECMAScript class contents (ASCII semantics, as Boost's C locale). */
const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '\\x21-\\x7E',
  lower: 'a-z',
  print: '\\x20-\\x7E',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\s',
  upper: 'A-Z',
  word: '\\w',
  xdigit: '0-9A-Fa-f',
  d: '0-9',
  w: '\\w',
  s: '\\s',
  l: 'a-z',
  u: 'A-Z',
};
/** Negated POSIX classes that have a single-escape form usable inside a bracket. */
const NEGATED_POSIX: Record<string, string> = { digit: '\\D', space: '\\S', word: '\\W', d: '\\D', s: '\\S', w: '\\W' };

/** Characters that must be escaped to stand for themselves outside a class under the `u` flag. */
const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));

function escapeLiteral(ch: string, inClass: boolean): string {
  if (inClass) return ch === '\\' || ch === ']' || ch === '[' || ch === '^' || ch === '-' ? `\\${ch}` : literalCodePoint(ch);
  return SYNTAX_CHARS.has(ch) ? `\\${ch}` : literalCodePoint(ch);
}

/** Control characters are written as escapes so a translated pattern stays printable in messages. */
function literalCodePoint(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
}

const FLAG_LETTERS = new Set(['i', 's', 'm', 'x']);

/**
 * Translates one Boost/Perl pattern. Throws BoostRegexError for constructs ECMAScript cannot express.
 * `(?i)`, `(?s)`, `(?m)`, `(?x)` (and combinations) are accepted only at the very start of the pattern.
 */
export function translateBoostRegex(pattern: string): TranslatedRegex {
  const flags = new Set<string>();
  let pos = 0;
  // A leading inline-flag group applies to the whole pattern: ECMAScript flags.
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (lead) {
    for (const letter of lead[1]!) {
      if (!FLAG_LETTERS.has(letter)) {
        throw new BoostRegexError(lead[0], `unsupported inline flag "${letter}"`, 'only (?i), (?s), (?m) and (?x) are supported');
      }
      flags.add(letter);
    }
    pos = lead[0].length;
  }
  const extended = flags.has('x');
  flags.delete('x');

  let out = '';
  let inClass = false;
  /** Index in `out` where the current class's content starts, to tell a leading `]` (a literal in Boost). */
  let classContentStart = -1;

  while (pos < pattern.length) {
    const ch = pattern[pos]!;

    if (inClass) {
      if (ch === ']' && out.length > classContentStart) {
        out += ']';
        inClass = false;
        pos++;
        continue;
      }
      if (ch === ']') {
        // `[]a]` and `[^]a]`: a `]` first in a Boost class is a literal.
        out += '\\]';
        pos++;
        continue;
      }
      if (ch === '[' && pattern[pos + 1] === ':') {
        const end = pattern.indexOf(':]', pos + 2);
        if (end < 0) throw new BoostRegexError(pattern.slice(pos, pos + 10), 'unterminated POSIX class', 'write it as [:name:] inside brackets, e.g. [[:digit:]]');
        const raw = pattern.slice(pos + 2, end);
        const negated = raw.startsWith('^');
        const name = negated ? raw.slice(1) : raw;
        const replacement = negated ? NEGATED_POSIX[name] : POSIX_CLASSES[name];
        if (replacement === undefined) {
          throw new BoostRegexError(
            pattern.slice(pos, end + 2),
            negated ? `negated POSIX class [:^${name}:] is not supported` : `unknown POSIX class [:${name}:]`,
            negated ? 'use a negated bracket instead, e.g. [^[:alpha:]]' : `known classes: ${Object.keys(POSIX_CLASSES).join(', ')}`,
          );
        }
        out += replacement;
        pos = end + 2;
        continue;
      }
      if (ch === '[' && (pattern[pos + 1] === '=' || pattern[pos + 1] === '.')) {
        throw new BoostRegexError(pattern.slice(pos, pos + 6), 'collating elements and equivalence classes ([=x=], [.x.]) are not supported', 'list the characters explicitly');
      }
      if (ch === '\\') {
        const [text, consumed] = translateEscape(pattern, pos, true);
        out += text;
        pos += consumed;
        continue;
      }
      out += ch === '[' ? '\\[' : literalCodePoint(ch);
      pos++;
      continue;
    }

    if (extended && /\s/.test(ch)) {
      pos++;
      continue;
    }
    if (extended && ch === '#') {
      const nl = pattern.indexOf('\n', pos);
      pos = nl < 0 ? pattern.length : nl + 1;
      continue;
    }

    switch (ch) {
      case '\\': {
        const [text, consumed] = translateEscape(pattern, pos, false);
        out += text;
        pos += consumed;
        continue;
      }
      case '[': {
        out += '[';
        pos++;
        if (pattern[pos] === '^') {
          out += '^';
          pos++;
        }
        inClass = true;
        classContentStart = out.length;
        continue;
      }
      case '(': {
        const [text, consumed] = translateGroupOpening(pattern, pos);
        out += text;
        pos += consumed;
        continue;
      }
      case '*':
      case '+':
      case '?': {
        out += ch;
        pos++;
        pos = afterQuantifierSuffix(pattern, pos, ch, (lazy) => { if (lazy) out += '?'; });
        continue;
      }
      case '{': {
        const quantifier = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(pos));
        if (!quantifier) {
          out += '\\{'; // not a quantifier: a literal brace, as Perl reads it
          pos++;
          continue;
        }
        out += quantifier[0];
        pos += quantifier[0].length;
        pos = afterQuantifierSuffix(pattern, pos, quantifier[0], (lazy) => { if (lazy) out += '?'; });
        continue;
      }
      case '}':
        out += '\\}';
        pos++;
        continue;
      case ']':
        out += '\\]';
        pos++;
        continue;
      case '/':
        out += '\\/';
        pos++;
        continue;
      default:
        out += literalCodePoint(ch);
        pos++;
    }
  }
  if (inClass) throw new BoostRegexError(pattern.slice(-10), 'unterminated character class "["', 'close it with "]"');
  return { source: out, flags: [...flags].sort().join('') + 'u' };
}

/** After a quantifier: `?` makes it lazy (kept); `+` makes it possessive (rejected with a rewrite). */
function afterQuantifierSuffix(pattern: string, pos: number, quantifier: string, emitLazy: (lazy: boolean) => void): number {
  const next = pattern[pos];
  if (next === '?') {
    emitLazy(true);
    return pos + 1;
  }
  if (next === '+') {
    throw new BoostRegexError(
      `${quantifier}+`,
      'possessive quantifiers are not supported in ECMAScript',
      `drop the trailing "+" (write "${quantifier}") and make the repeated part unable to match what follows it, or emulate with (?=(X${quantifier}))\\N`,
    );
  }
  emitLazy(false);
  return pos;
}

/** Translates the group opening at `pos` (which is `(`); returns [text, characters consumed]. */
function translateGroupOpening(pattern: string, pos: number): [string, number] {
  const rest = pattern.slice(pos);
  if (!rest.startsWith('(?') && !rest.startsWith('(*')) return ['(', 1];
  if (rest.startsWith('(*')) {
    throw new BoostRegexError(rest.slice(0, rest.indexOf(')') + 1 || 8), 'backtracking control verbs like (*SKIP) or (*FAIL) are not supported', 'remove the verb; use (?!) for (*FAIL)');
  }
  const simple: Array<[string, string]> = [
    ['(?:', '(?:'],
    ['(?=', '(?='],
    ['(?!', '(?!'],
    ['(?<=', '(?<='],
    ['(?<!', '(?<!'],
  ];
  for (const [boost, ecma] of simple) if (rest.startsWith(boost)) return [ecma, boost.length];

  const named = /^\(\?(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
  if (named) return [`(?<${named[1] ?? named[2]}>`, named[0].length];
  const namedBackref = /^\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
  if (namedBackref) return [`\\k<${namedBackref[1]}>`, namedBackref[0].length];
  if (rest.startsWith('(?#')) {
    const end = rest.indexOf(')');
    if (end < 0) throw new BoostRegexError('(?#', 'unterminated comment group', 'close it with ")"');
    return ['', end + 1];
  }
  if (rest.startsWith('(?>')) {
    throw new BoostRegexError('(?>', 'atomic groups are not supported in ECMAScript', 'use a plain group (?:...) whose content cannot match what follows it, or emulate (?>X) with (?=(X))\\N');
  }
  if (rest.startsWith('(?|')) {
    throw new BoostRegexError('(?|', 'branch-reset groups are not supported in ECMAScript', 'give each alternative its own group; the value is taken from the first group that matched');
  }
  if (rest.startsWith('(?(')) {
    throw new BoostRegexError(rest.slice(0, rest.indexOf(')') + 1), 'conditional groups are not supported in ECMAScript', 'write the alternatives out with (?:A|B) and lookaheads');
  }
  const recursion = /^\(\?(R|[+-]?\d+|&\w+|P>\w+)\)/.exec(rest);
  if (recursion) {
    throw new BoostRegexError(recursion[0], 'recursion and subroutine calls are not supported in ECMAScript', 'repeat the sub-pattern explicitly, with a bounded nesting depth');
  }
  const inlineFlags = /^\(\?[a-zA-Z]*(?:-[a-zA-Z]*)?[:)]/.exec(rest);
  if (inlineFlags) {
    throw new BoostRegexError(inlineFlags[0], 'inline flags are supported only as a whole-pattern prefix like (?i) at the very start', 'move the flags to the start of the pattern, or spell cases out, e.g. [Uu][Rr][Ll]');
  }
  throw new BoostRegexError(rest.slice(0, 4), 'unknown group syntax', 'use (...), (?:...), (?=...), (?!...), (?<=...), (?<!...) or (?<name>...)');
}

const SIMPLE_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'n', 'r', 't', 'f']);

/** Translates the escape at `pos` (which is `\`); returns [text, characters consumed]. */
function translateEscape(pattern: string, pos: number, inClass: boolean): [string, number] {
  const next = pattern[pos + 1];
  if (next === undefined) throw new BoostRegexError('\\', 'pattern ends with a lone backslash', 'escape it as \\\\');
  if (SIMPLE_ESCAPES.has(next)) return [`\\${next}`, 2];
  switch (next) {
    case 'b':
      return [inClass ? '\\x08' : '\\b', 2];
    case 'B':
      if (inClass) throw new BoostRegexError('\\B', '\\B inside a character class has no meaning', 'remove it');
      return ['\\B', 2];
    case 'A':
      if (inClass) throw new BoostRegexError('\\A', 'anchor inside a character class', 'move \\A out of the brackets');
      return ['(?<![\\s\\S])', 2]; // start of input, whatever the m flag says
    case 'z':
      if (inClass) throw new BoostRegexError('\\z', 'anchor inside a character class', 'move \\z out of the brackets');
      return ['(?![\\s\\S])', 2];
    case 'Z':
      if (inClass) throw new BoostRegexError('\\Z', 'anchor inside a character class', 'move \\Z out of the brackets');
      return ['(?=\\n?(?![\\s\\S]))', 2];
    case 'h':
      return [inClass ? HORIZONTAL_SPACE : `[${HORIZONTAL_SPACE}]`, 2];
    case 'H':
      if (inClass) throw new BoostRegexError('\\H', '\\H inside a character class is not supported', 'use a negated class of the characters you want to exclude');
      return [`[^${HORIZONTAL_SPACE}]`, 2];
    case 'v':
      return [inClass ? VERTICAL_SPACE : `[${VERTICAL_SPACE}]`, 2];
    case 'V':
      if (inClass) throw new BoostRegexError('\\V', '\\V inside a character class is not supported', 'use a negated class of the characters you want to exclude');
      return [`[^${VERTICAL_SPACE}]`, 2];
    case 'R':
      if (inClass) throw new BoostRegexError('\\R', '\\R inside a character class', 'use [\\r\\n] inside brackets');
      return [`(?:\\r\\n|[${VERTICAL_SPACE}])`, 2];
    case 'e':
      return ['\\x1b', 2];
    case 'a':
      return ['\\x07', 2];
    case '0': {
      const octal = /^[0-7]{0,2}/.exec(pattern.slice(pos + 2))![0];
      return [`\\x${parseInt(octal || '0', 8).toString(16).padStart(2, '0')}`, 2 + octal.length];
    }
    case 'x': {
      const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(pattern.slice(pos + 2));
      if (braced) return [`\\u{${braced[1]}}`, 2 + braced[0].length];
      const two = /^[0-9A-Fa-f]{2}/.exec(pattern.slice(pos + 2));
      if (two) return [`\\x${two[0]}`, 4];
      throw new BoostRegexError(pattern.slice(pos, pos + 4), 'malformed \\x escape', 'write \\xHH or \\x{HHHH}');
    }
    case 'o': {
      const braced = /^\{([0-7]{1,8})\}/.exec(pattern.slice(pos + 2));
      if (!braced) throw new BoostRegexError(pattern.slice(pos, pos + 4), 'malformed \\o escape', 'write \\o{17}');
      return [`\\u{${parseInt(braced[1]!, 8).toString(16)}}`, 2 + braced[0].length];
    }
    case 'c': {
      const letter = pattern[pos + 2];
      if (!letter || !/[A-Za-z]/.test(letter)) throw new BoostRegexError(pattern.slice(pos, pos + 3), 'malformed \\c escape', 'write \\cX with a letter');
      return [`\\c${letter}`, 3];
    }
    case 'p':
    case 'P': {
      const braced = /^\{\^?[A-Za-z_=]+\}/.exec(pattern.slice(pos + 2));
      if (braced) {
        const negate = braced[0][1] === '^';
        const name = braced[0].slice(negate ? 2 : 1, -1);
        const upper = (next === 'P') !== negate;
        return [`\\${upper ? 'P' : 'p'}{${name}}`, 2 + braced[0].length];
      }
      const letter = pattern[pos + 2];
      if (letter && /[A-Za-z]/.test(letter)) return [`\\${next}{${letter}}`, 3];
      throw new BoostRegexError(pattern.slice(pos, pos + 4), `malformed \\${next} escape`, `write \\${next}{L}`);
    }
    case 'g':
    case 'k': {
      const ref = /^(?:\{(-?\w+)\}|<(\w+)>|'(\w+)'|(-?\d+))/.exec(pattern.slice(pos + 2));
      if (!ref) throw new BoostRegexError(pattern.slice(pos, pos + 4), `malformed \\${next} back-reference`, 'write \\1 or \\k<name>');
      const target = ref[1] ?? ref[2] ?? ref[3] ?? ref[4]!;
      if (target.startsWith('-')) throw new BoostRegexError(pattern.slice(pos, pos + 2 + ref[0].length), 'relative back-references are not supported', 'refer to the group by its number, e.g. \\2');
      return [/^\d+$/.test(target) ? `\\${target}` : `\\k<${target}>`, 2 + ref[0].length];
    }
    case 'Q': {
      const end = pattern.indexOf('\\E', pos + 2);
      const literal = pattern.slice(pos + 2, end < 0 ? pattern.length : end);
      const text = [...literal].map((c) => escapeLiteral(c, inClass)).join('');
      return [text, 2 + literal.length + (end < 0 ? 0 : 2)];
    }
    case 'E':
      return ['', 2]; // a stray \E ends nothing; Perl ignores it
    case 'G':
      throw new BoostRegexError('\\G', '\\G (end of the previous match) is not supported', 'anchor on the text before the value instead, e.g. (?<=key=)');
    case 'K':
      throw new BoostRegexError('\\K', '\\K (keep-out) is not supported', 'put the prefix in a lookbehind (?<=prefix) or capture the value in group 1');
    case 'X':
      throw new BoostRegexError('\\X', '\\X (extended grapheme cluster) is not supported', 'use . or [\\s\\S]');
    case 'C':
      throw new BoostRegexError('\\C', '\\C (single byte) is not supported', 'use . or [\\s\\S]');
    case 'l':
    case 'u':
    case 'L':
    case 'U':
      throw new BoostRegexError(`\\${next}`, `case-conversion escape \\${next} is only meaningful in replacement text`, 'use a character class such as [A-Z]');
    default:
      break;
  }
  if (/[1-9]/.test(next)) {
    if (inClass) throw new BoostRegexError(`\\${next}`, 'a back-reference inside a character class has no meaning', 'use \\x escapes for octal characters');
    const digits = /^\d+/.exec(pattern.slice(pos + 1))![0];
    return [`\\${digits}`, 1 + digits.length];
  }
  if (/[A-Za-z0-9]/.test(next)) {
    throw new BoostRegexError(`\\${next}`, `unknown escape \\${next}`, `write "${next}" without the backslash if you mean the letter`);
  }
  // Any other escaped character stands for itself (\=, \:, \", \-, \/ ...). That includes \< and \>, which
  // Boost could read as word boundaries: Kaspersky's own documented rule `^\<(\d+)\>` means the syslog <PRI>.
  const codePoint = String.fromCodePoint(pattern.codePointAt(pos + 1)!);
  return [escapeLiteral(codePoint, inClass), 1 + codePoint.length];
}

/** Number of capture groups of a compiled regex. */
export function groupCount(regex: RegExp): number {
  return new RegExp(`${regex.source}|`, regex.flags.replace(/[gy]/g, '')).exec('')!.length - 1;
}

/** Constructs that only mean what they say with the `u` flag: property classes, braced code points, astral characters. */
const NEEDS_UNICODE_FLAG = /\\[pP]\{|\\u\{|[\uD800-\uDFFF]/;

/**
 * Translates and compiles; `extraFlags` (e.g. `g`, `y`) are added to the translated ones. The pattern is always
 * validated with the strict `u` flag; the returned RegExp drops `u` when nothing in it needs it, because V8 scans
 * non-Unicode patterns markedly faster (up to ~25 % on the default IP regex) and the translation emits only escapes
 * that mean the same in both modes.
 */
export function compileBoostRegex(pattern: string, extraFlags = ''): RegExp {
  const translated = translateBoostRegex(pattern);
  const flags = [...new Set(translated.flags + extraFlags)].join('');
  let strict: RegExp;
  try {
    strict = new RegExp(translated.source, flags);
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    throw new BoostRegexError('', `does not compile as ECMAScript (translated to /${translated.source}/${flags}): ${message}`, 'check brackets, group names and back-references');
  }
  return NEEDS_UNICODE_FLAG.test(translated.source) ? strict : new RegExp(translated.source, flags.replace('u', ''));
}

/**
 * Replacement text of a Boost/Perl normalizing rule (`\1`, `$1`, `${name}`, `\\`, and escaped characters like
 * `\:`) → a function usable with String.replace, since Boost's `\1` style has no ECMAScript replacement syntax.
 */
export function compileReplacement(output: string, groups: number): (match: string, ...args: unknown[]) => string {
  type Part = string | number;
  const parts: Part[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal) parts.push(literal);
    literal = '';
  };
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    const next = output[i + 1];
    if ((ch === '\\' || ch === '$') && next !== undefined && /\d/.test(next)) {
      flush();
      parts.push(Number(next));
      i++;
    } else if (ch === '$' && next === '{') {
      const end = output.indexOf('}', i);
      const ref = end < 0 ? '' : output.slice(i + 2, end);
      if (!/^\d+$/.test(ref)) throw new BoostRegexError(output.slice(i, end + 1), 'only numbered references like ${1} are supported in replacement text', 'use \\1');
      flush();
      parts.push(Number(ref));
      i = end;
    } else if (ch === '$' && next === '&') {
      flush();
      parts.push(0);
      i++;
    } else if (ch === '\\' && next !== undefined) {
      literal += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next === 's' ? ' ' : next;
      i++;
    } else {
      literal += ch;
    }
  }
  flush();
  for (const part of parts) {
    if (typeof part === 'number' && part > groups) {
      throw new BoostRegexError(`\\${part}`, `the replacement refers to group ${part} but the input regex has ${groups} group(s)`, 'refer to an existing group or add one to the input regex');
    }
  }
  return (match: string, ...args: unknown[]): string => {
    let result = '';
    for (const part of parts) {
      if (typeof part === 'string') result += part;
      else if (part === 0) result += match;
      else {
        const group = args[part - 1];
        if (typeof group === 'string') result += group;
      }
    }
    return result;
  };
}
