/**
 * A bounds-checked cursor over a byte buffer.
 *
 * Every read checks that the bytes are present before touching them and throws a
 * `DecodeError` (field name + offset) otherwise, so a decoder written on top of it cannot read
 * past the end of a datagram or frame. Byte order is a property of the reader (big-endian by
 * default, as BACnet and Channel Access use; pvAccess sets it per connection).
 *
 * `bytes(n)` and `sub(n)` return views, not copies: callers that keep the data beyond the life
 * of the input buffer must copy it themselves.
 */
import { DecodeError } from './errors';

const textDecoder = new TextDecoder('utf-8', { fatal: false });
const latin1Decoder = new TextDecoder('latin1');

export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  /** Absolute index of the next byte to read. */
  pos: number;
  /** Absolute index one past the last readable byte. */
  readonly end: number;
  littleEndian: boolean;

  constructor(buf: Uint8Array, start = 0, end = buf.length, littleEndian = false) {
    if (start < 0 || end > buf.length || start > end) {
      throw new DecodeError('buffer', start, `invalid window ${start}..${end} of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
    this.littleEndian = littleEndian;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** True when every byte has been consumed. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Throw unless `n` more bytes are available. */
  need(n: number, field: string): void {
    if (n < 0 || !Number.isFinite(n)) throw new DecodeError(field, this.pos, `invalid length ${n}`);
    if (this.pos + n > this.end) {
      throw new DecodeError(field, this.pos, `needs ${n} byte(s), ${this.end - this.pos} left`);
    }
  }

  /** Throw unless the reader is exhausted (no trailing garbage). */
  expectEnd(field = 'message'): void {
    if (this.pos !== this.end) {
      throw new DecodeError(field, this.pos, `${this.end - this.pos} unexpected trailing byte(s)`);
    }
  }

  fail(field: string, message: string): never {
    throw new DecodeError(field, this.pos, message);
  }

  peekU8(field = 'u8'): number {
    this.need(1, field);
    return this.buf[this.pos]!;
  }

  u8(field = 'u8'): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  i8(field = 'i8'): number {
    this.need(1, field);
    return this.view.getInt8(this.pos++);
  }

  u16(field = 'u16'): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos, this.littleEndian);
    this.pos += 2;
    return v;
  }

  i16(field = 'i16'): number {
    this.need(2, field);
    const v = this.view.getInt16(this.pos, this.littleEndian);
    this.pos += 2;
    return v;
  }

  /** Unsigned 24-bit integer (BACnet uses 3-octet unsigned values). */
  u24(field = 'u24'): number {
    this.need(3, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 3;
    return this.littleEndian
      ? b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)
      : (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(field = 'u32'): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, this.littleEndian);
    this.pos += 4;
    return v;
  }

  i32(field = 'i32'): number {
    this.need(4, field);
    const v = this.view.getInt32(this.pos, this.littleEndian);
    this.pos += 4;
    return v;
  }

  u64(field = 'u64'): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos, this.littleEndian);
    this.pos += 8;
    return v;
  }

  i64(field = 'i64'): bigint {
    this.need(8, field);
    const v = this.view.getBigInt64(this.pos, this.littleEndian);
    this.pos += 8;
    return v;
  }

  f32(field = 'f32'): number {
    this.need(4, field);
    const v = this.view.getFloat32(this.pos, this.littleEndian);
    this.pos += 4;
    return v;
  }

  f64(field = 'f64'): number {
    this.need(8, field);
    const v = this.view.getFloat64(this.pos, this.littleEndian);
    this.pos += 8;
    return v;
  }

  /**
   * Unsigned big-endian integer of 1..6 octets (lengths BACnet and similar encodings use).
   * Exact up to 2^48; lengths 7 and 8 are accepted and exact up to 2^53.
   */
  uintN(n: number, field = 'uint'): number {
    if (n < 1 || n > 8) this.fail(field, `unsupported integer length ${n}`);
    this.need(n, field);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.pos + i]!;
    if (v > Number.MAX_SAFE_INTEGER) this.fail(field, 'integer exceeds 2^53');
    this.pos += n;
    return v;
  }

  /** Signed two's-complement big-endian integer of 1..6 octets. */
  intN(n: number, field = 'int'): number {
    if (n < 1 || n > 6) this.fail(field, `unsupported integer length ${n}`);
    const start = this.pos;
    const u = this.uintN(n, field);
    const signBit = this.buf[start]! & 0x80;
    return signBit ? u - 2 ** (8 * n) : u;
  }

  /** A view of the next `n` bytes (no copy). */
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next `n` bytes. */
  copy(n: number, field = 'bytes'): Uint8Array {
    return this.bytes(n, field).slice();
  }

  skip(n: number, field = 'skip'): void {
    this.need(n, field);
    this.pos += n;
  }

  /** A reader over the next `n` bytes; this reader advances past them. */
  sub(n: number, field = 'sub'): Reader {
    this.need(n, field);
    const r = new Reader(this.buf, this.pos, this.pos + n, this.littleEndian);
    this.pos += n;
    return r;
  }

  /** UTF-8 text of the next `n` bytes (invalid sequences become U+FFFD). */
  utf8(n: number, field = 'string'): string {
    return textDecoder.decode(this.bytes(n, field));
  }

  /** ISO 8859-1 text of the next `n` bytes. */
  latin1(n: number, field = 'string'): string {
    return latin1Decoder.decode(this.bytes(n, field));
  }

  /**
   * Text of a fixed-size, NUL-padded field of `n` bytes (the C `char[n]` of EPICS DBR types):
   * stops at the first NUL.
   */
  cString(n: number, field = 'string'): string {
    const b = this.bytes(n, field);
    let len = b.indexOf(0);
    if (len < 0) len = b.length;
    return textDecoder.decode(b.subarray(0, len));
  }
}

/** Decode UTF-8 bytes (shared decoder, invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}
