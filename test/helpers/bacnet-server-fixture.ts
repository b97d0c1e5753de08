/**
 * A populated BACnet server for fuzzing and benchmarks: one object of every type the server
 * hosts, with reporting, a schedule, a calendar, a trend log and files configured, and a valid
 * request frame for every service it answers (seeds for mutation).
 */
import { Writer } from '../../src/lib/wire/writer';
import { ObjectType as O } from '../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../src/lib/bacnet/enums/property-identifier';
import { Value, bytesToValues, type BacnetValue } from '../../src/lib/bacnet/codec/values';
import {
  writeCalendarEntry, writeDestination, writeDeviceObjectPropertyReference, writeSpecialEvent,
} from '../../src/lib/bacnet/codec/constructed';
import { encodeFrame } from '../../src/lib/bacnet/frame';
import { PduType } from '../../src/lib/bacnet/apdu';
import {
  CONFIRMED_SERVICES, type ConfirmedRequestOf, type ConfirmedServiceName, type ServiceCodec, UNCONFIRMED_SERVICES,
  type UnconfirmedRequestOf, type UnconfirmedServiceName,
} from '../../src/lib/bacnet/services/registry';
import { PROPERTY_ALL, PROPERTY_OPTIONAL, PROPERTY_REQUIRED } from '../../src/lib/bacnet/services/read-property-multiple';
import type { BacnetServer } from '../../src/lib/bacnet/server/server';
import type { ObjectInit } from '../../src/lib/bacnet/objects/object';

function enc(fn: (w: Writer) => void): BacnetValue[] {
  const w = new Writer(64);
  fn(w);
  return bytesToValues(w.finish());
}

/** Add one object of every hosted type (and a few of the common ones). */
export function populate(server: BacnetServer, extraAnalog = 0): void {
  const add = (type: number, init: ObjectInit): void => void server.addObject(type, init);
  add(O.notificationClass, {
    instance: 1, name: 'nc-1', writable: true,
    values: [[P.recipientList, enc((w) => writeDestination(w, {
      validDays: [true, true, true, true, true, true, true], fromTime: { hour: 0, minute: 0, second: 0, hundredths: 0 },
      toTime: { hour: 23, minute: 59, second: 59, hundredths: 99 }, recipient: { address: { network: 0, mac: Uint8Array.of(127, 0, 0, 1, 0, 9) } },
      processId: 1, issueConfirmedNotifications: false, transitions: [true, true, true],
    }))]],
  });
  add(O.analogInput, { instance: 1, name: 'ai-1', writable: true, reporting: true, values: [[P.presentValue, [Value.real(21.5)]], [P.units, [Value.enumerated(62)]], [P.notificationClass, [Value.unsigned(1)]], [P.limitEnable, [Value.bitString([true, true])]]] });
  add(O.analogOutput, { instance: 1, name: 'ao-1', values: [[P.presentValue, [Value.real(10)]]] });
  add(O.analogValue, { instance: 1, name: 'av-1', commandable: true, values: [[P.presentValue, [Value.real(20)]]] });
  add(O.binaryInput, { instance: 1, name: 'bi-1', reporting: true, values: [[P.notificationClass, [Value.unsigned(1)]]] });
  add(O.binaryOutput, { instance: 1, name: 'bo-1', values: [[P.minimumOnTime, [Value.unsigned(1)]]] });
  add(O.binaryValue, { instance: 1, name: 'bv-1', writable: true });
  add(O.multiStateInput, { instance: 1, name: 'msi-1', values: [[P.numberOfStates, [Value.unsigned(3)]], [P.stateText, ['a', 'b', 'c'].map((s) => Value.characterString(s))]] });
  add(O.multiStateOutput, { instance: 1, name: 'mso-1' });
  add(O.multiStateValue, { instance: 1, name: 'msv-1', commandable: true, reporting: true, values: [[P.alarmValues, [Value.unsigned(2)]]] });
  add(O.characterstringValue, { instance: 1, name: 'csv-1', writable: true });
  add(O.integerValue, { instance: 1, name: 'iv-1', commandable: true });
  add(O.positiveIntegerValue, { instance: 1, name: 'piv-1', writable: true });
  add(O.largeAnalogValue, { instance: 1, name: 'lav-1', writable: true });
  add(O.dateValue, { instance: 1, name: 'date-1', writable: true });
  add(O.timeValue, { instance: 1, name: 'time-1', writable: true });
  add(O.datetimeValue, { instance: 1, name: 'dt-1', writable: true });
  add(O.bitstringValue, { instance: 1, name: 'bs-1', writable: true });
  add(O.octetstringValue, { instance: 1, name: 'os-1', writable: true });
  server.addObject(O.file, { instance: 1, name: 'file-1', writable: true, data: new TextEncoder().encode('fieldlink') } as ObjectInit);
  server.addObject(O.file, { instance: 2, name: 'file-2', writable: true, access: 'record', data: [Uint8Array.of(1), Uint8Array.of(2)] } as ObjectInit);
  add(O.calendar, { instance: 1, name: 'cal-1', writable: true, values: [[P.dateList, enc((w) => writeCalendarEntry(w, { weekNDay: { month: 255, weekOfMonth: 255, dayOfWeek: 6 } }))]] });
  add(O.schedule, {
    instance: 1, name: 'sched-1', writable: true,
    values: [
      [P.scheduleDefault, [Value.real(16)]],
      [P.weeklySchedule, Array.from({ length: 7 }, () => Value.constructed(0, [Value.time({ hour: 8, minute: 0, second: 0, hundredths: 0 }), Value.real(21)]))],
      [P.exceptionSchedule, enc((w) => writeSpecialEvent(w, { period: { calendarReference: { type: O.calendar, instance: 1 } }, timeValues: [{ time: { hour: 0, minute: 0, second: 0, hundredths: 0 }, value: Value.real(15) }], priority: 10 }))],
      [P.listOfObjectPropertyReferences, enc((w) => writeDeviceObjectPropertyReference(w, { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.presentValue }))],
    ],
  });
  add(O.trendLog, {
    instance: 1, name: 'tl-1', writable: true,
    values: [[P.logDeviceObjectProperty, enc((w) => writeDeviceObjectPropertyReference(w, { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue }))], [P.loggingType, [Value.enumerated(1)]], [P.bufferSize, [Value.unsigned(100)]]],
  });
  for (let i = 0; i < extraAnalog; i++) add(O.analogValue, { instance: 100 + i, name: `av-${100 + i}`, writable: true, values: [[P.presentValue, [Value.real(i)]]] });
}

function confirmed<N extends ConfirmedServiceName>(service: N, req: ConfirmedRequestOf<N>, invokeId = 1): Uint8Array {
  const codec = CONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
  const w = new Writer(64);
  codec.encodeRequest(w, req);
  return encodeFrame({
    npdu: { expectingReply: true },
    apdu: { type: PduType.CONFIRMED_REQUEST, segmented: false, moreFollows: false, segmentedResponseAccepted: true, maxSegments: 64, maxApdu: 1476, invokeId, service: codec.choice, data: w.finish() },
  });
}

function unconfirmed<N extends UnconfirmedServiceName>(service: N, req: UnconfirmedRequestOf<N>): Uint8Array {
  const codec = UNCONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, never>;
  const w = new Writer(64);
  codec.encodeRequest(w, req);
  return encodeFrame({ apdu: { type: PduType.UNCONFIRMED_REQUEST, service: codec.choice, data: w.finish() } });
}

/** One valid request datagram per served service (and a few variants), for a device `instance`. */
export function serverSeeds(instance: number): Uint8Array[] {
  const dev = { type: O.device, instance };
  const ai = { type: O.analogInput, instance: 1 };
  const av = { type: O.analogValue, instance: 1 };
  const ts = { dateTime: { date: { year: 2024, month: 1, day: 15, weekday: 1 }, time: { hour: 8, minute: 0, second: 0, hundredths: 0 } } };
  return [
    confirmed('read-property', { objectId: ai, propertyId: P.presentValue }),
    confirmed('read-property', { objectId: dev, propertyId: P.objectList, arrayIndex: 2 }),
    confirmed('read-property-multiple', { specs: [{ objectId: ai, properties: [{ propertyId: PROPERTY_ALL }] }, { objectId: av, properties: [{ propertyId: PROPERTY_REQUIRED }, { propertyId: PROPERTY_OPTIONAL }, { propertyId: P.priorityArray, arrayIndex: 3 }] }] }),
    confirmed('write-property', { objectId: av, propertyId: P.presentValue, value: [Value.real(22)], priority: 8 }),
    confirmed('write-property', { objectId: { type: O.schedule, instance: 1 }, propertyId: P.weeklySchedule, arrayIndex: 2, value: [Value.constructed(0, [Value.time({ hour: 9, minute: 0, second: 0, hundredths: 0 }), Value.real(19)])] }),
    confirmed('write-property-multiple', { specs: [{ objectId: { type: O.binaryValue, instance: 1 }, values: [{ propertyId: P.presentValue, value: [Value.enumerated(1)] }, { propertyId: P.description, value: [Value.characterString('x')] }] }] }),
    confirmed('subscribe-cov', { subscriberProcessId: 3, monitoredObjectId: ai, issueConfirmedNotifications: false, lifetime: 60 }),
    confirmed('subscribe-cov-property', { subscriberProcessId: 3, monitoredObjectId: av, issueConfirmedNotifications: false, lifetime: 60, monitoredProperty: { propertyId: P.presentValue }, covIncrement: 1 }),
    confirmed('read-range', { objectId: { type: O.trendLog, instance: 1 }, propertyId: P.logBuffer, range: { bySequenceNumber: { referenceSequenceNumber: 1, count: 5 } } }),
    confirmed('read-range', { objectId: { type: O.trendLog, instance: 1 }, propertyId: P.logBuffer, range: { byTime: { referenceTime: ts.dateTime, count: -5 } } }),
    confirmed('device-communication-control', { enableDisable: 1, timeDuration: 1, password: 'x' }),
    confirmed('reinitialize-device', { state: 1, password: 'x' }),
    confirmed('create-object', { objectType: O.analogValue, initialValues: [{ propertyId: P.presentValue, value: [Value.real(1)] }] }),
    confirmed('delete-object', { objectId: { type: O.analogValue, instance: 2 } }),
    confirmed('atomic-read-file', { fileId: { type: O.file, instance: 1 }, stream: { start: 0, octetCount: 5 } }),
    confirmed('atomic-write-file', { fileId: { type: O.file, instance: 2 }, record: { start: 0, records: [Uint8Array.of(9)] } }),
    confirmed('acknowledge-alarm', { acknowledgingProcessId: 1, eventObjectId: ai, eventStateAcknowledged: 3, timeStamp: ts, acknowledgmentSource: 'x', timeOfAcknowledgment: ts }),
    confirmed('get-event-information', {}),
    unconfirmed('who-is', { lowLimit: instance, highLimit: instance }),
    unconfirmed('who-has', { objectName: 'ai-1' }),
    unconfirmed('time-synchronization', { time: ts.dateTime }),
    unconfirmed('utc-time-synchronization', { time: ts.dateTime }),
  ];
}

/** A valid ReadProperty request frame (health checks, benchmarks). */
export function readPropertyFrame(objectId: { type: number; instance: number }, propertyId: number, invokeId: number): Uint8Array {
  return confirmed('read-property', { objectId, propertyId }, invokeId);
}
