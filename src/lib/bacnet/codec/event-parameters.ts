/**
 * BACnetNotificationParameters (ASHRAE 135-2020 Clause 13.3 algorithms, Clause 21 production):
 * the event-values of Confirmed/UnconfirmedEventNotification. The CHOICE tag is the event
 * type; each event type is a SEQUENCE of context-tagged fields that the table below describes,
 * so one decoder and one encoder serve them all. Event types without a table entry (extended,
 * access-event, change-of-timer, vendor types) keep their elements as generic values.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { atClosingTag, atAnyContextTag, expectClosing, expectOpening, readTag, TagKind, writeClosing, writeOpening } from './tags';
import {
  putBitString, putCharacterString, putDouble, putEnumerated, putReal, putSigned, putUnsigned,
} from './primitives';
import {
  ctxBitString, ctxCharacterString, ctxDouble, ctxEnumerated, ctxReal, ctxSigned, ctxUnsigned,
} from './fields';
import {
  type DeviceObjectPropertyReference, type PropertyStates, type PropertyValue,
  readDeviceObjectPropertyReference, readPropertyStates, readPropertyValueList, writeDeviceObjectPropertyReference,
  writePropertyStates, writePropertyValue,
} from './constructed';
import { type BacnetValue, decodeValues, encodeValues } from './values';

type FieldKind =
  | 'real' | 'double' | 'unsigned' | 'signed' | 'enumerated' | 'bit-string' | 'character-string'
  | 'abstract' | 'property-states' | 'cov-new-value' | 'property-values' | 'device-object-property-reference';

interface FieldSpec {
  tag: number;
  name: string;
  kind: FieldKind;
  optional?: boolean;
}

const F = (tag: number, name: string, kind: FieldKind, optional = false): FieldSpec => ({ tag, name, kind, optional });
const SF = (tag: number): FieldSpec => F(tag, 'statusFlags', 'bit-string');

/** Fields of each event type's parameters, by event type (= CHOICE tag). */
const EVENT_FIELDS: Readonly<Record<number, readonly FieldSpec[]>> = {
  0: [F(0, 'referencedBitstring', 'bit-string'), SF(1)],
  1: [F(0, 'newState', 'property-states'), SF(1)],
  2: [F(0, 'newValue', 'cov-new-value'), SF(1)],
  3: [F(0, 'commandValue', 'abstract'), SF(1), F(2, 'feedbackValue', 'abstract')],
  4: [F(0, 'referenceValue', 'real'), SF(1), F(2, 'setpointValue', 'real'), F(3, 'errorLimit', 'real')],
  5: [F(0, 'exceedingValue', 'real'), SF(1), F(2, 'deadband', 'real'), F(3, 'exceededLimit', 'real')],
  8: [F(0, 'newState', 'enumerated'), F(1, 'newMode', 'enumerated'), SF(2), F(3, 'operationExpected', 'enumerated')],
  10: [F(0, 'bufferProperty', 'device-object-property-reference'), F(1, 'previousNotification', 'unsigned'), F(2, 'currentNotification', 'unsigned')],
  11: [F(0, 'exceedingValue', 'unsigned'), SF(1), F(2, 'exceededLimit', 'unsigned')],
  14: [F(0, 'exceedingValue', 'double'), SF(1), F(2, 'deadband', 'double'), F(3, 'exceededLimit', 'double')],
  15: [F(0, 'exceedingValue', 'signed'), SF(1), F(2, 'deadband', 'unsigned'), F(3, 'exceededLimit', 'signed')],
  16: [F(0, 'exceedingValue', 'unsigned'), SF(1), F(2, 'deadband', 'unsigned'), F(3, 'exceededLimit', 'unsigned')],
  17: [F(0, 'changedValue', 'character-string'), SF(1), F(2, 'alarmValue', 'character-string')],
  18: [F(0, 'presentValue', 'abstract', true), F(1, 'referencedFlags', 'bit-string')],
  19: [F(0, 'reliability', 'enumerated'), SF(1), F(2, 'propertyValues', 'property-values')],
  21: [F(0, 'newValue', 'abstract'), SF(1)],
};

/** change-of-value new-value: CHOICE { changed-bits [0] BIT STRING, changed-value [1] REAL }. */
export type CovNewValue = { changedBits: boolean[] } | { changedValue: number };

export type EventParameter =
  | number | string | boolean[] | BacnetValue[] | PropertyStates | CovNewValue | PropertyValue[]
  | DeviceObjectPropertyReference;

/**
 * Decoded event values. `parameters` holds the named fields of known event types
 * (`{ exceedingValue: 85.2, statusFlags: [...], deadband: 1, exceededLimit: 80 }` for
 * out-of-range); `raw` holds the elements of event types this table does not describe.
 */
export interface NotificationParameters {
  eventType: number;
  parameters: Record<string, EventParameter>;
  raw?: BacnetValue[];
}

function readField(r: Reader, f: FieldSpec): EventParameter {
  switch (f.kind) {
    case 'real': return ctxReal(r, f.tag, f.name);
    case 'double': return ctxDouble(r, f.tag, f.name);
    case 'unsigned': return ctxUnsigned(r, f.tag, f.name);
    case 'signed': return ctxSigned(r, f.tag, f.name);
    case 'enumerated': return ctxEnumerated(r, f.tag, f.name);
    case 'bit-string': return ctxBitString(r, f.tag, f.name);
    case 'character-string': return ctxCharacterString(r, f.tag, f.name);
    default: break;
  }
  expectOpening(r, f.tag, f.name);
  let out: EventParameter;
  switch (f.kind) {
    case 'abstract': out = decodeValues(r, f.tag, 2); break;
    case 'property-states': out = readPropertyStates(r); break;
    case 'property-values': out = readPropertyValueList(r, f.tag); break;
    case 'device-object-property-reference': out = readDeviceObjectPropertyReference(r); break;
    case 'cov-new-value': {
      const t = readTag(r);
      if (t.context && t.kind === TagKind.Primitive && t.number === 0) {
        r.pos = t.start;
        out = { changedBits: ctxBitString(r, 0, 'changed bits') };
      } else if (t.context && t.kind === TagKind.Primitive && t.number === 1) {
        r.pos = t.start;
        out = { changedValue: ctxReal(r, 1, 'changed value') };
      } else {
        r.pos = t.start;
        return r.fail('new value', 'expected changed-bits [0] or changed-value [1]');
      }
      break;
    }
  }
  expectClosing(r, f.tag, f.name);
  return out;
}

function writeField(w: Writer, f: FieldSpec, v: EventParameter): void {
  const bad = (): never => {
    throw new LocalProtocolError(`event parameter ${f.name}: ${JSON.stringify(v)} is not a ${f.kind}`);
  };
  switch (f.kind) {
    case 'real': return typeof v === 'number' ? putReal(w, v, f.tag) : bad();
    case 'double': return typeof v === 'number' ? putDouble(w, v, f.tag) : bad();
    case 'unsigned': return typeof v === 'number' ? putUnsigned(w, v, f.tag) : bad();
    case 'signed': return typeof v === 'number' ? putSigned(w, v, f.tag) : bad();
    case 'enumerated': return typeof v === 'number' ? putEnumerated(w, v, f.tag) : bad();
    case 'bit-string': return Array.isArray(v) ? putBitString(w, v as boolean[], f.tag) : bad();
    case 'character-string': return typeof v === 'string' ? putCharacterString(w, v, f.tag) : bad();
    default: break;
  }
  writeOpening(w, f.tag);
  switch (f.kind) {
    case 'abstract': encodeValues(w, v as BacnetValue[]); break;
    case 'property-states': writePropertyStates(w, v as PropertyStates); break;
    case 'property-values': for (const pv of v as PropertyValue[]) writePropertyValue(w, pv); break;
    case 'device-object-property-reference': writeDeviceObjectPropertyReference(w, v as DeviceObjectPropertyReference); break;
    case 'cov-new-value': {
      const nv = v as CovNewValue;
      if ('changedBits' in nv) putBitString(w, nv.changedBits, 0);
      else putReal(w, nv.changedValue, 1);
      break;
    }
  }
  writeClosing(w, f.tag);
}

/** Read the parameters inside the event-type choice tag (reader just after its opening tag). */
function readParameterFields(r: Reader, eventType: number): NotificationParameters {
  const spec = EVENT_FIELDS[eventType];
  if (!spec) return { eventType, parameters: {}, raw: decodeValues(r, eventType, 2) };
  const parameters: Record<string, EventParameter> = {};
  for (const f of spec) {
    if (f.optional && !atAnyContextTag(r, f.tag)) continue;
    parameters[f.name] = readField(r, f);
  }
  return { eventType, parameters };
}

/**
 * Decode BACnetNotificationParameters (the reader is at the choice's opening tag; the caller
 * has consumed the production's own wrapper tag).
 */
export function readNotificationParameters(r: Reader): NotificationParameters {
  const t = readTag(r);
  if (!t.context || t.kind !== TagKind.Opening) {
    r.pos = t.start;
    r.fail('event values', 'expected the opening tag of an event-type choice');
  }
  const out = readParameterFields(r, t.number);
  if (!atClosingTag(r, t.number)) r.fail('event values', `extra data in event type [${t.number}]`);
  expectClosing(r, t.number, 'event values');
  return out;
}

export function writeNotificationParameters(w: Writer, p: NotificationParameters): void {
  writeOpening(w, p.eventType);
  const spec = EVENT_FIELDS[p.eventType];
  if (!spec || p.raw) {
    encodeValues(w, p.raw ?? []);
  } else {
    for (const f of spec) {
      const v = p.parameters[f.name];
      if (v === undefined) {
        if (f.optional) continue;
        throw new LocalProtocolError(`event type ${p.eventType}: parameter ${f.name} is required`);
      }
      writeField(w, f, v);
    }
  }
  writeClosing(w, p.eventType);
}
