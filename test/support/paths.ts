/** Where tests find the repo, its bundles and the shared datasets. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Real feeds and logs, beside the repo (read-only; never needed at run time by the product). */
export const datasets = path.resolve(repoRoot, '..', 'shared', 'datasets');
export const dataset = (...parts: string[]): string => path.join(datasets, ...parts);
/** The built CLI bundle (`npm test` builds before jest runs). */
export const cliBundle = path.join(repoRoot, 'dist', 'feedtrace.js');
