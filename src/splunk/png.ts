/** PNG dimensions from the IHDR chunk (Splunk checks icon sizes; a wrong size fails AppInspect). */
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngSize(data: Buffer): { width: number; height: number } | undefined {
  // Signature, then the first chunk: length (4), type "IHDR" (4), width (4), height (4).
  if (data.length < 24 || !data.subarray(0, 8).equals(SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}
