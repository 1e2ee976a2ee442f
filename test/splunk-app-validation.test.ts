/**
 * Every package's .conf files against Splunk's own specs (9.0.5 and 10.2.3), every SPL command against
 * searchbnf.conf, every dashboard against the Simple XML 1.1 rules, and the alert templates' contract.
 * The files checked are exactly the packages' (src/splunk/package.ts), so nothing shipped escapes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseConf, readConf, type ConfFile } from '../src/splunk/conf.js';
import { PACKAGES, packageFiles, type PackageFile } from '../src/splunk/package.js';
import { checkDashboard, checkNav, parseXml, substituteTokens } from '../src/splunk/simplexml.js';
import { checkConfAgainstSpec, parseSpec, readSpec } from '../src/splunk/spec.js';
import { calledFunctions, evalFunctions, expandMacros, macrosFromConf, searchCommandList, searchCommandNames, searchCommands } from '../src/splunk/spl.js';
import { KASPERSKY_FEEDS } from '../src/feeds/catalog.js';
import { repoRoot } from './support/paths.js';

const SPLUNK_VERSIONS = ['9.0.5', '10.2.3'];
const specDir = path.resolve(repoRoot, '..', 'shared', 'splunk-spec');

const packages = PACKAGES.map((def) => ({ def, files: packageFiles(def.kind, repoRoot) }));
const confOf = (files: PackageFile[], p: string): ConfFile | undefined => {
  const f = files.find((x) => x.path === p);
  return f && parseConf(f.content.toString('utf8'), `${p}`);
};
const text = (files: PackageFile[], p: string) => files.find((x) => x.path === p)!.content.toString('utf8');

describe('the spec checker', () => {
  const spec = parseSpec(
    ['top = <string>', 'remote.* = <string>', 'prose that mentions company_id=1, not a key', '[tcp://<remote server>:<port>]', 'connection_host = [ip|dns|none]', 'flag = <boolean>', 'count = <integer>', 'EVAL-<fieldname> = <eval statement>', 'track = <boolean> | auto', '* doc line', '    indented = example'].join('\n'),
    'test.spec',
  );
  const problems = (conf: string) => checkConfAgainstSpec(parseConf(conf, 'x.conf'), spec).map((p) => p.message);

  it('accepts placeholders (also empty), global settings, [default] and stated types', () => {
    expect(problems('[tcp://:3000]\ntop = a\nremote.queue.x = 1\nconnection_host = ip\nflag = true\ncount = -3\nEVAL-x = 1\ntrack = auto\n[default]\nflag = 0\n')).toEqual([]);
  });

  it('rejects unknown stanzas and settings and wrongly typed values', () => {
    expect(problems('[udp://:514]\n')).toEqual(['stanza [udp://:514] is not in test.spec']);
    expect(problems('[tcp://:1]\nindented = 1\nremote = 1\n')).toEqual(['[tcp://:1] indented is not in test.spec', '[tcp://:1] remote is not in test.spec']);
    expect(spec.global.map((s) => s.key)).toEqual(['top', 'remote.*']);
    expect(problems('[tcp://:1]\nflag = maybe\ncount = 1.5\nconnection_host = host\ntrack = sometimes\n')).toEqual([
      '[tcp://:1] flag = maybe is not <boolean>',
      '[tcp://:1] count = 1.5 is not <integer>',
      '[tcp://:1] connection_host = host is not [ip|dns|none]',
      '[tcp://:1] track = sometimes is not <boolean> | auto',
    ]);
  });
});

describe.each(packages.map((p) => [p.def.tarball('<v>'), p] as const))('%s', (_name, { def, files }) => {
  const confs = files.filter((f) => /^default\/[^/]+\.conf$/.test(f.path));

  it.each(SPLUNK_VERSIONS)('has only stanzas and settings of Splunk %s specs, with the right types', (version) => {
    const problems = confs.flatMap((f) => {
      const name = path.basename(f.path);
      // Custom confs (feedtrace.conf) are specified by the app's own README/<name>.spec.
      const own = files.find((x) => x.path === `README/${name}.spec`);
      const specPath = path.join(specDir, version, `${name}.spec`);
      const spec = own ? parseSpec(own.content.toString('utf8'), own.path) : existsSync(specPath) ? readSpec(specPath) : undefined;
      if (!spec) return [`${f.path}: no spec in Splunk ${version} and no README/${name}.spec`];
      return checkConfAgainstSpec(parseConf(f.content.toString('utf8'), f.path), spec).map((p) => `${p.path}:${p.line}: ${p.message}`);
    });
    expect(problems).toEqual([]);
  });

  it('has a metadata/default.meta with only access, export and owner settings on known object types', () => {
    const meta = confOf(files, 'metadata/default.meta')!;
    const types = new Set(['', 'views', 'savedsearches', 'macros', 'eventtypes', 'tags', 'props', 'transforms', 'lookups', 'nav', 'commands', 'alert_actions']);
    for (const stanza of meta.stanzas) {
      expect({ stanza: stanza.name, known: types.has(stanza.name.split('/')[0]!) }).toEqual({ stanza: stanza.name, known: true });
      for (const s of stanza.settings) expect(['access', 'export', 'owner']).toContain(s.key);
      const access = stanza.settings.find((s) => s.key === 'access')?.value;
      if (access !== undefined) expect(access).toMatch(/^read : \[ [^\]]+ \](, write : \[ [^\]]+ \])?$/);
    }
    if (files.some((f) => f.path === 'default/savedsearches.conf')) {
      // Analysts clone the templates: everyone must be able to read them.
      expect(meta.stanzas.find((s) => s.name === 'savedsearches')?.settings.find((s) => s.key === 'access')?.value).toMatch(/^read : \[ \* \]/);
    }
  });

  it('refers only to transforms, event types and lookups it ships', () => {
    const props = confOf(files, 'default/props.conf')!;
    const transforms = new Set(confOf(files, 'default/transforms.conf')?.stanzas.map((s) => s.name) ?? []);
    for (const s of props.stanzas.flatMap((x) => x.settings).filter((x) => /^(REPORT|TRANSFORMS)-/.test(x.key))) {
      for (const name of s.value.split(',').map((n) => n.trim())) expect({ setting: s.key, transform: name, shipped: transforms.has(name) }).toEqual({ setting: s.key, transform: name, shipped: true });
    }
    const eventtypes = new Set(confOf(files, 'default/eventtypes.conf')?.stanzas.map((s) => s.name) ?? []);
    for (const stanza of confOf(files, 'default/tags.conf')?.stanzas ?? []) {
      const m = /^eventtype=(.+)$/.exec(stanza.name);
      if (m) expect({ tags: stanza.name, shipped: eventtypes.has(m[1]!) }).toEqual({ tags: stanza.name, shipped: true });
    }
    // An external lookup's command must be a launcher in bin/.
    for (const t of confOf(files, 'default/transforms.conf')?.stanzas ?? []) {
      const cmd = t.settings.find((x) => x.key === 'external_cmd')?.value.split(/\s+/)[0];
      if (cmd) expect(files.find((f) => f.path === `bin/${cmd}`)?.mode).toBe(0o755);
    }
  });

  const views = files.filter((f) => /^default\/data\/ui\/views\/[^/]+\.xml$/.test(f.path));
  const viewNames = new Set(views.map((f) => path.basename(f.path, '.xml')));

  if (def.kind !== 'forwarder') {
    it('has well-formed Simple XML 1.1 dashboards whose searches, tokens and drilldowns refer to things that exist', () => {
      expect([...viewNames].sort()).toEqual(['feedtrace_indicators_lookup', 'feedtrace_matches', 'feedtrace_status']);
      for (const view of views) expect({ view: view.path, problems: checkDashboard(parseXml(view.content.toString('utf8'), view.path), viewNames).problems }).toEqual({ view: view.path, problems: [] });
    });

    it('has navigation that puts the three dashboards first, Matches as the default', () => {
      const nav = parseXml(text(files, 'default/data/ui/nav/default.xml'));
      expect(checkNav(nav, viewNames)).toEqual([]);
      expect(nav.children.slice(0, 3).map((c) => c.attrs.name)).toEqual(['feedtrace_matches', 'feedtrace_status', 'feedtrace_indicators_lookup']);
      expect(nav.children[0]!.attrs.default).toBe('true');
    });

    it.each(SPLUNK_VERSIONS)('uses only SPL commands of Splunk %s, in saved searches, macros, event types and dashboards', (version) => {
      const commands = searchCommands(readConf(path.join(specDir, version, 'searchbnf.conf')));
      const macros = macrosFromConf(confOf(files, 'default/macros.conf')!);
      const searches: Array<[string, string]> = [];
      for (const s of confOf(files, 'default/savedsearches.conf')!.stanzas) searches.push([`savedsearch ${s.name}`, s.settings.find((x) => x.key === 'search')!.value]);
      for (const s of confOf(files, 'default/eventtypes.conf')!.stanzas) searches.push([`eventtype ${s.name}`, s.settings.find((x) => x.key === 'search')!.value]);
      for (const [name, m] of macros) if (m.args.length === 0) searches.push([`macro ${name}`, m.definition]);
      for (const view of views) for (const q of checkDashboard(parseXml(view.content.toString('utf8')), viewNames).queries) searches.push([view.path, substituteTokens(q)]);
      const unknown = searches.flatMap(([where, search]) => searchCommandNames(expandMacros(search, macros)).filter((c) => !commands.has(c)).map((c) => `${where}: ${c}`));
      expect(unknown).toEqual([]);
      expect(searches.length).toBeGreaterThan(20);

      // Eval functions, in eval/where commands and in props.conf EVAL- settings.
      const functions = evalFunctions(readConf(path.join(specDir, version, 'searchbnf.conf')));
      const expressions = searches.flatMap(([where, search]) =>
        searchCommandList(expandMacros(search, macros))
          .filter((c) => c.name === 'eval' || c.name === 'where')
          .map((c) => [where, c.text.replace(/^\w+/, '')] as const),
      );
      for (const s of confOf(files, 'default/props.conf')!.stanzas.flatMap((x) => x.settings).filter((x) => x.key.startsWith('EVAL-'))) expressions.push([`props.conf ${s.key}`, s.value]);
      const badFunctions = expressions.flatMap(([where, e]) => calledFunctions(e).filter((f) => !functions.has(f)).map((f) => `${where}: ${f}()`));
      expect(badFunctions).toEqual([]);
      expect(expressions.length).toBeGreaterThan(15);
    });

    it('reads the service events only through the feedtrace_index macro', () => {
      const macros = macrosFromConf(confOf(files, 'default/macros.conf')!);
      expect(macros.get('feedtrace_index')!.definition).toBe('index=main');
      const all = [...confOf(files, 'default/savedsearches.conf')!.stanzas.map((s) => s.settings.find((x) => x.key === 'search')!.value), ...views.map((v) => v.content.toString('utf8'))];
      for (const s of all) expect(s).not.toMatch(/\bindex\s*=/);
      expect(expandMacros('`feedtrace_detections`', macros)).toBe('index=main sourcetype=feedtrace eventtype=feedtrace_detection');
    });

    it('uses lookups that exist: the feedtrace external lookup or shipped lookup files', () => {
      const transforms = confOf(files, 'default/transforms.conf')!;
      const lookup = transforms.stanzas.find((s) => s.name === 'feedtrace')!;
      expect(Object.fromEntries(lookup.settings.map((s) => [s.key, s.value]))).toEqual({
        external_cmd: 'feedtrace_lookup url domain ip md5 sha1 sha256 hash category matchedIndicator feed context threat_match_field threat_match_value',
        fields_list: 'url, domain, ip, md5, sha1, sha256, hash, category, matchedIndicator, feed, context, threat_match_field, threat_match_value',
        external_type: 'executable',
      });
      expect(files.find((f) => f.path === 'bin/feedtrace_lookup')?.mode).toBe(0o755);
      const fieldsList = new Set(lookup.settings.find((s) => s.key === 'fields_list')!.value.split(/,\s*/));
      const searchTexts = [...confOf(files, 'default/savedsearches.conf')!.stanzas.map((s) => s.settings.find((x) => x.key === 'search')!.value), ...views.flatMap((v) => checkDashboard(parseXml(v.content.toString('utf8')), viewNames).queries)];
      for (const search of searchTexts) {
        for (const m of search.matchAll(/\|\s*lookup\s+(?:local=true\s+)?(\S+)\s+([^|]*)/g)) {
          expect(m[1]).toBe('feedtrace');
          // Every field named between the lookup name and OUTPUT/OUTPUTNEW, and every output, is in fields_list.
          const words = m[2]!.replace(/\bAS\s+\S+/g, '').split(/\s+/).filter((w) => w && !/^OUTPUT(NEW)?$/.test(w));
          for (const w of words) expect({ search: search.slice(0, 40), field: w, known: fieldsList.has(w) }).toEqual({ search: search.slice(0, 40), field: w, known: true });
        }
        for (const m of search.matchAll(/\|\s*inputlookup\s+(\S+)/g)) expect(files.some((f) => f.path === `lookups/${m[1]}`)).toBe(true);
      }
    });

    it('ships alert templates that are disabled, scheduled, tracked, throttled, with severity and no recipients', () => {
      const saved = confOf(files, 'default/savedsearches.conf')!;
      const alerts = saved.stanzas.filter((s) => s.settings.some((x) => x.key === 'alert.track' && x.value === '1'));
      expect(alerts.map((s) => s.name)).toEqual([
        'Feedtrace - Malicious URL detected',
        'Feedtrace - Phishing detected',
        'Feedtrace - Botnet C&C detected',
        'Feedtrace - Malicious hash detected',
        'Feedtrace - IP reputation above threshold',
        'Feedtrace - Detection burst from one host',
        'Feedtrace - Service stopped or unavailable',
        'Feedtrace - Feed failed to update',
        'Feedtrace - Feed outdated',
        'Feedtrace - Spool filling',
        'Feedtrace - No detection events for 24 hours',
      ]);
      for (const stanza of alerts) {
        const get = (k: string) => stanza.settings.find((x) => x.key === k)?.value;
        const shown = { alert: stanza.name, disabled: get('disabled'), enableSched: get('enableSched'), track: get('alert.track'), email: get('action.email'), suppress: get('alert.suppress') };
        expect(shown).toEqual({ alert: stanza.name, disabled: '1', enableSched: '1', track: '1', email: '1', suppress: '1' });
        // Splunk Web lists a scheduled search under Alerts when its counttype is not `always` (or it is tracked).
        expect(get('counttype')).toMatch(/^number of (events|hosts|sources)$|^custom$/);
        expect(get('cron_schedule')).toMatch(/^[\d*/,-]+( [\d*/,-]+){4}$/);
        expect(Number(get('alert.severity'))).toBeGreaterThanOrEqual(3);
        expect(get('alert.suppress.period')).toMatch(/^\d+[smhd]$/);
        expect(get('dispatch.earliest_time')).toBeDefined();
        expect(stanza.settings.filter((x) => /^action\.email\.(to|cc|bcc)$/.test(x.key))).toEqual([]);
      }
      const retro = saved.stanzas.find((s) => s.name === 'Feedtrace - Retro-hunt with lookup')!;
      expect(retro.settings.find((x) => x.key === 'search')!.value).toMatch(/^`feedtrace_retrohunt_scope` .*\| lookup local=true feedtrace url /);
      expect(retro.settings.find((x) => x.key === 'dispatch.earliest_time')!.value).toBe('-7d@d');
    });
  }
});

describe('the self-test lookup file', () => {
  it('lists exactly the verification indicators of the feed catalog, with their kind and category', () => {
    const rows = text(packages[0]!.files, 'lookups/feedtrace_selftest.csv').trim().split('\n');
    expect(rows[0]).toBe('feed,kind,indicator,category');
    const expectedRows = KASPERSKY_FEEDS.flatMap((feed) =>
      feed.verification.map((v) => [feed.name, /^https?:/.test(v.indicator) ? 'url' : /^[0-9A-F]{32,64}$/i.test(v.indicator) ? 'hash' : 'ip', v.indicator, v.category].join(',')),
    );
    expect(rows.slice(1)).toEqual(expectedRows);
  });
});

describe('the dashboard checker', () => {
  const views = new Set(['a']);
  const problems = (xml: string) => checkDashboard(parseXml(xml), views).problems;

  it('finds a missing version, unknown base searches, unset tokens, bad links and custom scripts', () => {
    expect(problems('<dashboard><label>x</label></dashboard>')).toEqual(['root version is undefined, not "1.1"']);
    expect(problems('<dashboard version="1.1" script="x.js"><row><panel><table><search base="nope"><query>| stats count</query></search></table></panel></row></dashboard>')).toEqual([
      'custom script= is not allowed',
      '<search base="nope"> names no <search id> (dashboard/row/panel/table/search)',
    ]);
    expect(problems('<form version="1.1"><row><panel><table><search><query>index=x $missing$ $tok$</query></search><drilldown><link>other_view?x=$row.y$</link><set token="form.nope">$click.value$</set></drilldown></table></panel></row><fieldset><input type="text" token="tok"/></fieldset></form>')).toEqual([
      'token $missing$ is never set (form/row/panel/table/search/query)',
      '<link> to "other_view?x=$row.y$" names no view of the app (form/row/panel/table/drilldown/link)',
      '<set token="form.nope"> names no input (form/row/panel/table/drilldown/set)',
    ]);
    expect(problems('<dashboard version="1.1"><row><panel><html><script>alert(1)</script></html></panel></row></dashboard>')).toEqual(['<script> in <html> is not allowed']);
    expect(() => parseXml('<dashboard version="1.1"><row></dashboard>')).toThrow();
  });

  it('allows drilldown tokens only inside drilldowns', () => {
    expect(problems('<dashboard version="1.1"><row><panel><table><search><query>| makeresults | eval x="$click.value$"</query></search></table></panel></row></dashboard>')).toEqual(['token $click.value$ is never set (dashboard/row/panel/table/search/query)']);
  });
});

describe('the SPL checker', () => {
  const macros = macrosFromConf(parseConf('[m]\ndefinition = index=x | `n(a)`\n[n(1)]\nargs = v\ndefinition = eval y="$v$" | sort y\n'));
  it('expands macros and finds every command, subsearches included, ignoring pipes in quotes', () => {
    expect(searchCommandNames(expandMacros('`m` | search [ | makeresults | eval q="a|b" ] | stats count', macros))).toEqual(['search', 'eval', 'sort', 'search', 'makeresults', 'eval', 'stats']);
    expect(() => expandMacros('`nope`', macros)).toThrow(/unknown macro `nope`/);
    expect(() => expandMacros('`n`', macros)).toThrow(/unknown macro `n`/);
  });

  it('finds the functions an eval expression calls, not words in its strings', () => {
    expect(calledFunctions('if(isnull(x), replace(y, "a(b)", "c"), lower( z )) OR (a AND NOT(b))')).toEqual(['if', 'isnull', 'replace', 'lower']);
  });
});
