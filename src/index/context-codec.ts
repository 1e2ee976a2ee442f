/**
 * The binary form of a record's context fields, as FeedStrings interns it.
 *
 * `varint(head)`, then, when head ≥ 2, one value per name of field-name list `head - 2` (the names are stored
 * once per feed): `varint(byteLength × 4 + kind)` and the bytes. Kind 0 is UTF-8 text with non-ASCII characters,
 * kind 3 ASCII text; kinds 1 and 2 are lower- and upper-case hex digits packed two to a byte, because hash feeds
 * repeat every record's MD5, SHA-1 and SHA-256 in its context, which is most of their size. Better still, a hash
 * the feed's hash tables hold as a key (`KeyReferences`) is stored as a reference to that key: kind 1 or 2 with a
 * byte length of 0 (packed hex is never that short), then `varint(reference)`. Head 0 is an empty context; head 1
 * is followed by the fields as JSON (a field that is not a pair of strings: loaders do not produce one, but
 * nothing is lost).
 *
 * Decoding reads the whole context as one Latin-1 string and cuts its ASCII values out of it: one call into
 * Buffer's native code per context instead of one per value (which cost most of a decode).
 */
import type { ContextFields } from '../types.js';
import { bytesHex } from './hash.js';

const EMPTY = 0;
const AS_JSON = 1;
const FIRST_SHAPE = 2;
const TEXT = 0;
const LOWER_HEX = 1;
const UPPER_HEX = 2;
const ASCII_TEXT = 3;
/** Shorter hex values (a port, a year) are not worth packing. */
const MIN_PACKED_HEX = 16;

const textEncoder = new TextEncoder();

/**
 * Hash values a context can refer to instead of holding them: the keys of the feed's hash tables. `reference`
 * gives a hex value's reference, making it a key when it is not one yet (the record that has it as its
 * indicator may come later), or -1 when it cannot be a key; `hex` gives a reference's value in the case asked for.
 */
export interface KeyReferences {
  reference(hex: string): number;
  hex(reference: number, upperCase: boolean): string;
}

export class ContextEncoder {
  /** The last encoding is `bytes[0 .. length)`. */
  bytes = new Uint8Array(256);
  length = 0;

  /** Encodes `fields`; `shapeId` interns a list of field names (joined by NUL) and returns its id. */
  encode(fields: ContextFields, shapeId: (names: string) => number, keys?: KeyReferences): void {
    this.length = 0;
    if (fields.length === 0) return this.varint(EMPTY);
    let names = '';
    for (let i = 0; i < fields.length; i++) {
      const field: unknown = fields[i];
      if (!Array.isArray(field) || typeof field[0] !== 'string' || typeof field[1] !== 'string' || field[0].includes('\0')) return this.json(fields);
      names += i === 0 ? field[0] : `\0${field[0]}`;
    }
    this.varint(FIRST_SHAPE + shapeId(names));
    for (const [, value] of fields) this.value(value, keys);
  }

  private value(value: string, keys: KeyReferences | undefined): void {
    const kind = hexKind(value);
    const reference = kind === TEXT || keys === undefined ? -1 : keys.reference(value);
    if (reference >= 0) {
      this.varint(kind);
      this.varint(reference);
      return;
    }
    if (kind === TEXT) {
      const ascii = asciiOnly(value);
      const byteLength = ascii ? value.length : Buffer.byteLength(value, 'utf8');
      this.varint(byteLength * 4 + (ascii ? ASCII_TEXT : TEXT));
      this.reserve(byteLength);
      this.length += writeUtf8(value, this.bytes, this.length);
      return;
    }
    this.varint((value.length / 2) * 4 + kind);
    this.reserve(value.length / 2);
    for (let i = 0; i < value.length; i += 2) this.bytes[this.length++] = (hexDigit(value.charCodeAt(i)) << 4) | hexDigit(value.charCodeAt(i + 1));
  }

  private json(fields: ContextFields): void {
    const text = JSON.stringify(fields);
    this.varint(AS_JSON);
    this.reserve(Buffer.byteLength(text, 'utf8'));
    this.length += writeUtf8(text, this.bytes, this.length);
  }

  private varint(value: number): void {
    this.reserve(5);
    while (value >= 0x80) {
      this.bytes[this.length++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.bytes[this.length++] = value;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }
}

/** Where `readVarint` reads next (decoding is synchronous and single-threaded). */
let cursor = 0;

function readVarint(data: Buffer): number {
  let byte = data[cursor++]!;
  if (byte < 0x80) return byte; // most are: field headers of values under 32 bytes, shape ids, small references
  let value = byte & 0x7f;
  for (let scale = 0x80; ; scale *= 0x80) {
    byte = data[cursor++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
  }
}

/** Decodes `data[start .. end)`; `namesOf` returns the field names of a shape id, `keys` resolves key references. */
export function decodeContext(data: Buffer, start: number, end: number, namesOf: (shape: number) => readonly string[], keys?: KeyReferences): ContextFields {
  cursor = start;
  const head = readVarint(data);
  if (head === EMPTY) return [];
  if (head === AS_JSON) return JSON.parse(data.toString('utf8', cursor, end)) as ContextFields;
  const names = namesOf(head - FIRST_SHAPE);
  const fields: Array<readonly [string, string]> = new Array(names.length);
  const textStart = cursor;
  const text = data.toString('latin1', textStart, end);
  for (let i = 0; i < names.length; i++) {
    const header = readVarint(data);
    const from = cursor;
    const to = from + Math.floor(header / 4);
    const kind = header & 3;
    let value: string;
    if (kind === ASCII_TEXT) value = text.slice(from - textStart, to - textStart);
    else if (kind === TEXT) value = data.toString('utf8', from, to);
    else if (to > from) value = bytesHex(data, from, to, kind === UPPER_HEX);
    else value = referencedKey(data, kind === UPPER_HEX, keys);
    fields[i] = [names[i]!, value];
    if (to > from) cursor = to;
  }
  return fields;
}

/** The hash a key reference at the cursor stands for (see the top of this file). */
function referencedKey(data: Buffer, upperCase: boolean, keys: KeyReferences | undefined): string {
  if (keys === undefined) throw new Error('decodeContext: a key reference, and no keys to resolve it');
  return keys.hex(readVarint(data), upperCase);
}

/** LOWER_HEX or UPPER_HEX for an even run of at least MIN_PACKED_HEX hex digits in one case (digits only: lower), else TEXT. */
function hexKind(value: string): number {
  if (value.length < MIN_PACKED_HEX || value.length % 2 !== 0) return TEXT;
  let lower = false;
  let upper = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) continue;
    if (code >= 0x61 && code <= 0x66) lower = true;
    else if (code >= 0x41 && code <= 0x46) upper = true;
    else return TEXT;
  }
  return lower && upper ? TEXT : upper ? UPPER_HEX : LOWER_HEX;
}

/** The value of a hex digit already checked by hexKind. */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x61 + 10;
}

function asciiOnly(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Writes `text` as UTF-8 at `bytes[at ..]` (its byte length is reserved); returns the byte count. */
function writeUtf8(text: string, bytes: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return textEncoder.encodeInto(text, bytes.subarray(at)).written;
    bytes[at + i] = code;
  }
  return text.length;
}
