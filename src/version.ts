/** The package version; esbuild defines __FEEDTRACE_VERSION__ from package.json, sources under jest read it directly. */
import { readFileSync } from 'node:fs';

declare const __FEEDTRACE_VERSION__: string | undefined;

function readPackageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export const VERSION: string = typeof __FEEDTRACE_VERSION__ === 'string' ? __FEEDTRACE_VERSION__ : readPackageVersion();
