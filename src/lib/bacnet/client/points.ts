/**
 * Points as users write them and values as flows want them: a point is an object (any accepted
 * spelling of Clause 21 object types) and a property (default Present_Value), optionally an
 * array index; values are plain JS rendered through the property datatype table (Clause 12):
 * numbers, booleans for binary values, enumeration names, status flags as an object.
 *
 *   parsePoint('analog-input:1')                 -> { objectId: {type: 0, instance: 1}, propertyId: 85 }
 *   parsePoint('ai:1.units') / parsePoint('av:3.priority-array[8]')
 *   parsePoint({ type: 'analogValue', instance: 3, property: 'pv', name: 'Setpoint' })
 *   parsePoint({ object: 'bo:1', property: 'presentValue' })
 */
import type { ObjectId } from '../codec/primitives';
import type { BacnetValue } from '../codec/values';
import { BacnetValueError, decodeProperty, formatObjectId, parseObjectId, parsePropertyId } from '../codec/js';
import { PropertyIdentifier } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';

export interface PointSpec {
  objectId: ObjectId;
  propertyId: number;
  arrayIndex?: number;
  /** The user's label (else the object's name once read). */
  name?: string;
}

const STRING_POINT = /^\s*(.+?[:,/ ]\s*\d+)\s*(?:\.\s*([A-Za-z0-9_-]+)\s*(?:\[\s*(\d+)\s*\])?)?\s*$/;

function index(x: unknown): number | undefined {
  if (x === undefined || x === null || x === '') return undefined;
  const n = Number(x);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new BacnetValueError(`array index ${JSON.stringify(x)} is not a whole number >= 0`);
  return n;
}

function property(x: unknown, dflt: number): number {
  if (x === undefined || x === null || x === '') return dflt;
  if (typeof x !== 'string' && typeof x !== 'number') throw new BacnetValueError(`${JSON.stringify(x)} is not a property name or number`);
  return parsePropertyId(typeof x === 'string' && /^\d+$/.test(x.trim()) ? Number(x) : x);
}

/** A point from a string, an object or a [type, instance] pair (throws BacnetValueError in words). */
export function parsePoint(x: unknown, defaultProperty: number = PropertyIdentifier.presentValue): PointSpec {
  if (typeof x === 'string') {
    const m = STRING_POINT.exec(x);
    if (!m) throw new BacnetValueError(`'${x}' is not a point (write it as type:instance, e.g. analog-input:1 or ai:1.present-value)`);
    const out: PointSpec = { objectId: parseObjectId(m[1]), propertyId: property(m[2], defaultProperty) };
    const i = index(m[3]);
    if (i !== undefined) out.arrayIndex = i;
    return out;
  }
  if (Array.isArray(x)) return { objectId: parseObjectId(x), propertyId: defaultProperty };
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const obj = o.object ?? o.objectId ?? o.id ?? (('type' in o && 'instance' in o) ? { type: o.type, instance: o.instance } : undefined);
    if (obj === undefined) throw new BacnetValueError(`${JSON.stringify(x)} names no object (give object: 'analog-input:1' or type and instance)`);
    const out: PointSpec = { objectId: parseObjectId(obj), propertyId: property(o.property ?? o.propertyId ?? o.prop, defaultProperty) };
    const i = index(o.arrayIndex ?? o.index);
    if (i !== undefined) out.arrayIndex = i;
    if (typeof o.name === 'string' && o.name.trim()) out.name = o.name.trim();
    return out;
  }
  throw new BacnetValueError(`${JSON.stringify(x)} is not a point (e.g. 'analog-input:1' or { object: 'ai:1', property: 'present-value' })`);
}

/** 'analog-input:1' or 'analog-input:1.units' or 'analog-value:3.priority-array[8]'. */
export function formatPoint(p: Pick<PointSpec, 'objectId' | 'propertyId' | 'arrayIndex'>): string {
  const prop = p.propertyId === PropertyIdentifier.presentValue && p.arrayIndex === undefined ? '' : `.${PropertyIdentifier.label(p.propertyId)}`;
  return `${formatObjectId(p.objectId)}${prop}${p.arrayIndex !== undefined ? `[${p.arrayIndex}]` : ''}`;
}

const BINARY_TYPES = new Set<number>([ObjectType.binaryInput, ObjectType.binaryOutput, ObjectType.binaryValue]);
const BINARY_VALUED = new Set<number>([PropertyIdentifier.presentValue, PropertyIdentifier.relinquishDefault, PropertyIdentifier.feedbackValue, PropertyIdentifier.priorityArray, PropertyIdentifier.alarmValue]);

function toBool(v: unknown): unknown {
  if (v === 'active') return true;
  if (v === 'inactive') return false;
  if (Array.isArray(v)) return v.map(toBool);
  return v;
}

/**
 * A property value as plain JS for a msg: numbers, strings, booleans for binary present values
 * (true = active), enumeration names ('degrees-celsius', 'normal'), status flags as
 * { inAlarm, fault, overridden, outOfService }, arrays for arrays and lists. Never throws.
 */
export function renderValue(objectType: number, propertyId: number, values: readonly BacnetValue[], arrayIndex?: number): unknown {
  const v = decodeProperty(objectType, propertyId, values, arrayIndex, { enumNames: true, flags: true });
  if (BINARY_TYPES.has(objectType) && BINARY_VALUED.has(propertyId)) return toBool(v);
  // REAL values as the shortest decimal that is the same single-precision number (20.65, not 20.649999618530273)
  if (values.length && values.every((x) => x.type === 'real' || x.type === 'null')) return shortReals(v);
  return v;
}

/** The shortest decimal with the same float32 value. */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || Math.fround(x) !== x) return x;
  for (let p = 1; p <= 9; p++) {
    const c = Number(x.toPrecision(p));
    if (Math.fround(c) === x) return c;
  }
  return x;
}

function shortReals(v: unknown): unknown {
  if (typeof v === 'number') return shortestFloat32(v);
  if (Array.isArray(v)) return v.map(shortReals);
  return v;
}
