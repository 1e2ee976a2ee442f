/**
 * Synthetic feeds for the engine benchmark: a deterministic scale-up to about two million indicators, written
 * as real feed files in the formats the loader reads (half URLs/domains, a quarter IPs/CIDRs, a quarter
 * hashes), plus query lists (hits drawn from the feeds, misses that cannot be in them).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import type { QueryType } from '../types.js';

export interface QueryClass {
  name: string;
  type: QueryType;
  values: string[];
  /** Read every match's context too (the engine decodes it on first read; output formatting reads it). */
  readContext?: boolean;
}

export interface Scenario {
  name: string;
  /** `[FORMAT:]PATH` feed arguments. */
  feeds: string[];
  queries: QueryClass[];
}

/** xorshift32: the same data on every run. */
class Random {
  constructor(private state = 0x2545f491) {}
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
  label(min = 4, max = 12): string {
    const length = min + this.below(max - min + 1);
    let text = '';
    for (let i = 0; i < length; i++) text += 'abcdefghijklmnopqrstuvwxyz0123456789'[this.below(36)];
    return text;
  }
  hex(length: number): string {
    let text = '';
    while (text.length < length) text += this.next().toString(16).padStart(8, '0');
    return text.slice(0, length).toUpperCase();
  }
}

const TLDS = ['com', 'net', 'org', 'ru', 'info', 'xyz', 'top', 'biz', 'io', 'cn'];
const THREATS = Array.from({ length: 40 }, (_, i) => `Trojan.Win32.Synthetic.${i}`);

/** Writes lines to a file with back-pressure. */
async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  for (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Sizes: `scale` 1 gives about two million indicators. */
export async function writeSyntheticFeeds(dir: string, scale: number): Promise<Scenario> {
  const random = new Random();
  await mkdir(dir, { recursive: true });
  const count = (n: number): number => Math.max(1, Math.round(n * scale));
  const host = (): string => `${random.label()}.${random.label(3, 8)}.${random.pick(TLDS)}`;

  // Domains (maltrail trail file, suffix matching).
  const domains = Array.from({ length: count(500_000) }, host);
  const domainFile = path.join(dir, 'synthetic_domains.txt');
  await writeLines(domainFile, (function* () {
    for (let i = 0; i < domains.length; i++) {
      if (i % 1000 === 0) yield `# Reference: https://example.org/synthetic/${i / 1000}`;
      yield domains[i]!;
    }
  })());

  // Exact URLs (urlhaus-filter host/path list).
  const urls = Array.from({ length: count(400_000) }, () => `${host()}/${random.label()}/${random.label()}.php`);
  const urlFile = path.join(dir, 'urlhaus-filter-online.txt');
  await writeLines(urlFile, ['! Title: synthetic urlhaus-filter list', ...urls.map((u) => `||${u}^$all`)]);

  // URL masks (Kaspersky Malicious_URL_Data_Feed): any subdomain, or anything under a path.
  const maskHosts = Array.from({ length: count(100_000) }, host);
  const masks = maskHosts.map((h, i) => (i % 2 === 0 ? `*.${h}/*` : `${h}/${random.label()}/*`));
  const maskFile = path.join(dir, 'Malicious_URL_Data_Feed.json');
  await writeLines(maskFile, (function* () {
    yield '[';
    for (let i = 0; i < masks.length; i++) {
      const record = { id: i, mask: masks[i], type: 2, first_seen: '10.07.2025 13:06', popularity: 1 + (i % 5), threat: random.pick(THREATS) };
      yield `${JSON.stringify(record)}${i + 1 < masks.length ? ',' : ''}`;
    }
    yield ']';
  })());

  // IPv4 addresses (IPsum list) and CIDR ranges (maltrail trail file).
  const ipSet = new Set<number>();
  while (ipSet.size < count(450_000)) ipSet.add(random.next());
  const ips = [...ipSet];
  const ipFile = path.join(dir, 'ipsum.txt');
  await writeLines(ipFile, ['# IPsum (synthetic)', ...ips.map((ip, i) => `${formatIPv4(ip)}\t${1 + (i % 9)}`)]);
  const cidrs = Array.from({ length: count(50_000) }, () => {
    const length = 16 + random.below(15);
    const network = (random.next() & (0xffffffff << (32 - length))) >>> 0;
    return { network, length };
  });
  const cidrFile = path.join(dir, 'synthetic_cidr.txt');
  await writeLines(cidrFile, ['# synthetic scanner ranges', ...cidrs.map((c) => `${formatIPv4(c.network)}/${c.length}`)]);

  // Hashes (Kaspersky Malicious_Hash_Data_Feed): MD5, SHA1 and SHA256 per record.
  const hashRecords = Array.from({ length: count(500_000 / 3) }, () => ({ MD5: random.hex(32), SHA1: random.hex(40), SHA256: random.hex(64) }));
  const hashFile = path.join(dir, 'Malicious_Hash_Data_Feed.json');
  await writeLines(hashFile, (function* () {
    yield '[';
    for (let i = 0; i < hashRecords.length; i++) {
      const record = { ...hashRecords[i], file_type: i % 3 === 0 ? 'PE' : 'ELF', file_size: 1000 + i, first_seen: '10.07.2025 13:06', popularity: 1 + (i % 5), threat: random.pick(THREATS) };
      yield `${JSON.stringify(record)}${i + 1 < hashRecords.length ? ',' : ''}`;
    }
    yield ']';
  })());

  const sample = <T>(items: readonly T[], n = 20_000): T[] => Array.from({ length: Math.min(n, items.length * 4) }, () => random.pick(items));
  const missingIp = (): string => {
    for (;;) {
      const ip = random.next();
      if (!ipSet.has(ip)) return formatIPv4(ip);
    }
  };
  const queries: QueryClass[] = [
    { name: 'IPv4 hit', type: 'ip', values: sample(ips).map(formatIPv4) },
    { name: 'IPv4 miss', type: 'ip', values: Array.from({ length: 20_000 }, missingIp) },
    { name: 'IPv4 in CIDR', type: 'ip', values: sample(cidrs).map((c) => formatIPv4(c.network + random.below(2 ** (32 - c.length)))) },
    { name: 'domain hit (exact)', type: 'domain', values: sample(domains) },
    { name: 'domain hit (subdomain)', type: 'domain', values: sample(domains).map((d) => `www2.${d}`) },
    { name: 'domain miss', type: 'domain', values: Array.from({ length: 20_000 }, () => `${random.label()}.nomatch-${random.label()}.com`) },
    { name: 'URL hit (exact)', type: 'url', values: sample(urls).map((u) => `http://${u}`) },
    { name: 'URL hit (mask)', type: 'url', values: sample(masks).map((m) => `https://${m.replace(/\*/g, random.label())}`) },
    { name: 'URL miss', type: 'url', values: Array.from({ length: 20_000 }, () => `http://${random.label()}.nomatch.net/${random.label()}/${random.label()}.html?id=${random.below(1000)}`) },
    { name: 'MD5 hit', type: 'md5', values: sample(hashRecords).map((h) => h.MD5.toLowerCase()) },
    { name: 'MD5 hit, context read', type: 'md5', values: sample(hashRecords).map((h) => h.MD5.toLowerCase()), readContext: true },
    { name: 'SHA256 hit', type: 'sha256', values: sample(hashRecords).map((h) => h.SHA256.toLowerCase()) },
    { name: 'SHA256 miss', type: 'sha256', values: Array.from({ length: 20_000 }, () => random.hex(64).toLowerCase()) },
  ];
  return {
    name: 'synthetic',
    feeds: [`maltrail:${domainFile}`, `urlhaus:${urlFile}`, `kaspersky:${maskFile}`, `ipsum:${ipFile}`, `maltrail:${cidrFile}`, `kaspersky:${hashFile}`],
    queries,
  };
}
