/**
 * The client's fallbacks against raw responders that misbehave on purpose: RPM answers that
 * abort (halving, remembered), devices without RPM or WPM, one request per device, coalesced
 * writes on the wire, shared poll groups, and COV that is refused, silent or short-lived.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetClient } from '../../../../src/lib/bacnet/client/client';
import { clearLearnedLimits } from '../../../../src/lib/bacnet/client/device-state';
import type { CovStatus } from '../../../../src/lib/bacnet/client/cov-manager';
import { BacnetAbortError, BacnetError } from '../../../../src/lib/bacnet/errors';
import { Value } from '../../../../src/lib/bacnet/codec/values';
import type { BacnetEndpoint } from '../../../../src/lib/bacnet/endpoint';
import type { PropertyRef } from '../../../../src/lib/bacnet/client/rpm-budget';
import { openEndpoint } from '../../../helpers/bacnet-client-fixture';

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

async function pair(clientOpts: ConstructorParameters<typeof BacnetClient>[1] = {}): Promise<{ dev: BacnetEndpoint; ep: BacnetEndpoint; client: BacnetClient; addr: string }> {
  clearLearnedLimits();
  const dev = await openEndpoint({ device: { instance: 77, vendorId: 1 } });
  const ep = await openEndpoint();
  const client = new BacnetClient(ep, clientOpts);
  open.push(dev, ep, { close: () => client.close() });
  return { dev, ep, client, addr: `127.0.0.1:${dev.transport.local.port}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pvRefs = (n: number): PropertyRef[] => Array.from({ length: n }, (_, i) => ({ objectId: { type: 2, instance: i }, propertyId: 85 }));

test('RPM answers that abort with buffer-overflow: the batch is halved until it fits, and the size is remembered', async () => {
  const { dev, client, addr } = await pair({ perDevice: 4 });
  const sizes: number[] = [];
  let aborts = 0;
  dev.onConfirmed('read-property-multiple', (req) => {
    const n = req.specs.reduce((a, s) => a + s.properties.length, 0);
    sizes.push(n);
    if (n > 10) {
      aborts++;
      throw new BacnetAbortError('buffer-overflow');
    }
    return { results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(s.objectId.instance / 2)] })) })) };
  });
  const res = await client.readMany(addr, pvRefs(200));
  assert.deepEqual(res.map((r) => r.value?.[0]), pvRefs(200).map((_, i) => Value.real(i / 2)), 'every value, in order, none wrong');
  assert.ok(aborts >= 1);
  const budget = client.state(await client.resolve(addr)).rpmBudget!;
  assert.ok(budget > 0 && budget < 1476);
  sizes.length = 0;
  aborts = 0;
  await client.readMany(addr, pvRefs(200));
  assert.equal(aborts, 0, 'the learned size is used straight away');
  assert.ok(Math.max(...sizes) <= 10);
  // a new client in this process (a redeploy) starts from what was learned
  const ep2 = await openEndpoint();
  const c2 = new BacnetClient(ep2);
  open.push(ep2, { close: () => c2.close() });
  await c2.readMany(addr, pvRefs(50));
  assert.equal(aborts, 0);
});

test('a device without RPM (Reject unrecognized-service) is read by ReadProperty, one request at a time', async () => {
  const { dev, client, addr } = await pair();
  let inFlight = 0;
  let maxInFlight = 0;
  dev.onConfirmed('read-property', async (req) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(2);
    inFlight--;
    if (req.objectId.instance === 3) throw new BacnetError('object', 'unknown-object');
    return { ...req, value: [Value.real(req.objectId.instance)] };
  });
  const res = await client.readMany(addr, pvRefs(20));
  assert.equal(client.state(await client.resolve(addr)).rpm, false);
  assert.equal(res[5]!.value![0]!.type === 'real' && res[5]!.value![0]!.value, 5);
  assert.match(res[3]!.error!.message, /unknown-object/);
  assert.equal(maxInFlight, 1, 'one outstanding request per device by default');
});

test('repeated writes to one point while the device is busy: the first and the latest reach it', async () => {
  const { dev, client, addr } = await pair();
  const got: number[] = [];
  dev.onConfirmed('write-property', async (req) => {
    await sleep(20);
    got.push(req.value[0]!.type === 'real' ? req.value[0]!.value : NaN);
  });
  const ps = [1, 2, 3, 4, 5].map((v) => client.writeProperty(addr, 'av:1', 'pv', v, { priority: 8 }));
  await Promise.all(ps);
  assert.deepEqual(got, [1, 5]);
});

test('WPM not executed: the writes go one by one as WriteProperty', async () => {
  const { dev, client, addr } = await pair();
  const got: string[] = [];
  dev.onConfirmed('write-property', (req) => void got.push(`${req.objectId.instance}:${req.propertyId}@${req.priority ?? '-'}`));
  await client.writePropertyMultiple(addr, [{ objectId: 'av:1', propertyId: 'pv', value: 1, priority: 8 }, { objectId: 'av:2', propertyId: 'description', value: 'x' }]);
  assert.deepEqual(got, ['1:85@8', '2:28@-']);
  assert.equal(client.state(await client.resolve(addr)).wpm, false);
});

test('poll groups: two members on one device share one RPM per cycle with the union of their points', async () => {
  const { dev, client, addr } = await pair();
  const requests: number[] = [];
  dev.onConfirmed('read-property-multiple', (req) => {
    requests.push(req.specs.reduce((a, s) => a + s.properties.length, 0));
    return { results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(s.objectId.instance)] })) })) };
  });
  const a: number[][] = [];
  const b: number[][] = [];
  const ha = client.polls.add(addr, pvRefs(6), 100, (r) => a.push(r.map((x) => (x.value![0] as { value: number }).value)));
  const hb = client.polls.add(addr, pvRefs(10).slice(4), 100, (r) => b.push(r.map((x) => (x.value![0] as { value: number }).value)));
  await sleep(260);
  ha.stop();
  hb.stop();
  assert.ok(a.length >= 2 && b.length >= 2);
  assert.deepEqual(a[0], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(b.at(-1), [4, 5, 6, 7, 8, 9]);
  assert.ok(requests.includes(10), 'a cycle reads the 10 distinct points once');
  assert.equal(client.polls.size, 0);
});

test('COV refused (no-space-to-add-list-element): the point is polled and the status says why', async () => {
  const { dev, client, addr } = await pair({ cov: { pollInterval: 80 } });
  dev.onConfirmed('subscribe-cov', () => {
    throw new BacnetError('resources', 'no-space-to-add-list-element');
  });
  dev.onConfirmed('read-property-multiple', (req) => ({ results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: p.propertyId === 85 ? [Value.real(7.5)] : [Value.bitString([false, false, false, false])] })) })) }));
  const states: CovStatus[] = [];
  const values: unknown[] = [];
  const sub = client.cov.subscribe({ device: addr, objectId: 'ai:1', processId: 5 }, { values: (vs, source) => values.push([source, vs[0]!.value]), status: (s) => states.push(s) });
  await sleep(250);
  assert.equal(sub.mode, 'polling');
  assert.match(states.at(-1)!.reason!, /COV refused: resources: no-space-to-add-list-element/);
  assert.deepEqual(values[0], ['poll', [Value.real(7.5)]]);
  await sub.cancel();
  assert.equal(client.polls.size, 0);
});

test('COV accepted but no notification: polling after the notify timeout; back to COV when one arrives', async () => {
  const { dev, ep, client, addr } = await pair({ cov: { pollInterval: 60, notifyTimeout: 150 } });
  let subscribed = 0;
  dev.onConfirmed('subscribe-cov', () => void subscribed++);
  dev.onConfirmed('read-property-multiple', (req) => ({ results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(1)] })) })) }));
  const sources: string[] = [];
  const sub = client.cov.subscribe({ device: addr, objectId: 'ai:1', processId: 6 }, { values: (_vs, source) => sources.push(source) });
  await sleep(300);
  assert.equal(subscribed, 1);
  assert.equal(sub.mode, 'polling');
  assert.match(sub.reason!, /no COV notification after subscribing/);
  assert.ok(sources.includes('poll'));
  await dev.unconfirmedRequest(`127.0.0.1:${ep.transport.local.port}`, 'unconfirmed-cov-notification', {
    subscriberProcessId: 6, initiatingDeviceId: { type: 8, instance: 77 }, monitoredObjectId: { type: 0, instance: 1 }, timeRemaining: 250, values: [{ propertyId: 85, value: [Value.real(2)] }],
  });
  await sleep(50);
  assert.equal(sub.mode, 'cov');
  assert.equal(sources.at(-1), 'cov');
  await sub.cancel();
});

test('a COV subscription with no usable poll fallback interval is refused when it is created', async () => {
  const { client, addr } = await pair();
  for (const pollInterval of [0, -5, Number.NaN, Infinity]) {
    assert.throws(() => client.cov.subscribe({ device: addr, objectId: 'ai:1', processId: 8, pollInterval }, { values: () => undefined }), RangeError, String(pollInterval));
  }
  const bad = await pair({ cov: { pollInterval: 0 } });
  assert.throws(() => bad.client.cov.subscribe({ device: bad.addr, objectId: 'ai:1', processId: 8 }, { values: () => undefined }), /poll fallback interval/);
  assert.equal(client.cov.size + bad.client.cov.size, 0, 'nothing was set up');
});

test('a short lifetime is renewed before it runs out; cancel sends the cancellation', async () => {
  const { dev, ep, client, addr } = await pair({ cov: { lifetime: 1, renewAt: 0.5 } });
  const reqs: Array<{ lifetime?: number }> = [];
  dev.onConfirmed('subscribe-cov', (req, ctx) => {
    reqs.push(req);
    if (req.lifetime !== undefined) {
      void dev.unconfirmedRequest(ctx.source, 'unconfirmed-cov-notification', {
        subscriberProcessId: req.subscriberProcessId, initiatingDeviceId: { type: 8, instance: 77 }, monitoredObjectId: req.monitoredObjectId, timeRemaining: 1, values: [{ propertyId: 85, value: [Value.real(3)] }],
      });
    }
  });
  void ep;
  const sub = client.cov.subscribe({ device: addr, objectId: 'ai:1', processId: 7 }, { values: () => undefined });
  await sleep(1300);
  assert.ok(reqs.length >= 3, `subscribed and renewed (${reqs.length} requests)`);
  assert.ok(reqs.every((r) => r.lifetime === 1));
  await sub.cancel();
  assert.equal(reqs.at(-1)!.lifetime, undefined, 'both optional parameters absent: cancellation');
});

test('duplicate device instances are reported with both addresses, never silently replaced', async () => {
  clearLearnedLimits();
  const a = await openEndpoint({ device: { instance: 4242, vendorId: 1 } });
  const b = await openEndpoint({ device: { instance: 4242, vendorId: 2 } });
  const ep = await openEndpoint();
  const client = new BacnetClient(ep);
  open.push(a, b, ep, { close: () => client.close() });
  const first = await client.whoIs({ address: `127.0.0.1:${a.transport.local.port}`, timeout: 300 });
  assert.deepEqual(first.map((d) => d.address.port), [a.transport.local.port]);
  await client.whoIs({ address: `127.0.0.1:${b.transport.local.port}`, timeout: 300 });
  assert.equal(client.duplicates.length, 1);
  assert.match(client.duplicates[0]!.text, new RegExp(`duplicate device instance 4242: answered from 127\\.0\\.0\\.1:${a.transport.local.port} and from 127\\.0\\.0\\.1:${b.transport.local.port}`));
  const r = await client.resolve(4242);
  assert.equal(r.address.port, a.transport.local.port, 'the first address is kept');
  const { discoverDevices } = await import('../../../../src/lib/bacnet/client/discovery');
  const listed = await discoverDevices(client, { address: `127.0.0.1:${a.transport.local.port}`, timeout: 300 });
  assert.deepEqual(listed[0]!.conflicts, [`127.0.0.1:${b.transport.local.port}`]);
});

test('devices behind a router: logical key network:MAC, one request in flight per routed network', async () => {
  const ep = await openEndpoint();
  const client = new BacnetClient(ep);
  open.push(ep, { close: () => client.close() });
  const d1 = await client.resolve({ network: 5, mac: '07', host: '127.0.0.1', port: 9 });
  const d2 = await client.resolve({ instance: 12, address: { network: 5, mac: Uint8Array.of(8), host: '127.0.0.1', port: 9 } });
  assert.equal(d1.key, '5:07');
  assert.equal(d2.key, '5:08');
  assert.equal(d1.networkKey, '127.0.0.1:9|5');
  assert.equal(d1.networkKey, d2.networkKey, 'both share the gate of network 5 behind that router');
  assert.match(d2.label, /device 12 \(network 5 MAC 08 via 127\.0\.0\.1:9\)/);
});
