/**
 * Independent BACnet clients from npm (node-bacnet, @bacnet-js/client) against our server over
 * loopback: Who-Is with ranges, ReadProperty, ReadPropertyMultiple with ALL, WriteProperty with
 * priorities and relinquish and the resulting Priority_Array, SubscribeCOV with notifications on
 * change, DeviceCommunicationControl with wrong and right passwords, ReadRange of a trend log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { ObjectType as O } from '../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { Value, bytesToValues } from '../../../src/lib/bacnet/codec/values';
import { Writer } from '../../../src/lib/wire/writer';
import { writeDeviceObjectPropertyReference } from '../../../src/lib/bacnet/codec/constructed';
import { BacnetServer } from '../../../src/lib/bacnet/server/server';
import { bindServer } from '../../../src/lib/bacnet/server/endpoint-binding';
import { peerSkip } from '../../helpers/env';
import { PEER_NAMES, type Peer, type PeerContent, peerAvailable, startPeer } from '../../helpers/bacnet-peers';

const DEVICE = 3456;
const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

async function device() {
  const ep = await BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', destinationPort: 9, apduTimeout: 1000, retries: 1 });
  const server = new BacnetServer({ device: { instance: DEVICE, name: 'npm-interop', vendorId: 777 }, password: 'letmein' });
  const unbind = bindServer(server, ep);
  open.push({ close: async () => { unbind(); server.stop(); await ep.close(); } });
  server.addObject(O.analogInput, { instance: 1, name: 'temp', values: [[P.presentValue, [Value.real(21.5)]], [P.covIncrement, [Value.real(0.5)]], [P.units, [Value.enumerated(62)]]] });
  server.addObject(O.analogOutput, { instance: 1, name: 'valve', values: [[P.presentValue, [Value.real(0)]]] });
  server.addObject(O.binaryValue, { instance: 1, name: 'fan', commandable: true });
  const w = new Writer(16);
  writeDeviceObjectPropertyReference(w, { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue });
  server.addObject(O.trendLog, { instance: 1, name: 'temp-log', values: [[P.logDeviceObjectProperty, bytesToValues(w.finish())], [P.loggingType, [Value.enumerated(1)]]] });
  server.start();
  return { ep, server, hp: `127.0.0.1:${ep.transport.local.port}` };
}

/** Call a peer method in either library's style (callback for node-bacnet, promise for @bacnet-js/client). */
function invoke<T>(peer: Peer, method: string, args: unknown[], options: Record<string, unknown> = {}): Promise<T> {
  const api = peer.api as unknown as Record<string, (...a: unknown[]) => unknown>;
  if (peer.name === 'node-bacnet') {
    return new Promise((resolve, reject) => api[method]!.call(peer.api, ...args, options, (err: Error | null, v: T) => (err ? reject(err) : resolve(v))));
  }
  return api[method]!.call(peer.api, ...args, options) as Promise<T>;
}

function errorCode(e: unknown): number | undefined {
  const x = e as { bacnetErrorCode?: number; message?: string };
  if (typeof x.bacnetErrorCode === 'number') return x.bacnetErrorCode;
  const m = /Code:\s*(\d+)/.exec(x.message ?? '') ?? /\((\d+)\)\s*$/.exec(x.message ?? '');
  return m ? Number(m[1]) : undefined;
}

const scalar = (r: { values: Array<{ value: unknown }> }) => r.values.map((v) => v.value);

for (const name of PEER_NAMES) {
  const skip = peerSkip(name, peerAvailable(name));

  test(`${name}: Who-Is with ranges finds the device only inside the range`, { skip }, async () => {
    const { hp } = await device();
    const peer = await startPeer(name, undefined, 1000);
    open.push(peer);
    const heard: number[] = [];
    peer.api.on('iAm', (c: PeerContent) => {
      const id = c.payload.deviceId as number | { instance: number };
      heard.push(typeof id === 'number' ? id : id.instance);
    });
    peer.api.whoIs(peer.addr(hp), { lowLimit: DEVICE + 1, highLimit: DEVICE + 10 });
    peer.api.whoIs(peer.addr(hp), { lowLimit: 0, highLimit: DEVICE - 1 });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(heard, []);
    peer.api.whoIs(peer.addr(hp), { lowLimit: DEVICE - 5, highLimit: DEVICE + 5 });
    peer.api.whoIs(peer.addr(hp));
    const end = Date.now() + 2000;
    while (heard.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(heard, [DEVICE, DEVICE]);
  });

  test(`${name}: ReadProperty and ReadPropertyMultiple with ALL`, { skip }, async () => {
    const { hp } = await device();
    const peer = await startPeer(name, undefined, 1000);
    open.push(peer);
    assert.deepEqual(scalar(await peer.readProperty(hp, { type: O.analogInput, instance: 1 }, P.presentValue)), [21.5]);
    assert.deepEqual(scalar(await peer.readProperty(hp, { type: O.device, instance: DEVICE }, P.vendorIdentifier)), [777]);
    const rpm = await peer.readPropertyMultiple(hp, [
      { objectId: { type: O.analogInput, instance: 1 }, properties: [{ id: P.all }] },
      { objectId: { type: O.device, instance: DEVICE }, properties: [{ id: P.objectName }, { id: P.objectList }] },
    ]);
    const ai = rpm.values[0]!.values;
    const ids = ai.map((v) => v.id);
    for (const p of [P.objectIdentifier, P.objectName, P.presentValue, P.statusFlags, P.units, P.outOfService, P.propertyList]) assert.ok(ids.includes(p), P.label(p));
    assert.deepEqual(ai.find((v) => v.id === P.units)!.value.map((x) => x.value), [62]);
    const dev = rpm.values[1]!.values;
    assert.deepEqual(dev[0]!.value.map((x) => x.value), ['npm-interop']);
    assert.equal(dev[1]!.value.length, 5);
  });

  test(`${name}: WriteProperty with priorities, relinquish, and the priority array`, { skip }, async () => {
    const { hp, server } = await device();
    const peer = await startPeer(name, undefined, 1000);
    open.push(peer);
    const ao = { type: O.analogOutput, instance: 1 };
    await peer.writeProperty(hp, ao, P.presentValue, [{ type: 4, value: 30 }], 8);
    await peer.writeProperty(hp, ao, P.presentValue, [{ type: 4, value: 25 }], 12);
    assert.deepEqual(scalar(await peer.readProperty(hp, ao, P.presentValue)), [30]);
    const pa = scalar(await peer.readProperty(hp, ao, P.priorityArray));
    assert.equal(pa.length, 16);
    assert.equal(pa[7], 30);
    assert.equal(pa[11], 25);
    assert.equal(pa.filter((v) => v === null).length, 14);
    assert.deepEqual(scalar(await peer.readProperty(hp, ao, P.currentCommandPriority)), [8]);
    await peer.writeProperty(hp, ao, P.presentValue, [{ type: 0, value: null }], 8);
    assert.deepEqual(scalar(await peer.readProperty(hp, ao, P.presentValue)), [25]);
    await peer.writeProperty(hp, { type: O.binaryValue, instance: 1 }, P.presentValue, [{ type: 9, value: 1 }], 5);
    assert.deepEqual(scalar(await peer.readProperty(hp, { type: O.binaryValue, instance: 1 }, P.presentValue)), [1]);
    await assert.rejects(peer.writeProperty(hp, { type: O.analogInput, instance: 1 }, P.presentValue, [{ type: 4, value: 1 }]), (e) => errorCode(e) === 40);
    assert.deepEqual(server.find('valve')!.read(P.presentValue), [Value.real(25)]);
  });

  test(`${name}: SubscribeCOV gives an initial notification and one per change`, { skip }, async () => {
    const { hp, server } = await device();
    const peer = await startPeer(name, undefined, 1000);
    open.push(peer);
    const got: Array<Record<string, unknown>> = [];
    peer.api.on('covNotifyUnconfirmed', (c: PeerContent) => got.push(c.payload));
    await invoke(peer, 'subscribeCov', [peer.addr(hp), { type: O.analogInput, instance: 1 }, 17, false, false, 120]);
    const wait = async (n: number) => {
      const end = Date.now() + 2000;
      while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    };
    await wait(1);
    assert.equal(got.length, 1);
    server.find('temp')!.setLocal(P.presentValue, [Value.real(21.7)]); // below the increment
    server.find('temp')!.setLocal(P.presentValue, [Value.real(23)]);
    await wait(2);
    assert.equal(got.length, 2);
    const values = got[1]!.values as Array<{ property: { id: number }; value: Array<{ value: unknown }> }>;
    assert.deepEqual(values.map((v) => v.property.id), [P.presentValue, P.statusFlags]);
    assert.equal(values[0]!.value[0]!.value, 23);
    assert.equal(got[1]!.subscriberProcessId, 17);
  });

  test(`${name}: DeviceCommunicationControl refuses a wrong password and obeys the right one`, { skip }, async () => {
    const { hp, server } = await device();
    const peer = await startPeer(name, undefined, 600);
    open.push(peer);
    const dcc = (state: number, password: string, minutes = 0) => invoke(peer, 'deviceCommunicationControl', [peer.addr(hp), minutes, state], { password });
    await assert.rejects(dcc(1, 'wrong'), (e) => errorCode(e) === 26);
    assert.equal(server.dcc.state, 'enable');
    await dcc(1, 'letmein', 5);
    assert.equal(server.dcc.state, 'disable');
    await assert.rejects(peer.readProperty(hp, { type: O.analogInput, instance: 1 }, P.presentValue), /ERR_TIMEOUT/);
    await dcc(0, 'letmein');
    assert.deepEqual(scalar(await peer.readProperty(hp, { type: O.analogInput, instance: 1 }, P.presentValue)), [21.5]);
  });

  test(`${name}: ReadRange of a trend log`, { skip }, async () => {
    const { hp, server } = await device();
    const peer = await startPeer(name, undefined, 1000);
    open.push(peer);
    for (const v of [22, 23, 24]) server.find('temp')!.setLocal(P.presentValue, [Value.real(v)]);
    const rr = await invoke<{ itemCount: number }>(peer, 'readRange', [peer.addr(hp), { type: O.trendLog, instance: 1 }, 1, 10]);
    assert.equal(rr.itemCount, 4); // the enable status record and three values
  });
}
