/**
 * Feed loads leave tens of MiB of garbage behind (their tables' growth buffers, the parsed files) and grow V8's
 * young generation to its maximum. An idle service allocates nothing, so no collection would run and all of it
 * would stay resident until traffic happened to fill the heap. One collection frees the garbage but keeps the
 * young generation at its size: V8 shrinks it only in a collection that finds the allocation rate low but not
 * zero, which a few collections some seconds apart do. 2 M synthetic indicators, in a process holding only their
 * index: 213 MiB resident after 15 s idle, 141 MiB once settled (docs/operations.md, "Memory").
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** V8's `gc()`, exposed for a fresh context only (the service's own global gets no `gc`); null when refused. */
let fullCollection: (() => void) | null | undefined;

/** Runs a full collection; false when this V8 does not allow asking for one. */
export function collectGarbage(): boolean {
  if (fullCollection === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
      fullCollection = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      fullCollection = null;
    }
  }
  fullCollection?.();
  return fullCollection !== null;
}

/** Whether the heap is near its live size: at most a quarter and 4 MiB above it (the engine bench waits for it too). */
export function heapSettled(): boolean {
  const { heapTotal, heapUsed } = process.memoryUsage();
  return heapTotal <= heapUsed * 1.25 + 4 * 2 ** 20;
}

export interface HeapSettling {
  /** Stops collecting (a new load starts, or the service stops). */
  stop(): void;
  /** True once the heap settled, false when stopped, out of attempts or unable to collect. */
  readonly done: Promise<boolean>;
}

/**
 * Collects every `intervalMs` until the heap settles, at most `attempts` times. The timer does not keep the
 * process alive.
 */
export function settleHeap(intervalMs = 2000, attempts = 10): HeapSettling {
  let timer: NodeJS.Timeout | null = null;
  let finish: (settled: boolean) => void = () => {};
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  let collections = 0;
  const schedule = (): void => {
    timer = setTimeout(step, intervalMs);
    timer.unref();
  };
  const step = (): void => {
    timer = null;
    if (!collectGarbage()) return finish(false);
    if (heapSettled()) return finish(true);
    if (++collections >= attempts) return finish(false);
    schedule();
  };
  schedule();
  return {
    stop: () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      finish(false);
    },
    done,
  };
}

/** From this many indicators on, the start-up log says how to have glibc return what the loads freed. */
export const MALLOC_ADVICE_RECORDS = 100_000;

/**
 * The start-up advice on glibc's malloc, or undefined: glibc raises its mmap threshold as a load frees its growth
 * buffers, so later blocks come from its heap and what they free stays resident (docs/operations.md, "Memory":
 * about 35 MiB for the 340 k records of the real feeds, 90–100 MiB for 2 M indicators). Given only on glibc,
 * without MALLOC_MMAP_THRESHOLD_ in the environment, and for at least MALLOC_ADVICE_RECORDS indicators.
 */
export function mallocAdvice(records: number, env: NodeJS.ProcessEnv = process.env, detectGlibc: () => string | undefined = glibcVersion): string | undefined {
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || records < MALLOC_ADVICE_RECORDS) return undefined;
  const glibc = detectGlibc();
  if (glibc === undefined) return undefined;
  return (
    `memory: glibc ${glibc} keeps what feed loads free resident (90-100 MiB for 2 M indicators); ` +
    'MALLOC_MMAP_THRESHOLD_=131072 in the environment returns it (docs/operations.md, "Memory")'
  );
}

/** The C library's glibc version, or undefined for another C library or platform (Node's diagnostic report says). */
export function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}
