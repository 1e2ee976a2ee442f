/** `feedtrace replay`: sends a log file to a running service, line by line (docs/service.md). */
import type { Command } from 'commander';
import { replayFile, type ReplayProgress } from '../service/replay.js';
import { parseAddress } from './serve.js';

interface ReplayCliOptions {
  to: string;
  rate?: string;
  replyBack?: boolean;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Send a log file to a feedtrace (or Kaspersky CyberTrace) service, one event per line')
    .argument('<FILE>', 'log file: one event per line (UTF-8)')
    .option('--to <HOST:PORT>', 'the service address', '127.0.0.1:9999')
    .option('--rate <N>', 'send at most N lines per second (default: as fast as the service reads)')
    .option('--reply-back', 'ask for detections on this connection (X-KF-ReplyBack with finished events) and count them')
    .addHelpText(
      'after',
      `
Without --reply-back the service sends detections to its output connection (Splunk's 9998 input), as it does
for forwarded events. With --reply-back it answers on this connection; replay waits for one finished event per
line and reports how many detections came back. Empty lines are skipped (the service ignores them).
Progress is shown on a terminal; the summary goes to stdout.

Examples:
  feedtrace replay /var/log/apache2/access.log
  feedtrace replay eve.json --to 10.0.0.5:9999 --rate 2000
  feedtrace replay apache_logs --to 127.0.0.1:9999 --reply-back`,
    )
    .action(async (file: string, options: ReplayCliOptions) => {
      const rate = options.rate === undefined ? 0 : Number(options.rate);
      if (!(rate >= 0)) throw new Error(`--rate: "${options.rate}" is not a number of lines per second`);
      const tty = process.stderr.isTTY === true;
      const show = (p: ReplayProgress): void => {
        const answers = options.replyBack ? `, ${p.detections} detections` : '';
        process.stderr.write(`\r${p.lines} lines, ${p.bytes} bytes, ${p.seconds.toFixed(1)} s${answers}   `);
      };
      const summary = await replayFile({
        file,
        to: parseAddress(options.to, '--to'),
        rate,
        replyBack: options.replyBack === true,
        onProgress: tty ? show : undefined,
      });
      if (tty) process.stderr.write('\n');
      const perSecond = summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : summary.lines;
      let text = `sent ${summary.lines} lines, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s (${perSecond} lines/s)`;
      if (options.replyBack) {
        text += `; detections received ${summary.detections}, finished events ${summary.finished}`;
        if (summary.finished < summary.lines) text += ` (${summary.lines - summary.finished} lines unanswered)`;
      }
      process.stdout.write(text + '\n');
      if (options.replyBack && summary.finished < summary.lines) process.exitCode = 1;
    });
}
