/** The demo's closing summary (stdout): what was sent, what was detected, how fast, and the files written. */
import path from 'node:path';
import type { DemoResult } from './run.js';

const perSecond = (n: number, seconds: number): number => (seconds > 0 ? Math.round(n / seconds) : n);

function top(counts: Map<string, number>, n: number): Array<[string, number]> {
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

function filesTable(rows: Array<[file: string, what: string]>): string[] {
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, what]) => `  ${f.padEnd(width)}  ${what}`);
}

export function formatSummary(r: DemoResult): string {
  const received = r.received;
  const categories = top(received.byCategory, Infinity);
  const width = Math.max(18, ...categories.map(([c]) => c.length + 2));
  const lookup = r.lookup;
  const lines = [
    '',
    'Feedtrace demo summary',
    `  feeds               ${r.feeds}`,
    `  events sent         ${r.eventsSent} (${r.logs.map((l) => `${path.basename(l.file)} ${l.events}`).join(', ')})`,
    `  replay              ${r.replaySeconds.toFixed(2)} s, ${perSecond(r.eventsSent, r.replaySeconds)} events/s`,
    `  detections          ${received.detections}`,
    ...categories.map(([c, n]) => `    ${c.padEnd(width)}${n}`),
    `  top indicators      ${top(received.byIndicator, 5).map(([i, n]) => `${i} (${n})`).join(', ') || 'none'}`,
    `  alerts              ${received.alerts} (service start/stop, feed updates, statistics)`,
    `  lookup              ${lookup.rows} rows in ${lookup.seconds.toFixed(2)} s, ${perSecond(lookup.rows, lookup.seconds)} rows/s; ` +
      `${lookup.matchedValues} matched, ${lookup.outputRows} result rows${lookup.exitCode === 0 ? '' : ` (lookup exit code ${lookup.exitCode})`}`,
    '',
    `Files (in ${r.out}):`,
    ...filesTable([
      [r.files.detections, "every line the service sent to the 9998 stand-in"],
      [r.files.serviceLog, "the service's log and the lookup's stderr"],
      [r.files.lookupInput, 'the CSV given to the lookup bundle'],
      [r.files.lookupOutput, "the lookup's answer: one row per match"],
    ]),
    '',
  ];
  return lines.join('\n');
}
