import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O, PropertyIdentifier as P } from '../../../src/lib/bacnet/enums';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { commandability, propertyDatatype } from '../../../src/lib/bacnet/codec/datatypes';
import {
  BacnetValueError, decodeProperty, encodeProperty, formatObjectId, parseObjectId, parsePropertyId,
} from '../../../src/lib/bacnet/codec/js';

test('present-value is typed by object type (analog REAL, binary ENUMERATED, multi-state Unsigned)', () => {
  assert.deepEqual(encodeProperty(O.analogOutput, P.presentValue, 42.5), [Value.real(42.5)]);
  assert.deepEqual(encodeProperty(O.analogValue, P.presentValue, '12.5'), [Value.real(12.5)]);
  for (const on of [true, 1, 'active', 'on', 'ON', 'true']) assert.deepEqual(encodeProperty(O.binaryOutput, P.presentValue, on), [Value.enumerated(1)], String(on));
  for (const off of [false, 0, 'inactive', 'off']) assert.deepEqual(encodeProperty(O.binaryValue, P.presentValue, off), [Value.enumerated(0)], String(off));
  assert.deepEqual(encodeProperty(O.multiStateValue, P.presentValue, 3), [Value.unsigned(3)]);
  assert.deepEqual(encodeProperty(O.integerValue, P.presentValue, -4), [Value.signed(-4)]);
  assert.deepEqual(encodeProperty(O.largeAnalogValue, P.presentValue, 1.5), [Value.double(1.5)]);
  assert.deepEqual(encodeProperty(O.characterstringValue, P.presentValue, 'hi'), [Value.characterString('hi')]);
  assert.deepEqual(encodeProperty(O.dateValue, P.presentValue, '2024-05-06'), [Value.date({ year: 2024, month: 5, day: 6, weekday: 1 })]);
  assert.deepEqual(encodeProperty(O.timeValue, P.presentValue, '07:30'), [Value.time({ hour: 7, minute: 30, second: 0, hundredths: 0 })]);
  assert.deepEqual(encodeProperty(O.octetstringValue, P.presentValue, 'de:ad'), [Value.octetString(Uint8Array.of(0xde, 0xad))]);
});

test('null always encodes the NULL tag (relinquish), never 0', () => {
  for (const t of [O.analogOutput, O.binaryOutput, O.multiStateOutput, O.characterstringValue]) {
    assert.deepEqual(encodeProperty(t, P.presentValue, null), [Value.null()]);
  }
});

test('explicit tagged values override the table', () => {
  assert.deepEqual(encodeProperty(O.analogOutput, P.presentValue, { type: 'unsigned', value: 5 }), [Value.unsigned(5)]);
});

test('wrong types are refused in words', () => {
  assert.throws(() => encodeProperty(O.analogOutput, P.presentValue, 'warm'), (e: unknown) => e instanceof BacnetValueError && /expected a number for present-value of analog-output/.test(e.message));
  assert.throws(() => encodeProperty(O.binaryOutput, P.presentValue, 'maybe'), /not a valid binary value.*inactive, active/);
  assert.throws(() => encodeProperty(O.multiStateValue, P.presentValue, -1), /cannot be negative/);
});

test('priority array, status flags, units, object list, date-time decode to plain JS', () => {
  const pa = Array.from({ length: 16 }, (_, i) => (i === 7 ? Value.real(42.5) : Value.null()));
  const js = decodeProperty(O.analogOutput, P.priorityArray, pa) as Array<number | null>;
  assert.equal(js.length, 16);
  assert.equal(js[7], 42.5);
  assert.equal(js.filter((x) => x === null).length, 15);
  assert.deepEqual(encodeProperty(O.analogOutput, P.priorityArray, js), pa);
  assert.equal(decodeProperty(O.analogOutput, P.priorityArray, [Value.real(42.5)], 8), 42.5);
  assert.equal(decodeProperty(O.analogOutput, P.priorityArray, [Value.unsigned(16)], 0), 16);
  assert.deepEqual(decodeProperty(O.analogInput, P.statusFlags, [Value.bitString([false, false, false, true])], undefined, { flags: true }),
    { inAlarm: false, fault: false, overridden: false, outOfService: true });
  assert.equal(decodeProperty(O.analogInput, P.units, [Value.enumerated(62)], undefined, { enumNames: true }), 'degrees-celsius');
  assert.equal(decodeProperty(O.analogInput, P.units, [Value.enumerated(62)]), 62);
  assert.equal(decodeProperty(O.binaryInput, P.presentValue, [Value.enumerated(1)], undefined, { enumNames: true }), 'active');
  assert.deepEqual(decodeProperty(O.device, P.objectList, [Value.objectId(8, 1), Value.objectId(0, 1)]), [{ type: 8, instance: 1 }, { type: 0, instance: 1 }]);
  const dt = decodeProperty(O.trendLog, P.startTime, [Value.date({ year: 2024, month: 1, day: 2, weekday: 2 }), Value.time({ hour: 1, minute: 2, second: 3, hundredths: 4 })]);
  assert.deepEqual(dt, { date: { year: 2024, month: 1, day: 2, weekday: 2 }, time: { hour: 1, minute: 2, second: 3, hundredths: 4 } });
  // a device that answers with an unexpected type is rendered generically, not an exception
  assert.equal(decodeProperty(O.analogInput, P.presentValue, [Value.unsigned(7)]), 7);
  assert.deepEqual(decodeProperty(O.analogInput, P.presentValue, [Value.real(1), Value.real(2)]), [1, 2]);
});

test('constructed property types round trip through JS', () => {
  const weekly = Array.from({ length: 7 }, () => [{ time: { hour: 8, minute: 0, second: 0, hundredths: 0 }, value: Value.real(21) }]);
  const vs = encodeProperty(O.schedule, P.weeklySchedule, weekly);
  assert.deepEqual(decodeProperty(O.schedule, P.weeklySchedule, vs), weekly);
  const rec = [{ timestamp: { date: { year: 2024, month: 1, day: 1, weekday: 1 }, time: { hour: 0, minute: 0, second: 0, hundredths: 0 } }, datum: { kind: 'real', value: 1 } }];
  assert.deepEqual(decodeProperty(O.trendLog, P.logBuffer, encodeProperty(O.trendLog, P.logBuffer, rec)), rec);
});

test('object identifiers and property names in common spellings', () => {
  for (const s of ['analog-input:1', 'analogInput:1', 'ai:1', 'AI 1', 'ai,1', '0:1', { type: 'ai', instance: 1 }, { type: 0, instance: 1 }, [0, 1]]) {
    assert.deepEqual(parseObjectId(s), { type: 0, instance: 1 }, JSON.stringify(s));
  }
  assert.deepEqual(parseObjectId('device:4194303'), { type: 8, instance: 4194303 });
  assert.throws(() => parseObjectId('ai:4194304'), /outside/);
  assert.throws(() => parseObjectId('widget:1'), /unknown object type/);
  assert.equal(formatObjectId({ type: 19, instance: 7 }), 'multi-state-value:7');
  assert.equal(parsePropertyId('pv'), 85);
  assert.equal(parsePropertyId('presentValue'), 85);
  assert.throws(() => parsePropertyId('nope'), /unknown property/);
});

test('datatype table knows the common properties and commandability', () => {
  assert.equal(propertyDatatype(O.analogInput, P.objectName)?.kind, 'character-string');
  assert.equal(propertyDatatype(O.analogInput, P.priorityArray), undefined);
  assert.equal(propertyDatatype(O.analogOutput, P.priorityArray)?.kind, 'array');
  assert.equal(propertyDatatype(O.binaryOutput, P.relinquishDefault)?.kind, 'enumerated');
  assert.equal(propertyDatatype(O.multiStateOutput, P.relinquishDefault)?.kind, 'unsigned');
  assert.equal(propertyDatatype(O.analogValue, P.covIncrement)?.kind, 'real');
  assert.equal(propertyDatatype(O.largeAnalogValue, P.covIncrement)?.kind, 'double');
  assert.equal(commandability(O.analogOutput), 'always');
  assert.equal(commandability(O.analogValue), 'optional');
  assert.equal(commandability(O.analogInput), 'never');
});
