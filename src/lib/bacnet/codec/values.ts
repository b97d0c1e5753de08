/**
 * The value model: one representation of BACnet data that the client, the server and the nodes
 * share (ASHRAE 135-2020 Clause 20.2 encodings, Clause 21 ABSTRACT-SYNTAX.&Type).
 *
 * A `BacnetValue` is one encoded element, tagged with its type, so it re-encodes to exactly the
 * octets it came from:
 *  - the 13 application types ({ type: 'real', value: 21.5 }, { type: 'enumerated', value: 1 }, ...);
 *  - `context`: a primitive context-tagged element whose type only the enclosing production
 *    knows (its content octets are kept; `contextAs` reads them as a given type);
 *  - `constructed`: an opening/closing context tag pair with the elements between them.
 *
 * A property value (ReadProperty-ACK, WriteProperty, BACnetPropertyValue, ...) is a
 * `BacnetValue[]`: one element for scalars, several for arrays, lists and sequences. The
 * datatype table (`datatypes.ts`) turns that into plain JavaScript and back.
 */
import { Reader } from '../../wire/reader';
import { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import {
  AppTag, MAX_NESTING_DEPTH, TagKind, readTag, writeClosing, writeOpening, writeTag,
} from './tags';
import {
  type BacnetDate, type BacnetTime, type ObjectId,
  getBitString, getCharacterString, getContextBoolean, getDate, getDouble, getEnumerated, getObjectId,
  getOctetString, getReal, getSigned, getTime, getUnsigned,
  putBitString, putBoolean, putCharacterString, putDate, putDouble, putEnumerated, putNull, putObjectId,
  putOctetString, putReal, putSigned, putTime, putUnsigned,
} from './primitives';

export type BacnetValue =
  | { type: 'null' }
  | { type: 'boolean'; value: boolean }
  | { type: 'unsigned'; value: number | bigint }
  | { type: 'signed'; value: number | bigint }
  | { type: 'real'; value: number }
  | { type: 'double'; value: number }
  | { type: 'octet-string'; value: Uint8Array }
  | { type: 'character-string'; value: string; charset?: number }
  | { type: 'bit-string'; value: boolean[] }
  | { type: 'enumerated'; value: number }
  | { type: 'date'; value: BacnetDate }
  | { type: 'time'; value: BacnetTime }
  | { type: 'object-identifier'; value: ObjectId }
  | { type: 'context'; tag: number; value: Uint8Array }
  | { type: 'constructed'; tag: number; value: BacnetValue[] };

export type BacnetValueType = BacnetValue['type'];
export type ApplicationValue = Exclude<BacnetValue, { type: 'context' } | { type: 'constructed' }>;

/** Character sets putCharacterString can write: UTF-8, UCS-4, UCS-2, ISO 8859-1. */
const ENCODABLE_CHARSETS: ReadonlySet<number> = new Set([0, 3, 4, 5]);

/** Application tag number of each application type. */
export const APPLICATION_TAG: Readonly<Record<ApplicationValue['type'], number>> = {
  null: AppTag.NULL,
  boolean: AppTag.BOOLEAN,
  unsigned: AppTag.UNSIGNED,
  signed: AppTag.SIGNED,
  real: AppTag.REAL,
  double: AppTag.DOUBLE,
  'octet-string': AppTag.OCTET_STRING,
  'character-string': AppTag.CHARACTER_STRING,
  'bit-string': AppTag.BIT_STRING,
  enumerated: AppTag.ENUMERATED,
  date: AppTag.DATE,
  time: AppTag.TIME,
  'object-identifier': AppTag.OBJECT_IDENTIFIER,
};

/** Constructors: `Value.real(21.5)`, `Value.enumerated(1)`, `Value.null()`. */
export const Value = {
  null: (): BacnetValue => ({ type: 'null' }),
  boolean: (value: boolean): BacnetValue => ({ type: 'boolean', value }),
  unsigned: (value: number | bigint): BacnetValue => ({ type: 'unsigned', value }),
  signed: (value: number | bigint): BacnetValue => ({ type: 'signed', value }),
  real: (value: number): BacnetValue => ({ type: 'real', value }),
  double: (value: number): BacnetValue => ({ type: 'double', value }),
  octetString: (value: Uint8Array): BacnetValue => ({ type: 'octet-string', value }),
  characterString: (value: string, charset?: number): BacnetValue =>
    charset === undefined ? { type: 'character-string', value } : { type: 'character-string', value, charset },
  bitString: (value: boolean[]): BacnetValue => ({ type: 'bit-string', value }),
  enumerated: (value: number): BacnetValue => ({ type: 'enumerated', value }),
  date: (value: BacnetDate): BacnetValue => ({ type: 'date', value }),
  time: (value: BacnetTime): BacnetValue => ({ type: 'time', value }),
  objectId: (type: number, instance: number): BacnetValue => ({ type: 'object-identifier', value: { type, instance } }),
  context: (tag: number, value: Uint8Array): BacnetValue => ({ type: 'context', tag, value }),
  constructed: (tag: number, value: BacnetValue[]): BacnetValue => ({ type: 'constructed', tag, value }),
} as const;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Write one element. */
export function encodeValue(w: Writer, v: BacnetValue): void {
  switch (v.type) {
    case 'null': return putNull(w);
    case 'boolean': return putBoolean(w, v.value);
    case 'unsigned': return putUnsigned(w, v.value);
    case 'signed': return putSigned(w, v.value);
    case 'real': return putReal(w, v.value);
    case 'double': return putDouble(w, v.value);
    case 'octet-string': return putOctetString(w, v.value);
    case 'character-string':
      // Text decoded from a set we cannot encode (DBCS, JIS, unknown) is re-encoded as UTF-8.
      return putCharacterString(w, v.value, undefined, v.charset !== undefined && ENCODABLE_CHARSETS.has(v.charset) ? v.charset : 0);
    case 'bit-string': return putBitString(w, v.value);
    case 'enumerated': return putEnumerated(w, v.value);
    case 'date': return putDate(w, v.value);
    case 'time': return putTime(w, v.value);
    case 'object-identifier': return putObjectId(w, v.value);
    case 'context':
      writeTag(w, v.tag, true, v.value.length);
      w.bytes(v.value);
      return;
    case 'constructed':
      writeOpening(w, v.tag);
      for (const x of v.value) encodeValue(w, x);
      writeClosing(w, v.tag);
      return;
    default: {
      const never: never = v;
      throw new LocalProtocolError(`not a BACnet value: ${JSON.stringify(never)}`);
    }
  }
}

export function encodeValues(w: Writer, vs: readonly BacnetValue[]): void {
  for (const v of vs) encodeValue(w, v);
}

/** The octets of a value list (handy for tests and for re-reading with a typed decoder). */
export function valuesToBytes(vs: readonly BacnetValue[]): Uint8Array {
  const w = new Writer(64);
  encodeValues(w, vs);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decode the content of application tag `tag` of length `len` (boolean: len is the value). */
export function decodeApplicationContent(r: Reader, tag: number, len: number): ApplicationValue {
  switch (tag) {
    case AppTag.NULL:
      if (len !== 0) r.fail('null', `NULL with ${len} content octets`);
      return { type: 'null' };
    case AppTag.BOOLEAN: return { type: 'boolean', value: len === 1 };
    case AppTag.UNSIGNED: return { type: 'unsigned', value: getUnsigned(r, len) };
    case AppTag.SIGNED: return { type: 'signed', value: getSigned(r, len) };
    case AppTag.REAL: return { type: 'real', value: getReal(r, len) };
    case AppTag.DOUBLE: return { type: 'double', value: getDouble(r, len) };
    case AppTag.OCTET_STRING: return { type: 'octet-string', value: getOctetString(r, len) };
    case AppTag.CHARACTER_STRING: {
      const s = getCharacterString(r, len);
      return s.charset === 0 ? { type: 'character-string', value: s.value } : { type: 'character-string', value: s.value, charset: s.charset };
    }
    case AppTag.BIT_STRING: return { type: 'bit-string', value: getBitString(r, len) };
    case AppTag.ENUMERATED: return { type: 'enumerated', value: getEnumerated(r, len) };
    case AppTag.DATE: return { type: 'date', value: getDate(r, len) };
    case AppTag.TIME: return { type: 'time', value: getTime(r, len) };
    case AppTag.OBJECT_IDENTIFIER: return { type: 'object-identifier', value: getObjectId(r, len) };
    default:
      return r.fail('application tag', `application tag ${tag} is reserved`);
  }
}

/** Decode one element (primitive, or a constructed opening..closing pair). */
export function decodeValue(r: Reader, depth = 0): BacnetValue {
  const t = readTag(r);
  if (t.kind === TagKind.Closing) {
    r.pos = t.start;
    r.fail('value', `unexpected closing tag [${t.number}]`);
  }
  if (!t.context) return decodeApplicationContent(r, t.number, t.length);
  if (t.kind === TagKind.Primitive) return { type: 'context', tag: t.number, value: r.copy(t.length, 'context data') };
  if (depth + 1 > MAX_NESTING_DEPTH) r.fail('value', `nesting deeper than ${MAX_NESTING_DEPTH}`);
  const inner = decodeValues(r, t.number, depth + 1);
  const c = readTag(r);
  if (c.kind !== TagKind.Closing || c.number !== t.number) {
    r.pos = c.start;
    r.fail('value', `closing tag [${t.number}] expected`);
  }
  return { type: 'constructed', tag: t.number, value: inner };
}

/**
 * Decode elements until closing tag `closing` (left unconsumed) or, without `closing`, to the
 * end of the reader.
 */
export function decodeValues(r: Reader, closing?: number, depth = 0): BacnetValue[] {
  const out: BacnetValue[] = [];
  for (;;) {
    if (r.pos >= r.end) {
      if (closing !== undefined) r.fail('value', `missing closing tag [${closing}]`);
      return out;
    }
    const b = r.buf[r.pos]!;
    if ((b & 0x0f) === 0x0f) {
      // a closing tag
      if (closing === undefined) r.fail('value', 'unexpected closing tag');
      if (b >> 4 === 15 && r.pos + 1 >= r.end) r.fail('value', 'truncated closing tag');
      const n = b >> 4 === 15 ? r.buf[r.pos + 1] : b >> 4;
      if (n !== closing) r.fail('value', `closing tag [${String(n)}] does not match [${closing}]`);
      return out;
    }
    out.push(decodeValue(r, depth));
  }
}

/** Decode a whole buffer as a list of elements. */
export function bytesToValues(b: Uint8Array): BacnetValue[] {
  return decodeValues(new Reader(b));
}

/** Read the content octets of a `context` value as an application type. */
export function contextAs(v: BacnetValue, type: ApplicationValue['type']): ApplicationValue {
  if (v.type !== 'context') {
    if (v.type === type) return v as ApplicationValue;
    throw new LocalProtocolError(`expected a ${type} or context value, found ${v.type}`);
  }
  const r = new Reader(v.value);
  const out = type === 'boolean'
    ? { type: 'boolean' as const, value: getContextBoolean(r, v.value.length) }
    : decodeApplicationContent(r, APPLICATION_TAG[type], v.value.length);
  r.expectEnd(type);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Plain JavaScript

export type JsValue =
  | null | boolean | number | bigint | string | Uint8Array | boolean[]
  | BacnetDate | BacnetTime | ObjectId
  | { tag: number; value: Uint8Array | JsValue[] }
  | JsValue[];

/**
 * A plain JS rendering of one value: numbers for Unsigned/Signed/REAL/Double/ENUMERATED (bigint
 * beyond 2^53), strings, booleans, `null`, bit arrays, `{type, instance}` identifiers, Date and
 * Time records. Context data keeps its tag. Enumerations stay numbers here; the datatype table
 * names them.
 */
export function valueToJs(v: BacnetValue): JsValue {
  switch (v.type) {
    case 'null': return null;
    case 'context': return { tag: v.tag, value: v.value };
    case 'constructed': return { tag: v.tag, value: v.value.map(valueToJs) };
    default: return v.value;
  }
}

/** Structural equality of two value lists (for caches, COV comparison and tests). */
export function valuesEqual(a: readonly BacnetValue[], b: readonly BacnetValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!valueEqual(a[i]!, b[i]!)) return false;
  return true;
}

export function valueEqual(a: BacnetValue, b: BacnetValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'null': return true;
    case 'constructed': {
      const bb = b as typeof a;
      return a.tag === bb.tag && valuesEqual(a.value, bb.value);
    }
    case 'context': {
      const bb = b as typeof a;
      return a.tag === bb.tag && bytesEqual(a.value, bb.value);
    }
    case 'octet-string': return bytesEqual(a.value, (b as typeof a).value);
    case 'bit-string': {
      const x = (b as typeof a).value;
      return a.value.length === x.length && a.value.every((bit, i) => bit === x[i]);
    }
    case 'character-string': return a.value === (b as typeof a).value;
    case 'real':
    case 'double': {
      const x = (b as typeof a).value;
      return a.value === x || (Number.isNaN(a.value) && Number.isNaN(x));
    }
    case 'date':
    case 'time':
    case 'object-identifier': {
      const x = (b as typeof a).value as unknown as Record<string, number>;
      const y = a.value as unknown as Record<string, number>;
      return Object.keys(y).every((k) => y[k] === x[k]);
    }
    default: return a.value === (b as typeof a).value;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
