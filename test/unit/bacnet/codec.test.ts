import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/lib/wire/reader';
import { Writer } from '../../../src/lib/wire/writer';
import { DecodeError } from '../../../src/lib/wire/errors';
import {
  type BacnetValue, Value, bytesToValues, contextAs, decodeValue, encodeValue, valueEqual, valuesToBytes, valueToJs,
} from '../../../src/lib/bacnet/codec/values';
import { MAX_NESTING_DEPTH, readTag, TagKind, writeClosing, writeOpening, writeTag, skipElement } from '../../../src/lib/bacnet/codec/tags';
import {
  Charset, getCharacterString, putCharacterString, putUnsigned, formatDate, formatTime, toJsDate,
} from '../../../src/lib/bacnet/codec/primitives';
import * as K from '../../../src/lib/bacnet/codec/constructed';
import {
  type NotificationParameters, readNotificationParameters, writeNotificationParameters,
} from '../../../src/lib/bacnet/codec/event-parameters';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
function enc(v: BacnetValue): Uint8Array {
  const w = new Writer(8);
  encodeValue(w, v);
  return w.finish().slice();
}
function roundTrip(v: BacnetValue, expectHex?: string): void {
  const b = enc(v);
  if (expectHex !== undefined) assert.equal(hex(b), expectHex, `encoding of ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}`);
  const r = new Reader(b);
  const back = decodeValue(r);
  r.expectEnd();
  assert.ok(valueEqual(v, back), `round trip of ${v.type}: ${JSON.stringify(valueToJs(back), (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}`);
}

test('application tags: golden encodings of every type (20.2)', () => {
  roundTrip(Value.null(), '00');
  roundTrip(Value.boolean(false), '10');
  roundTrip(Value.boolean(true), '11');
  roundTrip(Value.unsigned(0), '2100');
  roundTrip(Value.unsigned(255), '21ff');
  roundTrip(Value.unsigned(256), '220100');
  roundTrip(Value.unsigned(0x10000), '23010000');
  roundTrip(Value.unsigned(0xffffffff), '24ffffffff');
  roundTrip(Value.unsigned(2 ** 32), '25050100000000');
  roundTrip(Value.unsigned(Number.MAX_SAFE_INTEGER), '25071fffffffffffff');
  roundTrip(Value.unsigned(2n ** 64n - 1n), '2508ffffffffffffffff');
  roundTrip(Value.signed(0), '3100');
  roundTrip(Value.signed(-1), '31ff');
  roundTrip(Value.signed(127), '317f');
  roundTrip(Value.signed(128), '320080');
  roundTrip(Value.signed(-129), '32ff7f');
  roundTrip(Value.signed(-(2 ** 31)), '3480000000');
  roundTrip(Value.signed(-(2n ** 63n)), '35088000000000000000');
  roundTrip(Value.real(21.5), '4441ac0000');
  roundTrip(Value.double(Math.PI), '5508400921fb54442d18');
  roundTrip(Value.octetString(Uint8Array.of(1, 2, 3)), '63010203');
  roundTrip(Value.characterString('SimpleServer'), '750d0053696d706c65536572766572');
  roundTrip(Value.bitString([false, false, false, true]), '820410');
  roundTrip(Value.bitString([]), '8100');
  roundTrip(Value.enumerated(1), '9101');
  roundTrip(Value.date({ year: 2009, month: 1, day: 1, weekday: 4 }), 'a46d010104');
  roundTrip(Value.time({ hour: 0, minute: 15, second: 0, hundredths: 0 }), 'b4000f0000');
  roundTrip(Value.objectId(8, 1234), 'c4020004d2');
  roundTrip(Value.objectId(1023, 4194303), 'c4ffffffff');
});

test('extended lengths (5 + 1, 2 or 4 octets) and extended tag numbers', () => {
  for (const n of [4, 5, 253, 254, 255, 65535, 65536, 70000]) {
    const v = Value.octetString(new Uint8Array(n).fill(7));
    const b = enc(v);
    const t = readTag(new Reader(b));
    assert.equal(t.length, n);
    roundTrip(v);
  }
  assert.equal(hex(enc(Value.octetString(new Uint8Array(5)))).slice(0, 4), '6505');
  assert.equal(hex(enc(Value.octetString(new Uint8Array(254)))).slice(0, 8), '65fe00fe');
  assert.equal(hex(enc(Value.octetString(new Uint8Array(70000)))).slice(0, 12), '65ff00011170');
  // context tag numbers 15..254 use the extended tag number octet
  for (const tag of [0, 14, 15, 100, 254]) {
    roundTrip(Value.context(tag, Uint8Array.of(9)));
    roundTrip(Value.constructed(tag, [Value.real(1)]));
  }
  assert.equal(hex(enc(Value.context(20, Uint8Array.of(9)))), 'f91409');
  assert.equal(hex(enc(Value.constructed(20, []))), 'fe14ff14');
  const w = new Writer();
  assert.throws(() => writeTag(w, 255, true, 0), /0\.\.254/);
});

test('character sets: UTF-8, ISO 8859-1, UCS-2, UCS-4 round trip; DBCS and JIS decode best effort', () => {
  const cases: Array<[number, string]> = [
    [Charset.UTF8, 'Zone 3 — 21 °C ✓'],
    [Charset.ISO_8859_1, 'Température 21°C'],
    [Charset.UCS2, 'Zone ü Ω'],
    [Charset.UCS4, 'emoji 🌡 ok'],
  ];
  for (const [cs, s] of cases) {
    const v = Value.characterString(s, cs === Charset.UTF8 ? undefined : cs);
    const b = enc(v);
    const back = bytesToValues(b)[0]!;
    assert.deepEqual(back, v);
  }
  // ISO 8859-1 refuses characters beyond U+00FF
  assert.throws(() => enc(Value.characterString('Ω', Charset.ISO_8859_1)), /ISO 8859-1/);
  // DBCS with code page 932 (Shift-JIS): "日本" = 93 fa 96 7b
  const dbcs = Uint8Array.of(0x75, 0x07, 0x01, 0x03, 0xa4, 0x93, 0xfa, 0x96, 0x7b);
  const d = getCharacterString(new Reader(dbcs, 2), 7);
  assert.equal(d.charset, Charset.DBCS);
  assert.equal(d.value, '日本');
  // JIS X 0208 "日" = 0x46 0x7c
  const jis = getCharacterString(new Reader(Uint8Array.of(0x02, 0x46, 0x7c)), 3);
  assert.equal(jis.value, '日');
  // an unknown character set still yields text, not an exception
  assert.equal(getCharacterString(new Reader(Uint8Array.of(0x09, 0x41)), 2).value, 'A');
  const w = new Writer();
  assert.throws(() => putCharacterString(w, 'x', undefined, Charset.DBCS), /not supported/);
});

test('bit strings: every length 0..40 round trips, unused-bit count checked', () => {
  for (let n = 0; n <= 40; n++) {
    const bits = Array.from({ length: n }, (_, i) => (i * 7) % 3 === 0);
    roundTrip(Value.bitString(bits));
  }
  assert.throws(() => bytesToValues(Uint8Array.of(0x82, 0x08, 0x00)), DecodeError);
  assert.throws(() => bytesToValues(Uint8Array.of(0x81, 0x01)), DecodeError);
});

test('dates and times with wildcards format and convert', () => {
  const any = { year: 255, month: 255, day: 255, weekday: 255 };
  roundTrip(Value.date(any), 'a4ffffffff');
  assert.equal(formatDate(any), '*-*-*');
  assert.equal(formatDate({ year: 2024, month: 13, day: 32, weekday: 1 }), '2024-odd-last');
  assert.equal(formatTime({ hour: 7, minute: 255, second: 0, hundredths: 5 }), '07:*:00.05');
  roundTrip(Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 }), 'b4ffffffff');
  assert.equal(toJsDate(any), undefined);
  assert.equal(toJsDate({ year: 2009, month: 1, day: 1, weekday: 4 }, { hour: 0, minute: 15, second: 0, hundredths: 0 })!.getMinutes(), 15);
});

test('opening/closing tags nest; depth and length caps and truncation are DecodeErrors', () => {
  const nested: BacnetValue = Value.constructed(3, [Value.constructed(0, [Value.real(1), Value.context(1, Uint8Array.of(5))]), Value.null()]);
  roundTrip(nested, '3e0e443f80000019050f003f');
  // depth cap
  let deep: BacnetValue = Value.null();
  for (let i = 0; i < MAX_NESTING_DEPTH + 2; i++) deep = Value.constructed(1, [deep]);
  const bytes = enc(deep);
  assert.throws(() => bytesToValues(bytes), (e: unknown) => e instanceof DecodeError && /nesting/.test(e.message));
  // skipElement honours the cap too
  assert.throws(() => skipElement(new Reader(bytes)), DecodeError);
  // length cap: a tag claiming 2^31 octets
  assert.throws(() => bytesToValues(Uint8Array.of(0x65, 0xff, 0x80, 0, 0, 0)), (e: unknown) => e instanceof DecodeError && /cap|needs/.test(e.message));
  // truncated content, truncated extended length, missing closing tag, stray closing tag, reserved tag
  for (const b of ['44 41ac00', '65', '65fe00', '3e 00', '3f', 'd1 00', '21', '1e0f', '0f', 'f9', 'fe']) {
    assert.throws(() => bytesToValues(Buffer.from(b.replace(/ /g, ''), 'hex')), DecodeError, b);
  }
  // boolean with L/V/T > 1, NULL with content, Unsigned of 9 octets, REAL of 3 octets
  for (const b of ['12', '0100', '2509' + '00'.repeat(9), '43000000']) {
    assert.throws(() => bytesToValues(Buffer.from(b, 'hex')), DecodeError, b);
  }
});

test('context values can be read as any application type', () => {
  assert.deepEqual(contextAs(Value.context(0, Uint8Array.of(1)), 'boolean'), Value.boolean(true));
  assert.deepEqual(contextAs(Value.context(2, Uint8Array.of(0x41, 0xac, 0, 0)), 'real'), Value.real(21.5));
  assert.deepEqual(contextAs(Value.context(1, Uint8Array.of(0x01, 0x00)), 'unsigned'), Value.unsigned(256));
  assert.throws(() => contextAs(Value.context(1, Uint8Array.of(1, 2, 3)), 'real'), DecodeError);
});

test('constructed types round trip', () => {
  const dt = { date: { year: 2024, month: 5, day: 6, weekday: 1 }, time: { hour: 12, minute: 30, second: 1, hundredths: 2 } };
  const cases: Array<[string, (w: Writer, x: never) => void, (r: Reader) => unknown, unknown]> = [
    ['date-time', K.writeDateTime, K.readDateTime, dt],
    ['date-range', K.writeDateRange, K.readDateRange, { startDate: dt.date, endDate: { year: 2024, month: 12, day: 31, weekday: 2 } }],
    ['timestamp time', K.writeTimeStamp, K.readTimeStamp, { time: dt.time }],
    ['timestamp seq', K.writeTimeStamp, K.readTimeStamp, { sequenceNumber: 77 }],
    ['timestamp dt', K.writeTimeStamp, K.readTimeStamp, { dateTime: dt }],
    ['property ref', K.writePropertyReference, K.readPropertyReference, { propertyId: 87, arrayIndex: 8 }],
    ['object property ref', K.writeObjectPropertyReference, K.readObjectPropertyReference, { objectId: { type: 1, instance: 2 }, propertyId: 85 }],
    ['device object property ref', K.writeDeviceObjectPropertyReference, K.readDeviceObjectPropertyReference,
      { objectId: { type: 0, instance: 1 }, propertyId: 85, arrayIndex: 3, deviceId: { type: 8, instance: 99 } }],
    ['property value', K.writePropertyValue, K.readPropertyValue, { propertyId: 85, value: [Value.null()], priority: 8 }],
    ['recipient device', K.writeRecipient, K.readRecipient, { device: { type: 8, instance: 5 } }],
    ['recipient address', K.writeRecipient, K.readRecipient, { address: { network: 7, mac: Uint8Array.of(127, 0, 0, 1, 0xba, 0xc0) } }],
    ['destination', K.writeDestination, K.readDestination, {
      validDays: [true, true, true, true, true, false, false], fromTime: dt.time, toTime: { hour: 23, minute: 59, second: 59, hundredths: 99 },
      recipient: { device: { type: 8, instance: 5 } }, processId: 3, issueConfirmedNotifications: true, transitions: [true, true, false],
    }],
    ['cov subscription', K.writeCovSubscription, K.readCovSubscription, {
      recipient: { recipient: { address: { network: 0, mac: Uint8Array.of(1, 2, 3, 4, 5, 6) } }, processId: 9 },
      monitoredProperty: { objectId: { type: 2, instance: 1 }, propertyId: 85 }, issueConfirmedNotifications: false, timeRemaining: 300, covIncrement: 0.5,
    }],
    ['address binding', K.writeAddressBinding, K.readAddressBinding, { deviceId: { type: 8, instance: 1 }, address: { network: 5, mac: Uint8Array.of(9) } }],
    ['property states bool', K.writePropertyStates, K.readPropertyStates, { kind: 0, value: true }],
    ['property states enum', K.writePropertyStates, K.readPropertyStates, { kind: 1, value: 1 }],
    ['calendar date', K.writeCalendarEntry, K.readCalendarEntry, { date: dt.date }],
    ['calendar range', K.writeCalendarEntry, K.readCalendarEntry, { dateRange: { startDate: dt.date, endDate: dt.date } }],
    ['calendar week-n-day', K.writeCalendarEntry, K.readCalendarEntry, { weekNDay: { month: 255, weekOfMonth: 1, dayOfWeek: 1 } }],
    ['daily schedule', K.writeDailySchedule, K.readDailySchedule, [{ time: dt.time, value: Value.real(21) }, { time: dt.time, value: Value.null() }]],
    ['special event', K.writeSpecialEvent, K.readSpecialEvent, {
      period: { calendarReference: { type: 6, instance: 1 } }, timeValues: [{ time: dt.time, value: Value.enumerated(1) }], priority: 16,
    }],
  ];
  const logData: K.LogDatum[] = [
    { kind: 'log-status', value: [false, true, false] }, { kind: 'boolean', value: true }, { kind: 'real', value: 2 },
    { kind: 'enumerated', value: 3 }, { kind: 'unsigned', value: 4 }, { kind: 'signed', value: -5 },
    { kind: 'bit-string', value: [true] }, { kind: 'null' }, { kind: 'failure', value: { errorClass: 2, errorCode: 32 } },
    { kind: 'time-change', value: 1.5 }, { kind: 'any', value: [Value.characterString('x')] },
  ];
  for (const datum of logData) cases.push([`log record ${datum.kind}`, K.writeLogRecord, K.readLogRecord, { timestamp: dt, datum, statusFlags: [false, false, false, false] }]);
  for (const [name, write, read, x] of cases) {
    const w = new Writer();
    write(w, x as never);
    const r = new Reader(w.finish());
    assert.deepEqual(read(r), x, name);
    r.expectEnd(name);
  }
});

test('notification parameters of every tabled event type round trip; others stay raw', () => {
  const sf = [false, true, false, false];
  const params: NotificationParameters[] = [
    { eventType: 0, parameters: { referencedBitstring: [true, false], statusFlags: sf } },
    { eventType: 1, parameters: { newState: { kind: 1, value: 1 }, statusFlags: sf } },
    { eventType: 2, parameters: { newValue: { changedValue: 3.5 }, statusFlags: sf } },
    { eventType: 2, parameters: { newValue: { changedBits: [true] }, statusFlags: sf } },
    { eventType: 3, parameters: { commandValue: [Value.enumerated(1)], statusFlags: sf, feedbackValue: [Value.enumerated(0)] } },
    { eventType: 4, parameters: { referenceValue: 1, statusFlags: sf, setpointValue: 2, errorLimit: 3 } },
    { eventType: 5, parameters: { exceedingValue: 85.5, statusFlags: sf, deadband: 1, exceededLimit: 80 } },
    { eventType: 8, parameters: { newState: 2, newMode: 1, statusFlags: sf, operationExpected: 0 } },
    { eventType: 10, parameters: { bufferProperty: { objectId: { type: 20, instance: 1 }, propertyId: 131 }, previousNotification: 1, currentNotification: 9 } },
    { eventType: 11, parameters: { exceedingValue: 9, statusFlags: sf, exceededLimit: 8 } },
    { eventType: 14, parameters: { exceedingValue: 1.25, statusFlags: sf, deadband: 0.5, exceededLimit: 1 } },
    { eventType: 15, parameters: { exceedingValue: -9, statusFlags: sf, deadband: 1, exceededLimit: -8 } },
    { eventType: 16, parameters: { exceedingValue: 9, statusFlags: sf, deadband: 1, exceededLimit: 8 } },
    { eventType: 17, parameters: { changedValue: 'ALARM', statusFlags: sf, alarmValue: 'ALARM' } },
    { eventType: 18, parameters: { presentValue: [Value.real(1)], referencedFlags: sf } },
    { eventType: 18, parameters: { referencedFlags: sf } },
    { eventType: 19, parameters: { reliability: 7, statusFlags: sf, propertyValues: [{ propertyId: 85, value: [Value.real(1)] }] } },
    { eventType: 21, parameters: { newValue: [Value.unsigned(3)], statusFlags: sf } },
    { eventType: 9, parameters: {}, raw: [Value.context(0, Uint8Array.of(1)), Value.context(1, Uint8Array.of(2))] },
  ];
  for (const p of params) {
    const w = new Writer();
    writeNotificationParameters(w, p);
    const r = new Reader(w.finish());
    assert.deepEqual(readNotificationParameters(r), p, `event type ${p.eventType}`);
    r.expectEnd();
  }
});

test('encoders refuse out-of-range input with a local error', () => {
  const w = new Writer();
  assert.throws(() => putUnsigned(w, -1), /unsigned/);
  assert.throws(() => putUnsigned(w, 1.5), /unsigned/);
  assert.throws(() => enc(Value.objectId(1024, 0)), /0\.\.1023/);
  assert.throws(() => enc(Value.objectId(0, 4194304)), /instance/);
  assert.throws(() => enc(Value.date({ year: 1800, month: 1, day: 1, weekday: 1 })), /year/);
  writeOpening(w, 1);
  writeClosing(w, 1);
  const t = readTag(new Reader(w.finish()));
  assert.equal(t.kind, TagKind.Opening);
  assert.equal(hex(valuesToBytes([Value.real(0)])), '4400000000');
});
