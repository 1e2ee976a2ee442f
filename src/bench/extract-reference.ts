/**
 * The straightforward event extraction (src/service/extract.ts as it was before its fast paths: every rule run
 * as its regex by `runRegex`, for the Source that `SourceSelector` picks), kept as the reference:
 * test/service-extract-equivalence.test.ts asserts that EventExtractor gives exactly its output on every line of
 * the real logs, and the `extract` bench group reports both rates.
 */
import type { ServiceConfig } from '../service/config.js';
import { type EventExtraction, type ExtractedQuery, SourceSelector, runRegex } from '../service/extract.js';

export class ReferenceExtractor {
  private readonly sources: SourceSelector;

  constructor(sources: ServiceConfig['input']['sources']) {
    this.sources = new SourceSelector(sources, 'ReferenceExtractor');
  }

  /** null when an `Ignore` rule matched (the event is dropped). */
  extract(event: string, sourceIp: string): EventExtraction | null {
    const source = this.sources.select(event, sourceIp);
    const { fallback } = this.sources;
    const chain = source ? [source, fallback] : [fallback];

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
    return { sourceId: source?.id ?? fallback.id, values, queries, event: text };
  }
}
