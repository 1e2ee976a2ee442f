/**
 * The real `feedtrace serve` as a child process for the tests, through the product's own launcher
 * (src/demo/service-process.ts, which `feedtrace start` and `demo` use): it listens on an ephemeral loopback port
 * unless the arguments say otherwise, and everything it writes on stderr is kept for the test to read.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnService as spawnServiceProcess } from '../../src/demo/service-process.js';

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Everything the service wrote on stderr so far, line by line. */
  log(): string;
  exited: Promise<number | null>;
  /** Sends `signal` (SIGKILL unless given) if the service still runs; resolves with its exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Services started and not yet exited, and starts under way, so that a test that fails midway can stop them (`killServices`). */
const running = new Set<ChildProcess>();
const starting = new Set<AbortController>();

/** Starts `feedtrace serve ARGS`; resolves once it listens, rejects (with its last lines) if it exits first. */
export async function spawnService(args: string[], opts: { listen?: boolean } = {}): Promise<ServiceProcess> {
  let log = '';
  const listen = opts.listen === false ? [] : ['--listen', '127.0.0.1:0'];
  const start = new AbortController();
  starting.add(start);
  const service = await spawnServiceProcess({ args: [...listen, ...args], onLine: (line) => (log += `${line}\n`), signal: start.signal }).finally(() =>
    starting.delete(start),
  );
  running.add(service.child);
  void service.exited.then(() => running.delete(service.child));
  return { child: service.child, pid: service.child.pid!, port: service.port, log: () => log, exited: service.exited, kill: (signal = 'SIGKILL') => service.stop(signal) };
}

/** SIGKILLs every service `spawnService` started that is still running (for an `afterEach`). */
export function killServices(): void {
  for (const start of starting) start.abort();
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
