/**
 * Tells a feed's format from its file name, then from its first bytes, when the user did not name it.
 * The rules, in order, are listed in docs/feeds.md; an undetectable feed is a FeedLoadError listing the formats.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { kasperskyFeedForFile } from './catalog.js';
import { FeedLoadError } from './errors.js';
import type { FeedFormat } from './load.js';

export const FEED_FORMATS: readonly FeedFormat[] = [
  'kaspersky', 'urlhaus', 'feodo', 'ipsum', 'maltrail', 'tweetfeed', 'misp', 'stix', 'openioc', 'csv', 'json',
];

/** How much of a file the content rules look at. */
const SNIFF_BYTES = 64 * 1024;

export function undetectable(file: string, why: string): FeedLoadError {
  return new FeedLoadError(file, `${why}; name the format as FORMAT:PATH, FORMAT one of ${FEED_FORMATS.join(', ')}`);
}

export function isMispCacheFile(file: string): boolean {
  return path.basename(file).toLowerCase() === 'hashes.csv';
}

export async function detectFormat(file: string): Promise<FeedFormat> {
  if ((await stat(file)).isDirectory()) return detectDirectory(file);
  const base = path.basename(file).toLowerCase();
  if (isMispCacheFile(file)) throw new FeedLoadError(file, 'hashes.csv of a MISP feed holds MD5s of attribute values for MISP caching, not indicators; load manifest.json');
  if (base === 'manifest.json') return 'misp';
  if (kasperskyFeedForFile(path.basename(file))) return 'kaspersky';
  if (base.startsWith('urlhaus-filter')) return 'urlhaus';
  // IPsum's levels/N.txt files are bare IP lists: the repository name in the path is what tells them apart.
  if (file.toLowerCase().includes('ipsum')) return 'ipsum';
  if (base.includes('feodo') || base === 'ipblocklist.csv') return 'feodo';
  if (base.endsWith('.ioc')) return 'openioc';
  return detectContent(file, await head(file));
}

async function detectDirectory(dir: string): Promise<FeedFormat> {
  const names = await readdir(dir, { recursive: true });
  if (names.includes('manifest.json')) return 'misp';
  if (names.some((name) => name.endsWith('.txt'))) return 'maltrail';
  throw undetectable(dir, 'a directory with neither a MISP manifest.json nor maltrail *.txt trail files');
}

async function head(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

const TWEETFEED_ROW = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,[^,]*,(?:url|domain|ip|md5|sha1|sha256),/;
const IPSUM_ROW = /^[0-9a-fA-F.:]+\t\d+$/;

function detectContent(file: string, text: string): FeedFormat {
  const start = text.trimStart();
  if (start.startsWith('<')) {
    if (/<ioc[\s>]/.test(start)) return 'openioc';
    throw undetectable(file, 'XML that is not an OpenIOC document');
  }
  if (start.startsWith('{') || start.startsWith('[')) {
    if (/^\{\s*"type"\s*:\s*"bundle"/.test(start) || /"spec_version"\s*:\s*"2\.\d"/.test(start)) return 'stix';
    if (/^\{\s*"Event"\s*:/.test(start) || /^\{\s*"[0-9a-f-]{36}"\s*:\s*\{\s*"info"/.test(start)) return 'misp';
    throw undetectable(file, 'JSON of no known shape (a Kaspersky feed is recognized by its file name, other JSON needs json with a mapping)');
  }
  const lines = text.split('\n').map((line) => line.trim());
  const comments = lines.filter((line) => line.startsWith('#') || line.startsWith('!'));
  const first = lines.find((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!')) ?? '';
  // Maltrail files open with their copyright line; their references may name any other feed, so it goes first.
  if (/Maltrail/i.test(comments[0] ?? '')) return 'maltrail';
  if (/\bdst_ip\b/.test(first) && /\bdst_port\b/.test(first)) return 'feodo';
  if (/^"?host"?,"?path"?,/.test(first) || comments.some((line) => /^[#!]\s*(?:Homepage|Source):.*urlhaus/i.test(line))) return 'urlhaus';
  if (TWEETFEED_ROW.test(first)) return 'tweetfeed';
  if (IPSUM_ROW.test(first) || comments.some((line) => /IPsum/.test(line))) return 'ipsum';
  throw undetectable(file, 'cannot tell the feed format from the file name or content');
}
