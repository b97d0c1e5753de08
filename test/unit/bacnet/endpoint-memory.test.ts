/**
 * Client and server endpoints against each other on an in-memory network with a fake clock:
 * request/ACK, Error/Reject/Abort mapping, retries with the same invoke ID, timeouts, the
 * duplicate-request cache, the stale-reply guards, back-pressure and close().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { decodeFrame } from '../../../src/lib/bacnet/frame';
import { PduType } from '../../../src/lib/bacnet/apdu';
import {
  BacnetAbortError, BacnetError, BacnetRejectError, BacnetTimeoutError, BackPressureError, CancelledError, SendFailedError, TooLargeError,
} from '../../../src/lib/bacnet/errors';
import { BacnetServer } from '../../../src/lib/bacnet/server/server';
import { RejectReason } from '../../../src/lib/bacnet/enums/errors';
import { FakeClock, MemoryNet, type Datagram } from '../../helpers/bacnet-memnet';

function setup(opts: { client?: ConstructorParameters<typeof BacnetEndpoint>[1]; server?: ConstructorParameters<typeof BacnetEndpoint>[1] } = {}) {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const client = new BacnetEndpoint(net.transport('10.0.0.1', 47808), { clock, ...opts.client });
  const server = new BacnetEndpoint(net.transport('10.0.0.2', 47808), { clock, device: { instance: 1234, vendorId: 260 }, ...opts.server });
  return { clock, net, client, server };
}

const ai1 = { type: 0, instance: 1 };
const isRequest = (d: Datagram): boolean => {
  const f = decodeFrame(d.data);
  return f.apdu?.type === PduType.CONFIRMED_REQUEST;
};
const isReply = (d: Datagram): boolean => {
  const f = decodeFrame(d.data);
  return !!f.apdu && f.apdu.type !== PduType.CONFIRMED_REQUEST && f.apdu.type !== PduType.UNCONFIRMED_REQUEST;
};

test('ReadProperty round trip; handler sees the decoded request; SimpleACK services resolve undefined', async () => {
  const { clock, client, server } = setup();
  let seen: unknown;
  server.onConfirmed('read-property', (req) => {
    seen = req;
    return { ...req, value: [Value.real(21.5)] };
  });
  const written: unknown[] = [];
  server.onConfirmed('write-property', (req) => void written.push(req));
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.settle();
  const ack = await p;
  assert.deepEqual(ack.value, [Value.real(21.5)]);
  assert.deepEqual(seen, { objectId: ai1, propertyId: 85 });
  const w = client.confirmedRequest({ host: '10.0.0.2' }, 'write-property', { objectId: { type: 1, instance: 1 }, propertyId: 85, value: [Value.null()], priority: 8 });
  await clock.settle();
  assert.equal(await w, undefined);
  assert.deepEqual(written, [{ objectId: { type: 1, instance: 1 }, propertyId: 85, value: [Value.null()], priority: 8 }]);
  await client.close();
  await server.close();
});

test('Error, Reject and Abort reach the caller as typed errors with names in words', async () => {
  const { clock, client, server } = setup();
  server.onConfirmed('read-property', (req) => {
    if (req.objectId.instance === 0) throw new BacnetError('object', 'unknown-object');
    if (req.objectId.instance === 2) throw new BacnetAbortError('out-of-resources');
    if (req.objectId.instance === 3) throw new Error('boom');
    throw new BacnetRejectError('parameter-out-of-range');
  });
  server.onConfirmed('write-property-multiple', () => {
    throw new BacnetError('property', 'write-access-denied', { firstFailedWriteAttempt: { objectId: ai1, propertyId: 85 } });
  });
  const warnings: string[] = [];
  server.on('warning', (t) => warnings.push(t));
  const rp = (instance: number) => client.confirmedRequest('10.0.0.2', 'read-property', { objectId: { type: 0, instance }, propertyId: 85 });
  const results = await Promise.allSettled([rp(0), rp(1), rp(2), rp(3),
    client.confirmedRequest('10.0.0.2', 'read-range', { objectId: { type: 20, instance: 0 }, propertyId: 131 }),
    client.confirmedRequest('10.0.0.2', 'write-property-multiple', { specs: [{ objectId: ai1, values: [{ propertyId: 85, value: [Value.real(1)] }] }] }),
    clock.settle()]);
  const err = (i: number): Error => (results[i] as PromiseRejectedResult).reason as Error;
  assert.ok(err(0) instanceof BacnetError);
  assert.equal(err(0).message, 'BACnet error: object: unknown-object');
  assert.equal((err(0) as BacnetError).codeName, 'unknown-object');
  assert.ok(err(1) instanceof BacnetRejectError);
  assert.equal((err(1) as BacnetRejectError).reasonName, 'parameter-out-of-range');
  assert.ok(err(2) instanceof BacnetAbortError);
  assert.match(err(2).message, /out-of-resources/);
  assert.ok(err(3) instanceof BacnetError);
  assert.match(err(3).message, /device: operational-problem/);
  assert.ok(warnings.some((w) => /boom/.test(w)));
  assert.ok(err(4) instanceof BacnetRejectError);
  assert.equal((err(4) as BacnetRejectError).reasonName, 'unrecognized-service');
  assert.ok(err(5) instanceof BacnetError);
  assert.deepEqual((err(5) as BacnetError).firstFailedWriteAttempt, { objectId: ai1, propertyId: 85 });
  await client.close();
  await server.close();
});

test('lost requests are resent with the same invoke ID; timeout after 1 + retries attempts', async () => {
  const { clock, net, client, server } = setup({ client: { apduTimeout: 1000, retries: 3 } });
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(1)] }));
  net.record = true;
  let dropped = 0;
  net.drop = (d) => isRequest(d) && dropped++ < 2;
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.advance(999);
  await clock.advance(1); // first retry
  await clock.advance(1000); // second retry, delivered
  assert.deepEqual((await p).value, [Value.real(1)]);
  const ids = net.log.filter(isRequest).map((d) => (decodeFrame(d.data).apdu as { invokeId: number }).invokeId);
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 1, 'every attempt uses the same invoke ID');
  assert.equal(client.stats().client.retries, 2);

  net.drop = (d) => isRequest(d);
  const t = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  const rejected = assert.rejects(t, (e: unknown) => e instanceof BacnetTimeoutError && e.attempts === 4 && /no reply from 10\.0\.0\.2:47808 to read-property after 4 attempt/.test(e.message));
  await clock.advance(4000);
  await rejected;
  await client.close();
  await server.close();
});

test('a duplicate request is answered from the cache, not executed twice', async () => {
  const { clock, net, client, server } = setup({ client: { apduTimeout: 1000 } });
  let calls = 0;
  server.onConfirmed('write-property', () => void calls++);
  let droppedReply = false;
  net.drop = (d) => {
    if (!droppedReply && isReply(d)) return (droppedReply = true);
    return false;
  };
  const p = client.confirmedRequest('10.0.0.2', 'write-property', { objectId: ai1, propertyId: 85, value: [Value.real(5)], priority: 8 });
  await clock.advance(1000);
  await p;
  assert.equal(calls, 1);
  assert.equal(server.stats().server.duplicatesAnswered, 1);
  await client.close();
  await server.close();
});

test('a duplicate that arrives while the handler still works is ignored', async () => {
  const { clock, client, server } = setup({ client: { apduTimeout: 1000 } });
  let calls = 0;
  let release: () => void = () => undefined;
  server.onConfirmed('write-property', () => {
    calls++;
    return new Promise<void>((r) => (release = r));
  });
  const p = client.confirmedRequest('10.0.0.2', 'write-property', { objectId: ai1, propertyId: 85, value: [Value.real(5)] });
  await clock.advance(1000); // client retries; server is busy with the first
  assert.equal(server.stats().server.duplicatesIgnored, 1);
  release();
  await clock.settle();
  await p;
  assert.equal(calls, 1);
  await client.close();
  await server.close();
});

test('an ACK with the wrong service choice or for another object keeps the transaction pending', async () => {
  const { clock, client, server } = setup({ client: { apduTimeout: 1000, retries: 1 } });
  // the server answers ReadProperty for AI 1 with the value of AI 2
  let n = 0;
  server.onConfirmed('read-property', (req) => ({ ...req, objectId: n++ === 0 ? { type: 0, instance: 2 } : req.objectId, value: [Value.real(n)] }));
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  const rejected = assert.rejects(p, BacnetTimeoutError);
  await clock.settle();
  assert.equal(client.stats().client.rejectedAcks, 1);
  // the retry is a duplicate for the server, which repeats its cached (wrong) reply: refused again
  await clock.advance(1000);
  assert.equal(client.stats().client.rejectedAcks, 2);
  await clock.advance(1000);
  await rejected;
  assert.equal(n, 1, 'executed once');
  await client.close();
  await server.close();
});

test('a SimpleACK for another service is not taken for ours', async () => {
  const { clock, net, client, server } = setup({ client: { apduTimeout: 500, retries: 0 } });
  server.onConfirmed('write-property', () => undefined);
  net.record = true;
  const p = client.confirmedRequest('10.0.0.2', 'write-property', { objectId: ai1, propertyId: 85, value: [Value.real(1)] });
  await clock.settle();
  await p;
  // replay the server's SimpleACK to a new request of another service with the same invoke ID
  server.onConfirmed('subscribe-cov', () => new Promise(() => undefined)); // never answers
  const q = client.confirmedRequest('10.0.0.2', 'subscribe-cov', { subscriberProcessId: 1, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 60 });
  await clock.settle();
  const ack = net.log.find(isReply)!;
  const sub = net.log.filter(isRequest).at(-1)!;
  const id = (decodeFrame(sub.data).apdu as { invokeId: number }).invokeId;
  const forged = Uint8Array.from(ack.data);
  forged[forged.length - 2] = id; // invoke ID of the SimpleACK
  client.transport.onMessage!(forged, '10.0.0.2', 47808);
  await clock.settle();
  assert.equal(client.stats().client.mismatchedService, 1);
  const rejected = assert.rejects(q, BacnetTimeoutError);
  await clock.advance(500);
  await rejected;
  await client.close();
  await server.close();
});

test('back-pressure: requests beyond the queue limit are refused at once; the rest complete', async () => {
  const { clock, client, server } = setup({ client: { maxInFlight: 4, maxQueued: 10 } });
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.unsigned(req.objectId.instance)] }));
  const ps = Array.from({ length: 20 }, (_, i) => client.confirmedRequest('10.0.0.2', 'read-property', { objectId: { type: 0, instance: i }, propertyId: 85 }));
  assert.equal(client.stats().inFlight, 4);
  assert.equal(client.stats().queued, 10);
  const res = await Promise.allSettled([...ps, clock.settle()]);
  const ok = res.slice(0, 20).filter((r) => r.status === 'fulfilled');
  const refused = res.slice(0, 20).filter((r) => r.status === 'rejected' && (r.reason as Error) instanceof BackPressureError);
  assert.equal(ok.length, 14);
  assert.equal(refused.length, 6);
  assert.match(((refused[0] as PromiseRejectedResult).reason as Error).message, /local back-pressure/);
  await client.close();
  await server.close();
});

test('10,000 requests issued at once to one device: all complete with the right values (queueing, not overwriting)', async () => {
  const { clock, client, server } = setup();
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.unsigned(req.objectId.instance * 7)] }));
  let maxInFlight = 0;
  const ps: Array<Promise<unknown>> = [];
  for (let i = 0; i < 10_000; i++) {
    ps.push(client.confirmedRequest('10.0.0.2', 'read-property', { objectId: { type: 2, instance: i }, propertyId: 85 }).then((a) => {
      maxInFlight = Math.max(maxInFlight, client.stats().inFlight);
      assert.deepEqual(a.objectId, { type: 2, instance: i });
      assert.deepEqual(a.value, [Value.unsigned(i * 7)]);
      return a;
    }));
  }
  assert.equal(client.stats().inFlight, 255, 'one invoke ID per request in flight: at most 255 per device');
  assert.equal(client.stats().queued, 10_000 - 255);
  for (let i = 0; i < 200 && client.stats().inFlight + client.stats().queued > 0; i++) await clock.settle();
  const res = await Promise.allSettled(ps);
  assert.equal(res.filter((r) => r.status === 'fulfilled').length, 10_000);
  assert.ok(maxInFlight <= 255);
  await client.close();
  await server.close();
});

test('send failures fail the request immediately; close() cancels pending requests and stops timers', async () => {
  const { clock, client, server } = setup();
  (client.transport as unknown as { failSends: boolean }).failSends = true;
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  const failed = assert.rejects(p, (e: unknown) => e instanceof SendFailedError && /could not be sent: network unreachable/.test(e.message));
  await clock.settle();
  await failed;
  assert.equal(clock.now(), 1_000_000, 'failed without waiting for a timeout');
  (client.transport as unknown as { failSends: boolean }).failSends = false;
  server.onConfirmed('read-property', () => new Promise(() => undefined));
  const q = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.settle();
  await client.close();
  await assert.rejects(q, CancelledError);
  await server.close();
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('AbortSignal cancels a request', async () => {
  const { clock, client, server } = setup();
  server.onConfirmed('read-property', () => new Promise(() => undefined));
  const ac = new AbortController();
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 }, { signal: ac.signal });
  await clock.settle();
  ac.abort();
  await assert.rejects(p, CancelledError);
  await client.close();
  await server.close();
});

test('malformed datagrams are counted and dropped; the endpoint keeps working', async () => {
  const { clock, client, server } = setup();
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(2)] }));
  const seen: number[] = [];
  server.on('malformed', (m) => seen.push(m.count));
  for (const bad of [Uint8Array.of(), Uint8Array.of(0x81), Uint8Array.of(0x81, 0x0a, 0x00, 0x05, 0x02), Uint8Array.of(0x81, 0x0a, 0x00, 0x07, 0x01, 0x04, 0x00)]) {
    server.transport.onMessage!(bad, '10.0.0.9', 47808);
  }
  assert.equal(server.stats().malformed, 4);
  assert.deepEqual(seen, [1, 2, 3, 4]);
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  await clock.settle();
  assert.deepEqual((await p).value, [Value.real(2)]);
  await client.close();
  await server.close();
});

test('DeviceCommunicationControl disable: only DCC and ReinitializeDevice are answered', async () => {
  const { clock, client, server } = setup({ client: { apduTimeout: 500, retries: 0 } });
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(2)] }));
  server.onConfirmed('device-communication-control', (req) => server.setCommunication(req.enableDisable === 0 ? 'enable' : 'disable', (req.timeDuration ?? 0) * 60_000));
  const dcc = client.confirmedRequest('10.0.0.2', 'device-communication-control', { enableDisable: 1, timeDuration: 1 });
  await clock.settle();
  await dcc;
  assert.equal(server.communicationState, 'disable');
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  const r = assert.rejects(p, BacnetTimeoutError);
  await clock.advance(500);
  await r;
  await clock.advance(60_000);
  assert.equal(server.communicationState, 'enable');
  await client.close();
  await server.close();
});

test('a request too large for the device rejects and leaves nothing in flight, no deadline behind', async () => {
  const { clock, client, server } = setup();
  const specs = Array.from({ length: 40 }, (_, i) => ({ objectId: { type: 2, instance: i }, values: [{ propertyId: 85, value: [Value.real(i)] }] }));
  // too large for a device without segmentation; then for one with a nonsense max APDU of 5
  for (const options of [{ maxApdu: 50, segmentation: 3 }, { maxApdu: 5 }]) {
    await assert.rejects(client.confirmedRequest('10.0.0.2', 'write-property-multiple', { specs }, options), TooLargeError);
    assert.equal(client.stats().inFlight, 0);
    assert.equal(client.stats().queued, 0);
    assert.equal(client.client.nextDeadline(), undefined);
  }
  await clock.advance(10);
  assert.equal(clock.pending, 0, 'no timer re-armed');
  await client.close();
  await server.close();
});

test('an answer that cannot be sent is reported as a warning, never an unhandled rejection; close() drops work in progress', async () => {
  const { clock, client, server, net } = setup({ client: { apduTimeout: 500, retries: 0 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  server.onConfirmed('read-property', async (req) => {
    await gate;
    return { ...req, value: [Value.real(1)] };
  });
  const warnings: string[] = [];
  server.on('warning', (t) => warnings.push(t));
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: ai1, propertyId: 85 });
  const timedOut = assert.rejects(p, BacnetTimeoutError);
  await clock.settle();
  assert.equal(server.server.size, 1);
  // the socket fails synchronously when the answer is ready (as dgram does once closed)
  server.transport.send = () => {
    throw new Error('socket is gone');
  };
  release();
  await clock.settle();
  assert.ok(warnings.some((w) => /answering read-property failed: Error: socket is gone/.test(w)), warnings.join(' | '));
  await clock.advance(500);
  await timedOut;
  // a handler still at work when the endpoint closes answers into nothing
  const q = new BacnetEndpoint(net.transport('10.0.0.7', 47808), { clock });
  q.onConfirmed('read-property', () => new Promise(() => undefined));
  q.server.receive({ host: '10.0.0.8', port: 47808 }, '10.0.0.8:47808', {
    type: PduType.CONFIRMED_REQUEST, segmented: false, moreFollows: false, segmentedResponseAccepted: true, maxSegments: 64, maxApdu: 1476, invokeId: 1, service: 12, data: Uint8Array.of(0x0c, 0, 0, 0, 1, 0x19, 85),
  }, clock.now());
  assert.equal(q.server.size, 1);
  await q.close();
  assert.equal(q.server.size, 0);
  await client.close();
  await server.close();
});

test('a malformed request gets the same reject reason from an endpoint handler as from the server', async () => {
  const { clock, client, server } = setup();
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(1)] }));
  const device = new BacnetServer({ device: { instance: 9, name: 'd', vendorId: 1 } });
  // an array index beyond 2^53: parameter-out-of-range; a truncated request: missing-required-parameter
  for (const hex of ['0c0000000119552d08ffffffffffffffff', '0c00000001', '0c00000001195529010000']) {
    const data = Uint8Array.from(Buffer.from(hex, 'hex'));
    const expected = device.handleConfirmed(12, data, { source: { host: '10.0.0.1', port: 47808 }, maxResponse: 1476 });
    assert.equal(expected.kind, 'reject');
    const p = client.confirmedRequestRaw('10.0.0.2', 12, data);
    const r = assert.rejects(p, (e: unknown) => e instanceof BacnetRejectError && e.reason === (expected as { reason: number }).reason);
    await clock.settle();
    await r;
  }
  assert.equal((device.handleConfirmed(12, Uint8Array.from(Buffer.from('0c0000000119552d08ffffffffffffffff', 'hex')), { source: { host: '10.0.0.1', port: 47808 }, maxResponse: 1476 }) as { reason: number }).reason, RejectReason.parameterOutOfRange);
  device.stop();
  await client.close();
  await server.close();
});

test('a DCC disable longer than setTimeout can hold (24.8 days) does not end after a millisecond', async () => {
  const net = new MemoryNet();
  const ep = new BacnetEndpoint(net.transport('10.0.0.3', 47808)); // the system clock
  ep.setCommunication('disable', 40_000 * 60_000); // 40,000 minutes: within DCC's 65,535
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(ep.communicationState, 'disable');
  await ep.close();
});
