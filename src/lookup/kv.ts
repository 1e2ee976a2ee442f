/**
 * `key=value` text as the service writes it (docs/event-formats.md "Values and quoting"): parsing (the inverse of
 * the service's `quoteValue`), and rendering a record context back into one field with that same quoting.
 *
 * The parser is also lenient enough for a real CyberTrace, which writes values unquoted: a word without `=`
 * after a bare value is taken as the rest of that value (`threat=Trojan Downloader x=1`).
 */
import { quoteValue } from '../service/format.js';

export type KvPair = readonly [key: string, value: string];

export interface KvLine {
  /** Words before the first `key=value` (the syslog date, or a balancer-style request id). */
  prefix: string[];
  pairs: KvPair[];
}

/**
 * One token: `key="quoted"`, `key=bare`, or a word without `=`. A quoted value may lack its closing quote
 * (a truncated line): it then runs to the end. Matching token by token with one regex keeps parsing fast; every
 * detection line of a run goes through here.
 */
const TOKEN = /([^\s=]+)=(?:"((?:[^"\\]|\\[\s\S])*)("?)|(\S*))|(\S+)/g;

/** Parses one line; most lines take the fast path (space-separated, no escapes, no spaces inside quotes). */
export function parseKv(line: string): KvLine {
  return parseKvSimple(line) ?? parseKvGeneral(line);
}

/** Whitespace other than a plain space: such lines take the general path. */
const OTHER_SPACE = /[^\S ]/;

/** The fast path, or undefined when the line needs the general parser. Same results where it answers. */
export function parseKvSimple(line: string): KvLine | undefined {
  if (OTHER_SPACE.test(line)) return undefined;
  const prefix: string[] = [];
  const pairs: Array<[string, string]> = [];
  let lastBare = false;
  for (const word of line.split(' ')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    if (eq <= 0) {
      if (word.includes('"')) return undefined;
      if (pairs.length === 0) prefix.push(word);
      else if (lastBare) pairs[pairs.length - 1]![1] += ' ' + word;
      continue;
    }
    let value = word.slice(eq + 1);
    if (value.charCodeAt(0) === 34) {
      if (value.length < 2 || value.charCodeAt(value.length - 1) !== 34) return undefined;
      value = value.slice(1, -1);
      if (value.includes('"') || value.includes('\\')) return undefined;
      lastBare = false;
    } else {
      lastBare = true;
    }
    pairs.push([word.slice(0, eq), value]);
  }
  return { prefix, pairs };
}

export function parseKvGeneral(line: string): KvLine {
  const prefix: string[] = [];
  const pairs: Array<[string, string]> = [];
  // Whether the last pair's value was bare, so a following word without `=` continues it.
  let lastBare = false;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(line); m !== null; m = TOKEN.exec(line)) {
    if (m[5] !== undefined) {
      if (pairs.length === 0) prefix.push(m[5]);
      else if (lastBare) pairs[pairs.length - 1]![1] += ' ' + m[5];
      continue;
    }
    if (m[2] !== undefined) {
      pairs.push([m[1]!, m[2].includes('\\') ? unescape(m[2]) : m[2]]);
      lastBare = false;
    } else {
      pairs.push([m[1]!, m[4]!]);
      lastBare = true;
    }
  }
  return { prefix, pairs };
}

/** Decodes the escapes of a quoted value. */
function unescape(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\s\S])/g, (_, e: string) => {
    switch (e) {
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      // `\xHH` and `\uHHHH` are code points; `\\`, `\"` and any other escaped character stand for themselves.
      default: return e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e;
    }
  });
}

export function formatKv(pairs: readonly KvPair[]): string {
  return pairs.map(([k, v]) => `${k}=${quoteValue(v)}`).join(' ');
}
