/**
 * Our client (BacnetClient, its scheduler, RPM batching and COV manager) against devices that
 * the independent npm stacks answer for (node-bacnet, @bacnet-js/client) over loopback:
 * Who-Is/I-Am both ways, a point list read in ReadPropertyMultiple with a per-property error,
 * writes with priority and the NULL relinquish, WritePropertyMultiple, and a managed COV
 * subscription whose notifications they send (confirmed ones acknowledged) and cancel.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetClient } from '../../../src/lib/bacnet/client/client';
import { clearLearnedLimits } from '../../../src/lib/bacnet/client/device-state';
import { renderValue } from '../../../src/lib/bacnet/client/points';
import type { PropertyRef } from '../../../src/lib/bacnet/client/rpm-budget';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { peerSkip } from '../../helpers/env';
import { PEER_NAMES, type PeerContent, peerAvailable, startPeer } from '../../helpers/bacnet-peers';
import { openEndpoint } from '../../helpers/bacnet-client-fixture';

const REAL = 4;
const ENUMERATED = 9;
const ARRAY_ALL = 0xffffffff;

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

async function ours(device?: number): Promise<BacnetClient> {
  clearLearnedLimits();
  const ep = await openEndpoint(device ? { device: { instance: device, vendorId: 999 } } : {});
  const client = new BacnetClient(ep);
  open.push(ep, { close: () => client.close() });
  return client;
}

interface RpmSpec { objectId: { type: number; instance: number }; properties: Array<{ id: number; index?: number }> }

for (const name of PEER_NAMES) {
  const skip = peerSkip(name, peerAvailable(name));

  test(`${name}: Who-Is/I-Am both ways through the client's endpoint`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const client = await ours(4242);
    peer.api.on('whoIs', (c: PeerContent) => peer.api.iAmResponse(c.header!.sender, 777, 3, 15));
    const found = await client.whoIs({ address: `127.0.0.1:${peer.port}`, low: 777, high: 777, timeout: 2000 });
    assert.deepEqual(found.map((d) => [d.instance, d.address.port, d.segmentation, d.vendorId]), [[777, peer.port, 3, 15]]);
    const r = await client.resolve(777);
    assert.equal(r.key, `127.0.0.1:${peer.port}`, 'the instance now resolves to the peer');
    const heard = new Promise<Record<string, unknown>>((resolve) => peer.api.on('iAm', (c: PeerContent) => resolve(c.payload)));
    peer.api.whoIs(peer.addr(`127.0.0.1:${client.endpoint.transport.local.port}`), { lowLimit: 4242, highLimit: 4242 });
    const iAm = await heard;
    const id = iAm.deviceId as number | { instance: number };
    assert.equal(typeof id === 'number' ? id : id.instance, 4242);
  });

  test(`${name}: the client reads points in RPM, writes with priority and relinquishes with NULL`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const client = await ours();
    const rpmSizes: number[] = [];
    peer.api.on('readPropertyMultiple', (c: PeerContent) => {
      const specs = (c.payload as { properties: RpmSpec[] }).properties;
      rpmSizes.push(specs.reduce((a, s) => a + s.properties.length, 0));
      const values = specs.map((s) => ({
        objectId: s.objectId,
        values: s.properties.map((p) => ({
          property: { id: p.id, index: ARRAY_ALL },
          value: s.objectId.instance === 99 ? [{ value: { type: 'BacnetError', errorClass: 1, errorCode: 31 } }]
            : p.id === P.units ? [{ type: ENUMERATED, value: 62 }] : [{ type: REAL, value: s.objectId.instance * 1.5 }],
        })),
      }));
      peer.api.readPropertyMultipleResponse(c.header!.sender, c.invokeId!, values);
    });
    const writes: unknown[] = [];
    peer.api.on('writeProperty', (c: PeerContent) => {
      writes.push(c.payload);
      peer.api.simpleAckResponse(c.header!.sender, c.service!, c.invokeId!);
    });
    peer.api.on('writePropertyMultiple', (c: PeerContent) => {
      writes.push(c.payload);
      peer.api.simpleAckResponse(c.header!.sender, c.service!, c.invokeId!);
    });
    const target = `127.0.0.1:${peer.port}`;
    const refs: PropertyRef[] = Array.from({ length: 40 }, (_, i) => ({ objectId: { type: 0, instance: i + 1 }, propertyId: P.presentValue }));
    refs.push({ objectId: { type: 0, instance: 99 }, propertyId: P.presentValue }, { objectId: { type: 0, instance: 1 }, propertyId: P.units });
    const res = await client.readMany(target, refs);
    for (let i = 0; i < 40; i++) assert.deepEqual(res[i]!.value, [Value.real((i + 1) * 1.5)]);
    assert.match(res[40]!.error!.message, /object: unknown-object/);
    assert.equal(renderValue(0, P.units, res[41]!.value!), 'degrees-celsius');
    assert.equal(rpmSizes.length, 1, 'one ReadPropertyMultiple for 42 properties');
    await client.writeProperty(target, 'analog-output:1', 'pv', 42.5, { priority: 8 });
    await client.writeProperty(target, 'analog-output:1', 'pv', null, { priority: 8 });
    await client.writeProperty(target, 'binary-output:2', 'pv', 'active', { priority: 9 });
    // (both peers decode only the first object of a WritePropertyMultiple request, so one object here)
    await client.writePropertyMultiple(target, [{ objectId: 'av:1', propertyId: 'pv', value: 1, priority: 7 }, { objectId: 'av:1', propertyId: 'description', value: 'by WPM' }]);
    assert.equal(writes.length, 4);
    const [w0, w1, w2, w3] = writes.map((w) => JSON.stringify(w));
    assert.match(w0!, /42\.5/);
    assert.match(w0!, /"priority":8/);
    assert.match(w1!, /"type":0/, 'relinquish carries the NULL tag');
    assert.match(w1!, /"priority":8/);
    assert.match(w2!, new RegExp(`"type":${ENUMERATED},"value":1`));
    assert.match(w3!, /"id":28/);
    assert.match(w3!, /"priority":7/);
  });

  test(`${name}: managed COV: subscribe, notifications from the peer (confirmed, acknowledged), cancel`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const client = await ours();
    const subs: Array<Record<string, unknown>> = [];
    peer.api.on('subscribeCov', (c: PeerContent) => {
      subs.push(c.payload);
      peer.api.simpleAckResponse(c.header!.sender, c.service!, c.invokeId!);
    });
    const got: unknown[] = [];
    let wake: (() => void) | undefined;
    const sub = client.cov.subscribe({ device: `127.0.0.1:${peer.port}`, objectId: 'ai:1', processId: 4321, confirmed: true, lifetime: 120 }, {
      values: (vs, source) => {
        got.push([source, vs.find((v) => v.propertyId === P.presentValue)?.value]);
        wake?.();
      },
    });
    for (let i = 0; i < 100 && !subs.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(subs.length, 1);
    assert.equal(subs[0]!.subscriberProcessId, 4321);
    assert.equal(subs[0]!.issueConfirmedNotifications, true);
    assert.equal(subs[0]!.lifetime, 120);
    const arrived = new Promise<void>((r) => (wake = r));
    // resolves only when we answer the confirmed notification with a SimpleACK
    await peer.confirmedCovNotification(`127.0.0.1:${client.endpoint.transport.local.port}`, { type: 0, instance: 1 }, 4321, 777, 100,
      [{ property: { id: 85 }, value: [{ type: REAL, value: 13.75 }] }, { property: { id: 111 }, value: [{ type: 8, value: { value: [0], bitsUsed: 4 } }] }]);
    await arrived;
    assert.deepEqual(got, [['cov', [Value.real(13.75)]]]);
    assert.equal(sub.mode, 'cov');
    await sub.cancel();
    assert.equal(subs.length, 2);
    assert.equal(subs[1]!.cancellationRequest, true);
  });
}
