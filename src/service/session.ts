/**
 * Session flags at the head of a connection (`X-KF-ReplyBack`, `X-KF-SendFinishedEvent`, `X-KF-SaveStatistic`,
 * `X-KF-ReplyBackPING`). Real clients send them without a newline, glued to the first event and possibly
 * split across TCP segments, so the head is buffered only while it can still be the prefix of a token.
 * Once the head is over, these tokens are ordinary event text.
 */

export interface SessionFlags {
  replyBack: boolean;
  sendFinishedEvent: boolean;
  saveStatistic: boolean;
}

const REPLY_BACK = Buffer.from('X-KF-ReplyBack');
const TOKENS: ReadonlyArray<readonly [Buffer, keyof SessionFlags]> = [
  [REPLY_BACK, 'replyBack'],
  [Buffer.from('X-KF-SendFinishedEvent'), 'sendFinishedEvent'],
  [Buffer.from('X-KF-SaveStatistic'), 'saveStatistic'],
];
/** `PING` is a token only right after `X-KF-ReplyBack` (`X-KF-ReplyBackPING`). */
const PING = Buffer.from('PING');
const CR = 13;
const LF = 10;

export type HeadResult =
  /** More bytes are needed to decide; nothing to process yet. */
  | { done: false }
  /** The head is over; `rest` is the start of the event stream (may be empty). */
  | { done: true; rest: Buffer };

export class SessionHead {
  readonly flags: SessionFlags = { replyBack: false, sendFinishedEvent: false, saveStatistic: false };
  /** PING requests seen (each must be answered with `PONG\n`). */
  pings = 0;
  private pending: Buffer = Buffer.alloc(0);
  private lastWasReplyBack = false;
  private sawToken = false;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Feeds the next chunk. `onPing` is called as soon as a PING token is complete (answer it at once: a
   * health-check client waits for PONG before sending anything else).
   */
  feed(chunk: Buffer, onPing: () => void = () => {}): HeadResult {
    if (this.finished) return { done: true, rest: chunk };
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let pos = 0;
    for (;;) {
      const step = this.step(buf, pos);
      if (step === 'wait') {
        // Bounded: only a strict prefix of a token (or a lone CR after the flags) is ever kept.
        this.pending = Buffer.from(buf.subarray(pos));
        return { done: false };
      }
      if (step === 'end') break;
      if (step === 'ping') {
        this.pings++;
        onPing();
        pos += PING.length;
        continue;
      }
      pos += step;
    }
    this.finished = true;
    this.pending = Buffer.alloc(0);
    if (this.sawToken) {
      // One optional line break after the flags belongs to them, not to the first event.
      if (buf[pos] === LF) pos += 1;
      else if (buf[pos] === CR && buf[pos + 1] === LF) pos += 2;
    }
    buf = buf.subarray(pos);
    return { done: true, rest: buf };
  }

  /** The connection ended during the head: whatever was kept is event text. */
  end(): Buffer {
    this.finished = true;
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  /** Consumes one token at `pos`: its length, 'ping', 'wait' (a prefix so far) or 'end' (head is over). */
  private step(buf: Buffer, pos: number): number | 'ping' | 'wait' | 'end' {
    const left = buf.length - pos;
    if (left === 0) return 'wait';
    let prefix = false;
    if (this.lastWasReplyBack) {
      const c = compare(buf, pos, PING);
      if (c === 'full') {
        this.lastWasReplyBack = false;
        return 'ping';
      }
      if (c === 'prefix') prefix = true;
    }
    for (const [token, flag] of TOKENS) {
      const c = compare(buf, pos, token);
      if (c === 'full') {
        this.flags[flag] = true;
        this.sawToken = true;
        this.lastWasReplyBack = token === REPLY_BACK;
        return token.length;
      }
      if (c === 'prefix') prefix = true;
    }
    if (prefix) return 'wait';
    // A lone CR after the flags may be the start of the optional CRLF.
    if (this.sawToken && left === 1 && buf[pos] === CR) return 'wait';
    return 'end';
  }
}

/** Whether `buf` at `pos` holds all of `token` ('full'), a strict prefix of it up to its end ('prefix'), or not. */
function compare(buf: Buffer, pos: number, token: Buffer): 'full' | 'prefix' | 'no' {
  const n = Math.min(buf.length - pos, token.length);
  for (let i = 0; i < n; i++) if (buf[pos + i] !== token[i]) return 'no';
  return n === token.length ? 'full' : 'prefix';
}
