/** `feedtrace check` (placeholder: its issue replaces this file). */
import type { Command } from 'commander';

export function registerCheck(program: Command): void {
  program.command('check').description('(not built yet)').action(() => {
    throw new Error('feedtrace check is not built yet');
  });
}
