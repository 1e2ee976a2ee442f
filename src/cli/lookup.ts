/** `feedtrace lookup`: the Splunk lookup script from the command line (same stdin/stdout CSV contract). */
import type { Command } from 'commander';
import { lookupCommand } from '../lookup/command.js';

export function registerLookup(program: Command): void {
  program
    .command('lookup')
    .description('look up CSV rows as the Splunk lookup does: CSV on stdin, one row per match on stdout')
    .argument('<fields...>', 'the lookup fields (inputs: url domain ip md5 sha1 sha256 hash; the others are outputs)')
    .option('--service <HOST:PORT>', 'service address(es), comma-separated (default: FEEDTRACE_SERVICE, then the conf, then 127.0.0.1:9999)')
    .option('--app <DIR>', 'a Splunk app folder whose default/ and local/ feedtrace.conf to read')
    .addHelpText('after', '\nExit code: 0 all values answered; 1 some values could not be looked up (rows for them are missing); 2 usage, configuration or input error.\nExample: printf \'ip,category\\n1.2.3.4,\\n\' | feedtrace lookup ip category --service 127.0.0.1:9999')
    .action(async (fields: string[], opts: { service?: string; app?: string }) => {
      process.exitCode = await lookupCommand({
        fields,
        appDir: opts.app,
        service: opts.service,
        env: process.env,
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        name: 'feedtrace lookup',
      });
    });
}
