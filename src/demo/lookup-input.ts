/**
 * The CSV the demo gives the lookup, as Splunk would for `| lookup feedtrace ip domain OUTPUT ...`: one row per
 * distinct IPv4 address and domain found in the sample logs (some are in the sample feeds, most are not),
 * inputs filled, outputs empty.
 */
import fs from 'node:fs';

export const LOOKUP_FIELDS = ['ip', 'domain', 'category', 'matchedIndicator', 'feed'] as const;

const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g;
/** maltrail's event lines: "<time>" sensor src sport dst dport proto TYPE trail "info" (reference) */
const MALTRAIL_DNS = /^"[^"]*" \S+ \S+ \S+ \S+ \S+ \S+ DNS (\S+) /;

export function indicatorsOf(files: string[]): { ips: string[]; domains: string[] } {
  const ips = new Set<string>();
  const domains = new Set<string>();
  for (const file of files) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      for (const m of line.matchAll(IPV4)) if (m[0].split('.').every((o) => Number(o) <= 255)) ips.add(m[0]);
      const dns = MALTRAIL_DNS.exec(line);
      if (dns && /[a-z]/i.test(dns[1]!)) domains.add(dns[1]!.toLowerCase());
    }
  }
  return { ips: [...ips], domains: [...domains] };
}

/** The CSV text (header = LOOKUP_FIELDS) and its number of data rows. */
export function lookupCsv(files: string[]): { csv: string; rows: number } {
  const { ips, domains } = indicatorsOf(files);
  const empty = ','.repeat(LOOKUP_FIELDS.length - 2);
  // Values are plain IPs and host names: nothing to quote.
  const rows = [...ips.map((ip) => `${ip},${empty}`), ...domains.map((d) => `,${d}${empty}`)];
  return { csv: [LOOKUP_FIELDS.join(','), ...rows].join('\n') + '\n', rows: rows.length };
}
