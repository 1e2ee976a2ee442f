/**
 * Every command in README.md's ```sh blocks runs here exactly as written, from the root of a copy of the repo
 * (with dist/ as `npm test` built it): the commands rebuild and repackage, which must not rewrite the dist/ that
 * other test files are running from. A README command this file does not know how to run fails the test, so the
 * README cannot gain an untested command.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './support/paths.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

/** Command lines of the ```sh blocks, without comment lines and trailing ` # comments`. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const block of readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of block[1]!.split('\n')) {
      const command = line.replace(/\s+#\s.*$/, '').trim();
      if (command !== '' && !command.startsWith('#')) commands.push(command);
    }
  }
  return commands;
}

/** Commands this suite does not run itself, and why. */
const notRunHere = new Map([
  ['npm test', 'it is this very suite (CI runs it)'],
]);

const commands = readmeCommands();

/** The copy the commands run in: the work tree without .git, node_modules linked. */
let workdir = '';
beforeAll(() => {
  workdir = path.join(mkdtempSync(path.join(os.tmpdir(), 'feedtrace-readme-')), 'feedtrace');
  cpSync(repoRoot, workdir, { recursive: true, filter: (src) => !/[\\/](\.git|node_modules)$/.test(src) });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(workdir, 'node_modules'));
});
afterAll(() => rmSync(path.dirname(workdir), { recursive: true, force: true }));
const isLongRunning = (c: string): boolean => / serve /.test(c) || c.endsWith('npm start');

function run(command: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', command], { cwd: workdir, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a long-running command in its own process group and waits for the service's start-up line. */
async function startUntilListening(command: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn('bash', ['-c', `exec ${command}`], { cwd: workdir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 90 s from: ${command}\n${stderr}`)), 90_000);
    const poll = setInterval(() => {
      if (/listening on 127\.0\.0\.1:9999/.test(stderr)) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    }, 50);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`exited with ${code} before listening: ${command}\n${stderr}`));
    });
  });
  return { child, stderr: () => stderr };
}

/**
 * SIGINT to the whole group (npm → node → node), as Ctrl-C in a terminal; resolves with the exit code once the
 * pipes are closed too: npm may exit before the processes under it have written their last lines.
 */
function interrupt(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : null)));
    process.kill(-child.pid!, 'SIGINT');
  });
}

describe('README commands', () => {
  it('has the two newcomer commands first, and every command is one this test knows how to run', () => {
    expect(commands.slice(0, 2)).toEqual(['npm install && npm start', 'npm test']);
    const serveIndex = commands.findIndex((c) => / serve /.test(c));
    expect(serveIndex).toBeGreaterThan(0);
    // The commands after `serve` up to `npm run package` talk to that running service.
    expect(commands.slice(serveIndex + 1).some((c) => c.includes('--service 127.0.0.1:9999'))).toBe(true);
  });

  it('runs the one-shot commands exactly as written, each exiting 0 with output', () => {
    for (const command of commands) {
      if (notRunHere.has(command) || isLongRunning(command) || command.includes('127.0.0.1:9999') || command.includes(' replay ')) continue;
      const r = run(command);
      expect({ command, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ command, status: 0, stderr: '' });
      expect(r.stdout.trim().length).toBeGreaterThan(0);
    }
  }, 300_000);

  it('runs `serve`, then the commands that talk to it (replay, lookup, check), then stops it with Ctrl-C', async () => {
    const serve = commands.find((c) => / serve /.test(c))!;
    const clients = commands.filter((c) => c.includes('127.0.0.1:9999') || c.includes(' replay '));
    expect(clients.length).toBeGreaterThanOrEqual(3);
    const service = await startUntilListening(serve);
    try {
      for (const command of clients) {
        const r = run(command);
        expect({ command, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ command, status: 0, stderr: '' });
        expect(r.stdout.trim().length).toBeGreaterThan(0);
      }
    } finally {
      expect(await interrupt(service.child)).toBe(0);
    }
  }, 300_000);

  it('runs `npm install && npm start` as far as it goes here: `npm start` builds, packages and serves until Ctrl-C', async () => {
    // `npm install` is what CI's `npm ci` already did; running it again inside the suite would rewrite node_modules.
    const start = commands.find((c) => c.endsWith('npm start'))!.replace(/^npm install && /, '');
    const service = await startUntilListening(start);
    const code = await interrupt(service.child);
    expect(service.stderr()).toMatch(/listening on 127\.0\.0\.1:9999; feeds: ipsum-level3 \d+/);
    // The service stops cleanly, on the Ctrl-C or on the SIGTERM that `feedtrace start` forwards, whichever it
    // reads first; npm itself then reports the Ctrl-C as 130, as a shell does.
    expect(service.stderr()).toMatch(/SIG(?:INT|TERM): stopping[\s\S]*stopped after \d+ events/);
    expect(code).toBe(130);
  }, 300_000);

  it('says why the commands it does not run are not run', () => {
    for (const command of notRunHere.keys()) expect(commands).toContain(command);
  });
});
