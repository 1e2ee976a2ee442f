/**
 * Nested JSON record fields addressed by `/` paths: reading the values at a path, and flattening a record
 * into ordered context pairs (nested names joined with `/`, lists comma-joined).
 */
import type { ContextFields } from '../types.js';

/** Deeper records are refused: real feeds nest two or three levels, and recursion must stay bounded. */
export const MAX_DEPTH = 16;

export class NestingTooDeep extends Error {
  constructor() {
    super(`nested deeper than ${MAX_DEPTH} levels`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * Every value at `path` (`files/MD5`): lists on the way are walked element by element. Values are returned
 * as found (not only strings) so that a caller can refuse a wrongly typed field instead of indexing `42`.
 */
export function valuesAt(record: unknown, path: string): unknown[] {
  const found: unknown[] = [];
  const walk = (node: unknown, names: string[], depth: number): void => {
    if (depth > MAX_DEPTH) throw new NestingTooDeep();
    if (Array.isArray(node)) {
      for (const element of node) walk(element, names, depth + 1);
      return;
    }
    if (names.length === 0) {
      if (node !== null && node !== undefined) found.push(node);
      return;
    }
    if (isRecord(node) && Object.hasOwn(node, names[0]!)) walk(node[names[0]!], names.slice(1), depth + 1);
  };
  walk(record, path.split('/'), 0);
  return found;
}

/** Flattens a record into context pairs in field order; values found under one name in a list are comma-joined. */
export function flattenContext(record: Record<string, unknown>, omit: ReadonlySet<string> = new Set()): ContextFields {
  const byName = new Map<string, string[]>();
  const add = (name: string, text: string): void => {
    const list = byName.get(name);
    if (list) list.push(text);
    else byName.set(name, [text]);
  };
  const walk = (node: unknown, name: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new NestingTooDeep();
    if (Array.isArray(node)) {
      for (const element of node) walk(element, name, depth + 1);
      return;
    }
    if (isRecord(node)) {
      for (const [key, value] of Object.entries(node)) walk(value, name === '' ? key : `${name}/${key}`, depth + 1);
      return;
    }
    const text = scalarText(node);
    if (text !== undefined && text !== '') add(name, text);
  };
  for (const [key, value] of Object.entries(record)) if (!omit.has(key)) walk(value, key, 1);
  return [...byName].map(([name, texts]) => [name, texts.join(',')] as const);
}

export { isRecord };
