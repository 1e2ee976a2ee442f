/**
 * The request line pattern, configured exactly like CyberTrace's lookup `pattern`
 * (`ip=%IP% md5=%MD5% sha1=%SHA1% sha256=%SHA256% url=%URL%`): one value fills its placeholder, the others
 * are left empty (the service's key-anchored regexes extract nothing from an empty key).
 */
import type { WireType } from './values.js';

export const DEFAULT_PATTERN = 'ip=%IP% md5=%MD5% sha1=%SHA1% sha256=%SHA256% url=%URL%';

const PLACEHOLDER: Record<WireType, string> = {
  ip: '%IP%', md5: '%MD5%', sha1: '%SHA1%', sha256: '%SHA256%', url: '%URL%', domain: '%DOMAIN%',
};
const PLACEHOLDERS = /%(IP|MD5|SHA1|SHA256|URL|DOMAIN)%/g;

export class PatternError extends Error {}

export class LinePattern {
  private readonly templates = new Map<WireType, [before: string, after: string]>();

  constructor(readonly source: string) {
    // CyberTrace's own setting ends in `\n`; the line end is ours to add.
    const text = source.replace(/(\\n|\r?\n)+$/, '');
    if (/[\x00-\x1f\x7f]/.test(text)) throw new PatternError('pattern must be one line without control characters');
    if (/X-KF-/i.test(text)) throw new PatternError('pattern must not contain an X-KF- flag');
    // The first line follows the flags directly, as CyberTrace's client sends it: `...X-KF-ReplyBackPING` is a ping.
    if (/^PING/i.test(text)) throw new PatternError('pattern must not start with PING (after the session flags it would read as X-KF-ReplyBackPING)');
    const blank = (s: string): string => s.replace(PLACEHOLDERS, '');
    for (const [type, ph] of Object.entries(PLACEHOLDER) as Array<[WireType, string]>) {
      const at = text.indexOf(ph);
      if (at < 0) continue;
      this.templates.set(type, [blank(text.slice(0, at)), blank(text.slice(at + ph.length))]);
    }
    if (this.templates.size === 0) throw new PatternError(`pattern has none of ${Object.values(PLACEHOLDER).join(' ')}: ${text}`);
  }

  /** The type a value is sent as: a domain goes as a URL when the pattern has no %DOMAIN%. */
  sendAs(type: WireType): WireType | undefined {
    if (this.templates.has(type)) return type;
    if (type === 'domain' && this.templates.has('url')) return 'url';
    return undefined;
  }

  has(type: WireType): boolean {
    return this.sendAs(type) !== undefined;
  }

  /** The line (without its `\n`) carrying `wire` as `type`; the caller checked `has(type)`. */
  render(type: WireType, wire: string): string {
    const as = this.sendAs(type)!;
    const [before, after] = this.templates.get(as)!;
    return before + (as !== type ? `http://${wire}` : wire) + after;
  }
}
