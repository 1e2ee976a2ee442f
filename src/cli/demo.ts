/** `feedtrace demo`: the whole chain on loopback with the shipped samples, no Splunk (src/demo/run.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { progressLine } from '../demo/progress.js';
import { DemoInterrupted, runDemo } from '../demo/run.js';
import { formatSummary } from '../demo/summary.js';

interface DemoCliOptions {
  out?: string;
  rate?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole chain on loopback with the shipped sample feeds and logs, no Splunk needed')
    .option('--out <DIR>', 'where to write the files (default: a new folder under the OS temp dir)')
    .option('--rate <N>', 'replay at most N events per second per log (default: as fast as the service reads)')
    .addHelpText(
      'after',
      `
Starts the service on a free loopback port with the sample feeds, a stand-in for Splunk's 9998 input that writes
what it receives to DIR/detections.log, replays the sample logs into the service (progress bar on a terminal),
looks up the IPs and domains of those logs through the Splunk lookup bundle (DIR/lookup-input.csv →
DIR/lookup-output.csv), and prints a summary. Ctrl-C stops it cleanly (exit code 130).`,
    )
    .action(async (opts: DemoCliOptions) => {
      const rate = opts.rate === undefined ? 0 : Number(opts.rate);
      if (!(rate >= 0)) throw new Error(`--rate: "${opts.rate}" is not a number of events per second`);
      const out = path.resolve(opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'feedtrace-demo-')));
      const tty = process.stderr.isTTY === true;
      const controller = new AbortController();
      const interrupt = (): void => {
        if (tty) process.stderr.write('\n');
        process.stderr.write('demo: stopping ...\n');
        controller.abort();
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      let drawn = false;
      try {
        const result = await runDemo({
          out,
          rate,
          signal: controller.signal,
          log: (line) => {
            if (drawn) process.stderr.write('\n');
            drawn = false;
            process.stderr.write(`demo: ${line}\n`);
          },
          onProgress: tty
            ? (sent, total, seconds) => {
                process.stderr.write(`\r${progressLine(sent, total, seconds)}`);
                drawn = true;
              }
            : undefined,
        });
        if (drawn) process.stderr.write('\n');
        process.stdout.write(formatSummary(result));
        if (result.lookup.exitCode !== 0) process.exitCode = 1;
      } catch (err) {
        if (!(err instanceof DemoInterrupted)) throw err;
        process.stderr.write(`demo: interrupted; service and lookup stopped, sockets closed. Files so far: ${out}\n`);
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}
