/**
 * Segmentation between our client and server endpoints (Clause 5.2/5.4) on the in-memory network:
 * segmented ComplexACKs and segmented requests, windows, lost and duplicated segments, lost
 * SegmentACKs, the peer's max-APDU and max-segments, Abort segmentation-not-supported and
 * apdu-too-long, per-transaction reassembly (two segmented transfers at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint, type BacnetEndpointOptions } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { decodeFrame } from '../../../src/lib/bacnet/frame';
import { PduType, type Apdu } from '../../../src/lib/bacnet/apdu';
import { SegmentReceiver, SegmentSender, splitSegments } from '../../../src/lib/bacnet/segmentation';
import { BacnetAbortError } from '../../../src/lib/bacnet/errors';
import { FakeClock, MemoryNet, type Datagram } from '../../helpers/bacnet-memnet';

function setup(client: BacnetEndpointOptions = {}, server: BacnetEndpointOptions = {}) {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const c = new BacnetEndpoint(net.transport('10.0.0.1', 47808), { clock, ...client });
  const s = new BacnetEndpoint(net.transport('10.0.0.2', 47808), { clock, ...server });
  return { clock, net, client: c, server: s };
}
const apdu = (d: Datagram): Apdu | undefined => decodeFrame(d.data).apdu;
const bigList = (n: number) => Array.from({ length: n }, (_, i) => Value.objectId(i % 60, i));
const dev = { type: 8, instance: 1234 };

async function readList(client: BacnetEndpoint, clock: FakeClock, advance = 0) {
  const p = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: dev, propertyId: 76 });
  p.catch(() => undefined);
  await clock.settle();
  if (advance) await clock.advance(advance);
  return p;
}

test('window arithmetic: sender and receiver agree, NAK on a gap, repeat on duplicates', () => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => i);
  const tx = new SegmentSender(splitSegments(data, 10), 3);
  const rx = new SegmentReceiver(3, 4, { maxSegments: 64, maxBytes: 1 << 20 });
  assert.equal(rx.actualWindow, 3);
  let out = tx.first();
  assert.deepEqual(out.map((s) => s.sequenceNumber), [0]);
  assert.deepEqual(rx.receive(0, out[0]!.data, true), { action: 'ack', sequenceNumber: 0, negative: false });
  out = tx.ack(0, rx.actualWindow) as typeof out;
  assert.deepEqual(out.map((s) => s.sequenceNumber), [1, 2, 3]);
  assert.deepEqual(rx.receive(1, out[0]!.data, true), { action: 'wait' });
  // segment 2 lost: 3 arrives -> NAK naming 1
  assert.deepEqual(rx.receive(3, out[2]!.data, true), { action: 'ack', sequenceNumber: 1, negative: true });
  out = tx.ack(1, 3, true) as typeof out;
  assert.deepEqual(out.map((s) => s.sequenceNumber), [2, 3, 4]);
  rx.receive(2, out[0]!.data, true);
  rx.receive(3, out[1]!.data, true);
  assert.deepEqual(rx.receive(4, out[2]!.data, true), { action: 'ack', sequenceNumber: 4, negative: false });
  // a duplicate of 4 repeats the last ACK; the sender ignores the repeated ACK
  assert.deepEqual(rx.receive(4, out[2]!.data, true), { action: 'ack', sequenceNumber: 4, negative: false });
  const next = tx.ack(4, 3) as typeof out;
  assert.deepEqual(next.map((s) => s.sequenceNumber), [5, 6, 7]);
  assert.deepEqual(tx.ack(4, 3), []);
  assert.equal(tx.ack(9, 3), 'invalid');
  for (const s of next) rx.receive(s.sequenceNumber, s.data, s.moreFollows);
  const last = tx.ack(7, 3) as typeof out;
  assert.deepEqual(last.map((s) => [s.sequenceNumber, s.moreFollows]), [[8, true], [9, false]]);
  rx.receive(8, last[0]!.data, true);
  const done = rx.receive(9, last[1]!.data, false);
  assert.equal(done.action, 'complete');
  assert.deepEqual(done.action === 'complete' ? [...done.data] : [], [...data]);
  assert.deepEqual(tx.ack(9, 3), []);
  assert.equal(tx.done, true);
  // caps
  const small = new SegmentReceiver(16, 16, { maxSegments: 2, maxBytes: 1 << 20 });
  small.receive(0, Uint8Array.of(1), true);
  small.receive(1, Uint8Array.of(1), true);
  assert.equal(small.receive(2, Uint8Array.of(1), true).action, 'abort');
  const bytes = new SegmentReceiver(16, 16, { maxSegments: 256, maxBytes: 5 });
  assert.equal(bytes.receive(0, new Uint8Array(6), true).action, 'abort');
});

test('a 5,000-entry object list comes back as a segmented ComplexACK', async () => {
  const { clock, net, client, server } = setup();
  server.onConfirmed('read-property', (req) => ({ ...req, value: bigList(5000) }));
  net.record = true;
  const ack = await readList(client, clock);
  assert.equal(ack.value.length, 5000);
  assert.deepEqual(ack.value[4999], Value.objectId(4999 % 60, 4999));
  const segs = net.log.map(apdu).filter((a) => a?.type === PduType.COMPLEX_ACK);
  assert.equal(segs.length, Math.ceil((5000 * 5 + 9) / (1476 - 5)));
  assert.ok(segs.every((a) => a?.type === PduType.COMPLEX_ACK && a.segmented));
  assert.equal(server.stats().server.segmentedResponses, 1);
  await client.close();
  await server.close();
});

test('the server segments to the client\'s max APDU (480) and window size', async () => {
  const { clock, net, client, server } = setup({ maxApdu: 480, windowSize: 4 }, { windowSize: 8 });
  server.onConfirmed('read-property', (req) => ({ ...req, value: bigList(500) }));
  net.record = true;
  const ack = await readList(client, clock);
  assert.equal(ack.value.length, 500);
  const log = net.log.map(apdu);
  const segs = log.filter((a) => a?.type === PduType.COMPLEX_ACK);
  for (const d of net.log.filter((x) => apdu(x)?.type === PduType.COMPLEX_ACK)) assert.ok(d.data.length - 6 <= 480, 'APDU within the client max');
  const acks = log.filter((a) => a?.type === PduType.SEGMENT_ACK);
  assert.ok(acks.every((a) => a?.type === PduType.SEGMENT_ACK && a.actualWindowSize === 4 && !a.server));
  // one ACK for segment 0, then one per window of 4, the last one for the final segment
  assert.equal(acks.length, 1 + Math.ceil((segs.length - 1) / 4));
  await client.close();
  await server.close();
});

test('lost and duplicated segments, and a lost SegmentACK, are recovered', async () => {
  const { clock, net, client, server } = setup({ segmentTimeout: 500 }, { segmentTimeout: 500 });
  server.onConfirmed('read-property', (req) => ({ ...req, value: bigList(3000) }));
  const droppedSeq = new Set<number>();
  let droppedAck = false;
  net.drop = (d) => {
    const a = apdu(d);
    if (a?.type === PduType.COMPLEX_ACK && a.segmented && [3, 7, 8].includes(a.sequenceNumber!) && !droppedSeq.has(a.sequenceNumber!)) {
      droppedSeq.add(a.sequenceNumber!);
      return true;
    }
    if (a?.type === PduType.SEGMENT_ACK && a.sequenceNumber === 4 && !droppedAck) return (droppedAck = true);
    return false;
  };
  net.duplicate = (d) => {
    const a = apdu(d);
    return a?.type === PduType.COMPLEX_ACK && a.sequenceNumber === 5;
  };
  const ack = await readList(client, clock, 5000);
  assert.equal(ack.value.length, 3000);
  assert.deepEqual(ack.value.map((v) => (v.type === 'object-identifier' ? v.value.instance : -1)), Array.from({ length: 3000 }, (_, i) => i));
  assert.deepEqual([...droppedSeq].sort((a, b) => a - b), [3, 7, 8]);
  await client.close();
  await server.close();
});

test('segmented requests: a large WritePropertyMultiple is reassembled by the server, with a lost segment', async () => {
  const { clock, net, client, server } = setup({ segmentTimeout: 500, windowSize: 4 }, { segmentTimeout: 500 });
  let got = '';
  server.onConfirmed('write-property-multiple', (req) => {
    got = req.specs.map((s) => (s.values[0]!.value[0] as { value: string }).value).join('');
  });
  const text = 'x'.repeat(200);
  const specs = Array.from({ length: 40 }, (_, i) => ({ objectId: { type: 40, instance: i }, values: [{ propertyId: 85, value: [Value.characterString(text + i)] }] }));
  let lost = false;
  net.drop = (d) => {
    const a = apdu(d);
    if (a?.type === PduType.CONFIRMED_REQUEST && a.segmented && a.sequenceNumber === 2 && !lost) return (lost = true);
    return false;
  };
  net.record = true;
  const p = client.confirmedRequest('10.0.0.2', 'write-property-multiple', { specs });
  p.catch(() => undefined);
  await clock.settle();
  await clock.advance(2000);
  await p;
  assert.equal(got, specs.map((_, i) => text + i).join(''));
  assert.equal(server.stats().server.segmentedRequests, 1);
  const first = net.log.map(apdu).find((a) => a?.type === PduType.CONFIRMED_REQUEST);
  assert.ok(first?.type === PduType.CONFIRMED_REQUEST && first.segmented && first.proposedWindowSize === 4);
  await client.close();
  await server.close();
});

test('a client that does not accept segmentation gets Abort segmentation-not-supported', async () => {
  const { clock, client, server } = setup({ segmentation: 'no-segmentation' });
  server.onConfirmed('read-property', (req) => ({ ...req, value: bigList(1000) }));
  await assert.rejects(readList(client, clock), (e: unknown) => e instanceof BacnetAbortError && e.reasonName === 'segmentation-not-supported' && e.byPeer);
  await client.close();
  await server.close();
});

test('a response needing more segments than the client accepts is aborted (apdu-too-long)', async () => {
  const { clock, client, server } = setup({ maxSegments: 2 });
  server.onConfirmed('read-property', (req) => ({ ...req, value: bigList(1000) }));
  await assert.rejects(readList(client, clock), (e: unknown) => e instanceof BacnetAbortError && e.reasonName === 'apdu-too-long');
  await client.close();
  await server.close();
});

test('a server that does not send segmented responses aborts instead', async () => {
  const { clock, client, server } = setup({}, { segmentation: 'segmented-receive' });
  server.onConfirmed('read-property', (req) => ({ ...req, value: bigList(1000) }));
  await assert.rejects(readList(client, clock), (e: unknown) => e instanceof BacnetAbortError && e.reasonName === 'segmentation-not-supported');
  await client.close();
  await server.close();
});

test('two segmented responses from two servers reassemble independently at the same time', async () => {
  const clock = new FakeClock();
  const net = new MemoryNet();
  const client = new BacnetEndpoint(net.transport('10.0.0.1', 47808), { clock });
  const s1 = new BacnetEndpoint(net.transport('10.0.0.2', 47808), { clock });
  const s2 = new BacnetEndpoint(net.transport('10.0.0.3', 47808), { clock });
  s1.onConfirmed('read-property', (req) => ({ ...req, value: bigList(2000) }));
  s2.onConfirmed('read-property', (req) => ({ ...req, value: bigList(2001).reverse() }));
  const a = client.confirmedRequest('10.0.0.2', 'read-property', { objectId: dev, propertyId: 76 });
  const b = client.confirmedRequest('10.0.0.3', 'read-property', { objectId: dev, propertyId: 76 });
  await clock.settle();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.value.length, 2000);
  assert.equal(rb.value.length, 2001);
  assert.deepEqual(rb.value[0], Value.objectId(2000 % 60, 2000));
  await Promise.all([client.close(), s1.close(), s2.close()]);
});

test('a request too large for a device that does not accept segmented requests fails locally', async () => {
  const { clock, client, server } = setup();
  server.onConfirmed('write-property-multiple', () => undefined);
  const specs = Array.from({ length: 40 }, (_, i) => ({ objectId: { type: 40, instance: i }, values: [{ propertyId: 85, value: [Value.characterString('y'.repeat(100))] }] }));
  const p = client.confirmedRequest('10.0.0.2', 'write-property-multiple', { specs }, { maxApdu: 480, segmentation: 3 });
  p.catch(() => undefined);
  await clock.settle();
  await assert.rejects(p, /exceeds the device's max APDU of 480 octets and the device does not accept segmented requests/);
  await client.close();
  await server.close();
});
