/**
 * Does a written value fit a property's datatype? (ASHRAE 135-2020 Clause 15.9 and
 * 15.10: a value of the wrong datatype is refused with property / invalid-data-type; an
 * enumeration beyond its defined range with property / value-out-of-range.)
 *
 * Values arrive as the codec's tagged `BacnetValue[]`. An element of a constructed datatype
 * (BACnetDestination, BACnetDailySchedule, ...) may span several tagged values; it is checked
 * with the stack's own reader for that production (codec/constructed.ts), so a value that the
 * server stores is one the codec reads back.
 */
import { Reader } from '../../wire/reader';
import { DecodeError } from '../../wire/errors';
import * as K from '../codec/constructed';
import type { ConstructedName, Datatype } from '../codec/datatypes';
import { type BacnetValue, encodeValue, valuesToBytes } from '../codec/values';
import { Writer } from '../../wire/writer';
import { Errors } from './errors';

const CONSTRUCTED_READERS: Record<ConstructedName, (r: Reader) => unknown> = {
  'log-record': K.readLogRecord,
  'date-range': K.readDateRange,
  'daily-schedule': K.readDailySchedule,
  'special-event': K.readSpecialEvent,
  'calendar-entry': K.readCalendarEntry,
  destination: K.readDestination,
  'cov-subscription': K.readCovSubscription,
  'address-binding': K.readAddressBinding,
  'device-object-property-reference': K.readDeviceObjectPropertyReference,
  'object-property-reference': K.readObjectPropertyReference,
  timestamp: K.readTimeStamp,
  recipient: K.readRecipient,
};

/** Decode one element of a constructed datatype from tagged values (for engines reading their configuration). */
export function readConstructed<T>(name: ConstructedName, values: readonly BacnetValue[]): T {
  const r = new Reader(valuesToBytes(values));
  const out = CONSTRUCTED_READERS[name](r) as T;
  r.expectEnd(name);
  return out;
}

function encodedLength(v: BacnetValue): number {
  const w = new Writer(16);
  encodeValue(w, v);
  return w.finish().length;
}

/**
 * Number of tagged values that one element of datatype `d` takes, starting at `values[i]`;
 * -1 when the values there are not such an element.
 */
function consume(values: readonly BacnetValue[], i: number, d: Datatype): number {
  const v = values[i];
  if (!v) return -1;
  switch (d.kind) {
    case 'any': return 1;
    case 'date-time': return v.type === 'date' && values[i + 1]?.type === 'time' ? 2 : -1;
    case 'optional': return v.type === 'null' ? 1 : consume(values, i, d.of);
    case 'enumerated':
      if (v.type !== 'enumerated') return -1;
      return d.enum && v.value > d.enum.max ? -2 : 1;
    case 'array':
    case 'list':
      return -1; // nested collections do not occur in the properties served here
    case 'constructed': {
      const rest = values.slice(i);
      const bytes = valuesToBytes(rest);
      const r = new Reader(bytes);
      try {
        CONSTRUCTED_READERS[d.name](r);
      } catch (e) {
        if (e instanceof DecodeError) return -1;
        throw e;
      }
      let used = 0;
      let n = 0;
      while (used < r.pos && n < rest.length) used += encodedLength(rest[n++]!);
      return used === r.pos ? n : -1;
    }
    default:
      return v.type === d.kind ? 1 : -1;
  }
}

/**
 * Split `values` into the elements of an array or list whose elements have datatype `of`.
 * Throws property / invalid-data-type (or value-out-of-range) when they do not fit.
 */
export function splitElements(values: readonly BacnetValue[], of: Datatype, what = 'value'): BacnetValue[][] {
  const out: BacnetValue[][] = [];
  let i = 0;
  while (i < values.length) {
    const n = consume(values, i, of);
    if (n === -2) throw Errors.valueOutOfRange(what);
    if (n <= 0) throw Errors.invalidDataType(what);
    out.push(values.slice(i, i + n));
    i += n;
  }
  return out;
}

/**
 * Check that `values` is a complete value of datatype `d` (an array or list: any number of
 * elements, or exactly `size` for fixed-size arrays). Throws PropertyAccessError.
 */
export function checkConforms(values: readonly BacnetValue[], d: Datatype, what = 'value'): void {
  if (d.kind === 'array' || d.kind === 'list') {
    const els = splitElements(values, d.of, what);
    if (d.kind === 'array' && d.size !== undefined && els.length !== d.size) throw Errors.invalidDataType(`${what}: ${d.size} elements expected`);
    return;
  }
  const n = consume(values, 0, d);
  if (n === -2) throw Errors.valueOutOfRange(what);
  if (n <= 0 || n !== values.length) throw Errors.invalidDataType(what);
}
