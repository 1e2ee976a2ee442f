/** `feedtrace match`: loads feeds into a Matcher, then matches values read on stdin, one JSON line per detection. */
import { Option, type Command } from 'commander';
import { parseFeedArg, type FeedLoadReport } from '../feeds/load.js';
import { Matcher } from '../index/matcher.js';
import { loadFeedIndex } from '../index/load.js';
import { detectQueryType } from '../index/query.js';
import type { FeedRole, QueryType } from '../types.js';
import { readLines } from './lines.js';

const QUERY_TYPES = ['auto', 'url', 'domain', 'ip', 'hash', 'md5', 'sha1', 'sha256'] as const;

interface MatchOptions {
  feed: string[];
  allow: string[];
  block: string[];
  type: (typeof QUERY_TYPES)[number];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerMatch(program: Command): void {
  program
    .command('match')
    .description('Match values read on stdin (one a line) against threat-intelligence feeds; prints one JSON line per detection')
    .option('--feed <[FORMAT:]PATH>', 'a feed to match against (repeatable); FORMAT is detected from the file when omitted', collect, [])
    .option('--allow <[FORMAT:]PATH>', 'an allow-list (false positives): values it matches yield no detection from --feed feeds (repeatable)', collect, [])
    .option('--block <[FORMAT:]PATH>', 'a block-list (internal TI): its detections are reported even when allow-listed (repeatable)', collect, [])
    .addOption(
      new Option('--type <type>', 'what the values are; auto tells IPs, hashes, URLs and domains apart by their shape')
        .choices(QUERY_TYPES)
        .default('auto'),
    )
    .addHelpText(
      'after',
      `
Values: URLs (normalized with Kaspersky's rules), domains, IPv4/IPv6 with an optional port (1.2.3.4:80,
[2001:db8::1]:443), MD5/SHA-1/SHA-256. Each detection is printed as
  {"value":…,"type":…,"category":…,"matchedIndicator":…,"feed":…,"context":{…}}
Load statistics go to stderr.

FORMAT: kaspersky, urlhaus, feodo, ipsum, maltrail, tweetfeed, misp, stix, openioc, csv, json.

Example:
  printf '1.2.3.4\\nevil.example.com\\n' | feedtrace match --feed ipsum:ipsum.txt --feed trails/ --allow fp.txt`,
    )
    .action(async (options: MatchOptions) => {
      if (options.feed.length + options.block.length === 0) throw new Error('give at least one --feed or --block');
      const matcher = await loadFeeds(options);
      await matchStdin(matcher, options.type);
    });
}

async function loadFeeds(options: MatchOptions): Promise<Matcher> {
  const matcher = new Matcher();
  const feeds: Array<[FeedRole, string]> = [
    ...options.feed.map((f) => ['feed', f] as [FeedRole, string]),
    ...options.allow.map((f) => ['allow', f] as [FeedRole, string]),
    ...options.block.map((f) => ['block', f] as [FeedRole, string]),
  ];
  const started = performance.now();
  const progress = process.stderr.isTTY === true;
  for (const [role, arg] of feeds) {
    const source = parseFeedArg(arg);
    if (progress) process.stderr.write(`loading ${source.path} …\r`);
    const { index, report } = await loadFeedIndex(source, role);
    if (matcher.feedIndexes.some((f) => f.options.name === index.options.name)) {
      throw new Error(`${source.path}: another feed is already named ${index.options.name}`);
    }
    matcher.setFeed(index);
    if (progress) process.stderr.write('\x1b[K');
    process.stderr.write(describeLoad(role, report));
  }
  const megabytes = (process.memoryUsage().rss / 2 ** 20).toFixed(1);
  process.stderr.write(`loaded ${feeds.length} feed(s) in ${Math.round(performance.now() - started)} ms; resident memory ${megabytes} MiB\n`);
  return matcher;
}

function describeLoad(role: FeedRole, report: FeedLoadReport): string {
  const as = role === 'feed' ? '' : ` as ${role}-list`;
  let text = `${report.name}${as}: ${report.records} records (${report.format}, ${report.path}, ${report.millis} ms)`;
  if (report.skipped > 0) {
    const reasons = Object.entries(report.skipReasons).map(([reason, n]) => `${n} ${reason}`);
    text += `, ${report.skipped} skipped: ${reasons.join('; ')}`;
    for (const sample of report.samples) text += `\n  skipped ${sample.where}: ${sample.reason}`;
  }
  return `${text}\n`;
}

async function matchStdin(matcher: Matcher, type: MatchOptions['type']): Promise<void> {
  let values = 0;
  let detected = 0;
  let out: string[] = [];
  for await (const value of readLines(process.stdin)) {
    values++;
    const queryType: QueryType | undefined = type === 'auto' ? detectQueryType(value) : type;
    if (queryType === undefined) continue;
    const matches = matcher.match(queryType, value);
    if (matches.length > 0) detected++;
    for (const m of matches) {
      const context = Object.fromEntries(m.context);
      out.push(JSON.stringify({ value, type: m.type, category: m.category, matchedIndicator: m.matchedIndicator, feed: m.feed, context }));
    }
    if (out.length >= 1024) {
      await write(`${out.join('\n')}\n`);
      out = [];
    }
  }
  if (out.length > 0) await write(`${out.join('\n')}\n`);
  process.stderr.write(`${detected} of ${values} values detected\n`);
}

/** Writes to stdout, waiting when the pipe is full. */
function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}
