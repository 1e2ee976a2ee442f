/**
 * The lookup benchmark's ceiling, bundled on its own (dist/bench-passthrough.js) so that its start-up costs about
 * what the lookup bundle's does: a plain csv-parse → csv-stringify stream from stdin to stdout, with the lookup's
 * input options and Splunk's CRLF output.
 */
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';

process.stdin
  .pipe(parse({ bom: true, relax_column_count: true }))
  .on('error', fail)
  .pipe(stringify({ record_delimiter: 'windows' }))
  .on('error', fail)
  .pipe(process.stdout);

function fail(err: Error): void {
  process.stderr.write(`passthrough: ${err.message}\n`);
  process.exitCode = 1;
}
