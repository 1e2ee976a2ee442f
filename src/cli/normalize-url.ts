/** `feedtrace normalize-url`: one output line per input line, comparable line by line with Kaspersky's reference. */
import type { Command } from 'commander';
import { normalizeUrl } from '../normalize/url.js';
import { readLines } from './lines.js';

export function registerNormalizeUrl(program: Command): void {
  program
    .command('normalize-url')
    .description(
      'Normalize URLs read on stdin (one a line) with Kaspersky\'s URL normalization rules. Prints one line per ' +
        'input line: the normalized form, or "<INVALID>", a tab and the reason.',
    )
    .action(async () => {
      const out: string[] = [];
      for await (const line of readLines(process.stdin)) {
        const result = normalizeUrl(line);
        out.push(result.ok ? result.url : `<INVALID>\t${result.reason}`);
        if (out.length >= 4096) process.stdout.write(out.splice(0).join('\n') + '\n');
      }
      if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
    });
}
