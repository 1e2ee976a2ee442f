/** `feedtrace lookup` (placeholder: its issue replaces this file). */
import type { Command } from 'commander';

export function registerLookup(program: Command): void {
  program.command('lookup').description('(not built yet)').action(() => {
    throw new Error('feedtrace lookup is not built yet');
  });
}
