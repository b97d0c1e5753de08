/**
 * Objects described in plain JavaScript (the bacnet-server editor table and msgs) and their
 * values rendered back as plain JavaScript (ASHRAE 135-2020 Clause 12 object types and
 * properties; the codec's datatype table decides every encoding, codec/js.ts).
 *
 *   { type: 'analog-value', instance: 3, name: 'Setpoint', units: 'degrees-celsius', value: 21,
 *     access: 'commandable', covIncrement: 0.5 }
 *   { type: 'multi-state-value', name: 'Mode', states: ['Off', 'Heat', 'Cool'], value: 1 }
 *   { type: 'binary-input', name: 'Door', states: 'closed, open', properties: { 'alarm-value': 'active' } }
 */
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { EngineeringUnits, unitSymbol } from '../enums/engineering-units';
import { MAX_INSTANCE, type ObjectId } from '../codec/primitives';
import { type BacnetValue, Value } from '../codec/values';
import { decodeProperty, encodeProperty, formatObjectId } from '../codec/js';
import { FieldlinkError } from '../../wire/errors';
import type { BacnetObject, ObjectInit } from '../objects/object';
import { FileObject } from '../objects/file';
import { objectTypeDef } from '../objects/types';

export type ObjectAccess = 'read-only' | 'writable' | 'commandable';

export interface ObjectSpec {
  /** Object type in any accepted spelling ('analog-value', 'av', 'analogValue', 2). */
  type: string | number;
  /** Instance 0..4194302; omitted: the next free one. */
  instance?: number | string;
  name: string;
  description?: string;
  /** Engineering units by name ('degrees-celsius') or number. */
  units?: string | number;
  /** Initial present value (plain JS, or editor text). */
  value?: unknown;
  access?: ObjectAccess;
  covIncrement?: number | string;
  /** Multi-state: state texts; binary: inactive and active texts. Array or comma-separated text. */
  states?: string | string[];
  /** Other properties by name -> plain JS value. */
  properties?: Record<string, unknown>;
  /** May DeleteObject / msg delete remove it. */
  deletable?: boolean;
}

/** A spec that cannot become an object (local input, in words). */
export class ObjectSpecError extends FieldlinkError {
  constructor(message: string) {
    super('EBACNETSPEC', message);
  }
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function states(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v.map(text) : text(v).split(/[,;|]/);
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Object type number of a spec (throws ObjectSpecError for unknown or unhosted types). */
export function specType(type: string | number): number {
  const t = ObjectType.lookup(type);
  if (t === undefined) throw new ObjectSpecError(`unknown object type ${JSON.stringify(type)}`);
  if (!objectTypeDef(t) || t === ObjectType.device) throw new ObjectSpecError(`object type ${ObjectType.label(t)} cannot be hosted here`);
  return t;
}

/**
 * The object type and ObjectInit of a spec. `nextInstance` gives the instance when the spec has
 * none. Throws ObjectSpecError (or the codec's BacnetValueError) with a readable message.
 */
export function specToInit(spec: ObjectSpec, nextInstance: (type: number) => number): { type: number; init: ObjectInit } {
  const type = specType(spec.type);
  const def = objectTypeDef(type)!;
  const name = text(spec.name).trim();
  if (!name) throw new ObjectSpecError(`an object of type ${def.name} has no name`);
  const what = `${name} (${def.name})`;
  let instance: number;
  if (spec.instance === undefined || spec.instance === '') instance = nextInstance(type);
  else {
    instance = Number(spec.instance);
    if (!Number.isInteger(instance) || instance < 0 || instance >= MAX_INSTANCE) throw new ObjectSpecError(`${what}: instance '${text(spec.instance)}' is not 0..4194302`);
  }
  const access = spec.access ?? 'read-only';
  if (!['read-only', 'writable', 'commandable'].includes(access)) throw new ObjectSpecError(`${what}: access '${text(access)}' is not read-only, writable or commandable`);
  if (access === 'commandable' && def.commandable === 'never') throw new ObjectSpecError(`${what}: a ${def.name} is not commandable`);
  const values: Array<[number, BacnetValue[]]> = [];
  const optional: number[] = [];
  let reporting = false;
  const has = (id: number): boolean => def.properties.some((d) => d.id === id);
  const put = (id: number, v: BacnetValue[]): void => {
    if (!has(id)) throw new ObjectSpecError(`${what}: a ${def.name} has no ${P.label(id)}`);
    if (def.reporting.includes(id)) reporting = true;
    optional.push(id);
    values.push([id, v]);
  };
  const st = states(spec.states);
  if (st.length) {
    if (def.family === 'multi-state') {
      put(P.numberOfStates, [Value.unsigned(st.length)]);
      put(P.stateText, st.map((s) => Value.characterString(s)));
    } else if (def.family === 'binary') {
      if (st.length !== 2) throw new ObjectSpecError(`${what}: binary objects take two state texts (inactive, active), not ${st.length}`);
      put(P.inactiveText, [Value.characterString(st[0]!)]);
      put(P.activeText, [Value.characterString(st[1]!)]);
    } else {
      throw new ObjectSpecError(`${what}: only binary and multi-state objects have state texts`);
    }
  }
  if (spec.units !== undefined && spec.units !== '') {
    const u = EngineeringUnits.lookup(spec.units);
    if (u === undefined) throw new ObjectSpecError(`${what}: unknown units ${JSON.stringify(spec.units)} (use a name such as degrees-celsius)`);
    put(P.units, [Value.enumerated(u)]);
  }
  if (spec.covIncrement !== undefined && spec.covIncrement !== '') put(P.covIncrement, encodeProperty(type, P.covIncrement, spec.covIncrement));
  for (const [key, v] of Object.entries(spec.properties ?? {})) {
    const id = P.lookup(key);
    if (id === undefined) throw new ObjectSpecError(`${what}: unknown property '${key}'`);
    if (id === P.objectName || id === P.objectIdentifier || id === P.objectType) continue;
    put(id, encodeProperty(type, id, v));
  }
  if (spec.value !== undefined && spec.value !== '' && spec.value !== null) {
    put(P.presentValue, encodeProperty(type, P.presentValue, spec.value));
  }
  const init: ObjectInit = { instance, name, values, optional, reporting };
  if (spec.description !== undefined && spec.description !== '') init.description = text(spec.description);
  if (access !== 'read-only') init.writable = true;
  if (access === 'commandable') init.commandable = true;
  if (spec.deletable) init.deletable = true;
  return { type, init };
}

/** Plain JS of a property value: numbers, booleans for binary present values, text, arrays, records. */
export function propertyJs(o: BacnetObject, propertyId: number, values?: BacnetValue[]): unknown {
  const v = values ?? o.read(propertyId);
  if (v.length === 1 && v[0]!.type === 'null') return null;
  const binaryPv = o.def.family === 'binary' && (propertyId === P.presentValue || propertyId === P.relinquishDefault || propertyId === P.alarmValue);
  if (binaryPv && v.length === 1 && v[0]!.type === 'enumerated') return v[0]!.value === 1;
  return decodeProperty(o.id.type, propertyId, v, undefined, { enumNames: propertyId !== P.presentValue, flags: true });
}

/**
 * Set a property of a local object from plain JS (the owner's side, no access rules): by name or
 * number, default the present value; a File's present value is its content (a Buffer for a stream
 * file, an array of Buffers for records, or text). An optional property missing from the object
 * is added; one of the intrinsic-reporting properties brings the rest of its group.
 */
export function setPropertyJs(o: BacnetObject, property: string | number | undefined, value: unknown, priority?: number): void {
  const pid = P.lookup(property === undefined || property === '' ? 'present-value' : property);
  if (pid === undefined) throw new ObjectSpecError(`unknown property '${text(property)}'`);
  if (o instanceof FileObject && pid === P.presentValue) {
    const data = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (data instanceof Uint8Array) o.setContent(data);
    else if (Array.isArray(data) && data.every((r) => r instanceof Uint8Array)) o.setContent(data as Uint8Array[]);
    else throw new ObjectSpecError('a File object takes a Buffer (stream), an array of Buffers (records) or text');
    return;
  }
  if (!o.has(pid)) {
    if (o.def.reporting.includes(pid)) for (const id of o.def.reporting) o.addProperty(id);
    else o.addProperty(pid);
  }
  o.setLocal(pid, encodeProperty(o.id.type, pid, value), priority === undefined ? {} : { priority });
}

/** The present value as plain JS (undefined for objects without one). */
export function presentValueJs(o: BacnetObject): unknown {
  return o.has(P.presentValue) ? propertyJs(o, P.presentValue) : undefined;
}

/** A summary of an object for msgs (identifier, name, type, units, status, priority array). */
export function describeObject(o: BacnetObject): Record<string, unknown> {
  const out: Record<string, unknown> = {
    objectId: formatObjectId(o.id),
    objectType: ObjectType.label(o.id.type),
    instance: o.id.instance,
    name: o.name,
  };
  if (o.has(P.units)) {
    const u = o.read(P.units)[0];
    if (u?.type === 'enumerated') {
      out.units = EngineeringUnits.label(u.value);
      const sym = unitSymbol(u.value);
      if (sym) out.unitSymbol = sym;
    }
  }
  if (o.has(P.statusFlags)) out.statusFlags = propertyJs(o, P.statusFlags);
  if (o.has(P.stateText)) out.stateText = propertyJs(o, P.stateText);
  if (o.priorityArray) {
    out.priorityArray = propertyJs(o, P.priorityArray);
    out.relinquishDefault = propertyJs(o, P.relinquishDefault);
    const c = o.read(P.currentCommandPriority)[0];
    out.currentPriority = c?.type === 'unsigned' ? Number(c.value) : null;
  }
  return out;
}

/** Every property of an object as plain JS, keyed by property name (errors as their text). */
export function objectPropertiesJs(o: BacnetObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of o.propertyIds()) {
    try {
      out[P.label(id)] = propertyJs(o, id);
    } catch (e) {
      out[P.label(id)] = { error: e instanceof Error ? e.message : String(e) };
    }
  }
  return out;
}

export function objectIdText(id: ObjectId): string {
  return formatObjectId(id);
}
