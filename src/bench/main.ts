/**
 * `npm run bench [-- GROUP...]`: runs named benchmark groups (all by default) and prints markdown tables.
 * A group registers here with a function taking the remaining arguments; `--child GROUP ...` is how a group
 * runs its own measurements in a fresh process.
 */
import { measureEngineChild, runEngineBench } from './engine.js';
import { runServiceBench, serviceBenchChild } from './service.js';
import { runLookupBench } from './lookup.js';
import { runExtractBench } from './extract.js';
import { runSoakBench } from './soak.js';

interface BenchGroup {
  description: string;
  run: (args: string[]) => Promise<void>;
  child?: (args: string[]) => Promise<void>;
}

const groups: Record<string, BenchGroup> = {
  engine: {
    description: 'indicator index: load time, memory, lookups/s per type, against a naive Map baseline',
    run: runEngineBench,
    child: measureEngineChild,
  },
  service: {
    description: 'feedtrace serve: events/s of real logs with ~2 M indicators, ReplyBack and output modes, latency, against a protocol-only baseline',
    run: runServiceBench,
    child: serviceBenchChild,
  },
  lookup: {
    description: 'lookup script: cold start, bundle size, rows/s with the service against a CSV passthrough and one connection per value',
    run: runLookupBench,
  },
  extract: {
    description: 'event extraction alone (default config): events/s per real log type, against the straightforward reference',
    run: runExtractBench,
  },
  soak: {
    description: 'soak: the service at a steady rate for 10 minutes (--seconds, --rate, --reload) with feed replacements; lost, duplicated, memory, fds',
    run: runSoakBench,
  },
};

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const group = groups[argv[1] ?? ''];
    if (group?.child === undefined) throw new Error(`no child entry for benchmark group ${argv[1]}`);
    await group.child(argv.slice(2));
    return;
  }
  if (argv.includes('--help')) {
    process.stdout.write(`usage: node dist/bench.js [GROUP...] [options]\n${Object.entries(groups).map(([n, g]) => `  ${n}: ${g.description}`).join('\n')}\n`);
    return;
  }
  const names = argv.filter((a) => !a.startsWith('-'));
  for (const name of names) if (!(name in groups)) throw new Error(`unknown benchmark group ${name} (known: ${Object.keys(groups).join(', ')})`);
  const options = argv.filter((a) => a.startsWith('-'));
  for (const name of names.length > 0 ? names : Object.keys(groups)) {
    process.stdout.write(`\n## ${name}\n`);
    await groups[name]!.run(options);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
