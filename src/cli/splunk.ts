/**
 * `feedtrace splunk install|configure|verify`: the Splunk REST helper (src/splunk/rest.ts). Credentials come
 * from SPLUNK_TOKEN or SPLUNK_USERNAME/SPLUNK_PASSWORD (not from arguments, which other users can see in ps);
 * TLS certificates are verified unless --insecure.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { SplunkConnection } from '../splunk/rest.js';

/** splunk-sdk is loaded only when a splunk sub-command runs, not on every CLI start. */
const rest = () => import('../splunk/rest.js');

interface ConnectionOptions {
  url: string;
  caFile?: string;
  insecure?: boolean;
  timeout: string;
}

function connection(opts: ConnectionOptions): SplunkConnection {
  const env = process.env;
  return {
    url: opts.url,
    ...(env.SPLUNK_TOKEN ? { token: env.SPLUNK_TOKEN } : {}),
    ...(env.SPLUNK_USERNAME ? { username: env.SPLUNK_USERNAME } : {}),
    ...(env.SPLUNK_PASSWORD ? { password: env.SPLUNK_PASSWORD } : {}),
    ...(opts.caFile ? { caFile: opts.caFile } : {}),
    insecure: opts.insecure === true,
    timeoutMs: Number(opts.timeout) * 1000,
  };
}

function withConnection(cmd: Command): Command {
  return cmd
    .requiredOption('--url <url>', 'splunkd management URL, e.g. https://splunk:8089 (SPLUNK_URL)', process.env.SPLUNK_URL)
    .option('--ca-file <pem>', "CA certificate(s) that signed splunkd's certificate")
    .option('--insecure', 'do not verify the TLS certificate (not recommended)')
    .option('--timeout <seconds>', 'per-request timeout', '60');
}

/** `stanza.key=value` → [stanza, key, value]. */
function parseSetting(text: string): [string, string, string] {
  const m = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(text);
  if (!m) throw new Error(`--set ${text}: expected stanza.key=value, e.g. service.hosts=10.0.0.5:9999`);
  return [m[1]!, m[2]!, m[3]!];
}

export function registerSplunk(program: Command): void {
  const splunk = program.command('splunk').description('install, configure and verify the Feedtrace app on a Splunk instance over REST');

  withConnection(splunk.command('install'))
    .description('install or update a package (a path on the Splunk server, or a URL it can fetch)')
    .argument('<package>', 'e.g. dist/feedtrace-<version>.tgz when Splunk runs on this host')
    .action(async (pkg: string, opts: ConnectionOptions) => {
      const { connect, installApp } = await rest();
      const service = await connect(connection(opts));
      const location = /^[a-z]+:\/\//i.test(pkg) ? pkg : path.resolve(pkg);
      await installApp(service, location);
      process.stdout.write(`installed ${location}; restart Splunk if the package changed inputs or outputs\n`);
    });

  withConnection(splunk.command('configure'))
    .description("set feedtrace.conf values in the app's local/ (e.g. --set service.hosts=10.0.0.5:9999)")
    .option('--set <stanza.key=value...>', 'one or more settings')
    .action(async (opts: ConnectionOptions & { set?: string[] }) => {
      const settings = (opts.set ?? []).map(parseSetting);
      if (settings.length === 0) throw new Error('nothing to set: give --set stanza.key=value');
      const byStanza = new Map<string, Record<string, string>>();
      for (const [stanza, key, value] of settings) byStanza.set(stanza, { ...byStanza.get(stanza), [key]: value });
      const { connect, setConf } = await rest();
      const service = await connect(connection(opts));
      for (const [stanza, values] of byStanza) await setConf(service, stanza, values);
      process.stdout.write(`set ${settings.map(([s, k]) => `[${s}] ${k}`).join(', ')}\n`);
    });

  withConnection(splunk.command('verify'))
    .description('run | makeresults | eval <field>="<value>" | lookup feedtrace <field> and print the matches')
    .option('--field <field>', 'url, domain, ip or hash', 'url')
    .requiredOption('--value <value>', 'the indicator to look up, e.g. a URL a loaded feed lists')
    .option('--expect-match', 'exit 1 unless the value matches')
    .action(async (opts: ConnectionOptions & { field: string; value: string; expectMatch?: boolean }) => {
      if (!['url', 'domain', 'ip', 'hash'].includes(opts.field)) throw new Error(`--field ${opts.field}: expected url, domain, ip or hash`);
      const { connect, runVerification } = await rest();
      const service = await connect(connection(opts));
      const rows = await runVerification(service, opts.field as 'url', opts.value);
      const matched = rows.filter((r) => r.matchedIndicator !== undefined && r.matchedIndicator !== '');
      for (const r of matched) process.stdout.write(`${opts.value}\t${String(r.category)}\t${String(r.matchedIndicator)}\t${String(r.feed)}\n`);
      process.stdout.write(matched.length > 0 ? `verify: ${matched.length} match(es)\n` : `verify: no match for ${opts.value}\n`);
      if (opts.expectMatch && matched.length === 0) process.exitCode = 1;
    });
}
