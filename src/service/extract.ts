/**
 * Event → values and lookup queries, by the config's `RegExps` (CyberTrace semantics, docs/service-config.md):
 * the Source whose `ip` matches the connection (or the event's syslog host) applies first, then `default`;
 * a default rule with the same name as a source rule runs only when the source rule found nothing;
 * normalizing rules (the source's, then default's, in document order) run before any regex.
 */
import type { QueryType } from '../types.js';
import { networkContains, type NormalizingRule, type RegexRule, type ServiceConfig, type SourceRules } from './config.js';
import { ADDRESS_PATTERN, DEFAULT_REGEXES, DOMAIN_KEYS, SRC_IP_KEYS, URL_KEYS, hexWordPattern } from './default-config.js';

export interface ExtractedQuery {
  regexName: string;
  type: QueryType;
  value: string;
}

export interface EventExtraction {
  /** The Source id that parsed the event (`default` when no specific source applied). */
  sourceId: string;
  /** Regex name → values in event order, without duplicates (CONTEXT regexes included). */
  values: Map<string, string[]>;
  /** One per distinct (type, value) of the non-CONTEXT regexes, in rule order then event order. */
  queries: ExtractedQuery[];
  /** The event after normalizing rules. */
  event: string;
}

/** RFC 3164 `<PRI>Mmm dd hh:mm:ss HOST` or RFC 5424 `<PRI>1 TIMESTAMP HOST`: the HOSTNAME field. */
const SYSLOG_HOST = /^<\d{1,3}>(?:\d{1,2} \S+ |[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )(\S+)/;

/** The value of one regex match: the first capture group that took part, else the whole match. */
function matchValue(match: RegExpExecArray): string {
  for (let i = 1; i < match.length; i++) {
    const group = match[i];
    if (group !== undefined) return group;
  }
  return match[0];
}

/** Runs one regex over an event; `first` stops at the first non-empty value. */
export function runRegex(rule: RegexRule, event: string): string[] {
  const regex = rule.regex;
  const values: string[] = [];
  regex.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = regex.exec(event)) !== null) {
    if (match[0].length === 0) regex.lastIndex++; // an empty match must not loop forever
    const value = matchValue(match);
    if (value === '' || values.includes(value)) continue;
    values.push(value);
    if (rule.extract === 'first') break;
  }
  regex.lastIndex = 0;
  return values;
}

/**
 * The default hash rules (hexWordPattern) cost half of the extraction when run as three regexes (each tries every
 * position of the event); one scan finds the same words for all of them, for any number of lengths.
 * The length of the hex words a rule extracts when its pattern is exactly hexWordPattern(length), else null.
 */
function hexWordLength(rule: RegexRule): number | null {
  const length = Number(/\{(\d+)\}/.exec(rule.pattern)?.[1]);
  if (!(length > 0) || rule.pattern !== hexWordPattern(length)) return null;
  // The pattern decides the flags (no inline flags here: `g`, with or without `u`, which these words do not depend on).
  return rule.regex.flags === 'g' || rule.regex.flags === 'gu' ? length : null;
}

/** Code unit → 1 hex digit, 2 other word character (`\w`, which is ASCII-only for `\b` without the `i` flag), 0 other. */
const WORD_CLASS = new Uint8Array(128);
for (let unit = 0; unit < 128; unit++) {
  const char = String.fromCharCode(unit);
  WORD_CLASS[unit] = /[0-9A-Fa-f]/.test(char) ? 1 : /\w/.test(char) ? 2 : 0;
}
const wordClass = (text: string, at: number): number => {
  const unit = text.charCodeAt(at);
  return unit < 128 ? WORD_CLASS[unit]! : 0;
};
const HYPHEN = 0x2d;
const IMPHASH = 'IMPHASH=';

/**
 * The words hexWordPattern(n) finds for each n of `lengths`, in event order: `\b[hex]{n}\b` is a whole run of
 * word characters that is all hex, and the lookarounds exclude a "-" on either side and a preceding "IMPHASH=".
 * A run at least `shortest` long covers an index ≡ shortest - 1 (mod shortest), so only those indexes are read
 * until one falls inside a word; that run is then expanded both ways.
 */
function findHexWords(text: string, lengths: ReadonlySet<number>, shortest: number): Map<number, string[]> | null {
  let words: Map<number, string[]> | null = null;
  const end = text.length;
  for (let probe = shortest - 1; probe < end; probe += shortest) {
    if (wordClass(text, probe) === 0) continue;
    let start = probe;
    while (start > 0 && wordClass(text, start - 1) !== 0) start--;
    let stop = probe + 1;
    while (stop < end && wordClass(text, stop) !== 0) stop++;
    if (lengths.has(stop - start)) {
      let allHex = true;
      for (let i = start; allHex && i < stop; i++) allHex = wordClass(text, i) === 1;
      const hyphenBefore = start > 0 && text.charCodeAt(start - 1) === HYPHEN;
      const hyphenAfter = stop < end && text.charCodeAt(stop) === HYPHEN;
      const imphash = start >= IMPHASH.length && text.startsWith(IMPHASH, start - IMPHASH.length);
      if (allHex && !hyphenBefore && !hyphenAfter && !imphash) {
        words ??= new Map();
        const list = words.get(stop - start);
        if (list) list.push(text.slice(start, stop));
        else words.set(stop - start, [text.slice(start, stop)]);
      }
    }
    // The next run starts after this one: the next probe past it.
    while (probe + shortest < stop) probe += shortest;
  }
  return words;
}

/**
 * A sticky copy of the rule's regex, to run only at the positions where it can match (see matchAt), when its flags
 * are those of the shipped patterns: `g`, with `u` or not. `u` changes nothing here: every candidate position is an
 * ASCII character, never inside a surrogate pair.
 */
function stickyCopy(rule: RegexRule): RegExp | null {
  if (rule.regex.flags !== 'g' && rule.regex.flags !== 'gu') return null;
  return new RegExp(rule.regex.source, rule.regex.flags.replace('g', 'y'));
}

const IPV4_CHAR = 1; // [0-9.]
const IPV6_CHAR = 2; // [0-9A-Fa-f:]
/** Code unit → IPV4_CHAR | IPV6_CHAR bits. */
const ADDRESS_CLASS = new Uint8Array(128);
for (let unit = 0; unit < 128; unit++) {
  const char = String.fromCharCode(unit);
  ADDRESS_CLASS[unit] = (/[0-9.]/.test(char) ? IPV4_CHAR : 0) | (/[0-9A-Fa-f:]/.test(char) ? IPV6_CHAR : 0);
}
const inRun = (text: string, at: number, kind: number): boolean => {
  const unit = text.charCodeAt(at);
  return unit < 128 && (ADDRESS_CLASS[unit]! & kind) !== 0;
};
const runStart = (text: string, at: number, kind: number): number => {
  while (at > 0 && inRun(text, at - 1, kind)) at--;
  return at;
};
const runEnd = (text: string, at: number, kind: number): number => {
  while (at < text.length && inRun(text, at, kind)) at++;
  return at;
};
function count(text: string, start: number, end: number, unit: number): number {
  let n = 0;
  for (let at = start; at < end; at++) if (text.charCodeAt(at) === unit) n++;
  return n;
}

/** Adds `start` to the ascending list `starts`, once (there are few: no sort needed). */
function insertStart(starts: number[], start: number): void {
  let at = starts.length;
  while (at > 0 && starts[at - 1]! > start) at--;
  if (at > 0 && starts[at - 1] === start) return;
  if (at === starts.length) starts.push(start);
  else starts.splice(at, 0, start);
}

/**
 * Adds the start of every maximal run of `kind` characters that is at least `shortest` long and has at least
 * `separators` of the code unit `separator`. A run at least `shortest` long covers an index ≡ shortest - 1
 * (mod shortest), so only those indexes are read until one falls inside a run.
 */
function addRuns(text: string, kind: number, shortest: number, separator: number, separators: number, starts: number[]): void {
  for (let probe = shortest - 1; probe < text.length; probe += shortest) {
    if (!inRun(text, probe, kind)) continue;
    const start = runStart(text, probe, kind);
    const end = runEnd(text, probe + 1, kind);
    if (end - start >= shortest && count(text, start, end, separator) >= separators) insertStart(starts, start);
    while (probe + shortest < end) probe += shortest; // the next run starts after this one
  }
}

/**
 * Every position where ADDRESS_PATTERN can match, ascending (maybe a few more). Both of its lookbehinds exclude a
 * word character or "." before the address, so it starts a maximal run of its own characters: an IPv4 address is
 * all [0-9.], at least 7 long, with 3 dots; an IPv6 address is all [0-9A-Fa-f:] and has "::" (forms 2-9) or 7
 * colons (the full form, at least 15 long).
 */
function addressStarts(text: string): number[] {
  const starts: number[] = [];
  addRuns(text, IPV4_CHAR, 7, 0x2e, 3, starts);
  addRuns(text, IPV6_CHAR, 15, 0x3a, 7, starts);
  for (let at = text.indexOf('::'); at >= 0; at = text.indexOf('::', runEnd(text, at, IPV6_CHAR))) {
    insertStart(starts, runStart(text, at, IPV6_CHAR));
  }
  return starts;
}

/**
 * runRegex's values, when every position where the rule's regex can match is in `starts` (ascending, maybe a few
 * more or repeated): its sticky copy tried at each start, left to right, skipping the starts inside the previous
 * match (or at an empty one, as runRegex goes on one further), is the global scan.
 */
function matchAt(sticky: RegExp, text: string, starts: readonly number[], extract: RegexRule['extract']): string[] {
  const values: string[] = [];
  let next = 0;
  for (const start of starts) {
    if (start < next) continue;
    sticky.lastIndex = start;
    const match = sticky.exec(text);
    if (match === null) continue;
    next = Math.max(sticky.lastIndex, start + 1);
    const value = matchValue(match);
    if (value === '' || values.includes(value)) continue;
    values.push(value);
    if (extract === 'first') break;
  }
  return values;
}

/*
 * The keyed default rules (keyed() in default-config.ts) are `(?<![\w.\-?&/=])(?:key|…)"?(?:=|\s*:\s*)"?…`, some
 * with one more alternative. As regexes they are tried at every position of the event; a key ends right before a
 * `=` (after an optional `"`) or before `\s*:` (likewise), and every key is made of [\w.-], which the lookbehind
 * excludes before it: a key is the whole run of [\w.-] before such a separator. One scan of the separators finds
 * the keys of all keyed rules.
 */

const QUOTE = 0x22;
const SLASH = 0x2f;
/** Code unit → 1 when in [\w.-] (ASCII, as `\w` without the `i` flag). */
const KEY_CHAR = new Uint8Array(128);
for (let unit = 0; unit < 128; unit++) KEY_CHAR[unit] = /[\w.-]/.test(String.fromCharCode(unit)) ? 1 : 0;
const isKeyChar = (unit: number): boolean => unit < 128 && KEY_CHAR[unit] === 1;
/** `\s` of a regex (Unicode spaces and line terminators included). */
const isSpace = (unit: number): boolean => (unit < 128 ? unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) : /\s/.test(String.fromCharCode(unit)));

const hashStep = (hash: number, unit: number): number => (Math.imul(hash, 31) + unit) | 0;
/** ASCII case-insensitive: whether the code unit at `at` is the lower-case letter `lower` or its upper case. */
const isLetter = (text: string, at: number, lower: number): boolean => (text.charCodeAt(at) | 0x20) === lower;
const isHttp = (text: string, at: number): boolean =>
  at >= 0 && isLetter(text, at, 0x68) && isLetter(text, at + 1, 0x74) && isLetter(text, at + 2, 0x74) && isLetter(text, at + 3, 0x70);

/**
 * A keyed default pattern: its keys (literal text), and whether its other alternative is RE_URL's free-text URL
 * `\b((?:[Hh][Tt][Tt][Pp][Ss]?)://…` or SRC_IP's `^(IPv4)\s` (no `m` flag: the start of the event).
 */
interface KeyedShape {
  keys: readonly string[];
  other: 'httpUrl' | 'eventStart' | null;
}

function defaultPattern(name: string): string {
  const rule = DEFAULT_REGEXES.find(([ruleName]) => ruleName === name);
  if (!rule) throw new Error(`extract: no default regex ${name}`);
  return rule[3];
}

const keyedShape = (keys: readonly string[], other: KeyedShape['other']): KeyedShape => ({
  keys: keys.map((key) => key.replace(/\\(.)/g, '$1')), // `id\.orig_h` is the text id.orig_h
  other,
});

/** Default pattern text → its shape. */
const KEYED_SHAPES: ReadonlyMap<string, KeyedShape> = new Map([
  [defaultPattern('RE_URL'), keyedShape(URL_KEYS, 'httpUrl')],
  [defaultPattern('RE_DOMAIN'), keyedShape(DOMAIN_KEYS, null)],
  [defaultPattern('SRC_IP'), keyedShape(SRC_IP_KEYS, 'eventStart')],
]);

/**
 * Where each keyed rule of a plan can match, for all of them from one pass over the `=` and `:` of an event (see
 * above). Most runs before a separator are no key: their last two characters rule them out; the others are
 * looked up by a hash computed while walking back over them (open addressing), so only a key costs a string
 * comparison.
 */
class KeyedStarts {
  /** Per keyed rule: the ascending positions where it can match in the last event scanned (reused, not copied). */
  readonly starts: number[][];
  /** The keyed rules (indexes into `starts`) that also match a free-text http(s) URL, or IPv4 at the event start. */
  private readonly httpUrlRules: number[];
  private readonly eventStartRules: number[];
  private readonly keys: string[] = [];
  /** Per key: the keyed rules (indexes into `starts`) that have it. */
  private readonly rulesOfKey: number[][] = [];
  private readonly longest: number;
  /** 1 at (last but one code unit) * 128 + last code unit of a key (all ASCII, at least two long). */
  private readonly endings = new Uint8Array(128 * 128);
  /** Per hash slot: the key's index + 1 (0: empty), and its hash. */
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;

  constructor(shapes: readonly KeyedShape[]) {
    this.starts = shapes.map(() => []);
    const rulesWith = (other: KeyedShape['other']): number[] => shapes.flatMap((shape, rule) => (shape.other === other ? [rule] : []));
    this.httpUrlRules = rulesWith('httpUrl');
    this.eventStartRules = rulesWith('eventStart');
    shapes.forEach((shape, rule) => {
      for (const key of shape.keys) {
        if (!/^[\w.-]{2,}$/.test(key)) throw new Error(`KeyedStarts: a key is two or more of [\\w.-], not "${key}"`);
        const index = this.keys.indexOf(key);
        if (index >= 0) this.rulesOfKey[index]!.push(rule);
        else this.rulesOfKey[this.keys.push(key) - 1] = [rule];
        this.endings[key.charCodeAt(key.length - 2) * 128 + key.charCodeAt(key.length - 1)] = 1;
      }
    });
    this.longest = Math.max(0, ...this.keys.map((key) => key.length));
    const size = 2 ** Math.ceil(Math.log2(4 * this.keys.length + 1)); // mostly empty: a miss ends at once
    this.slots = new Int32Array(size);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
    this.keys.forEach((key, index) => {
      let hash = 0;
      for (let at = key.length - 1; at >= 0; at--) hash = hashStep(hash, key.charCodeAt(at));
      let slot = hash & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = index + 1;
      this.hashes[slot] = hash;
    });
  }

  /** Fills `starts` for the event. */
  scan(text: string): void {
    for (const starts of this.starts) if (starts.length !== 0) starts.length = 0; // setting it is not free
    // `^(IPv4)\s` needs a digit first.
    const first = text.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39) for (const rule of this.eventStartRules) this.starts[rule]!.push(0);
    // The next `=` and the next `:` (-1: none left), each searched for again only once passed: indexOf is much
    // faster than reading every character.
    let equals = text.indexOf('=');
    let colon = text.indexOf(':');
    while (equals >= 0 || colon >= 0) {
      if (colon < 0 || (equals >= 0 && equals < colon)) {
        this.addKeyEndingAt(text, equals);
        equals = text.indexOf('=', equals + 1);
      } else {
        // `\s*:`: the key ends before the spaces.
        let end = colon;
        while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
        this.addKeyEndingAt(text, end);
        if (this.httpUrlRules.length > 0 && text.charCodeAt(colon + 1) === SLASH && text.charCodeAt(colon + 2) === SLASH) this.addHttpUrlAt(text, colon);
        colon = text.indexOf(':', colon + 1);
      }
    }
    // Separators come in order and a key or a scheme lies between two of them (no key ends in http or https), so
    // the lists are ascending (a 0 from the event start may come twice: matchAt tries it once).
  }

  /** Adds the start of `http://` or `https://` (any case) ending at the `://` at `colon`, if there is one. */
  private addHttpUrlAt(text: string, colon: number): void {
    const start = isLetter(text, colon - 1, 0x73) && isHttp(text, colon - 5) ? colon - 5 : isHttp(text, colon - 4) ? colon - 4 : -1;
    if (start >= 0) for (const rule of this.httpUrlRules) this.starts[rule]!.push(start);
  }

  /** Adds the key that is the whole run of [\w.-] before `end` (and an optional `"`), if there is one. */
  private addKeyEndingAt(text: string, end: number): void {
    if (end > 0 && text.charCodeAt(end - 1) === QUOTE) end--;
    if (end < 2) return;
    const last = text.charCodeAt(end - 1);
    const lastButOne = text.charCodeAt(end - 2);
    if (last >= 128 || lastButOne >= 128 || this.endings[lastButOne * 128 + last] === 0) return;
    const longestStart = end - this.longest;
    let start = end;
    let hash = 0;
    for (let unit: number; start > 0 && isKeyChar((unit = text.charCodeAt(start - 1))); start--) {
      if (start === longestStart) return; // longer than any key
      hash = hashStep(hash, unit);
    }
    for (let slot = hash & this.mask; this.slots[slot] !== 0; slot = (slot + 1) & this.mask) {
      if (this.hashes[slot] !== hash) continue;
      const index = this.slots[slot]! - 1;
      const key = this.keys[index]!;
      if (key.length !== end - start || !text.startsWith(key, start)) continue;
      for (const rule of this.rulesOfKey[index]!) this.starts[rule]!.push(start);
      return;
    }
  }
}

/** runRegex's result from a list of matches: non-empty, without duplicates, at most one for `first`. */
function distinctValues(matches: readonly string[], extract: RegexRule['extract']): string[] {
  const values: string[] = [];
  for (const value of matches) {
    if (value === '' || values.includes(value)) continue;
    values.push(value);
    if (extract === 'first') break;
  }
  return values;
}

/**
 * The text a regex can only match where that text occurs, when its source is plain characters (escaped
 * punctuation allowed) and it is case-sensitive; else null. The default CEF rule `\\=` is one: most events have
 * no backslash, and `includes` is far cheaper than `replace` finding nothing.
 */
function literalOf(regex: RegExp): string | null {
  if (regex.flags.includes('i') || !/^(?:[^\\^$.*+?()[\]{}|]|\\[^\w])+$/.test(regex.source)) return null;
  return regex.source.replace(/\\(.)/g, '$1');
}

/** How a rule's values are found: a shipped pattern by a scan of its own (with its sticky copy), any other by its regex. */
type Finder =
  | { kind: 'hexWords'; length: number }
  | { kind: 'address'; sticky: RegExp }
  /** `slot`: its index in the plan's KeyedStarts. */
  | { kind: 'keyed'; sticky: RegExp; slot: number }
  | { kind: 'regex' };

/** `keyed` collects the shapes of the keyed rules (a keyed finder's slot is the index of its shape). */
function finderFor(rule: RegexRule, keyed: KeyedShape[]): Finder {
  const length = hexWordLength(rule);
  if (length !== null) return { kind: 'hexWords', length };
  const shape = KEYED_SHAPES.get(rule.pattern);
  const sticky = rule.pattern === ADDRESS_PATTERN || shape !== undefined ? stickyCopy(rule) : null;
  if (sticky === null) return { kind: 'regex' };
  return shape === undefined ? { kind: 'address', sticky } : { kind: 'keyed', sticky, slot: keyed.push(shape) - 1 };
}

/** Which way the rule's values are found (a shipped pattern is recognised by its exact text and flags). */
export const valueFinder = (rule: RegexRule): Finder['kind'] => finderFor(rule, []).kind;

/** One regex rule and how its values are found. */
interface Step {
  rule: RegexRule;
  finder: Finder;
  /** A default rule that the Source has a same-name rule for: it runs only if that rule found nothing. */
  shadowed: boolean;
}

/** Everything extract does for the events of one Source (its rules, then the default's), worked out once. */
interface Plan {
  sourceId: string;
  normalizing: Array<{ rule: NormalizingRule; literal: string | null }>;
  steps: Step[];
  /** Where its keyed rules can match. */
  keyedStarts: KeyedStarts;
  /** Two rules give queries of the same type, so one (type, value) may come twice (one rule's values are distinct). */
  dedupeQueries: boolean;
}

export class EventExtractor {
  private readonly specific: SourceRules[];
  private readonly fallback: SourceRules;
  /** Connection address → the network-selected source (or null): sources by address do not depend on the event. */
  private readonly byAddress = new Map<string, SourceRules | null>();
  private readonly hasNameSelectors: boolean;
  /** By Source; null: the default Source alone. */
  private readonly plans = new Map<SourceRules | null, Plan>();
  /** The hex word lengths of all hexWordPattern rules, and the shortest (0 when there is none). */
  private readonly hexLengths = new Set<number>();
  private readonly shortestHex: number;

  constructor(sources: ServiceConfig['input']['sources']) {
    const fallback = sources.find((s) => s.selector.kind === 'default');
    if (!fallback) throw new Error('EventExtractor: the config has no default Source');
    this.fallback = fallback;
    this.specific = sources.filter((s) => s !== fallback);
    this.hasNameSelectors = this.specific.some((s) => s.selector.kind === 'name');
    this.plans.set(null, this.plan(null));
    for (const source of this.specific) this.plans.set(source, this.plan(source));
    this.shortestHex = this.hexLengths.size > 0 ? Math.min(...this.hexLengths) : 0;
  }

  private plan(source: SourceRules | null): Plan {
    const chain = source ? [source, this.fallback] : [this.fallback];
    const own = new Set(source?.regexes.map((rule) => rule.name));
    const keyed: KeyedShape[] = [];
    const steps = chain.flatMap((rules) =>
      rules.regexes.map((rule): Step => ({ rule, finder: finderFor(rule, keyed), shadowed: rules !== source && own.has(rule.name) })),
    );
    for (const { finder } of steps) if (finder.kind === 'hexWords') this.hexLengths.add(finder.length);
    const queryTypes = steps.flatMap((step) => (step.rule.queryType === null ? [] : [step.rule.queryType]));
    return {
      sourceId: (source ?? this.fallback).id,
      normalizing: chain.flatMap((rules) => rules.normalizing.map((rule) => ({ rule, literal: literalOf(rule.input) }))),
      steps,
      keyedStarts: new KeyedStarts(keyed),
      dedupeQueries: new Set(queryTypes).size < queryTypes.length,
    };
  }

  /** The specific Source for this connection and event, if any (the first in document order that applies). */
  sourceFor(event: string, sourceIp: string): SourceRules | null {
    let cached = this.byAddress.get(sourceIp);
    if (cached === undefined) {
      cached = this.specific.find((s) => s.selector.kind === 'network' && networkContains(s.selector.network, sourceIp)) ?? null;
      if (this.byAddress.size > 10_000) this.byAddress.clear();
      this.byAddress.set(sourceIp, cached);
    }
    if (!this.hasNameSelectors) return cached;
    // Name/regex selectors need the event; keep document order between both kinds.
    const host = SYSLOG_HOST.exec(event)?.[1];
    for (const source of this.specific) {
      if (source === cached) return source;
      if (source.selector.kind === 'name' && (source.selector.pattern.test(sourceIp) || (host !== undefined && source.selector.pattern.test(host)))) {
        return source;
      }
    }
    return cached;
  }

  /** null when an `Ignore` rule matched (the event is dropped). */
  extract(event: string, sourceIp: string): EventExtraction | null {
    const plan = this.plans.get(this.sourceFor(event, sourceIp))!;

    let text = event;
    for (const { rule, literal } of plan.normalizing) {
      if (literal !== null && !text.includes(literal)) continue; // cannot match
      if (rule.kind === 'ignore') {
        if (rule.input.test(text)) return null;
      } else {
        rule.input.lastIndex = 0;
        text = text.replace(rule.input, rule.replacement);
      }
    }

    const values = new Map<string, string[]>();
    const queries: ExtractedQuery[] = [];
    const queried = plan.dedupeQueries ? new Set<string>() : null;
    // Found once per event, on first use: the same words serve every hexWordPattern rule of the plan, the same
    // keys every keyed rule.
    let hexWords: Map<number, string[]> | null | undefined;
    let keyedScanned = false;
    for (const { rule, finder, shadowed } of plan.steps) {
      if (shadowed && values.has(rule.name)) continue;
      let found: string[];
      if (finder.kind === 'hexWords') {
        if (hexWords === undefined) hexWords = findHexWords(text, this.hexLengths, this.shortestHex);
        found = distinctValues(hexWords?.get(finder.length) ?? [], rule.extract);
      } else if (finder.kind === 'address') {
        found = matchAt(finder.sticky, text, addressStarts(text), rule.extract);
      } else if (finder.kind === 'keyed') {
        if (!keyedScanned) plan.keyedStarts.scan(text);
        keyedScanned = true;
        found = matchAt(finder.sticky, text, plan.keyedStarts.starts[finder.slot]!, rule.extract);
      } else {
        found = runRegex(rule, text);
      }
      if (found.length === 0) continue;
      values.set(rule.name, found);
      if (rule.queryType === null) continue;
      for (const value of found) {
        if (queried) {
          const key = `${rule.queryType}\u0000${value}`;
          if (queried.has(key)) continue;
          queried.add(key);
        }
        queries.push({ regexName: rule.name, type: rule.queryType, value });
      }
    }
    return { sourceId: plan.sourceId, values, queries, event: text };
  }
}
