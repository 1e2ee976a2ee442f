/**
 * The matches of recently looked-up URL and domain values, for the service. Event streams repeat these values
 * (the same pages, the same DNS names): one pass over the real logs of ../shared/datasets answers 94.5 % of their
 * URL and domain queries from the 1,024 most recent values of each type (docs/service.md, "Recent matches"), while
 * a URL lookup costs several microseconds, most of it the normalization. IPs and hashes are not kept: parsing them
 * costs about as much as finding them here.
 *
 * Bounded: two generations of at most `capacity` values per type (a full young one becomes the old one, the old
 * one is dropped), values longer than MAX_VALUE_LENGTH are not kept, and what is kept is detached from the event it
 * came from. Emptied as soon as the Matcher's feeds change, so a result never outlives the feeds it came from (nor
 * keeps a replaced feed's index in memory). The arrays returned are shared: callers must not change them.
 */
import type { Match, QueryType } from '../types.js';
import type { Matcher } from './matcher.js';

/** Longer values (rare, and each would hold its own memory) are looked up every time. */
const MAX_VALUE_LENGTH = 2048;

/**
 * A copy of `text` that holds no reference to a longer string: V8 keeps the whole parent of a substring alive, and
 * a query value or a matched indicator may be a substring of its event (up to MaxEventSize, 1 MiB). JSON's round
 * trip rebuilds the string from new text, lone surrogates included.
 */
const detached = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

const NO_MATCHES: readonly Match[] = [];

/** Matches as kept: nothing in them refers to the query's text (contexts are decoded from the index's bytes). */
function keptMatches(matches: readonly Match[]): readonly Match[] {
  if (matches.length === 0) return NO_MATCHES;
  return matches.map((m) => ({ type: m.type, category: m.category, matchedIndicator: detached(m.matchedIndicator), feed: m.feed, context: m.context }));
}

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
      // A detection reads its context anyway (%RecordContext%): decoding it here costs the service nothing more.
      matches = keptMatches(this.matcher.match(type, value));
      recent.set(detached(value), matches);
    }
    return matches;
  }

  /** Values kept (both types, both generations). */
  get size(): number {
    return this.url.size + this.domain.size;
  }
}
