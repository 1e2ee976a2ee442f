/**
 * `feedtrace` command line: one sub-command per module, each registered from its own file.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerMatch } from './match.js';
import { registerNormalizeUrl } from './normalize-url.js';
import { registerServe } from './serve.js';
import { registerReplay } from './replay.js';
import { registerLookup } from './lookup.js';
import { registerCheck } from './check.js';
import { registerPackage } from './package.js';
import { registerSplunk } from './splunk.js';
import { registerStart } from './start.js';
import { registerDemo } from './demo.js';

const program = new Command();
program
  .name('feedtrace')
  .description('Threat-intelligence matching for Splunk, wire-compatible with Kaspersky CyberTrace Service')
  .version(VERSION)
  .showHelpAfterError();

registerNormalizeUrl(program);
registerMatch(program);
registerServe(program);
registerReplay(program);
registerLookup(program);
registerCheck(program);
registerPackage(program);
registerSplunk(program);
registerStart(program);
registerDemo(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`feedtrace: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
