/**
 * The client on real loopback sockets: segmented answers (a 5,000-entry object list from a
 * responder on our endpoint, and our server's), 10,000 reads issued at once (all complete, no
 * value wrong, none lost) both with one request per device and with 255 in flight, and every
 * request the client sends dissected clean by tshark.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetClient } from '../../../src/lib/bacnet/client/client';
import { readObjectList, dumpPoints, deviceProfile } from '../../../src/lib/bacnet/client/discovery';
import { clearLearnedLimits } from '../../../src/lib/bacnet/client/device-state';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { ObjectType as O } from '../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { dissect, haveTshark } from '../../helpers/tshark';
import { peerSkip } from '../../helpers/env';
import { openEndpoint, openRecordingEndpoint, startDevice } from '../../helpers/bacnet-client-fixture';

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

test('segmented answers: a 5,000-entry object list by ReadProperty and by the object-list ladder', async () => {
  clearLearnedLimits();
  const dev = await openEndpoint({ device: { instance: 5000 } });
  open.push(dev);
  const list = Array.from({ length: 5000 }, (_, i) => Value.objectId(O.analogValue, i));
  dev.onConfirmed('read-property', (req) => ({ ...req, objectId: { type: O.device, instance: 5000 }, value: req.arrayIndex === 0 ? [Value.unsigned(5000)] : list }));
  dev.onConfirmed('read-property-multiple', (req) => ({ results: req.specs.map((s) => ({ objectId: { type: O.device, instance: 5000 }, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: list })) })) }));
  const ep = await openEndpoint();
  const client = new BacnetClient(ep);
  open.push(ep, { close: () => client.close() });
  const addr = `127.0.0.1:${dev.transport.local.port}`;
  const vs = await client.readProperty({ instance: 5000, address: addr }, 'device:5000', 'object-list');
  assert.equal(vs.length, 5000);
  assert.deepEqual(vs[4999], Value.objectId(O.analogValue, 4999));
  const ids = await readObjectList(client, { instance: 5000, address: addr });
  assert.equal(ids.length, 5000);
});

test('10,000 reads issued at once: every one completes with its own value (one per device, and 255 in flight)', async () => {
  const dev = await openEndpoint({ receiveBufferSize: 1 << 21, apduTimeout: 3000, retries: 3 });
  dev.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(req.objectId.instance / 2)] }));
  const addr = `127.0.0.1:${dev.transport.local.port}`;
  for (const perDevice of [1, 255]) {
    const ep = await openEndpoint({ receiveBufferSize: 1 << 21, apduTimeout: 3000, retries: 3 });
    const client = new BacnetClient(ep, { perDevice, maxInFlight: 255 });
    const reads = Array.from({ length: 10_000 }, (_, i) => client.readProperty(addr, { type: O.analogValue, instance: i }, P.presentValue)
      .then((v) => (v[0]!.type === 'real' && v[0]!.value === i / 2 ? 'ok' : 'wrong'), () => 'lost'));
    const out = await Promise.all(reads);
    const count = (k: string) => out.filter((x) => x === k).length;
    assert.deepEqual({ ok: count('ok'), wrong: count('wrong'), lost: count('lost') }, { ok: 10_000, wrong: 0, lost: 0 }, `perDevice ${perDevice}`);
    assert.equal(client.scheduler.stats().running, 0);
    client.close();
    await ep.close();
  }
  await dev.close();
});

test('every request the client sends dissects clean in tshark', async (t) => {
  const skip = peerSkip('tshark', haveTshark());
  if (skip) return t.skip(skip);
  clearLearnedLimits();
  const device = await startDevice({ instance: 321, password: 'pw', allowCreateDelete: true });
  device.server.addObject(O.analogValue, { instance: 1, name: 'av', commandable: true, values: [[P.presentValue, [Value.real(1)]]] });
  device.server.addObject(O.trendLog, { instance: 1, name: 'tl', writable: true });
  device.server.addObject(O.file, { instance: 1, name: 'f', writable: true, data: new Uint8Array(8) } as never);
  const { endpoint, recording } = await openRecordingEndpoint();
  const client = new BacnetClient(endpoint);
  open.push(device, endpoint, { close: () => client.close() });
  const d = { instance: 321, address: device.addr };
  await client.whoIs({ address: device.addr, low: 321, high: 321, timeout: 300 });
  await client.readProperty(d, 'av:1', 'pv');
  await client.readProperty(d, 'av:1', 'priority-array', { arrayIndex: 8 });
  await client.readPropertyMultiple(d, [{ objectId: 'av:1', properties: ['pv', 'all', 'required', 'optional'] }]);
  await client.writeProperty(d, 'av:1', 'pv', 5, { priority: 8 });
  await client.writeProperty(d, 'av:1', 'pv', null, { priority: 8 });
  await client.writePropertyMultiple(d, [{ objectId: 'av:1', propertyId: 'description', value: 'x' }, { objectId: 'av:1', propertyId: 'pv', value: 2, priority: 16 }]);
  await client.subscribeCov(d, { processId: 1, objectId: 'av:1', confirmed: true, lifetime: 60 });
  await client.cancelCov(d, { processId: 1, objectId: 'av:1' });
  await client.subscribeCovProperty(d, { processId: 2, objectId: 'av:1', propertyId: 'pv', covIncrement: 0.5, lifetime: 60 });
  await client.cancelCov(d, { processId: 2, objectId: 'av:1', propertyId: 'pv' });
  await client.readRange(d, 'trend-log:1', 'log-buffer', { byPosition: { referenceIndex: 1, count: 10 } });
  await client.timeSynchronization({ device: d });
  await client.timeSynchronization({ device: d, utc: true });
  await client.deviceCommunicationControl(d, { state: 'enable', minutes: 5, password: 'pw' });
  await client.reinitializeDevice(d, { state: 'warmstart', password: 'pw' });
  await client.readFile(d, 'file:1', { start: 0, octetCount: 4 });
  await client.writeFile(d, 'file:1', { start: 0, data: Uint8Array.of(1, 2) });
  const id = await client.createObject(d, { objectType: 'av', initialValues: [{ propertyId: 'object-name', value: 'new' }] });
  await client.deleteObject(d, id);
  await dumpPoints(client, d);
  await deviceProfile(client, d);
  endpoint.on('i-have', () => undefined);
  await client.whoHas({ objectName: 'av', timeout: 50 }).catch(() => undefined);
  const frames = recording.frames;
  assert.ok(frames.length >= 20, `${frames.length} frames recorded`);
  const res = dissect(frames, { decodeAs: [...new Set(frames.flatMap((f) => [f.srcPort, f.dstPort]))] });
  assert.deepEqual(res.problems, []);
  const text = res.frames.join('\n');
  for (const s of ['readProperty', 'readPropertyMultiple', 'writeProperty', 'writePropertyMultiple', 'subscribeCOV', 'subscribeCOVProperty', 'readRange', 'atomicReadFile', 'atomicWriteFile', 'createObject', 'deleteObject', 'deviceCommunicationControl', 'reinitializeDevice', 'timeSynchronization', 'who-Is']) {
    assert.ok(new RegExp(s, 'i').test(text), `tshark names ${s}`);
  }
});
