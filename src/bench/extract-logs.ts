/**
 * The real logs the extraction is measured and checked on (the `extract` bench group and
 * test/service-extract-equivalence.test.ts): one entry per log type, every non-blank line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PATTERN, LinePattern } from '../lookup/pattern.js';
import type { WireType } from '../lookup/values.js';

export interface LogCorpus {
  name: string;
  lines: string[];
}

const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');

/**
 * The lookup script's own lines (`ip=... md5=... url=...`, one value each), rendered from the tweetfeed IOCs:
 * what the service receives from Splunk's lookup.
 */
function lookupLines(file: string): string[] {
  const pattern = new LinePattern(DEFAULT_PATTERN);
  const types: Record<string, WireType> = { ip: 'ip', md5: 'md5', sha256: 'sha256', url: 'url', domain: 'domain' };
  const lines: string[] = [];
  for (const row of linesOf(file)) {
    const [, , type, value] = row.split(',');
    const wire = types[type ?? ''];
    if (wire !== undefined && value) lines.push(pattern.render(wire, value));
  }
  return lines;
}

/** The logs under `datasets` that exist, in a fixed order (main types first, then the other Zeek logs). */
export function extractionCorpus(datasets: string, all = false): LogCorpus[] {
  const ds = (...p: string[]): string => path.join(datasets, ...p);
  const wanted: Array<[name: string, file: string, read?: (file: string) => string[]]> = [
    ['apache', ds('elastic-apache-access', 'apache_logs')],
    ['suricata eve.json', ds('slips-honeypot-suricata-2021-06', 'eve.json')],
    ['zeek http (json)', ds('slips-zeek-json', 'http.log')],
    ['zeek conn (json)', ds('slips-zeek-json', 'conn.log')],
    ['zeek conn (tsv)', ds('slips-zeek-tsv-ctu-sme-11', 'zeek-labeled', 'conn.log.labeled')],
    ['sysmon json', ds('otrf-sysmon-bitsadmin', 'cmd_bitsadmin_download_psh_script_2020-10-2302365189.json')],
    ['maltrail demo events', ds('maltrail-demo-events', 'maltrail_demo_events.log')],
    ['lookup lines', ds('tweetfeed', 'month.csv'), lookupLines],
  ];
  if (all) {
    // Every other Zeek log, JSON and TSV: more shapes of the same fields for the equivalence test.
    for (const [dir, skip] of [['slips-zeek-json', ['http.log', 'conn.log']], ['slips-zeek-tsv-ctu-sme-11/zeek-labeled', ['conn.log.labeled']]] as const) {
      if (!existsSync(ds(dir))) continue;
      for (const file of readdirSync(ds(dir)).sort()) {
        if (file.includes('.log') && !(skip as readonly string[]).includes(file)) wanted.push([`${dir}/${file}`, ds(dir, file)]);
      }
    }
  }
  return wanted.filter(([, file]) => existsSync(file)).map(([name, file, read]) => ({ name, lines: (read ?? linesOf)(file) }));
}
