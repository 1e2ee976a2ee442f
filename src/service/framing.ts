/**
 * Event framing of the service's input stream (CyberTrace: TCP, UTF-8, LF ends an event, CR is ignored,
 * optional `EventDelimiter` regex marks the start of further events inside a line).
 *
 * Works on bytes: LF (0x0A) never occurs inside a multi-byte UTF-8 sequence, so a line's bytes can be
 * gathered across chunks and decoded once, which also decodes characters split across chunk boundaries.
 * Memory is bounded by `maxLineBytes`: the rest of an over-long line is skipped, not buffered.
 */

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface FramerOptions {
  /** Longest event kept, in bytes; longer lines are cut here and the rest up to LF is discarded. */
  maxLineBytes?: number;
  /** CyberTrace `EventDelimiter`: a `\n` is inserted before every match (the regex marks an event's start). */
  eventDelimiter?: RegExp | null;
}

export class LineFramer {
  /** Lines cut because they were longer than `maxLineBytes`. */
  truncated = 0;
  private readonly maxLineBytes: number;
  private readonly delimiter: RegExp | null;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Inside the discarded tail of an over-long line, until the next LF. */
  private discarding = false;

  constructor(
    options: FramerOptions,
    private readonly onEvent: (event: string) => void,
    private readonly onTruncated: (keptBytes: number) => void = () => {},
  ) {
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const d = options.eventDelimiter ?? null;
    // matchAll needs the global flag; a copy keeps the caller's lastIndex untouched.
    this.delimiter = d ? new RegExp(d.source, d.flags.includes('g') ? d.flags : d.flags + 'g') : null;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.discarding) {
        if (nl !== -1) this.discarding = false;
      } else if (this.partBytes === 0 && nl !== -1 && end - start <= this.maxLineBytes) {
        // Fast path: the whole line is inside this chunk.
        this.emitLine(chunk.toString('utf8', start, end));
      } else {
        this.collect(chunk.subarray(start, end), nl !== -1);
      }
      if (nl === -1) break;
      start = nl + 1;
    }
  }

  /** The connection ended: a last line without LF is still an event. */
  end(): void {
    if (!this.discarding && this.partBytes > 0) this.flushParts();
    this.discarding = false;
    this.parts = [];
    this.partBytes = 0;
  }

  private collect(piece: Buffer, complete: boolean): void {
    const room = this.maxLineBytes - this.partBytes;
    if (piece.length > room) {
      // Cut at a character boundary: step back (at most 3 bytes, the longest UTF-8 tail) while the first byte
      // left out is a continuation byte. The straddling character may have started in an earlier part.
      const kept = Buffer.concat([...this.parts, piece.subarray(0, room)]);
      const byteAt = (i: number): number => (i < kept.length ? kept[i]! : piece[room]!);
      let cut = kept.length;
      while (cut > kept.length - 3 && cut > 0 && (byteAt(cut) & 0xc0) === 0x80) cut--;
      this.parts = [kept.subarray(0, cut)];
      this.partBytes = cut;
      this.flushParts();
      this.truncated++;
      this.onTruncated(cut);
      this.discarding = !complete;
      return;
    }
    if (piece.length > 0) {
      // Copy: the socket may reuse its chunk buffer after this call returns.
      this.parts.push(Buffer.from(piece));
      this.partBytes += piece.length;
    }
    if (complete) this.flushParts();
  }

  private flushParts(): void {
    const line = this.parts.length === 1 ? this.parts[0]!.toString('utf8') : Buffer.concat(this.parts, this.partBytes).toString('utf8');
    this.parts = [];
    this.partBytes = 0;
    this.emitLine(line);
  }

  private emitLine(raw: string): void {
    const line = raw.includes('\r') ? raw.replace(/\r/g, '') : raw;
    if (line.length === 0) return; // an empty line is not an event
    if (this.delimiter === null) {
      this.onEvent(line);
      return;
    }
    let from = 0;
    for (const m of line.matchAll(this.delimiter)) {
      if (m.index > from) {
        this.onEvent(line.slice(from, m.index));
        from = m.index;
      }
    }
    if (from < line.length) this.onEvent(line.slice(from));
  }
}
