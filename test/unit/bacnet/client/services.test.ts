/**
 * BacnetClient against our own server (BacnetServer on a loopback endpoint): every client
 * service with the outcome checked on the server side, the object-list ladder down to
 * index-by-index reads, the point dump and the device profile.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetClient } from '../../../../src/lib/bacnet/client/client';
import { readObjectList, dumpPoints, deviceProfile } from '../../../../src/lib/bacnet/client/discovery';
import { clearLearnedLimits } from '../../../../src/lib/bacnet/client/device-state';
import { processIdFor } from '../../../../src/lib/bacnet/client/cov-manager';
import { renderValue } from '../../../../src/lib/bacnet/client/points';
import { BacnetError, DeviceUnknownError } from '../../../../src/lib/bacnet/errors';
import { Value } from '../../../../src/lib/bacnet/codec/values';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { readLogRecords } from '../../../../src/lib/bacnet/services/read-range';
import type { BacnetEndpoint } from '../../../../src/lib/bacnet/endpoint';
import { type DeviceFixture, openEndpoint, startDevice } from '../../../helpers/bacnet-client-fixture';

let dev: DeviceFixture;
let ep: BacnetEndpoint;
let client: BacnetClient;
const INSTANCE = 4711;

before(async () => {
  clearLearnedLimits();
  dev = await startDevice({ instance: INSTANCE, password: 'secret', allowCreateDelete: true });
  const s = dev.server;
  s.addObject(O.analogInput, { instance: 1, name: 'Zone temp', description: 'room 12', values: [[P.presentValue, [Value.real(21.5)]], [P.units, [Value.enumerated(62)]], [P.covIncrement, [Value.real(0.1)]]] });
  s.addObject(O.analogValue, { instance: 1, name: 'Setpoint', commandable: true, values: [[P.presentValue, [Value.real(20)]], [P.units, [Value.enumerated(62)]]] });
  s.addObject(O.binaryValue, { instance: 1, name: 'Fan', commandable: true });
  s.addObject(O.multiStateValue, { instance: 1, name: 'Mode', commandable: true, values: [[P.numberOfStates, [Value.unsigned(3)]]] });
  s.addObject(O.characterstringValue, { instance: 1, name: 'Note', writable: true });
  s.addObject(O.trendLog, { instance: 1, name: 'log', writable: true, values: [[P.loggingType, [Value.enumerated(1)]]] });
  s.addObject(O.file, { instance: 1, name: 'file', writable: true, data: new TextEncoder().encode('hello fieldlink') } as never);
  for (let i = 0; i < 400; i++) s.addObject(O.binaryInput, { instance: 100 + i, name: `bi-${i}`, description: `binary input ${i}` });
  ep = await openEndpoint();
  client = new BacnetClient(ep);
});

after(async () => {
  client?.close();
  await ep?.close();
  await dev?.close();
});

const ai1 = 'analog-input:1';

test('Who-Is finds the device (directed, with a range); instances resolve to its address; Who-Has by name', async () => {
  const found = await client.whoIs({ address: dev.addr, low: INSTANCE, high: INSTANCE, timeout: 2000 });
  assert.deepEqual(found.map((d) => [d.instance, d.address.port, d.maxApdu, d.vendorId]), [[INSTANCE, dev.port, 1476, 555]]);
  const r = await client.resolve(INSTANCE);
  assert.equal(r.key, `127.0.0.1:${dev.port}`);
  assert.match(r.label, new RegExp(`device ${INSTANCE} \\(127\\.0\\.0\\.1:${dev.port}\\)`));
  const none = await client.whoIs({ address: dev.addr, low: 1, high: 10, timeout: 300 });
  assert.deepEqual(none, []);
  // Who-Has is broadcast; our server answers it, but the fixture's broadcast goes to port 9: ask directly instead
  dev.server.unconfirmed('who-has', { objectName: 'Zone temp' }, { host: '127.0.0.1', port: ep.transport.local.port });
  const heard = await new Promise<unknown>((resolve) => ep.once('i-have', (h) => resolve(h)));
  assert.deepEqual(heard, { deviceId: { type: O.device, instance: INSTANCE }, objectId: { type: O.analogInput, instance: 1 }, objectName: 'Zone temp' });
  await assert.rejects(new BacnetClient(ep, { resolveTimeout: 200 }).resolve(999), DeviceUnknownError);
});

test('ReadProperty and ReadPropertyMultiple with per-property errors; readMany in order', async () => {
  assert.deepEqual(await client.readProperty(INSTANCE, ai1, 'pv'), [Value.real(21.5)]);
  assert.deepEqual(await client.readProperty(dev.addr, 'ai:1', 'presentValue'), [Value.real(21.5)]);
  const rpm = await client.readPropertyMultiple(dev.addr, [{ objectId: ai1, properties: ['present-value', 'units', 'priority-array'] }]);
  assert.deepEqual(rpm[0]!.results.map((r) => [r.propertyId, r.value ? 'value' : `${r.error!.errorClass}/${r.error!.errorCode}`]), [[85, 'value'], [117, 'value'], [87, '2/32']]);
  const many = await client.readMany(dev.addr, [
    { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue },
    { objectId: { type: O.analogInput, instance: 99 }, propertyId: P.presentValue },
    { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.objectName },
    { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.statusFlags },
  ]);
  assert.deepEqual(many[0]!.value, [Value.real(21.5)]);
  assert.ok(many[1]!.error instanceof BacnetError);
  assert.equal(many[1]!.error.message, 'BACnet error: object: unknown-object');
  assert.deepEqual(many[2]!.value, [Value.characterString('Setpoint')]);
  assert.deepEqual(renderValue(O.analogInput, P.statusFlags, many[3]!.value!), { inAlarm: false, fault: false, overridden: false, outOfService: false });
  assert.equal(client.state(await client.resolve(dev.addr)).rpm, true);
});

test('WriteProperty: typed from the object, priority, NULL relinquish at that priority, priority array', async () => {
  const sent = await client.writeProperty(INSTANCE, 'analog-value:1', 'pv', 23.5, { priority: 8 });
  assert.deepEqual(sent, [Value.real(23.5)]);
  assert.deepEqual(await client.readProperty(INSTANCE, 'av:1', 'pv'), [Value.real(23.5)]);
  const pa = renderValue(O.analogValue, P.priorityArray, await client.readProperty(INSTANCE, 'av:1', 'priority-array')) as unknown[];
  assert.equal(pa[7], 23.5);
  assert.deepEqual(await client.writeProperty(INSTANCE, 'analog-value:1', 'pv', null, { priority: 8 }), [Value.null()]);
  assert.deepEqual(await client.readProperty(INSTANCE, 'av:1', 'pv'), [Value.real(20)], 'back to the relinquish default');
  await client.writeProperty(INSTANCE, 'binary-value:1', 'pv', 'on', { priority: 9 });
  assert.equal(renderValue(O.binaryValue, P.presentValue, await client.readProperty(INSTANCE, 'bv:1', 'pv')), true);
  await client.writeProperty(INSTANCE, 'bv:1', 'pv', false, { priority: 9 });
  assert.equal(renderValue(O.binaryValue, P.presentValue, await client.readProperty(INSTANCE, 'bv:1', 'pv')), false);
  await client.writeProperty(INSTANCE, 'msv:1', 'pv', 3, { priority: 10 });
  assert.deepEqual(await client.readProperty(INSTANCE, 'msv:1', 'pv'), [Value.unsigned(3)]);
  await client.writeProperty(INSTANCE, 'characterstring-value:1', 'pv', 'hello');
  assert.deepEqual(await client.readProperty(INSTANCE, 'characterstring-value:1', 'pv'), [Value.characterString('hello')]);
  await assert.rejects(client.writeProperty(INSTANCE, 'ai:1', 'pv', 1), (e: unknown) => e instanceof BacnetError && e.codeName === 'write-access-denied');
  await assert.rejects(client.writeProperty(INSTANCE, 'av:1', 'pv', 'warm'), /expected a number for present-value of analog-value, got 'warm'/);
  await assert.rejects(client.writeProperty(INSTANCE, 'av:1', 'pv', 1, { priority: 17 }), /priority 17 is outside 1\.\.16/);
});

test('WritePropertyMultiple; its error names the class, code and the first failed write', async () => {
  await client.writePropertyMultiple(INSTANCE, [
    { objectId: 'av:1', propertyId: 'pv', value: 19, priority: 12 },
    { objectId: 'av:1', propertyId: 'description', value: 'set by WPM' },
    { objectId: 'bv:1', propertyId: 'pv', value: true, priority: 7 },
  ]);
  const r = await client.readPropertyMultiple(INSTANCE, [{ objectId: 'av:1', properties: ['pv', 'description'] }, { objectId: 'bv:1', properties: ['pv'] }]);
  assert.deepEqual(r.map((x) => x.results.map((y) => y.value)), [[[Value.real(19)], [Value.characterString('set by WPM')]], [[Value.enumerated(1)]]]);
  await assert.rejects(client.writePropertyMultiple(INSTANCE, [{ objectId: 'av:1', propertyId: 'pv', value: 18 }, { objectId: 'ai:1', propertyId: 'pv', value: 1 }]),
    (e: unknown) => e instanceof BacnetError && e.codeName === 'write-access-denied' && e.firstFailedWriteAttempt?.objectId.type === O.analogInput);
  assert.equal(client.state(await client.resolve(INSTANCE)).wpm, true);
});

test('SubscribeCOV through the COV manager: initial notification, change, cancel on the wire', async () => {
  const pid = processIdFor('node-1');
  assert.equal(pid, processIdFor('node-1'), 'stable');
  assert.notEqual(pid, processIdFor('node-2'));
  const seen: unknown[] = [];
  const modes: string[] = [];
  let next: (() => void) | undefined;
  const sub = client.cov.subscribe({ device: INSTANCE, objectId: ai1, processId: pid, confirmed: true, lifetime: 120 }, {
    values: (vs, source) => {
      seen.push([source, vs.find((v) => v.propertyId === P.presentValue)?.value]);
      next?.();
    },
    status: (s) => modes.push(s.mode),
  });
  await new Promise<void>((r) => (next = r));
  assert.deepEqual(seen[0], ['cov', [Value.real(21.5)]]);
  assert.equal(dev.server.cov.size, 1);
  assert.equal(dev.server.cov.subscriptions()[0]!.processId, pid);
  const changed = new Promise<void>((r) => (next = r));
  dev.server.find('Zone temp')!.setLocal(P.presentValue, [Value.real(22.75)]);
  await changed;
  assert.deepEqual(seen[1], ['cov', [Value.real(22.75)]]);
  assert.deepEqual(modes, ['cov']);
  await sub.cancel();
  assert.equal(dev.server.cov.size, 0, 'cancelled on the device');
  assert.equal(client.cov.size, 0);
  // SubscribeCOVProperty with an increment, cancelled the same way
  await client.subscribeCovProperty(INSTANCE, { processId: 9, objectId: ai1, propertyId: 'pv', covIncrement: 1, lifetime: 60 });
  assert.equal(dev.server.cov.size, 1);
  await client.cancelCov(INSTANCE, { processId: 9, objectId: ai1, propertyId: 'pv' });
  assert.equal(dev.server.cov.size, 0);
});

test('ReadRange, time synchronization, DCC and ReinitializeDevice with passwords', async () => {
  const tl = dev.server.find('log')!;
  assert.ok(tl);
  const rr = await client.readRange(INSTANCE, 'trend-log:1', 'log-buffer');
  assert.equal(rr.itemCount, readLogRecords(rr.itemData).length);
  await client.timeSynchronization({ device: INSTANCE, date: new Date(2030, 0, 2, 3, 4, 5) });
  await client.timeSynchronization({ device: INSTANCE, utc: true });
  await assert.rejects(client.reinitializeDevice(INSTANCE, { state: 'warmstart', password: 'wrong' }), (e: unknown) => e instanceof BacnetError && e.message === 'BACnet error: security: password-failure');
  await client.reinitializeDevice(INSTANCE, { state: 'warmstart', password: 'secret' });
  await client.deviceCommunicationControl(INSTANCE, { state: 'disable-initiation', minutes: 1, password: 'secret' });
  await client.deviceCommunicationControl(INSTANCE, { state: 'enable', password: 'secret' });
});

test('AtomicReadFile / AtomicWriteFile; CreateObject / DeleteObject', async () => {
  const r = await client.readFile(INSTANCE, 'file:1', { start: 0, octetCount: 5 });
  assert.ok('stream' in r);
  assert.equal(new TextDecoder().decode(r.stream.data), 'hello');
  assert.equal(await client.writeFile(INSTANCE, 'file:1', { start: 6, data: new TextEncoder().encode('FIELDLINK') }), 6);
  const back = await client.readFile(INSTANCE, 'file:1', { start: 0, octetCount: 100 });
  assert.ok('stream' in back && back.endOfFile);
  assert.equal(new TextDecoder().decode('stream' in back ? back.stream.data : new Uint8Array()), 'hello FIELDLINK');
  const id = await client.createObject(INSTANCE, { objectType: 'analog-value', initialValues: [{ propertyId: 'object-name', value: 'created' }, { propertyId: 'pv', value: 5 }] });
  assert.equal(id.type, O.analogValue);
  assert.deepEqual(await client.readProperty(INSTANCE, id, 'object-name'), [Value.characterString('created')]);
  await client.deleteObject(INSTANCE, id);
  await assert.rejects(client.readProperty(INSTANCE, id, 'pv'), /unknown-object/);
});

test('object list: RPM when segmentation works; index by index for a client without segmentation', async () => {
  const ids = await readObjectList(client, INSTANCE);
  assert.equal(ids.length, dev.server.db.size);
  assert.equal(client.state(await client.resolve(INSTANCE)).objectList, 'rpm');
  clearLearnedLimits();
  const small = await openEndpoint({ segmentation: 'no-segmentation', maxApdu: 480 });
  const c2 = new BacnetClient(small, { perDevice: 4 });
  try {
    const ids2 = await readObjectList(c2, dev.addr);
    assert.deepEqual(ids2, ids);
    const st = c2.state(await c2.resolve(dev.addr));
    assert.equal(st.objectList, 'index', 'RPM and RP of the whole list abort (segmentation-not-supported): element by element');
  } finally {
    c2.close();
    await small.close();
  }
});

test('point dump: names, descriptions, units and present values of every object; device profile', async () => {
  const points = await dumpPoints(client, INSTANCE);
  assert.equal(points.length, dev.server.db.size);
  const zone = points.find((p) => p.id === 'analog-input:1')!;
  assert.deepEqual({ name: zone.name, description: zone.description, units: zone.units, unitSymbol: zone.unitSymbol, pv: zone.presentValue },
    { name: 'Zone temp', description: 'room 12', units: 'degrees-celsius', unitSymbol: '°C', pv: 22.75 });
  const bi = points.find((p) => p.id === 'binary-input:150')!;
  assert.deepEqual([bi.name, bi.description, bi.presentValue, bi.units], ['bi-50', 'binary input 50', false, undefined]);
  const profile = await deviceProfile(client, dev.addr);
  assert.equal(profile.instance, INSTANCE);
  assert.equal(profile.name, 'fixture device');
  assert.equal(profile.vendorId, 555);
  assert.equal(profile.maxApdu, 1476);
  assert.ok(profile.servicesSupported?.includes('read-property-multiple'));
  assert.ok(profile.servicesSupported?.includes('subscribe-cov'));
});
