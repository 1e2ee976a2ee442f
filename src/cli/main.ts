/**
 * `feedtrace` command line: one sub-command per module, each registered from its own file.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerMatch } from './match.js';
import { registerNormalizeUrl } from './normalize-url.js';

const program = new Command();
program
  .name('feedtrace')
  .description('Threat-intelligence matching for Splunk, wire-compatible with Kaspersky CyberTrace Service')
  .version(VERSION)
  .showHelpAfterError();

registerNormalizeUrl(program);
registerMatch(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`feedtrace: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
