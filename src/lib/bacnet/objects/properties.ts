/**
 * Property definitions as data (ASHRAE 135-2020 Clause 12: each object type's property table
 * with its datatype and conformance code R / W / O, and 12.1 for the properties every object has).
 *
 * A `PropertyDef` names a property, its datatype (taken from the codec's datatype table,
 * codec/datatypes.ts, unless the object type needs another), whether it is required or
 * optional, and how the network may write it:
 *   - 'read'          never writable over the network (fixed or computed by the server);
 *   - 'write'         writable when the object is marked writable (configuration properties);
 *   - 'present-value' the present value: commanded through the priority array on commandable
 *                     objects, writable on writable non-commandable objects, and on input objects
 *                     only while Out_Of_Service is TRUE (12.2, 12.4, 12.18).
 *
 * Groups (`IDENTITY`, `STATUS`, `COMMANDABLE`, `OUT_OF_RANGE_REPORTING`, ...) are reused by the
 * object-type table in types.ts.
 */
import { PropertyIdentifier } from '../enums/property-identifier';
import type { Datatype } from '../codec/datatypes';
import { propertyDatatype } from '../codec/datatypes';
import { LocalProtocolError } from '../../wire/errors';

export type PropertyAccess = 'read' | 'write' | 'present-value';

export interface PropertyDef {
  id: number;
  name: string;
  /** Datatype for this object type; undefined = use the codec table for (type, property). */
  datatype?: Datatype;
  access: PropertyAccess;
  required: boolean;
}

/** A property template (no object type bound yet). */
export type PropertyTemplate = Omit<PropertyDef, 'id'> & { id: number };

function make(name: string, access: PropertyAccess, required: boolean, datatype?: Datatype): PropertyTemplate {
  const id = PropertyIdentifier.lookup(name);
  if (id === undefined) throw new LocalProtocolError(`unknown property '${name}' in an object table`);
  return datatype ? { id, name, access, required, datatype } : { id, name, access, required };
}

/** Required property. */
export const req = (name: string, access: PropertyAccess = 'read', datatype?: Datatype): PropertyTemplate => make(name, access, true, datatype);
/** Optional property. */
export const opt = (name: string, access: PropertyAccess = 'read', datatype?: Datatype): PropertyTemplate => make(name, access, false, datatype);

/** Datatypes the codec table leaves open or does not list. */
export const EXTRA_DATATYPES = {
  /** BACnetClientCOV ::= CHOICE { real-increment REAL, default-increment NULL } (12.25). */
  clientCovIncrement: { kind: 'optional', of: { kind: 'real' } } as Datatype,
  /** Bit_Text of the BitString Value object: BACnetARRAY of CharacterString. */
  bitText: { kind: 'array', of: { kind: 'character-string' } } as Datatype,
} as const;

/** Properties of every object (12.1): identity and Property_List. */
export const IDENTITY: PropertyTemplate[] = [
  req('object-identifier'),
  req('object-name'),
  req('object-type'),
  opt('description', 'write'),
  req('property-list'),
];

/** Status of a value object: Status_Flags, Event_State, Reliability, Out_Of_Service. */
export const STATUS: PropertyTemplate[] = [
  req('status-flags'),
  req('event-state'),
  opt('reliability', 'write'),
  req('out-of-service', 'write'),
];

/** Status where the object table marks Event_State and Out_Of_Service optional (value objects of 12.36..12.48). */
export const STATUS_OPTIONAL: PropertyTemplate[] = [
  req('status-flags'),
  opt('event-state'),
  opt('reliability', 'write'),
  opt('out-of-service', 'write'),
];

/** Command prioritization (19.2): Priority_Array, Relinquish_Default, Current_Command_Priority. */
export const COMMANDABLE: PropertyTemplate[] = [
  req('priority-array'),
  req('relinquish-default', 'write'),
  req('current-command-priority'),
];

/** Analog range and COV properties. */
export const ANALOG_RANGE: PropertyTemplate[] = [
  opt('min-pres-value'),
  opt('max-pres-value'),
  opt('resolution'),
  opt('cov-increment', 'write'),
];

/** Properties every intrinsically reporting object carries (13.2, 12.x "intrinsic reporting"). */
const REPORTING_COMMON: PropertyTemplate[] = [
  opt('time-delay', 'write'),
  opt('notification-class', 'write'),
  opt('event-enable', 'write'),
  opt('acked-transitions'),
  opt('notify-type', 'write'),
  opt('event-time-stamps'),
  opt('event-detection-enable'),
  opt('time-delay-normal', 'write'),
  opt('event-message-texts'),
];

/** OUT_OF_RANGE reporting (13.3.6) of analog objects. */
export const OUT_OF_RANGE_REPORTING: PropertyTemplate[] = [
  ...REPORTING_COMMON,
  opt('high-limit', 'write'),
  opt('low-limit', 'write'),
  opt('deadband', 'write'),
  opt('limit-enable', 'write'),
];

/** CHANGE_OF_STATE reporting (13.3.2) of binary objects. */
export const BINARY_STATE_REPORTING: PropertyTemplate[] = [...REPORTING_COMMON, opt('alarm-value', 'write')];

/** CHANGE_OF_STATE reporting (13.3.2) of multi-state objects. */
export const MULTI_STATE_REPORTING: PropertyTemplate[] = [...REPORTING_COMMON, opt('alarm-values', 'write')];

/** Names of the reporting properties (added together when an object reports). */
export function reportingIds(templates: readonly PropertyTemplate[]): number[] {
  return templates.map((t) => t.id);
}

/** Bind templates to an object type: fill each datatype from the codec table. */
export function bind(objectType: number, templates: readonly PropertyTemplate[]): PropertyDef[] {
  return templates.map((t) => {
    const datatype = t.datatype ?? propertyDatatype(objectType, t.id);
    return datatype ? { ...t, datatype } : { ...t };
  });
}
