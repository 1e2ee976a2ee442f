/** `feedtrace serve` (placeholder: its issue replaces this file). */
import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program.command('serve').description('(not built yet)').action(() => {
    throw new Error('feedtrace serve is not built yet');
  });
}
