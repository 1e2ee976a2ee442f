/** `feedtrace normalize-url`: one output line per input line, comparable line by line with Kaspersky's reference. */
import type { Command } from 'commander';
import { normalizeUrl } from '../normalize/url.js';
import { readLines } from './lines.js';

export function registerNormalizeUrl(program: Command): void {
  program
    .command('normalize-url')
    .description(
      'Normalize URLs read on stdin (one a line) with Kaspersky\'s URL normalization rules. Prints one line per ' +
        'input line: the normalized form, or "<INVALID>", a tab and the reason. A CR or LF that percent-decoding ' +
        'put into the normalized form is printed as %0D / %0A so that output lines stay aligned with input lines.',
    )
    .action(async () => {
      const out: string[] = [];
      for await (const line of readLines(process.stdin)) {
        const result = normalizeUrl(line);
        out.push(result.ok ? oneLine(result.url) : `<INVALID>\t${result.reason}`);
        if (out.length >= 4096) process.stdout.write(out.splice(0).join('\n') + '\n');
      }
      if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
    });
}

/** The reference can decode `%0A`/`%0D` into the normalized URL; re-escape them so one input gives one line. */
function oneLine(url: string): string {
  return url.replace(/[\r\n]/g, (c) => (c === '\n' ? '%0A' : '%0D'));
}
