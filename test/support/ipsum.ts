/** The addresses of the real IPsum list (../shared/datasets/ipsum/ipsum.txt), in file order: real hits for tests. */
import fs from 'node:fs';
import path from 'node:path';
import { dataset } from './paths.js';

export const IPSUM_FILE = dataset('ipsum', 'ipsum.txt');

export const ipsumAddresses: readonly string[] = fs
  .readFileSync(IPSUM_FILE, 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split('\t')[0]!);

/** The first `n` addresses as an ipsum file in `dir` (a small feed: the service starts fast). */
export function writeIpsum(dir: string, n = 2000, name = 'ipsum.txt'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, ipsumAddresses.slice(0, n).map((ip) => `${ip}\t3\n`).join(''));
  return file;
}
