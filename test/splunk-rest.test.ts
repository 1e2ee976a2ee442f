/**
 * `feedtrace splunk install|configure|verify` (the built CLI).
 * - Always: against a local HTTPS endpoint speaking splunkd's REST shapes with a self-signed certificate
 *   (no Splunk can run here): certificates are verified by default, `--ca-file` trusts a private CA,
 *   `--insecure` is explicit and warned about, and the requests are the ones splunkd expects.
 * - Against a real Splunk only when SPLUNK_URL is set (plus SPLUNK_TOKEN or SPLUNK_USERNAME/SPLUNK_PASSWORD,
 *   optional SPLUNK_CA_FILE, SPLUNK_PACKAGE = package path as the server sees it, FEEDTRACE_VERIFY_VALUE = a URL
 *   a loaded feed lists). Otherwise this file says plainly that the live test was not run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { verificationSearch } from '../src/splunk/rest.js';
import { cliBundle, repoRoot } from './support/paths.js';

// A throwaway self-signed certificate for 127.0.0.1/localhost (P-256, valid until 2126), made with
// `openssl req -x509 -newkey ec ...` once and kept here so the test needs no openssl at run time.
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUEcswYvdt4DequJi9MwcHlbWt54UwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNjA2NTE0MVoYDzIxMjYxMTAy
MDY1MTQxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATUO4Bh2VKhzawF7sPrEAWC76JlQK4J0ghZgHdk0fMSJr7kUDL18ijv
KFurNsu+BvfLqQuqXbR+VdKId6kiqZGTo28wbTAdBgNVHQ4EFgQUumgkOXLUfO1u
Ir1vFi87MgyWsyQwHwYDVR0jBBgwFoAUumgkOXLUfO1uIr1vFi87MgyWsyQwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIhAKcoEgCQgKEjW3zBe5e2ydoAz4N8EY2mAu1OPTbuB+tnAiA9
RB6Bq97pwsaoiWTzlcVRXmoJ28rl0OaL3jE6jsF1YA==
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFu6V2AzM+V6Y3h6X
BODO4wz7Z5FYge2n1KCY0PxPNYChRANCAATUO4Bh2VKhzawF7sPrEAWC76JlQK4J
0ghZgHdk0fMSJr7kUDL18ijvKFurNsu+BvfLqQuqXbR+VdKId6kiqZGT
-----END PRIVATE KEY-----
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliBundle, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('feedtrace splunk against a local HTTPS endpoint', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  const requests: Array<{ method: string; path: string; auth: string | undefined; form: URLSearchParams }> = [];
  const creds = { SPLUNK_USERNAME: 'admin', SPLUNK_PASSWORD: 'changeme' };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-rest-test-'));
    writeFileSync(path.join(dir, 'cert.pem'), TEST_CERT);
    server = https.createServer({ key: TEST_KEY, cert: TEST_CERT }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'https://x');
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        requests.push({ method: req.method ?? '', path: u.pathname, auth: req.headers.authorization, form });
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (u.pathname === '/services/auth/login') return form.get('password') === 'changeme' ? json(200, { sessionKey: 'session-1' }) : json(401, { messages: [{ type: 'WARN', text: 'Login failed' }] });
        if (!['Splunk session-1', 'Bearer token-1'].includes(req.headers.authorization ?? '')) return json(401, { messages: [{ type: 'WARN', text: 'call not properly authenticated' }] });
        if (u.pathname === '/services/server/info') return json(200, { generator: { version: '10.2.3' } });
        if (u.pathname === '/services/apps/local' && req.method === 'POST') return json(201, { entry: [] });
        if (u.pathname.startsWith('/servicesNS/nobody/feedtrace/configs/conf-feedtrace/') && req.method === 'POST') return json(200, { entry: [] });
        if (u.pathname === '/servicesNS/nobody/feedtrace/search/v2/jobs' && form.get('exec_mode') === 'oneshot') {
          const matched = form.get('search') === verificationSearch('url', 'http://fakess123.nu');
          return json(200, { results: matched ? [{ url: 'http://fakess123.nu', category: 'KL_Malicious_URL', matchedIndicator: 'fakess123.nu', feed: 'Malicious_URL_Data_Feed' }] : [{ url: 'x' }] });
        }
        return json(404, { messages: [{ type: 'ERROR', text: `no ${req.method} ${u.pathname}` }] });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests.length = 0;
  });

  it('refuses a certificate it cannot verify, by default', async () => {
    const run = await cli(['splunk', 'verify', '--url', url, '--value', 'http://fakess123.nu'], creds);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/self[- ]signed certificate/i);
    expect(requests).toEqual([]);
  });

  it('installs, configures and verifies through a trusted CA, with the requests splunkd expects', async () => {
    const ca = ['--url', url, '--ca-file', path.join(dir, 'cert.pem')];
    const install = await cli(['splunk', 'install', ...ca, 'dist/feedtrace-0.1.0.tgz'], creds);
    expect(install).toMatchObject({ code: 0, stderr: '' });
    const installPost = requests.find((r) => r.path === '/services/apps/local')!;
    expect(Object.fromEntries(installPost.form)).toEqual({ name: path.resolve('dist/feedtrace-0.1.0.tgz'), filename: 'true', update: 'true' });
    expect(installPost.auth).toBe('Splunk session-1');
    expect(Object.fromEntries(requests.find((r) => r.path === '/services/auth/login')!.form)).toMatchObject({ username: 'admin', password: 'changeme' });

    const configure = await cli(['splunk', 'configure', ...ca, '--set', 'service.hosts=10.0.0.5:9999, 10.0.0.6:9999', '--set', 'service.retries=3'], creds);
    expect(configure).toMatchObject({ code: 0, stderr: '' });
    const conf = requests.filter((r) => r.path.includes('conf-feedtrace'));
    expect(conf.map((r) => [r.path, Object.fromEntries(r.form)])).toEqual([['/servicesNS/nobody/feedtrace/configs/conf-feedtrace/service', { hosts: '10.0.0.5:9999, 10.0.0.6:9999', retries: '3' }]]);

    const verify = await cli(['splunk', 'verify', ...ca, '--value', 'http://fakess123.nu', '--expect-match'], creds);
    expect(verify).toMatchObject({ code: 0, stderr: '' });
    expect(verify.stdout).toBe('http://fakess123.nu\tKL_Malicious_URL\tfakess123.nu\tMalicious_URL_Data_Feed\nverify: 1 match(es)\n');
    const miss = await cli(['splunk', 'verify', ...ca, '--value', 'http://clean.example/', '--expect-match'], creds);
    expect(miss.code).toBe(1);
    expect(miss.stdout).toBe('verify: no match for http://clean.example/\n');
  });

  it('uses a token as a Bearer credential, and skips verification only when told, saying so', async () => {
    const run = await cli(['splunk', 'verify', '--url', url, '--insecure', '--value', 'http://fakess123.nu'], { SPLUNK_TOKEN: 'token-1' });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/WARNING: not verifying the TLS certificate/);
    expect(requests.map((r) => r.auth)).toEqual(['Bearer token-1', 'Bearer token-1']);
  });

  it('reports a failed login clearly', async () => {
    const run = await cli(['splunk', 'verify', '--url', url, '--ca-file', path.join(dir, 'cert.pem'), '--value', 'x'], { SPLUNK_USERNAME: 'admin', SPLUNK_PASSWORD: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/connecting to https:\/\/127\.0\.0\.1:\d+ failed: HTTP 401: Login failed/);
  });
});

const live = process.env.SPLUNK_URL;
if (!live) {
  // Said plainly, every run: the live half of this file needs a Splunk.
  console.warn('splunk-rest.test.ts: live Splunk test NOT RUN (set SPLUNK_URL and SPLUNK_TOKEN or SPLUNK_USERNAME/SPLUNK_PASSWORD to run it)');
} else {
  describe(`feedtrace splunk against the live Splunk at ${live}`, () => {
    const env = { ...(process.env as Record<string, string>) };
    const tls = process.env.SPLUNK_CA_FILE ? ['--ca-file', process.env.SPLUNK_CA_FILE] : [];
    const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

    it('installs the all-in-one package, sets feedtrace.conf and runs the verification search', async () => {
      const pkg = process.env.SPLUNK_PACKAGE ?? path.join(repoRoot, 'dist', `feedtrace-${version}.tgz`);
      expect(await cli(['splunk', 'install', '--url', live, ...tls, pkg], env)).toMatchObject({ code: 0 });
      if (process.env.FEEDTRACE_SERVICE) expect(await cli(['splunk', 'configure', '--url', live, ...tls, '--set', `service.hosts=${process.env.FEEDTRACE_SERVICE}`], env)).toMatchObject({ code: 0 });
      const value = process.env.FEEDTRACE_VERIFY_VALUE;
      const verify = await cli(['splunk', 'verify', '--url', live, ...tls, '--value', value ?? 'http://feedtrace-live-test.invalid/', ...(value ? ['--expect-match'] : [])], env);
      expect(verify).toMatchObject({ code: 0, stderr: '' });
    }, 120000);
  });
}
