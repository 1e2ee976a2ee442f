/**
 * Service alerts in CyberTrace's shape (`AlertFormat`, docs/event-formats.md) and the periodic FT_Statistics /
 * FT_FeedStatus events. Alerts are rendered here and handed to a sink (the alert or output connection); each
 * notable one is also logged, so an operator sees it without Splunk.
 */
import type { ContextFields } from '../types.js';
import type { OutputConfig } from './config.js';
import { formatTotals, renderAlert } from './format.js';

export interface FeedStatus {
  feed: string;
  records: number;
  /** Epoch seconds of the feed file's last change that we loaded (0 when never loaded). */
  updated: number;
  ageHours: number;
  status: 'ok' | 'outdated' | 'failed';
}

export interface StatisticsSnapshot {
  events: number;
  detections: number;
  connections: number;
  queueDepth: number;
  spoolEvents: number;
  spoolBytes: number;
  truncatedLines: number;
  /** Category → detections since start. */
  totals: ReadonlyMap<string, number>;
}

export class Alerts {
  /** The previous statistics (the service start for the first one): rates are over the time since. */
  private lastStats = { at: Date.now(), events: 0, detections: 0 };

  constructor(
    private output: OutputConfig,
    /** Receives each rendered line, with its trailing LF. */
    private readonly sink: (line: string) => void,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** A reloaded config may change AlertFormat. */
  setOutput(output: OutputConfig): void {
    this.output = output;
  }

  serviceStarted(): void {
    this.raise('KL_ALERT_ServiceStarted', []);
  }
  serviceStopped(): void {
    this.raise('KL_ALERT_ServiceStopped', []);
  }
  updatedFeed(feed: string, records: number): void {
    this.raise('KL_ALERT_UpdatedFeed', [['feed', feed], ['records', String(records)]]);
  }
  failedToUpdateFeed(feed: string, error: string): void {
    this.log(`feed ${feed}: update failed, keeping the loaded version: ${error}`);
    this.raise('KL_ALERT_FailedToUpdateFeed', [['feed', feed], ['error', error]]);
  }
  outdatedFeed(feed: string, ageHours: number): void {
    this.log(`feed ${feed}: outdated (${ageHours} h since its last update)`);
    this.raise('KL_ALERT_OutdatedFeed', [['feed', feed], ['age_hours', String(ageHours)]]);
  }
  configurationUpdated(): void {
    this.log('configuration reloaded');
    this.raise('KL_ALERT_ConfigurationUpdated', []);
  }
  configurationRejected(error: string): void {
    this.log(`configuration rejected, keeping the running one: ${error}`);
    this.raise('KL_ALERT_ConfigurationRejected', [['error', error]]);
  }
  spoolFull(spoolBytes: number): void {
    this.raise('KL_ALERT_SpoolFull', [['spool_bytes', String(spoolBytes)]]);
  }

  /** FT_Statistics, rates over the time since the previous one; then one FT_FeedStatus per feed. */
  statistics(s: StatisticsSnapshot, feeds: readonly FeedStatus[], now = Date.now()): void {
    const prev = this.lastStats;
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    const rate = (n: number, before: number): string => ((n - before) / seconds).toFixed(1);
    this.raise('FT_Statistics', [
      ['events', String(s.events)],
      ['events_per_sec', rate(s.events, prev.events)],
      ['detections', String(s.detections)],
      ['detections_per_sec', rate(s.detections, prev.detections)],
      ['connections', String(s.connections)],
      ['queue_depth', String(s.queueDepth)],
      ['spool_events', String(s.spoolEvents)],
      ['spool_bytes', String(s.spoolBytes)],
      ['truncated_lines', String(s.truncatedLines)],
      ['total', formatTotals(s.totals)],
    ]);
    this.lastStats = { at: now, events: s.events, detections: s.detections };
    for (const f of feeds) {
      this.raise('FT_FeedStatus', [
        ['feed', f.feed],
        ['records', String(f.records)],
        ['updated', String(f.updated)],
        ['age_hours', f.ageHours.toFixed(1)],
        ['status', f.status],
      ]);
    }
  }

  private raise(alert: string, context: ContextFields): void {
    const line = renderAlert(this.output, { date: new Date(), alert, context });
    if (line !== null) this.sink(line + '\n');
  }
}
