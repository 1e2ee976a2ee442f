/**
 * The lookup as a process: configuration, the run, and one-line errors on stderr. Shared by the Splunk bundle
 * (bin/feedtrace_lookup.js) and `feedtrace lookup`.
 */
import type { Readable, Writable } from 'node:stream';
import { ConfSyntaxError } from '../splunk/conf.js';
import { ConfigError, loadConfig } from './config.js';
import { EXIT_USAGE, runLookup } from './run.js';

export interface LookupCommandOptions {
  fields: string[];
  /** The Splunk app folder holding default/ and local/feedtrace.conf; none: built-in defaults. */
  appDir?: string;
  /** host:port[,host:port...], overriding the configuration and FEEDTRACE_SERVICE. */
  service?: string;
  env: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Prefix of every stderr line. */
  name: string;
}

export async function lookupCommand(opts: LookupCommandOptions): Promise<number> {
  const log = (line: string): void => {
    opts.stderr.write(`${opts.name}: ${line.replace(/[\r\n]+/g, ' ')}\n`);
  };
  // Splunk may stop reading early; a closed stdout is no reason to crash.
  opts.stdout.on('error', () => undefined);
  let config;
  try {
    config = loadConfig(opts.appDir, opts.env, { service: opts.service });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ConfSyntaxError) {
      log(`configuration error: ${err.message}`);
      opts.stdin.resume();
      return EXIT_USAGE;
    }
    throw err;
  }
  const result = await runLookup({ fields: opts.fields, input: opts.stdin, output: opts.stdout, config, log });
  return result.exitCode;
}
