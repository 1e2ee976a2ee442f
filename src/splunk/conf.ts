/**
 * Splunk .conf files: parsing and layering (default/ under local/), as splunkd reads them.
 * Used by the lookup (feedtrace.conf) and by the app validation (every shipped .conf).
 */
import { readFileSync } from 'node:fs';

export interface ConfSetting {
  key: string;
  value: string;
  line: number;
}

export interface ConfStanza {
  name: string;
  line: number;
  settings: ConfSetting[];
}

export interface ConfFile {
  path: string;
  /** Stanzas in file order; settings before the first stanza header belong to `default`. */
  stanzas: ConfStanza[];
}

export class ConfSyntaxError extends Error {
  constructor(readonly path: string, readonly line: number, message: string) {
    super(`${path}:${line}: ${message}`);
    this.name = 'ConfSyntaxError';
  }
}

/** Parses .conf text. A line ending in `\` continues on the next line (the newline is kept, as splunkd does). */
export function parseConf(text: string, path = '<conf>'): ConfFile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const stanzas: ConfStanza[] = [];
  let current: ConfStanza = { name: 'default', line: 0, settings: [] };
  stanzas.push(current);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + '\n' + lines[++i];
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed.startsWith('[')) {
      const end = trimmed.lastIndexOf(']');
      if (end < 1) throw new ConfSyntaxError(path, lineNo, `stanza header without closing ]: ${trimmed}`);
      current = { name: trimmed.slice(1, end), line: lineNo, settings: [] };
      stanzas.push(current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new ConfSyntaxError(path, lineNo, `expected "key = value" or [stanza]: ${trimmed}`);
    current.settings.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: lineNo });
  }
  if (stanzas[0]!.settings.length === 0) stanzas.shift();
  return { path, stanzas };
}

export function readConf(path: string): ConfFile {
  return parseConf(readFileSync(path, 'utf8'), path);
}

/** stanza → key → value, later files overriding earlier ones key by key (pass default/ first, then local/). */
export function layerConfs(files: ConfFile[]): Map<string, Map<string, string>> {
  const merged = new Map<string, Map<string, string>>();
  for (const file of files) {
    for (const stanza of file.stanzas) {
      let target = merged.get(stanza.name);
      if (!target) merged.set(stanza.name, (target = new Map()));
      for (const s of stanza.settings) target.set(s.key, s.value);
    }
  }
  return merged;
}

/** Writes stanzas back as .conf text (multi-line values continue with `\`, as parseConf reads them). */
export function formatConf(stanzas: ConfStanza[], header = ''): string {
  const lines = header ? header.trimEnd().split('\n').map((l) => `# ${l}`.trimEnd()) : [];
  for (const stanza of stanzas) {
    if (lines.length > 0) lines.push('');
    lines.push(`[${stanza.name}]`);
    for (const s of stanza.settings) lines.push(`${s.key} = ${s.value.split('\n').join('\\\n')}`);
  }
  return lines.join('\n') + '\n';
}
