/**
 * MD5 / SHA-1 / SHA-256 indicators of one feed, stored as binary words (half the size of hex text) and compared
 * case-insensitively by construction. A feed written in upper-case hex is remembered with one flag bit.
 */
import type { ContextFields, Match } from '../types.js';
import type { KeyReferences } from './context-codec.js';
import { FeedStrings, KeyedRecords } from './records.js';
import { WordTable } from './word-table.js';

export type HashType = 'md5' | 'sha1' | 'sha256';

/** Hex length → hash type, which is how a `hash` query or indicator is told apart. */
export function hashTypeOfLength(length: number): HashType | undefined {
  return length === 32 ? 'md5' : length === 40 ? 'sha1' : length === 64 ? 'sha256' : undefined;
}

export const HEX_LENGTH: Record<HashType, number> = { md5: 32, sha1: 40, sha256: 64 };

/** Character code → hex digit value, -1 for any other ASCII character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 16; digit++) {
  const text = digit.toString(16);
  HEX_VALUE[text.charCodeAt(0)] = HEX_VALUE[text.toUpperCase().charCodeAt(0)] = digit;
}

/**
 * Two ASCII character codes (`first << 7 | second`) → the byte their two hex digits make, or -256 when either is
 * not a hex digit: one table read per byte instead of two (a hash query is parsed once per lookup).
 */
const HEX_PAIR = new Int16Array(1 << 14).fill(-256);
for (let first = 0; first < 128; first++) {
  for (let second = 0; second < 128; second++) {
    if (HEX_VALUE[first]! >= 0 && HEX_VALUE[second]! >= 0) HEX_PAIR[(first << 7) | second] = (HEX_VALUE[first]! << 4) | HEX_VALUE[second]!;
  }
}

/** Hex text into 32-bit words (8 hex digits each); false unless it is `expectedLength` hex digits. */
export function parseHex(text: string, expectedLength: number, into: Uint32Array): boolean {
  if (text.length !== expectedLength) return false;
  // Checked once at the end, without a branch a digit: `codes` collects every character code (a non-ASCII one
  // would alias an ASCII pair in the table), `bytes` every byte (an invalid pair sets bit 15).
  let codes = 0;
  let bytes = 0;
  for (let w = 0, i = 0; i < expectedLength; w++, i += 8) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    const c4 = text.charCodeAt(i + 4);
    const c5 = text.charCodeAt(i + 5);
    const c6 = text.charCodeAt(i + 6);
    const c7 = text.charCodeAt(i + 7);
    codes |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7;
    const b0 = HEX_PAIR[((c0 << 7) | c1) & 0x3fff]!;
    const b1 = HEX_PAIR[((c2 << 7) | c3) & 0x3fff]!;
    const b2 = HEX_PAIR[((c4 << 7) | c5) & 0x3fff]!;
    const b3 = HEX_PAIR[((c6 << 7) | c7) & 0x3fff]!;
    bytes |= b0 | b1 | b2 | b3;
    into[w] = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
  }
  return codes < 0x80 && (bytes & 0x8000) === 0;
}

/**
 * Byte → the character codes of its two hex digits as one 16-bit unit laid out in memory as the two characters
 * (first digit first); bytes 0–255 give lower case, 256–511 upper case. Formatting a hash writes one unit a byte
 * and reads the text back with one native Latin-1 slice, in the case wanted: 160–200 ns for a SHA-256 here, where
 * Buffer's hex encoder took 270 ns and 410 with the `toUpperCase` that a Kaspersky hash context needs (it holds its
 * three hashes in upper case, as references to the hash keys).
 */
const HEX_DIGIT_PAIRS = new Uint16Array(512);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
for (let byte = 0; byte < 256; byte++) {
  const lower = byte.toString(16).padStart(2, '0');
  for (const [offset, digits] of [[0, lower], [256, lower.toUpperCase()]] as const) {
    const first = digits.charCodeAt(0);
    const second = digits.charCodeAt(1);
    HEX_DIGIT_PAIRS[offset + byte] = LITTLE_ENDIAN ? first | (second << 8) : (first << 8) | second;
  }
}
/** Formatting scratch: 32 bytes of hex (a SHA-256) at most. */
const MAX_FORMATTED_BYTES = 32;
const hexText = Buffer.alloc(2 * MAX_FORMATTED_BYTES);
const hexPairs = new Uint16Array(hexText.buffer, hexText.byteOffset, MAX_FORMATTED_BYTES);

/** Key `id` of a hash table as hex, in lower case or upper case. */
function keyHex(keys: WordTable, id: number, upperCase = false): string {
  const offset = upperCase ? 256 : 0;
  for (let w = 0, at = 0; w < keys.width; w++) {
    const word = keys.word(id, w);
    hexPairs[at++] = HEX_DIGIT_PAIRS[offset + (word >>> 24)]!;
    hexPairs[at++] = HEX_DIGIT_PAIRS[offset + ((word >>> 16) & 0xff)]!;
    hexPairs[at++] = HEX_DIGIT_PAIRS[offset + ((word >>> 8) & 0xff)]!;
    hexPairs[at++] = HEX_DIGIT_PAIRS[offset + (word & 0xff)]!;
  }
  return hexText.toString('latin1', 0, keys.width * 8);
}

/** `bytes[from .. to)` as hex, in lower case or upper case. */
export function bytesHex(bytes: Uint8Array, from: number, to: number, upperCase: boolean): string {
  if (to - from > MAX_FORMATTED_BYTES) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('hex');
    return upperCase ? text.toUpperCase() : text;
  }
  const offset = upperCase ? 256 : 0;
  for (let i = from, at = 0; i < to; i++) hexPairs[at++] = HEX_DIGIT_PAIRS[offset + bytes[i]!]!;
  return hexText.toString('latin1', 0, (to - from) * 2);
}

class HashTable {
  readonly keys: WordTable;
  readonly records: KeyedRecords;
  constructor(strings: FeedStrings, readonly type: HashType) {
    this.keys = new WordTable(HEX_LENGTH[type] / 8);
    this.records = new KeyedRecords(strings, (id) => keyHex(this.keys, id));
  }
}

const scratch = new Uint32Array(8);
const referenceScratch = new Uint32Array(8);
const TYPES: readonly HashType[] = ['md5', 'sha1', 'sha256'];

/**
 * The hashes of one feed. It also serves the feed's contexts as their `KeyReferences`: a context's MD5, SHA-1
 * or SHA-256 (a Kaspersky hash record repeats all three) is kept as a reference to the key, 4 bytes or so
 * instead of 17 to 33. A referenced hash that no record has as its indicator is a key without records: a
 * lookup of it finds no record.
 */
export class HashIndex implements KeyReferences {
  private readonly tables: Record<HashType, HashTable>;
  /** The tables in TYPES order: a reference's table is `byReferenceType[reference % 3]`. */
  private readonly byReferenceType: readonly HashTable[];
  /** Whether `reference` has given a reference, which contexts now hold. */
  private referenced = false;

  constructor(private readonly strings: FeedStrings) {
    this.tables = { md5: new HashTable(strings, 'md5'), sha1: new HashTable(strings, 'sha1'), sha256: new HashTable(strings, 'sha256') };
    this.byReferenceType = TYPES.map((type) => this.tables[type]);
  }

  get size(): number {
    return Object.values(this.tables).reduce((sum, t) => sum + t.records.size, 0);
  }

  get memoryBytes(): number {
    return Object.values(this.tables).reduce((sum, t) => sum + t.keys.memoryBytes + t.records.memoryBytes, 0);
  }

  add(type: HashType, indicator: string, category: string, context: ContextFields): string | undefined {
    const text = indicator.trim();
    if (!parseHex(text, HEX_LENGTH[type], scratch)) return `not a ${HEX_LENGTH[type]}-digit hex ${type.toUpperCase()}`;
    const table = this.tables[type];
    const id = table.keys.intern(scratch);
    // The key's rendering is the lower-case hex the text was parsed from.
    table.records.add(id, text.toLowerCase(), indicator, category, context);
    return undefined;
  }

  reference(hex: string): number {
    const type = hashTypeOfLength(hex.length);
    if (type === undefined || !parseHex(hex, hex.length, referenceScratch)) return -1;
    const keys = this.tables[type].keys;
    // Once frozen, only contexts are encoded again (recodeContexts), with hashes that are keys already.
    const id = keys.frozen ? keys.find(referenceScratch) : keys.intern(referenceScratch);
    if (id < 0) return -1;
    this.referenced = true;
    return id * 3 + TYPES.indexOf(type);
  }

  hex(reference: number, upperCase: boolean): string {
    return keyHex(this.byReferenceType[reference % 3]!.keys, Math.floor(reference / 3), upperCase);
  }

  /** Freezes the tables (new key ids), then has the contexts refer to the keys by their new ids. */
  finish(): void {
    const newIds = TYPES.map((type) => {
      const table = this.tables[type];
      const newId = table.keys.freeze();
      table.records.finish(table.keys.size, newId);
      return newId;
    });
    if (!this.referenced) return;
    this.strings.recodeContexts({
      reference: () => -1,
      hex: (encoded, upperCase) => this.hex(newIds[encoded % 3]![Math.floor(encoded / 3)]! * 3 + (encoded % 3), upperCase),
    });
  }

  /** `text` is the query hash, `words` as parsed by `parseHex`, `key` their `hashWords`. */
  collect(type: HashType, text: string, words: Uint32Array, key: number, feed: string, out: Match[]): void {
    const table = this.tables[type];
    const id = table.keys.find(words, key);
    // The key's rendering is the query's text in lower case (cheaper than formatting the words).
    if (id >= 0) table.records.emit(id, type, feed, out, text.toLowerCase());
  }
}

