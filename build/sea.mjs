// `npm run build:sea`: the lookup bundle as a Node.js single executable application (SEA), for search heads
// without Node.js (Splunk 10.2 ships none). The result, dist/sea/feedtrace_lookup_sea, is the Node.js that runs
// this script with bin/feedtrace_lookup.js inside: it runs on hosts of the same operating system and CPU
// architecture. Copied into the app's bin/, the launcher prefers it to any Node.js it would look for.
// See https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SEA_NAME = 'feedtrace_lookup_sea';
// The fuse Node.js checks to find an injected blob (the value the Node.js documentation gives for every version).
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Builds the executable into `outDir` from `bundle` with the Node.js binary `node`; returns its path. */
export async function buildSea({ bundle = path.join(root, 'dist', 'app', 'bin', 'feedtrace_lookup.js'), outDir = path.join(root, 'dist', 'sea'), node = process.execPath } = {}) {
  if (!existsSync(bundle)) throw new Error(`${bundle} not found: run npm run build first`);
  mkdirSync(outDir, { recursive: true });
  const blob = path.join(outDir, 'feedtrace_lookup.blob');
  const config = path.join(outDir, 'sea-config.json');
  // The code cache spares the bundle's compilation at every start (a lookup is a new process per search).
  writeFileSync(config, `${JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2)}\n`);
  execFileSync(node, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const executable = path.join(outDir, SEA_NAME);
  rmSync(executable, { force: true });
  copyFileSync(node, executable);
  chmodSync(executable, 0o755);
  const { inject } = createRequire(import.meta.url)('postject');
  await inject(executable, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SENTINEL_FUSE });
  rmSync(blob);
  rmSync(config);
  return executable;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `--out DIR` builds elsewhere (the tests do).
  const out = process.argv.indexOf('--out');
  const executable = await buildSea(out > 0 ? { outDir: path.resolve(process.argv[out + 1] ?? '') } : {});
  process.stdout.write(`${path.relative(process.cwd(), executable)}: the lookup for ${process.platform}-${process.arch} hosts without Node.js; copy it into the app's bin/ (docs/lookup.md)\n`);
}
