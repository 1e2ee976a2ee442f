/**
 * Maltrail trails (stamparm/maltrail): static `*.txt` trail files, one trail a line, or a directory of them
 * loaded as one feed; also the assembled `trails.csv` (`trail,info,reference`).
 *
 * A trail is a domain, `host/path` or `scheme://host/path` URL, `/path` (any host), IPv4/IPv6, CIDR or
 * `ip:port`. A path-only trail becomes the URL mask `*` + path. Regex ("wildcard") trails are skipped and
 * counted: the index matches literals and masks, not regular expressions.
 * `# Reference: …` applies to the trails below it, as in Maltrail; the file name is the trail family and its
 * directory (malware, malicious, suspicious) the class.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ContextFields } from '../../types.js';
import type { FeedFormatParser } from '../format.js';
import { csvRecords, forEachLine } from '../files.js';
import { ipProblem } from '../indicator.js';
import type { FeedSink } from '../sink.js';

/** Directory names Maltrail gives a threat class; any other directory holds class-less trails. */
const CLASSES = ['malware', 'malicious', 'suspicious'] as const;

/** Characters of a regular expression that never appear in a host name. */
const REGEX_IN_HOST = /[[\](){}*+?|\\^$]/;

const titleCase = (words: string): string =>
  words
    .split(/[\s_-]+/)
    .filter((word) => word !== '')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('_');

/** `Maltrail_Malware`, `Maltrail_Suspicious`, …; class-less trails take their family (`Maltrail_Mass_Scanner`). */
export function maltrailCategory(trailClass: string | undefined, family: string): string {
  return `Maltrail_${titleCase(trailClass ?? family)}`;
}

export const maltrail: FeedFormatParser = {
  domainSuffix: () => true,
  async parse({ path: target, sink }) {
    if ((await stat(target)).isDirectory()) {
      const names = (await readdir(target, { recursive: true })).filter((name) => name.endsWith('.txt')).sort();
      for (const name of names) await parseTrailFile(path.join(target, name), sink);
    } else if (target.toLowerCase().endsWith('.csv')) {
      await parseTrailsCsv(target, sink);
    } else {
      await parseTrailFile(target, sink);
    }
  },
};

/** Sends one trail as the indicator it is, or skips it with the reason. */
function emitTrail(sink: FeedSink, where: string, trail: string, category: string, context: ContextFields): void {
  if (trail.includes('://')) {
    sink.emit(where, 'url', trail, category, context);
    return;
  }
  if (trail.startsWith('/')) {
    sink.emit(where, 'url', `*${trail}`, category, context);
    return;
  }
  const slash = trail.indexOf('/');
  const host = slash === -1 ? trail : trail.slice(0, slash);
  if (REGEX_IN_HOST.test(host) && !/^\[[0-9a-fA-F:.]+\](:\d+)?$/.test(host)) {
    sink.skip(where, 'regex trail (unsupported)', trail);
    return;
  }
  const addressProblem = ipProblem(trail);
  if (addressProblem === undefined) sink.emit(where, 'ip', trail, category, context);
  else if (/^[\d.]+\/\d+$/.test(trail)) sink.skip(where, addressProblem, trail);
  else if (slash !== -1) sink.emit(where, 'url', trail, category, context);
  else if (/^[\d.:]+$/.test(trail)) sink.skip(where, 'not a valid IP trail', trail);
  // As Maltrail: outer dots and one leading "www." go (a www. trail then covers the whole domain).
  else sink.emit(where, 'domain', trail.replace(/^\.+|\.+$/g, '').replace(/^www\./i, ''), category, context);
}

async function parseTrailFile(file: string, sink: FeedSink): Promise<void> {
  const family = path.basename(file, path.extname(file));
  const directory = path.basename(path.dirname(file)).toLowerCase();
  const trailClass = (CLASSES as readonly string[]).includes(directory) ? directory : undefined;
  const category = maltrailCategory(trailClass, family);
  const fixed: ContextFields = trailClass === undefined ? [['family', family]] : [['family', family], ['class', trailClass]];
  let context = fixed;
  await forEachLine(file, sink, (line, number) => {
    const text = line.trim();
    if (text === '') return;
    if (text.startsWith('#')) {
      // A bare "# Reference:" ends the group, so the trails after it are not attributed to the one above.
      const reference = /^#\s*Reference:\s*(.*)$/.exec(text);
      if (reference) context = reference[1]!.trim() === '' ? fixed : [...fixed, ['reference', reference[1]!.trim()]];
      return;
    }
    const trail = text.includes('#') ? text.replace(/\s*#.*$/, '') : text;
    if (trail !== '') emitTrail(sink, `${file}:${number}`, trail, category, context);
  });
}

/** The assembled trail set: `trail,info,reference`, the class in the info's parentheses (`emotet (malware)`). */
async function parseTrailsCsv(file: string, sink: FeedSink): Promise<void> {
  for await (const { row, line } of csvRecords(file, sink, 'trail', ['trail', 'info', 'reference'])) {
    const info = (row.info ?? '').trim();
    const trailClass = /\((malware|malicious|suspicious)\)$/.exec(info)?.[1];
    const family = info.replace(/\s*\([^)]*\)$/, '');
    const context: ContextFields = [['info', info], ['reference', (row.reference ?? '').trim()]];
    emitTrail(sink, `${file}:${line}`, (row.trail ?? '').trim(), maltrailCategory(trailClass, family || 'trail'), context);
  }
}
