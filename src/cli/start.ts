/**
 * `feedtrace start` (what `npm start` runs after building): the matching service with the embedded default
 * config and the shipped sample feeds, plus where the Splunk packages are and how to install the app on this
 * host (the single-instance scheme of docs/splunk-app.md).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { distDir, sampleFeedArgs, sampleIp, samplesDir } from '../demo/samples.js';
import { spawnService, type ServiceProcess } from '../demo/service-process.js';
import { PACKAGES } from '../splunk/package.js';
import { VERSION } from '../version.js';

interface StartOptions {
  listen?: string;
  output?: string;
  spool?: string;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the matching service with the shipped sample feeds and print how to install the Splunk app on this host')
    .option('--listen <HOST:PORT>', 'address to accept events on', '127.0.0.1:9999')
    .option('--output <HOST:PORT>', "where detections go (Splunk's 9998 input)", '127.0.0.1:9998')
    .option('--spool <DIR>', 'disk spool for detections while Splunk is down (default: under the OS temp dir)')
    .addHelpText(
      'after',
      `
This is \`feedtrace serve\` with the sample feeds shipped in ${path.join(distDir, 'samples')} (IPsum, Feodo Tracker,
URLhaus filter, TweetFeed, maltrail trails; sources and licences in SOURCES.md there). \`feedtrace serve\` itself
loads only the feeds given with --feed or in its --config, never the samples.
\`npm start\` = \`npm run build\` + \`feedtrace package\` (the three Splunk tarballs into dist/) + \`feedtrace start\`.
Ctrl-C (SIGINT) or SIGTERM stops the service cleanly.`,
    )
    .action(async (options: StartOptions) => {
      process.exitCode = await start(options);
    });
}

async function start(options: StartOptions): Promise<number> {
  const args = ['--listen', options.listen!, '--output', options.output!, ...(options.spool ? ['--spool', options.spool] : []), ...sampleFeedArgs()];
  // The handlers go in before the child starts: a signal that comes while the service is still loading its
  // feeds stops the service too, instead of killing this parent and leaving the service running.
  const controller = new AbortController();
  let service: ServiceProcess | undefined;
  const forward = (): void => {
    if (service) service.child.kill('SIGTERM');
    else controller.abort();
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    service = await spawnService({ args, signal: controller.signal, onLine: (line) => process.stderr.write(line + '\n') }).catch((err: unknown) => {
      if (controller.signal.aborted) return undefined;
      throw err;
    });
    if (service === undefined) return 130; // stopped while loading
    process.stdout.write(instructions(service.host, service.port, options.output!));
    return (await service.exited) ?? 1;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

const bracket = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** The text printed once the service listens: the packages, then the single-instance install steps. */
function instructions(host: string, port: number, output: string): string {
  const cwd = process.cwd();
  const show = (file: string): string => {
    const rel = path.relative(cwd, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
  };
  const packages = PACKAGES.map((p) => ({ kind: p.kind, file: path.join(distDir, p.tarball(VERSION)) }));
  const role: Record<string, string> = {
    'all-in-one': 'the app for a single instance (install this one here)',
    'search-head': 'search heads, search head clusters, Splunk Cloud',
    forwarder: 'heavy forwarder add-on (distributed set-ups)',
  };
  const width = Math.max(...packages.map((p) => show(p.file).length));
  const lines = [
    '',
    `Feedtrace service listening on ${bracket(host)}:${port} with the sample feeds (${show(path.join(samplesDir, 'SOURCES.md'))}); detections go to ${output}.`,
    '',
    'Splunk packages:',
    ...packages.map((p) => `  ${show(p.file).padEnd(width)}  ${existsSync(p.file) ? role[p.kind] : 'missing: run `npm run package`'}`),
    '',
    'Install the app on this host (single instance: Splunk receives events on TCP 3000, forwards them raw to',
    `127.0.0.1:9999, and indexes the detections the service sends to its TCP 9998 input, index=main sourcetype=feedtrace):`,
    `  1. $SPLUNK_HOME/bin/splunk install app ${packages[0]!.file} -update 1 -auth admin:<password>`,
    '  2. Splunk 10.2 ships no Node.js; the lookup needs Node.js 20+. If `node` is not on splunkd\'s PATH, put',
    `     [runtime]`,
    `     node_path = ${process.execPath}`,
    '     into $SPLUNK_HOME/etc/apps/feedtrace/local/feedtrace.conf',
    '  3. $SPLUNK_HOME/bin/splunk restart            (new inputs and outputs need a restart)',
    '  4. Send events to Splunk: e.g. nc 127.0.0.1 3000 < /var/log/apache2/access.log',
    '     Detections: Apps > Feedtrace > Matches, or search `feedtrace_index` sourcetype=feedtrace',
    `  5. The lookup: | makeresults | eval ip="${sampleIp()}" | lookup local=true feedtrace ip OUTPUT category matchedIndicator feed`,
  ];
  if (`${bracket(host)}:${port}` !== '127.0.0.1:9999' || output !== '127.0.0.1:9998') {
    lines.push(
      '',
      'Not the default addresses: set [tcpout:feedtrace_service] server (outputs.conf), the [tcp://:9998] input',
      '(inputs.conf) and [service] hosts (feedtrace.conf) to match, in the app\'s local/.',
    );
  }
  lines.push(
    '',
    'Until Splunk listens on the output address, detections are kept in the service\'s disk spool and sent later.',
    'Try it all without Splunk: node dist/feedtrace.js demo. Ctrl-C stops the service.',
    '',
  );
  return lines.join('\n');
}
