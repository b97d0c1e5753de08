/**
 * Our server on a live loopback socket against our own stack's client side (BacnetEndpoint):
 * ReadProperty / ReadPropertyMultiple ALL, a segmented ComplexACK (Object_List of 1,500
 * objects), Abort segmentation-not-supported for a client that takes no segments,
 * WritePropertyMultiple with its error, COV notifications, a schedule firing (fake server
 * clock), an alarm raised and acknowledged, ReadRange of a trend log, Who-Is with ranges.
 * Every datagram the server sent is dissected by tshark and must be clean.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { UdpTransport } from '../../../src/lib/bacnet/transport';
import { BacnetAbortError, BacnetError } from '../../../src/lib/bacnet/errors';
import { ObjectType as O } from '../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { EventState } from '../../../src/lib/bacnet/enums/states';
import { Value, bytesToValues } from '../../../src/lib/bacnet/codec/values';
import { Writer } from '../../../src/lib/wire/writer';
import { writeDestination, writeDeviceObjectPropertyReference } from '../../../src/lib/bacnet/codec/constructed';
import { PROPERTY_ALL } from '../../../src/lib/bacnet/services/read-property-multiple';
import type { CovNotificationRequest } from '../../../src/lib/bacnet/services/cov-notification';
import type { EventNotificationRequest } from '../../../src/lib/bacnet/services/alarms-events';
import { readLogRecords } from '../../../src/lib/bacnet/services/read-range';
import { BacnetServer } from '../../../src/lib/bacnet/server/server';
import { bindServer } from '../../../src/lib/bacnet/server/endpoint-binding';
import type { TrendLogObject } from '../../../src/lib/bacnet/objects/trend-log';
import { FakeClock } from '../../unit/bacnet/server/helpers';
import { dissect, haveTshark } from '../../helpers/tshark';
import { peerSkip } from '../../helpers/env';
import { RecordingTransport } from '../../helpers/bacnet-client-fixture';

const clock = new FakeClock(new Date(2024, 0, 15, 7, 59, 0));
let server: BacnetServer;
let serverEp: BacnetEndpoint;
let client: BacnetEndpoint;
let small: BacnetEndpoint;
let rec: RecordingTransport;
let unbind: () => void;
let addr: string;
const DEVICE = 4711;

function enc(fn: (w: Writer) => void) {
  const w = new Writer(64);
  fn(w);
  return bytesToValues(w.finish());
}

before(async () => {
  rec = new RecordingTransport(await UdpTransport.open({ port: 0, localAddress: '127.0.0.1', broadcastAddress: '127.255.255.255' }));
  serverEp = new BacnetEndpoint(rec, { destinationPort: 9 }); // broadcasts (none expected) would go nowhere useful
  client = await BacnetEndpoint.open({ port: 0, localAddress: '127.0.0.1', broadcastAddress: '127.255.255.255', apduTimeout: 2000, retries: 1 });
  small = await BacnetEndpoint.open({ port: 0, localAddress: '127.0.0.1', broadcastAddress: '127.255.255.255', apduTimeout: 2000, retries: 0, segmentation: 'no-segmentation', maxApdu: 480 });
  addr = `127.0.0.1:${rec.local.port}`;
  server = new BacnetServer({ device: { instance: DEVICE, name: 'stack-test', vendorId: 555 }, clock, allowCreateDelete: true });
  unbind = bindServer(server, serverEp, { apduTimeout: 2000, retries: 1 });
  server.addObject(O.analogValue, { instance: 1, name: 'setpoint', commandable: true, values: [[P.presentValue, [Value.real(20)]]] });
  for (let i = 0; i < 1500; i++) server.addObject(O.binaryValue, { instance: 100 + i, name: `bv-${i}`, description: `binary value number ${i}` });
  server.addObject(O.notificationClass, {
    instance: 1, name: 'nc',
    values: [
      [P.ackRequired, [Value.bitString([true, false, false])]],
      [P.recipientList, enc((w) => writeDestination(w, {
        validDays: [true, true, true, true, true, true, true], fromTime: { hour: 0, minute: 0, second: 0, hundredths: 0 },
        toTime: { hour: 23, minute: 59, second: 59, hundredths: 99 },
        recipient: { address: { network: 0, mac: Uint8Array.of(127, 0, 0, 1, client.transport.local.port >> 8, client.transport.local.port & 0xff) } },
        processId: 3, issueConfirmedNotifications: true, transitions: [true, true, true],
      }))],
    ],
  });
  server.addObject(O.analogInput, {
    instance: 1, name: 'temp', reporting: true,
    values: [[P.presentValue, [Value.real(21)]], [P.covIncrement, [Value.real(0.5)]], [P.notificationClass, [Value.unsigned(1)]],
      [P.highLimit, [Value.real(30)]], [P.lowLimit, [Value.real(10)]], [P.limitEnable, [Value.bitString([true, true])]]],
  });
  server.addObject(O.schedule, {
    instance: 1, name: 'sched',
    values: [
      [P.scheduleDefault, [Value.real(16)]],
      [P.weeklySchedule, Array.from({ length: 7 }, () => Value.constructed(0, [Value.time({ hour: 8, minute: 0, second: 0, hundredths: 0 }), Value.real(22)]))],
      [P.listOfObjectPropertyReferences, enc((w) => writeDeviceObjectPropertyReference(w, { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.presentValue }))],
    ],
  });
  server.addObject(O.trendLog, {
    instance: 1, name: 'temp-log',
    values: [[P.logDeviceObjectProperty, enc((w) => writeDeviceObjectPropertyReference(w, { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue }))],
      [P.loggingType, [Value.enumerated(1)]]],
  });
  server.start();
});

after(async () => {
  unbind?.();
  server?.stop();
  await Promise.all([serverEp?.close(), client?.close(), small?.close()]);
});

const ai1 = { type: O.analogInput, instance: 1 };
const av1 = { type: O.analogValue, instance: 1 };

test('ReadProperty, ReadPropertyMultiple ALL, wildcard device', async () => {
  const rp = await client.confirmedRequest(addr, 'read-property', { objectId: ai1, propertyId: P.presentValue });
  assert.deepEqual(rp.value, [Value.real(21)]);
  const wild = await client.confirmedRequest(addr, 'read-property', { objectId: { type: O.device, instance: 0x3fffff }, propertyId: P.objectName });
  assert.deepEqual(wild.objectId, { type: O.device, instance: DEVICE });
  const rpm = await client.confirmedRequest(addr, 'read-property-multiple', { specs: [{ objectId: ai1, properties: [{ propertyId: PROPERTY_ALL }] }] });
  const ids = rpm.results[0]!.results.map((r) => r.propertyId);
  assert.ok(ids.includes(P.presentValue) && ids.includes(P.statusFlags) && ids.includes(P.highLimit));
});

test('a large Object_List comes segmented; a client without segmentation gets Abort segmentation-not-supported', async () => {
  const list = await client.confirmedRequest(addr, 'read-property', { objectId: { type: O.device, instance: DEVICE }, propertyId: P.objectList });
  assert.equal(list.value.length, server.db.size);
  assert.ok(serverEp.stats().server.segmentedResponses >= 1);
  await assert.rejects(small.confirmedRequest(addr, 'read-property', { objectId: { type: O.device, instance: DEVICE }, propertyId: P.objectList }),
    (e: unknown) => e instanceof BacnetAbortError && e.reasonName === 'segmentation-not-supported');
  const n = await small.confirmedRequest(addr, 'read-property', { objectId: { type: O.device, instance: DEVICE }, propertyId: P.objectList, arrayIndex: 0 });
  assert.deepEqual(n.value, [Value.unsigned(server.db.size)]);
});

test('WritePropertyMultiple and its error', async () => {
  await client.confirmedRequest(addr, 'write-property-multiple', { specs: [{ objectId: av1, values: [{ propertyId: P.presentValue, value: [Value.real(25)], priority: 9 }] }] });
  const pa = await client.confirmedRequest(addr, 'read-property', { objectId: av1, propertyId: P.priorityArray });
  assert.deepEqual(pa.value[8], Value.real(25));
  await assert.rejects(client.confirmedRequest(addr, 'write-property-multiple', {
    specs: [{ objectId: av1, values: [{ propertyId: P.presentValue, value: [Value.null()], priority: 9 }, { propertyId: P.statusFlags, value: [Value.bitString([false])] }] }],
  }), (e: unknown) => e instanceof BacnetError && e.codeName === 'write-access-denied' && e.firstFailedWriteAttempt?.propertyId === P.statusFlags);
});

test('COV subscription: initial notification and a change', async () => {
  const got: CovNotificationRequest[] = [];
  client.on('cov-notification', (n) => got.push(n));
  await client.confirmedRequest(addr, 'subscribe-cov', { subscriberProcessId: 9, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 60 });
  clock.flush(); // the server's zero-delay timer for the initial notification (fake server clock)
  await waitFor(() => got.length >= 1);
  server.find('temp')!.setLocal(P.presentValue, [Value.real(22)]);
  await waitFor(() => got.length >= 2);
  assert.deepEqual(got[1]!.values[0]!.value, [Value.real(22)]);
  assert.equal(got[1]!.subscriberProcessId, 9);
});

test('the schedule fires at 08:00 and commands its target', async () => {
  assert.deepEqual((await client.confirmedRequest(addr, 'read-property', { objectId: { type: O.schedule, instance: 1 }, propertyId: P.presentValue })).value, [Value.real(16)]);
  clock.advance(60_000);
  assert.deepEqual((await client.confirmedRequest(addr, 'read-property', { objectId: { type: O.schedule, instance: 1 }, propertyId: P.presentValue })).value, [Value.real(22)]);
  const pa = await client.confirmedRequest(addr, 'read-property', { objectId: av1, propertyId: P.priorityArray });
  assert.deepEqual(pa.value[15], Value.real(22));
});

test('an alarm is raised, notified (confirmed) and acknowledged', async () => {
  const got: EventNotificationRequest[] = [];
  client.on('event-notification', (n) => got.push(n));
  server.find('temp')!.setLocal(P.presentValue, [Value.real(35)]);
  await waitFor(() => got.length >= 1);
  assert.equal(got[0]!.toState, EventState.highLimit);
  assert.equal(got[0]!.ackRequired, true);
  const info = await client.confirmedRequest(addr, 'get-event-information', {});
  assert.deepEqual(info.summaries.map((s) => s.objectId), [ai1]);
  await client.confirmedRequest(addr, 'acknowledge-alarm', {
    acknowledgingProcessId: 3, eventObjectId: ai1, eventStateAcknowledged: EventState.highLimit, timeStamp: got[0]!.timeStamp,
    acknowledgmentSource: 'test', timeOfAcknowledgment: { sequenceNumber: 1 },
  });
  await waitFor(() => got.length >= 2);
  assert.equal(got[1]!.notifyType, 2);
  const after = await client.confirmedRequest(addr, 'get-event-information', {});
  assert.deepEqual(after.summaries.map((s) => [s.eventState, s.acknowledgedTransitions]), [[EventState.highLimit, [true, true, true]]], 'still high, now acknowledged');
});

test('ReadRange of the trend log', async () => {
  const log = server.find('temp-log') as TrendLogObject;
  assert.ok(log.recordCount >= 2);
  const rr = await client.confirmedRequest(addr, 'read-range', { objectId: log.id, propertyId: P.logBuffer, range: { byPosition: { referenceIndex: 1, count: 10 } } });
  const recs = readLogRecords(rr.itemData);
  assert.equal(recs.length, log.recordCount);
  assert.deepEqual(recs.filter((r) => r.datum.kind === 'real').map((r) => (r.datum as { value: number }).value).slice(-2), [22, 35]);
});

test('Who-Is with ranges; CreateObject through the network', async () => {
  assert.deepEqual((await client.whoIs({ address: addr, low: DEVICE, high: DEVICE, timeout: 1000 })).map((d) => d.instance), [DEVICE]);
  assert.deepEqual((await client.whoIs({ address: addr, low: 0, high: DEVICE - 1, timeout: 300 })).length, 0);
  const made = await client.confirmedRequest(addr, 'create-object', { objectType: O.positiveIntegerValue });
  assert.deepEqual(made.objectId, { type: O.positiveIntegerValue, instance: 1 });
});

test('tshark dissects every datagram the server sent without errors', (t) => {
  const skip = peerSkip('tshark', haveTshark());
  if (skip) return t.skip(skip);
  assert.ok(rec.frames.length > 20);
  const res = dissect(rec.frames, { decodeAs: [rec.local.port, ...new Set(rec.frames.map((f) => f.dstPort))] });
  assert.deepEqual(res.problems, []);
  const text = res.frames.join('\n');
  for (const s of ['readProperty', 'readPropertyMultiple', 'confirmedEventNotification', 'unconfirmedCOVNotification', 'readRange', 'i-Am', 'createObject']) {
    assert.match(text, new RegExp(s, 'i'), `${s} seen`);
  }
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
