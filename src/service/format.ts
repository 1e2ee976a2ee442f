/**
 * Output lines (docs/event-formats.md): detections (`EventFormat`), finished events (`FinishedEventFormat`) and
 * service alerts (`AlertFormat`), from CyberTrace `%Pattern%` templates compiled once per config.
 *
 * Every substituted value goes through `quoteValue`, so key=value pairs split unambiguously in Splunk
 * (`KV_MODE = auto_escaped`) and no value can put a line break into a line.
 */
import type { ContextFields, Match, QueryType } from '../types.js';
import type { OutputConfig } from './config.js';

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Characters that force quoting: whitespace, `"`, `=`, `\` and control characters (C0, DEL, C1). */
const NEEDS_QUOTES = /[\s"=\\\x00-\x1f\x7f-\x9f]/u;
/** Escaped inside quotes (docs/event-formats.md): backslash, quote, C0/DEL/C1 controls (Splunk breaks lines on CR/LF only). */
const ESCAPED = /[\\"\x00-\x1f\x7f-\x9f]/gu;
const NAMED_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\r': '\\r', '\n': '\\n', '\t': '\\t' };

function escapeCharacter(ch: string): string {
  const named = NAMED_ESCAPES[ch];
  if (named) return named;
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * A value as written in a line: bare when non-empty and free of whitespace, `"`, `=`, `\` and control
 * characters; otherwise double-quoted with `\\`, `\"`, `\r`, `\n`, `\t` and `\xHH` escapes; empty → `""`.
 */
export function quoteValue(value: string): string {
  if (value === '') return '""';
  if (isBare(value)) return value;
  return `"${value.replace(ESCAPED, escapeCharacter)}"`;
}

/** ASCII characters that NEEDS_QUOTES matches, as a table: most values are short ASCII, checked per line. */
const SPECIAL_ASCII = new Uint8Array(128).map((_, c) => (NEEDS_QUOTES.test(String.fromCharCode(c)) ? 1 : 0));

/** Whether NEEDS_QUOTES finds nothing in `text` (a table look-up per ASCII character, the regex beyond ASCII). */
function isBare(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return !NEEDS_QUOTES.test(text);
    if (SPECIAL_ASCII[c] === 1) return false;
  }
  return true;
}

/** A context field name as a key: characters that would end or break the key become `_`. */
export function keyName(name: string): string {
  if (name !== '' && isBare(name)) return name;
  const cleaned = name.replace(/[\s"=\\\x00-\x1f\x7f-\x9f]/gu, '_');
  return cleaned === '' ? '_' : cleaned;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

let cachedSecond = -1;
let cachedDate = '';

/** `Mon DD HH:MM:SS` in local time, the day padded with a space (syslog style). Cached per second. */
export function formatDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second === cachedSecond) return cachedDate;
  const day = date.getDate();
  cachedDate = `${MONTHS[date.getMonth()]} ${day < 10 ? ` ${day}` : day} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  cachedSecond = second;
  return cachedDate;
}

// ---------------------------------------------------------------------------------------------------------------
// Templates

/** A compiled template: literal text and `%Name%` slots, alternating (literals.length === names.length + 1). */
export interface Template {
  literals: string[];
  names: string[];
}

/** Splits a template at `%Name%` patterns (a `%` not starting a pattern is literal text). */
export function compileTemplate(template: string): Template {
  const literals: string[] = [];
  const names: string[] = [];
  const pattern = /%([A-Za-z_][A-Za-z0-9_]*)%/g;
  let last = 0;
  for (const match of template.matchAll(pattern)) {
    literals.push(template.slice(last, match.index));
    names.push(match[1]!);
    last = match.index! + match[0].length;
  }
  literals.push(template.slice(last));
  return { literals, names };
}

/** Fills a template; `valueOf` returns the text for a slot, already quoted where it must be. */
function fill(template: Template, valueOf: (name: string) => string): string {
  let out = template.literals[0]!;
  for (let i = 0; i < template.names.length; i++) out += valueOf(template.names[i]!) + template.literals[i + 1]!;
  return out;
}

/** Renders context fields with a field template (`%ParamName%`, `%ParamValue%`), concatenated. */
function renderFields(template: Template, fields: ContextFields): string {
  let out = '';
  for (const [name, value] of fields) out += renderField(template, name, value);
  return out;
}

/** One context field with a field template. */
function renderField(template: Template, name: string, value: string): string {
  return fill(template, (slot) => (slot === 'ParamName' ? keyName(name) : slot === 'ParamValue' ? quoteValue(value) : ''));
}

/** The output side of a config with every template compiled once. */
export interface CompiledOutput {
  event: Template;
  recordField: Template;
  actionableField: Template;
  actionableFields: ReadonlySet<string>;
  alert?: Template;
  finished: Template;
}

const compiledCache = new WeakMap<OutputConfig, CompiledOutput>();

/** Compiles (once per OutputConfig object) the templates of a config's output section. */
export function compileOutput(output: OutputConfig): CompiledOutput {
  let compiled = compiledCache.get(output);
  if (!compiled) {
    compiled = {
      event: compileTemplate(output.eventFormat),
      recordField: compileTemplate(output.recordFieldContextFormat),
      actionableField: compileTemplate(output.actionableFieldContextFormat),
      actionableFields: new Set(output.actionableFields),
      alert: output.alertFormat === undefined ? undefined : compileTemplate(output.alertFormat),
      finished: compileTemplate(output.finishedEventFormat.template),
    };
    compiledCache.set(output, compiled);
  }
  return compiled;
}

/** `%<RegexName>%`: the value that regex extracted — the matched one if it is among them, else the first; empty when none. */
function regexValue(values: ReadonlyMap<string, readonly string[]>, name: string, matchedValue: string | undefined): string {
  const found = values.get(name);
  if (!found || found.length === 0) return '';
  return matchedValue !== undefined && found.includes(matchedValue) ? matchedValue : found[0]!;
}

export interface DetectionInput {
  date: Date;
  match: Match;
  /** The extracted value that matched, as the event had it. */
  matchedValue: string;
  queryType: QueryType;
  sourceId: string;
  /** Regex name → extracted values (EventExtraction.values). */
  values: ReadonlyMap<string, readonly string[]>;
  /** The regex that produced the query; its `%Name%` shows `matchedValue`. */
  regexName?: string;
}

/** One detection line, without the trailing `\n`. */
export function renderDetection(output: OutputConfig, input: DetectionInput): string {
  const compiled = compileOutput(output);
  const { match } = input;
  return fill(compiled.event, (name) => {
    switch (name) {
      case 'Date':
        return formatDate(input.date);
      case 'Category':
        return quoteValue(match.category);
      case 'MatchedIndicator':
        return quoteValue(match.matchedIndicator);
      case 'FeedName':
        return quoteValue(match.feed);
      case 'IndicatorType':
        return quoteValue(match.type);
      case 'MatchedValue':
        return quoteValue(input.matchedValue);
      case 'SourceId':
        return quoteValue(input.sourceId);
      case 'RecordContext':
        return renderFields(compiled.recordField, match.context);
      case 'ActionableFields':
        return compiled.actionableFields.size === 0 ? '' : renderFields(compiled.actionableField, match.context.filter(([n]) => compiled.actionableFields.has(n)));
      default:
        if (name === input.regexName) return quoteValue(input.matchedValue);
        return quoteValue(regexValue(input.values, name, input.matchedValue));
    }
  });
}

export interface FinishedInput {
  date: Date;
  /** Detection lines sent for the event. */
  sentEvents: number;
  /** Category → detections of that category for the event, in first-seen order. */
  totals: ReadonlyMap<string, number>;
  values: ReadonlyMap<string, readonly string[]>;
}

/** `<category>:<count>;` repeated, CyberTrace's `total`. */
export function formatTotals(totals: ReadonlyMap<string, number>): string {
  let out = '';
  for (const [category, count] of totals) out += `${category}:${count};`;
  return out;
}

/** The finished event of one input event, without the trailing `\n`. */
export function renderFinished(output: OutputConfig, input: FinishedInput): string {
  const compiled = compileOutput(output);
  return fill(compiled.finished, (name) => {
    if (name === 'Date') return formatDate(input.date);
    if (name === 'RecordContext') {
      return renderField(compiled.recordField, 'sent_events', String(input.sentEvents)) + renderField(compiled.recordField, 'total', formatTotals(input.totals));
    }
    if (name === 'ActionableFields' || name === 'Category' || name === 'MatchedIndicator') return '';
    return quoteValue(regexValue(input.values, name, undefined));
  });
}

export interface AlertInput {
  date: Date;
  /** Alert name, e.g. `KL_ALERT_UpdatedFeed` or `FT_Statistics`. */
  alert: string;
  context: ContextFields;
}

/** A service alert line without the trailing `\n`; null when the config has no AlertFormat (alerts are off). */
export function renderAlert(output: OutputConfig, input: AlertInput): string | null {
  const compiled = compileOutput(output);
  if (!compiled.alert) return null;
  return fill(compiled.alert, (name) => {
    if (name === 'Date') return formatDate(input.date);
    if (name === 'Alert') return quoteValue(input.alert);
    if (name === 'RecordContext') return renderFields(compiled.recordField, input.context);
    return '';
  });
}
