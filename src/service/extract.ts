/**
 * Event → values and lookup queries, by the config's `RegExps` (CyberTrace semantics, docs/service-config.md):
 * the Source whose `ip` matches the connection (or the event's syslog host) applies first, then `default`;
 * a default rule with the same name as a source rule runs only when the source rule found nothing;
 * normalizing rules (the source's, then default's, in document order) run before any regex.
 */
import type { QueryType } from '../types.js';
import { networkContains, type NormalizingRule, type RegexRule, type ServiceConfig, type SourceRules } from './config.js';
import { ADDRESS_PATTERN, hexWordPattern } from './default-config.js';

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
 * until one falls on a hex digit inside a word; that run is then expanded both ways.
 */
function findHexWords(text: string, lengths: ReadonlySet<number>, shortest: number): Map<number, string[]> | null {
  let words: Map<number, string[]> | null = null;
  const end = text.length;
  for (let probe = shortest - 1; probe < end; probe += shortest) {
    // Outside a word, or on a word character that is not a hex digit (its word is not a hex word): next probe. A
    // later probe in the same word may still expand it, once.
    if (wordClass(text, probe) !== 1) continue;
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

/** A sticky copy of the rule's regex when it is exactly ADDRESS_PATTERN (run only at addressStarts), else null. */
function addressRegex(rule: RegexRule): RegExp | null {
  // `u` changes nothing here: the candidate positions are ASCII characters, never inside a surrogate pair.
  if (rule.pattern !== ADDRESS_PATTERN || (rule.regex.flags !== 'g' && rule.regex.flags !== 'gu')) return null;
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
  if (at === 0 || starts[at - 1] !== start) starts.splice(at, 0, start);
}

/**
 * Adds the start of the maximal run of `kind` characters around `at` (one of them) when it is at least `shortest`
 * long and has at least `separators` of the code unit `separator`; returns where the run ends.
 */
function addRunAround(text: string, at: number, kind: number, shortest: number, separator: number, separators: number, starts: number[]): number {
  const start = runStart(text, at, kind);
  const end = runEnd(text, at + 1, kind);
  if (end - start >= shortest && count(text, start, end, separator) >= separators) insertStart(starts, start);
  return end;
}

/**
 * addRunAround for the runs that can hold an IPv4 address (runs of [0-9.] at least 7 long with 3 dots), found from
 * the dots: an address's 3 dots are consecutive dots of the text, each 2 to 4 characters after the one before
 * (octets of 1 to 3 digits). The dots of times, file names and host names rarely chain so, and `indexOf` is
 * native; the numbers of a log (times, sizes, ids) would stop a strided read far more often than its dots do.
 */
function addDottedRuns(text: string, starts: number[]): void {
  let chain = 0;
  let previous = -5;
  for (let dot = text.indexOf('.'); dot >= 0; dot = text.indexOf('.', dot + 1)) {
    const gap = dot - previous;
    chain = gap >= 2 && gap <= 4 ? chain + 1 : 1;
    previous = dot;
    if (chain < 3) continue;
    // The next run starts after this one.
    dot = addRunAround(text, dot, IPV4_CHAR, 7, 0x2e, 3, starts) - 1;
    chain = 0;
  }
}

/**
 * addRunAround for the runs of [0-9A-Fa-f:] that can hold a full-form IPv6 address, found from the colons: its 7
 * colons are consecutive colons of the text, each at most 5 characters after the one before. The colons of JSON
 * keys, times and URLs rarely chain so, and `indexOf` is native; reading every 15th character instead stopped
 * in most of a JSON line's digit and hex runs.
 */
function addFullFormRuns(text: string, starts: number[]): void {
  let chain = 0;
  let previous = -6;
  for (let colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', colon + 1)) {
    chain = colon - previous <= 5 ? chain + 1 : 1;
    previous = colon;
    if (chain < 7) continue;
    // The next run starts after this one.
    colon = addRunAround(text, colon, IPV6_CHAR, 15, 0x3a, 7, starts) - 1;
    chain = 0;
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
  addDottedRuns(text, starts);
  addFullFormRuns(text, starts);
  for (let at = text.indexOf('::'); at >= 0; at = text.indexOf('::', runEnd(text, at, IPV6_CHAR))) {
    insertStart(starts, runStart(text, at, IPV6_CHAR));
  }
  return starts;
}

/** What a global scan with ADDRESS_PATTERN finds: its sticky copy tried at each possible start, left to right. */
function findAddresses(sticky: RegExp, text: string): string[] {
  const found: string[] = [];
  let next = 0;
  for (const start of addressStarts(text)) {
    if (start < next) continue; // inside the previous match
    sticky.lastIndex = start;
    const match = sticky.exec(text);
    if (match === null) continue;
    found.push(matchValue(match));
    next = sticky.lastIndex;
  }
  return found;
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

/** One regex rule and how its values are found. */
interface Step {
  rule: RegexRule;
  /** The length of the hex words it extracts (found by findHexWords), or null. */
  hexLength: number | null;
  /** For ADDRESS_PATTERN: its sticky copy (see findAddresses), or null. Neither: run the rule's regex. */
  address: RegExp | null;
  /** A default rule that the Source has a same-name rule for: it runs only if that rule found nothing. */
  shadowed: boolean;
}

/** Everything extract does for the events of one Source (its rules, then the default's), worked out once. */
interface Plan {
  sourceId: string;
  normalizing: Array<{ rule: NormalizingRule; literal: string | null }>;
  steps: Step[];
  /** Two rules give queries of the same type, so one (type, value) may come twice (one rule's values are distinct). */
  dedupeQueries: boolean;
}

/**
 * Which Source's rules apply to an event: the first specific Source, in document order, whose network holds the
 * connection's address or whose name pattern matches it or the syslog HOSTNAME; else only the default Source.
 */
export class SourceSelector {
  readonly fallback: SourceRules;
  readonly specific: readonly SourceRules[];
  /** Connection address → the network-selected source (or null): sources by address do not depend on the event. */
  private readonly byAddress = new Map<string, SourceRules | null>();
  private readonly hasNameSelectors: boolean;

  constructor(sources: ServiceConfig['input']['sources'], owner: string) {
    const fallback = sources.find((s) => s.selector.kind === 'default');
    if (!fallback) throw new Error(`${owner}: the config has no default Source`);
    this.fallback = fallback;
    this.specific = sources.filter((s) => s !== fallback);
    this.hasNameSelectors = this.specific.some((s) => s.selector.kind === 'name');
  }

  /** The specific Source for this connection and event, if any. */
  select(event: string, sourceIp: string): SourceRules | null {
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
}

export class EventExtractor {
  private readonly sources: SourceSelector;
  /** By Source; null: the default Source alone. */
  private readonly plans = new Map<SourceRules | null, Plan>();
  /** The hex word lengths of all hexWordPattern rules, and the shortest (0 when there is none). */
  private readonly hexLengths = new Set<number>();
  private readonly shortestHex: number;

  constructor(sources: ServiceConfig['input']['sources']) {
    this.sources = new SourceSelector(sources, 'EventExtractor');
    this.plans.set(null, this.plan(null));
    for (const source of this.sources.specific) this.plans.set(source, this.plan(source));
    this.shortestHex = this.hexLengths.size > 0 ? Math.min(...this.hexLengths) : 0;
  }

  private plan(source: SourceRules | null): Plan {
    const fallback = this.sources.fallback;
    const chain = source ? [source, fallback] : [fallback];
    const own = new Set(source?.regexes.map((rule) => rule.name));
    const steps = chain.flatMap((rules) =>
      rules.regexes.map((rule) => ({ rule, hexLength: hexWordLength(rule), address: addressRegex(rule), shadowed: rules !== source && own.has(rule.name) })),
    );
    for (const step of steps) if (step.hexLength !== null) this.hexLengths.add(step.hexLength);
    const queryTypes = steps.flatMap((step) => (step.rule.queryType === null ? [] : [step.rule.queryType]));
    return {
      sourceId: (source ?? fallback).id,
      normalizing: chain.flatMap((rules) => rules.normalizing.map((rule) => ({ rule, literal: literalOf(rule.input) }))),
      steps,
      dedupeQueries: new Set(queryTypes).size < queryTypes.length,
    };
  }

  /** null when an `Ignore` rule matched (the event is dropped). */
  extract(event: string, sourceIp: string): EventExtraction | null {
    const plan = this.plans.get(this.sources.select(event, sourceIp))!;

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
    // Found once per event, on first use: the same words serve every hexWordPattern rule of the plan.
    let hexWords: Map<number, string[]> | null | undefined;
    for (const { rule, hexLength, address, shadowed } of plan.steps) {
      if (shadowed && values.has(rule.name)) continue;
      let found: string[];
      if (hexLength !== null) {
        if (hexWords === undefined) hexWords = findHexWords(text, this.hexLengths, this.shortestHex);
        found = distinctValues(hexWords?.get(hexLength) ?? [], rule.extract);
      } else if (address !== null) {
        found = distinctValues(findAddresses(address, text), rule.extract);
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
