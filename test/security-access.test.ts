/**
 * Access (issue 6): listeners bind loopback by default; AllowedClients rejects and logs other sources (tested
 * from 127.0.0.2, which is on the lo interface); optional TLS on the listener (plus client certificates) and on
 * the output connection, with certificates made by openssl in the test. A rejected or plaintext client must not
 * be able to make the service emit a detection.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { loadServiceConfig, parseServiceConfig, ServiceConfigError } from '../src/service/config.js';
import { DEFAULT_SERVICE_CONFIG_XML } from '../src/service/default-config.js';
import { closedPort } from './lookup-support.js';
import { repoRoot } from './support/paths.js';
import { LineReceiver, waitFor } from './support/service-net.js';
import { fdsOf, ipsumIps, tmpDir, writeConfig, writeIpsum } from './reliability-support.js';
import { spawnService } from './support/serve.js';

let dir: string;
let feed: string;
beforeAll(() => {
  dir = tmpDir('access');
  feed = writeIpsum(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const FLAGS = 'X-KF-SendFinishedEventX-KF-ReplyBack';

/** Connects from `from` (a loopback address) and sends `text`; resolves with what came back before the close. */
function exchange(port: number, text: string, from = '127.0.0.1', host = '127.0.0.1'): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect({ host, port, localAddress: from });
    s.setEncoding('utf8');
    // Half-close after the text: the service answers what it read, then closes its side too.
    s.on('connect', () => s.end(text));
    s.on('data', (d: string) => (data += d));
    s.on('error', (e) => resolve({ data, error: (e as NodeJS.ErrnoException).code }));
    s.on('close', () => resolve({ data }));
  });
}

describe('binding and allow-list', () => {
  it('the shipped defaults listen and send on 127.0.0.1 only, and the service binds exactly that address', async () => {
    const config = loadServiceConfig();
    expect(config.input.listen.host).toBe('127.0.0.1');
    expect(config.output.connection.host).toBe('127.0.0.1');
    expect(fs.readFileSync(path.join(repoRoot, 'default', 'feedtrace.conf'), 'utf8')).toMatch(/^hosts = 127\.0\.0\.1:9999$/m);

    // The default config's listen host, on a free port (9999 may be taken by other tests).
    const port = await closedPort();
    const file = path.join(dir, 'bind.xml');
    fs.writeFileSync(file, DEFAULT_SERVICE_CONFIG_XML.replace('127.0.0.1:9999', `127.0.0.1:${port}`));
    const service = await spawnService(['--config', file, '--reply-only', '--feed', `ipsum:${feed}`], { listen: false });
    try {
      expect(service.port).toBe(port);
      const hex = port.toString(16).toUpperCase().padStart(4, '0');
      const listeners = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => l.includes(`:${hex} 00000000:0000 0A`));
      expect(listeners.map((l) => l.trim().split(/\s+/)[1])).toEqual([`0100007F:${hex}`]); // 127.0.0.1, not 0.0.0.0
      expect((await exchange(port, '', '127.0.0.2', '127.0.0.2')).error).toBe('ECONNREFUSED');
      expect((await exchange(port, `${FLAGS}ip=${ipsumIps[0]}\n`)).data).toContain(`matchedIndicator=${ipsumIps[0]} `);
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('AllowedClients: 127.0.0.2 is refused and logged and cannot cause a detection; 127.0.0.1 is served', async () => {
    const receiver = new LineReceiver();
    await receiver.start(0);
    const config = writeConfig(dir, DEFAULT_SERVICE_CONFIG_XML, { allowedClients: '10.0.0.0/8, 127.0.0.1/32' });
    const service = await spawnService(['--config', config, '--feed', `ipsum:${feed}`, '--output', `127.0.0.1:${receiver.port}`]);
    try {
      // From 127.0.0.2 to the 127.0.0.1 listener (both on lo). Refused: nothing back, nothing on the output.
      const refused = await exchange(service.port, `ip=${ipsumIps[1]}\n${FLAGS}ip=${ipsumIps[2]}\n`, '127.0.0.2');
      expect(refused.data).toBe('');
      const refusedReplyBack = await exchange(service.port, `${FLAGS}ip=${ipsumIps[3]}\n`, '127.0.0.2');
      expect(refusedReplyBack.data).toBe('');
      await waitFor(() => (service.log().match(/connection from 127\.0\.0\.2 refused: not in AllowedClients/g) ?? []).length === 2, 'two refusals logged');
      // Allowed: a detection on the output connection and one on the socket.
      expect((await exchange(service.port, `ip=${ipsumIps[4]}\n`)).data).toBe('');
      expect((await exchange(service.port, `${FLAGS}ip=${ipsumIps[5]}\n`)).data).toContain(`matchedIndicator=${ipsumIps[5]} `);
      await waitFor(() => receiver.lines.some((l) => l.includes(`matchedIndicator=${ipsumIps[4]} `)), 'the allowed client\'s detection');
      for (const ip of ipsumIps.slice(1, 4)) expect(receiver.lines.some((l) => l.includes(`matchedIndicator=${ip} `))).toBe(false);
    } finally {
      await service.kill('SIGTERM');
      await receiver.stop();
    }
  });
});

describe('TLS', () => {
  let server: { cert: string; key: string };
  let client: { cert: string; key: string };
  let other: { cert: string; key: string };
  /** A self-signed certificate (its own CA) for 127.0.0.1. */
  const makeCert = (name: string, cn: string): { cert: string; key: string } => {
    const cert = path.join(dir, `${name}-cert.pem`);
    const key = path.join(dir, `${name}-key.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { cert, key };
  };
  beforeAll(() => {
    server = makeCert('server', '127.0.0.1');
    client = makeCert('client', 'splunk-forwarder');
    other = makeCert('other', 'someone-else');
  });

  /** A Splunk `[tcp-ssl:PORT]`-style receiver: TLS with the server certificate, collects lines. */
  async function tlsReceiver(cert = server, listenPort = 0): Promise<{ port: number; lines: string[]; connections: number; close(): Promise<void> }> {
    const state = { port: 0, lines: [] as string[], connections: 0, close: async () => {} };
    const sockets = new Set<tls.TLSSocket>();
    const srv = tls.createServer({ cert: fs.readFileSync(cert.cert), key: fs.readFileSync(cert.key) }, (s) => {
      state.connections++;
      sockets.add(s);
      let partial = '';
      s.setEncoding('utf8');
      s.on('error', () => {});
      s.on('data', (t: string) => {
        const parts = (partial + t).split('\n');
        partial = parts.pop()!;
        state.lines.push(...parts);
      });
    });
    srv.on('tlsClientError', () => {});
    await new Promise<void>((r) => srv.listen(listenPort, '127.0.0.1', r));
    state.port = (srv.address() as net.AddressInfo).port;
    state.close = () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    });
    return state;
  }

  /** A TLS client session; resolves with the reply text once a finished event arrives or the connection closes. */
  function tlsExchange(port: number, text: string, options: tls.ConnectionOptions = {}): Promise<{ data: string; error?: string }> {
    return new Promise((resolve) => {
      let data = '';
      const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(server.cert), ...options });
      s.setEncoding('utf8');
      s.on('secureConnect', () => s.end(text));
      s.on('data', (d: string) => (data += d));
      s.on('error', (e) => resolve({ data, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      s.on('close', () => resolve({ data }));
    });
  }

  it('listener and output over TLS (CLI options): detections both ways; plaintext clients get nothing in', async () => {
    const receiver = await tlsReceiver();
    const service = await spawnService([
      '--tls-cert', server.cert, '--tls-key', server.key,
      '--output', `127.0.0.1:${receiver.port}`, '--output-ca', server.cert,
      '--feed', `ipsum:${feed}`, '--spool', path.join(dir, 'spool-tls'),
    ]);
    try {
      expect(service.log()).toMatch(/listening on 127\.0\.0\.1:\d+ \(TLS\); .*output 127\.0\.0\.1:\d+ \(TLS\)/);
      const reply = await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[10]}\n`);
      expect(reply.data).toContain(`matchedIndicator=${ipsumIps[10]} `);
      const plain = await tlsExchange(service.port, `ip=${ipsumIps[11]}\n`);
      expect(plain.error).toBeUndefined();
      await waitFor(() => receiver.lines.some((l) => l.includes(`matchedIndicator=${ipsumIps[11]} `)), 'the detection at the TLS receiver');
      // Plaintext on the TLS port: no TLS handshake, so no event is read, no detection, and the service goes on.
      const injected = await exchange(service.port, `ip=${ipsumIps[12]}\n${FLAGS}ip=${ipsumIps[13]}\n`);
      expect(injected.data).not.toContain('matchedIndicator');
      expect((await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[14]}\n`)).data).toContain(`matchedIndicator=${ipsumIps[14]} `);
      for (const ip of [ipsumIps[12], ipsumIps[13]]) expect(receiver.lines.some((l) => l.includes(`matchedIndicator=${ip} `))).toBe(false);
    } finally {
      await service.kill('SIGTERM');
      await receiver.close();
    }
  });

  it('an output receiver with an untrusted certificate gets nothing: the service logs it and spools; a trusted one later gets it all', async () => {
    const impostor = await tlsReceiver(other);
    const port = impostor.port;
    const config = writeConfig(dir, DEFAULT_SERVICE_CONFIG_XML, { retries: 0, retryTimeoutSeconds: 1, output: `<Tls><CAFile>${server.cert}</CAFile></Tls>` });
    const service = await spawnService(['--config', config, '--output', `127.0.0.1:${port}`, '--feed', `ipsum:${feed}`]);
    try {
      await exchange(service.port, `seq=1 ip=${ipsumIps[20]}\n`);
      await waitFor(() => /output: 127\.0\.0\.1:\d+: .*(self.signed|certificate|verify)/i.test(service.log()), 'the certificate error in the log');
      expect(impostor.lines).toEqual([]);
      await impostor.close();
      // The genuine receiver on the same address: the service keeps reconnecting, verifies it, and delivers.
      const genuine = await tlsReceiver(server, port);
      await waitFor(() => genuine.lines.some((l) => l.includes(`matchedIndicator=${ipsumIps[20]} `)), 'the spooled detection at the trusted receiver');
      await genuine.close();
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('mutual TLS (config Tls with ClientCAFile): clients without a trusted certificate are refused', async () => {
    const rel = (p: string): string => path.relative(dir, p);
    const config = writeConfig(dir, DEFAULT_SERVICE_CONFIG_XML, {
      input: `<Tls><CertificateFile>${rel(server.cert)}</CertificateFile><KeyFile>${rel(server.key)}</KeyFile><ClientCAFile>${rel(client.cert)}</ClientCAFile></Tls>`,
    });
    const service = await spawnService(['--config', config, '--reply-only', '--feed', `ipsum:${feed}`]);
    try {
      const withCert = await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[30]}\n`, { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) });
      expect(withCert.data).toContain(`matchedIndicator=${ipsumIps[30]} `);
      const without = await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[31]}\n`);
      expect(without.data).toBe('');
      const wrong = await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[32]}\n`, { cert: fs.readFileSync(other.cert), key: fs.readFileSync(other.key) });
      expect(wrong.data).toBe('');
      await waitFor(() => (service.log().match(/connection from 127\.0\.0\.1 refused: TLS: /g) ?? []).length >= 2, 'the refused handshakes logged');
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('AllowedClients with a TLS listener: other sources are refused before the handshake, and logged once', async () => {
    const config = writeConfig(dir, DEFAULT_SERVICE_CONFIG_XML, { allowedClients: '127.0.0.1' });
    const service = await spawnService(['--config', config, '--reply-only', '--feed', `ipsum:${feed}`, '--tls-cert', server.cert, '--tls-key', server.key]);
    try {
      const refused = await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[40]}\n`, { localAddress: '127.0.0.2' } as tls.ConnectionOptions);
      expect(refused.data).toBe('');
      expect(refused.error).toBeDefined(); // closed before any TLS handshake
      expect((await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[41]}\n`)).data).toContain(`matchedIndicator=${ipsumIps[41]} `);
      await waitFor(() => /connection from 127\.0\.0\.2 refused: not in AllowedClients/.test(service.log()), 'the refusal logged');
      expect(service.log().match(/127\.0\.0\.2 refused/g)).toHaveLength(1);
    } finally {
      await service.kill('SIGTERM');
    }
  });

  it('a flood of clients that never finish the TLS handshake is bounded (2 × MaxConnections); real clients get in afterwards', async () => {
    const config = writeConfig(dir, DEFAULT_SERVICE_CONFIG_XML, { maxConnections: 10 });
    const service = await spawnService(['--config', config, '--reply-only', '--feed', `ipsum:${feed}`, '--tls-cert', server.cert, '--tls-key', server.key]);
    const stalled: net.Socket[] = [];
    try {
      const base = fdsOf(service.pid);
      for (let i = 0; i < 200; i++) {
        const s = net.connect({ host: '127.0.0.1', port: service.port });
        s.on('error', () => {});
        stalled.push(s);
        await new Promise<void>((r) => s.once('connect', () => r()));
      }
      await waitFor(() => stalled.filter((s) => s.destroyed || s.closed).length >= 180, 'the excess closed by the service');
      // 20 held (2 × MaxConnections), the other 180 closed at once: descriptors stay near the baseline.
      expect(fdsOf(service.pid) - base).toBeLessThanOrEqual(20);
      for (const s of stalled) s.destroy();
      // Closed by the service at the latest when their handshake times out (10 s).
      await waitFor(() => fdsOf(service.pid) <= base + 3, 'descriptors released');
      expect((await tlsExchange(service.port, `${FLAGS}ip=${ipsumIps[50]}\n`)).data).toContain(`matchedIndicator=${ipsumIps[50]} `);
    } finally {
      for (const s of stalled) s.destroy();
      await service.kill('SIGTERM');
    }
  });

  it('Tls config mistakes are errors naming the element', () => {
    const parse = (input: string, output = ''): string => {
      try {
        parseServiceConfig(DEFAULT_SERVICE_CONFIG_XML.replace('</InputSettings>', `${input}</InputSettings>`).replace('</OutputSettings>', `${output}</OutputSettings>`), path.join(dir, 'x.xml'));
        return 'ok';
      } catch (error) {
        expect(error).toBeInstanceOf(ServiceConfigError);
        return (error as Error).message;
      }
    };
    expect(parse(`<Tls><CertificateFile>${server.cert}</CertificateFile></Tls>`)).toMatch(/InputSettings\/Tls>: a TLS listener needs <CertificateFile> and <KeyFile>/);
    expect(parse(`<Tls><CertificateFile>${server.cert}</CertificateFile><KeyFile>nope.pem</KeyFile></Tls>`)).toMatch(/Tls\/KeyFile>: cannot read .*nope\.pem/);
    expect(parse(`<Tls><CertificateFile>${feed}</CertificateFile><KeyFile>${server.key}</KeyFile></Tls>`)).toMatch(/is not a PEM file/);
    expect(parse('', '<Tls enabled="maybe"/>')).toMatch(/enabled="maybe"/);
    expect(parse('', `<Tls><CertificateFile>${client.cert}</CertificateFile></Tls>`)).toMatch(/needs both/);
    expect(parse(`<Tls><CertificateFile>${server.cert}</CertificateFile><KeyFile>${server.key}</KeyFile></Tls>`, `<Tls><CAFile>${server.cert}</CAFile></Tls>`)).toBe('ok');
  });
});
