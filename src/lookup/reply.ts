/**
 * One line of a ReplyBack answer: a detection, the per-request finished line, or anything else (alerts, PONG).
 * Works on our service's lines and on a real CyberTrace's, which carry no request id and are told apart only by
 * the words `matchedIndicator` (a detection) and `LookupFinished` (the end of one request's answer).
 */
import { parseKv, type KvPair } from './kv.js';

export interface Detection {
  /** Every key=value of the line, in order (first occurrence wins in `get`). */
  pairs: KvPair[];
  get(key: string): string | undefined;
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

export function parseReplyLine(line: string): ReplyLine {
  if (line.includes('matchedIndicator')) {
    const kv = parseKv(line);
    const map = new Map<string, string>();
    for (const [k, v] of kv.pairs) if (!map.has(k)) map.set(k, v);
    if (!map.has('matchedIndicator')) return { kind: 'other' };
    return { kind: 'detection', id: requestId(kv.prefix, map), detection: { pairs: kv.pairs, get: (k) => map.get(k) } };
  }
  if (line.includes('LookupFinished')) {
    const kv = parseKv(line);
    const map = new Map(kv.pairs);
    return { kind: 'finished', id: requestId(kv.prefix, map) };
  }
  return { kind: 'other' };
}

/** The echoed request id: a leading number (`%REQ% category=...`, as CyberTrace's balancer setup writes) or a REQ key. */
function requestId(prefix: string[], map: Map<string, string>): number | undefined {
  const text = prefix.length > 0 && /^\d{1,15}$/.test(prefix[0]!) ? prefix[0]! : (map.get('REQ') ?? map.get('req'));
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/**
 * The record context of a detection, as `key=value` pairs. Empty values are left out: in a custom EventFormat
 * they are almost always regex outputs with nothing extracted, not record fields.
 */
export function contextPairs(d: Detection): KvPair[] {
  return d.pairs.filter(([k, v]) => v !== '' && !EVENT_KEYS.has(k));
}
