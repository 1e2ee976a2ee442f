// Bundles the TypeScript sources with esbuild into dist/.
// Every bundle is CommonJS: the lookup bundle runs inside a Splunk app folder (no package.json there),
// so one module format everywhere keeps the bundles interchangeable; dist/package.json says so to Node.
import { build } from 'esbuild';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { readFileSync } from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;

/** entry point → output file (relative to the repo root) */
export const bundles = [
  { entry: 'src/cli/main.ts', out: 'dist/feedtrace.js', shebang: true },
  { entry: 'src/bench/main.ts', out: 'dist/bench.js', shebang: true },
  // The lookup benchmark's CSV passthrough, apart from dist/bench.js so that it starts as fast as the lookup bundle.
  { entry: 'src/bench/csv-passthrough.ts', out: 'dist/bench-passthrough.js', shebang: false },
  // The Splunk lookup script: one plain-JavaScript file, no node_modules at run time.
  { entry: 'src/lookup/main.ts', out: 'dist/app/bin/feedtrace_lookup.js', shebang: false },
];

export async function buildAll() {
  await mkdir(dist, { recursive: true });
  await writeFile(path.join(dist, 'package.json'), '{ "type": "commonjs" }\n');
  await Promise.all(
    bundles.map((b) =>
      build({
        entryPoints: [path.join(root, b.entry)],
        outfile: path.join(root, b.out),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: false,
        sourcemap: false,
        legalComments: 'inline',
        // import.meta.url has no CommonJS equivalent: give it the bundle's own file URL.
        banner: { js: (b.shebang ? '#!/usr/bin/env node\n' : '') + "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
        define: { __FEEDTRACE_VERSION__: JSON.stringify(version), 'import.meta.url': '__bundleUrl' },
        logLevel: 'warning',
      }),
    ),
  );
  // The shipped sample feeds and logs (`feedtrace start`, `feedtrace demo`) are found beside the bundle at run time.
  await rm(path.join(dist, 'samples'), { recursive: true, force: true });
  await cp(path.join(root, 'src', 'samples'), path.join(dist, 'samples'), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAll();
}
