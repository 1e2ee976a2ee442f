/** `feedtrace serve`: the matching service (docs/service.md). */
import type { Command } from 'commander';
import { parseFeedArg } from '../feeds/load.js';
import { readFileSync } from 'node:fs';
import { loadServiceConfig, parseHostPort, type HostPort, type ServiceConfig, type ServiceFeed } from '../service/config.js';
import { startService } from '../service/server.js';
import { mallocAdvice } from '../service/garbage.js';
import type { FeedRole } from '../types.js';

interface ServeOptions {
  config?: string;
  listen?: string;
  output?: string;
  feed: string[];
  allow: string[];
  block: string[];
  feedRefresh?: string;
  spool?: string;
  replyOnly?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  outputTls?: boolean;
  outputCa?: string;
  outputServername?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `HOST:PORT`; port 0 (any free port) is allowed where `allowZero`. */
export function parseAddress(text: string, what: string, allowZero = false): HostPort {
  const zero = allowZero && /:0$/.test(text);
  const parsed = parseHostPort(zero ? text.replace(/:0$/, ':1') : text);
  if (typeof parsed === 'string') throw new Error(`${what}: ${parsed}`);
  return zero ? { ...parsed, port: 0 } : parsed;
}

/** Feeds given on the command line: `[FORMAT:]PATH` with a role. CLI feeds are checked for age like config feeds. */
export function cliFeeds(options: Pick<ServeOptions, 'feed' | 'allow' | 'block'>): ServiceFeed[] {
  const withRole = (role: FeedRole) => (arg: string): ServiceFeed => ({ ...parseFeedArg(arg), role, outdatedAlertHours: 48 });
  return [...options.feed.map(withRole('feed')), ...options.allow.map(withRole('allow')), ...options.block.map(withRole('block'))];
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the matching service (wire-compatible with Kaspersky CyberTrace Service)')
    .option('--config <FILE>', 'service XML config (CyberTrace element names); the built-in default when omitted')
    .option('--listen <HOST:PORT>', 'address to accept events on (default: the config\'s, 127.0.0.1:9999); port 0 picks a free one')
    .option('--output <HOST:PORT>', 'where detections and alerts go (default: the config\'s, 127.0.0.1:9998); IPv6 as [::1]:9998')
    .option('--feed <[FORMAT:]PATH>', 'a feed to match against (repeatable); FORMAT is detected from the file when omitted', collect, [])
    .option('--allow <[FORMAT:]PATH>', 'an allow-list: values it matches yield no detection from ordinary feeds (repeatable)', collect, [])
    .option('--block <[FORMAT:]PATH>', 'a block-list: its detections are always reported (repeatable)', collect, [])
    .option('--feed-refresh <SECONDS>', 're-read every feed this often, changed or not (feeds are also re-read whenever their file changes)')
    .option('--spool <DIR>', 'disk spool for output lines while the receiver is down or slow (default: the config\'s Spool/Directory; with the built-in config, feedtrace-spool-HOST-PORT under the OS temp dir)')
    .option('--reply-only', 'no output connection: only ReplyBack clients (lookups) get detections; alerts go to the log')
    .option('--tls-cert <FILE>', 'serve TLS on the listener with this PEM certificate (with --tls-key); overrides InputSettings/Tls')
    .option('--tls-key <FILE>', 'the PEM private key of --tls-cert')
    .option('--tls-client-ca <FILE>', 'require client certificates signed by this PEM CA (mutual TLS)')
    .option('--output-tls', 'connect to --output with TLS (a Splunk [tcp-ssl:PORT] input); verified against Node\'s CAs unless --output-ca')
    .option('--output-ca <FILE>', 'trust this PEM CA for the output receiver\'s certificate (implies --output-tls)')
    .option('--output-servername <NAME>', 'name the receiver\'s certificate must carry (default: the --output host; implies --output-tls)')
    .addHelpText(
      'after',
      `
Clients send one event per line (UTF-8, LF). A session may start with X-KF-ReplyBack, X-KF-SendFinishedEvent
and X-KF-SaveStatistic (no newline needed); X-KF-ReplyBackPING is answered with PONG. ReplyBack sessions get
their detections (and finished events) back on the same socket; other sessions' detections go to --output.
One start-up line on stderr says where it listens, which feeds are loaded and where output goes. Memory: with
glibc, set MALLOC_MMAP_THRESHOLD_=131072 in the environment so that what feed loads free is returned (the line
before the start-up line says so when it is missing and 100,000 indicators or more are loaded; docs/operations.md).
SIGHUP (or a change of the --config file) reloads the config; an invalid one is rejected and the running one kept.
SIGINT/SIGTERM stop it cleanly: pending output is sent or spooled, then KL_ALERT_ServiceStopped.

FORMAT: kaspersky, urlhaus, feodo, ipsum, maltrail, tweetfeed, misp, stix, openioc, csv, json.

Examples:
  feedtrace serve --feed ipsum:ipsum.txt --feed maltrail:trails/ --output 127.0.0.1:9998
  feedtrace serve --config kl_feed_service.conf --listen 0.0.0.0:9999 --spool /var/spool/feedtrace
  feedtrace serve --listen 127.0.0.1:0 --reply-only --feed urlhaus-filter-online.txt`,
    )
    .action(async (options: ServeOptions) => {
      await serve(options);
    });
}

async function serve(options: ServeOptions): Promise<void> {
  const log = (message: string): void => {
    process.stderr.write(`feedtrace: ${message}\n`);
  };
  const config = loadServiceConfig(options.config);
  const refresh = options.feedRefresh === undefined ? 0 : Number(options.feedRefresh);
  if (!(refresh >= 0)) throw new Error(`--feed-refresh: "${options.feedRefresh}" is not a number of seconds`);
  for (const item of config.ignored) log(`config: ${item} has no effect here`);
  applyTlsOptions(config, options);
  const service = await startService({
    config,
    listen: options.listen === undefined ? undefined : parseAddress(options.listen, '--listen', true),
    output: options.output === undefined ? undefined : parseAddress(options.output, '--output'),
    feeds: cliFeeds(options),
    spoolDir: options.spool,
    replyOnly: options.replyOnly,
    feedRefreshMs: refresh * 1000,
    watchConfig: options.config !== undefined,
    log,
  });
  const feeds = service.feeds.loaded();
  const feedText = feeds.length === 0 ? 'none' : feeds.map((f) => `${f.name}${f.role === 'feed' ? '' : ` (${f.role})`} ${f.records}`).join(', ');
  const out = service.output ? `${hostPort(service.output.target)}${config.output.tls ? ' (TLS)' : ''}` : 'none (reply-only)';
  const host = service.address.host.includes(':') ? `[${service.address.host}]` : service.address.host;
  // The handlers go in before the start-up line: whoever waits for that line may signal at once (a test, a
  // supervisor, `feedtrace start`), and a signal without a handler would kill the process uncleanly.
  process.on('SIGHUP', () => void service.reload());
  // Each signal is logged (under `feedtrace start` both a Ctrl-C and start's SIGTERM arrive); the first one stops.
  const stopSignal = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log(`${signal}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  // Before the start-up line: whoever waits for that line has read this one too.
  const advice = mallocAdvice(feeds.reduce((records, f) => records + f.records, 0));
  if (advice !== undefined) log(advice);
  log(`listening on ${host}:${service.address.port}${config.input.tls ? ' (TLS)' : ''}; feeds: ${feedText}; output ${out}`);

  await stopSignal;
  await service.close();
  const s = service.stats();
  log(`stopped after ${s.processedEvents} events, ${s.detections} detections counted`);
  // Exit even if a library left a handle open; unref'd, so it never delays a clean exit.
  setTimeout(() => process.exit(0), 1000).unref();
}

/** TLS from the command line replaces the config's (read once at start, like the addresses). */
function applyTlsOptions(config: ServiceConfig, options: ServeOptions): void {
  const pem = (file: string, option: string): string => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`${option}: cannot read ${file}: ${(error as Error).message}`);
    }
    if (!text.includes('-----BEGIN ')) throw new Error(`${option}: ${file} is not a PEM file`);
    return text;
  };
  if (options.tlsCert !== undefined || options.tlsKey !== undefined || options.tlsClientCa !== undefined) {
    if (options.tlsCert === undefined || options.tlsKey === undefined) throw new Error('--tls-cert and --tls-key go together');
    config.input.tls = { cert: pem(options.tlsCert, '--tls-cert'), key: pem(options.tlsKey, '--tls-key') };
    if (options.tlsClientCa !== undefined) config.input.tls.clientCa = pem(options.tlsClientCa, '--tls-client-ca');
  }
  if (options.outputTls || options.outputCa !== undefined || options.outputServername !== undefined) {
    config.output.tls = { ...config.output.tls };
    if (options.outputCa !== undefined) config.output.tls.ca = pem(options.outputCa, '--output-ca');
    if (options.outputServername !== undefined) config.output.tls.serverName = options.outputServername;
  }
}

function hostPort(t: HostPort): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
