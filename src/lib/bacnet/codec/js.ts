/**
 * Plain JavaScript <-> BACnet values, guided by the property datatype table (datatypes.ts;
 * encodings of ASHRAE 135-2020 Clause 20.2, datatypes of Clause 12).
 *
 *   encodeProperty(ObjectType.binaryOutput, PropertyIdentifier.presentValue, true)
 *     -> [{ type: 'enumerated', value: 1 }]
 *   encodeProperty(ObjectType.analogOutput, PropertyIdentifier.presentValue, null)
 *     -> [{ type: 'null' }]                       (relinquish: always the NULL tag)
 *   decodeProperty(ObjectType.analogInput, PropertyIdentifier.units, [{ type: 'enumerated', value: 62 }], { enumNames: true })
 *     -> 'degrees-celsius'
 *
 * A tagged `BacnetValue` (or a list of them) given as input is used as is: that is the explicit
 * override when the table's choice is not what a device wants. Decoding never throws: values
 * that do not match the expected datatype are rendered generically.
 */
import { Reader } from '../../wire/reader';
import { Writer } from '../../wire/writer';
import { DecodeError, FieldlinkError } from '../../wire/errors';
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier } from '../enums/property-identifier';
import { type BacnetEnum, bitsToFlags, flagsToBits } from '../enums/enum';
import {
  type BacnetDate, type BacnetTime, type ObjectId, MAX_INSTANCE, dateFromJs, timeFromJs,
} from './primitives';
import {
  type BacnetValue, type JsValue, APPLICATION_TAG, bytesToValues, decodeApplicationContent, valueToJs, valuesToBytes,
} from './values';
import { readTag, TagKind } from './tags';
import * as K from './constructed';
import { type ConstructedName, type Datatype, elementDatatype, propertyDatatype } from './datatypes';

/** A JS value that cannot be encoded as the datatype asked for (local input, in words). */
export class BacnetValueError extends FieldlinkError {
  constructor(message: string) {
    super('EBACNETVALUE', message);
  }
}

export interface ToJsOptions {
  /** Render enumerations as their names ('active', 'degrees-celsius'); unknown values stay numbers. */
  enumNames?: boolean;
  /** Render bit strings with named bits as objects ({ inAlarm, fault, overridden, outOfService }). */
  flags?: boolean;
}

interface ConstructedCodec {
  read(r: Reader): unknown;
  write(w: Writer, x: never): void;
}
const CONSTRUCTED: Record<ConstructedName, ConstructedCodec> = {
  'log-record': { read: K.readLogRecord, write: K.writeLogRecord },
  'date-range': { read: K.readDateRange, write: K.writeDateRange },
  'daily-schedule': { read: K.readDailySchedule, write: K.writeDailySchedule },
  'special-event': { read: K.readSpecialEvent, write: K.writeSpecialEvent },
  'calendar-entry': { read: K.readCalendarEntry, write: K.writeCalendarEntry },
  destination: { read: K.readDestination, write: K.writeDestination },
  'cov-subscription': { read: K.readCovSubscription, write: K.writeCovSubscription },
  'address-binding': { read: K.readAddressBinding, write: K.writeAddressBinding },
  'device-object-property-reference': { read: K.readDeviceObjectPropertyReference, write: K.writeDeviceObjectPropertyReference },
  'object-property-reference': { read: K.readObjectPropertyReference, write: K.writeObjectPropertyReference },
  timestamp: { read: K.readTimeStamp, write: K.writeTimeStamp },
  recipient: { read: K.readRecipient, write: K.writeRecipient },
};

// ---------------------------------------------------------------------------------------------
// Identifiers

/**
 * An object identifier from 'analog-input:1', 'analogInput:1', 'ai:1', 'ai,1', 'ai 1', '0:1',
 * { type: 'ai' | 0, instance: 1 } or [0, 1].
 */
export function parseObjectId(x: unknown): ObjectId {
  let type: unknown;
  let instance: unknown;
  if (typeof x === 'string') {
    const m = /^\s*([A-Za-z0-9_\- ]*?[A-Za-z0-9_])\s*[:,/ ]\s*(\d+)\s*$/.exec(x);
    if (!m) throw new BacnetValueError(`'${x}' is not an object identifier (write it as type:instance, e.g. analog-input:1)`);
    type = m[1];
    instance = Number(m[2]);
  } else if (Array.isArray(x) && x.length === 2) {
    [type, instance] = x as unknown[];
  } else if (x && typeof x === 'object' && 'type' in x && 'instance' in x) {
    ({ type, instance } = x as { type: unknown; instance: unknown });
  } else {
    throw new BacnetValueError(`${JSON.stringify(x)} is not an object identifier`);
  }
  const t = typeof type === 'number' || typeof type === 'string' ? ObjectType.lookup(type) : undefined;
  if (t === undefined) throw new BacnetValueError(`unknown object type ${JSON.stringify(type)}`);
  const i = typeof instance === 'string' ? Number(instance) : instance;
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i > MAX_INSTANCE) {
    throw new BacnetValueError(`object instance ${JSON.stringify(instance)} is outside 0..${MAX_INSTANCE}`);
  }
  return { type: t, instance: i };
}

/** 'analog-input:1' (vendor types as their number: '600:1'). */
export function formatObjectId(id: ObjectId): string {
  return `${ObjectType.label(id.type)}:${id.instance}`;
}

/** A property identifier from a name in any accepted spelling ('present-value', 'pv') or number. */
export function parsePropertyId(x: string | number): number {
  const v = PropertyIdentifier.lookup(x);
  if (v === undefined) throw new BacnetValueError(`unknown property ${JSON.stringify(x)}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// JS -> values

const VALUE_TYPES = new Set<string>([...Object.keys(APPLICATION_TAG), 'context', 'constructed']);

/** True when `x` is already a tagged BacnetValue. */
export function isBacnetValue(x: unknown): x is BacnetValue {
  return !!x && typeof x === 'object' && !Array.isArray(x) && typeof (x as { type?: unknown }).type === 'string'
    && VALUE_TYPES.has((x as { type: string }).type) && ((x as { type: string }).type === 'null' || 'value' in x);
}

function describe(js: unknown): string {
  if (typeof js === 'string') return `'${js}'`;
  if (typeof js === 'bigint') return js.toString();
  try {
    return JSON.stringify(js) ?? String(js);
  } catch {
    return String(js);
  }
}

function toNumber(js: unknown, what: string): number {
  if (typeof js === 'number' && Number.isFinite(js)) return js;
  if (typeof js === 'string' && js.trim() !== '' && Number.isFinite(Number(js))) return Number(js);
  if (typeof js === 'boolean') return js ? 1 : 0;
  if (typeof js === 'number') return js; // NaN and infinities are valid REAL/Double values
  throw new BacnetValueError(`expected a number for ${what}, got ${describe(js)}`);
}

function toInteger(js: unknown, what: string, signed: boolean): number | bigint {
  if (typeof js === 'bigint') {
    if (!signed && js < 0n) throw new BacnetValueError(`${what} cannot be negative (${js})`);
    return js;
  }
  const n = toNumber(js, what);
  if (!Number.isSafeInteger(n)) throw new BacnetValueError(`expected a whole number for ${what}, got ${describe(js)}`);
  if (!signed && n < 0) throw new BacnetValueError(`${what} cannot be negative (${n})`);
  return n;
}

function toBoolean(js: unknown, what: string): boolean {
  if (typeof js === 'boolean') return js;
  if (js === 1 || js === 0) return js === 1;
  if (typeof js === 'string') {
    const s = js.trim().toLowerCase();
    if (['true', '1', 'on', 'active', 'yes'].includes(s)) return true;
    if (['false', '0', 'off', 'inactive', 'no'].includes(s)) return false;
  }
  throw new BacnetValueError(`expected true or false for ${what}, got ${describe(js)}`);
}

function toEnumerated(js: unknown, e: BacnetEnum | undefined, what: string): number {
  if (typeof js === 'boolean' && e && e.size === 2 && e.lookup('active') !== undefined) return js ? 1 : 0;
  if (typeof js === 'number' || typeof js === 'string') {
    const v = e ? e.lookup(js) : typeof js === 'number' ? js : Number.isInteger(Number(js)) ? Number(js) : undefined;
    if (v !== undefined && Number.isInteger(v) && v >= 0) return v;
  }
  const names = e && e.size <= 8 ? ` (one of ${e.names().join(', ')})` : '';
  throw new BacnetValueError(`${describe(js)} is not a valid ${e ? e.title : 'enumerated value'} for ${what}${names}`);
}

function toOctets(js: unknown, what: string): Uint8Array {
  if (js instanceof Uint8Array) return js;
  if (Array.isArray(js) && js.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(js as number[]);
  if (typeof js === 'string' && /^([0-9a-fA-F]{2})*$/.test(js.replace(/[\s:-]/g, ''))) {
    const hex = js.replace(/[\s:-]/g, '');
    return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  }
  throw new BacnetValueError(`expected bytes (Buffer, array or hex text) for ${what}, got ${describe(js)}`);
}

function toDate(js: unknown, what: string): BacnetDate {
  if (js instanceof Date) return dateFromJs(js);
  if (typeof js === 'string') {
    const m = /^(\d{4}|\*)-(\d{1,2}|\*)-(\d{1,2}|\*)$/.exec(js.trim());
    if (m) {
      const p = (s: string): number => (s === '*' ? 255 : Number(s));
      const d: BacnetDate = { year: p(m[1]!), month: p(m[2]!), day: p(m[3]!), weekday: 255 };
      if (d.year !== 255 && d.month !== 255 && d.day !== 255) {
        const wd = new Date(d.year, d.month - 1, d.day).getDay();
        d.weekday = wd === 0 ? 7 : wd;
      }
      return d;
    }
  }
  if (js && typeof js === 'object' && 'year' in js && 'month' in js && 'day' in js) {
    const o = js as Partial<BacnetDate>;
    return { year: Number(o.year), month: Number(o.month), day: Number(o.day), weekday: Number(o.weekday ?? 255) };
  }
  throw new BacnetValueError(`expected a date (Date, 'YYYY-MM-DD' or {year, month, day}) for ${what}, got ${describe(js)}`);
}

function toTime(js: unknown, what: string): BacnetTime {
  if (js instanceof Date) return timeFromJs(js);
  if (typeof js === 'string') {
    const m = /^(\d{1,2}|\*):(\d{1,2}|\*)(?::(\d{1,2}|\*)(?:\.(\d{1,2}|\*))?)?$/.exec(js.trim());
    if (m) {
      const p = (s: string | undefined): number => (s === undefined ? 0 : s === '*' ? 255 : Number(s));
      return { hour: p(m[1]), minute: p(m[2]), second: p(m[3]), hundredths: p(m[4]) };
    }
  }
  if (js && typeof js === 'object' && 'hour' in js) {
    const o = js as Partial<BacnetTime>;
    return { hour: Number(o.hour), minute: Number(o.minute ?? 0), second: Number(o.second ?? 0), hundredths: Number(o.hundredths ?? 0) };
  }
  throw new BacnetValueError(`expected a time (Date, 'hh:mm:ss' or {hour, minute, second}) for ${what}, got ${describe(js)}`);
}

function toDateTime(js: unknown, what: string): K.DateTime {
  if (js instanceof Date) return { date: dateFromJs(js), time: timeFromJs(js) };
  if (typeof js === 'string' && !Number.isNaN(Date.parse(js))) return toDateTime(new Date(js), what);
  if (js && typeof js === 'object' && 'date' in js && 'time' in js) {
    const o = js as { date: unknown; time: unknown };
    return { date: toDate(o.date, what), time: toTime(o.time, what) };
  }
  throw new BacnetValueError(`expected a date and time (Date or {date, time}) for ${what}, got ${describe(js)}`);
}

function guess(js: unknown, what: string): BacnetValue[] {
  if (js === null) return [{ type: 'null' }];
  if (typeof js === 'boolean') return [{ type: 'boolean', value: js }];
  if (typeof js === 'number') {
    if (Number.isInteger(js)) return js >= 0 ? [{ type: 'unsigned', value: js }] : [{ type: 'signed', value: js }];
    return [{ type: 'real', value: js }];
  }
  if (typeof js === 'bigint') return js >= 0n ? [{ type: 'unsigned', value: js }] : [{ type: 'signed', value: js }];
  if (typeof js === 'string') return [{ type: 'character-string', value: js }];
  if (js instanceof Uint8Array) return [{ type: 'octet-string', value: js }];
  if (js instanceof Date) return [{ type: 'date', value: dateFromJs(js) }, { type: 'time', value: timeFromJs(js) }];
  if (Array.isArray(js)) return js.flatMap((x) => guess(x, what));
  throw new BacnetValueError(`cannot choose a BACnet type for ${describe(js)} (${what}); pass a tagged value such as { type: 'real', value: 1 }`);
}

/** Encode a JS value as datatype `d` (undefined or 'any': tagged values or a best guess). */
export function jsToValues(js: unknown, d: Datatype | undefined, what = 'the value'): BacnetValue[] {
  if (isBacnetValue(js)) return [js];
  if (Array.isArray(js) && js.length > 0 && js.every(isBacnetValue)) return js as BacnetValue[];
  if (!d || d.kind === 'any') return guess(js, what);
  switch (d.kind) {
    case 'null': return [{ type: 'null' }];
    case 'boolean': return [{ type: 'boolean', value: toBoolean(js, what) }];
    case 'unsigned': return [{ type: 'unsigned', value: toInteger(js, what, false) }];
    case 'signed': return [{ type: 'signed', value: toInteger(js, what, true) }];
    case 'real': return [{ type: 'real', value: toNumber(js, what) }];
    case 'double': return [{ type: 'double', value: toNumber(js, what) }];
    case 'octet-string': return [{ type: 'octet-string', value: toOctets(js, what) }];
    case 'character-string':
      if (typeof js !== 'string' && typeof js !== 'number') throw new BacnetValueError(`expected text for ${what}, got ${describe(js)}`);
      return [{ type: 'character-string', value: String(js) }];
    case 'date': return [{ type: 'date', value: toDate(js, what) }];
    case 'time': return [{ type: 'time', value: toTime(js, what) }];
    case 'date-time': {
      const dt = toDateTime(js, what);
      return [{ type: 'date', value: dt.date }, { type: 'time', value: dt.time }];
    }
    case 'object-identifier': return [{ type: 'object-identifier', value: parseObjectId(js) }];
    case 'enumerated': return [{ type: 'enumerated', value: toEnumerated(js, d.enum, what) }];
    case 'bit-string': {
      if (Array.isArray(js) && js.every((b) => typeof b === 'boolean' || b === 0 || b === 1)) {
        return [{ type: 'bit-string', value: js.map((b) => b === true || b === 1) }];
      }
      if (d.bits && js && typeof js === 'object') {
        try {
          return [{ type: 'bit-string', value: flagsToBits(d.bits, js as Record<string, boolean>) }];
        } catch (e) {
          throw new BacnetValueError(`${describe(js)} is not a valid set of ${d.bits.title}s for ${what}: ${(e as Error).message}`);
        }
      }
      throw new BacnetValueError(`expected a list of booleans for ${what}, got ${describe(js)}`);
    }
    case 'array':
    case 'list':
      if (!Array.isArray(js)) throw new BacnetValueError(`expected a list for ${what}, got ${describe(js)}`);
      return js.flatMap((x, i) => jsToValues(x, d.of, `${what}[${d.kind === 'array' ? i + 1 : i}]`));
    case 'optional':
      return js === null || js === undefined ? [{ type: 'null' }] : jsToValues(js, d.of, what);
    case 'constructed': {
      const w = new Writer(64);
      try {
        CONSTRUCTED[d.name].write(w, js as never);
      } catch (e) {
        throw new BacnetValueError(`${describe(js)} is not a valid ${d.name} for ${what}: ${(e as Error).message}`);
      }
      return bytesToValues(w.finish());
    }
    default:
      throw new BacnetValueError(`unsupported datatype ${JSON.stringify(d)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// values -> JS

function readTyped(r: Reader, d: Datatype, opts: ToJsOptions): unknown {
  switch (d.kind) {
    case 'array':
    case 'list': {
      const out: unknown[] = [];
      while (!r.done) out.push(readTyped(r, d.of, opts));
      return out;
    }
    case 'optional': {
      if (r.buf[r.pos] === 0x00) {
        r.pos++;
        return null;
      }
      return readTyped(r, d.of, opts);
    }
    case 'constructed': return CONSTRUCTED[d.name].read(r);
    case 'date-time': {
      const date = readApp(r, 'date') as BacnetDate;
      return { date, time: readApp(r, 'time') as BacnetTime };
    }
    case 'any': return readAny(r);
    case 'enumerated': {
      const v = readApp(r, 'enumerated') as number;
      return opts.enumNames && d.enum ? d.enum.nameOf(v) ?? v : v;
    }
    case 'bit-string': {
      const v = readApp(r, 'bit-string') as boolean[];
      return opts.flags && d.bits ? bitsToFlags(d.bits, v) : v;
    }
    default: return readApp(r, d.kind);
  }
}

function readApp(r: Reader, type: keyof typeof APPLICATION_TAG): unknown {
  const t = readTag(r);
  const tag = APPLICATION_TAG[type];
  if (t.context || t.kind !== TagKind.Primitive || t.number !== tag) {
    r.pos = t.start;
    r.fail(type, `expected application tag ${tag}`);
  }
  const v = decodeApplicationContent(r, t.number, t.length);
  return v.type === 'null' ? null : v.value;
}

function readAny(r: Reader): JsValue {
  const vs = bytesToValues(r.bytes(r.remaining));
  return vs.length === 1 ? valueToJs(vs[0]!) : vs.map(valueToJs);
}

/**
 * Render decoded values as plain JS for datatype `d`: a scalar for scalar types, arrays for
 * BACnetARRAY/List, records for constructed types. Mismatches fall back to the generic rendering
 * (one value -> its JS value, several -> an array).
 */
export function valuesToJs(values: readonly BacnetValue[], d: Datatype | undefined, opts: ToJsOptions = {}): unknown {
  const generic = (): unknown => (values.length === 1 ? valueToJs(values[0]!) : values.map(valueToJs));
  if (!d || d.kind === 'any') return generic();
  // Fast path for the common scalar case.
  if (values.length === 1) {
    const v = values[0]!;
    if (v.type === d.kind) {
      if (v.type === 'enumerated' && d.kind === 'enumerated') return opts.enumNames && d.enum ? d.enum.nameOf(v.value) ?? v.value : v.value;
      if (v.type === 'bit-string' && d.kind === 'bit-string') return opts.flags && d.bits ? bitsToFlags(d.bits, v.value) : v.value;
      return valueToJs(v);
    }
    if (d.kind === 'optional' && v.type === 'null') return null;
  }
  try {
    const r = new Reader(valuesToBytes(values));
    const out = readTyped(r, d, opts);
    if (!r.done) return generic();
    return out;
  } catch (e) {
    if (e instanceof DecodeError) return generic();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// By object type and property

/** Encode a JS value for (object type, property[, array index]) using the datatype table. */
export function encodeProperty(objectType: number, propertyId: number, js: unknown, arrayIndex?: number): BacnetValue[] {
  const d = elementDatatype(propertyDatatype(objectType, propertyId), arrayIndex);
  const what = `${PropertyIdentifier.label(propertyId)} of ${ObjectType.label(objectType)}`;
  // NULL relinquishes a commanded value: always the NULL tag, never coerced (19.2.2).
  if (js === null) return [{ type: 'null' }];
  return jsToValues(js, d, what);
}

/** Render a decoded property value as plain JS using the datatype table. */
export function decodeProperty(
  objectType: number,
  propertyId: number,
  values: readonly BacnetValue[],
  arrayIndex?: number,
  opts: ToJsOptions = {},
): unknown {
  return valuesToJs(values, elementDatatype(propertyDatatype(objectType, propertyId), arrayIndex), opts);
}
