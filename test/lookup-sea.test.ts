/**
 * `npm run build:sea`: the lookup as one executable (Node.js with the bundle inside) for hosts without Node.js.
 * Built for real from the bundle, placed in a temp app's bin/, and run by the real launcher with a PATH that holds
 * no Node.js and no $SPLUNK_HOME, against the real service with the real IPsum feed: the same CSV as the bundle run
 * by Node.js gives.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIELDS, lookupBundle, makeApp, runWithInput, startService, type RealService, type TempApp } from './lookup-support.js';
import { dataset, repoRoot } from './support/paths.js';

const IPSUM = dataset('ipsum', 'ipsum.txt');
const ipsum = readFileSync(IPSUM, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t')[0]!);

let work: string;
let sea: string;
let service: RealService;
let app: TempApp;
beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-sea-'));
  execFileSync(process.execPath, [path.join(repoRoot, 'build', 'sea.mjs'), '--out', work], { stdio: 'pipe' });
  sea = path.join(work, 'feedtrace_lookup_sea');
  service = await startService(['--feed', `ipsum:${IPSUM}`]);
  app = makeApp(`[service]\nhosts = 127.0.0.1:${service.port}\n`);
  copyFileSync(sea, path.join(app.dir, 'bin', 'feedtrace_lookup_sea'));
}, 120000);
afterAll(async () => {
  app?.remove();
  await service?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('single executable lookup', () => {
  it('runs from the launcher on a host without Node.js and answers as the bundle does', async () => {
    const header = FIELDS.join(',');
    const ipColumn = FIELDS.indexOf('ip');
    const rows = [...ipsum.slice(0, 300), ...Array.from({ length: 300 }, (_, i) => `100.64.${i >> 8}.${i & 255}`)].map((ip) => FIELDS.map((_, c) => (c === ipColumn ? ip : '')).join(','));
    const input = `${[header, ...rows].join('\r\n')}\r\n`;
    const noNode = path.join(app.dir, 'empty-path');
    mkdirSync(noNode);
    const viaSea = await runWithInput('/bin/sh', [app.launcher, ...FIELDS], input, { PATH: noNode, SPLUNK_HOME: path.join(app.dir, 'no-splunk') });
    expect(viaSea.stderr).toBe('');
    expect(viaSea.code).toBe(0);
    const viaNode = await runWithInput(process.execPath, [lookupBundle, ...FIELDS], input, { FEEDTRACE_SERVICE: `127.0.0.1:${service.port}` });
    expect(viaNode.code).toBe(0);
    expect(viaSea.stdout).toBe(viaNode.stdout);
    // Every real IPsum address matched, each one row with its feed; none of the others.
    const answered = viaSea.stdout.split('\r\n').slice(1, -1);
    expect(answered).toHaveLength(300);
    expect(answered.every((line) => line.split(',')[FIELDS.indexOf('feed')] === 'ipsum')).toBe(true);
  });

  it('is taken over Node.js on PATH, but [runtime] node_path still comes first', async () => {
    const viaSea = await runWithInput('/bin/sh', [app.launcher, 'ip', 'category'], `ip,category\n${ipsum[0]},\n`, { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` });
    expect([viaSea.code, viaSea.stderr]).toEqual([0, '']);
    expect(viaSea.stdout).toBe(`ip,category\r\n${ipsum[0]},IPsum_IP_Reputation\r\n`);
    const wrapped = makeApp(`[service]\nhosts = 127.0.0.1:${service.port}\n[runtime]\nnode_path = ${process.execPath}\n`);
    try {
      // An executable that is not the lookup: were it run, the output would show it.
      const impostor = path.join(wrapped.dir, 'bin', 'feedtrace_lookup_sea');
      copyFileSync('/bin/false', impostor);
      chmodSync(impostor, 0o755);
      const viaConf = await runWithInput('/bin/sh', [wrapped.launcher, 'ip', 'category'], `ip,category\n${ipsum[0]},\n`, { PATH: '/usr/bin:/bin' });
      expect([viaConf.code, viaConf.stdout]).toEqual([0, `ip,category\r\n${ipsum[0]},IPsum_IP_Reputation\r\n`]);
      writeFileSync(path.join(wrapped.dir, 'local', 'feedtrace.conf'), `[service]\nhosts = 127.0.0.1:${service.port}\n`);
      const viaImpostor = await runWithInput('/bin/sh', [wrapped.launcher, 'ip', 'category'], `ip,category\n${ipsum[0]},\n`, { PATH: '/usr/bin:/bin' });
      expect([viaImpostor.code, viaImpostor.stdout]).toEqual([1, '']);
    } finally {
      wrapped.remove();
    }
  });
});
