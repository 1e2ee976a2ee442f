/** `feedtrace replay` (placeholder: its issue replaces this file). */
import type { Command } from 'commander';

export function registerReplay(program: Command): void {
  program.command('replay').description('(not built yet)').action(() => {
    throw new Error('feedtrace replay is not built yet');
  });
}
