/**
 * A growable byte buffer for encoders.
 *
 * Writes append at the end; `reserve(n)` leaves a hole whose position can be patched later
 * (length fields known only after the body is written). `finish()` returns a view of what was
 * written, sharing memory with the writer: take it once, when the message is complete.
 */
import { LocalProtocolError } from './errors';

const textEncoder = new TextEncoder();

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** Number of bytes written so far. */
  length = 0;
  littleEndian: boolean;

  constructor(initialSize = 256, littleEndian = false) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
    this.view = new DataView(this.buf.buffer);
    this.littleEndian = littleEndian;
  }

  private grow(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  i8(v: number): this {
    return this.u8(v);
  }

  u16(v: number): this {
    this.grow(2);
    this.view.setUint16(this.length, v, this.littleEndian);
    this.length += 2;
    return this;
  }

  i16(v: number): this {
    this.grow(2);
    this.view.setInt16(this.length, v, this.littleEndian);
    this.length += 2;
    return this;
  }

  u24(v: number): this {
    this.grow(3);
    const p = this.length;
    if (this.littleEndian) {
      this.buf[p] = v & 0xff;
      this.buf[p + 1] = (v >>> 8) & 0xff;
      this.buf[p + 2] = (v >>> 16) & 0xff;
    } else {
      this.buf[p] = (v >>> 16) & 0xff;
      this.buf[p + 1] = (v >>> 8) & 0xff;
      this.buf[p + 2] = v & 0xff;
    }
    this.length += 3;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.view.setUint32(this.length, v >>> 0, this.littleEndian);
    this.length += 4;
    return this;
  }

  i32(v: number): this {
    this.grow(4);
    this.view.setInt32(this.length, v | 0, this.littleEndian);
    this.length += 4;
    return this;
  }

  u64(v: bigint): this {
    this.grow(8);
    this.view.setBigUint64(this.length, v, this.littleEndian);
    this.length += 8;
    return this;
  }

  i64(v: bigint): this {
    this.grow(8);
    this.view.setBigInt64(this.length, v, this.littleEndian);
    this.length += 8;
    return this;
  }

  f32(v: number): this {
    this.grow(4);
    this.view.setFloat32(this.length, v, this.littleEndian);
    this.length += 4;
    return this;
  }

  f64(v: number): this {
    this.grow(8);
    this.view.setFloat64(this.length, v, this.littleEndian);
    this.length += 8;
    return this;
  }

  /** Unsigned big-endian integer in exactly `n` octets (1..6). */
  uintN(v: number, n: number): this {
    if (n < 1 || n > 6 || v < 0 || v >= 2 ** (8 * n) || !Number.isInteger(v)) {
      throw new LocalProtocolError(`cannot encode ${v} as a ${n}-octet unsigned integer`);
    }
    this.grow(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.length + i] = v % 256;
      v = Math.floor(v / 256);
    }
    this.length += n;
    return this;
  }

  /** Signed two's-complement big-endian integer in exactly `n` octets (1..6). */
  intN(v: number, n: number): this {
    const span = 2 ** (8 * n);
    if (n < 1 || n > 6 || v < -span / 2 || v >= span / 2 || !Number.isInteger(v)) {
      throw new LocalProtocolError(`cannot encode ${v} as a ${n}-octet signed integer`);
    }
    return this.uintN(v < 0 ? v + span : v, n);
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** `n` zero bytes. */
  zeros(n: number): this {
    this.grow(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  /** Zero bytes up to the next multiple of `align`. */
  pad(align: number): this {
    const rem = this.length % align;
    return rem === 0 ? this : this.zeros(align - rem);
  }

  /** UTF-8 bytes of `s` (no length prefix, no terminator); returns the byte count. */
  utf8(s: string): number {
    // Worst case 3 bytes per UTF-16 unit.
    this.grow(s.length * 3);
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(this.length));
    this.length += written;
    return written;
  }

  /** Leave `n` bytes to fill in later; returns their position. */
  reserve(n: number): number {
    const at = this.length;
    this.zeros(n);
    return at;
  }

  patchU8(at: number, v: number): void {
    this.check(at, 1);
    this.buf[at] = v & 0xff;
  }

  patchU16(at: number, v: number): void {
    this.check(at, 2);
    this.view.setUint16(at, v, this.littleEndian);
  }

  patchU32(at: number, v: number): void {
    this.check(at, 4);
    this.view.setUint32(at, v >>> 0, this.littleEndian);
  }

  private check(at: number, n: number): void {
    if (at < 0 || at + n > this.length) throw new LocalProtocolError(`patch outside written bytes at ${at}`);
  }

  /** Forget what was written, keeping the allocation. */
  reset(): void {
    this.length = 0;
  }

  /** The bytes written so far (a view sharing memory with this writer). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the bytes written so far, as a Node Buffer ready for a socket. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

/** UTF-8 encode a string. */
export function encodeUtf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}
