/**
 * The service's feeds: each loaded into its own FeedIndex and swapped into the Matcher as a whole, so a lookup
 * sees either the old or the new version, never a half-loaded one. A feed is re-read when its file changes
 * (fs.watch, with a stat poll as fallback for file systems where watching does not work) and, with a refresh
 * interval, periodically. A failed reload keeps the loaded version and raises KL_ALERT_FailedToUpdateFeed.
 */
import fs from 'node:fs';
import { defaultFeedName, type FeedLoadReport } from '../feeds/load.js';
import { loadFeedIndex } from '../index/load.js';
import type { Matcher } from '../index/matcher.js';
import type { Alerts, FeedStatus } from './alerts.js';
import type { ServiceFeed } from './config.js';
import { type HeapSettling, settleHeap } from './garbage.js';

export interface FeedManagerOptions {
  /** Re-read every feed this often even when its file did not change (0 = only on change). */
  refreshMs?: number;
  /** Stat poll interval, the fallback for change detection. */
  pollMs?: number;
  log?: (message: string) => void;
}

interface Entry {
  feed: ServiceFeed;
  name: string;
  report: FeedLoadReport | null;
  /** File mtime (ms) of the loaded version; its age decides "outdated". */
  mtimeMs: number;
  /** mtime and size of the file when we last read it (loaded or failed), for change detection. */
  seenMtimeMs: number;
  seenSize: number;
  failed: string | null;
  outdatedRaised: boolean;
  watcher: fs.FSWatcher | null;
  debounce: NodeJS.Timeout | null;
  loading: Promise<void> | null;
  again: boolean;
}

export class FeedManager {
  private entries = new Map<string, Entry>();
  /** Loads running now: when the last one ends, their garbage is collected (see garbage.ts). */
  private loadsRunning = 0;
  private settling: HeapSettling | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly log: (message: string) => void;

  constructor(
    private readonly matcher: Matcher,
    private readonly alerts: Alerts | null,
    private readonly options: FeedManagerOptions = {},
  ) {
    this.log = options.log ?? (() => {});
  }

  /**
   * Makes the loaded set equal to `feeds`: loads new ones, reloads changed definitions, removes the rest.
   * `strict` (start-up): a feed that fails to load throws instead of being skipped.
   */
  async setFeeds(feeds: readonly ServiceFeed[], strict: boolean): Promise<void> {
    const wanted = new Map(feeds.map((f) => [f.name ?? defaultFeedName(f.path), f] as const));
    for (const [name, entry] of this.entries) {
      if (!wanted.has(name)) {
        this.stopWatching(entry);
        this.entries.delete(name);
        this.matcher.removeFeed(name);
        this.log(`feed ${name}: removed`);
      }
    }
    const loads: Promise<void>[] = [];
    for (const [name, feed] of wanted) {
      const current = this.entries.get(name);
      if (current && JSON.stringify(current.feed) === JSON.stringify(feed)) continue;
      if (current) this.stopWatching(current);
      const entry: Entry = {
        feed: { ...feed, name },
        name,
        report: current?.report ?? null,
        mtimeMs: current?.mtimeMs ?? 0,
        seenMtimeMs: -1,
        seenSize: -1,
        failed: null,
        outdatedRaised: false,
        watcher: null,
        debounce: null,
        loading: null,
        again: false,
      };
      this.entries.set(name, entry);
      loads.push(this.load(entry, strict));
    }
    // Sequential would be gentler on memory, but start-up time matters more; feeds are independent.
    await Promise.all(loads);
    for (const entry of this.entries.values()) if (entry.watcher === null) this.watch(entry);
    this.startTimers();
  }

  /** Loaded feeds with their record counts, for the start-up line. */
  loaded(): Array<{ name: string; records: number; role: string }> {
    return [...this.entries.values()].filter((e) => e.report).map((e) => ({ name: e.name, records: e.report!.records, role: e.feed.role }));
  }

  /** Per-feed status (FT_FeedStatus); also raises KL_ALERT_OutdatedFeed once per outdated version. */
  status(now = Date.now()): FeedStatus[] {
    const out: FeedStatus[] = [];
    for (const e of this.entries.values()) {
      const ageHours = e.mtimeMs > 0 ? (now - e.mtimeMs) / 3_600_000 : 0;
      const outdated = e.feed.outdatedAlertHours > 0 && ageHours > e.feed.outdatedAlertHours;
      if (outdated && !e.outdatedRaised) {
        e.outdatedRaised = true;
        this.alerts?.outdatedFeed(e.name, Math.floor(ageHours));
      }
      out.push({
        feed: e.name,
        records: e.report?.records ?? 0,
        updated: Math.floor(e.mtimeMs / 1000),
        ageHours,
        status: e.failed !== null ? 'failed' : outdated ? 'outdated' : 'ok',
      });
    }
    return out;
  }

  /** Re-reads one feed now (also what a file change triggers). Resolves when that load is over. */
  reload(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return Promise.resolve();
    if (entry.loading) {
      // A change during a load: load once more afterwards so the last version wins.
      entry.again = true;
      return entry.loading;
    }
    return this.load(entry, false);
  }

  /** Stops the garbage collections of the last batch of loads, if they still run. */
  private stopSettling(): void {
    this.settling?.stop();
    this.settling = null;
  }

  close(): void {
    this.closed = true;
    this.stopSettling();
    for (const e of this.entries.values()) this.stopWatching(e);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.refreshTimer = this.pollTimer = null;
  }

  private load(entry: Entry, strict: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      do {
        entry.again = false;
        let stat: fs.Stats | null = null;
        try {
          stat = fs.statSync(entry.feed.path);
          entry.seenMtimeMs = stat.mtimeMs;
          entry.seenSize = stat.size;
          const { index, report } = await loadFeedIndex(entry.feed, entry.feed.role);
          if (this.closed || this.entries.get(entry.name) !== entry) return;
          this.matcher.setFeed(index);
          entry.report = report;
          // A new version may be outdated again (alert again); a re-read of the same file is not news.
          if (stat.mtimeMs !== entry.mtimeMs) entry.outdatedRaised = false;
          entry.mtimeMs = stat.mtimeMs;
          entry.failed = null;
          const skipped = report.skipped > 0 ? `, ${report.skipped} skipped` : '';
          // At start-up the service prints one summary line instead.
          if (!strict) this.log(`feed ${entry.name}: loaded ${report.records} records (${report.format}${skipped}) in ${report.millis} ms`);
          this.alerts?.updatedFeed(entry.name, report.records);
        } catch (error) {
          const message = (error as Error).message;
          if (strict) throw error;
          entry.failed = message;
          this.alerts?.failedToUpdateFeed(entry.name, message);
        }
      } while (entry.again && !this.closed);
    };
    this.loadsRunning++;
    this.stopSettling();
    entry.loading = run().finally(() => {
      entry.loading = null;
      if (--this.loadsRunning === 0 && !this.closed) this.settling = settleHeap();
    });
    return entry.loading;
  }

  private watch(entry: Entry): void {
    try {
      entry.watcher = fs.watch(entry.feed.path, { persistent: false }, (eventType) => {
        // A file replaced by rename (atomic writers) leaves this watcher on the old inode: watch the path again
        // after the reload.
        if (eventType === 'rename') {
          entry.watcher?.close();
          entry.watcher = null;
        }
        this.changed(entry);
      });
      entry.watcher.on('error', () => this.stopWatching(entry));
    } catch {
      entry.watcher = null; // the poll still notices changes
    }
  }

  private stopWatching(entry: Entry): void {
    entry.watcher?.close();
    entry.watcher = null;
    if (entry.debounce) clearTimeout(entry.debounce);
    entry.debounce = null;
  }

  /** Writers often truncate then write in several steps: wait for a quiet moment before reading. */
  private changed(entry: Entry): void {
    if (this.closed) return;
    if (entry.debounce) clearTimeout(entry.debounce);
    entry.debounce = setTimeout(() => {
      entry.debounce = null;
      void this.reload(entry.name).then(() => {
        if (entry.watcher === null && !this.closed && this.entries.get(entry.name) === entry) this.watch(entry);
      });
    }, 200);
    entry.debounce.unref();
  }

  private startTimers(): void {
    if (this.closed) return;
    const refreshMs = this.options.refreshMs ?? 0;
    if (refreshMs > 0 && this.refreshTimer === null) {
      this.refreshTimer = setInterval(() => {
        for (const name of this.entries.keys()) void this.reload(name);
      }, refreshMs);
      this.refreshTimer.unref();
    }
    if (this.pollTimer === null) {
      this.pollTimer = setInterval(() => this.poll(), this.options.pollMs ?? 5000);
      this.pollTimer.unref();
    }
  }

  private poll(): void {
    for (const entry of this.entries.values()) {
      if (entry.loading) continue;
      let stat: fs.Stats;
      try {
        stat = fs.statSync(entry.feed.path);
      } catch {
        continue; // a missing file is reported when a reload is attempted; keep the loaded version
      }
      if (stat.mtimeMs !== entry.seenMtimeMs || stat.size !== entry.seenSize) {
        // Noted now, so the next poll does not push the debounce back again.
        entry.seenMtimeMs = stat.mtimeMs;
        entry.seenSize = stat.size;
        this.changed(entry);
      }
    }
  }
}
