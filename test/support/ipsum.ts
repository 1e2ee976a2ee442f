/** The addresses of the real IPsum list (../shared/datasets/ipsum/ipsum.txt), in file order: real hits for tests. */
import fs from 'node:fs';
import { dataset } from './paths.js';

export const IPSUM_FILE = dataset('ipsum', 'ipsum.txt');

export const ipsumAddresses: readonly string[] = fs
  .readFileSync(IPSUM_FILE, 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split('\t')[0]!);
