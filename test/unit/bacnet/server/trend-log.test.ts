/**
 * Trend logs on fake time (12.25): polled logging every Log_Interval, COV logging with the
 * client COV increment, triggered logging, the circular buffer with sequence numbers, Stop_When_Full,
 * Record_Count := 0 purging, log-status records, and ReadRange by position, sequence number and
 * time (15.8) with result flags and response-size limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { LoggingType } from '../../../../src/lib/bacnet/enums/states';
import { Value, bytesToValues } from '../../../../src/lib/bacnet/codec/values';
import { Writer } from '../../../../src/lib/wire/writer';
import { writeDeviceObjectPropertyReference } from '../../../../src/lib/bacnet/codec/constructed';
import { readLogRecords } from '../../../../src/lib/bacnet/services/read-range';
import { dateFromJs, timeFromJs } from '../../../../src/lib/bacnet/codec/primitives';
import { TrendLogObject } from '../../../../src/lib/bacnet/objects/trend-log';
import { FakeClock, ack, call, errorOf, makeServer } from './helpers';

function ref(objectId: { type: number; instance: number }, propertyId = P.presentValue) {
  const w = new Writer(16);
  writeDeviceObjectPropertyReference(w, { objectId, propertyId });
  return bytesToValues(w.finish());
}

function setup(logging: number, extra: Array<[number, ReturnType<typeof Value.real>[]]> = []) {
  const clock = new FakeClock(new Date(2024, 0, 15, 12, 0, 0));
  const env = makeServer({}, clock);
  const ai = env.server.addObject(O.analogInput, { instance: 1, name: 'temp', values: [[P.presentValue, [Value.real(20)]], [P.covIncrement, [Value.real(1)]]] });
  const log = env.server.addObject(O.trendLog, {
    instance: 1, name: 'temp-log', writable: true,
    values: [[P.logDeviceObjectProperty, ref(ai.id)], [P.loggingType, [Value.enumerated(logging)]], [P.logInterval, [Value.unsigned(1000)]], [P.bufferSize, [Value.unsigned(5)]], ...extra],
  }) as TrendLogObject;
  env.server.start();
  return { ...env, ai, log, clock };
}

const data = (log: TrendLogObject) => log.records().map((r) => (r.record.datum.kind === 'real' ? r.record.datum.value : r.record.datum.kind));

test('polled logging into a circular buffer', () => {
  const { log, ai, clock } = setup(LoggingType.polled);
  assert.deepEqual(data(log), ['log-status'], 'enabling logs a status record');
  for (let i = 1; i <= 6; i++) {
    ai.setLocal(P.presentValue, [Value.real(20 + i)]);
    clock.advance(10_000);
  }
  assert.deepEqual(data(log), [22, 23, 24, 25, 26]);
  assert.equal(log.recordCount, 5);
  assert.equal(log.totalRecordCount, 7);
  assert.deepEqual(log.records().map((r) => r.sequence), [3, 4, 5, 6, 7]);
  assert.deepEqual(log.at(0)!.record.statusFlags, [false, false, false, false]);
  assert.deepEqual(log.read(P.recordCount), [Value.unsigned(5)]);
});

test('COV logging follows the client COV increment; triggered logging; disable', () => {
  const { server, log, ai } = setup(LoggingType.cov, [[P.clientCovIncrement, [Value.real(2)]]]);
  ai.setLocal(P.presentValue, [Value.real(21)]);
  ai.setLocal(P.presentValue, [Value.real(21.5)]);
  ai.setLocal(P.presentValue, [Value.real(23.6)]);
  ai.setLocal(P.presentValue, [Value.real(24)]);
  assert.deepEqual(data(log), ['log-status', 21, 23.6]);
  call(server, 'write-property', { objectId: log.id, propertyId: P.loggingType, value: [Value.enumerated(LoggingType.triggered)] });
  call(server, 'write-property', { objectId: log.id, propertyId: P.trigger, value: [Value.boolean(true)] });
  assert.deepEqual(log.read(P.trigger), [Value.boolean(false)], 'the trigger resets once logged');
  assert.deepEqual(data(log).slice(-1), [24]);
  call(server, 'write-property', { objectId: log.id, propertyId: P.enable, value: [Value.boolean(false)] });
  assert.deepEqual(log.at(log.recordCount - 1)!.record.datum, { kind: 'log-status', value: [true, false, false] });
  ai.setLocal(P.presentValue, [Value.real(40)]);
  call(server, 'write-property', { objectId: log.id, propertyId: P.trigger, value: [Value.boolean(true)] });
  assert.deepEqual(data(log).slice(-1), ['log-status'], 'nothing logged while disabled');
  // Record_Count := 0 empties the buffer and logs buffer-purged; other values are refused
  assert.equal(errorOf(call(server, 'write-property', { objectId: log.id, propertyId: P.recordCount, value: [Value.unsigned(3)] })), 'property/value-out-of-range');
  call(server, 'write-property', { objectId: log.id, propertyId: P.recordCount, value: [Value.unsigned(0)] });
  assert.equal(log.recordCount, 1);
  assert.deepEqual(log.at(0)!.record.datum, { kind: 'log-status', value: [true, true, false] });
  assert.equal(errorOf(call(server, 'read-property', { objectId: log.id, propertyId: P.logBuffer })), 'property/read-access-denied');
});

test('COV logging follows Log_DeviceObjectProperty when it is pointed elsewhere', () => {
  const { server, log, ai } = setup(LoggingType.cov);
  const other = server.addObject(O.analogValue, { instance: 7, name: 'other', values: [[P.presentValue, [Value.real(0)]]] });
  ai.setLocal(P.presentValue, [Value.real(25)]);
  assert.deepEqual(data(log), ['log-status', 25]);
  call(server, 'write-property', { objectId: log.id, propertyId: P.logDeviceObjectProperty, value: ref(other.id) });
  ai.setLocal(P.presentValue, [Value.real(30)]);
  assert.deepEqual(data(log), ['log-status', 25], 'the old object is no longer followed');
  other.setLocal(P.presentValue, [Value.real(5)]);
  assert.deepEqual(data(log), ['log-status', 25, 5]);
});

test('stop when full stops logging', () => {
  const { log, clock } = setup(LoggingType.polled, [[P.stopWhenFull, [Value.boolean(true)] as never]]);
  clock.advance(100_000);
  assert.equal(log.recordCount, 5);
  assert.equal(log.enabled, false);
  assert.equal(log.totalRecordCount, 5);
});

test('ReadRange by position, sequence number and time', () => {
  const { server, log, ai, clock } = setup(LoggingType.polled, [[P.bufferSize, [Value.unsigned(50)] as never]]);
  for (let i = 1; i <= 20; i++) {
    ai.setLocal(P.presentValue, [Value.real(i)]);
    clock.advance(10_000);
  }
  // buffer: status record (seq 1, 12:00:00) then values 1..20 at 12:00:10 .. 12:03:20 (seq 2..21)
  const rr = (range: Parameters<typeof call<'read-range'>>[2]['range'], maxResponse = 1476) =>
    ack(call(server, 'read-range', { objectId: log.id, propertyId: P.logBuffer, ...(range ? { range } : {}) }, undefined, maxResponse));
  const vals = (a: ReturnType<typeof rr>) => readLogRecords(a.itemData).map((r) => (r.datum.kind === 'real' ? r.datum.value : r.datum.kind));
  let a = rr({ byPosition: { referenceIndex: 2, count: 3 } });
  assert.deepEqual(vals(a), [1, 2, 3]);
  assert.deepEqual(a.resultFlags, [false, false, false]);
  assert.equal(a.itemCount, 3);
  assert.equal(a.firstSequenceNumber, undefined);
  a = rr({ byPosition: { referenceIndex: 21, count: -3 } });
  assert.deepEqual(vals(a), [18, 19, 20]);
  assert.deepEqual(a.resultFlags, [false, true, false]);
  a = rr({ byPosition: { referenceIndex: 1, count: 2 } });
  assert.deepEqual(a.resultFlags, [true, false, false]);
  a = rr({ byPosition: { referenceIndex: 99, count: 2 } });
  assert.equal(a.itemCount, 0);
  a = rr({ bySequenceNumber: { referenceSequenceNumber: 10, count: 2 } });
  assert.deepEqual(vals(a), [9, 10]);
  assert.equal(a.firstSequenceNumber, 10);
  a = rr({ bySequenceNumber: { referenceSequenceNumber: 10, count: -2 } });
  assert.deepEqual(vals(a), [8, 9]);
  assert.equal(a.firstSequenceNumber, 9);
  const at = new Date(2024, 0, 15, 12, 1, 0); // after the 6th value (12:01:00 exactly is value 6)
  a = rr({ byTime: { referenceTime: { date: dateFromJs(at), time: timeFromJs(at) }, count: 3 } });
  assert.deepEqual(vals(a), [7, 8, 9]);
  assert.equal(a.firstSequenceNumber, 8);
  a = rr({ byTime: { referenceTime: { date: dateFromJs(at), time: timeFromJs(at) }, count: -2 } });
  assert.deepEqual(vals(a), [4, 5]);
  a = rr(undefined);
  assert.equal(a.itemCount, 21);
  assert.deepEqual(a.resultFlags, [true, true, false]);
  // a small response budget keeps the first items and says there are more
  a = rr(undefined, 120);
  assert.ok(a.itemCount > 0 && a.itemCount < 21);
  assert.deepEqual(a.resultFlags, [true, false, true]);
  a = rr({ byPosition: { referenceIndex: 21, count: -21 } }, 120);
  assert.deepEqual(a.resultFlags, [false, true, true], 'backwards: the items nearest the reference are kept');
  assert.deepEqual(vals(a).slice(-1), [20]);
  // ReadRange of an array property by position; of a scalar: not a list
  const list = ack(call(server, 'read-range', { objectId: { type: O.device, instance: 1234 }, propertyId: P.objectList, range: { byPosition: { referenceIndex: 2, count: 1 } } }));
  assert.deepEqual(list.itemData, [Value.objectId(O.analogInput, 1)]);
  assert.equal(errorOf(call(server, 'read-range', { objectId: log.id, propertyId: P.enable })), 'services/property-is-not-a-list');
});
