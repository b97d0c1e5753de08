/**
 * Our endpoints over real UDP on loopback (port 0 or free ports only): request/ACK, a segmented
 * 5,000-entry object list, 10,000 requests issued at once, Who-Is by broadcast to
 * 127.255.255.255, EADDRINUSE reported in words (no address sharing), close() releasing the port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { PortInUseError } from '../../../src/lib/bacnet/errors';
import { UdpTransport, listInterfaces } from '../../../src/lib/bacnet/transport';
import { broadcastAddress } from '../../../src/lib/bacnet/address';

const local = { localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255' };

test('request/ACK and a segmented 5,000-entry object list between two endpoints on loopback', async () => {
  const server = await BacnetEndpoint.open({ ...local, device: { instance: 1234 } });
  const client = await BacnetEndpoint.open(local);
  server.onConfirmed('read-property', (req) => ({
    ...req,
    value: req.propertyId === 76 ? Array.from({ length: 5000 }, (_, i) => Value.objectId(i % 50, i)) : [Value.real(21.5)],
  }));
  const target = `127.0.0.1:${server.transport.local.port}`;
  assert.deepEqual((await client.confirmedRequest(target, 'read-property', { objectId: { type: 0, instance: 1 }, propertyId: 85 })).value, [Value.real(21.5)]);
  const list = await client.confirmedRequest(target, 'read-property', { objectId: { type: 8, instance: 1234 }, propertyId: 76 });
  assert.equal(list.value.length, 5000);
  assert.deepEqual(list.value[4321], Value.objectId(4321 % 50, 4321));
  assert.equal(server.stats().server.segmentedResponses, 1);
  await client.close();
  await server.close();
});

test('10,000 requests issued at once over UDP: all complete, 0 wrong, 0 lost', async () => {
  const server = await BacnetEndpoint.open({ ...local, receiveBufferSize: 1 << 21 });
  const client = await BacnetEndpoint.open({ ...local, receiveBufferSize: 1 << 21, apduTimeout: 1000 });
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.unsigned(req.objectId.instance * 3 + req.objectId.type)] }));
  const target = `127.0.0.1:${server.transport.local.port}`;
  const t0 = Date.now();
  const results = await Promise.allSettled(Array.from({ length: 10_000 }, (_, i) =>
    client.confirmedRequest(target, 'read-property', { objectId: { type: i % 3, instance: i }, propertyId: 85 })
      .then((a) => a.value[0]!.type === 'unsigned' && a.value[0]!.value === i * 3 + (i % 3) && a.objectId.instance === i)));
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value === true).length;
  const wrong = results.filter((r) => r.status === 'fulfilled' && r.value !== true).length;
  const lost = results.filter((r) => r.status === 'rejected').length;
  assert.deepEqual({ ok, wrong, lost }, { ok: 10_000, wrong: 0, lost: 0 });
  assert.ok(Date.now() - t0 < 120_000);
  await client.close();
  await server.close();
});

test('Who-Is by broadcast on loopback: a server bound to the wildcard address answers (unicast to a client on another port)', async () => {
  const server = await BacnetEndpoint.open({ port: 0, broadcastAddress: '127.255.255.255', device: { instance: 4321 } });
  const client = await BacnetEndpoint.open({ ...local, destinationPort: server.transport.local.port });
  const found = await client.whoIs({ low: 4321, high: 4321, timeout: 2000 });
  assert.deepEqual(found.map((d) => [d.instance, d.address.port]), [[4321, server.transport.local.port]]);
  await client.close();
  await server.close();
});

test('a port in use is reported in words with the fix; nothing is shared silently', async () => {
  const holder = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
  const port = holder.address().port;
  await assert.rejects(BacnetEndpoint.open({ localAddress: '127.0.0.1', port }), (e: unknown) =>
    e instanceof PortInUseError && e.code === 'EADDRINUSE' && e.port === port
    && /UDP port \d+ on 127\.0\.0\.1 is already in use by another program/.test(e.message)
    && /choose another local port/.test(e.message) && /foreign device/.test(e.message));
  holder.close();
});

test('close() releases the port at once and leaves no handles behind', async () => {
  const udpHandles = async (): Promise<number> => {
    await new Promise((r) => setTimeout(r, 20)); // node frees a UDP handle a loop turn after its close callback
    return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
  };
  const before = await udpHandles();
  const ep = await BacnetEndpoint.open(local);
  const port = ep.transport.local.port;
  ep.onConfirmed('read-property', () => new Promise(() => undefined));
  const pending = ep.confirmedRequest(`127.0.0.1:${port}`, 'read-property', { objectId: { type: 0, instance: 1 }, propertyId: 85 });
  await ep.close();
  await assert.rejects(pending, /closed/);
  const again = await UdpTransport.open({ localAddress: '127.0.0.1', port });
  await again.close();
  assert.equal(await udpHandles(), before);
});

test('broadcast address from an interface address and mask', () => {
  assert.equal(broadcastAddress('192.168.1.20', '255.255.255.0'), '192.168.1.255');
  assert.equal(broadcastAddress('10.1.2.3', '255.255.0.0'), '10.1.255.255');
  assert.equal(broadcastAddress('127.0.0.1', '255.0.0.0'), '127.255.255.255');
  const lo = listInterfaces().find((i) => i.address === '127.0.0.1');
  if (lo) assert.equal(lo.broadcast, '127.255.255.255');
});
