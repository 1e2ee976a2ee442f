/**
 * The straightforward event extraction (src/service/extract.ts as it was before its fast paths), kept unchanged
 * as the reference: test/service-extract-equivalence.test.ts asserts that EventExtractor gives exactly its
 * output on every line of the real logs, and the `extract` bench group reports both rates.
 */
import { networkContains, type ServiceConfig, type SourceRules, type RegexRule } from '../service/config.js';
import type { EventExtraction, ExtractedQuery } from '../service/extract.js';

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
function runRegex(rule: RegexRule, event: string): string[] {
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

export class ReferenceExtractor {
  private readonly specific: SourceRules[];
  private readonly fallback: SourceRules;
  /** Connection address → the network-selected source (or null): sources by address do not depend on the event. */
  private readonly byAddress = new Map<string, SourceRules | null>();
  private readonly hasNameSelectors: boolean;

  constructor(sources: ServiceConfig['input']['sources']) {
    const fallback = sources.find((s) => s.selector.kind === 'default');
    if (!fallback) throw new Error('ReferenceExtractor: the config has no default Source');
    this.fallback = fallback;
    this.specific = sources.filter((s) => s !== fallback);
    this.hasNameSelectors = this.specific.some((s) => s.selector.kind === 'name');
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
    const source = this.sourceFor(event, sourceIp);
    const chain = source ? [source, this.fallback] : [this.fallback];

    let text = event;
    for (const rules of chain) {
      for (const rule of rules.normalizing) {
        if (rule.kind === 'ignore') {
          if (rule.input.test(text)) return null;
        } else {
          rule.input.lastIndex = 0;
          text = text.replace(rule.input, rule.replacement);
        }
      }
    }

    const values = new Map<string, string[]>();
    const queries: ExtractedQuery[] = [];
    const queried = new Set<string>();
    for (const rules of chain) {
      for (const rule of rules.regexes) {
        // A default rule with a specific rule's name runs only if that rule found nothing.
        if (values.has(rule.name)) continue;
        const found = runRegex(rule, text);
        if (found.length === 0) continue;
        values.set(rule.name, found);
        if (rule.queryType === null) continue;
        for (const value of found) {
          const key = `${rule.queryType}\u0000${value}`;
          if (queried.has(key)) continue;
          queried.add(key);
          queries.push({ regexName: rule.name, type: rule.queryType, value });
        }
      }
    }
    return { sourceId: source?.id ?? this.fallback.id, values, queries, event: text };
  }
}
