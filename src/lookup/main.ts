/**
 * The Splunk lookup script (bin/feedtrace_lookup.js, started by the bin/feedtrace_lookup launcher).
 * Arguments: the lookup's field names, as `external_cmd` lists them. The app folder is the one above bin/.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lookupCommand } from './command.js';

const NAME = 'feedtrace_lookup';

// Whatever goes wrong, Splunk gets one line on stderr (search.log) and a non-zero exit, never a stack trace.
process.on('uncaughtException', (err) => {
  process.stderr.write(`${NAME}: internal error: ${String(err instanceof Error ? err.message : err).replace(/[\r\n]+/g, ' ')}\n`);
  process.exit(1);
});

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
lookupCommand({
  fields: process.argv.slice(2),
  appDir,
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  name: NAME,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${NAME}: internal error: ${String(err instanceof Error ? err.message : err).replace(/[\r\n]+/g, ' ')}\n`);
    process.exitCode = 1;
  },
);
