/**
 * Splunk `.conf.spec` files and checking a shipped `.conf` against them (stanza names, setting names, and
 * the value types the spec states plainly: booleans, integers, literal choices).
 *
 * Spec layout, as Splunk writes it: `[stanza]` and `key = <type>` lines start in column 0; documentation
 * lines start with `*`, `#` or whitespace. Settings before the first stanza apply to every stanza (e.g.
 * inputs.conf's `index`, `sourcetype`, `_TCP_ROUTING`). `<name>` is a placeholder in stanza and key names
 * (`[tcp://<remote server>:<port>]`, `EVAL-<fieldname>`, `<tag1>`), `*` is a wildcard (`remote.* = <string>`), and
 * a placeholder may be empty (`[tcp://:3000]` has no remote server).
 */
import { readFileSync } from 'node:fs';
import type { ConfFile } from './conf.js';

export interface SpecSetting {
  key: string;
  type: string;
  line: number;
}

export interface SpecStanza {
  header: string;
  line: number;
  settings: SpecSetting[];
}

export interface Spec {
  path: string;
  /** Settings before the first stanza: valid in every stanza. */
  global: SpecSetting[];
  stanzas: SpecStanza[];
}

export function parseSpec(text: string, path = '<spec>'): Spec {
  const spec: Spec = { path, global: [], stanzas: [] };
  let target = spec.global;
  text.split(/\r?\n/).forEach((line, i) => {
    const header = /^\[(.*)\]\s*$/.exec(line);
    if (header) {
      const stanza: SpecStanza = { header: header[1]!, line: i + 1, settings: [] };
      spec.stanzas.push(stanza);
      target = stanza.settings;
      return;
    }
    // A key is one word, placeholders included (`EVAL-<fieldname>`, `<tag1>`); prose lines are not keys.
    const setting = /^((?:<[^>]*>|[^\s#*\[=<])(?:<[^>]*>|[^\s=<])*)\s*=\s*(.*?)\s*$/.exec(line);
    if (setting) target.push({ key: setting[1]!, type: setting[2]!, line: i + 1 });
  });
  return spec;
}

export function readSpec(path: string): Spec {
  return parseSpec(readFileSync(path, 'utf8'), path);
}

/** A spec name as an anchored regex: `<placeholder>`s and `*` wildcards (`remote.*`) match any text, even none. */
export function namePattern(name: string): RegExp {
  const parts = name.split(/<[^<>]*>|\*/).map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

const BOOLEAN = /^(true|false|1|0|t|f|yes|no)$/i;
const INTEGER = /^[-+]?\d+$/;
const UNSIGNED = /^\+?\d+$/;

/**
 * The values a spec type allows, or undefined when the spec does not state it plainly enough to check
 * (strings, regexes, lists, sizes with units, ...). Handles `<boolean>`, `<integer>` and its unsigned
 * variants, and literal alternatives such as `[ip|dns|none]`, `[0 | 1]`, `<boolean> | auto`.
 */
export function valueCheck(type: string): ((value: string) => boolean) | undefined {
  const body = /^\[([^\]]*)\]$/.exec(type)?.[1] ?? type;
  const alternatives = body.split('|').map((a) => a.trim());
  const checks: Array<(value: string) => boolean> = [];
  for (const alt of alternatives) {
    if (alt === '<boolean>') checks.push((v) => BOOLEAN.test(v));
    else if (alt === '<integer>') checks.push((v) => INTEGER.test(v));
    else if (/^<(unsigned|non-negative|positive) integer>$/.test(alt)) checks.push((v) => UNSIGNED.test(v));
    else if (/^[A-Za-z0-9_][A-Za-z0-9_ .:-]*$/.test(alt) && alternatives.length > 1) checks.push((v) => v === alt);
    else return undefined;
  }
  return checks.length === 0 ? undefined : (v) => checks.some((check) => check(v));
}

export interface SpecProblem {
  path: string;
  line: number;
  message: string;
}

/**
 * Every stanza of `conf` must match a spec stanza (or be `default`, whose settings may be any the spec
 * defines anywhere); every setting must be defined for that stanza, and its value must have the stated type.
 */
export function checkConfAgainstSpec(conf: ConfFile, spec: Spec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const stanzaPatterns = spec.stanzas.map((s) => ({ stanza: s, pattern: namePattern(s.header) }));
  const allSettings = [...spec.global, ...spec.stanzas.flatMap((s) => s.settings)];
  for (const stanza of conf.stanzas) {
    let allowed: SpecSetting[];
    if (stanza.name === 'default') {
      allowed = allSettings;
    } else {
      const matching = stanzaPatterns.filter((s) => s.pattern.test(stanza.name));
      if (matching.length === 0) {
        problems.push({ path: conf.path, line: stanza.line, message: `stanza [${stanza.name}] is not in ${spec.path}` });
        continue;
      }
      allowed = [...spec.global, ...matching.flatMap((m) => m.stanza.settings)];
    }
    for (const setting of stanza.settings) {
      const definitions = allowed.filter((d) => namePattern(d.key).test(setting.key));
      if (definitions.length === 0) {
        problems.push({ path: conf.path, line: setting.line, message: `[${stanza.name}] ${setting.key} is not in ${spec.path}` });
        continue;
      }
      const checks = definitions.map((d) => valueCheck(d.type));
      // Checkable only when every definition that could apply states a plain type.
      if (checks.some((c) => c === undefined)) continue;
      if (!checks.some((c) => c!(setting.value))) {
        const types = [...new Set(definitions.map((d) => d.type))].join(' or ');
        problems.push({ path: conf.path, line: setting.line, message: `[${stanza.name}] ${setting.key} = ${setting.value} is not ${types}` });
      }
    }
  }
  return problems;
}
