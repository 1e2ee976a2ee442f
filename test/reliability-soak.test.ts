/**
 * A short soak (issue 6; the 10-minute one is `node dist/bench.js soak`): 20 s at 1 500 events/s through the real
 * service to a real receiver, the feed file replaced every 2 s. No detection lost, duplicated or out of order;
 * memory and file descriptors do not grow.
 */
import { runSoak } from '../src/bench/soak.js';
import { datasets } from './support/paths.js';

it('20 s at a steady rate with feed replacements: nothing lost or duplicated, no growth', async () => {
  const r = await runSoak({ seconds: 20, rate: 1500, reloadEverySeconds: 2, datasets });
  process.stdout.write(`soak: ${JSON.stringify(r)}\n`);
  expect({ lost: r.lost, duplicated: r.duplicated, outOfOrder: r.outOfOrder, reloadFailures: r.reloadFailures }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, reloadFailures: 0 });
  expect(r.sent).toBe(30_000);
  expect(r.received).toBe(r.sent);
  // 10 replacements; fs.watch may fold two close changes into one re-read.
  expect(r.reloads).toBeGreaterThanOrEqual(5);
  // Steady state: the late average within 40 MB of the early one (GC timing alone moves RSS by tens of MB; a
  // leak of a line per event would add ≥ 3 MB a second here, 45 MB over the measured span).
  expect(r.rssLateMB - r.rssEarlyMB).toBeLessThan(40);
  expect(r.fdsLate).toBeLessThanOrEqual(r.fdsEarly + 4);
}, 120_000);
