/** `feedtrace package` (placeholder: its issue replaces this file). */
import type { Command } from 'commander';

export function registerPackage(program: Command): void {
  program.command('package').description('(not built yet)').action(() => {
    throw new Error('feedtrace package is not built yet');
  });
}
