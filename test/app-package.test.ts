/**
 * `feedtrace package` (the built CLI) writes three tarballs whose structure Splunk and AppInspect accept:
 * one top folder named as the app id, no hidden files, no local/, no spaces, 644/755 modes (755 only for
 * bin/ launchers), icons of the required sizes; and each package holds what its role needs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { list, type ReadEntry } from 'tar';
import { parseConf } from '../src/splunk/conf.js';
import { pngSize } from '../src/splunk/png.js';
import { cliBundle, repoRoot } from './support/paths.js';

const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

interface Entry {
  path: string;
  type: string;
  mode: number;
  content: Buffer;
}

async function entries(file: string): Promise<Entry[]> {
  const out: Entry[] = [];
  await list({
    file,
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => out.push({ path: entry.path, type: entry.type, mode: entry.mode! & 0o7777, content: Buffer.concat(chunks) }));
    },
  });
  return out;
}

let outDir: string;
const tarballs = new Map<string, Entry[]>();

beforeAll(async () => {
  outDir = mkdtempSync(path.join(os.tmpdir(), 'feedtrace-package-test-'));
  const printed = execFileSync(process.execPath, [cliBundle, 'package', '--root', repoRoot, '--out', outDir], { encoding: 'utf8' });
  for (const line of printed.trim().split('\n')) tarballs.set(path.basename(line), await entries(path.resolve(line)));
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const expected = [
  { file: `feedtrace-${version}.tgz`, appId: 'feedtrace' },
  { file: `feedtrace-search-head-${version}.tgz`, appId: 'feedtrace' },
  { file: `TA-feedtrace-forwarder-${version}.tgz`, appId: 'TA-feedtrace-forwarder' },
];

describe('feedtrace package', () => {
  it('writes the three tarballs', () => {
    expect([...tarballs.keys()].sort()).toEqual(expected.map((e) => e.file).sort());
  });

  describe.each(expected)('$file', ({ file, appId }) => {
    const get = () => tarballs.get(file)!;
    const content = (p: string) => get().find((e) => e.path === `${appId}/${p}`)?.content;

    it('has one top-level folder named as the app id, and no hidden files, local/ or spaces', () => {
      const paths = get().map((e) => e.path);
      expect(new Set(paths.map((p) => p.split('/')[0]))).toEqual(new Set([appId]));
      for (const p of paths) {
        expect(p).not.toMatch(/(^|\/)\./);
        expect(p).not.toMatch(/\s/);
        expect(p).not.toMatch(new RegExp(`^${appId}/(local/|metadata/local\\.meta|users/)`));
        expect(p).not.toMatch(/^\.\//);
      }
      const appConf = new Map(parseConf(content('default/app.conf')!.toString('utf8')).stanzas.map((s) => [s.name, new Map(s.settings.map((x) => [x.key, x.value]))]));
      expect(appConf.get('package')!.get('id')).toBe(appId);
      expect([appConf.get('id')!.get('version'), appConf.get('launcher')!.get('version')]).toEqual([version, version]);
      const manifest = JSON.parse(content('app.manifest')!.toString('utf8')) as { info: { id: { name: string; version: string } } };
      expect(manifest.info.id).toMatchObject({ name: appId, version });
    });

    it('has 644 files, 755 folders, and 755 only for the bin/ launchers', () => {
      for (const e of get()) {
        const want = e.type === 'Directory' ? 0o755 : e.path.startsWith(`${appId}/bin/`) && e.content.subarray(0, 2).toString() === '#!' ? 0o755 : 0o644;
        expect({ path: e.path, mode: e.mode.toString(8) }).toEqual({ path: e.path, mode: want.toString(8) });
      }
    });

    it('has icons and logos of the sizes Splunk requires', () => {
      const sizes: Record<string, [number, number]> = { 'appIcon.png': [36, 36], 'appIcon_2x.png': [72, 72], 'appIconAlt.png': [36, 36], 'appIconAlt_2x.png': [72, 72], 'appLogo.png': [160, 40], 'appLogo_2x.png': [320, 80] };
      for (const [name, [width, height]] of Object.entries(sizes)) expect({ name, size: pngSize(content(`static/${name}`)!) }).toEqual({ name, size: { width, height } });
    });
  });

  it('all-in-one: inputs, raw routing, the lookup launcher and bundle', () => {
    const files = new Set(tarballs.get(`feedtrace-${version}.tgz`)!.map((e) => e.path));
    for (const p of ['default/inputs.conf', 'default/outputs.conf', 'default/props.conf', 'default/transforms.conf', 'default/savedsearches.conf', 'bin/feedtrace_lookup', 'bin/feedtrace_lookup.js', 'metadata/default.meta']) expect(files).toContain(`feedtrace/${p}`);
  });

  it('search head: the same app without inputs or outputs, declared for search heads', () => {
    const all = tarballs.get(`feedtrace-${version}.tgz`)!;
    const sh = tarballs.get(`feedtrace-search-head-${version}.tgz`)!;
    const shPaths = sh.map((e) => e.path);
    expect(shPaths).not.toContain('feedtrace/default/inputs.conf');
    expect(shPaths).not.toContain('feedtrace/default/outputs.conf');
    expect(all.map((e) => e.path).filter((p) => !/default\/(inputs|outputs)\.conf$/.test(p))).toEqual(shPaths);
    const manifest = JSON.parse(sh.find((e) => e.path === 'feedtrace/app.manifest')!.content.toString('utf8')) as { targetWorkloads: string[] };
    expect(manifest.targetWorkloads).toEqual(['_search_heads']);
    const lookupJs = sh.find((e) => e.path === 'feedtrace/bin/feedtrace_lookup.js')!;
    expect(lookupJs.content.equals(readFileSync(path.join(repoRoot, 'dist/app/bin/feedtrace_lookup.js')))).toBe(true);
  });

  it('forwarder: inputs, routing and only index-time props; no dashboards, searches or lookup', () => {
    const ta = tarballs.get(`TA-feedtrace-forwarder-${version}.tgz`)!;
    const paths = ta.map((e) => e.path.replace(/^TA-feedtrace-forwarder\//, '')).filter((p) => !p.endsWith('/'));
    expect(paths.filter((p) => p.startsWith('default/')).sort()).toEqual(['default/app.conf', 'default/inputs.conf', 'default/outputs.conf', 'default/props.conf']);
    expect(paths.some((p) => p.startsWith('bin/') || p.startsWith('lookups/'))).toBe(false);
    const same = (p: string) => ta.find((e) => e.path === `TA-feedtrace-forwarder/${p}`)!.content.equals(readFileSync(path.join(repoRoot, p)));
    expect(same('default/inputs.conf')).toBe(true);
    expect(same('default/outputs.conf')).toBe(true);
    const props = parseConf(ta.find((e) => e.path === 'TA-feedtrace-forwarder/default/props.conf')!.content.toString('utf8'));
    const keys = props.stanzas.flatMap((s) => s.settings.map((x) => x.key));
    expect(keys).toContain('LINE_BREAKER');
    expect(keys).toContain('TIME_FORMAT');
    expect(keys.filter((k) => /^(REPORT|EVAL|KV_MODE|FIELDALIAS|LOOKUP)/.test(k))).toEqual([]);
    const readme = ta.find((e) => e.path === 'TA-feedtrace-forwarder/README.txt')!.content.toString('utf8');
    expect(readme).toMatch(/Universal forwarder/);
    expect(readme).toMatch(/server = \S+:9999, \S+:9999/);
  });
});
