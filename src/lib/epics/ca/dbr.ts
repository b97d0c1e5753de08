/**
 * DBR payloads: the typed values (with optional status, time, display and control metadata)
 * that READ_NOTIFY, WRITE, WRITE_NOTIFY and EVENT_ADD carry.
 *
 * Layout per type: `valueOffset` bytes of metadata (padding between the metadata and the value
 * included), then `count` elements of `elementSize` bytes. The offsets follow the C structs of
 * `db_access.h` (where the spec's table leaves `?` or disagrees, e.g. GR_FLOAT, the C layout is
 * what RSRV and libca put on the wire):
 *
 * | family | STRING | SHORT | FLOAT | ENUM | CHAR | LONG | DOUBLE |
 * |--------|-------:|------:|------:|-----:|-----:|-----:|-------:|
 * | plain  |      0 |     0 |     0 |    0 |    0 |    0 |      0 |
 * | STS    |      4 |     4 |     4 |    4 |    5 |    4 |      8 |
 * | TIME   |     12 |    14 |    12 |   14 |   15 |   12 |     16 |
 * | GR     |      4 |    24 |    40 |  422 |   19 |   36 |     64 |
 * | CTRL   |      4 |    28 |    48 |  422 |   21 |   44 |     80 |
 *
 * Special: PUT_ACKT, PUT_ACKS (u16, no metadata), STSACK_STRING (status, severity, ackt, acks:
 * 8 bytes, then a string), CLASS_NAME (a string). Element sizes: STRING 40, SHORT 2, FLOAT 4,
 * ENUM 2, CHAR 1, LONG 4, DOUBLE 8. The value offsets keep every element aligned to its size
 * relative to the start of the message (headers are 16 or 24 bytes), which is what lets a large
 * array be byte-swapped in place.
 *
 * Arrays decode into typed arrays in one pass: numeric data is copied once into an aligned
 * buffer and byte-swapped there natively (Buffer.swap16/32/64), or, when the caller owns the
 * payload bytes (a frame copied out of several TCP chunks), swapped in place with no copy at all.
 */
import { DecodeError, LocalProtocolError } from '../../wire/errors';
import { MAX_ENUM_STATES, MAX_ENUM_STRING_SIZE, MAX_STRING_SIZE, MAX_UNITS_SIZE } from './constants';
import type { EpicsTime } from './time';
import { pad8 } from './header';
import { putU16, putU32, putF32, putF64, getU16, getI16, getU32, getI32, getF32, getF64 } from './bytes';


/** DBR type identifiers (`db_access.h`). `INT` is an alias of `SHORT`. */
export const DBR = {
  STRING: 0, SHORT: 1, INT: 1, FLOAT: 2, ENUM: 3, CHAR: 4, LONG: 5, DOUBLE: 6,
  STS_STRING: 7, STS_SHORT: 8, STS_INT: 8, STS_FLOAT: 9, STS_ENUM: 10, STS_CHAR: 11, STS_LONG: 12, STS_DOUBLE: 13,
  TIME_STRING: 14, TIME_SHORT: 15, TIME_INT: 15, TIME_FLOAT: 16, TIME_ENUM: 17, TIME_CHAR: 18, TIME_LONG: 19, TIME_DOUBLE: 20,
  GR_STRING: 21, GR_SHORT: 22, GR_INT: 22, GR_FLOAT: 23, GR_ENUM: 24, GR_CHAR: 25, GR_LONG: 26, GR_DOUBLE: 27,
  CTRL_STRING: 28, CTRL_SHORT: 29, CTRL_INT: 29, CTRL_FLOAT: 30, CTRL_ENUM: 31, CTRL_CHAR: 32, CTRL_LONG: 33, CTRL_DOUBLE: 34,
  PUT_ACKT: 35, PUT_ACKS: 36, STSACK_STRING: 37, CLASS_NAME: 38,
} as const;
/** Highest defined DBR type. */
export const LAST_DBR_TYPE = 38;

/** The seven native (field) types: the plain DBR ids 0..6. */
export type NativeType = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const nativeTypeNames = ['STRING', 'SHORT', 'FLOAT', 'ENUM', 'CHAR', 'LONG', 'DOUBLE'] as const;
export type NativeTypeName = (typeof nativeTypeNames)[number];

export type DbrFamily = 'plain' | 'sts' | 'time' | 'gr' | 'ctrl' | 'put_ackt' | 'put_acks' | 'stsack' | 'class_name';
/** How one element is stored on the wire. */
export type ElementKind = 'string' | 'i16' | 'f32' | 'u16' | 'u8' | 'i32' | 'f64';

export interface DbrLayout {
  type: number;
  name: string;
  family: DbrFamily;
  /** The plain type whose element encoding this type's value uses. */
  native: NativeType;
  elem: ElementKind;
  /** Metadata bytes before the first element (padding included). */
  valueOffset: number;
  elementSize: number;
}

const ELEM: Record<NativeType, ElementKind> = { 0: 'string', 1: 'i16', 2: 'f32', 3: 'u16', 4: 'u8', 5: 'i32', 6: 'f64' };
const ELEM_SIZE: Record<ElementKind, number> = { string: MAX_STRING_SIZE, i16: 2, f32: 4, u16: 2, u8: 1, i32: 4, f64: 8 };
// Value offsets per family, indexed by native type (STRING, SHORT, FLOAT, ENUM, CHAR, LONG, DOUBLE).
const OFFSETS: Record<'plain' | 'sts' | 'time' | 'gr' | 'ctrl', readonly number[]> = {
  plain: [0, 0, 0, 0, 0, 0, 0],
  sts: [4, 4, 4, 4, 5, 4, 8],
  time: [12, 14, 12, 14, 15, 12, 16],
  gr: [4, 24, 40, 422, 19, 36, 64],
  ctrl: [4, 28, 48, 422, 21, 44, 80],
};
const FAMILY_NAMES = { plain: '', sts: 'STS_', time: 'TIME_', gr: 'GR_', ctrl: 'CTRL_' } as const;

const layouts: DbrLayout[] = [];
(['plain', 'sts', 'time', 'gr', 'ctrl'] as const).forEach((family, fi) => {
  for (let n = 0; n < 7; n++) {
    const native = n as NativeType;
    const elem = ELEM[native];
    layouts.push({
      type: fi * 7 + n,
      name: `DBR_${FAMILY_NAMES[family]}${nativeTypeNames[native]}`,
      family,
      native,
      elem,
      valueOffset: OFFSETS[family][n]!,
      elementSize: ELEM_SIZE[elem],
    });
  }
});
layouts.push(
  { type: 35, name: 'DBR_PUT_ACKT', family: 'put_ackt', native: 3, elem: 'u16', valueOffset: 0, elementSize: 2 },
  { type: 36, name: 'DBR_PUT_ACKS', family: 'put_acks', native: 3, elem: 'u16', valueOffset: 0, elementSize: 2 },
  { type: 37, name: 'DBR_STSACK_STRING', family: 'stsack', native: 0, elem: 'string', valueOffset: 8, elementSize: 40 },
  { type: 38, name: 'DBR_CLASS_NAME', family: 'class_name', native: 0, elem: 'string', valueOffset: 0, elementSize: 40 },
);

/** Layout of a DBR type, or undefined for an unknown type. */
export function dbrLayout(type: number): DbrLayout | undefined {
  return layouts[type];
}

export function isValidDbrType(type: number): boolean {
  return Number.isInteger(type) && type >= 0 && type <= LAST_DBR_TYPE;
}

/** 'DBR_TIME_DOUBLE' for 20; 'DBR_<n>' for unknown ids. */
export function dbrName(type: number): string {
  return layouts[type]?.name ?? `DBR_${type}`;
}

/** The DBR id of a family and native type: `dbrType('time', DBR.DOUBLE) === DBR.TIME_DOUBLE`. */
export function dbrType(family: 'plain' | 'sts' | 'time' | 'gr' | 'ctrl', native: NativeType): number {
  const fi = { plain: 0, sts: 1, time: 2, gr: 3, ctrl: 4 }[family];
  return fi * 7 + native;
}

/** Parse a DBR type given as a number, 'DBR_TIME_DOUBLE', 'TIME_DOUBLE' or 'time_double'. */
export function parseDbrType(v: unknown): number | undefined {
  if (typeof v === 'number') return isValidDbrType(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toUpperCase();
  if (/^\d+$/.test(s)) return parseDbrType(Number(s));
  const key = (s.startsWith('DBR_') ? s.slice(4) : s) as keyof typeof DBR;
  return Object.prototype.hasOwnProperty.call(DBR, key) ? DBR[key] : undefined;
}

/** Parse a native type name ('DOUBLE', 'double', 'DBR_DOUBLE', 'INT', 6). */
export function parseNativeType(v: unknown): NativeType | undefined {
  const t = parseDbrType(v);
  return t !== undefined && t <= 6 ? (t as NativeType) : undefined;
}

/** Payload bytes of a DBR value before padding: metadata + count elements. */
export function dbrSize(type: number, count: number): number {
  const l = layouts[type];
  if (!l) throw new LocalProtocolError(`unknown DBR type ${type}`);
  return l.valueOffset + l.elementSize * count;
}

/** Payload size with padding to a multiple of 8. */
export function dbrPaddedSize(type: number, count: number): number {
  return pad8(dbrSize(type, count));
}

export type DbrArray = string[] | Int16Array | Float32Array | Uint16Array | Uint8Array | Int32Array | Float64Array;

export interface Range {
  low: number;
  high: number;
}

/** Display, alarm and warning limits (GR, CTRL) and control limits (CTRL). */
export interface DbrLimits {
  display: Range;
  alarm: Range;
  warning: Range;
  control?: Range;
}

/** Metadata a DBR payload can carry, by family. */
export interface DbrMeta {
  /** Alarm status (STS and richer). */
  status?: number;
  /** Alarm severity (STS and richer). */
  severity?: number;
  /** TIME family. */
  stamp?: EpicsTime;
  /** GR/CTRL of numeric types. */
  units?: string;
  /** GR/CTRL of FLOAT and DOUBLE. */
  precision?: number;
  /** GR/CTRL of numeric types (control only in CTRL). */
  limits?: DbrLimits;
  /** GR/CTRL_ENUM. */
  enumStrings?: string[];
  /** STSACK_STRING: acknowledge transient, acknowledge severity. */
  ackt?: number;
  acks?: number;
}

/** A decoded DBR payload. `value` has exactly `count` elements. */
export interface DbrValue extends DbrMeta {
  dataType: number;
  count: number;
  value: DbrArray;
}

/** What the encoder accepts: any numeric array-like or string array; metadata defaults to zeros. */
export interface DbrInput extends DbrMeta {
  value: ArrayLike<number> | readonly string[];
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Threshold (elements) above which typed-array fast paths (memcpy + native swap) are used. */
const FAST_PATH_MIN = 24;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Write `s` as UTF-8 into a fixed field of `size` bytes (at most size-1 bytes of text, then NULs). */
export function writeFixedString(buf: Uint8Array, off: number, size: number, s: string): void {
  const field = buf.subarray(off, off + size);
  const { written } = textEncoder.encodeInto(s, field.subarray(0, size - 1));
  field.fill(0, written);
}

/** Text of a fixed NUL-padded field (stops at the first NUL or the field end). */
export function readFixedString(buf: Uint8Array, off: number, size: number): string {
  const end = Math.min(off + size, buf.length);
  let i = off;
  while (i < end && buf[i] !== 0) i++;
  if (i === off) return '';
  // ASCII fast path: most PV strings are plain ASCII.
  let ascii = true;
  for (let k = off; k < i; k++) if (buf[k]! > 0x7f) { ascii = false; break; }
  if (ascii && i - off < 64) return String.fromCharCode.apply(null, buf.subarray(off, i) as unknown as number[]);
  return textDecoder.decode(buf.subarray(off, i));
}

type TypedNumeric = Int16Array | Float32Array | Uint16Array | Uint8Array | Int32Array | Float64Array;

function matchesKind(v: unknown, kind: ElementKind): v is TypedNumeric {
  switch (kind) {
    case 'i16': return v instanceof Int16Array;
    case 'f32': return v instanceof Float32Array;
    case 'u16': return v instanceof Uint16Array;
    case 'u8': return v instanceof Uint8Array;
    case 'i32': return v instanceof Int32Array;
    case 'f64': return v instanceof Float64Array;
    default: return false;
  }
}

function swapInPlace(buf: Uint8Array, off: number, bytes: number, size: number): void {
  if (!littleEndianHost || size === 1 || bytes === 0) return;
  const b = Buffer.from(buf.buffer, buf.byteOffset + off, bytes);
  if (size === 2) b.swap16();
  else if (size === 4) b.swap32();
  else b.swap64();
}

function toNumber(x: unknown): number {
  return typeof x === 'number' ? x : Number(x);
}

/** Write `count` elements of `kind` at `off`; missing source elements become zero. */
function writeElements(buf: Uint8Array, off: number, kind: ElementKind, count: number, src: ArrayLike<number> | readonly string[]): void {
  if (kind === 'string') {
    for (let i = 0; i < count; i++) {
      const s = i < src.length ? src[i] : '';
      writeFixedString(buf, off + i * MAX_STRING_SIZE, MAX_STRING_SIZE, typeof s === 'string' ? s : String(s));
    }
    return;
  }
  const size = ELEM_SIZE[kind];
  const n = Math.min(count, src.length);
  if (n >= FAST_PATH_MIN && matchesKind(src, kind)) {
    buf.set(new Uint8Array(src.buffer, src.byteOffset, n * size), off);
    swapInPlace(buf, off, n * size, size);
  } else {
    switch (kind) {
      case 'i16':
      case 'u16': for (let i = 0; i < n; i++) putU16(buf, off + 2 * i, toNumber(src[i])); break;
      case 'u8': for (let i = 0; i < n; i++) buf[off + i] = toNumber(src[i]); break;
      case 'i32': for (let i = 0; i < n; i++) putU32(buf, off + 4 * i, toNumber(src[i])); break;
      case 'f32': for (let i = 0; i < n; i++) putF32(buf, off + 4 * i, toNumber(src[i])); break;
      case 'f64': for (let i = 0; i < n; i++) putF64(buf, off + 8 * i, toNumber(src[i])); break;
    }
  }
  if (n < count) buf.fill(0, off + n * size, off + count * size);
}

function writeLimit(b: Uint8Array, off: number, kind: ElementKind, v: number): void {
  switch (kind) {
    case 'i16': putU16(b, off, v); break;
    case 'u8': b[off] = v; break;
    case 'i32': putU32(b, off, v); break;
    case 'f32': putF32(b, off, v); break;
    case 'f64': putF64(b, off, v); break;
    default: break;
  }
}

const ZERO_RANGE: Range = { low: 0, high: 0 };

/**
 * Write a DBR value of `type` with exactly `count` elements at `off` of `buf` (which must have
 * `dbrSize(type, count)` bytes of room). Missing metadata is written as zeros; a value shorter
 * than `count` is zero-filled, a longer one truncated. Returns the bytes written (unpadded).
 */
export function writeDbr(buf: Uint8Array, off: number, type: number, count: number, data: DbrInput): number {
  const l = layouts[type];
  if (!l) throw new LocalProtocolError(`cannot encode unknown DBR type ${type}`);
  const size = l.valueOffset + l.elementSize * count;
  if (off + size > buf.length) throw new LocalProtocolError(`buffer too small for ${l.name} x ${count}`);
  // Metadata region starts zeroed (padding fields included).
  buf.fill(0, off, off + l.valueOffset);
  const status = data.status ?? 0;
  const severity = data.severity ?? 0;
  switch (l.family) {
    case 'plain':
    case 'put_ackt':
    case 'put_acks':
    case 'class_name':
      break;
    case 'sts':
      putU16(buf, off, status);
      putU16(buf, off + 2, severity);
      break;
    case 'stsack':
      putU16(buf, off, status);
      putU16(buf, off + 2, severity);
      putU16(buf, off + 4, data.ackt ?? 0);
      putU16(buf, off + 6, data.acks ?? 0);
      break;
    case 'time':
      putU16(buf, off, status);
      putU16(buf, off + 2, severity);
      putU32(buf, off + 4, data.stamp?.secondsPastEpoch ?? 0);
      putU32(buf, off + 8, data.stamp?.nanoseconds ?? 0);
      break;
    case 'gr':
    case 'ctrl': {
      putU16(buf, off, status);
      putU16(buf, off + 2, severity);
      if (l.native === 0) break; // GR/CTRL_STRING carry status and severity only
      if (l.native === 3) {
        const strs = data.enumStrings ?? [];
        const n = Math.min(strs.length, MAX_ENUM_STATES);
        putU16(buf, off + 4, n);
        for (let i = 0; i < n; i++) writeFixedString(buf, off + 6 + i * MAX_ENUM_STRING_SIZE, MAX_ENUM_STRING_SIZE, strs[i] ?? '');
        break;
      }
      let p = off + 4;
      if (l.native === 2 || l.native === 6) {
        putU16(buf, p, data.precision ?? 0);
        p += 4; // precision + RISC pad
      }
      writeFixedString(buf, p, MAX_UNITS_SIZE, data.units ?? '');
      p += MAX_UNITS_SIZE;
      const lim = data.limits;
      const disp = lim?.display ?? ZERO_RANGE;
      const alarm = lim?.alarm ?? ZERO_RANGE;
      const warn = lim?.warning ?? ZERO_RANGE;
      const vals = [disp.high, disp.low, alarm.high, warn.high, warn.low, alarm.low];
      if (l.family === 'ctrl') {
        const ctrl = lim?.control ?? ZERO_RANGE;
        vals.push(ctrl.high, ctrl.low);
      }
      for (const v of vals) {
        writeLimit(buf, p, l.elem, v);
        p += l.elementSize;
      }
      break;
    }
  }
  writeElements(buf, off + l.valueOffset, l.elem, count, data.value);
  return size;
}

/** Encode a DBR value as a payload padded to a multiple of 8. */
export function encodeDbr(type: number, count: number, data: DbrInput): Uint8Array {
  const out = new Uint8Array(dbrPaddedSize(type, count));
  writeDbr(out, 0, type, count, data);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecodeDbrOptions {
  /**
   * The caller owns `bytes` (nobody else reads them afterwards): numeric arrays are byte-swapped
   * in place and returned as views, without copying. Leave false for views of shared buffers.
   */
  owned?: boolean;
}

function readElements(bytes: Uint8Array, off: number, end: number, kind: ElementKind, count: number, owned: boolean): DbrArray {
  if (kind === 'string') {
    const out: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = readFixedString(bytes, off + i * MAX_STRING_SIZE, Math.min(MAX_STRING_SIZE, end - off - i * MAX_STRING_SIZE));
    return out;
  }
  const size = ELEM_SIZE[kind];
  const nbytes = count * size;
  if (count < FAST_PATH_MIN || !littleEndianHost) {
    // Small arrays (and big-endian hosts): read element by element.
    switch (kind) {
      case 'u8': return owned ? bytes.subarray(off, off + count) : bytes.slice(off, off + count);
      case 'i16': { const a = new Int16Array(count); for (let i = 0; i < count; i++) a[i] = getI16(bytes, off + 2 * i); return a; }
      case 'u16': { const a = new Uint16Array(count); for (let i = 0; i < count; i++) a[i] = getU16(bytes, off + 2 * i); return a; }
      case 'i32': { const a = new Int32Array(count); for (let i = 0; i < count; i++) a[i] = getI32(bytes, off + 4 * i); return a; }
      case 'f32': { const a = new Float32Array(count); for (let i = 0; i < count; i++) a[i] = getF32(bytes, off + 4 * i); return a; }
      case 'f64': { const a = new Float64Array(count); for (let i = 0; i < count; i++) a[i] = getF64(bytes, off + 8 * i); return a; }
    }
  }
  let buf: ArrayBufferLike;
  let start: number;
  if (owned && (bytes.byteOffset + off) % size === 0) {
    buf = bytes.buffer;
    start = bytes.byteOffset + off;
  } else {
    const copy = new Uint8Array(nbytes);
    copy.set(bytes.subarray(off, off + nbytes));
    buf = copy.buffer;
    start = 0;
  }
  if (kind !== 'u8') swapInPlace(new Uint8Array(buf), start, nbytes, size);
  switch (kind) {
    case 'u8': return new Uint8Array(buf, start, count);
    case 'i16': return new Int16Array(buf, start, count);
    case 'u16': return new Uint16Array(buf, start, count);
    case 'i32': return new Int32Array(buf, start, count);
    case 'f32': return new Float32Array(buf, start, count);
    case 'f64': return new Float64Array(buf, start, count);
  }
}

function readLimit(b: Uint8Array, off: number, kind: ElementKind): number {
  switch (kind) {
    case 'i16': return getI16(b, off);
    case 'u8': return b[off]!;
    case 'i32': return getI32(b, off);
    case 'f32': return getF32(b, off);
    case 'f64': return getF64(b, off);
    default: return 0;
  }
}

/**
 * Decode `count` elements of DBR `type` from `bytes[off..end)` (a payload; padding after the
 * value is ignored). Throws a DecodeError when the bytes are too few for the metadata and the
 * elements, except that the last element of a string array may be cut short (libca sends a
 * single DBR_STRING put as the text, its NUL and padding to 8, not the full 40 bytes).
 */
export function decodeDbr(type: number, count: number, bytes: Uint8Array, off = 0, end = bytes.length, opts: DecodeDbrOptions = {}): DbrValue {
  const l = layouts[type];
  if (!l) throw new DecodeError('dataType', off, `unknown DBR type ${type}`);
  if (!Number.isInteger(count) || count < 0) throw new DecodeError('count', off, `invalid element count ${count}`);
  const avail = end - off;
  const need = l.valueOffset + l.elementSize * count;
  if (avail < need) {
    const shortString = l.elem === 'string' && count > 0 && avail > l.valueOffset + (count - 1) * MAX_STRING_SIZE;
    if (!shortString) throw new DecodeError('payload', off, `${l.name} x ${count} needs ${need} byte(s), ${avail} present`);
  }
  const out: DbrValue = { dataType: type, count, value: [] };
  switch (l.family) {
    case 'plain':
    case 'put_ackt':
    case 'put_acks':
    case 'class_name':
      break;
    case 'sts':
      out.status = getU16(bytes, off);
      out.severity = getU16(bytes, off + 2);
      break;
    case 'stsack':
      out.status = getU16(bytes, off);
      out.severity = getU16(bytes, off + 2);
      out.ackt = getU16(bytes, off + 4);
      out.acks = getU16(bytes, off + 6);
      break;
    case 'time':
      out.status = getU16(bytes, off);
      out.severity = getU16(bytes, off + 2);
      out.stamp = { secondsPastEpoch: getU32(bytes, off + 4), nanoseconds: getU32(bytes, off + 8) };
      break;
    case 'gr':
    case 'ctrl': {
      out.status = getU16(bytes, off);
      out.severity = getU16(bytes, off + 2);
      if (l.native === 0) break;
      if (l.native === 3) {
        const n = Math.min(getU16(bytes, off + 4), MAX_ENUM_STATES);
        const strs: string[] = new Array<string>(n);
        for (let i = 0; i < n; i++) strs[i] = readFixedString(bytes, off + 6 + i * MAX_ENUM_STRING_SIZE, MAX_ENUM_STRING_SIZE);
        out.enumStrings = strs;
        break;
      }
      let p = off + 4;
      if (l.native === 2 || l.native === 6) {
        out.precision = getI16(bytes, p);
        p += 4;
      }
      out.units = readFixedString(bytes, p, MAX_UNITS_SIZE);
      p += MAX_UNITS_SIZE;
      const v: number[] = [];
      const nlim = l.family === 'ctrl' ? 8 : 6;
      for (let i = 0; i < nlim; i++) {
        v.push(readLimit(bytes, p, l.elem));
        p += l.elementSize;
      }
      out.limits = {
        display: { low: v[1]!, high: v[0]! },
        alarm: { low: v[5]!, high: v[2]! },
        warning: { low: v[4]!, high: v[3]! },
      };
      if (l.family === 'ctrl') out.limits.control = { low: v[7]!, high: v[6]! };
      break;
    }
  }
  out.value = readElements(bytes, off + l.valueOffset, end, l.elem, count, opts.owned === true);
  return out;
}
