/**
 * The collections the service runs after feed loads (src/service/garbage.ts). An idle service allocates nothing,
 * so without them a load's garbage and the young generation it grew stay resident; with them the real service,
 * loading real feeds, gives tens of MiB back within seconds of its start-up line.
 */
import { spawnService } from '../src/demo/service-process.js';
import { MALLOC_ADVICE_RECORDS, collectGarbage, glibcVersion, mallocAdvice, settleHeap } from '../src/service/garbage.js';
import { memoryOf } from './reliability-support.js';
import { dataset } from './support/paths.js';

const MiB = 2 ** 20;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('V8 lets the service ask for a full collection', () => {
  expect(collectGarbage()).toBe(true);
});

test('a settling stopped before its first collection reports that it did not settle', async () => {
  const settling = settleHeap(60_000, 1);
  settling.stop();
  await expect(settling.done).resolves.toBe(false);
});

test('the start-up advice on glibc\'s mmap threshold: only on glibc, without the variable, for large loads', () => {
  const glibc = (): string => '2.36';
  expect(mallocAdvice(2_000_000, {}, glibc)).toMatch(/^memory: glibc 2\.36 .*MALLOC_MMAP_THRESHOLD_=131072 .*docs\/operations\.md/);
  expect(mallocAdvice(MALLOC_ADVICE_RECORDS, {}, glibc)).toBeDefined();
  expect(mallocAdvice(MALLOC_ADVICE_RECORDS - 1, {}, glibc)).toBeUndefined();
  expect(mallocAdvice(2_000_000, { MALLOC_MMAP_THRESHOLD_: '131072' }, glibc)).toBeUndefined();
  expect(mallocAdvice(2_000_000, { MALLOC_MMAP_THRESHOLD_: '' }, glibc)).toBeUndefined();
  expect(mallocAdvice(2_000_000, {}, () => undefined)).toBeUndefined();
  // The machines this project runs on (Debian) have glibc; Node's report says which.
  expect(glibcVersion()).toMatch(/^2\.\d+$/);
});

test('the idle service gives its load garbage back after loading real feeds', async () => {
  const lines: string[] = [];
  const service = await spawnService({
    onLine: (line) => lines.push(line),
    args: [
      '--listen', '127.0.0.1:0', '--reply-only',
      '--feed', `urlhaus:${dataset('urlhaus-filter', '2021-06-06', 'urlhaus-filter-online.txt')}`,
      '--feed', `ipsum:${dataset('ipsum', 'ipsum.txt')}`,
      '--feed', `maltrail:${dataset('maltrail-trails', 'trails', 'static')}`,
    ],
  });
  try {
    const pid = service.child.pid!;
    const atStart = memoryOf(pid).rss;
    // Measured: 137.6-145.9 MiB at the start-up line, 112.6-113.8 MiB from 6 s on (settleHeap collects every 2 s).
    let lowest = atStart;
    for (let waited = 0; waited < 20_000 && lowest > atStart - 15 * MiB; waited += 1000) {
      await sleep(1000);
      lowest = Math.min(lowest, memoryOf(pid).rss);
    }
    expect((atStart - lowest) / MiB).toBeGreaterThan(15);
    // Over 300 k records and no MALLOC_MMAP_THRESHOLD_ here: the memory advice, just before the start-up line.
    expect(process.env.MALLOC_MMAP_THRESHOLD_).toBeUndefined();
    const isAdvice = (line: string): boolean => line.includes('MALLOC_MMAP_THRESHOLD_=131072');
    expect(lines.filter(isAdvice)).toHaveLength(1);
    expect(lines[lines.findIndex(isAdvice) + 1]).toMatch(/^feedtrace: listening on /);
  } finally {
    await service.stop();
  }
}, 120_000);
