/**
 * Just enough SPL to check what the app ships: macro expansion (macros.conf), splitting a search into its
 * commands (subsearches included), and the command list of searchbnf.conf.
 */
import type { ConfFile } from './conf.js';

/** Command names (and their aliases) from searchbnf.conf's `[<name>-command]` stanzas. */
export function searchCommands(searchbnf: ConfFile): Set<string> {
  const names = new Set<string>();
  for (const stanza of searchbnf.stanzas) {
    const m = /^(.+)-command$/.exec(stanza.name);
    if (!m) continue;
    names.add(m[1]!.toLowerCase());
    const alias = stanza.settings.find((s) => s.key === 'alias')?.value;
    for (const a of alias?.split(/[\s,]+/) ?? []) if (a) names.add(a.toLowerCase());
  }
  return names;
}

export interface Macro {
  args: string[];
  definition: string;
}

/** macros.conf → `name` or `name(n)` → macro. */
export function macrosFromConf(conf: ConfFile): Map<string, Macro> {
  const macros = new Map<string, Macro>();
  for (const stanza of conf.stanzas) {
    const get = (key: string) => stanza.settings.find((s) => s.key === key)?.value;
    const args = get('args')?.split(',').map((a) => a.trim()).filter(Boolean) ?? [];
    macros.set(stanza.name, { args, definition: get('definition') ?? '' });
  }
  return macros;
}

export class SplError extends Error {
  override name = 'SplError';
}

/** Splits `text` at top-level occurrences of `sep`, honouring double quotes (with `\` escapes) and brackets. */
function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (i >= text.length) throw new SplError(`unterminated quoted string in: ${text}`);
    } else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new SplError(`unbalanced brackets in: ${text}`);
  parts.push(text.slice(start));
  return parts;
}

/** Replaces every `` `macro` `` / `` `macro(a, b)` `` by its definition, recursively; unknown macros throw. */
export function expandMacros(search: string, macros: Map<string, Macro>, depth = 0): string {
  if (depth > 20) throw new SplError(`macro expansion too deep in: ${search}`);
  let expanded = false;
  const out = search.replace(/`([^`]*)`/g, (_whole, call: string) => {
    expanded = true;
    const m = /^\s*([\w.:-]+)\s*(?:\((.*)\))?\s*$/s.exec(call);
    if (!m) throw new SplError(`malformed macro call \`${call}\``);
    const args = m[2] === undefined ? [] : splitTopLevel(m[2], ',').map((a) => a.trim());
    const key = args.length === 0 ? m[1]! : `${m[1]}(${args.length})`;
    const macro = macros.get(key);
    if (!macro) throw new SplError(`unknown macro \`${key}\``);
    let body = macro.definition;
    macro.args.forEach((name, i) => (body = body.split(`$${name}$`).join(args[i]!)));
    return body;
  });
  return expanded ? expandMacros(out, macros, depth + 1) : out;
}

export interface SearchCommand {
  name: string;
  /** The command's whole text, name included. */
  text: string;
}

/**
 * The commands a (macro-expanded) search runs, in order, subsearches included. A search that does not
 * start with `|` starts with the implicit `search` command.
 */
export function searchCommandList(search: string): SearchCommand[] {
  const commands: SearchCommand[] = [];
  const text = search.trim();
  const segments = splitTopLevel(text.startsWith('|') ? text.slice(1) : `search ${text}`, '|');
  for (const segment of segments) {
    const name = /^\s*([A-Za-z_][\w-]*)/.exec(segment)?.[1];
    if (!name) throw new SplError(`no command in "|${segment}" of: ${search}`);
    commands.push({ name: name.toLowerCase(), text: segment.trim() });
    for (const sub of subsearches(segment)) commands.push(...searchCommandList(sub));
  }
  return commands;
}

export function searchCommandNames(search: string): string[] {
  return searchCommandList(search).map((c) => c.name);
}

/** Eval function names from searchbnf.conf's `[eval-function]` syntax. */
export function evalFunctions(searchbnf: ConfFile): Set<string> {
  const syntax = searchbnf.stanzas.find((s) => s.name === 'eval-function')?.settings.find((x) => x.key === 'syntax')?.value ?? '';
  return new Set(syntax.split('|').map((f) => f.trim()).filter(Boolean));
}

/** Function names called in an eval expression (text in double quotes and `AND (`-style operators skipped). */
export function calledFunctions(expression: string): string[] {
  const unquoted = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...unquoted.matchAll(/([A-Za-z_][\w]*)\s*\(/g)].map((m) => m[1]!).filter((w) => !/^(AND|OR|NOT|XOR)$/.test(w)).map((w) => w.toLowerCase());
}

/** Top-level `[ ... ]` subsearches in one command segment (brackets inside quotes are text). */
function subsearches(segment: string): string[] {
  const found: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '"') {
      for (i++; i < segment.length && segment[i] !== '"'; i++) if (segment[i] === '\\') i++;
    } else if (c === '[') {
      if (depth++ === 0) start = i + 1;
    } else if (c === ']' && --depth === 0) {
      found.push(segment.slice(start, i));
    }
  }
  return found;
}
