/** `feedtrace check`: PING each service, then look up one verification indicator per feed. */
import type { Command } from 'commander';
import { ConfSyntaxError } from '../splunk/conf.js';
import { checkPassed, checkServices, builtInIndicators, feedIndicators, formatCheck, parseIndicatorOption, type VerificationIndicator } from '../lookup/check.js';
import { ConfigError, loadConfig } from '../lookup/config.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('self-test: PING each service, then look up one verification indicator per feed (table: feed, indicator, status)')
    .option('--service <HOST:PORT>', 'service address(es), comma-separated (default: FEEDTRACE_SERVICE, then the conf, then 127.0.0.1:9999)')
    .option('--app <DIR>', 'a Splunk app folder whose default/ and local/ feedtrace.conf to read')
    .option('--indicator <FEED=VALUE>', 'also check this indicator of this feed; it must match (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--feed <[FORMAT:]PATH>', 'a feed the service was given (as for feedtrace serve): its first plain indicator must match, from that feed (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-builtin', 'skip the built-in Kaspersky verification indicators')
    .addHelpText('after', '\nStatus: OK a detection came back (for --feed: one from that feed); FALSE answered without one (that feed is not loaded); ERROR no answer.\nExit code: 0 every service answered PING and every lookup, and every --indicator matched; 1 otherwise; 2 usage or configuration error.')
    .action(async (opts: { service?: string; app?: string; indicator: string[]; feed: string[]; builtin: boolean }) => {
      let indicators: VerificationIndicator[];
      let config;
      try {
        indicators = [...(opts.builtin ? builtInIndicators() : []), ...(await feedIndicators(opts.feed)), ...opts.indicator.map(parseIndicatorOption)];
        config = loadConfig(opts.app, process.env, { service: opts.service });
      } catch (err) {
        // A bad --indicator, a bad setting or an unreadable feedtrace.conf: one line, exit 2.
        if (!(err instanceof ConfigError || err instanceof ConfSyntaxError || err instanceof Error)) throw err;
        process.stderr.write(`feedtrace check: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      const results = await checkServices(config, indicators);
      process.stdout.write(formatCheck(results));
      process.exitCode = checkPassed(results) ? 0 : 1;
    });
}
