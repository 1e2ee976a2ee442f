import { Readable } from 'node:stream';
import { readLines } from '../src/cli/lines.js';

async function collect(chunks: Array<string | Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(Readable.from(chunks))) out.push(line);
  return out;
}

describe('readLines', () => {
  it('splits on LF only, drops one trailing CR, keeps a lone CR inside a line', async () => {
    expect(await collect(['a\r\nb\rc\n', 'd'])).toEqual(['a', 'b\rc', 'd']);
  });
  it('joins a UTF-8 character split across chunks', async () => {
    const bytes = Buffer.from('тест\n', 'utf8');
    expect(await collect([bytes.subarray(0, 3), bytes.subarray(3)])).toEqual(['тест']);
  });
  it('keeps empty lines so output lines stay aligned with input lines', async () => {
    expect(await collect(['\n\nx\n'])).toEqual(['', '', 'x']);
  });
});
