/**
 * The default regexes must not backtrack catastrophically. V8 gives no step count, so this test runs each
 * translated regex on a small backtracking machine (the same search order as V8's irregexp: greedy first,
 * alternatives left to right, lookarounds atomic) that counts every instruction it executes, checks that the
 * machine finds exactly the matches V8 finds, and then bounds the steps on 1 MB of adversarial text.
 */
import { readFileSync } from 'node:fs';
import { loadServiceConfig } from '../src/service/config.js';
import { dataset } from './support/paths.js';

// ---------------------------------------------------------------------------------------------------------------
// Parsing the ECMAScript subset the translator emits

type Node =
  | { kind: 'char'; table: Uint8Array }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'assert'; what: '^' | '$' | 'b' | 'B' }
  | { kind: 'look'; body: Node; behind: boolean; negate: boolean }
  | { kind: 'repeat'; body: Node; min: number; max: number; greedy: boolean };

const tables = new Map<string, Uint8Array>();

/** Which UTF-16 code units one character atom matches, decided by V8 itself on each of the 65,536 units. */
function tableOf(atom: string, flags: string): Uint8Array {
  const key = `${flags}/${atom}`;
  let table = tables.get(key);
  if (!table) {
    const regex = new RegExp(`^(?:${atom})$`, flags.replace(/[gy]/g, ''));
    table = new Uint8Array(65536);
    for (let unit = 0; unit < 65536; unit++) table[unit] = regex.test(String.fromCharCode(unit)) ? 1 : 0;
    tables.set(key, table);
  }
  return table;
}

function parse(source: string, flags: string): Node {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`unsupported in the step-counting machine: ${what} at ${pos} of /${source}/`);
  };

  const alternation = (): Node => {
    const options = [sequence()];
    while (source[pos] === '|') {
      pos++;
      options.push(sequence());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  };

  const sequence = (): Node => {
    const items: Node[] = [];
    while (pos < source.length && source[pos] !== '|' && source[pos] !== ')') items.push(quantified(atom()));
    return { kind: 'seq', items };
  };

  const quantified = (body: Node): Node => {
    const rest = source.slice(pos);
    const braces = /^\{(\d+)(?:(,)(\d*))?\}/.exec(rest);
    let min: number;
    let max: number;
    if (rest[0] === '*') [min, max, pos] = [0, Infinity, pos + 1];
    else if (rest[0] === '+') [min, max, pos] = [1, Infinity, pos + 1];
    else if (rest[0] === '?') [min, max, pos] = [0, 1, pos + 1];
    else if (braces) {
      min = Number(braces[1]);
      max = braces[2] ? (braces[3] ? Number(braces[3]) : Infinity) : min;
      pos += braces[0].length;
    } else return body;
    const greedy = source[pos] !== '?';
    if (!greedy) pos++;
    return { kind: 'repeat', body, min, max, greedy };
  };

  const atom = (): Node => {
    const ch = source[pos]!;
    if (ch === '(') {
      const head = /^\((\?:|\?=|\?!|\?<=|\?<!|\?<[A-Za-z_]\w*>)?/.exec(source.slice(pos))![0];
      pos += head.length;
      const body = alternation();
      if (source[pos] !== ')') fail('unclosed group');
      pos++;
      if (head === '(?=' || head === '(?!') return { kind: 'look', body, behind: false, negate: head === '(?!' };
      if (head === '(?<=' || head === '(?<!') return { kind: 'look', body, behind: true, negate: head === '(?<!' };
      return body; // capturing or not: captures do not change the search
    }
    if (ch === '^' || ch === '$') {
      if (flags.includes('m')) fail('multiline anchors');
      pos++;
      return { kind: 'assert', what: ch };
    }
    if (ch === '[') {
      let end = pos + 1;
      if (source[end] === '^') end++;
      while (source[end] !== ']') end += source[end] === '\\' ? 2 : 1;
      const text = source.slice(pos, end + 1);
      pos = end + 1;
      return { kind: 'char', table: tableOf(text, flags) };
    }
    if (ch === '\\') {
      const escape = /^\\(?:[pP]\{[^}]*\}|x[0-9A-Fa-f]{2}|u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|c[A-Za-z]|[bB]|[1-9]\d*|k<\w+>|.)/su.exec(source.slice(pos))![0];
      pos += escape.length;
      if (escape === '\\b' || escape === '\\B') return { kind: 'assert', what: escape[1] as 'b' | 'B' };
      if (/^\\(?:[1-9]|k<)/.test(escape)) fail('back-references');
      return { kind: 'char', table: tableOf(escape, flags) };
    }
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') fail('a quantifier without an atom');
    const unit = String.fromCodePoint(source.codePointAt(pos)!);
    pos += unit.length;
    if (unit.length > 1) fail('astral literals');
    return { kind: 'char', table: tableOf(unit === '.' ? '.' : unit.replace(/[$^.*+?()[\]{}|/\\]/, '\\$&'), flags) };
  };

  const tree = alternation();
  if (pos !== source.length) fail('unbalanced parenthesis');
  return tree;
}

/** Length of what a lookbehind body matches; the defaults only use fixed-length lookbehinds. */
function fixedLength(node: Node): number {
  switch (node.kind) {
    case 'char':
      return 1;
    case 'seq':
      return node.items.reduce((sum, item) => sum + fixedLength(item), 0);
    case 'alt': {
      const lengths = new Set(node.options.map(fixedLength));
      if (lengths.size !== 1) throw new Error('variable-length lookbehind');
      return [...lengths][0]!;
    }
    case 'assert':
    case 'look':
      return 0;
    case 'repeat':
      if (node.min !== node.max) throw new Error('variable-length lookbehind');
      return node.min * fixedLength(node.body);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Compiling to a backtracking machine (Thompson/Pike instruction set, run depth-first like a backtracker)

const enum Op {
  Char,
  Split, // try a, on failure b
  Jump,
  Assert,
  Look,
  Match,
}

interface Program {
  ops: number[];
  a: number[];
  b: number[];
  tables: Uint8Array[];
  looks: Array<{ program: Program; behind: boolean; negate: boolean; length: number }>;
}

function compile(node: Node): Program {
  const program: Program = { ops: [], a: [], b: [], tables: [], looks: [] };
  const emit = (op: Op, a = 0, b = 0): number => {
    program.ops.push(op);
    program.a.push(a);
    program.b.push(b);
    return program.ops.length - 1;
  };
  const ASSERTS = { '^': 0, $: 1, b: 2, B: 3 } as const;
  const gen = (n: Node): void => {
    switch (n.kind) {
      case 'char':
        program.tables.push(n.table);
        emit(Op.Char, program.tables.length - 1);
        return;
      case 'seq':
        n.items.forEach(gen);
        return;
      case 'alt': {
        const jumps: number[] = [];
        n.options.forEach((option, i) => {
          if (i < n.options.length - 1) {
            const split = emit(Op.Split);
            program.a[split] = split + 1;
            gen(option);
            jumps.push(emit(Op.Jump));
            program.b[split] = program.ops.length;
          } else gen(option);
        });
        for (const jump of jumps) program.a[jump] = program.ops.length;
        return;
      }
      case 'assert':
        emit(Op.Assert, ASSERTS[n.what]);
        return;
      case 'look':
        program.looks.push({ program: compile(n.body), behind: n.behind, negate: n.negate, length: n.behind ? fixedLength(n.body) : 0 });
        emit(Op.Look, program.looks.length - 1);
        return;
      case 'repeat': {
        for (let i = 0; i < n.min; i++) gen(n.body);
        if (n.max === Infinity) {
          const split = emit(Op.Split);
          gen(n.body);
          emit(Op.Jump, split);
          const [body, out] = [split + 1, program.ops.length];
          [program.a[split], program.b[split]] = n.greedy ? [body, out] : [out, body];
          return;
        }
        const splits: number[] = [];
        for (let i = n.min; i < n.max; i++) {
          splits.push(emit(Op.Split));
          gen(n.body);
        }
        const out = program.ops.length;
        for (const split of splits) [program.a[split], program.b[split]] = n.greedy ? [split + 1, out] : [out, split + 1];
        return;
      }
    }
  };
  gen(node);
  emit(Op.Match);
  return program;
}

class StepLimitExceeded extends Error {}

class Machine {
  steps = 0;
  /** One backtrack stack per lookaround nesting depth, reused. */
  private readonly stacks: Int32Array[] = [];
  private depth = 0;
  private readonly word: Uint8Array;

  constructor(
    private readonly input: string,
    private readonly limit: number,
  ) {
    this.word = tableOf('\\w', 'u');
  }

  /** End of the match starting at `start`, or -1; `end` ≥ 0 requires the match to end exactly there (lookbehind). */
  run(program: Program, start: number, end = -1): number {
    const { ops, a, b, tables, looks } = program;
    const input = this.input;
    const n = input.length;
    let stack = (this.stacks[this.depth] ??= new Int32Array(1024));
    let top = 0;
    stack[top++] = 0;
    stack[top++] = start;
    while (top > 0) {
      let sp = stack[--top]!;
      let pc = stack[--top]!;
      for (;;) {
        if (++this.steps > this.limit) throw new StepLimitExceeded();
        const op = ops[pc]!;
        if (op === Op.Char) {
          if (sp < n && tables[a[pc]!]![input.charCodeAt(sp)] === 1) {
            sp++;
            pc++;
            continue;
          }
          break;
        }
        if (op === Op.Split) {
          if (top + 2 > stack.length) {
            const bigger = new Int32Array(stack.length * 2);
            bigger.set(stack);
            stack = this.stacks[this.depth] = bigger;
          }
          stack[top++] = b[pc]!;
          stack[top++] = sp;
          pc = a[pc]!;
          continue;
        }
        if (op === Op.Jump) {
          pc = a[pc]!;
          continue;
        }
        if (op === Op.Assert) {
          const what = a[pc]!;
          let ok: boolean;
          if (what === 0) ok = sp === 0;
          else if (what === 1) ok = sp === n;
          else {
            const before = sp > 0 && this.word[input.charCodeAt(sp - 1)] === 1;
            const after = sp < n && this.word[input.charCodeAt(sp)] === 1;
            ok = (before !== after) === (what === 2);
          }
          if (!ok) break;
          pc++;
          continue;
        }
        if (op === Op.Look) {
          const look = looks[a[pc]!]!;
          // A lookaround runs on its own stack (a nested machine run) and is atomic, as in ECMAScript.
          this.depth++;
          const matched = look.behind ? sp - look.length >= 0 && this.run(look.program, sp - look.length, sp) >= 0 : this.run(look.program, sp) >= 0;
          this.depth--;
          if (matched === look.negate) break;
          pc++;
          continue;
        }
        // Match
        if (end < 0 || sp === end) return sp;
        break;
      }
    }
    return -1;
  }

  /** Every match of a global scan, as V8's exec loop finds them: [index, end] pairs. */
  scan(program: Program): Array<[number, number]> {
    const matches: Array<[number, number]> = [];
    let start = 0;
    while (start <= this.input.length) {
      const end = this.run(program, start);
      if (end < 0) {
        start++;
        continue;
      }
      matches.push([start, end]);
      start = end > start ? end : start + 1;
    }
    return matches;
  }
}

function v8Matches(regex: RegExp, input: string): Array<[number, number]> {
  const global = new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
  const matches: Array<[number, number]> = [];
  let match: RegExpExecArray | null;
  while ((match = global.exec(input)) !== null) {
    matches.push([match.index, match.index + match[0].length]);
    if (match[0].length === 0) global.lastIndex++;
  }
  return matches;
}

// ---------------------------------------------------------------------------------------------------------------

/** Runs of text that make regexes like these work hard: long near-misses, repeated keys, separators. */
const ADVERSARIAL_UNITS = [
  'a', '1', '1.', '1.1.1.1.', '255.255.255.2555', '1:', 'f:', 'ff:ff:', '::', ':f', 'a.', 'a-', 'host=a.', '"host": "a.',
  'url=', 'url=url=', 'http://', 'http://)', 'https://a.', '0', 'f0', 'IMPHASH=', 'src=1.2.3.', 'SHA1=', ' ', '\t', '=', '"',
  '"url":', 'x', '-0', '0-', ':1.2.3.4',
];

/** ~`size` characters: each unit repeated over an equal share, so each long run reaches size / units. */
function adversarial(size: number): string {
  const share = Math.floor(size / ADVERSARIAL_UNITS.length);
  return ADVERSARIAL_UNITS.map((unit) => unit.repeat(Math.ceil(share / unit.length)).slice(0, share)).join('');
}

const defaults = loadServiceConfig().input.sources.find((s) => s.id === 'default')!.regexes;
const MB = 1024 * 1024;
/** Allowed work per input character (the defaults need 1–11); a quadratic regex on one 30 KB run alone needs ~10^9 steps. */
const STEPS_PER_CHAR = 100;

describe('the step-counting machine models V8', () => {
  const realLines = [
    ...readFileSync(dataset('slips-honeypot-suricata-2021-06', 'eve.json'), 'utf8').split('\n').slice(0, 300),
    ...readFileSync(dataset('elastic-apache-access', 'apache_logs'), 'utf8').split('\n').slice(0, 300),
    ...readFileSync(dataset('slips-zeek-json', 'conn.log'), 'utf8').split('\n').slice(0, 200),
    ...readFileSync(dataset('otrf-sysmon-bitsadmin', 'cmd_bitsadmin_download_psh_script_2020-10-2302365189.json'), 'utf8').split('\n').filter((l) => l.includes('Hashes')).slice(0, 100),
    ...readFileSync(dataset('slips-zeek-json', 'files.log'), 'utf8').split('\n').slice(0, 50),
    '4711 ip=45.144.225.135 md5= sha1= sha256= url=http://fakess123.nu/x?y=1 domain=evil.example.org',
    adversarial(8 * 1024),
  ];

  it.each(defaults.map((rule) => [rule.name, rule] as const))('%s finds the same matches on real lines and adversarial text', (_name, rule) => {
    const program = compile(parse(rule.regex.source, rule.regex.flags));
    let total = 0;
    for (const line of realLines) {
      const expected = v8Matches(rule.regex, line);
      expect(new Machine(line, Number.MAX_SAFE_INTEGER).scan(program)).toEqual(expected);
      total += expected.length;
    }
    expect(total).toBeGreaterThan(0);
  });

  it('detects a regex that does backtrack catastrophically (so the bound below can fail)', () => {
    // A domain regex without the key anchor: every start inside a long a.a.a... run rescans the rest of it.
    const unguarded = compile(parse('[a-z]+(?:\\.[a-z]+)+(?![\\w.])', 'gu'));
    const text = 'a.'.repeat(20_000) + '-';
    const machine = new Machine(text, STEPS_PER_CHAR * text.length);
    expect(() => machine.scan(unguarded)).toThrow(StepLimitExceeded);
  });
});

describe('default regexes do bounded work per character on 1 MB of adversarial text', () => {
  const large = adversarial(MB);
  const quarter = adversarial(MB / 4);

  it.each(defaults.map((rule) => [rule.name, rule] as const))('%s', (_name, rule) => {
    const program = compile(parse(rule.regex.source, rule.regex.flags));
    const full = new Machine(large, STEPS_PER_CHAR * large.length);
    full.scan(program);
    const part = new Machine(quarter, STEPS_PER_CHAR * quarter.length);
    part.scan(program);
    // Linear: 4x the text costs about 4x the steps (a quadratic regex would cost 16x).
    expect(full.steps / part.steps).toBeLessThan(4.5);
    expect(full.steps).toBeLessThan(STEPS_PER_CHAR * large.length);
  });
});
