/** `feedtrace match` (placeholder until the matching engine lands). */
import type { Command } from 'commander';

export function registerMatch(program: Command): void {
  program.command('match').description('Match values read on stdin against feeds').action(() => {
    throw new Error('not implemented');
  });
}
