/**
 * `key=value` text as the service writes it (docs/event-formats.md "Values and quoting"): parsing, and the
 * quoting used when the lookup renders a record context back into one field.
 *
 * The parser is also lenient enough for a real CyberTrace, which writes values unquoted: a word without `=`
 * after a bare value is taken as the rest of that value (`threat=Trojan Downloader x=1`).
 */

export type KvPair = readonly [key: string, value: string];

export interface KvLine {
  /** Words before the first `key=value` (the syslog date, or a balancer-style request id). */
  prefix: string[];
  pairs: KvPair[];
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0x0b || c === 0x0c;

export function parseKv(line: string): KvLine {
  const prefix: string[] = [];
  const pairs: Array<[string, string]> = [];
  // Whether the last pair's value was bare, so a following word without `=` continues it.
  let lastBare = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && line[i] !== '=' && !isSpace(line.charCodeAt(i))) i++;
    if (i >= n || line[i] !== '=' || i === start) {
      // A word with no `=` (or starting with `=`): read it to the next space.
      while (i < n && !isSpace(line.charCodeAt(i))) i++;
      const word = line.slice(start, i);
      if (pairs.length === 0) prefix.push(word);
      else if (lastBare) pairs[pairs.length - 1]![1] += ' ' + word;
      continue;
    }
    const key = line.slice(start, i);
    i++; // '='
    if (line[i] === '"') {
      const [value, end] = readQuoted(line, i + 1);
      pairs.push([key, value]);
      lastBare = false;
      i = end;
    } else {
      const vstart = i;
      while (i < n && !isSpace(line.charCodeAt(i))) i++;
      pairs.push([key, line.slice(vstart, i)]);
      lastBare = true;
    }
  }
  return { prefix, pairs };
}

/** Reads a quoted value starting after its opening quote; returns the value and the index after the closing quote. */
function readQuoted(line: string, from: number): [string, number] {
  let out = '';
  let i = from;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') return [out, i + 1];
    if (c !== '\\' || i + 1 >= line.length) {
      out += c;
      i++;
      continue;
    }
    const e = line[i + 1]!;
    switch (e) {
      case 'n': out += '\n'; i += 2; break;
      case 'r': out += '\r'; i += 2; break;
      case 't': out += '\t'; i += 2; break;
      case 'x': {
        const hex = line.slice(i + 2, i + 4);
        if (/^[0-9a-fA-F]{2}$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else {
          out += '\\x';
          i += 2;
        }
        break;
      }
      // `\\`, `\"` and any other escaped character stand for themselves.
      default: out += e; i += 2;
    }
  }
  // No closing quote (a truncated line): keep what was there.
  return [out, i];
}

/** Writes a value as the service does: bare when safe, otherwise quoted with escapes. */
export function quoteKvValue(value: string): string {
  if (value !== '' && !/[\s"=\\\x00-\x1f\x7f]/.test(value)) return value;
  let out = '"';
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

export function formatKv(pairs: readonly KvPair[]): string {
  return pairs.map(([k, v]) => `${k}=${quoteKvValue(v)}`).join(' ');
}
