/**
 * Interop with the independent JavaScript BACnet stacks from npm (node-bacnet, @bacnet-js/client)
 * over loopback UDP: Who-Is/I-Am both ways, our endpoint reading and writing properties of a
 * device they answer for, the peers reading from our endpoint, errors, and COV notifications
 * from them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { BacnetError } from '../../../src/lib/bacnet/errors';
import type { CovNotificationRequest } from '../../../src/lib/bacnet/services/cov-notification';
import { peerSkip } from '../../helpers/env';
import { PEER_NAMES, type PeerContent, peerAvailable, startPeer } from '../../helpers/bacnet-peers';

const REAL = 4;
const CHARACTER_STRING = 7;
const ENUMERATED = 9;

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const o of open) await o.close();
});

async function ours(device?: number): Promise<BacnetEndpoint> {
  const ep = await BacnetEndpoint.open({
    localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', apduTimeout: 1000, retries: 1,
    ...(device ? { device: { instance: device, vendorId: 999 } } : {}),
  });
  open.push(ep);
  return ep;
}

for (const name of PEER_NAMES) {
  const skip = peerSkip(name, peerAvailable(name));

  test(`${name}: Who-Is/I-Am both ways`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const ep = await ours(4242);
    // the peer answers our Who-Is with its I-Am
    peer.api.on('whoIs', (c: PeerContent) => peer.api.iAmResponse(c.header!.sender, 777, 3, 15));
    const found = await ep.whoIs({ address: `127.0.0.1:${peer.port}`, low: 777, high: 777, timeout: 2000 });
    assert.deepEqual(found.map((d) => [d.instance, d.address.host, d.address.port, d.segmentation, d.vendorId]), [[777, '127.0.0.1', peer.port, 3, 15]]);
    // we answer the peer's Who-Is with ours
    const heard = new Promise<Record<string, unknown>>((resolve) => peer.api.on('iAm', (c: PeerContent) => resolve(c.payload)));
    peer.api.whoIs(peer.addr(`127.0.0.1:${ep.transport.local.port}`), { lowLimit: 4242, highLimit: 4242 });
    const iAm = await heard;
    const id = (iAm.deviceId as number | { instance: number });
    assert.equal(typeof id === 'number' ? id : id.instance, 4242);
    assert.equal(iAm.vendorId, 999);
    assert.equal(iAm.maxApdu, 1476);
    peer.close();
  });

  test(`${name}: our endpoint reads and writes a device the peer answers for`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const ep = await ours();
    const written: unknown[] = [];
    peer.api.on('readProperty', (c: PeerContent) => {
      const p = c.payload as { objectId: { type: number; instance: number }; property: { id: number; index?: number } };
      if (p.objectId.instance === 99) {
        peer.api.errorResponse(c.header!.sender, c.service!, c.invokeId!, 1, 31);
        return;
      }
      const value = p.property.id === 77 ? [{ type: CHARACTER_STRING, value: 'Peer Zone' }] : [{ type: REAL, value: 21.5 }];
      peer.api.readPropertyResponse(c.header!.sender, c.invokeId!, p.objectId, p.property, value);
    });
    peer.api.on('writeProperty', (c: PeerContent) => {
      written.push(c.payload);
      peer.api.simpleAckResponse(c.header!.sender, c.service!, c.invokeId!);
    });
    const target = `127.0.0.1:${peer.port}`;
    const pv = await ep.confirmedRequest(target, 'read-property', { objectId: { type: 0, instance: 1 }, propertyId: 85 });
    assert.deepEqual(pv.value, [Value.real(21.5)]);
    const name_ = await ep.confirmedRequest(target, 'read-property', { objectId: { type: 0, instance: 1 }, propertyId: 77 });
    assert.deepEqual(name_.value, [Value.characterString('Peer Zone')]);
    await assert.rejects(ep.confirmedRequest(target, 'read-property', { objectId: { type: 0, instance: 99 }, propertyId: 85 }),
      (e: unknown) => e instanceof BacnetError && e.message === 'BACnet error: object: unknown-object');
    await ep.confirmedRequest(target, 'write-property', { objectId: { type: 1, instance: 1 }, propertyId: 85, value: [Value.real(42.5)], priority: 8 });
    await ep.confirmedRequest(target, 'write-property', { objectId: { type: 1, instance: 1 }, propertyId: 85, value: [Value.null()], priority: 8 });
    assert.equal(written.length, 2);
    const w0 = JSON.stringify(written[0]);
    assert.match(w0, /42\.5/);
    assert.match(w0, /"priority":8/);
    peer.close();
  });

  test(`${name}: the peer reads and writes our endpoint (RP, RPM, WP)`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const ep = await ours(1234);
    let wrote: unknown;
    ep.onConfirmed('read-property', (req) => ({ ...req, value: req.propertyId === 77 ? [Value.characterString('Fieldlink AI')] : [Value.real(66.25)] }));
    ep.onConfirmed('read-property-multiple', (req) => ({
      results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => (p.propertyId === 85
        ? { propertyId: 85, value: [Value.real(12.5)] } : { propertyId: p.propertyId, error: { errorClass: 2, errorCode: 32 } })) })),
    }));
    ep.onConfirmed('write-property', (req) => void (wrote = req));
    const target = `127.0.0.1:${ep.transport.local.port}`;
    const rp = await peer.readProperty(target, { type: 0, instance: 1 }, 85);
    assert.equal(rp.values[0]!.type, REAL);
    assert.equal(rp.values[0]!.value, 66.25);
    const rpm = await peer.readPropertyMultiple(target, [{ objectId: { type: 0, instance: 1 }, properties: [{ id: 85 }, { id: 117 }] }]);
    const vals = rpm.values[0]!.values;
    assert.equal(vals[0]!.id, 85);
    assert.equal(vals[0]!.value[0]!.value, 12.5);
    assert.equal(vals[1]!.id, 117);
    assert.deepEqual(vals[1]!.value[0]!.value, { errorClass: 2, errorCode: 32 }, 'per-property error');
    await peer.writeProperty(target, { type: 5, instance: 3 }, 85, [{ type: ENUMERATED, value: 1 }], 8);
    assert.deepEqual(wrote, { objectId: { type: 5, instance: 3 }, propertyId: 85, value: [Value.enumerated(1)], priority: 8 });
    peer.close();
  });

  test(`${name}: COV notifications from the peer reach us and are acknowledged`, { skip }, async () => {
    const peer = await startPeer(name);
    open.push(peer);
    const ep = await ours(1234);
    const got = new Promise<CovNotificationRequest>((resolve) => ep.on('cov-notification', (n) => resolve(n)));
    await peer.confirmedCovNotification(`127.0.0.1:${ep.transport.local.port}`, { type: 2, instance: 1 }, 7, 4321, 60,
      [{ property: { id: 85 }, value: [{ type: REAL, value: 13.75 }] }, { property: { id: 111 }, value: [{ type: 8, value: { value: [0], bitsUsed: 4 } }] }]);
    const n = await got;
    assert.equal(n.subscriberProcessId, 7);
    assert.deepEqual(n.initiatingDeviceId, { type: 8, instance: 4321 });
    assert.deepEqual(n.values[0]!.value, [Value.real(13.75)]);
    peer.close();
  });
}
