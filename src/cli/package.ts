/** `feedtrace package`: the three Splunk packages into dist/ (docs/splunk-app.md). */
import path from 'node:path';
import type { Command } from 'commander';
import { PACKAGES, writePackage, type PackageKind } from '../splunk/package.js';
import { VERSION } from '../version.js';

export function registerPackage(program: Command): void {
  program
    .command('package')
    .description('build the Splunk packages: all-in-one, search-head and forwarder tarballs (run npm run build first)')
    .option('--root <dir>', 'the Feedtrace repo', '.')
    .option('--out <dir>', 'where to write the tarballs', 'dist')
    .option('--only <kind>', 'one package: all-in-one, search-head or forwarder')
    .action(async (opts: { root: string; out: string; only?: string }) => {
      const chosen = PACKAGES.filter((p) => opts.only === undefined || p.kind === (opts.only as PackageKind));
      if (chosen.length === 0) throw new Error(`--only: unknown package ${opts.only}`);
      for (const def of chosen) {
        const file = await writePackage(def, path.resolve(opts.root), path.resolve(opts.out), VERSION);
        process.stdout.write(`${path.relative(process.cwd(), file) || file}\n`);
      }
    });
}
