/**
 * `npm start` = build + `feedtrace package` + `feedtrace start`. The last part runs here from the built bundle
 * (on a free port, with a real receiver as Splunk's 9998): the sample feeds are loaded, the printed package
 * paths and install steps are right, a forwarded event gets its detection, and SIGTERM stops it all.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PACKAGES } from '../src/splunk/package.js';
import { VERSION } from '../src/version.js';
import { cliBundle, repoRoot } from './support/paths.js';
import { LineReceiver, waitFor } from './support/service-net.js';
import { listWords } from './e2e-support.js';

it('npm start runs the build, the packaging and feedtrace start', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['start']).toBe('npm run build && node dist/feedtrace.js package && node dist/feedtrace.js start');
});

it('feedtrace start: sample feeds, package paths, install steps, a working service, clean stop', async () => {
  const receiver = new LineReceiver();
  const output = await receiver.start();
  const child = spawn(process.execPath, [cliBundle, 'start', '--listen', '127.0.0.1:0', '--output', `127.0.0.1:${output}`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    await waitFor(() => stdout.includes('Ctrl-C stops the service.') || child.exitCode !== null, 'the install steps', 120_000);

    // Every shipped sample feed is loaded, with records.
    const feeds = /feeds: (.*); output/.exec(stderr)![1]!;
    for (const name of ['ipsum-level3', 'feodo-ipblocklist', 'urlhaus-filter-online', 'tweetfeed-week', 'maltrail']) expect(feeds).toMatch(new RegExp(`${name} [1-9]\\d*`));
    const port = Number(/listening on 127\.0\.0\.1:(\d+);/.exec(stderr)![1]);

    // The three packages, relative to the working directory; the install step names the all-in-one by absolute path.
    for (const p of PACKAGES) expect(stdout).toContain(`dist/${p.tarball(VERSION)}`);
    expect(stdout).toContain(`splunk install app ${path.join(repoRoot, 'dist', `feedtrace-${VERSION}.tgz`)} -update 1`);
    expect(stdout).toContain(`node_path = ${process.execPath}`);
    expect(stdout).toMatch(/receives events on TCP 3000, forwards them raw to\n127\.0\.0\.1:9999/);

    // The IP the lookup step suggests is in the sample IPsum feed, and an event with it gets a detection.
    const ip = /eval ip="([\d.]+)"/.exec(stdout)![1]!;
    expect(listWords(path.join(repoRoot, 'src', 'samples', 'feeds', 'ipsum-level3.txt'))).toContain(ip);
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.end(`Nov 26 10:00:00 fw1 DROP src=${ip} dst=10.0.0.1\n`);
    await waitFor(() => receiver.lines.some((l) => l.includes(`matchedIndicator=${ip} feed=ipsum-level3`)), 'the detection on the 9998 receiver', 30_000);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: stopping/);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  } finally {
    child.kill('SIGKILL');
    await receiver.stop();
  }
});

it('feedtrace start: SIGTERM while the service is still loading its feeds stops the service too (exit 130)', async () => {
  const child = spawn(process.execPath, [cliBundle, 'start', '--listen', '127.0.0.1:0', '--output', '127.0.0.1:9'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  // The service child, as soon as it exists (Linux lists a process's children under /proc).
  const childrenFile = `/proc/${child.pid}/task/${child.pid}/children`;
  let servicePid = 0;
  await waitFor(() => (servicePid = Number(fs.readFileSync(childrenFile, 'utf8').trim().split(/\s+/)[0] || 0)) > 0, 'the service child', 30_000);
  expect(stderr).not.toContain('listening on');
  child.kill('SIGTERM');
  expect(await closed).toBe(130);
  expect(stderr).not.toContain('listening on');
  // Not orphaned: the service has exited with its parent.
  await waitFor(() => {
    try {
      process.kill(servicePid, 0);
      return false;
    } catch {
      return true;
    }
  }, 'the service to exit', 10_000);
});
