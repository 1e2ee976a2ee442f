/**
 * A faithful model of the parts of Splunk's event processing the app's parsing rules rely on, so tests can
 * apply the shipped props.conf/transforms.conf/eventtypes.conf to real service output with no Splunk here.
 * Each function states the Splunk rule it follows (props.conf.spec / transforms.conf.spec wording):
 * - line breaking: `LINE_BREAKER`'s first capture group is the break and is dropped; `SHOULD_LINEMERGE =
 *   false` keeps each piece an event; `TRUNCATE` cuts an event at that many bytes;
 * - timestamps: text after `TIME_PREFIX`, at most `MAX_TIMESTAMP_LOOKAHEAD` characters, parsed with
 *   `TIME_FORMAT` (strptime: a space in the format matches any run of whitespace);
 * - `REPORT-` transforms: with `FORMAT = $1::$2` the REGEX "is repeatedly applied to the source key", each
 *   match starting where the last ended; `CLEAN_KEYS` (default true), `KEEP_EMPTY_VALS` (default false),
 *   `MV_ADD` (default false: a later value of an existing field is discarded);
 * - `EVAL-` settings: each computed from the fields as extraction left them (they cannot see each other);
 *   the eval subset the app uses: string literals (`\\` and `\"` are escapes, any other backslash is kept, as
 *   in Splunk's `replace(x, "(\d)", "\1")` examples), field names, `replace` (PCRE, global, `\N`
 *   back-references), `urldecode`, `if`, `isnotnull`, `isnull`, `coalesce`, `null`;
 * - event types: a conjunction of `field=value` terms (`*` wildcard, values case-insensitive).
 * Anything outside this subset throws, so a rule the model cannot judge is never silently passed.
 */
import type { ConfStanza } from './conf.js';

export type Fields = Map<string, string>;

const setting = (stanza: ConfStanza, key: string): string | undefined => {
  let value: string | undefined;
  for (const s of stanza.settings) if (s.key === key) value = s.value;
  return value;
};

export class EmulationError extends Error {
  override name = 'EmulationError';
}

/** Splits a raw stream into events by a props stanza's index-time rules. */
export function breakEvents(stream: string, props: ConfStanza): string[] {
  if (setting(props, 'SHOULD_LINEMERGE') !== 'false') throw new EmulationError('only SHOULD_LINEMERGE = false is modelled');
  const breaker = setting(props, 'LINE_BREAKER') ?? '([\\r\\n]+)';
  const truncate = Number(setting(props, 'TRUNCATE') ?? 10000);
  const re = new RegExp(breaker, 'g');
  const events: string[] = [];
  let start = 0;
  for (const m of stream.matchAll(re)) {
    if (m[1] === undefined) throw new EmulationError('LINE_BREAKER needs a capture group');
    const breakStart = m.index! + m[0].indexOf(m[1]);
    events.push(stream.slice(start, breakStart));
    start = breakStart + m[1].length;
  }
  events.push(stream.slice(start));
  return events.filter((e) => e.trim() !== '').map((e) => truncateBytes(e, truncate));
}

function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return max > 0 && bytes.length > max ? bytes.subarray(0, max).toString('utf8') : text;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Month (1-12), day, hour, minute, second of an event, per TIME_PREFIX / MAX_TIMESTAMP_LOOKAHEAD / TIME_FORMAT. */
export function extractTimestamp(event: string, props: ConfStanza): { month: number; day: number; hour: number; minute: number; second: number } {
  const prefix = setting(props, 'TIME_PREFIX');
  const format = setting(props, 'TIME_FORMAT');
  const lookahead = Number(setting(props, 'MAX_TIMESTAMP_LOOKAHEAD') ?? 128);
  if (prefix === undefined || format === undefined) throw new EmulationError('TIME_PREFIX and TIME_FORMAT are required');
  const p = new RegExp(prefix).exec(event);
  if (!p) throw new EmulationError(`TIME_PREFIX ${prefix} does not match: ${event}`);
  const text = event.slice(p.index + p[0].length).slice(0, lookahead);
  const out = { month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  let i = 0;
  const number = (min: number, max: number, digits: number): number => {
    const m = new RegExp(`^\\d{1,${digits}}`).exec(text.slice(i));
    if (!m) throw new EmulationError(`expected a number at "${text.slice(i)}"`);
    i += m[0].length;
    const n = Number(m[0]);
    if (n < min || n > max) throw new EmulationError(`${n} out of range`);
    return n;
  };
  for (let f = 0; f < format.length; f++) {
    const c = format[f]!;
    if (c === '%') {
      const d = format[++f];
      if (d === 'b') {
        const month = MONTHS.indexOf(text.slice(i, i + 3).toLowerCase());
        if (month < 0) throw new EmulationError(`expected a month at "${text.slice(i)}"`);
        out.month = month + 1;
        i += 3;
      } else if (d === 'd' || d === 'e') {
        while (text[i] === ' ') i++; // leading blanks allowed, as strptime does for numbers
        out.day = number(1, 31, 2);
      } else if (d === 'H') out.hour = number(0, 23, 2);
      else if (d === 'M') out.minute = number(0, 59, 2);
      else if (d === 'S') out.second = number(0, 60, 2);
      else throw new EmulationError(`TIME_FORMAT directive %${d} is not modelled`);
    } else if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
    } else if (text[i++] !== c) throw new EmulationError(`TIME_FORMAT literal "${c}" does not match "${text}"`);
  }
  return out;
}

/** Splunk's CLEAN_KEYS: non-alphanumerics become `_`, then leading `_` and digits go. */
export function cleanKey(key: string): string {
  return key.replace(/[^A-Za-z0-9]/g, '_').replace(/^[_0-9]+/, '');
}

/**
 * A PCRE pattern as an equivalent JS RegExp (global). Classes, groups, lookarounds and quantifiers mean the same
 * in both, with two adjustments:
 * - PCRE's `\s`/`\S` are ASCII-only unless Unicode properties are switched on, JS's are Unicode-aware: they are
 *   spelled out as ASCII whitespace here (`\S` inside a class cannot be, and is refused);
 * - PCRE-only syntax either fails to compile in JS (`(?|`, `(?P<`) or, worse, compiles to something else (`\A`,
 *   `\z`, `\h` are plain letters in a non-unicode JS regex), so it is refused.
 */
export function pcreAsJs(pattern: string): RegExp {
  const pcreOnly = /\\[AzZGKhHvVRXQE]|\(\?[>|#P]|[*+?}]\+/.exec(pattern);
  if (pcreOnly) throw new EmulationError(`PCRE-only syntax "${pcreOnly[0]}" is not modelled`);
  const ASCII_SPACE = '\\t\\n\\v\\f\\r ';
  let js = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[++i] ?? '';
      if (next === 's') js += inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`;
      else if (next === 'S') {
        if (inClass) throw new EmulationError('\\S inside a character class is not modelled');
        js += `[^${ASCII_SPACE}]`;
      } else js += c + next;
    } else {
      if (c === '[' && !inClass) inClass = true;
      else if (c === ']' && inClass && !/\[\^?$/.test(js)) inClass = false;
      js += c;
    }
  }
  return new RegExp(js, 'g');
}

/** Applies one search-time transforms.conf stanza (REGEX + FORMAT) to `_raw`, adding to `fields`. */
export function applyReport(raw: string, transform: ConfStanza, fields: Fields): void {
  const regex = setting(transform, 'REGEX');
  const format = setting(transform, 'FORMAT');
  if (regex === undefined || format !== '$1::$2') throw new EmulationError('only REGEX with FORMAT = $1::$2 is modelled');
  if ((setting(transform, 'SOURCE_KEY') ?? '_raw') !== '_raw') throw new EmulationError('only SOURCE_KEY = _raw is modelled');
  const cleanKeys = (setting(transform, 'CLEAN_KEYS') ?? 'true') === 'true';
  const keepEmpty = setting(transform, 'KEEP_EMPTY_VALS') === 'true';
  const mvAdd = setting(transform, 'MV_ADD') === 'true';
  if (mvAdd) throw new EmulationError('MV_ADD = true is not modelled');
  const re = pcreAsJs(regex);
  for (const m of raw.matchAll(re)) {
    if (m[0] === '') throw new EmulationError('REGEX matched the empty string');
    const key = cleanKeys ? cleanKey(m[1] ?? '') : (m[1] ?? '');
    const value = m[2] ?? '';
    if (key === '' || (value === '' && !keepEmpty) || fields.has(key)) continue;
    fields.set(key, value);
  }
}

// --- eval subset ---

type Expr = { kind: 'string'; value: string } | { kind: 'field'; name: string } | { kind: 'call'; name: string; args: Expr[] };

export function parseEval(text: string): Expr {
  let i = 0;
  const ws = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const expr = (): Expr => {
    ws();
    if (text[i] === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && (text[i + 1] === '\\' || text[i + 1] === '"')) value += text[++i];
        else value += text[i];
      }
      if (text[i++] !== '"') throw new EmulationError(`unterminated string in ${text}`);
      return { kind: 'string', value };
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))?.[0];
    if (!name) throw new EmulationError(`unexpected "${text.slice(i, i + 20)}" in eval`);
    i += name.length;
    ws();
    if (text[i] !== '(') return { kind: 'field', name };
    i++;
    const args: Expr[] = [];
    ws();
    if (text[i] === ')') i++;
    else
      for (;;) {
        args.push(expr());
        ws();
        const c = text[i++];
        if (c === ')') break;
        if (c !== ',') throw new EmulationError(`expected , or ) in ${text}`);
      }
    return { kind: 'call', name, args };
  };
  const e = expr();
  ws();
  if (i !== text.length) throw new EmulationError(`trailing text "${text.slice(i)}" in eval`);
  return e;
}

/** Splunk's urldecode: %XX sequences are UTF-8 bytes. */
function urldecode(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

export function evaluate(e: Expr, fields: Fields): string | null {
  if (e.kind === 'string') return e.value;
  if (e.kind === 'field') return fields.get(e.name) ?? null;
  const a = (n: number) => evaluate(e.args[n]!, fields);
  switch (e.name) {
    case 'replace': {
      const [s, re, repl] = [a(0), a(1), a(2)];
      if (s === null || re === null || repl === null) return null;
      return s.replace(pcreAsJs(re), (...m: unknown[]) => repl.replace(/\\(\d)/g, (_x, d: string) => String(m[Number(d)] ?? '')));
    }
    case 'urldecode': {
      const s = a(0);
      return s === null ? null : urldecode(s);
    }
    case 'if':
      return a(0) === 'true' ? a(1) : a(2);
    case 'isnotnull':
      return a(0) !== null ? 'true' : 'false';
    case 'isnull':
      return a(0) === null ? 'true' : 'false';
    case 'coalesce':
      for (let n = 0; n < e.args.length; n++) {
        const v = a(n);
        if (v !== null) return v;
      }
      return null;
    case 'null':
      return null;
    default:
      throw new EmulationError(`eval function ${e.name}() is not modelled`);
  }
}

/** Search-time fields of one event: REPORT- transforms in order, then every EVAL- from that state. */
export function searchTimeFields(raw: string, props: ConfStanza, transforms: Map<string, ConfStanza>): Fields {
  const fields: Fields = new Map();
  if ((setting(props, 'KV_MODE') ?? 'auto') !== 'none') throw new EmulationError('only KV_MODE = none is modelled');
  for (const s of props.settings.filter((x) => x.key.startsWith('REPORT-'))) {
    for (const name of s.value.split(',').map((n) => n.trim())) {
      const t = transforms.get(name);
      if (!t) throw new EmulationError(`REPORT names no transform ${name}`);
      applyReport(raw, t, fields);
    }
  }
  const evaluated = props.settings.filter((x) => x.key.startsWith('EVAL-')).map((s) => [s.key.slice(5), evaluate(parseEval(s.value), fields)] as const);
  for (const [name, value] of evaluated) {
    if (value === null) fields.delete(name);
    else fields.set(name, value);
  }
  return fields;
}

/** Whether an event type's search (`field=value` terms, ANDed) matches the event's fields. */
export function eventTypeMatches(search: string, fields: Fields): boolean {
  return search
    .trim()
    .split(/\s+/)
    .every((term) => {
      const m = /^([A-Za-z_][\w.]*)=(.+)$/.exec(term);
      if (!m) throw new EmulationError(`event type term "${term}" is not modelled`);
      const value = fields.get(m[1]!);
      if (value === undefined) return false;
      const pattern = new RegExp(`^${m[2]!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'is');
      return pattern.test(value);
    });
}
