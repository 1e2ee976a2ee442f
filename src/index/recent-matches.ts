/**
 * The matches of recently looked-up URL and domain values, for the service. Event streams repeat these values
 * (the same pages, the same DNS names): in one pass over each real log of ../shared/datasets, 86-100 % of URL and
 * domain queries repeat one of the 1,024 before them (docs/service.md, "Recent matches"), while a URL lookup costs
 * several microseconds, most of it the normalization. IPs and hashes are not kept: parsing them costs about as
 * much as finding them here.
 *
 * Bounded: two generations of at most `capacity` values per type (a full young one becomes the old one, the old
 * one is dropped), values longer than MAX_VALUE_LENGTH are not kept. Emptied as soon as the Matcher's feeds change,
 * so a result never outlives the feeds it came from (nor keeps a replaced feed's index in memory). The arrays
 * returned are shared: callers must not change them.
 */
import type { Match, QueryType } from '../types.js';
import type { Matcher } from './matcher.js';

/** Longer values (rare, and each would hold its own memory) are looked up every time. */
const MAX_VALUE_LENGTH = 2048;

class Generations {
  private young = new Map<string, readonly Match[]>();
  private old = new Map<string, readonly Match[]>();

  constructor(private readonly capacity: number) {}

  get(value: string): readonly Match[] | undefined {
    const found = this.young.get(value);
    if (found !== undefined) return found;
    const older = this.old.get(value);
    if (older !== undefined) this.set(value, older); // still in use: keep it into the next generation
    return older;
  }

  set(value: string, matches: readonly Match[]): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(value, matches);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

export class RecentMatches {
  private readonly url: Generations;
  private readonly domain: Generations;

  constructor(
    private readonly matcher: Matcher,
    capacity = 1024,
  ) {
    this.url = new Generations(capacity);
    this.domain = new Generations(capacity);
    matcher.onFeedsChanged(() => {
      this.url.clear();
      this.domain.clear();
    });
  }

  /** Matcher.match, answered from the recent results for URL and domain values. */
  match(type: QueryType, value: string): readonly Match[] {
    const recent = type === 'url' ? this.url : type === 'domain' ? this.domain : undefined;
    if (recent === undefined || value.length > MAX_VALUE_LENGTH) return this.matcher.match(type, value);
    let matches = recent.get(value);
    if (matches === undefined) {
      matches = this.matcher.match(type, value);
      recent.set(value, matches);
    }
    return matches;
  }

  /** Values kept (both types, both generations). */
  get size(): number {
    return this.url.size + this.domain.size;
  }
}
