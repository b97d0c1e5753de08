/**
 * Constructed data types shared by services and property values (ASHRAE 135-2020 Clause 21):
 * BACnetDateTime, BACnetDateRange, BACnetPropertyReference, BACnetObjectPropertyReference,
 * BACnetDeviceObjectPropertyReference, BACnetPropertyValue, BACnetTimeStamp, BACnetAddress,
 * BACnetRecipient, BACnetRecipientProcess, BACnetDestination, BACnetCOVSubscription,
 * BACnetAddressBinding, BACnetLogRecord, BACnetPropertyStates, BACnetCalendarEntry,
 * BACnetTimeValue, BACnetSpecialEvent and the Error production.
 *
 * Each type has a record, a `read*` (Reader at its first octet) and a `write*`. Types that
 * appear context-wrapped in a production are wrapped by the caller.
 */
import type { Reader } from '../../wire/reader';
import { LocalProtocolError } from '../../wire/errors';
import type { Writer } from '../../wire/writer';
import {
  atClosingTag, atContextTag, atOpeningTag, expectClosing, expectOpening, readTag, TagKind, writeClosing, writeOpening,
} from './tags';
import {
  type BacnetDate, type BacnetTime, type ObjectId,
  getContextBoolean, getEnumerated, getUnsignedNumber,
  putBitString, putBoolean, putDate, putEnumerated, putNull, putObjectId, putOctetString,
  putReal, putSigned, putTime, putUnsigned, getBitString, getReal, getSignedNumber,
} from './primitives';
import {
  appBitString, appBoolean, appDate, appEnumerated, appObjectId, appOctetString, appTime, appUnsigned,
  ctxBitString, ctxBoolean, ctxDate, ctxEnumerated, ctxObjectId, ctxOctetString, ctxReal, ctxTime, ctxUnsigned, optional,
} from './fields';
import { type ApplicationValue, type BacnetValue, decodeValue, decodeValues, encodeValue, encodeValues } from './values';

// ---------------------------------------------------------------------------------------------
// Dates and times

export interface DateTime {
  date: BacnetDate;
  time: BacnetTime;
}

/** BACnetDateTime: application Date then application Time. */
export function readDateTime(r: Reader): DateTime {
  return { date: appDate(r, 'date-time date'), time: appTime(r, 'date-time time') };
}
export function writeDateTime(w: Writer, dt: DateTime): void {
  putDate(w, dt.date);
  putTime(w, dt.time);
}

export interface DateRange {
  startDate: BacnetDate;
  endDate: BacnetDate;
}
export function readDateRange(r: Reader): DateRange {
  return { startDate: appDate(r, 'start date'), endDate: appDate(r, 'end date') };
}
export function writeDateRange(w: Writer, d: DateRange): void {
  putDate(w, d.startDate);
  putDate(w, d.endDate);
}

/** BACnetTimeStamp ::= CHOICE { time [0], sequence-number [1], datetime [2] }. */
export type TimeStamp = { time: BacnetTime } | { sequenceNumber: number } | { dateTime: DateTime };

export function readTimeStamp(r: Reader): TimeStamp {
  if (atContextTag(r, 0)) return { time: ctxTime(r, 0, 'timestamp time') };
  if (atContextTag(r, 1)) return { sequenceNumber: ctxUnsigned(r, 1, 'timestamp sequence') };
  expectOpening(r, 2, 'timestamp');
  const dateTime = readDateTime(r);
  expectClosing(r, 2, 'timestamp');
  return { dateTime };
}
export function writeTimeStamp(w: Writer, t: TimeStamp): void {
  if ('time' in t) putTime(w, t.time, 0);
  else if ('sequenceNumber' in t) putUnsigned(w, t.sequenceNumber, 1);
  else {
    writeOpening(w, 2);
    writeDateTime(w, t.dateTime);
    writeClosing(w, 2);
  }
}
/** A BACnetTimeStamp wrapped in context tag [tag]. */
export function readWrappedTimeStamp(r: Reader, tag: number, field: string): TimeStamp {
  expectOpening(r, tag, field);
  const t = readTimeStamp(r);
  expectClosing(r, tag, field);
  return t;
}
export function writeWrappedTimeStamp(w: Writer, tag: number, t: TimeStamp): void {
  writeOpening(w, tag);
  writeTimeStamp(w, t);
  writeClosing(w, tag);
}

// ---------------------------------------------------------------------------------------------
// Property references and values

export interface PropertyReference {
  propertyId: number;
  arrayIndex?: number;
}
/** BACnetPropertyReference: [0] propertyIdentifier, [1] propertyArrayIndex OPTIONAL. */
export function readPropertyReference(r: Reader): PropertyReference {
  const propertyId = ctxEnumerated(r, 0, 'property identifier');
  const arrayIndex = optional(r, 1, ctxUnsigned, 'property array index');
  return arrayIndex === undefined ? { propertyId } : { propertyId, arrayIndex };
}
export function writePropertyReference(w: Writer, p: PropertyReference): void {
  putEnumerated(w, p.propertyId, 0);
  if (p.arrayIndex !== undefined) putUnsigned(w, p.arrayIndex, 1);
}

export interface ObjectPropertyReference extends PropertyReference {
  objectId: ObjectId;
}
/** BACnetObjectPropertyReference: [0] objectIdentifier, [1] propertyIdentifier, [2] index OPTIONAL. */
export function readObjectPropertyReference(r: Reader): ObjectPropertyReference {
  const objectId = ctxObjectId(r, 0, 'object identifier');
  const propertyId = ctxEnumerated(r, 1, 'property identifier');
  const arrayIndex = optional(r, 2, ctxUnsigned, 'property array index');
  return arrayIndex === undefined ? { objectId, propertyId } : { objectId, propertyId, arrayIndex };
}
export function writeObjectPropertyReference(w: Writer, p: ObjectPropertyReference): void {
  putObjectId(w, p.objectId, 0);
  putEnumerated(w, p.propertyId, 1);
  if (p.arrayIndex !== undefined) putUnsigned(w, p.arrayIndex, 2);
}

export interface DeviceObjectPropertyReference extends ObjectPropertyReference {
  deviceId?: ObjectId;
}
/** BACnetDeviceObjectPropertyReference: [0] object, [1] property, [2] index OPT, [3] device OPT. */
export function readDeviceObjectPropertyReference(r: Reader): DeviceObjectPropertyReference {
  const ref: DeviceObjectPropertyReference = readObjectPropertyReference(r);
  const deviceId = optional(r, 3, ctxObjectId, 'device identifier');
  if (deviceId) ref.deviceId = deviceId;
  return ref;
}
export function writeDeviceObjectPropertyReference(w: Writer, p: DeviceObjectPropertyReference): void {
  writeObjectPropertyReference(w, p);
  if (p.deviceId) putObjectId(w, p.deviceId, 3);
}

export interface PropertyValue {
  propertyId: number;
  arrayIndex?: number;
  value: BacnetValue[];
  priority?: number;
}
/** BACnetPropertyValue: [0] id, [1] index OPT, [2] value (constructed), [3] priority OPT. */
export function readPropertyValue(r: Reader): PropertyValue {
  const propertyId = ctxEnumerated(r, 0, 'property identifier');
  const arrayIndex = optional(r, 1, ctxUnsigned, 'property array index');
  expectOpening(r, 2, 'property value');
  const value = decodeValues(r, 2, 1);
  expectClosing(r, 2, 'property value');
  const priority = optional(r, 3, ctxUnsigned, 'priority');
  const out: PropertyValue = { propertyId, value };
  if (arrayIndex !== undefined) out.arrayIndex = arrayIndex;
  if (priority !== undefined) out.priority = priority;
  return out;
}
export function writePropertyValue(w: Writer, p: PropertyValue): void {
  putEnumerated(w, p.propertyId, 0);
  if (p.arrayIndex !== undefined) putUnsigned(w, p.arrayIndex, 1);
  writeOpening(w, 2);
  encodeValues(w, p.value);
  writeClosing(w, 2);
  if (p.priority !== undefined) putUnsigned(w, p.priority, 3);
}

/** SEQUENCE OF BACnetPropertyValue up to closing tag [closing] (not consumed). */
export function readPropertyValueList(r: Reader, closing: number): PropertyValue[] {
  const out: PropertyValue[] = [];
  while (!atClosingTag(r, closing)) {
    if (r.pos >= r.end) r.fail('property values', `missing closing tag [${closing}]`);
    out.push(readPropertyValue(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The Error production: error-class ENUMERATED, error-code ENUMERATED (application tags). */
export interface ErrorPayload {
  errorClass: number;
  errorCode: number;
}
export function readError(r: Reader): ErrorPayload {
  return { errorClass: appEnumerated(r, 'error class'), errorCode: appEnumerated(r, 'error code') };
}
export function writeError(w: Writer, e: ErrorPayload): void {
  putEnumerated(w, e.errorClass);
  putEnumerated(w, e.errorCode);
}

// ---------------------------------------------------------------------------------------------
// Addresses and recipients

/** BACnetAddress: network-number Unsigned16 (0 = local), mac-address OCTET STRING (empty = broadcast). */
export interface AddressValue {
  network: number;
  mac: Uint8Array;
}
export function readAddressValue(r: Reader): AddressValue {
  const network = appUnsigned(r, 'network number');
  if (network > 0xffff) r.fail('network number', `${network} exceeds 65535`);
  return { network, mac: appOctetString(r, 'mac address') };
}
export function writeAddressValue(w: Writer, a: AddressValue): void {
  putUnsigned(w, a.network);
  putOctetString(w, a.mac);
}

/** BACnetRecipient ::= CHOICE { device [0] BACnetObjectIdentifier, address [1] BACnetAddress }. */
export type Recipient = { device: ObjectId } | { address: AddressValue };
export function readRecipient(r: Reader): Recipient {
  if (atOpeningTag(r, 1)) {
    expectOpening(r, 1, 'recipient address');
    const address = readAddressValue(r);
    expectClosing(r, 1, 'recipient address');
    return { address };
  }
  return { device: ctxObjectId(r, 0, 'recipient device') };
}
export function writeRecipient(w: Writer, p: Recipient): void {
  if ('device' in p) putObjectId(w, p.device, 0);
  else {
    writeOpening(w, 1);
    writeAddressValue(w, p.address);
    writeClosing(w, 1);
  }
}

/** BACnetRecipientProcess: [0] recipient, [1] processIdentifier Unsigned32. */
export interface RecipientProcess {
  recipient: Recipient;
  processId: number;
}
export function readRecipientProcess(r: Reader): RecipientProcess {
  expectOpening(r, 0, 'recipient');
  const recipient = readRecipient(r);
  expectClosing(r, 0, 'recipient');
  return { recipient, processId: ctxUnsigned(r, 1, 'process identifier') };
}
export function writeRecipientProcess(w: Writer, p: RecipientProcess): void {
  writeOpening(w, 0);
  writeRecipient(w, p.recipient);
  writeClosing(w, 0);
  putUnsigned(w, p.processId, 1);
}

/** BACnetDestination (Notification Class Recipient_List entries). */
export interface Destination {
  validDays: boolean[];
  fromTime: BacnetTime;
  toTime: BacnetTime;
  recipient: Recipient;
  processId: number;
  issueConfirmedNotifications: boolean;
  transitions: boolean[];
}
export function readDestination(r: Reader): Destination {
  return {
    validDays: appBitString(r, 'valid days'),
    fromTime: appTime(r, 'from time'),
    toTime: appTime(r, 'to time'),
    recipient: readRecipient(r),
    processId: appUnsigned(r, 'process identifier'),
    issueConfirmedNotifications: appBoolean(r, 'issue confirmed notifications'),
    transitions: appBitString(r, 'transitions'),
  };
}
export function writeDestination(w: Writer, d: Destination): void {
  putBitString(w, d.validDays);
  putTime(w, d.fromTime);
  putTime(w, d.toTime);
  writeRecipient(w, d.recipient);
  putUnsigned(w, d.processId);
  putBoolean(w, d.issueConfirmedNotifications);
  putBitString(w, d.transitions);
}

/** BACnetCOVSubscription (Device Active_COV_Subscriptions). */
export interface CovSubscription {
  recipient: RecipientProcess;
  monitoredProperty: ObjectPropertyReference;
  issueConfirmedNotifications: boolean;
  timeRemaining: number;
  covIncrement?: number;
}
export function readCovSubscription(r: Reader): CovSubscription {
  expectOpening(r, 0, 'recipient');
  const recipient = readRecipientProcess(r);
  expectClosing(r, 0, 'recipient');
  expectOpening(r, 1, 'monitored property');
  const monitoredProperty = readObjectPropertyReference(r);
  expectClosing(r, 1, 'monitored property');
  const out: CovSubscription = {
    recipient,
    monitoredProperty,
    issueConfirmedNotifications: ctxBoolean(r, 2, 'issue confirmed notifications'),
    timeRemaining: ctxUnsigned(r, 3, 'time remaining'),
  };
  const inc = optional(r, 4, ctxReal, 'cov increment');
  if (inc !== undefined) out.covIncrement = inc;
  return out;
}
export function writeCovSubscription(w: Writer, s: CovSubscription): void {
  writeOpening(w, 0);
  writeRecipientProcess(w, s.recipient);
  writeClosing(w, 0);
  writeOpening(w, 1);
  writeObjectPropertyReference(w, s.monitoredProperty);
  writeClosing(w, 1);
  putBoolean(w, s.issueConfirmedNotifications, 2);
  putUnsigned(w, s.timeRemaining, 3);
  if (s.covIncrement !== undefined) putReal(w, s.covIncrement, 4);
}

/** BACnetAddressBinding (Device Device_Address_Binding). */
export interface AddressBinding {
  deviceId: ObjectId;
  address: AddressValue;
}
export function readAddressBinding(r: Reader): AddressBinding {
  return { deviceId: appObjectId(r, 'device identifier'), address: readAddressValue(r) };
}
export function writeAddressBinding(w: Writer, b: AddressBinding): void {
  putObjectId(w, b.deviceId);
  writeAddressValue(w, b.address);
}

// ---------------------------------------------------------------------------------------------
// Trend logs

export type LogDatum =
  | { kind: 'log-status'; value: boolean[] }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'real'; value: number }
  | { kind: 'enumerated'; value: number }
  | { kind: 'unsigned'; value: number }
  | { kind: 'signed'; value: number }
  | { kind: 'bit-string'; value: boolean[] }
  | { kind: 'null' }
  | { kind: 'failure'; value: ErrorPayload }
  | { kind: 'time-change'; value: number }
  | { kind: 'any'; value: BacnetValue[] };

/** BACnetLogRecord: [0] timestamp BACnetDateTime, [1] logDatum CHOICE, [2] statusFlags OPTIONAL. */
export interface LogRecord {
  timestamp: DateTime;
  datum: LogDatum;
  statusFlags?: boolean[];
}

export function readLogRecord(r: Reader): LogRecord {
  expectOpening(r, 0, 'log timestamp');
  const timestamp = readDateTime(r);
  expectClosing(r, 0, 'log timestamp');
  expectOpening(r, 1, 'log datum');
  const t = readTag(r);
  if (!t.context) r.fail('log datum', 'log datum must be context-tagged');
  let datum: LogDatum;
  if (t.kind === TagKind.Opening) {
    if (t.number === 8) {
      datum = { kind: 'failure', value: readError(r) };
    } else if (t.number === 10) {
      datum = { kind: 'any', value: decodeValues(r, 10, 2) };
    } else {
      r.pos = t.start;
      return r.fail('log datum', `constructed choice [${t.number}] not defined`);
    }
    expectClosing(r, t.number, 'log datum');
  } else {
    if (t.kind !== TagKind.Primitive) r.fail('log datum', 'unexpected closing tag');
    const len = t.length;
    switch (t.number) {
      case 0: datum = { kind: 'log-status', value: getBitString(r, len, 'log status') }; break;
      case 1: datum = { kind: 'boolean', value: getContextBoolean(r, len, 'boolean') }; break;
      case 2: datum = { kind: 'real', value: getReal(r, len, 'real') }; break;
      case 3: datum = { kind: 'enumerated', value: getEnumerated(r, len, 'enumerated') }; break;
      case 4: datum = { kind: 'unsigned', value: getUnsignedNumber(r, len, 'unsigned') }; break;
      case 5: datum = { kind: 'signed', value: getSignedNumber(r, len, 'signed') }; break;
      case 6: datum = { kind: 'bit-string', value: getBitString(r, len, 'bit string') }; break;
      case 7:
        if (len !== 0) r.fail('null', 'NULL with content');
        datum = { kind: 'null' };
        break;
      case 9: datum = { kind: 'time-change', value: getReal(r, len, 'time change') }; break;
      default:
        r.pos = t.start;
        return r.fail('log datum', `choice [${t.number}] not defined`);
    }
  }
  expectClosing(r, 1, 'log datum');
  const statusFlags = optional(r, 2, ctxBitString, 'status flags');
  return statusFlags ? { timestamp, datum, statusFlags } : { timestamp, datum };
}

export function writeLogRecord(w: Writer, rec: LogRecord): void {
  writeOpening(w, 0);
  writeDateTime(w, rec.timestamp);
  writeClosing(w, 0);
  writeOpening(w, 1);
  const d = rec.datum;
  switch (d.kind) {
    case 'log-status': putBitString(w, d.value, 0); break;
    case 'boolean': putBoolean(w, d.value, 1); break;
    case 'real': putReal(w, d.value, 2); break;
    case 'enumerated': putEnumerated(w, d.value, 3); break;
    case 'unsigned': putUnsigned(w, d.value, 4); break;
    case 'signed': putSigned(w, d.value, 5); break;
    case 'bit-string': putBitString(w, d.value, 6); break;
    case 'null': putNull(w, 7); break;
    case 'failure':
      writeOpening(w, 8);
      writeError(w, d.value);
      writeClosing(w, 8);
      break;
    case 'time-change': putReal(w, d.value, 9); break;
    case 'any':
      writeOpening(w, 10);
      encodeValues(w, d.value);
      writeClosing(w, 10);
      break;
    default: {
      const never: never = d;
      throw new LocalProtocolError(`unknown log datum ${JSON.stringify(never)}`);
    }
  }
  writeClosing(w, 1);
  if (rec.statusFlags) putBitString(w, rec.statusFlags, 2);
}

// ---------------------------------------------------------------------------------------------
// Property states (event notifications, alarm values)

/**
 * BACnetPropertyStates: a CHOICE of one context-tagged primitive. `kind` is the choice tag
 * ([0] boolean-value, [1] binary-value, [2] event-type, [3] polarity, ... [11] unsigned-value,
 * [12] life-safety-mode, [13] life-safety-state ...); every choice but [0] is an enumeration or
 * an unsigned, so `value` is a number except for boolean-value.
 */
export interface PropertyStates {
  kind: number;
  value: number | boolean;
}
export function readPropertyStates(r: Reader): PropertyStates {
  const t = readTag(r);
  if (!t.context || t.kind !== TagKind.Primitive) {
    r.pos = t.start;
    r.fail('property states', 'expected a context-tagged primitive');
  }
  if (t.number === 0) return { kind: 0, value: getContextBoolean(r, t.length, 'boolean-value') };
  return { kind: t.number, value: getUnsignedNumber(r, t.length, 'property state') };
}
export function writePropertyStates(w: Writer, s: PropertyStates): void {
  if (s.kind === 0) putBoolean(w, s.value === true, 0);
  else if (s.kind === 11) putUnsigned(w, Number(s.value), 11);
  else putEnumerated(w, Number(s.value), s.kind);
}

// ---------------------------------------------------------------------------------------------
// Schedules and calendars

/** BACnetWeekNDay: month (1..14, 255), week of month (1..6, 255), day of week (1..7, 255). */
export interface WeekNDay {
  month: number;
  weekOfMonth: number;
  dayOfWeek: number;
}

/** BACnetCalendarEntry ::= CHOICE { date [0], date-range [1], weekNDay [2] }. */
export type CalendarEntry = { date: BacnetDate } | { dateRange: DateRange } | { weekNDay: WeekNDay };

export function readCalendarEntry(r: Reader): CalendarEntry {
  if (atContextTag(r, 0)) return { date: ctxDate(r, 0, 'calendar date') };
  if (atOpeningTag(r, 1)) {
    expectOpening(r, 1, 'date range');
    const dateRange = readDateRange(r);
    expectClosing(r, 1, 'date range');
    return { dateRange };
  }
  const b = ctxOctetString(r, 2, 'week-n-day');
  if (b.length !== 3) r.fail('week-n-day', `${b.length} octets, 3 expected`);
  return { weekNDay: { month: b[0]!, weekOfMonth: b[1]!, dayOfWeek: b[2]! } };
}
export function writeCalendarEntry(w: Writer, e: CalendarEntry): void {
  if ('date' in e) putDate(w, e.date, 0);
  else if ('dateRange' in e) {
    writeOpening(w, 1);
    writeDateRange(w, e.dateRange);
    writeClosing(w, 1);
  } else putOctetString(w, Uint8Array.of(e.weekNDay.month, e.weekNDay.weekOfMonth, e.weekNDay.dayOfWeek), 2);
}

/** BACnetTimeValue: application Time, then one application-tagged value (NULL = relinquish). */
export interface TimeValue {
  time: BacnetTime;
  value: BacnetValue;
}
export function readTimeValue(r: Reader): TimeValue {
  const time = appTime(r, 'time value time');
  const value = decodeValue(r, 1);
  return { time, value };
}
export function writeTimeValue(w: Writer, tv: TimeValue): void {
  putTime(w, tv.time);
  encodeValue(w, tv.value);
}

/** BACnetDailySchedule: [0] day-schedule SEQUENCE OF BACnetTimeValue (one per weekday in Weekly_Schedule). */
export function readDailySchedule(r: Reader): TimeValue[] {
  expectOpening(r, 0, 'day schedule');
  const out: TimeValue[] = [];
  while (!atClosingTag(r, 0)) out.push(readTimeValue(r));
  expectClosing(r, 0, 'day schedule');
  return out;
}
export function writeDailySchedule(w: Writer, day: readonly TimeValue[]): void {
  writeOpening(w, 0);
  for (const tv of day) writeTimeValue(w, tv);
  writeClosing(w, 0);
}

/** BACnetSpecialEvent: period CHOICE { [0] calendar-entry, [1] calendar-reference }, [2] time values, [3] priority. */
export interface SpecialEvent {
  period: { calendarEntry: CalendarEntry } | { calendarReference: ObjectId };
  timeValues: TimeValue[];
  priority: number;
}
export function readSpecialEvent(r: Reader): SpecialEvent {
  let period: SpecialEvent['period'];
  if (atOpeningTag(r, 0)) {
    expectOpening(r, 0, 'calendar entry');
    period = { calendarEntry: readCalendarEntry(r) };
    expectClosing(r, 0, 'calendar entry');
  } else {
    period = { calendarReference: ctxObjectId(r, 1, 'calendar reference') };
  }
  expectOpening(r, 2, 'time values');
  const timeValues: TimeValue[] = [];
  while (!atClosingTag(r, 2)) timeValues.push(readTimeValue(r));
  expectClosing(r, 2, 'time values');
  return { period, timeValues, priority: ctxUnsigned(r, 3, 'event priority') };
}
export function writeSpecialEvent(w: Writer, e: SpecialEvent): void {
  if ('calendarEntry' in e.period) {
    writeOpening(w, 0);
    writeCalendarEntry(w, e.period.calendarEntry);
    writeClosing(w, 0);
  } else putObjectId(w, e.period.calendarReference, 1);
  writeOpening(w, 2);
  for (const tv of e.timeValues) writeTimeValue(w, tv);
  writeClosing(w, 2);
  putUnsigned(w, e.priority, 3);
}

// ---------------------------------------------------------------------------------------------
// Small helpers used by several services

/** An application value suitable for a single COV/priority slot, as a plain number or boolean. */
export function scalarOf(v: ApplicationValue): number | boolean | string | null {
  switch (v.type) {
    case 'null': return null;
    case 'boolean': return v.value;
    case 'real': case 'double': case 'enumerated': return v.value;
    case 'unsigned': case 'signed': return Number(v.value);
    case 'character-string': return v.value;
    default: return null;
  }
}


