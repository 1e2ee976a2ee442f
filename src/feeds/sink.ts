/**
 * Where every format parser sends its records: checks each indicator's shape, drops duplicates,
 * and keeps the counts and first samples of everything skipped for the load report.
 */
import type { ContextFields, FeedRecord, IndicatorType } from '../types.js';
import type { SkippedRecord } from './load.js';
import { FingerprintSet } from './fingerprints.js';
import { indicatorProblem } from './indicator.js';

/** How many skipped records the report shows in full, in all and per reason (so that a flood of one reason, */
/** typically duplicates, does not hide the examples of the others). */
export const MAX_SAMPLES = 20;
export const MAX_SAMPLES_PER_REASON = 5;
/** How much of an offending value a sample quotes. */
const MAX_QUOTED = 120;

export class FeedSink {
  records = 0;
  skipped = 0;
  bytes = 0;
  readonly skipReasons: Record<string, number> = {};
  readonly samples: SkippedRecord[] = [];
  /** type, category and indicator of every record sent, to count duplicates instead of indexing them twice. */
  private readonly seen = new FingerprintSet();

  constructor(
    private readonly onRecord: (record: FeedRecord) => void,
    /** Category per indicator type that replaces the format's own (a user mapping on a preset format). */
    private readonly categoryOverride: ReadonlyMap<IndicatorType, string> = new Map(),
  ) {}

  /** Sends one record unless its indicator is malformed or a duplicate; returns whether it was sent. */
  emit(where: string, type: IndicatorType, indicator: string, category: string, context: ContextFields): boolean {
    const value = indicator.trim();
    const problem = indicatorProblem(type, value);
    if (problem !== undefined) {
      this.skip(where, problem, value);
      return false;
    }
    const finalCategory = this.categoryOverride.get(type) ?? category;
    if (!this.seen.add(type, finalCategory, value)) {
      this.skip(where, 'duplicate indicator', value);
      return false;
    }
    this.records++;
    this.onRecord({ type, indicator: value, category: finalCategory, context });
    return true;
  }

  /** Counts a skipped record under `reason`; `value` (the offending text) only goes into the sample. */
  skip(where: string, reason: string, value?: string): void {
    this.skipped++;
    const count = (this.skipReasons[reason] ?? 0) + 1;
    this.skipReasons[reason] = count;
    if (this.samples.length < MAX_SAMPLES && count <= MAX_SAMPLES_PER_REASON) {
      const shown = value === undefined ? '' : `: ${JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value)}`;
      this.samples.push({ where, reason: reason + shown });
    }
  }
}
