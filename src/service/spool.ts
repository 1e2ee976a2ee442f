/**
 * Disk spool of the output connection: append-only segment files in one directory, read in order and deleted
 * once every byte has been handed to the receiver. Survives a restart: segments and the read cursor are found
 * again on open. Bounded by `maxBytes`; `append` refuses what does not fit (the caller alerts and counts).
 *
 * Layout: `seg-<seq>.spool` (lines as sent, each ending with LF) and `cursor.json` ({seq: delivered bytes}) for
 * segments whose head was already delivered. A crash between delivery and the cursor write re-sends at most one
 * read chunk after restart (at-least-once), never loses one.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SpoolOptions {
  dir: string;
  /** Total bytes the spool may hold (not yet delivered). */
  maxBytes: number;
  /** A new segment file starts when the last one reaches this size. */
  segmentBytes?: number;
}

interface Segment {
  seq: number;
  file: string;
  size: number;
  /** Bytes at the head of this segment already delivered. */
  start: number;
}

export class SpoolLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`spool ${dir} is in use by another running service${pid ? ` (pid ${pid})` : ''}; give each service its own --spool`);
    this.name = 'SpoolLockedError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SEGMENT_RE = /^seg-(\d+)\.spool$/;
/** Sequence numbers start high so that older data can be put in front (prepend) with smaller numbers. */
const FIRST_SEQ = 1_000_000_000;
const READ_CHUNK = 256 * 1024;

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly segmentBytes: number;
  private segments: Segment[] = [];
  /** Undelivered bytes and lines. */
  private pendingBytes = 0;
  private pendingLines = 0;
  /** Read position: segment index and offset (reads run ahead of deliveries; `rewind` goes back). */
  private readIndex = 0;
  private readOffset = 0;
  /** Reads handed out and not yet delivered, in order: byte and line counts. */
  private unacked: Array<{ bytes: number; lines: number }> = [];
  private appendFd: number | null = null;
  private readonly cursorFile: string;
  private readonly lockFile: string;
  /** The last file-system error met while appending (reported with the spool-full alert). */
  lastError: string | null = null;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    this.cursorFile = path.join(this.dir, 'cursor.json');
    fs.mkdirSync(this.dir, { recursive: true });
    this.lockFile = path.join(this.dir, 'lock');
    this.lock();
    this.recover();
  }

  /** One process per spool directory: two writers would interleave segments and fight over the cursor. */
  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number(fs.readFileSync(this.lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new SpoolLockedError(this.dir, owner);
      }
      fs.rmSync(this.lockFile, { force: true }); // stale: its process is gone
    }
    throw new SpoolLockedError(this.dir, 0);
  }

  /** Undelivered bytes on disk. */
  get bytes(): number {
    return this.pendingBytes;
  }
  /** Undelivered lines (events) on disk. */
  get lines(): number {
    return this.pendingLines;
  }
  get isEmpty(): boolean {
    return this.pendingBytes === 0;
  }
  /** Whether a read would return data (something not yet handed out). */
  get hasUnread(): boolean {
    return this.unackedBytes() < this.pendingBytes;
  }

  /** Appends whole lines; false (nothing written) when they do not fit unless `force` (small alerts). */
  append(data: Buffer, lines: number, force = false): boolean {
    if (data.length === 0) return true;
    if (!force && this.pendingBytes + data.length > this.maxBytes) return false;
    let tail = this.segments[this.segments.length - 1];
    try {
      if (tail === undefined || tail.size >= this.segmentBytes || this.appendFd === null) {
        const seg = this.newSegment(tail === undefined ? FIRST_SEQ : tail.seq + 1);
        this.closeAppend();
        this.appendFd = fs.openSync(seg.file, 'a');
        this.segments.push(seg);
        tail = seg;
      }
      const written = fs.writeSync(this.appendFd, data);
      if (written !== data.length) throw new Error(`short write (${written} of ${data.length} bytes)`);
    } catch (error) {
      // A disk that is full or gone is a full spool to the caller (alert, drop and count), not a crash.
      this.lastError = (error as Error).message;
      this.closeAppend(); // the next append starts a fresh segment rather than extend a torn one
      return false;
    }
    tail.size += data.length;
    this.pendingBytes += data.length;
    this.pendingLines += lines;
    return true;
  }

  /**
   * Puts older data in front of everything (lines that were handed to a connection that then failed).
   * Ignores the size limit: losing data that was already accepted is worse than a slightly fuller disk.
   * Only valid when nothing is handed out (after `rewind`).
   */
  prepend(data: Buffer, lines: number): void {
    if (data.length === 0) return;
    const first = this.segments[0];
    const seg = this.newSegment(first === undefined ? FIRST_SEQ : first.seq - 1);
    fs.writeFileSync(seg.file, data);
    seg.size = data.length;
    this.segments.unshift(seg);
    this.pendingBytes += data.length;
    this.pendingLines += lines;
    this.readIndex = 0;
    this.readOffset = seg.start;
    if (first === undefined) this.closeAppend(); // the new segment must not become the append target by accident
    this.saveCursor();
  }

  /** The next undelivered chunk (whole lines when possible), or null. Call `ack` once it is delivered. */
  read(maxBytes = READ_CHUNK): { data: Buffer; lines: number } | null {
    while (this.readIndex < this.segments.length) {
      const seg = this.segments[this.readIndex]!;
      if (this.readOffset < seg.start) this.readOffset = seg.start;
      if (this.readOffset >= seg.size) {
        // Stay on the last segment: appends may still grow it.
        if (this.readIndex === this.segments.length - 1) return null;
        this.readIndex++;
        this.readOffset = 0;
        continue;
      }
      const len = Math.min(maxBytes, seg.size - this.readOffset);
      const buf = Buffer.allocUnsafe(len);
      const fd = fs.openSync(seg.file, 'r');
      let got: number;
      try {
        got = fs.readSync(fd, buf, 0, len, this.readOffset);
      } finally {
        fs.closeSync(fd);
      }
      let data = buf.subarray(0, got);
      const lastLf = data.lastIndexOf(10);
      if (lastLf !== -1 && lastLf < data.length - 1) data = data.subarray(0, lastLf + 1);
      this.readOffset += data.length;
      const lines = countLf(data);
      this.unacked.push({ bytes: data.length, lines });
      return { data, lines };
    }
    return null;
  }

  /** The oldest chunk handed out by `read` was delivered. */
  ack(): void {
    const chunk = this.unacked.shift();
    if (chunk === undefined) return;
    let left = chunk.bytes;
    this.pendingBytes -= chunk.bytes;
    this.pendingLines -= chunk.lines;
    while (left > 0 && this.segments.length > 0) {
      const seg = this.segments[0]!;
      const take = Math.min(left, seg.size - seg.start);
      seg.start += take;
      left -= take;
      if (seg.start >= seg.size) this.dropFirstSegment();
      else break;
    }
    this.saveCursor();
  }

  /** Forgets chunks handed out but not delivered: the next read starts at the first undelivered byte. */
  rewind(): void {
    this.unacked = [];
    this.readIndex = 0;
    this.readOffset = this.segments[0]?.start ?? 0;
  }

  close(): void {
    this.closeAppend();
    this.saveCursor();
    fs.rmSync(this.lockFile, { force: true });
  }

  private unackedBytes(): number {
    let n = 0;
    for (const u of this.unacked) n += u.bytes;
    return n;
  }

  private newSegment(seq: number): Segment {
    return { seq, file: path.join(this.dir, `seg-${String(seq).padStart(13, '0')}.spool`), size: 0, start: 0 };
  }

  private dropFirstSegment(): void {
    const seg = this.segments.shift()!;
    if (this.segments.length === 0) this.closeAppend();
    fs.rmSync(seg.file, { force: true });
    if (this.readIndex > 0) this.readIndex--;
    else this.readOffset = this.segments[0]?.start ?? 0;
  }

  private closeAppend(): void {
    if (this.appendFd !== null) fs.closeSync(this.appendFd);
    this.appendFd = null;
  }

  private saveCursor(): void {
    const cursor: Record<string, number> = {};
    for (const s of this.segments) if (s.start > 0) cursor[String(s.seq)] = s.start;
    try {
      fs.writeFileSync(this.cursorFile, JSON.stringify(cursor));
    } catch (error) {
      this.lastError = (error as Error).message; // worst case after a restart: lines sent twice, none lost
    }
  }

  /** Finds segments and the cursor left by an earlier run. */
  private recover(): void {
    let cursor: Record<string, number> = {};
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(this.cursorFile, 'utf8'));
      if (parsed !== null && typeof parsed === 'object') cursor = parsed as Record<string, number>;
    } catch {
      // No cursor (first run) or a torn write: re-send from the start of each segment rather than lose lines.
    }
    for (const name of fs.readdirSync(this.dir)) {
      const m = SEGMENT_RE.exec(name);
      if (!m) continue;
      const seg = this.newSegment(Number(m[1]));
      seg.size = fs.statSync(seg.file).size;
      const start = cursor[String(seg.seq)];
      seg.start = typeof start === 'number' && start >= 0 && start <= seg.size ? start : 0;
      if (seg.start >= seg.size) {
        fs.rmSync(seg.file, { force: true });
        continue;
      }
      this.segments.push(seg);
    }
    this.segments.sort((a, b) => a.seq - b.seq);
    for (const seg of this.segments) {
      this.pendingBytes += seg.size - seg.start;
      this.pendingLines += countFileLines(seg);
    }
    this.rewind();
  }
}

function countLf(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function countFileLines(seg: Segment): number {
  const fd = fs.openSync(seg.file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let n = 0;
    for (let pos = seg.start; pos < seg.size; ) {
      const got = fs.readSync(fd, buf, 0, Math.min(READ_CHUNK, seg.size - pos), pos);
      if (got <= 0) break;
      n += countLf(buf.subarray(0, got));
      pos += got;
    }
    return n;
  } finally {
    fs.closeSync(fd);
  }
}
