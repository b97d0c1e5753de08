/**
 * Who-Is/I-Am and the device cache, duplicate device instances, devices behind a router
 * (DNET/DADR out, SNET/SADR back, Who-Is-Router-To-Network, Reject-Message-To-Network),
 * foreign-device registration and renewal with a BBMD, COV notifications: endpoints on the
 * in-memory network, with a small router and BBMD written here from the codec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint, type BacnetEndpointOptions } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { decodeFrame, encodeFrame } from '../../../src/lib/bacnet/frame';
import { BvlcFunction, encodeBvlc, ipEndpointToMac, macToIpEndpoint } from '../../../src/lib/bacnet/bvlc';
import { writeNpduHeader } from '../../../src/lib/bacnet/npdu';
import { Writer } from '../../../src/lib/wire/writer';
import { NoRouteError } from '../../../src/lib/bacnet/errors';
import { DeviceCache, type DuplicateDevice } from '../../../src/lib/bacnet/device-cache';
import type { RegistrationStatus } from '../../../src/lib/bacnet/foreign-device';
import { FakeClock, MemoryNet, type MemoryTransport } from '../../helpers/bacnet-memnet';

const ai1 = { type: 0, instance: 1 };

function ep(net: MemoryNet, clock: FakeClock, host: string, opts: BacnetEndpointOptions = {}): BacnetEndpoint {
  return new BacnetEndpoint(net.transport(host, 47808), { clock, ...opts });
}

test('Who-Is finds devices (range honoured); requests by instance use the device cache', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const client = ep(net, clock, '10.0.0.1');
  const a = ep(net, clock, '10.0.0.2', { device: { instance: 1234, vendorId: 260 } });
  const b = ep(net, clock, '10.0.0.3', { device: { instance: 77, vendorId: 9 }, maxApdu: 480, segmentation: 'no-segmentation' });
  b.onConfirmed('read-property', (req) => ({ ...req, value: [Value.characterString('B')] }));
  const all = client.whoIs({ timeout: 1000 });
  await clock.advance(1000);
  assert.deepEqual((await all).map((d) => [d.instance, d.address.host, d.maxApdu, d.segmentation, d.vendorId]), [
    [77, '10.0.0.3', 480, 3, 9], [1234, '10.0.0.2', 1476, 0, 260],
  ]);
  const some = client.whoIs({ low: 1, high: 100, timeout: 1000 });
  await clock.advance(1000);
  assert.deepEqual((await some).map((d) => d.instance), [77]);
  client.devices.clear();
  const rp = client.confirmedRequest(77, 'read-property', { objectId: { type: 8, instance: 77 }, propertyId: 77 });
  await clock.settle();
  assert.deepEqual((await rp).value, [Value.characterString('B')]);
  assert.equal(client.devices.get(77)?.address.host, '10.0.0.3');
  const missing = client.confirmedRequest(999, 'read-property', { objectId: ai1, propertyId: 85 }, { timeout: 500 });
  const rejected = assert.rejects(missing, /device 999 did not answer Who-Is/);
  await clock.advance(500);
  await rejected;
  await Promise.all([client.close(), a.close(), b.close()]);
});

test('a duplicate device instance is reported with both addresses; the first address stays', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const client = ep(net, clock, '10.0.0.1');
  const a = ep(net, clock, '10.0.0.2', { device: { instance: 500 } });
  const b = ep(net, clock, '10.0.0.3', { device: { instance: 500 } });
  const dups: DuplicateDevice[] = [];
  client.on('duplicate-device', (d) => dups.push(d));
  const p = client.whoIs({ timeout: 500 });
  await clock.advance(500);
  assert.equal((await p).length, 1);
  assert.equal(dups.length, 1);
  assert.equal(dups[0]!.instance, 500);
  assert.match(dups[0]!.text, /duplicate device instance 500: answered from 10\.0\.0\.2:47808 and from 10\.0\.0\.3:47808/);
  assert.equal(client.devices.get(500)!.address.host, '10.0.0.2');
  assert.equal(client.devices.get(500)!.conflicts!.length, 1);
  await Promise.all([client.close(), a.close(), b.close()]);
});

/**
 * A two-port router between the IP network (network 1, at 10.0.0.254) and network 5 where the
 * device 10.5.0.7 has the one-octet MAC 0x07. Knows networks 1 and 5 only.
 */
function router(net: MemoryNet) {
  const lan = net.transport('10.0.0.254', 47808);
  const far = net.transport('10.5.0.254', 47808, '10.5.255.255');
  const stats = { forwarded: 0, rejected: 0 };
  lan.onMessage = (data, host, port) => {
    const f = decodeFrame(data);
    if (!f.npdu) return;
    const n = f.npdu;
    if (n.messageType === 0x00) { // Who-Is-Router-To-Network
      const asked = (f.network as { network?: number }).network;
      if (asked === undefined || asked === 5) lan.send(encodeFrame({ bvlcFunction: BvlcFunction.ORIGINAL_BROADCAST_NPDU, network: { type: 0x01, networks: [5] } }), lan.broadcastAddress, 47808, () => undefined);
      return;
    }
    if (!n.destination) return;
    if (n.destination.network !== 5 && n.destination.network !== 0xffff) {
      stats.rejected++;
      lan.send(encodeFrame({ network: { type: 0x03, reason: 1, network: n.destination.network } }), host, port, () => undefined);
      return;
    }
    stats.forwarded++;
    // to network 5: strip DNET, add SNET 1 / SADR = the sender's B/IP address
    const w = new Writer();
    const bcast = n.destination.mac.length === 0;
    w.u8(0x81).u8(bcast ? 0x0b : 0x0a).u16(0);
    writeNpduHeader(w, { source: { network: 1, mac: ipEndpointToMac({ host, port }) }, expectingReply: n.expectingReply, priority: n.priority });
    w.bytes(n.payload);
    const out = w.finish();
    out[2] = out.length >> 8;
    out[3] = out.length & 0xff;
    if (bcast) far.send(out, far.broadcastAddress, 47808, () => undefined);
    else if (n.destination.mac.length === 1 && n.destination.mac[0] === 7) far.send(out, '10.5.0.7', 47808, () => undefined);
  };
  far.onMessage = (data, host) => {
    const f = decodeFrame(data);
    if (!f.npdu?.destination || f.npdu.destination.network !== 1) return;
    const n = f.npdu;
    const to = macToIpEndpoint(n.destination!.mac)!;
    const srcMac = host === '10.5.0.7' ? Uint8Array.of(7) : Uint8Array.of(99);
    const w = new Writer();
    w.u8(0x81).u8(0x0a).u16(0);
    writeNpduHeader(w, { source: { network: 5, mac: srcMac }, expectingReply: n.expectingReply, priority: n.priority });
    w.bytes(n.payload);
    const out = w.finish();
    out[2] = out.length >> 8;
    out[3] = out.length & 0xff;
    lan.send(out, to.host, to.port, () => undefined);
  };
  return { lan, far, stats };
}

test('a device behind a router: DNET/DADR out, reply matched by SNET/SADR; Who-Is through the router', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const r = router(net);
  const client = ep(net, clock, '10.0.0.1');
  const device = new BacnetEndpoint(net.transport('10.5.0.7', 47808, '10.5.255.255'), { clock, device: { instance: 4321 } });
  device.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(55.5)] }));
  // 1. router known in the address
  const p1 = client.confirmedRequest({ host: '10.0.0.254', network: 5, mac: Uint8Array.of(7) }, 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.settle();
  assert.deepEqual((await p1).value, [Value.real(55.5)]);
  // 2. router unknown: Who-Is-Router-To-Network, then the request goes to the router
  const p2 = client.confirmedRequest({ network: 5, mac: Uint8Array.of(7) }, 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.settle();
  assert.deepEqual((await p2).value, [Value.real(55.5)]);
  assert.deepEqual(client.routes().map((e) => [e.network, e.router.host]), [[5, '10.0.0.254']]);
  // 3. Who-Is to network 5 finds the device with its routed address; then by instance
  const found = client.whoIs({ network: 5, timeout: 500 });
  await clock.advance(500);
  const d = (await found)[0]!;
  assert.equal(d.instance, 4321);
  assert.deepEqual({ ...d.address, mac: [...d.address.mac!] }, { host: '10.0.0.254', port: 47808, network: 5, mac: [7] });
  const p3 = client.confirmedRequest(4321, 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.settle();
  assert.deepEqual((await p3).value, [Value.real(55.5)]);
  assert.ok(r.stats.forwarded >= 4);
  await Promise.all([client.close(), device.close()]);
});

test('a network no router knows: Reject-Message-To-Network fails the request with the reason in words', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  router(net);
  const client = ep(net, clock, '10.0.0.1', { routeTimeout: 200 });
  const events: string[] = [];
  client.on('network', (e) => events.push(e.type));
  const p = client.confirmedRequest({ network: 6, mac: Uint8Array.of(1) }, 'read-property', { objectId: ai1, propertyId: 85 });
  const rejected = assert.rejects(p, (e: unknown) => e instanceof NoRouteError && /rejected the message to network 6 \(not-directly-connected\)/.test(e.message));
  await clock.advance(200); // no I-Am-Router: broadcast with DNET 6; the router refuses
  await rejected;
  assert.ok(events.includes('route-rejected'));
  await client.close();
});

test('not a router: NPDUs for other networks are ignored; What-Is-Network-Number is answered when configured', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const a = ep(net, clock, '10.0.0.2', { device: { instance: 1 }, localNetwork: 1 });
  let served = 0;
  a.onConfirmed('read-property', (req) => {
    served++;
    return { ...req, value: [Value.real(1)] };
  });
  const probe = net.transport('10.0.0.9', 47808);
  const got: Array<ReturnType<typeof decodeFrame>> = [];
  probe.onMessage = (d, host) => void (host !== '10.0.0.9' && got.push(decodeFrame(d)));
  const rpData = new Writer();
  rpData.u8(0x0c).u32(1).u8(0x19).u8(85);
  const req = (dnet: number) => encodeFrame({ npdu: { destination: { network: dnet, mac: Uint8Array.of(1) }, expectingReply: true }, apdu: { type: 0, segmented: false, moreFollows: false, segmentedResponseAccepted: false, maxSegments: 0, maxApdu: 1476, invokeId: 1, service: 12, data: rpData.finish() } });
  probe.send(req(9), '10.0.0.2', 47808, () => undefined);
  await clock.settle();
  assert.equal(served, 0);
  probe.send(encodeFrame({ bvlcFunction: BvlcFunction.ORIGINAL_BROADCAST_NPDU, network: { type: 0x12 } }), probe.broadcastAddress, 47808, () => undefined);
  await clock.settle();
  assert.deepEqual(got.map((f) => f.network), [{ type: 0x13, network: 1, configured: true }]);
  // a BVLC function meant for a BBMD is refused with its NAK
  probe.send(encodeBvlc({ function: BvlcFunction.REGISTER_FOREIGN_DEVICE, ttl: 60 }), '10.0.0.2', 47808, () => undefined);
  await clock.settle();
  assert.deepEqual(got.at(-1)!.bvlc, { function: 0, resultCode: 0x0030 });
  await a.close();
});

/** A BBMD that accepts registrations and forwards distributed broadcasts to one listener. */
function bbmd(net: MemoryNet, clock: FakeClock, answer: 'ok' | 'nak' | 'silent' = 'ok') {
  const t: MemoryTransport = net.transport('10.9.0.1', 47808, '10.9.255.255');
  const log: Array<{ at: number; fn: number; ttl?: number }> = [];
  const peers = new Set<string>();
  t.onMessage = (data, host, port) => {
    const f = decodeFrame(data);
    log.push({ at: clock.now(), fn: f.bvlc.function, ...('ttl' in f.bvlc ? { ttl: f.bvlc.ttl } : {}) });
    if (f.bvlc.function === BvlcFunction.REGISTER_FOREIGN_DEVICE) {
      if (answer === 'silent') return;
      peers.add(`${host}:${port}`);
      t.send(encodeBvlc({ function: 0, resultCode: answer === 'ok' ? 0 : 0x0030 }), host, port, () => undefined);
    }
    if (f.bvlc.function === BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK) {
      for (const p of peers) {
        const [h, pp] = p.split(':');
        if (h === host) continue;
        t.send(encodeBvlc({ function: BvlcFunction.FORWARDED_NPDU, origin: { host, port }, npdu: (f.bvlc as { npdu: Uint8Array }).npdu }), h!, Number(pp), () => undefined);
      }
    }
  };
  return { log, peers, transport: t };
}

test('foreign-device registration: registered, broadcasts distributed by the BBMD, renewed before the TTL runs out', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const b = bbmd(net, clock);
  const states: RegistrationStatus[] = [];
  // two foreign devices on different subnets, meeting through the BBMD
  const fd1 = new BacnetEndpoint(net.transport('10.1.0.5', 47808, '10.1.255.255'), { clock, bbmd: { host: '10.9.0.1', ttl: 60 } });
  const fd2 = new BacnetEndpoint(net.transport('10.2.0.5', 47809, '10.2.255.255'), { clock, bbmd: { host: '10.9.0.1', ttl: 60 }, device: { instance: 42 } });
  fd1.on('registration', (s) => states.push(s));
  await clock.settle();
  assert.equal(fd1.registration!.state, 'registered');
  assert.match(states.at(-1)!.text, /registered with BBMD 10\.9\.0\.1:47808 \(TTL 60 s, renewing every 45 s\)/);
  const found = fd1.whoIs({ timeout: 500 });
  await clock.advance(500);
  assert.deepEqual((await found).map((d) => [d.instance, d.address.host, d.address.port]), [[42, '10.2.0.5', 47809]]);
  assert.ok(b.log.some((x) => x.fn === BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK));
  const before = b.log.filter((x) => x.fn === BvlcFunction.REGISTER_FOREIGN_DEVICE).length;
  await clock.advance(46_000);
  const regs = b.log.filter((x) => x.fn === BvlcFunction.REGISTER_FOREIGN_DEVICE);
  assert.equal(regs.length, before + 2, 'each device renewed once within the TTL');
  await clock.advance(45_000 * 3);
  assert.equal(fd1.registration!.state, 'registered');
  assert.ok(b.log.filter((x) => x.fn === BvlcFunction.REGISTER_FOREIGN_DEVICE).every((x) => x.ttl === 60));
  await Promise.all([fd1.close(), fd2.close()]);
});

test('foreign-device registration refused or unanswered: reported, retried with back-off', async () => {
  for (const answer of ['nak', 'silent'] as const) {
    const clock = new FakeClock();
    const net = new MemoryNet();
    const b = bbmd(net, clock, answer);
    const fd = new BacnetEndpoint(net.transport('10.1.0.5', 47808, '10.1.255.255'), { clock, bbmd: { host: '10.9.0.1', ttl: 60 } });
    const texts: string[] = [];
    fd.on('registration', (s) => texts.push(s.text));
    await clock.advance(20_000);
    assert.equal(fd.registration!.active, false);
    assert.ok(texts.some((t) => (answer === 'nak' ? /refused/ : /no answer/).test(t)), texts.join(' | '));
    const n = b.log.filter((x) => x.fn === BvlcFunction.REGISTER_FOREIGN_DEVICE).length;
    assert.ok(n >= 3 && n <= 8, `${n} attempts in 20 s`);
    await fd.close();
  }
});

test('COV notifications: confirmed ones are acknowledged automatically, both are emitted', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const client = ep(net, clock, '10.0.0.1');
  const server = ep(net, clock, '10.0.0.2', { device: { instance: 1234 } });
  const got: Array<[number, boolean]> = [];
  client.on('cov-notification', (n, _src, confirmed) => got.push([(n.values[0]!.value[0] as { value: number }).value, confirmed]));
  const note = (v: number) => ({ subscriberProcessId: 7, initiatingDeviceId: { type: 8, instance: 1234 }, monitoredObjectId: { type: 2, instance: 1 }, timeRemaining: 60, values: [{ propertyId: 85, value: [Value.real(v)] }] });
  const ack = server.confirmedRequest('10.0.0.1', 'confirmed-cov-notification', note(12.5));
  await server.unconfirmedRequest('10.0.0.1', 'unconfirmed-cov-notification', note(66.25));
  await clock.settle();
  assert.equal(await ack, undefined);
  assert.deepEqual(got.sort(), [[12.5, true], [66.25, false]]);
  await Promise.all([client.close(), server.close()]);
});

test('a device announcing a max APDU outside 50..1476 is cached within it', () => {
  const cache = new DeviceCache();
  const iAm = (instance: number, maxApdu: number) => cache.update({ deviceId: { type: 8, instance }, maxApdu, segmentation: 3, vendorId: 1 }, { host: '10.0.0.9', port: 47800 + instance }, 0).device.maxApdu;
  assert.equal(iAm(1, 5), 50);
  assert.equal(iAm(2, 0), 50);
  assert.equal(iAm(3, 480), 480);
  assert.equal(iAm(4, 65535), 1476);
  assert.equal(iAm(1, 1024), 1024, 'a later I-Am updates it');
});

test('a BVLC-Result counts for the registration only when it comes from the BBMD', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  // the BBMD is silent; a stranger answers in its place
  const b = bbmd(net, clock, 'silent');
  const stranger: MemoryTransport = net.transport('10.9.0.66', 47808, '10.9.255.255');
  const fd = new BacnetEndpoint(net.transport('10.1.0.5', 47808, '10.1.255.255'), { clock, bbmd: { host: '10.9.0.01', ttl: 60 } });
  await clock.settle();
  assert.equal(fd.registration!.state, 'registering');
  stranger.send(encodeBvlc({ function: 0, resultCode: 0 }), '10.1.0.5', 47808, () => undefined);
  await clock.settle();
  assert.equal(fd.registration!.state, 'registering', 'not registered on a stranger\'s word');
  assert.equal(fd.registration!.active, false);
  // the BBMD itself (its address written with a leading zero in the options) is heard
  b.transport.send(encodeBvlc({ function: 0, resultCode: 0 }), '10.1.0.5', 47808, () => undefined);
  await clock.settle();
  assert.equal(fd.registration!.state, 'registered');
  await fd.close();
});
