/** `feedtrace splunk` (placeholder: its issue replaces this file). */
import type { Command } from 'commander';

export function registerSplunk(program: Command): void {
  program.command('splunk').description('(not built yet)').action(() => {
    throw new Error('feedtrace splunk is not built yet');
  });
}
