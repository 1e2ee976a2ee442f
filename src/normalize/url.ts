/** Kaspersky URL normalization (placeholder until the normalization work lands). */
export type UrlNormalization = { ok: true; url: string } | { ok: false; reason: string };

export function normalizeUrl(raw: string): UrlNormalization {
  return { ok: false, reason: `not implemented: ${raw.length}` };
}
