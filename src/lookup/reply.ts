/**
 * One line of a ReplyBack answer: a detection, the per-request finished line, or anything else (alerts, PONG).
 * Works on our service's lines and on a real CyberTrace's, which carry no request id and are told apart only by
 * the words `matchedIndicator` (a detection) and `LookupFinished` (the end of one request's answer).
 */
import { parseKv, type KvPair } from './kv.js';

export class Detection {
  /** Every key=value of the line, in order. */
  constructor(readonly pairs: KvPair[]) {}

  /** The first value of `key` (a linear scan: a line has a few dozen keys, and is read a few times). */
  get(key: string): string | undefined {
    for (const [k, v] of this.pairs) if (k === key) return v;
    return undefined;
  }
}

export type ReplyLine =
  | { kind: 'detection'; id: number | undefined; detection: Detection }
  | { kind: 'finished'; id: number | undefined }
  | { kind: 'other' };

/**
 * Keys of the detection line that describe the event rather than the feed record (ours, and those of
 * CyberTrace's documented EventFormat): everything else is the record context (`%RecordContext%`).
 */
const EVENT_KEYS = new Set([
  'eventName', 'category', 'matchedIndicator', 'feed', 'sourceId', 'indicatorType', 'matchedValue',
  'url', 'ip', 'domain', 'md5', 'sha1', 'sha256', 'src', 'usrName', 'REQ', 'req',
]);

/** Lines without a request id share one object each: one finished line comes per request. */
const FINISHED: ReplyLine = Object.freeze({ kind: 'finished', id: undefined });
const OTHER: ReplyLine = Object.freeze({ kind: 'other' });

export function parseReplyLine(line: string): ReplyLine {
  if (line.includes('matchedIndicator')) {
    const kv = parseKv(line);
    // One scan for the keys that matter here: the indicator, and an echoed request id.
    let indicator = false;
    let req: string | undefined;
    let reqLower: string | undefined;
    for (const [k, v] of kv.pairs) {
      if (k === 'matchedIndicator') indicator = true;
      else if (k === 'REQ') req ??= v;
      else if (k === 'req') reqLower ??= v;
    }
    if (!indicator) return OTHER;
    return { kind: 'detection', id: requestId(kv.prefix, req ?? reqLower), detection: new Detection(kv.pairs) };
  }
  if (line.includes('LookupFinished')) {
    const id = finishedId(line);
    return id === undefined ? FINISHED : { kind: 'finished', id };
  }
  return OTHER;
}

const LEADING_ID = /^(\d{1,15})\s/;
const REQ_KEY = /(?:^|\s)(?:REQ|req)="?(\d{1,15})(?:"|\s|$)/;
const DIGITS = /^\d{1,15}$/;

/** The id of a finished line without parsing it whole: one comes per request, most of the answer traffic. */
function finishedId(line: string): number | undefined {
  const m = LEADING_ID.exec(line) ?? REQ_KEY.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * The echoed request id: a leading number (`%REQ% category=...`, as CyberTrace's balancer setup writes) or the
 * first REQ (else req) value.
 */
function requestId(prefix: string[], reqValue: string | undefined): number | undefined {
  const text = prefix.length > 0 && DIGITS.test(prefix[0]!) ? prefix[0]! : reqValue;
  return text !== undefined && DIGITS.test(text) ? Number(text) : undefined;
}

/**
 * The record context of a detection, as `key=value` pairs. Empty values are left out: in a custom EventFormat
 * they are almost always regex outputs with nothing extracted, not record fields.
 */
export function contextPairs(d: Detection): KvPair[] {
  return d.pairs.filter(([k, v]) => v !== '' && !EVENT_KEYS.has(k));
}
