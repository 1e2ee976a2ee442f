/**
 * The matching service as a child process (`feedtrace serve` from the built bundle), as `feedtrace start` and
 * `feedtrace demo` run it, and the benchmarks and tests too: started, its address read from its documented
 * start-up line (`listening on HOST:PORT[ (TLS)];`, docs/service.md), and stopped with SIGTERM (which it handles
 * cleanly) or any other signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cliBundle } from './samples.js';

export interface ServiceProcess {
  child: ChildProcess;
  host: string;
  port: number;
  /** The start-up line itself (feeds and their record counts, output address). */
  startLine: string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM unless given) if the process still runs, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnServiceOptions {
  /** Arguments after `serve`. */
  args: string[];
  /** The CLI bundle to run (default: the built product's dist/feedtrace.js). */
  cli?: string;
  /** Node options before the bundle (a benchmark's `--cpu-prof`). */
  nodeArgs?: string[];
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Every stderr line of the service, as it comes. */
  onLine?: (line: string) => void;
  /** stdio of the child's stdout; the service writes nothing there. */
  stdout?: 'ignore' | 'inherit';
  /** Give up (and kill the child) if the start-up line has not come by then: loading feeds is bounded work. */
  startTimeoutMs?: number;
  /** Aborting before the start-up line kills the child (SIGTERM) and rejects once it has exited. */
  signal?: AbortSignal;
}

const LISTENING = /listening on \[?([^\]\s]+?)\]?:(\d+)(?: \(TLS\))?;/;

export function spawnService(options: SpawnServiceOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.cli ?? cliBundle, 'serve', ...options.args], {
    stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'],
    env: options.env ?? process.env,
  });
  // 'close', not 'exit': by then every line the service wrote on stderr has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const recent: string[] = [];
  return new Promise<ServiceProcess>((resolve, reject) => {
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start within ${options.startTimeoutMs} ms: ${recent.join(' | ')}`));
    }, options.startTimeoutMs ?? 120_000);
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        options.onLine?.(line);
        recent.push(line);
        if (recent.length > 5) recent.shift();
        const m = started ? null : LISTENING.exec(line);
        if (!m) continue;
        started = true;
        clearTimeout(timer);
        const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        };
        resolve({ child, host: m[1]!, port: Number(m[2]), startLine: line, exited, stop });
      }
    });
    const onAbort = (): void => {
      if (!started) child.kill('SIGTERM');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    void exited.then((code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (!started) reject(new Error(`the service exited (code ${code}) before listening: ${[...recent, partial].filter(Boolean).join(' | ')}`));
    });
  });
}
