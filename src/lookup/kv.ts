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

/**
 * The fast path, or undefined when the line needs the general parser. Same results where it answers.
 *
 * One pass over the line with indexOf, key and value sliced straight from it (no word array, no per-word
 * strings). The next `=`, `"` and `\\` are searched once and kept until the scan passes them, so a hostile line
 * of many words without `=` stays linear.
 */
export function parseKvSimple(line: string): KvLine | undefined {
  if (OTHER_SPACE.test(line)) return undefined;
  const prefix: string[] = [];
  const pairs: Array<[string, string]> = [];
  // Whether the last pair's value was bare, so a following word without `=` continues it.
  let lastBare = false;
  const end = line.length;
  // The next `=`, `"` and `\\` at or after the last position searched from; `end` when there is none.
  let eq = -1;
  let quote = -1;
  let backslash = -1;
  for (let start = 0; start < end; ) {
    if (line.charCodeAt(start) === 32) {
      start++;
      continue;
    }
    let stop = line.indexOf(' ', start);
    if (stop < 0) stop = end;
    if (eq < start) eq = indexOr(line, '=', start, end);
    if (eq === start || eq >= stop) {
      // A word without `=` (or starting with one): a prefix word, or more of the last bare value.
      if (quote < start) quote = indexOr(line, '"', start, end);
      if (quote < stop) return undefined;
      if (pairs.length === 0) prefix.push(line.slice(start, stop));
      else if (lastBare) pairs[pairs.length - 1]![1] += ' ' + line.slice(start, stop);
    } else {
      const from = eq + 1;
      let value: string;
      if (from < stop && line.charCodeAt(from) === 34) {
        // `key="..."`: closed at the word's end, with neither `"` nor `\\` inside.
        if (stop - from < 2 || line.charCodeAt(stop - 1) !== 34) return undefined;
        if (quote <= from) quote = indexOr(line, '"', from + 1, end);
        if (quote < stop - 1) return undefined;
        if (backslash <= from) backslash = indexOr(line, '\\', from + 1, end);
        if (backslash < stop) return undefined;
        value = line.slice(from + 1, stop - 1);
        lastBare = false;
      } else {
        value = line.slice(from, stop);
        lastBare = true;
      }
      pairs.push([line.slice(start, eq), value]);
    }
    start = stop + 1;
  }
  return { prefix, pairs };
}

/** The first `char` at or after `from`, or `end` when there is none. */
function indexOr(line: string, char: string, from: number, end: number): number {
  const at = line.indexOf(char, from);
  return at < 0 ? end : at;
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
