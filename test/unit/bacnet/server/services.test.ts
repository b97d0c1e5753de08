/**
 * The service handlers through BacnetServer.handleConfirmed / unconfirmed, with requests
 * encoded and responses decoded by the stack's codecs: ReadProperty, ReadPropertyMultiple
 * (ALL / REQUIRED / OPTIONAL, per-property errors), WriteProperty / WritePropertyMultiple,
 * Who-Is / Who-Has, DeviceCommunicationControl and ReinitializeDevice with passwords,
 * TimeSynchronization, CreateObject / DeleteObject, AtomicRead/WriteFile, rejects for
 * unknown services and malformed requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { ConfirmedServiceChoice, ServicesSupported, UnconfirmedServiceChoice } from '../../../../src/lib/bacnet/enums/services';
import { RejectReason } from '../../../../src/lib/bacnet/enums/errors';
import { Value } from '../../../../src/lib/bacnet/codec/values';
import { PROPERTY_ALL, PROPERTY_OPTIONAL, PROPERTY_REQUIRED } from '../../../../src/lib/bacnet/services/read-property-multiple';
import type { ServerEvent } from '../../../../src/lib/bacnet/server/events';
import { CLIENT, OTHER, ack, call, encodeUnconfirmed, errorOf, handleUnconfirmed, makeServer } from './helpers';

const dev = { type: O.device, instance: 1234 };
const av1 = { type: O.analogValue, instance: 1 };

function demo(opts: Parameters<typeof makeServer>[0] = {}) {
  const env = makeServer(opts);
  const events: ServerEvent[] = [];
  env.server.onEvent((e) => events.push(e));
  env.server.addObject(O.analogValue, { instance: 1, name: 'setpoint', commandable: true, values: [[P.presentValue, [Value.real(21)]], [P.units, [Value.enumerated(62)]]] });
  env.server.addObject(O.analogInput, { instance: 1, name: 'temp', description: 'room', values: [[P.presentValue, [Value.real(20.5)]]] });
  env.server.addObject(O.binaryValue, { instance: 1, name: 'ro-switch' });
  return { ...env, events };
}

test('ReadProperty: values, wildcard device, errors', () => {
  const { server } = demo();
  assert.deepEqual(ack(call(server, 'read-property', { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue })).value, [Value.real(20.5)]);
  const wild = ack(call(server, 'read-property', { objectId: { type: O.device, instance: 0x3fffff }, propertyId: P.objectIdentifier }));
  assert.deepEqual(wild.objectId, dev);
  assert.deepEqual(wild.value, [Value.objectId(O.device, 1234)]);
  const list = ack(call(server, 'read-property', { objectId: dev, propertyId: P.objectList })).value;
  assert.equal(list.length, 4);
  assert.deepEqual(ack(call(server, 'read-property', { objectId: dev, propertyId: P.objectList, arrayIndex: 0 })).value, [Value.unsigned(4)]);
  assert.deepEqual(ack(call(server, 'read-property', { objectId: dev, propertyId: P.objectList, arrayIndex: 1 })).value, [Value.objectId(O.device, 1234)]);
  assert.equal(errorOf(call(server, 'read-property', { objectId: { type: O.analogInput, instance: 9 }, propertyId: P.presentValue })), 'object/unknown-object');
  assert.equal(errorOf(call(server, 'read-property', { objectId: av1, propertyId: P.stateText })), 'property/unknown-property');
  assert.equal(errorOf(call(server, 'read-property', { objectId: av1, propertyId: P.presentValue, arrayIndex: 1 })), 'property/property-is-not-an-array');
  assert.equal(errorOf(call(server, 'read-property', { objectId: av1, propertyId: PROPERTY_ALL })), 'property/read-access-denied');
});

test('the Device object tells what the server does', () => {
  const { server } = demo();
  const rd = (p: number) => ack(call(server, 'read-property', { objectId: dev, propertyId: p })).value;
  const services = rd(P.protocolServicesSupported)[0] as { type: 'bit-string'; value: boolean[] };
  for (const s of ['read-property', 'read-property-multiple', 'write-property', 'write-property-multiple', 'subscribe-cov', 'subscribe-cov-property',
    'read-range', 'device-communication-control', 'reinitialize-device', 'who-is', 'who-has', 'time-synchronization', 'utc-time-synchronization',
    'atomic-read-file', 'atomic-write-file', 'create-object', 'delete-object', 'acknowledge-alarm', 'get-event-information']) {
    assert.equal(services.value[ServicesSupported.require(s)], true, s);
  }
  for (const s of ['read-property-conditional', 'vt-open', 'add-list-element', 'get-alarm-summary', 'confirmed-text-message']) {
    assert.equal(services.value[ServicesSupported.require(s)], false, s);
  }
  const types = rd(P.protocolObjectTypesSupported)[0] as { type: 'bit-string'; value: boolean[] };
  for (const t of [O.analogInput, O.analogOutput, O.trendLog, O.schedule, O.calendar, O.file, O.notificationClass, O.device, O.integerValue]) assert.equal(types.value[t], true, O.label(t));
  for (const t of [O.loop, O.command, O.accumulator]) assert.equal(types.value[t], false, O.label(t));
  assert.deepEqual(rd(P.segmentationSupported), [Value.enumerated(0)]);
  assert.deepEqual(rd(P.maxApduLengthAccepted), [Value.unsigned(1476)]);
  assert.deepEqual(rd(P.vendorIdentifier), [Value.unsigned(999)]);
  assert.deepEqual(rd(P.protocolRevision), [Value.unsigned(22)]);
  assert.equal(rd(P.localDate)[0]!.type, 'date');
  assert.deepEqual((rd(P.localTime)[0] as { value: { hour: number } }).value.hour, 7);
  server.setCommunication({ segmentation: 3, maxApdu: 480 });
  assert.deepEqual(rd(P.segmentationSupported), [Value.enumerated(3)]);
  assert.deepEqual(rd(P.maxApduLengthAccepted), [Value.unsigned(480)]);
});

test('ReadPropertyMultiple: ALL, REQUIRED, OPTIONAL and per-property errors', () => {
  const { server } = demo();
  const res = ack(call(server, 'read-property-multiple', {
    specs: [
      { objectId: { type: O.analogInput, instance: 1 }, properties: [{ propertyId: PROPERTY_ALL }] },
      { objectId: av1, properties: [{ propertyId: PROPERTY_REQUIRED }] },
      { objectId: av1, properties: [{ propertyId: PROPERTY_OPTIONAL }] },
      { objectId: av1, properties: [{ propertyId: P.presentValue }, { propertyId: P.stateText }, { propertyId: P.priorityArray, arrayIndex: 20 }] },
      { objectId: { type: O.analogValue, instance: 77 }, properties: [{ propertyId: P.presentValue }, { propertyId: PROPERTY_ALL }] },
    ],
  })).results;
  assert.equal(res.length, 5);
  const ids = (i: number) => res[i]!.results.map((r) => P.label(r.propertyId));
  assert.ok(ids(0).includes('object-identifier') && ids(0).includes('present-value') && ids(0).includes('description') && ids(0).includes('property-list'));
  assert.ok(res[0]!.results.every((r) => r.value && !r.error));
  assert.ok(ids(1).includes('priority-array') && ids(1).includes('status-flags') && !ids(1).includes('description'));
  assert.ok(ids(2).includes('description') && !ids(2).includes('present-value'));
  assert.deepEqual(res[3]!.results[0]!.value, [Value.real(21)]);
  assert.equal(res[3]!.results[1]!.error?.errorCode, 32); // unknown-property
  assert.equal(res[3]!.results[2]!.error?.errorCode, 42); // invalid-array-index
  assert.deepEqual(res[4]!.results.map((r) => [r.propertyId, r.error?.errorCode]), [[P.presentValue, 31], [PROPERTY_ALL, 31]]);
});

test('WriteProperty: priorities, relinquish, errors, allow-list, write events', () => {
  const { server, events } = demo({ writeAllowList: ['127.0.0.1'] });
  assert.equal(call(server, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.real(19)], priority: 8 }).kind, 'simple-ack');
  assert.equal(call(server, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.real(25)], priority: 12 }).kind, 'simple-ack');
  assert.deepEqual(ack(call(server, 'read-property', { objectId: av1, propertyId: P.presentValue })).value, [Value.real(19)]);
  call(server, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.null()], priority: 8 });
  assert.deepEqual(ack(call(server, 'read-property', { objectId: av1, propertyId: P.presentValue })).value, [Value.real(25)]);
  const w = events.filter((e) => e.type === 'write');
  assert.equal(w.length, 3);
  assert.deepEqual(w.map((e) => e.type === 'write' && [e.priority, e.value[0]!.type, e.service, e.source.host]), [
    [8, 'real', 'write-property', '127.0.0.1'], [12, 'real', 'write-property', '127.0.0.1'], [8, 'null', 'write-property', '127.0.0.1'],
  ]);
  assert.equal(errorOf(call(server, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.real(1)] }, OTHER)), 'property/write-access-denied');
  assert.equal(errorOf(call(server, 'write-property', { objectId: { type: O.binaryValue, instance: 1 }, propertyId: P.presentValue, value: [Value.enumerated(1)] })), 'property/write-access-denied');
  assert.equal(errorOf(call(server, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.boolean(true)] })), 'property/invalid-data-type');
  assert.equal(errorOf(call(server, 'write-property', { objectId: { type: O.analogValue, instance: 5 }, propertyId: P.presentValue, value: [Value.real(1)] })), 'object/unknown-object');
  const bad = call(server, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.real(1)], priority: 1 });
  assert.equal(bad.kind, 'simple-ack');
  // priority 0 / 17 cannot be encoded by our client codec: craft the octets by hand
  const data = Uint8Array.of(0x0c, 0x00, 0x80, 0x00, 0x01, 0x19, 0x55, 0x3e, 0x44, 0x41, 0xa0, 0x00, 0x00, 0x3f, 0x49, 0x11);
  const out = server.handleConfirmed(ConfirmedServiceChoice.writeProperty, data, { source: CLIENT, maxResponse: 1476 });
  assert.deepEqual(out, { kind: 'reject', reason: RejectReason.parameterOutOfRange });
});

test('WritePropertyMultiple stops at the first failure and names it', () => {
  const { server } = demo();
  server.addObject(O.analogValue, { instance: 2, name: 'plain', writable: true });
  const r = call(server, 'write-property-multiple', {
    specs: [
      { objectId: { type: O.analogValue, instance: 2 }, values: [{ propertyId: P.presentValue, value: [Value.real(3)] }, { propertyId: P.description, value: [Value.characterString('x')] }] },
      { objectId: av1, values: [{ propertyId: P.presentValue, value: [Value.real(50)], priority: 4 }, { propertyId: P.units, value: [Value.enumerated(1)] }] },
    ],
  });
  assert.equal(errorOf(r), 'property/write-access-denied');
  assert.ok(r.kind === 'error');
  assert.deepEqual(r.error.firstFailedWriteAttempt, { objectId: av1, propertyId: P.units });
  assert.deepEqual(ack(call(server, 'read-property', { objectId: av1, propertyId: P.presentValue })).value, [Value.real(50)]);
  assert.deepEqual(ack(call(server, 'read-property', { objectId: { type: O.analogValue, instance: 2 }, propertyId: P.description })).value, [Value.characterString('x')]);
});

test('Who-Is honours the range, Who-Has finds by id and name', () => {
  const { server, net } = demo();
  const whoIs = (low?: number, high?: number) => handleUnconfirmed(server, UnconfirmedServiceChoice.whoIs,
    encodeUnconfirmed('who-is', low === undefined ? {} : { lowLimit: low, highLimit: high! }), CLIENT);
  whoIs();
  whoIs(1000, 2000);
  whoIs(1234, 1234);
  whoIs(0, 1233);
  whoIs(1235, 4194303);
  const iAms = net.take('i-am');
  assert.equal(iAms.length, 3);
  assert.deepEqual(iAms[0]!.to, CLIENT);
  assert.deepEqual(iAms[0]!.request, { deviceId: dev, maxApdu: 1476, segmentation: 0, vendorId: 999 });
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoHas, encodeUnconfirmed('who-has', { objectName: 'temp' }), CLIENT);
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoHas, encodeUnconfirmed('who-has', { objectId: av1 }), CLIENT);
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoHas, encodeUnconfirmed('who-has', { objectName: 'nope' }), CLIENT);
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoHas, encodeUnconfirmed('who-has', { lowLimit: 1, highLimit: 5, objectName: 'temp' }), CLIENT);
  const iHaves = net.take('i-have');
  assert.deepEqual(iHaves.map((s) => s.request), [
    { deviceId: dev, objectId: { type: O.analogInput, instance: 1 }, objectName: 'temp' },
    { deviceId: dev, objectId: av1, objectName: 'setpoint' },
  ]);
  // malformed unconfirmed requests are dropped
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoIs, Uint8Array.of(0x09), CLIENT);
  assert.equal(net.sent.length, 0);
});

test('DeviceCommunicationControl: password, disable, disable-initiation, duration', () => {
  const { server, net, clock, events } = demo({ password: 'secret' });
  assert.equal(errorOf(call(server, 'device-communication-control', { enableDisable: 1, password: 'wrong' })), 'security/password-failure');
  assert.equal(errorOf(call(server, 'device-communication-control', { enableDisable: 1 })), 'security/password-failure');
  assert.equal(call(server, 'device-communication-control', { enableDisable: 1, password: 'secret', timeDuration: 2 }).kind, 'simple-ack');
  assert.equal(call(server, 'read-property', { objectId: dev, propertyId: P.objectName }).kind, 'none');
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoIs, encodeUnconfirmed('who-is', {}), CLIENT);
  assert.equal(net.take('i-am').length, 0);
  clock.advance(120_000);
  assert.equal(server.dcc.state, 'enable');
  assert.equal(call(server, 'read-property', { objectId: dev, propertyId: P.objectName }).kind, 'ack');
  call(server, 'device-communication-control', { enableDisable: 2, password: 'secret' });
  assert.equal(call(server, 'read-property', { objectId: dev, propertyId: P.objectName }).kind, 'ack');
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoIs, encodeUnconfirmed('who-is', {}), CLIENT);
  assert.equal(net.take('i-am').length, 1, 'I-Am still answers Who-Is under disable-initiation');
  handleUnconfirmed(server, UnconfirmedServiceChoice.whoHas, encodeUnconfirmed('who-has', { objectName: 'temp' }), CLIENT);
  assert.equal(net.take('i-have').length, 0);
  call(server, 'device-communication-control', { enableDisable: 0, password: 'secret' });
  assert.deepEqual(events.filter((e) => e.type === 'dcc').map((e) => e.type === 'dcc' && e.state), ['disable', 'enable', 'disable-initiation', 'enable']);
  assert.equal(call(server, 'device-communication-control', { enableDisable: 7, password: 'secret' }).kind, 'reject');
});

test('ReinitializeDevice: password, supported states, event', () => {
  const { server, events } = demo({ password: 'pw' });
  assert.equal(errorOf(call(server, 'reinitialize-device', { state: 0, password: 'PW' })), 'security/password-failure');
  assert.equal(call(server, 'reinitialize-device', { state: 1, password: 'pw' }).kind, 'simple-ack');
  assert.equal(errorOf(call(server, 'reinitialize-device', { state: 2, password: 'pw' })), 'services/optional-functionality-not-supported');
  assert.deepEqual(events.filter((e) => e.type === 'reinitialize').map((e) => e.type === 'reinitialize' && e.state), ['warmstart']);
  // no password configured: anything is accepted
  const open = demo();
  assert.equal(call(open.server, 'reinitialize-device', { state: 0 }).kind, 'simple-ack');
  assert.equal(call(open.server, 'reinitialize-device', { state: 0, password: 'any' }).kind, 'simple-ack');
});

test('TimeSynchronization sets the device clock', () => {
  const { server } = demo();
  handleUnconfirmed(server, UnconfirmedServiceChoice.timeSynchronization, encodeUnconfirmed('time-synchronization', {
    time: { date: { year: 2030, month: 6, day: 1, weekday: 6 }, time: { hour: 12, minute: 30, second: 0, hundredths: 0 } },
  }), CLIENT);
  const d = ack(call(server, 'read-property', { objectId: dev, propertyId: P.localDate })).value[0] as { value: { year: number; month: number } };
  assert.deepEqual([d.value.year, d.value.month], [2030, 6]);
  const t = ack(call(server, 'read-property', { objectId: dev, propertyId: P.localTime })).value[0] as { value: { hour: number; minute: number } };
  assert.deepEqual([t.value.hour, t.value.minute], [12, 30]);
});

test('CreateObject / DeleteObject', () => {
  const closed = demo();
  assert.equal(errorOf(call(closed.server, 'create-object', { objectType: O.analogValue })), 'object/dynamic-creation-not-supported');
  const { server, events } = demo({ allowCreateDelete: true });
  const a = ack(call(server, 'create-object', { objectType: O.analogValue, initialValues: [{ propertyId: P.objectName, value: [Value.characterString('new-av')] }, { propertyId: P.presentValue, value: [Value.real(4)] }] }));
  assert.deepEqual(a.objectId, { type: O.analogValue, instance: 2 });
  assert.deepEqual(ack(call(server, 'read-property', { objectId: a.objectId, propertyId: P.presentValue })).value, [Value.real(4)]);
  const b = call(server, 'create-object', { objectId: { type: O.multiStateValue, instance: 5 }, initialValues: [{ propertyId: P.presentValue, value: [Value.unsigned(9)] }] });
  assert.equal(errorOf(b), 'property/value-out-of-range');
  assert.ok(b.kind === 'error');
  assert.equal(b.error.firstFailedElementNumber, 1);
  assert.equal(server.find('multi-state-value:5'), undefined);
  assert.equal(errorOf(call(server, 'create-object', { objectId: av1 })), 'object/object-identifier-already-exists');
  assert.equal(errorOf(call(server, 'create-object', { objectType: O.loop })), 'object/unsupported-object-type');
  assert.equal(errorOf(call(server, 'delete-object', { objectId: av1 })), 'object/object-deletion-not-permitted');
  assert.equal(errorOf(call(server, 'delete-object', { objectId: dev })), 'object/object-deletion-not-permitted');
  assert.equal(call(server, 'delete-object', { objectId: a.objectId }).kind, 'simple-ack');
  assert.equal(errorOf(call(server, 'delete-object', { objectId: a.objectId })), 'object/unknown-object');
  assert.deepEqual(events.filter((e) => e.type === 'object-created' || e.type === 'object-deleted').map((e) => e.type), ['object-created', 'object-deleted']);
});

test('AtomicReadFile / AtomicWriteFile, stream and record', () => {
  const { server } = demo();
  const text = new TextEncoder().encode('hello, file');
  server.addObject(O.file, { instance: 1, name: 'f1', writable: true, data: text } as never);
  server.addObject(O.file, { instance: 2, name: 'f2', writable: true, access: 'record', data: [Uint8Array.of(1), Uint8Array.of(2, 2)] } as never);
  server.addObject(O.file, { instance: 3, name: 'f3', readOnly: true, writable: true, data: text } as never);
  const f1 = { type: O.file, instance: 1 };
  const r = ack(call(server, 'atomic-read-file', { fileId: f1, stream: { start: 7, octetCount: 100 } }));
  assert.ok('stream' in r);
  assert.equal(new TextDecoder().decode(r.stream.data), 'file');
  assert.equal(r.endOfFile, true);
  const w = ack(call(server, 'atomic-write-file', { fileId: f1, stream: { start: -1, data: new TextEncoder().encode('!') } }));
  assert.deepEqual(w, { start: 11 });
  assert.deepEqual(ack(call(server, 'read-property', { objectId: f1, propertyId: P.fileSize })).value, [Value.unsigned(12)]);
  const part = ack(call(server, 'atomic-read-file', { fileId: f1, stream: { start: 0, octetCount: 5 } }));
  assert.ok('stream' in part && !part.endOfFile);
  assert.equal(errorOf(call(server, 'atomic-read-file', { fileId: f1, stream: { start: 99, octetCount: 5 } })), 'services/invalid-file-start-position');
  assert.equal(errorOf(call(server, 'atomic-read-file', { fileId: f1, record: { start: 0, recordCount: 5 } })), 'services/invalid-file-access-method');
  const f2 = { type: O.file, instance: 2 };
  const rr = ack(call(server, 'atomic-read-file', { fileId: f2, record: { start: 0, recordCount: 10 } }));
  assert.ok('record' in rr);
  assert.deepEqual(rr.record.records, [Uint8Array.of(1), Uint8Array.of(2, 2)]);
  assert.deepEqual(ack(call(server, 'atomic-write-file', { fileId: f2, record: { start: -1, records: [Uint8Array.of(3)] } })), { start: 2, record: true });
  assert.deepEqual(ack(call(server, 'read-property', { objectId: f2, propertyId: P.recordCount })).value, [Value.unsigned(3)]);
  assert.equal(errorOf(call(server, 'atomic-write-file', { fileId: { type: O.file, instance: 3 }, stream: { start: 0, data: Uint8Array.of(1) } })), 'services/file-access-denied');
  assert.equal(errorOf(call(server, 'atomic-read-file', { fileId: av1, stream: { start: 0, octetCount: 1 } })), 'services/inconsistent-object-type');
});

test('unknown services and malformed requests are rejected; nothing throws', () => {
  const { server } = demo();
  const info = { source: CLIENT, maxResponse: 1476 };
  assert.deepEqual(server.handleConfirmed(ConfirmedServiceChoice.vtOpen, Uint8Array.of(), info), { kind: 'reject', reason: RejectReason.unrecognizedService });
  assert.deepEqual(server.handleConfirmed(200, Uint8Array.of(1, 2), info), { kind: 'reject', reason: RejectReason.unrecognizedService });
  assert.deepEqual(server.handleConfirmed(ConfirmedServiceChoice.readProperty, Uint8Array.of(0x0c, 0x00, 0x80, 0x00, 0x01), info), { kind: 'reject', reason: RejectReason.missingRequiredParameter });
  assert.deepEqual(server.handleConfirmed(ConfirmedServiceChoice.readProperty, Uint8Array.of(0x0c, 0x00, 0x80, 0x00, 0x01, 0x19, 0x55, 0x29, 0x01, 0x00), info), { kind: 'reject', reason: RejectReason.tooManyArguments });
  assert.deepEqual(server.handleConfirmed(ConfirmedServiceChoice.readProperty, Uint8Array.of(0x0c, 0x00, 0x80), info), { kind: 'reject', reason: RejectReason.invalidTag });
  assert.equal(server.handleConfirmed(ConfirmedServiceChoice.readProperty, Uint8Array.of(0x1c, 0x00), info).kind, 'reject');
  for (let i = 0; i < 2000; i++) {
    const data = Uint8Array.from({ length: (i % 40) + 1 }, () => Math.floor(Math.random() * 256));
    const choice = i % 35;
    assert.doesNotThrow(() => server.handleConfirmed(choice, data, info));
    assert.doesNotThrow(() => handleUnconfirmed(server, i % 12, data, CLIENT));
  }
  assert.equal(server.stats.internalErrors, 0, server.stats.lastInternalError);
});
