/**
 * The lookup's settings: built-in defaults, then the app's default/feedtrace.conf under local/feedtrace.conf
 * (Splunk's layering), then FEEDTRACE_SERVICE and command-line overrides. README/feedtrace.conf.spec documents
 * every key; a test keeps the shipped default/feedtrace.conf equal to the defaults here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { layerConfs, readConf, type ConfFile } from '../splunk/conf.js';
import { DEFAULT_PATTERN, LinePattern } from './pattern.js';

export interface ServiceAddress {
  host: string;
  port: number;
}

export interface LookupConfig {
  services: ServiceAddress[];
  /** Persistent connections per service address. */
  connections: number;
  /** Requests written to one connection before waiting for their answers. */
  maxInFlight: number;
  connectTimeoutMs: number;
  /** A connection with unanswered requests and no answer for this long is considered hung. */
  requestTimeoutMs: number;
  /** The whole run stops after this long, whatever is still unanswered. */
  deadlineMs: number;
  /** Times one value is resent after the connection carrying it failed. */
  retries: number;
  /** Prefix each request line with a numeric id (the service's `REQ` context regex echoes it). */
  requestIds: boolean;
  pattern: LinePattern;
}

export class ConfigError extends Error {}

/** The [service] and [lookup] keys and their defaults, as text (the form feedtrace.conf holds). */
export const DEFAULT_SETTINGS: Record<string, Record<string, string>> = {
  service: {
    hosts: '127.0.0.1:9999',
    connections: '4',
    max_in_flight: '256',
    connect_timeout: '3',
    request_timeout: '10',
    deadline: '300',
    retries: '2',
    request_ids: 'true',
  },
  lookup: {
    pattern: DEFAULT_PATTERN,
  },
};

export function parseAddress(text: string): ServiceAddress {
  const t = text.trim();
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(t) ?? /^([^:\s]+):(\d+)$/.exec(t);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new ConfigError(`bad service address "${t}": expected host:port (IPv6 as [addr]:port)`);
  return { host: m[1]!, port };
}

export function formatAddress(a: ServiceAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function parseAddressList(text: string): ServiceAddress[] {
  const list = text.split(/[\s,]+/).filter((s) => s !== '').map(parseAddress);
  if (list.length === 0) throw new ConfigError('no service address configured');
  return list;
}

/** Layered settings: default/, then local/ of the app folder (either may be missing). */
export function readAppConf(appDir: string): Map<string, Map<string, string>> {
  const files: ConfFile[] = [];
  for (const sub of ['default', 'local']) {
    const file = path.join(appDir, sub, 'feedtrace.conf');
    if (existsSync(file)) files.push(readConf(file));
  }
  return layerConfs(files);
}

export interface ConfigOverrides {
  /** FEEDTRACE_SERVICE or --service: host:port[,host:port...] */
  service?: string;
}

export function buildConfig(conf: Map<string, Map<string, string>>, overrides: ConfigOverrides = {}): LookupConfig {
  const get = (stanza: string, key: string): string => conf.get(stanza)?.get(key) ?? DEFAULT_SETTINGS[stanza]![key]!;
  const where = (stanza: string, key: string): string => `feedtrace.conf [${stanza}] ${key}`;
  const int = (stanza: string, key: string, min: number, max: number): number => {
    const v = get(stanza, key);
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new ConfigError(`${where(stanza, key)} = "${v}": expected a whole number from ${min} to ${max}`);
    return n;
  };
  const seconds = (stanza: string, key: string): number => {
    const v = get(stanza, key);
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || n <= 0 || n > 86400) throw new ConfigError(`${where(stanza, key)} = "${v}": expected seconds, more than 0`);
    return Math.round(n * 1000);
  };
  const bool = (stanza: string, key: string): boolean => {
    const v = get(stanza, key).toLowerCase();
    if (['true', '1', 'yes', 't', 'y'].includes(v)) return true;
    if (['false', '0', 'no', 'f', 'n'].includes(v)) return false;
    throw new ConfigError(`${where(stanza, key)} = "${v}": expected true or false`);
  };
  let services: ServiceAddress[];
  try {
    services = parseAddressList(overrides.service ?? get('service', 'hosts'));
  } catch (err) {
    const from = overrides.service !== undefined ? 'FEEDTRACE_SERVICE / --service' : where('service', 'hosts');
    throw new ConfigError(`${from}: ${(err as Error).message}`);
  }
  let pattern: LinePattern;
  try {
    pattern = new LinePattern(get('lookup', 'pattern'));
  } catch (err) {
    throw new ConfigError(`${where('lookup', 'pattern')}: ${(err as Error).message}`);
  }
  return {
    services,
    connections: int('service', 'connections', 1, 64),
    maxInFlight: int('service', 'max_in_flight', 1, 100000),
    connectTimeoutMs: seconds('service', 'connect_timeout'),
    requestTimeoutMs: seconds('service', 'request_timeout'),
    deadlineMs: seconds('service', 'deadline'),
    retries: int('service', 'retries', 0, 10),
    requestIds: bool('service', 'request_ids'),
    pattern,
  };
}

/** The configuration a lookup run uses: the app folder's conf files, then the environment, then overrides. */
export function loadConfig(appDir: string | undefined, env: NodeJS.ProcessEnv, overrides: ConfigOverrides = {}): LookupConfig {
  const conf = appDir ? readAppConf(appDir) : new Map<string, Map<string, string>>();
  const service = overrides.service ?? (env.FEEDTRACE_SERVICE?.trim() || undefined);
  return buildConfig(conf, { service });
}
