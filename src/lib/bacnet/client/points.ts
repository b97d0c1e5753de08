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
 *
 * What a reader reads beside a point (Status_Flags; Object_Name, Units and Reliability once, and
 * Reliability again while in fault) and how it folds the answers into the point's metadata:
 * pointRefs and absorbReadings.
 */
import type { ObjectId } from '../codec/primitives';
import type { BacnetValue } from '../codec/values';
import { BacnetValueError, decodeProperty, formatObjectId, parseObjectId, parsePropertyId } from '../codec/js';
import { PropertyIdentifier } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import { EngineeringUnits, unitSymbol } from '../enums/engineering-units';
import type { PropertyRef } from './rpm-budget';
import type { ReadResult } from './client';
import { isOffline } from './failures';

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

/** Key of a property reference (object, property, array index) for maps of read results. */
export const refKey = (r: Pick<PropertyRef, 'objectId' | 'propertyId' | 'arrayIndex'>): string =>
  `${r.objectId.type}:${r.objectId.instance}:${r.propertyId}:${r.arrayIndex ?? ''}`;

/** Object types with a Units property. */
export const UNIT_TYPES: ReadonlySet<number> = new Set<number>([
  ObjectType.analogInput, ObjectType.analogOutput, ObjectType.analogValue, ObjectType.loop, ObjectType.accumulator,
  ObjectType.pulseConverter, ObjectType.integerValue, ObjectType.positiveIntegerValue, ObjectType.largeAnalogValue, ObjectType.averaging,
]);
/** Object types whose present value has no Status_Flags, Units or Reliability read beside it. */
const NO_STATUS = new Set<number>([ObjectType.device, ObjectType.file, ObjectType.notificationClass, ObjectType.calendar, ObjectType.schedule]);

/** A Units value by name and symbol ('degrees-celsius', '°C'); undefined when it is not one. */
export function unitsOf(values: readonly BacnetValue[] | undefined): { units: string; unitSymbol?: string } | undefined {
  const v = values?.[0];
  if (v?.type !== 'enumerated') return undefined;
  const sym = unitSymbol(v.value);
  return sym ? { units: EngineeringUnits.label(v.value), unitSymbol: sym } : { units: EngineeringUnits.label(v.value) };
}

/** What a reader knows of a point of one device besides its value. */
export interface PointMeta {
  name?: string;
  units?: string;
  unitSymbol?: string;
  statusFlags?: Record<string, boolean>;
  reliability?: string;
  /** Name, units and reliability have been read. */
  loaded?: boolean;
}

/** True for a present value whose name, units and reliability are still to be read (or again: it is in fault). */
export function needsMeta(p: PointSpec, m: PointMeta): boolean {
  return p.propertyId === PropertyIdentifier.presentValue && !NO_STATUS.has(p.objectId.type) && (!m.loaded || m.statusFlags?.fault === true);
}

/**
 * The properties to read for `list`, de-duplicated: each point, the Status_Flags of present
 * values and, with `withMeta`, what needsMeta asks for (Object_Name unless the point has a name of
 * the user's, Units of objects that have them, Reliability; only Reliability once loaded).
 */
export function pointRefs(list: readonly PointSpec[], metaOf: (p: PointSpec) => PointMeta, withMeta: boolean): PropertyRef[] {
  const P = PropertyIdentifier;
  const refs: PropertyRef[] = [];
  const seen = new Set<string>();
  const add = (r: PropertyRef): void => {
    const k = refKey(r);
    if (seen.has(k)) return;
    seen.add(k);
    refs.push(r);
  };
  for (const p of list) {
    add(p.arrayIndex !== undefined ? { objectId: p.objectId, propertyId: p.propertyId, arrayIndex: p.arrayIndex } : { objectId: p.objectId, propertyId: p.propertyId });
    if (p.propertyId !== P.presentValue || NO_STATUS.has(p.objectId.type)) continue;
    add({ objectId: p.objectId, propertyId: P.statusFlags });
    const m = metaOf(p);
    if (!withMeta || !needsMeta(p, m)) continue;
    if (!m.loaded) {
      if (!p.name) add({ objectId: p.objectId, propertyId: P.objectName });
      if (UNIT_TYPES.has(p.objectId.type)) add({ objectId: p.objectId, propertyId: P.units });
    }
    add({ objectId: p.objectId, propertyId: P.reliability });
  }
  return refs;
}

/** One point's outcome of a read: its value or why it has none. */
export interface PointReading {
  p: PointSpec;
  value?: BacnetValue[];
  error?: Error;
}

/**
 * Folds read results (or COV values), keyed by refKey, into each point's metadata; `markLoaded`
 * records that name, units and reliability were asked for (unless the device was offline).
 */
export function absorbReadings(list: readonly PointSpec[], results: ReadonlyMap<string, ReadResult>, metaOf: (p: PointSpec) => PointMeta, markLoaded: boolean): PointReading[] {
  const P = PropertyIdentifier;
  return list.map((p) => {
    const m = metaOf(p);
    const get = (propertyId: number): ReadResult | undefined => results.get(refKey({ objectId: p.objectId, propertyId }));
    const sf = get(P.statusFlags);
    if (sf?.value) {
      const f = renderValue(p.objectId.type, P.statusFlags, sf.value);
      if (f && typeof f === 'object' && !Array.isArray(f)) m.statusFlags = f as Record<string, boolean>;
    }
    const name = get(P.objectName);
    if (name?.value) m.name = String(renderValue(p.objectId.type, P.objectName, name.value));
    const u = unitsOf(get(P.units)?.value);
    if (u) {
      m.units = u.units;
      if (u.unitSymbol) m.unitSymbol = u.unitSymbol;
    }
    const rel = get(P.reliability);
    if (rel?.value) m.reliability = String(renderValue(p.objectId.type, P.reliability, rel.value));
    if (markLoaded && p.propertyId === P.presentValue && !(name?.error && isOffline(name.error))) m.loaded = true;
    const own = results.get(refKey(p));
    if (!own) return { p, error: new Error('not read') };
    return own.error ? { p, error: own.error } : { p, value: own.value ?? [] };
  });
}
