/** Test helpers: hex strings to bytes and back. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2) throw new Error(`odd hex length in ${s}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').replace(/(..)/g, '$1 ').trim();
}

/** ASCII bytes of `s` followed by NULs up to `size`. */
export function ascii(s: string, size: number): string {
  const b = new Uint8Array(size);
  b.set(Buffer.from(s, 'latin1'));
  return toHex(b);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}
