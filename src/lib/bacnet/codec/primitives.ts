/**
 * Primitive data encodings (ASHRAE 135-2020 Clause 20.2.2..20.2.14): the content octets of
 * NULL, BOOLEAN, Unsigned (up to 64 bits), Signed, REAL, Double, OCTET STRING, CharacterString
 * (all six character sets, DBCS/JIS best effort), BIT STRING, ENUMERATED, Date, Time and
 * BACnetObjectIdentifier, each with or without its tag.
 *
 * `put*` writers take an optional context tag number: omitted, the value is application-tagged;
 * given, it is context-tagged with that number. `get*` readers take the content length found in
 * the tag header. Values beyond 2^53 come back as bigint.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { AppTag, writeTag } from './tags';

/** BACnetObjectIdentifier: object type (10 bits) and instance (22 bits). */
export interface ObjectId {
  type: number;
  instance: number;
}

/** Octet value meaning "unspecified" in Date and Time fields (20.2.12, 20.2.13). */
export const UNSPECIFIED = 255;

/**
 * BACnet Date. `year` is the full year (1900..2154) or 255 (unspecified); month 1..12, 13 odd
 * months, 14 even months, 255 any; day 1..31, 32 last day, 33 odd days, 34 even days, 255 any;
 * weekday 1 = Monday .. 7 = Sunday, 255 any.
 */
export interface BacnetDate {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

/** BACnet Time: each field may be 255 (unspecified). */
export interface BacnetTime {
  hour: number;
  minute: number;
  second: number;
  hundredths: number;
}

export const MAX_INSTANCE = 0x3fffff;
/** Device instance 4194303 addresses every device (Who-Is, wildcard Device object identifier). */
export const WILDCARD_INSTANCE = 0x3fffff;

// ---------------------------------------------------------------------------------------------
// Unsigned / Signed / Enumerated

/** Number of octets of the minimal Unsigned encoding. */
export function unsignedLength(v: number | bigint): number {
  if (typeof v === 'bigint') {
    let n = 1;
    while (v >= 256n) {
      v >>= 8n;
      n++;
    }
    return n;
  }
  if (v < 0x100) return 1;
  if (v < 0x10000) return 2;
  if (v < 0x1000000) return 3;
  if (v < 0x100000000) return 4;
  let n = 4;
  let x = Math.floor(v / 0x100000000);
  while (x > 0) {
    n++;
    x = Math.floor(x / 256);
  }
  return n;
}

function checkUnsigned(v: number | bigint, what: string): void {
  if (typeof v === 'bigint') {
    if (v < 0n || v >= 1n << 64n) throw new LocalProtocolError(`${what} ${v} is outside 0..2^64-1`);
  } else if (!Number.isSafeInteger(v) || v < 0) {
    throw new LocalProtocolError(`${what} ${v} is not an unsigned integer`);
  }
}

function writeUnsignedContent(w: Writer, v: number | bigint, n: number): void {
  if (typeof v === 'bigint') {
    for (let i = n - 1; i >= 0; i--) w.u8(Number((v >> BigInt(8 * i)) & 0xffn));
  } else if (n <= 6) {
    w.uintN(v, n);
  } else {
    writeUnsignedContent(w, BigInt(v), n);
  }
}

export function putUnsigned(w: Writer, v: number | bigint, ctx?: number): void {
  checkUnsigned(v, 'unsigned');
  const n = unsignedLength(v);
  writeTag(w, ctx ?? AppTag.UNSIGNED, ctx !== undefined, n);
  writeUnsignedContent(w, v, n);
}

export function putEnumerated(w: Writer, v: number, ctx?: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new LocalProtocolError(`enumerated ${v} out of range`);
  const n = unsignedLength(v);
  writeTag(w, ctx ?? AppTag.ENUMERATED, ctx !== undefined, n);
  w.uintN(v, n);
}

export function getUnsigned(r: Reader, len: number, field = 'unsigned'): number | bigint {
  if (len < 1 || len > 8) r.fail(field, `unsigned of ${len} octets (1..8 allowed)`);
  if (len <= 6) return r.uintN(len, field);
  let v = 0n;
  const b = r.bytes(len, field);
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[i]!);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** An Unsigned that must fit a JS number (counts, indexes, process ids, enumerations). */
export function getUnsignedNumber(r: Reader, len: number, field = 'unsigned'): number {
  if (len < 1 || len > 6) {
    const at = r.pos;
    const v = getUnsigned(r, len, field);
    if (typeof v === 'bigint') {
      r.pos = at;
      r.fail(field, 'value exceeds 2^53');
    }
    return v;
  }
  return r.uintN(len, field);
}

export function getEnumerated(r: Reader, len: number, field = 'enumerated'): number {
  if (len < 1 || len > 4) r.fail(field, `enumerated of ${len} octets (1..4 allowed)`);
  return r.uintN(len, field);
}

function signedLength(v: number | bigint): number {
  if (typeof v === 'bigint') {
    let n = 1;
    while (v < -(1n << BigInt(8 * n - 1)) || v >= 1n << BigInt(8 * n - 1)) n++;
    return n;
  }
  if (v >= -0x80 && v < 0x80) return 1;
  if (v >= -0x8000 && v < 0x8000) return 2;
  if (v >= -0x800000 && v < 0x800000) return 3;
  if (v >= -0x80000000 && v < 0x80000000) return 4;
  let n = 5;
  while (v < -(2 ** (8 * n - 1)) || v >= 2 ** (8 * n - 1)) n++;
  return n;
}

export function putSigned(w: Writer, v: number | bigint, ctx?: number): void {
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new LocalProtocolError(`signed ${v} outside 64 bits`);
  } else if (!Number.isSafeInteger(v)) {
    throw new LocalProtocolError(`signed ${v} is not an integer`);
  }
  const n = signedLength(v);
  writeTag(w, ctx ?? AppTag.SIGNED, ctx !== undefined, n);
  if (typeof v === 'number' && n <= 6) {
    w.intN(v, n);
  } else {
    let b = BigInt(v);
    if (b < 0n) b += 1n << BigInt(8 * n);
    writeUnsignedContent(w, b, n);
  }
}

export function getSigned(r: Reader, len: number, field = 'signed'): number | bigint {
  if (len < 1 || len > 8) r.fail(field, `signed of ${len} octets (1..8 allowed)`);
  if (len <= 6) return r.intN(len, field);
  const b = r.bytes(len, field);
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[i]!);
  if (b[0]! & 0x80) v -= 1n << BigInt(8 * len);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A Signed that must fit a JS number. */
export function getSignedNumber(r: Reader, len: number, field = 'signed'): number {
  const at = r.pos;
  const v = getSigned(r, len, field);
  if (typeof v === 'bigint') {
    r.pos = at;
    r.fail(field, 'value exceeds 2^53');
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// NULL, BOOLEAN, REAL, Double

export function putNull(w: Writer, ctx?: number): void {
  writeTag(w, ctx ?? AppTag.NULL, ctx !== undefined, 0);
}

export function putBoolean(w: Writer, v: boolean, ctx?: number): void {
  if (ctx === undefined) {
    w.u8((AppTag.BOOLEAN << 4) | (v ? 1 : 0));
  } else {
    writeTag(w, ctx, true, 1);
    w.u8(v ? 1 : 0);
  }
}

/** Content of a context-tagged BOOLEAN (one octet, 0 or 1). */
export function getContextBoolean(r: Reader, len: number, field = 'boolean'): boolean {
  if (len !== 1) r.fail(field, `boolean of ${len} octets`);
  const b = r.u8(field);
  if (b > 1) r.fail(field, `boolean value ${b}`);
  return b === 1;
}

export function putReal(w: Writer, v: number, ctx?: number): void {
  writeTag(w, ctx ?? AppTag.REAL, ctx !== undefined, 4);
  w.f32(v);
}

export function getReal(r: Reader, len: number, field = 'real'): number {
  if (len !== 4) r.fail(field, `REAL of ${len} octets`);
  return r.f32(field);
}

export function putDouble(w: Writer, v: number, ctx?: number): void {
  writeTag(w, ctx ?? AppTag.DOUBLE, ctx !== undefined, 8);
  w.f64(v);
}

export function getDouble(r: Reader, len: number, field = 'double'): number {
  if (len !== 8) r.fail(field, `Double of ${len} octets`);
  return r.f64(field);
}

// ---------------------------------------------------------------------------------------------
// OCTET STRING, CharacterString, BIT STRING

export function putOctetString(w: Writer, v: Uint8Array, ctx?: number): void {
  writeTag(w, ctx ?? AppTag.OCTET_STRING, ctx !== undefined, v.length);
  w.bytes(v);
}

/** A copy of the content (the datagram buffer is not kept alive by decoded values). */
export function getOctetString(r: Reader, len: number, field = 'octet string'): Uint8Array {
  return r.copy(len, field);
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

function optionalDecoder(label: string): InstanceType<typeof TextDecoder> | undefined {
  try {
    return new TextDecoder(label);
  } catch {
    return undefined;
  }
}
const shiftJis = optionalDecoder('shift_jis');
const eucJp = optionalDecoder('euc-jp');

/** Character set codes (20.2.9). */
export const Charset = {
  UTF8: 0,
  DBCS: 1,
  JIS_X_0208: 2,
  UCS4: 3,
  UCS2: 4,
  ISO_8859_1: 5,
} as const;

/** Decode CharacterString content octets (first octet = character set). */
export function getCharacterString(r: Reader, len: number, field = 'character string'): { value: string; charset: number } {
  if (len < 1) r.fail(field, 'character string without a character set octet');
  const charset = r.u8(field);
  let n = len - 1;
  switch (charset) {
    case Charset.UTF8:
      return { value: utf8.decode(r.bytes(n, field)), charset };
    case Charset.ISO_8859_1:
      return { value: latin1.decode(r.bytes(n, field)), charset };
    case Charset.UCS2: {
      if (n % 2) r.fail(field, 'UCS-2 string of odd length');
      const b = r.bytes(n, field);
      let s = '';
      for (let i = 0; i < n; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return { value: s, charset };
    }
    case Charset.UCS4: {
      if (n % 4) r.fail(field, 'UCS-4 string length not a multiple of 4');
      const b = r.bytes(n, field);
      let s = '';
      for (let i = 0; i < n; i += 4) {
        const cp = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      return { value: s, charset };
    }
    case Charset.DBCS: {
      // Two octets of code page, then the text. Code page 932 is Shift-JIS; others best effort.
      if (n < 2) r.fail(field, 'DBCS string without a code page');
      const codePage = r.u16(field);
      n -= 2;
      const b = r.bytes(n, field);
      const dec = codePage === 932 && shiftJis ? shiftJis : latin1;
      return { value: dec.decode(b), charset };
    }
    case Charset.JIS_X_0208: {
      // JIS C 6226 / X 0208 two-octet codes: decode as EUC-JP (each octet | 0x80) when available.
      const b = r.bytes(n, field);
      if (eucJp && n % 2 === 0) {
        const e = new Uint8Array(n);
        for (let i = 0; i < n; i++) e[i] = b[i]! | 0x80;
        return { value: eucJp.decode(e), charset };
      }
      return { value: latin1.decode(b), charset };
    }
    default:
      // Unknown set: keep the octets readable rather than failing the whole APDU.
      return { value: latin1.decode(r.bytes(n, field)), charset };
  }
}

/** Encode a CharacterString in UTF-8 (default), ISO 8859-1, UCS-2 or UCS-4. */
export function putCharacterString(w: Writer, s: string, ctx?: number, charset: number = Charset.UTF8): void {
  let body: Uint8Array;
  switch (charset) {
    case Charset.UTF8:
      body = utf8Encoder.encode(s);
      break;
    case Charset.ISO_8859_1: {
      body = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 255) throw new LocalProtocolError(`character U+${c.toString(16)} is not in ISO 8859-1`);
        body[i] = c;
      }
      break;
    }
    case Charset.UCS2: {
      body = new Uint8Array(s.length * 2);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        body[2 * i] = c >> 8;
        body[2 * i + 1] = c & 0xff;
      }
      break;
    }
    case Charset.UCS4: {
      const cps = Array.from(s, (ch) => ch.codePointAt(0)!);
      body = new Uint8Array(cps.length * 4);
      const dv = new DataView(body.buffer);
      cps.forEach((cp, i) => dv.setUint32(4 * i, cp, false));
      break;
    }
    default:
      throw new LocalProtocolError(`encoding character set ${charset} is not supported (use UTF-8, ISO 8859-1, UCS-2 or UCS-4)`);
  }
  writeTag(w, ctx ?? AppTag.CHARACTER_STRING, ctx !== undefined, body.length + 1);
  w.u8(charset).bytes(body);
}

/** Decode BIT STRING content: unused-bits octet, then bits most significant first. */
export function getBitString(r: Reader, len: number, field = 'bit string'): boolean[] {
  if (len < 1) r.fail(field, 'bit string without the unused-bits octet');
  const unused = r.u8(field);
  if (unused > 7 || (len === 1 && unused !== 0)) r.fail(field, `invalid unused-bit count ${unused}`);
  const b = r.bytes(len - 1, field);
  const count = (len - 1) * 8 - unused;
  const bits = new Array<boolean>(count);
  for (let i = 0; i < count; i++) bits[i] = (b[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  return bits;
}

export function putBitString(w: Writer, bits: readonly boolean[], ctx?: number): void {
  const octets = Math.ceil(bits.length / 8);
  writeTag(w, ctx ?? AppTag.BIT_STRING, ctx !== undefined, octets + 1);
  w.u8(octets * 8 - bits.length);
  for (let o = 0; o < octets; o++) {
    let v = 0;
    for (let i = 0; i < 8; i++) if (bits[o * 8 + i]) v |= 0x80 >> i;
    w.u8(v);
  }
}

// ---------------------------------------------------------------------------------------------
// Date, Time, BACnetObjectIdentifier

export function getDate(r: Reader, len: number, field = 'date'): BacnetDate {
  if (len !== 4) r.fail(field, `Date of ${len} octets`);
  const y = r.u8(field);
  return { year: y === 255 ? 255 : 1900 + y, month: r.u8(field), day: r.u8(field), weekday: r.u8(field) };
}

export function putDate(w: Writer, d: BacnetDate, ctx?: number): void {
  const y = d.year === 255 ? 255 : d.year - 1900;
  if (!Number.isInteger(y) || y < 0 || y > 255) throw new LocalProtocolError(`year ${d.year} outside 1900..2154`);
  for (const [k, v] of [['month', d.month], ['day', d.day], ['weekday', d.weekday]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new LocalProtocolError(`date ${k} ${v} out of range`);
  }
  writeTag(w, ctx ?? AppTag.DATE, ctx !== undefined, 4);
  w.u8(y).u8(d.month).u8(d.day).u8(d.weekday);
}

export function getTime(r: Reader, len: number, field = 'time'): BacnetTime {
  if (len !== 4) r.fail(field, `Time of ${len} octets`);
  return { hour: r.u8(field), minute: r.u8(field), second: r.u8(field), hundredths: r.u8(field) };
}

export function putTime(w: Writer, t: BacnetTime, ctx?: number): void {
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new LocalProtocolError(`time ${k} ${String(v)} out of range`);
  }
  writeTag(w, ctx ?? AppTag.TIME, ctx !== undefined, 4);
  w.u8(t.hour).u8(t.minute).u8(t.second).u8(t.hundredths);
}

export function getObjectId(r: Reader, len: number, field = 'object identifier'): ObjectId {
  if (len !== 4) r.fail(field, `object identifier of ${len} octets`);
  const v = r.u32(field);
  return { type: v >>> 22, instance: v & MAX_INSTANCE };
}

export function putObjectId(w: Writer, id: ObjectId, ctx?: number): void {
  if (!Number.isInteger(id.type) || id.type < 0 || id.type > 1023) {
    throw new LocalProtocolError(`object type ${id.type} outside 0..1023`);
  }
  if (!Number.isInteger(id.instance) || id.instance < 0 || id.instance > MAX_INSTANCE) {
    throw new LocalProtocolError(`object instance ${id.instance} outside 0..${MAX_INSTANCE}`);
  }
  writeTag(w, ctx ?? AppTag.OBJECT_IDENTIFIER, ctx !== undefined, 4);
  w.u32(((id.type << 22) | id.instance) >>> 0);
}

// ---------------------------------------------------------------------------------------------
// JavaScript conveniences

/** Date and Time of a JS Date in local time (BACnet devices keep local time). */
export function dateFromJs(d: Date): BacnetDate {
  const wd = d.getDay();
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), weekday: wd === 0 ? 7 : wd };
}

export function timeFromJs(d: Date): BacnetTime {
  return { hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds(), hundredths: Math.floor(d.getMilliseconds() / 10) };
}

/** A JS Date (local time) when date and time are fully specified; undefined with wildcards. */
export function toJsDate(d: BacnetDate, t: BacnetTime = { hour: 0, minute: 0, second: 0, hundredths: 0 }): Date | undefined {
  if (d.year === 255 || d.month > 12 || d.month < 1 || d.day > 31 || d.day < 1) return undefined;
  if (t.hour === 255 || t.minute === 255 || t.second === 255) return undefined;
  return new Date(d.year, d.month - 1, d.day, t.hour, t.minute, t.second, t.hundredths === 255 ? 0 : t.hundredths * 10);
}

/** 'YYYY-MM-DD' with '*' for unspecified parts (month 13/14 and day 32..34 spelled out). */
export function formatDate(d: BacnetDate): string {
  const y = d.year === 255 ? '*' : String(d.year);
  const m = d.month === 255 ? '*' : d.month === 13 ? 'odd' : d.month === 14 ? 'even' : String(d.month).padStart(2, '0');
  const day = d.day === 255 ? '*' : d.day === 32 ? 'last' : d.day === 33 ? 'odd' : d.day === 34 ? 'even' : String(d.day).padStart(2, '0');
  return `${y}-${m}-${day}`;
}

/** 'hh:mm:ss.cc' with '*' for unspecified parts. */
export function formatTime(t: BacnetTime): string {
  const f = (v: number): string => (v === 255 ? '*' : String(v).padStart(2, '0'));
  return `${f(t.hour)}:${f(t.minute)}:${f(t.second)}.${f(t.hundredths)}`;
}
