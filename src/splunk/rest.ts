/**
 * A Splunk REST helper on splunk-sdk (npm): install a package, set feedtrace.conf values, run the lookup
 * verification search. splunk-sdk's own Node HTTP layer turns certificate verification off, so requests go
 * through VerifyingHttp instead: Node's https with verification on, an optional CA bundle (Splunk's default
 * certificate is self-signed: pass its CA rather than turning checks off), and an explicit `insecure` escape.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import SplunkHttp from 'splunk-sdk/lib/http.js';
import Service from 'splunk-sdk/lib/service.js';

export interface SplunkConnection {
  /** Management URL, e.g. https://splunk.example.com:8089. */
  url: string;
  username?: string;
  password?: string;
  /** A Splunk authentication token (sent as `Authorization: Bearer`), instead of username/password. */
  token?: string;
  /** PEM file of the CA that signed splunkd's certificate. */
  caFile?: string;
  /** Skip certificate verification (never the default). */
  insecure?: boolean;
  timeoutMs?: number;
}

export class SplunkRestError extends Error {
  override name = 'SplunkRestError';
}

/** splunk-sdk's Http with requests made by Node's http/https, certificates verified unless told otherwise. */
function verifyingHttp(tls: https.AgentOptions, timeoutMs: number): object {
  const Verifying = SplunkHttp.extend({
    makeRequest(url: string, message: { method: string; headers: Record<string, string | number>; body: string }) {
      return new Promise((resolve, reject) => {
        const target = new URL(url);
        const body = Buffer.from(message.body ?? '', 'utf8');
        const headers = { ...message.headers, 'Content-Length': body.length, 'User-Agent': 'feedtrace' };
        const transport = target.protocol === 'https:' ? https : http;
        const req = transport.request(target, { method: message.method, headers, timeout: timeoutMs, ...(target.protocol === 'https:' ? tls : {}) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(this._buildResponse(null, { statusCode: res.statusCode ?? 0, headers: res.headers }, Buffer.concat(chunks).toString('utf8'))));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new SplunkRestError(`no answer from ${target.origin} within ${timeoutMs} ms`)));
        req.on('error', (err) => reject(this._buildResponse(err, { statusCode: 600, headers: {} }, {})));
        req.end(body);
      });
    },
    parseJson(json: string) {
      return JSON.parse(json) as unknown;
    },
  });
  return new Verifying();
}

/** A logged-in splunk-sdk Service in the namespace nobody/<app>. */
export async function connect(conn: SplunkConnection, app = 'feedtrace'): Promise<Service> {
  const url = new URL(conn.url);
  if (conn.insecure) process.stderr.write(`feedtrace splunk: WARNING: not verifying the TLS certificate of ${url.host}\n`);
  const tls: https.AgentOptions = { rejectUnauthorized: !conn.insecure, ...(conn.caFile ? { ca: readFileSync(conn.caFile) } : {}) };
  const service = new Service(verifyingHttp(tls, conn.timeoutMs ?? 30000), {
    scheme: url.protocol.replace(':', ''),
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    owner: 'nobody',
    app,
    ...(conn.token ? { sessionKey: conn.token, authorization: 'Bearer', autologin: false } : { username: conn.username, password: conn.password }),
  });
  if (!conn.token && (!conn.username || !conn.password)) throw new SplunkRestError('give a token, or a username and password');
  // login() also reads server/info; with a token we read it ourselves. The version it gives decides whether
  // searches use search/v2/jobs (Splunk >= 9.0.2; Cloud 10.1.2507 has no v1).
  await (conn.token ? service.getInfo() : service.login()).catch((e: unknown) => {
    throw new SplunkRestError(`connecting to ${url.origin} failed: ${describeError(e)}`);
  });
  return service;
}

/** A readable message from whatever splunk-sdk rejected with (an Error or a response object). */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  const r = e as { status?: unknown; error?: unknown; data?: { messages?: Array<{ text?: string }> } } | undefined;
  const text = r?.data?.messages?.map((m) => m.text).join('; ');
  const err = r?.error instanceof Error ? r.error.message : r?.error ? String(r.error) : '';
  return [r?.status !== undefined ? `HTTP ${String(r.status)}` : '', text, err].filter(Boolean).join(': ') || JSON.stringify(e);
}

const wrap = async <T>(what: string, p: Promise<T>): Promise<T> => {
  try {
    return await p;
  } catch (e) {
    throw new SplunkRestError(`${what}: ${describeError(e)}`);
  }
};

/**
 * Installs (or updates) a package. `location` is a path on the Splunk server's disk or a URL it can fetch:
 * the REST API does not upload files.
 */
export async function installApp(service: Service, location: string): Promise<void> {
  // POST apps/local directly: the SDK's apps().create then fetches the new app under the *file* name, and an
  // absolute path keeps the request out of an app namespace that may not exist yet.
  await wrap(`installing ${location}`, service.post('/services/apps/local', { name: location, filename: 'true', update: 'true' }));
}

/** Sets `key = value` in `[stanza]` of the app's feedtrace.conf (written to the app's local/). */
export async function setConf(service: Service, stanza: string, values: Record<string, string>, file = 'feedtrace'): Promise<void> {
  await wrap(`setting [${stanza}] in ${file}.conf`, service.post(`configs/conf-${file}/${encodeURIComponent(stanza)}`, values));
}

/** The verification search: one value through `| lookup feedtrace`, its matches as rows. */
export function verificationSearch(field: 'url' | 'domain' | 'ip' | 'hash', value: string): string {
  const quoted = `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `| makeresults | eval ${field}=${quoted} | lookup local=true feedtrace ${field} OUTPUT category matchedIndicator feed | table ${field} category matchedIndicator feed`;
}

export interface VerificationRow {
  [field: string]: string | string[] | undefined;
}

export async function runVerification(service: Service, field: 'url' | 'domain' | 'ip' | 'hash', value: string): Promise<VerificationRow[]> {
  const out = (await wrap('running the verification search', service.oneshotSearch(verificationSearch(field, value), { output_mode: 'json' }))) as { results?: VerificationRow[] };
  return out.results ?? [];
}
