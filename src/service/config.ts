/**
 * The service's XML configuration: CyberTrace element names (InputSettings, OutputSettings, NotificationSettings)
 * plus a few Feedtrace elements (docs/service-config.md). Parsing validates everything up front: an invalid file
 * throws ServiceConfigError naming the element path, its line and the problem, so the service refuses to start
 * (or keeps the running config on reload) instead of failing later.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { FeedFieldMapping, FeedFormat, FeedSource } from '../feeds/load.js';
import type { FeedRole, IndicatorType, QueryType } from '../types.js';
import { DEFAULT_SERVICE_CONFIG_XML } from './default-config.js';
import { BoostRegexError, compileBoostRegex, compileReplacement, groupCount } from './regex.js';

export class ServiceConfigError extends Error {
  constructor(
    readonly file: string,
    /** Element path, e.g. `Settings/InputSettings/RegExps/Source[id=default]/RE_URL`. */
    readonly element: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${element ? `<${element}>: ` : ''}${problem}`);
    this.name = 'ServiceConfigError';
  }
}

export interface HostPort {
  host: string;
  port: number;
}

/** CyberTrace regex `type`. CONTEXT values are output-only (no lookup). */
export type RegexType = 'URL' | 'MD5' | 'SHA1' | 'SHA256' | 'HASH' | 'IP' | 'DOMAIN' | 'CONTEXT';

export const QUERY_TYPE_OF: Readonly<Record<RegexType, QueryType | null>> = {
  URL: 'url',
  MD5: 'md5',
  SHA1: 'sha1',
  SHA256: 'sha256',
  HASH: 'hash',
  IP: 'ip',
  DOMAIN: 'domain',
  CONTEXT: null,
};

export interface RegexRule {
  /** Element name: the rule's name and its `%Name%` output pattern. */
  name: string;
  type: RegexType;
  /** null for CONTEXT. */
  queryType: QueryType | null;
  extract: 'all' | 'first';
  /** The pattern as written (Boost/Perl). */
  pattern: string;
  /** Translated, with the `g` flag. Value: the first capture group that took part, else the whole match. */
  regex: RegExp;
  /** Element path and line, for messages. */
  where: string;
}

export type NormalizingRule =
  | { kind: 'replace'; pattern: string; input: RegExp; replacement: (match: string, ...groups: unknown[]) => string; where: string }
  | { kind: 'ignore'; pattern: string; input: RegExp; where: string };

/** Which connections (or events) a `Source` applies to. */
export type SourceSelector =
  | { kind: 'default' }
  /** An IP address or CIDR range, compared with the connection's address. */
  | { kind: 'network'; spec: string; network: Network }
  /** A host name or regex (5.0 style), matched whole and case-insensitively against the connection's address and the event's syslog HOSTNAME. */
  | { kind: 'name'; spec: string; pattern: RegExp };

export interface SourceRules {
  id: string;
  selector: SourceSelector;
  normalizing: NormalizingRule[];
  regexes: RegexRule[];
  where: string;
}

export interface Network {
  family: 4 | 6;
  /** Address as a bigint (IPv4: 32 bits, IPv6: 128 bits) and prefix length. */
  address: bigint;
  prefix: number;
}

export interface FinishedEventFormat {
  template: string;
  /** CyberTrace `enabled` (or `enable`): send finished events without the session flag. ReplyBack sessions with X-KF-SendFinishedEvent always get them. */
  enabled: boolean;
}

export interface OutputConfig {
  connection: HostPort;
  eventFormat: string;
  recordFieldContextFormat: string;
  actionableFieldContextFormat: string;
  /** Context field names rendered by `%ActionableFields%` (Feedtrace `ActionableFields`; empty = none). */
  actionableFields: string[];
  /** Absent → no alerts (CyberTrace rule). */
  alertFormat?: string;
  /** Absent → alerts go to `connection`. */
  alertConnection?: HostPort;
  finishedEventFormat: FinishedEventFormat;
  /** Feedtrace `OutputSettings > Tls`: the output (and alert) connection speaks TLS (Splunk `[tcp-ssl:...]` inputs). */
  tls?: OutputTls;
}

/** PEM texts read from the files a `Tls` element names (read when the config is loaded, so errors name the element). */
export interface ListenerTls {
  cert: string;
  key: string;
  /** Clients must present a certificate signed by this CA (mutual TLS). */
  clientCa?: string;
}

export interface OutputTls {
  /** Trusted CA for the receiver's certificate; Node's built-in CAs when absent. */
  ca?: string;
  /** Name the receiver's certificate must carry; the host of ConnectionString when absent. */
  serverName?: string;
  /** Client certificate, for inputs with requireClientCert. */
  cert?: string;
  key?: string;
}

export interface SpoolConfig {
  /** Absolute path (relative paths resolve against the config file's directory, or the working directory for the default config). */
  dir: string;
  maxBytes: number;
  memoryQueueEvents: number;
}

export interface ServiceFeed extends FeedSource {
  role: FeedRole;
  /** Hours after which a feed that has not been updated raises KL_ALERT_OutdatedFeed (0 = never). */
  outdatedAlertHours: number;
}

export interface ServiceConfig {
  /** The file the config came from, or `<default>`. */
  file: string;
  input: {
    listen: HostPort;
    eventDelimiter?: RegExp;
    maxLineBytes: number;
    maxConnections: number;
    /** 0 = never close idle connections. */
    idleTimeoutMs: number;
    /** Empty = every client may connect. */
    allowedClients: Network[];
    /** Feedtrace `InputSettings > Tls`: the listener speaks TLS only. */
    tls?: ListenerTls;
    /** `default` is always last; the others in document order. */
    sources: SourceRules[];
  };
  output: OutputConfig;
  notification: { retriesCount: number; retriesTimeoutMs: number };
  spool: SpoolConfig;
  statisticsIntervalMs: number;
  feeds: ServiceFeed[];
  /** CyberTrace `Feeds update_frequency` (minutes → ms; 0 = no scheduled re-read); absent when not given. */
  feedUpdateIntervalMs?: number;
  /** CyberTrace elements and attributes that are accepted but have no effect here (to log at start-up). */
  ignored: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// XML access with element paths and line numbers

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text and CDATA content, untrimmed. */
  text: string;
  path: string;
  line: number;
}

const METADATA = XMLParser.getMetaDataSymbol();

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function parseXml(xml: string, file: string): XmlElement {
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) throw new ServiceConfigError(file, '', valid.err.line, `not well-formed XML (column ${valid.err.col}): ${valid.err.msg}`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    captureMetaData: true,
    cdataPropName: '#cdata',
    commentPropName: '#comment',
    ignoreDeclaration: true,
    ignorePiTags: true,
    processEntities: true,
    htmlEntities: false,
  });
  const lineStarts: number[] = [0];
  for (let i = 0; i < xml.length; i++) if (xml.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (index: number | undefined): number => {
    if (index === undefined) return 0;
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(xml) as OrderedNode[];
  } catch (error) {
    // The validator passes a few malformed inputs (e.g. a broken <?xml ...?> declaration) that the parser refuses.
    throw new ServiceConfigError(file, '', undefined, `not well-formed XML: ${(error as Error).message}`);
  }
  const convert = (node: OrderedNode, parentPath: string): XmlElement | null => {
    const name = Object.keys(node).find((key) => key !== ':@');
    if (!name || name === '#text' || name === '#comment' || name === '#cdata') return null;
    const meta = (node as unknown as Record<symbol, { startIndex?: number } | undefined>)[METADATA as unknown as symbol];
    const attributes = { ...(node[':@'] ?? {}) };
    const element: XmlElement = {
      name,
      attributes,
      children: [],
      text: '',
      path: parentPath ? `${parentPath}/${name}` : name,
      line: lineOf(meta?.startIndex),
    };
    if (attributes.id !== undefined) element.path += `[id=${attributes.id}]`;
    for (const child of (node[name] as OrderedNode[] | undefined) ?? []) {
      if ('#text' in child) element.text += String(child['#text']);
      else if ('#cdata' in child) {
        for (const part of child['#cdata'] as OrderedNode[]) element.text += String(part['#text'] ?? '');
      } else {
        const converted = convert(child, element.path);
        if (converted) element.children.push(converted);
      }
    }
    return element;
  };
  const roots = nodes.map((node) => convert(node, '')).filter((e): e is XmlElement => e !== null);
  if (roots.length !== 1) throw new ServiceConfigError(file, '', undefined, `expected one root element, found ${roots.length}`);
  return roots[0]!;
}

/** Reads one element against its schema: known children and attributes only; single children at most once. */
class ElementReader {
  constructor(
    readonly file: string,
    readonly element: XmlElement,
  ) {}

  fail(problem: string, at: XmlElement = this.element): never {
    throw new ServiceConfigError(this.file, at.path, at.line || undefined, problem);
  }

  /** Rejects children and attributes not listed (the message names the unknown one and the expected ones). */
  only(children: string[], attributes: string[] = []): void {
    for (const child of this.element.children) {
      if (!children.includes(child.name)) {
        const hint = closest(child.name, children);
        this.fail(`unknown element <${child.name}>${hint ? ` (did you mean <${hint}>?)` : ''}; expected one of: ${children.join(', ') || '(none)'}`, child);
      }
    }
    for (const attribute of Object.keys(this.element.attributes)) {
      if (!attributes.includes(attribute)) {
        const hint = closest(attribute, attributes);
        this.fail(`unknown attribute "${attribute}"${hint ? ` (did you mean "${hint}"?)` : ''}${attributes.length ? `; expected: ${attributes.join(', ')}` : ''}`);
      }
    }
  }

  child(...names: string[]): XmlElement | undefined {
    const found = this.element.children.filter((c) => names.includes(c.name));
    if (found.length > 1) this.fail(`<${names[0]}> may appear only once`, found[1]);
    return found[0];
  }

  required(name: string): XmlElement {
    const found = this.child(name);
    if (!found) this.fail(`missing required element <${name}>`);
    return found;
  }

  text(name: string, ...aliases: string[]): string | undefined {
    const found = this.child(name, ...aliases);
    if (!found) return undefined;
    noChildren(this.file, found);
    return found.text.trim();
  }

  /** A whole-number element within [min, max] (out of range is an error, not clamped); `fallback` when absent or empty. */
  integer(name: string, fallback: number, min: number, max: number, aliases: string[] = []): number {
    const raw = this.text(name, ...aliases);
    if (raw === undefined || raw === '') return fallback;
    const at = this.child(name, ...aliases)!;
    if (!/^\d+$/.test(raw)) this.fail(`"${raw}" is not a whole number`, at);
    const value = Number(raw);
    if (value < min || value > max) this.fail(`${value} is out of range (${min}–${max})`, at);
    return value;
  }
}

function noChildren(file: string, element: XmlElement): void {
  if (element.children.length > 0) {
    const child = element.children[0]!;
    throw new ServiceConfigError(file, child.path, child.line || undefined, `<${element.name}> holds text, not elements`);
  }
}

/** The known name closest to a misspelled one (edit distance ≤ 2, case-insensitive), for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** `host:port`, `[ipv6]:port` or `ipv6:port` (last colon). The host is an IP address (CyberTrace: "four decimal octets"). */
export function parseHostPort(text: string): HostPort | string {
  if (text.startsWith('\\\\.\\pipe\\')) return 'Windows named pipes are not supported; use <ip>:<port>';
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^(.*):(\d+)$/.exec(text);
  const host = bracketed ? bracketed[1]! : plain?.[1];
  const portText = bracketed ? bracketed[2]! : plain?.[2];
  if (host === undefined || portText === undefined) return `"${text}" is not <ip>:<port>`;
  if (isIP(host) === 0 && host !== 'localhost') return `"${host}" is not an IP address`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port ${portText} is out of range (1–65535)`;
  return { host, port };
}

/** An IP address or CIDR range. */
export function parseNetwork(text: string): Network | undefined {
  const [addressText, prefixText, ...extra] = text.split('/');
  if (extra.length > 0 || addressText === undefined) return undefined;
  const family = isIP(addressText);
  if (family === 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  const address = ipToBigInt(addressText)!;
  return { family: family as 4 | 6, address: maskTo(address, prefix, bits), prefix };
}

function maskTo(address: bigint, prefix: number, bits: number): bigint {
  const hostBits = BigInt(bits - prefix);
  return (address >> hostBits) << hostBits;
}

/** IPv4 or IPv6 text → bigint; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is returned as IPv4. */
export function ipToBigInt(text: string): bigint | undefined {
  const family = isIP(text);
  if (family === 4) return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  if (family !== 6) return undefined;
  let hex = text.replace(/%.*$/, ''); // zone id
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(hex);
  if (v4) {
    const n = ipToBigInt(v4[1]!)!;
    hex = `${hex.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [left, right] = hex.includes('::') ? hex.split('::') : [hex, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Whether an address (IPv4, IPv6 or IPv4-mapped IPv6) lies in a network. */
export function networkContains(network: Network, ip: string): boolean {
  let family = isIP(ip);
  let text = ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) {
    text = mapped[1]!;
    family = 4;
  }
  if (family !== network.family) return false;
  const address = ipToBigInt(text);
  if (address === undefined) return false;
  return maskTo(address, network.prefix, family === 4 ? 32 : 128) === network.address;
}

/**
 * A template element's text: surrounding whitespace that contains a line break is dropped (pretty-printed XML),
 * plain leading spaces are kept (` %ParamName%=%ParamValue%` depends on its leading space).
 */
function templateText(reader: ElementReader, element: XmlElement): string {
  noChildren(reader.file, element);
  const text = element.text.replace(/^[ \t]*\r?\n\s*/, '').replace(/\s*\r?\n[ \t]*$/, '');
  if (/[\r\n]/.test(text)) reader.fail('a format must be a single line (output lines are LF-terminated)', element);
  return text;
}

function compileIn(reader: ElementReader, element: XmlElement, pattern: string, what: string, flags = ''): RegExp {
  try {
    return compileBoostRegex(pattern, flags);
  } catch (error) {
    if (error instanceof BoostRegexError) reader.fail(`${what} /${pattern}/: ${error.message}`, element);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sections

const REGEX_TYPES = new Set<RegexType>(['URL', 'MD5', 'SHA1', 'SHA256', 'HASH', 'IP', 'DOMAIN', 'CONTEXT']);
const SOURCE_ID = /^[A-Za-z0-9._-]+$/;
/** Sources CyberTrace Web uses for its lookup page (no TCP events reach them). */
const WEB_LOOKUP_SOURCES = new Set(['http_single_lookup', 'http_file_lookup']);
const REGEX_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Template patterns with a meaning of their own: a regex of that name could never show in the output. */
const RESERVED_PATTERNS = new Set([
  'Date', 'Category', 'MatchedIndicator', 'SourceId', 'RecordContext', 'ActionableFields', 'FeedName', 'IndicatorType',
  'MatchedValue', 'Alert', 'ParamName', 'ParamValue',
]);

function readSource(file: string, element: XmlElement, ignored: string[]): SourceRules {
  const reader: ElementReader = new ElementReader(file, element);
  for (const attribute of Object.keys(element.attributes)) {
    if (attribute !== 'id' && attribute !== 'ip') reader.fail(`unknown attribute "${attribute}"; expected: id, ip`);
  }
  const id = element.attributes.id;
  if (!id) reader.fail('missing attribute "id" (one Source must be id="default")');
  if (!SOURCE_ID.test(id)) reader.fail(`id "${id}" may contain only Latin letters, digits, "-", "." and "_"`);
  const ipSpec = element.attributes.ip?.trim();
  let selector: SourceSelector;
  if (id === 'default') {
    if (ipSpec) reader.fail('the default Source applies to every event and cannot have an "ip" attribute');
    selector = { kind: 'default' };
  } else if (WEB_LOOKUP_SOURCES.has(id)) {
    // CyberTrace Web's own lookup sources: checked like any source, never applied to TCP events.
    selector = { kind: 'default' };
  } else if (!ipSpec) {
    reader.fail(`Source "${id}" needs an "ip" attribute (an IP address, a CIDR range, or a host name / regex)`);
  } else {
    const network = parseNetwork(ipSpec);
    selector = network
      ? { kind: 'network', spec: ipSpec, network }
      : { kind: 'name', spec: ipSpec, pattern: wholeMatch(compileIn(reader, element, ipSpec, 'ip attribute', 'i')) };
  }

  const normalizing: NormalizingRule[] = [];
  const regexes: RegexRule[] = [];
  const names = new Set<string>();
  for (const child of element.children) {
    const at = `${child.path} (line ${child.line})`;
    if (child.name === 'NormalizingRules') {
      const rulesReader: ElementReader = new ElementReader(file, child);
      rulesReader.only(['Replace', 'Ignore']);
      for (const rule of child.children) {
        const ruleReader: ElementReader = new ElementReader(file, rule);
        const input = rule.attributes.input;
        if (rule.name === 'Replace') {
          ruleReader.only([], ['input', 'output']);
          if (input === undefined || input === '') ruleReader.fail('missing attribute "input" (a regex)');
          if (rule.attributes.output === undefined) ruleReader.fail('missing attribute "output" (the replacement; back-references \\1 allowed)');
          const regex = compileIn(ruleReader, rule, input, 'input regex', 'g');
          let replacement: (match: string, ...groups: unknown[]) => string;
          try {
            replacement = compileReplacement(rule.attributes.output, groupCount(regex));
          } catch (error) {
            if (error instanceof BoostRegexError) ruleReader.fail(`output "${rule.attributes.output}": ${error.message}`);
            throw error;
          }
          normalizing.push({ kind: 'replace', pattern: input, input: regex, replacement, where: `${rule.path} (line ${rule.line})` });
        } else {
          ruleReader.only([], ['input']);
          if (input === undefined || input === '') ruleReader.fail('missing attribute "input" (a regex)');
          normalizing.push({ kind: 'ignore', pattern: input, input: compileIn(ruleReader, rule, input, 'input regex'), where: `${rule.path} (line ${rule.line})` });
        }
      }
      continue;
    }
    const ruleReader: ElementReader = new ElementReader(file, child);
    // Anything else is a regex element; catch the mistakes that would otherwise read as an odd regex.
    if (child.name === 'Replace' || child.name === 'Ignore') ruleReader.fail(`<${child.name}> belongs inside <NormalizingRules>`);
    if (child.children.length > 0) {
      const hint = closest(child.name, ['NormalizingRules']);
      ruleReader.fail(`a regex element holds only its pattern${hint ? ` (did you mean <${hint}>?)` : ''}`);
    }
    ruleReader.only([], ['type', 'extract', 'concatenate', 'use_for_retroscan']);
    if (!REGEX_NAME.test(child.name)) ruleReader.fail('a regex name may contain only Latin letters, digits and "_"', child);
    if (RESERVED_PATTERNS.has(child.name)) ruleReader.fail(`${child.name} is an output pattern (%${child.name}%); give the regex another name`, child);
    if (names.has(child.name)) ruleReader.fail(`a second regex named ${child.name} in Source "${id}"`, child);
    names.add(child.name);
    const typeText = (child.attributes.type ?? 'CONTEXT').toUpperCase() as RegexType;
    if (!REGEX_TYPES.has(typeText)) ruleReader.fail(`type "${child.attributes.type}" is not one of ${[...REGEX_TYPES].join(', ')}`, child);
    const extract = (child.attributes.extract ?? 'first').toLowerCase();
    if (extract !== 'all' && extract !== 'first') ruleReader.fail(`extract "${child.attributes.extract}" is not "all" or "first"`, child);
    if (child.attributes.concatenate !== undefined) ignored.push(`${at}: attribute concatenate (its syntax is not documented; values are used as extracted)`);
    if (child.attributes.use_for_retroscan !== undefined) ignored.push(`${at}: attribute use_for_retroscan (no retroscan)`);
    noChildren(file, child);
    const pattern = child.text.trim();
    if (pattern === '') ruleReader.fail('empty regex', child);
    regexes.push({
      name: child.name,
      type: typeText,
      queryType: QUERY_TYPE_OF[typeText],
      extract,
      pattern,
      regex: compileIn(ruleReader, child, pattern, 'regex', 'g'),
      where: at,
    });
  }
  return { id, selector, normalizing, regexes, where: `${element.path} (line ${element.line})` };
}

/** Anchors a regex so it must match the whole string (host-name selectors). */
function wholeMatch(regex: RegExp): RegExp {
  return new RegExp(`^(?:${regex.source})$`, regex.flags);
}

function readInput(file: string, element: XmlElement, ignored: string[]): ServiceConfig['input'] {
  const reader: ElementReader = new ElementReader(file, element);
  reader.only(['ConnectionString', 'EventDelimiter', 'RegExps', 'MaxEventSize', 'MaxConnections', 'IdleTimeout', 'AllowedClients', 'Tls']);
  const listenText = reader.text('ConnectionString');
  if (!listenText) reader.fail('missing required element <ConnectionString> (e.g. 127.0.0.1:9999)');
  const listen = parseHostPort(listenText);
  if (typeof listen === 'string') reader.fail(listen, reader.child('ConnectionString'));
  const delimiterElement = reader.child('EventDelimiter');
  let eventDelimiter: RegExp | undefined;
  if (delimiterElement) {
    noChildren(file, delimiterElement);
    const pattern = delimiterElement.text.trim();
    if (pattern !== '') eventDelimiter = compileIn(reader, delimiterElement, pattern, 'EventDelimiter', 'g');
  }
  const allowedClients: Network[] = [];
  const allowedText = reader.text('AllowedClients') ?? '';
  for (const spec of allowedText.split(/[\s,;]+/).filter(Boolean)) {
    const network = parseNetwork(spec);
    if (!network) reader.fail(`"${spec}" is not an IP address or CIDR range`, reader.child('AllowedClients'));
    allowedClients.push(network);
  }

  const regExps = reader.required('RegExps');
  const regExpsReader: ElementReader = new ElementReader(file, regExps);
  regExpsReader.only(['Source']);
  const sources = regExps.children.map((source) => readSource(file, source, ignored));
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.id)) regExpsReader.fail(`two Sources with id "${source.id}"`);
    seen.add(source.id);
  }
  const defaultSource = sources.find((s) => s.id === 'default');
  if (!defaultSource) regExpsReader.fail('missing <Source id="default"> (it is mandatory)');
  for (const source of sources) if (WEB_LOOKUP_SOURCES.has(source.id)) ignored.push(`${source.where}: CyberTrace Web lookup source`);
  return {
    listen,
    eventDelimiter,
    maxLineBytes: reader.integer('MaxEventSize', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxConnections: reader.integer('MaxConnections', 64, 1, 100_000),
    idleTimeoutMs: reader.integer('IdleTimeout', 0, 0, 7 * 24 * 3600) * 1000,
    allowedClients,
    sources: [...sources.filter((s) => s !== defaultSource && !WEB_LOOKUP_SOURCES.has(s.id)), defaultSource],
  };
}

function readOutput(file: string, element: XmlElement, baseDir: string, ignored: string[]): { output: OutputConfig; spool: SpoolConfig } {
  const reader: ElementReader = new ElementReader(file, element);
  const formats = ['EventFormat', 'RecordFieldContextFormat', 'ActionableFieldContextFormat', 'FinishedEventFormat'];
  reader.only(['ConnectionString', ...formats, 'ActionableFields', 'AlertFormat', 'AlertConnectionString', 'SendEventFilters', 'EventSettings', 'Spool', 'Tls']);
  // 5.x moved some formats into OutputSettings > EventSettings: accept them there too, but not twice.
  const eventSettings = reader.child('EventSettings');
  const eventSettingsReader = eventSettings ? new ElementReader(file, eventSettings) : undefined;
  eventSettingsReader?.only([...formats, 'SendEventFilters']);
  const format = (name: string): XmlElement | undefined => {
    const direct = reader.child(name);
    const nested = eventSettingsReader?.child(name);
    if (direct && nested) reader.fail(`<${name}> is given both here and in <EventSettings>`, nested);
    return direct ?? nested;
  };
  const requiredFormat = (name: string): string => {
    const found = format(name);
    if (!found) reader.fail(`missing required element <${name}>`);
    const text = templateText(reader, found);
    if (text === '') reader.fail('empty format', found);
    return text;
  };

  const connectionText = reader.text('ConnectionString');
  if (!connectionText) reader.fail('missing required element <ConnectionString> (e.g. 127.0.0.1:9998)');
  const connection = parseHostPort(connectionText);
  if (typeof connection === 'string') reader.fail(connection, reader.child('ConnectionString'));

  const eventFormat = requiredFormat('EventFormat');
  const recordFieldContextFormat = requiredFormat('RecordFieldContextFormat');
  const actionableFieldContextFormat = requiredFormat('ActionableFieldContextFormat');
  for (const [name, text] of [['RecordFieldContextFormat', recordFieldContextFormat], ['ActionableFieldContextFormat', actionableFieldContextFormat]] as const) {
    if (!text.includes('%ParamValue%')) reader.fail('the field format must contain %ParamValue%', format(name));
  }
  const finishedElement = format('FinishedEventFormat');
  let finishedEventFormat: FinishedEventFormat = { template: '%Date% type=LookupFinished%RecordContext%', enabled: false };
  if (finishedElement) {
    const finishedReader: ElementReader = new ElementReader(file, finishedElement);
    finishedReader.only([], ['enabled', 'enable']);
    const flag = finishedElement.attributes.enabled ?? finishedElement.attributes.enable ?? 'false';
    if (flag !== 'true' && flag !== 'false') finishedReader.fail(`enabled="${flag}" must be "true" or "false"`);
    const template = templateText(reader, finishedElement);
    if (/matchedIndicator|eventName/.test(template)) {
      finishedReader.fail('a finished event must not contain "matchedIndicator" or "eventName" (clients would count it as a detection)');
    }
    finishedEventFormat = { template: template || finishedEventFormat.template, enabled: flag === 'true' };
  }

  const alertElement = reader.child('AlertFormat');
  const alertFormat = alertElement ? templateText(reader, alertElement) || undefined : undefined;
  const alertConnectionElement = reader.child('AlertConnectionString');
  let alertConnection: HostPort | undefined;
  if (alertConnectionElement) {
    const alertReader: ElementReader = new ElementReader(file, alertConnectionElement);
    alertReader.only([], ['enabled']);
    noChildren(file, alertConnectionElement);
    const enabled = alertConnectionElement.attributes.enabled ?? 'true';
    if (enabled !== 'true' && enabled !== 'false') alertReader.fail(`enabled="${enabled}" must be "true" or "false"`);
    const text = alertConnectionElement.text.trim();
    if (enabled === 'true' && text !== '') {
      const parsed = parseHostPort(text);
      if (typeof parsed === 'string') alertReader.fail(parsed);
      alertConnection = parsed;
    }
  }
  const filters = reader.child('SendEventFilters') ?? eventSettingsReader?.child('SendEventFilters');
  if (filters && filters.children.length > 0) ignored.push(`${filters.path} (line ${filters.line}): SendEventFilters (every detection is sent)`);

  const actionableFields = (reader.text('ActionableFields') ?? '').split(/[\s,]+/).filter(Boolean);

  const spoolElement = reader.child('Spool');
  const spoolReader = spoolElement ? new ElementReader(file, spoolElement) : undefined;
  spoolReader?.only(['Directory', 'MaxBytes', 'MemoryQueueEvents']);
  const spoolDir = spoolReader?.text('Directory') || 'spool';
  const spool: SpoolConfig = {
    dir: path.resolve(baseDir, spoolDir),
    maxBytes: spoolReader?.integer('MaxBytes', 256 * 1024 * 1024, 0, Number.MAX_SAFE_INTEGER) ?? 256 * 1024 * 1024,
    memoryQueueEvents: spoolReader?.integer('MemoryQueueEvents', 10_000, 1, 10_000_000) ?? 10_000,
  };

  return {
    output: {
      connection,
      eventFormat,
      recordFieldContextFormat,
      actionableFieldContextFormat,
      actionableFields,
      alertFormat,
      alertConnection,
      finishedEventFormat,
    },
    spool,
  };
}

/** The 5.1 example spells EventSendingRetriesTimeout with a Cyrillic "е" (U+0435) in "Retries"; accept both. */
const CYRILLIC_E = '\u0435';
const RETRIES_COUNT = 'EventSendingRetriesCount';
const RETRIES_TIMEOUT = 'EventSendingRetriesTimeout';
const cyrillicVariants = (name: string): string[] => {
  const variants = new Set<string>();
  for (let i = 0; i < name.length; i++) if (name[i] === 'e') variants.add(name.slice(0, i) + CYRILLIC_E + name.slice(i + 1));
  return [...variants];
};

function readNotification(file: string, element: XmlElement | undefined): { notification: ServiceConfig['notification']; statisticsIntervalMs: number } {
  if (!element) return { notification: { retriesCount: 3, retriesTimeoutMs: 10_000 }, statisticsIntervalMs: 60_000 };
  const reader: ElementReader = new ElementReader(file, element);
  reader.only(['EventSettings', 'StatisticsInterval']);
  const eventSettings = reader.child('EventSettings');
  let retriesCount = 3;
  let retriesTimeoutMs = 10_000;
  if (eventSettings) {
    const eventReader: ElementReader = new ElementReader(file, eventSettings);
    const countNames = [RETRIES_COUNT, ...cyrillicVariants(RETRIES_COUNT)];
    const timeoutNames = [RETRIES_TIMEOUT, ...cyrillicVariants(RETRIES_TIMEOUT)];
    eventReader.only([...countNames, ...timeoutNames]);
    retriesCount = eventReader.integer(RETRIES_COUNT, 3, 0, 10, countNames.slice(1));
    retriesTimeoutMs = eventReader.integer(RETRIES_TIMEOUT, 10, 1, 60, timeoutNames.slice(1)) * 1000;
  }
  return { notification: { retriesCount, retriesTimeoutMs }, statisticsIntervalMs: reader.integer('StatisticsInterval', 60, 1, 86_400) * 1000 };
}

const FEED_FORMATS = new Set<FeedFormat>(['kaspersky', 'urlhaus', 'feodo', 'ipsum', 'maltrail', 'tweetfeed', 'misp', 'stix', 'openioc', 'csv', 'json']);
const MAPPING_TYPES = new Set<IndicatorType | 'hash'>(['url', 'domain', 'ip', 'md5', 'sha1', 'sha256', 'hash']);
const ROLE_OF_ELEMENT: Record<string, FeedRole | undefined> = { Feed: undefined, WhiteList: 'allow', BlackList: 'block' };

/** A whole number of hours (or minutes) in an attribute. */
function wholeAttribute(reader: ElementReader, name: string, unit: string): number | undefined {
  const text = reader.element.attributes[name];
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) reader.fail(`${name}="${text}" is not a whole number of ${unit}`);
  return Number(text);
}

/** CyberTrace 4.x `ServiceSettings`: where feed files live and the default outdated-feed period. */
interface ServiceSettings {
  basesDir?: string;
  outdatedAlertHours?: number;
}

function readServiceSettings(file: string, element: XmlElement | undefined, baseDir: string, ignored: string[]): ServiceSettings {
  if (!element) return {};
  const reader: ElementReader = new ElementReader(file, element);
  const settings: ServiceSettings = {};
  // Only these two matter here; CyberTrace keeps many service-internal settings in this element.
  for (const child of element.children) {
    if (child.name !== 'Bases' && child.name !== 'OutdatedBasesAlertPeriod') ignored.push(`${child.path} (line ${child.line})`);
  }
  const bases = reader.text('Bases');
  if (bases) settings.basesDir = path.resolve(baseDir, bases);
  if (reader.child('OutdatedBasesAlertPeriod')) settings.outdatedAlertHours = reader.integer('OutdatedBasesAlertPeriod', 0, 0, 1_000_000);
  return settings;
}

function readFeeds(file: string, element: XmlElement | undefined, baseDir: string, service: ServiceSettings, ignored: string[]): { feeds: ServiceFeed[]; updateIntervalMs?: number } {
  if (!element) return { feeds: [] };
  const reader: ElementReader = new ElementReader(file, element);
  reader.only(['Feed', 'WhiteList', 'BlackList'], ['outdatedAlertPeriod', 'update_frequency', 'per_scan_detect_limit']);
  const globalOutdated = wholeAttribute(reader, 'outdatedAlertPeriod', 'hours') ?? service.outdatedAlertHours ?? 48;
  const updateMinutes = wholeAttribute(reader, 'update_frequency', 'minutes');
  if (element.attributes.per_scan_detect_limit !== undefined) ignored.push(`${element.path} (line ${element.line}): attribute per_scan_detect_limit`);
  const names = new Set<string>();
  const feeds: ServiceFeed[] = [];
  for (const feedElement of element.children) {
    const feedReader: ElementReader = new ElementReader(file, feedElement);
    const fixedRole = ROLE_OF_ELEMENT[feedElement.name];
    feedReader.only(['Field'], [
      'path', 'format', 'name', 'domainSuffix', 'outdatedAlertPeriod', ...(fixedRole ? [] : ['role']),
      // CyberTrace 4.x Feed attributes.
      'filename', 'enabled', 'confidence', 'outdated_alert_period', 'indicator_lifetime',
    ]);
    const a = feedElement.attributes;
    if (a.path !== undefined && a.filename !== undefined) feedReader.fail('give either "path" or CyberTrace\'s "filename", not both');
    const where = a.path ?? a.filename;
    if (!where) feedReader.fail('missing attribute "path" (or CyberTrace\'s "filename")');
    if (a.enabled !== undefined && a.enabled !== 'true' && a.enabled !== 'false') feedReader.fail(`enabled="${a.enabled}" must be "true" or "false"`);
    if (a.outdatedAlertPeriod !== undefined && a.outdated_alert_period !== undefined) feedReader.fail('give either "outdatedAlertPeriod" or "outdated_alert_period", not both');
    const outdated = wholeAttribute(feedReader, 'outdatedAlertPeriod', 'hours') ?? wholeAttribute(feedReader, 'outdated_alert_period', 'hours');
    for (const attribute of ['confidence', 'indicator_lifetime']) {
      if (a[attribute] !== undefined) ignored.push(`${feedElement.path} (line ${feedElement.line}): attribute ${attribute}`);
    }
    // CyberTrace resolves a feed's filename in ServiceSettings > Bases.
    const feedDir = a.filename !== undefined && service.basesDir ? service.basesDir : baseDir;
    const feed: ServiceFeed = { path: path.resolve(feedDir, where), role: fixedRole ?? 'feed', outdatedAlertHours: outdated ?? globalOutdated };
    if (a.role !== undefined) {
      if (a.role !== 'feed' && a.role !== 'allow' && a.role !== 'block') feedReader.fail(`role "${a.role}" is not feed, allow or block`);
      feed.role = a.role;
    }
    if (a.format !== undefined) {
      if (!FEED_FORMATS.has(a.format as FeedFormat)) feedReader.fail(`format "${a.format}" is not one of ${[...FEED_FORMATS].join(', ')}`);
      feed.format = a.format as FeedFormat;
    }
    if (a.name !== undefined) {
      if (a.name.trim() === '') feedReader.fail('empty attribute "name"');
      feed.name = a.name;
    }
    if (a.domainSuffix !== undefined) {
      if (a.domainSuffix !== 'true' && a.domainSuffix !== 'false') feedReader.fail(`domainSuffix="${a.domainSuffix}" must be "true" or "false"`);
      feed.domainSuffix = a.domainSuffix === 'true';
    }
    const mapping: FeedFieldMapping[] = feedElement.children.map((field) => {
      const fieldReader: ElementReader = new ElementReader(file, field);
      fieldReader.only([], ['name', 'type', 'category']);
      const { name, type, category } = field.attributes;
      if (!name) fieldReader.fail('missing attribute "name" (the CSV column or JSON field path)');
      if (!type || !MAPPING_TYPES.has(type.toLowerCase() as IndicatorType)) fieldReader.fail(`type "${type ?? ''}" is not one of ${[...MAPPING_TYPES].join(', ')}`);
      if (!category) fieldReader.fail('missing attribute "category" (e.g. KL_Malicious_URL)');
      return { field: name, type: type.toLowerCase() as IndicatorType | 'hash', category };
    });
    if (mapping.length > 0) feed.mapping = mapping;
    if ((feed.format === 'csv' || feed.format === 'json') && !feed.mapping) feedReader.fail(`a ${feed.format} feed needs <Field name="..." type="..." category="..."/> children`);
    if (a.enabled === 'false') {
      ignored.push(`${feedElement.path} (line ${feedElement.line}): ${where} (enabled="false")`);
      continue;
    }
    const effectiveName = feed.name ?? path.basename(feed.path).replace(/\.[^.]*$/, '');
    if (names.has(effectiveName)) feedReader.fail(`a second feed named "${effectiveName}" (set a distinct name="...")`);
    names.add(effectiveName);
    feeds.push(feed);
  }
  return { feeds, updateIntervalMs: updateMinutes === undefined ? undefined : updateMinutes * 60_000 };
}

/**
 * Feedtrace `Tls` inside InputSettings (CertificateFile and KeyFile required, ClientCAFile optional) or
 * OutputSettings (`enabled`; CAFile, ServerName, CertificateFile + KeyFile optional). Paths are relative to the
 * config file; the PEM files are read here so a missing or unreadable one is a config error naming the element.
 */
function readTls(file: string, parent: XmlElement, baseDir: string, kind: 'listener' | 'output'): ListenerTls | OutputTls | undefined {
  const element = new ElementReader(file, parent).child('Tls');
  if (!element) return undefined;
  const reader: ElementReader = new ElementReader(file, element);
  const pem = (name: string): string | undefined => {
    const text = reader.text(name);
    if (text === undefined) return undefined;
    if (text === '') reader.fail('empty file name', reader.child(name));
    const full = path.resolve(baseDir, text);
    let content: string;
    try {
      content = readFileSync(full, 'utf8');
    } catch (error) {
      reader.fail(`cannot read ${full}: ${(error as Error).message}`, reader.child(name));
    }
    if (!content.includes('-----BEGIN ')) reader.fail(`${full} is not a PEM file`, reader.child(name));
    return content;
  };
  if (kind === 'listener') {
    reader.only(['CertificateFile', 'KeyFile', 'ClientCAFile']);
    const cert = pem('CertificateFile');
    const key = pem('KeyFile');
    if (cert === undefined || key === undefined) reader.fail('a TLS listener needs <CertificateFile> and <KeyFile> (PEM)');
    const clientCa = pem('ClientCAFile');
    return clientCa === undefined ? { cert, key } : { cert, key, clientCa };
  }
  reader.only(['CAFile', 'ServerName', 'CertificateFile', 'KeyFile'], ['enabled']);
  const enabled = element.attributes.enabled ?? 'true';
  if (enabled !== 'true' && enabled !== 'false') reader.fail(`enabled="${enabled}" must be "true" or "false"`);
  const tls: OutputTls = {};
  const ca = pem('CAFile');
  if (ca !== undefined) tls.ca = ca;
  const serverName = reader.text('ServerName');
  if (serverName) tls.serverName = serverName;
  const cert = pem('CertificateFile');
  const key = pem('KeyFile');
  if ((cert === undefined) !== (key === undefined)) reader.fail('a client certificate needs both <CertificateFile> and <KeyFile>');
  if (cert !== undefined) Object.assign(tls, { cert, key });
  return enabled === 'true' ? tls : undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Parses and validates a service config. `file` names the source in messages and anchors relative paths
 * (spool directory, feed paths); for `<default>` they resolve against the working directory.
 */
export function parseServiceConfig(xml: string, file: string): ServiceConfig {
  const root = parseXml(xml.replace(/^\uFEFF/, ''), file);
  const reader: ElementReader = new ElementReader(file, root);
  if (root.name === 'Domains' || root.children.some((c) => c.name === 'Domains')) {
    reader.fail('CyberTrace 5.x <Domains> (tenants) are not supported: put InputSettings and OutputSettings directly under the root element');
  }
  reader.only(['EULA', 'InputSettings', 'OutputSettings', 'NotificationSettings', 'ScanSettings', 'LookupSettings', 'ServiceSettings', 'Feeds']);
  const ignored: string[] = [];
  for (const name of ['EULA', 'LookupSettings']) {
    const element = reader.child(name);
    if (element) ignored.push(`${element.path} (line ${element.line})`);
  }
  const baseDir = file === '<default>' ? process.cwd() : path.dirname(path.resolve(file));
  const input = readInput(file, reader.required('InputSettings'), ignored);
  const inputTls = readTls(file, reader.required('InputSettings'), baseDir, 'listener');
  if (inputTls) input.tls = inputTls as ListenerTls;
  // CyberTrace ScanSettings: one scanner per connection, so ScannersCount bounds connections when MaxConnections is absent.
  const scan = reader.child('ScanSettings');
  if (scan) {
    const scanReader: ElementReader = new ElementReader(file, scan);
    scanReader.only(['ScannersCount', 'ScanningThreadsPerScanner', 'EPSLimit']);
    const hasMaxConnections = root.children.find((c) => c.name === 'InputSettings')!.children.some((c) => c.name === 'MaxConnections');
    const scanners = scanReader.integer('ScannersCount', input.maxConnections, 1, 100_000);
    if (!hasMaxConnections) input.maxConnections = scanners;
    for (const name of ['ScanningThreadsPerScanner', 'EPSLimit']) {
      const element = scanReader.child(name);
      if (element) ignored.push(`${element.path} (line ${element.line})`);
    }
  }
  const { output, spool } = readOutput(file, reader.required('OutputSettings'), baseDir, ignored);
  const outputTls = readTls(file, reader.required('OutputSettings'), baseDir, 'output');
  if (outputTls) output.tls = outputTls;
  const { notification, statisticsIntervalMs } = readNotification(file, reader.child('NotificationSettings'));
  const service = readServiceSettings(file, reader.child('ServiceSettings'), baseDir, ignored);
  const { feeds, updateIntervalMs } = readFeeds(file, reader.child('Feeds'), baseDir, service, ignored);
  return { file, input, output, notification, spool, statisticsIntervalMs, feeds, feedUpdateIntervalMs: updateIntervalMs, ignored };
}

/** Reads a config file, or the shipped default when no path is given. */
export function loadServiceConfig(file?: string): ServiceConfig {
  if (file === undefined) return parseServiceConfig(DEFAULT_SERVICE_CONFIG_XML, '<default>');
  let xml: string;
  try {
    xml = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ServiceConfigError(file, '', undefined, `cannot read the config: ${(error as Error).message}`);
  }
  return parseServiceConfig(xml, file);
}
