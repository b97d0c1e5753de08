/**
 * Big-endian scalar access on plain byte arrays without creating a DataView per message (which
 * costs more than the message itself on hot paths). Floats go through one shared scratch buffer.
 */
const scratch = new ArrayBuffer(8);
const f64 = new Float64Array(scratch);
const f32 = new Float32Array(scratch);
const u8 = new Uint8Array(scratch);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

export function putF64(b: Uint8Array, o: number, v: number): void {
  f64[0] = v;
  if (LE) {
    b[o] = u8[7]!; b[o + 1] = u8[6]!; b[o + 2] = u8[5]!; b[o + 3] = u8[4]!;
    b[o + 4] = u8[3]!; b[o + 5] = u8[2]!; b[o + 6] = u8[1]!; b[o + 7] = u8[0]!;
  } else {
    for (let i = 0; i < 8; i++) b[o + i] = u8[i]!;
  }
}

export function putF32(b: Uint8Array, o: number, v: number): void {
  f32[0] = v;
  if (LE) {
    b[o] = u8[3]!; b[o + 1] = u8[2]!; b[o + 2] = u8[1]!; b[o + 3] = u8[0]!;
  } else {
    for (let i = 0; i < 4; i++) b[o + i] = u8[i]!;
  }
}

export function getU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function getI16(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >> 16) | b[o + 1]!;
}

export function getU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function getI32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

export function getF64(b: Uint8Array, o: number): number {
  if (LE) {
    u8[7] = b[o]!; u8[6] = b[o + 1]!; u8[5] = b[o + 2]!; u8[4] = b[o + 3]!;
    u8[3] = b[o + 4]!; u8[2] = b[o + 5]!; u8[1] = b[o + 6]!; u8[0] = b[o + 7]!;
  } else {
    for (let i = 0; i < 8; i++) u8[i] = b[o + i]!;
  }
  return f64[0]!;
}

export function getF32(b: Uint8Array, o: number): number {
  if (LE) {
    u8[3] = b[o]!; u8[2] = b[o + 1]!; u8[1] = b[o + 2]!; u8[0] = b[o + 3]!;
  } else {
    for (let i = 0; i < 4; i++) u8[i] = b[o + i]!;
  }
  return f32[0]!;
}
