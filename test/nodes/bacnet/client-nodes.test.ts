/**
 * bacnet-device, bacnet-read and bacnet-write in the Node-RED runtime against our server on
 * loopback (a bacnet-network on interface lo, port 0): read on input (per point, per device,
 * msg points, partial failure to Catch), polling, COV (cancelled on close), Who-Is by broadcast
 * on loopback and directed, the point dump, writes with priority / relinquish / read-back / WPM,
 * bad input and unreachable devices to Catch, the admin endpoints, and close/redeploy without
 * leaked sockets or timers; names and units per device with msg.device; no status after close;
 * the device config's address checks.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { type FlowNode, type NodeModuleFn, collectMessages, getNode, helper, loadFlow, nextMessage, nodeModule, unload, waitForCall } from '../../helpers/nodered';
import type { NodeMessage } from '../../../nodes/shared/red';
import { deviceTarget } from '../../../nodes/shared/bacnet';
import { type DeviceFixture, startDevice } from '../../helpers/bacnet-client-fixture';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { ObjectType as O } from '../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { clearLearnedLimits } from '../../../src/lib/bacnet/client/device-state';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchModule = require('@node-red/nodes/core/common/25-catch.js') as NodeModuleFn;
const mods = [nodeModule('config/bacnet-network'), nodeModule('config/bacnet-device'), nodeModule('bacnet-read'), nodeModule('bacnet-write'), catchModule];

let dev: DeviceFixture;
const INSTANCE = 2601;

before(async () => {
  dev = await startDevice({ instance: INSTANCE });
  const s = dev.server;
  s.addObject(O.analogInput, { instance: 1, name: 'Zone temp', description: 'room 1', values: [[P.presentValue, [Value.real(21.5)]], [P.units, [Value.enumerated(62)]], [P.covIncrement, [Value.real(0.1)]]] });
  s.addObject(O.analogValue, { instance: 1, name: 'Setpoint', commandable: true, values: [[P.presentValue, [Value.real(20)]], [P.units, [Value.enumerated(62)]]] });
  s.addObject(O.binaryValue, { instance: 1, name: 'Fan', commandable: true });
  s.addObject(O.multiStateValue, { instance: 1, name: 'Mode', commandable: true, values: [[P.numberOfStates, [Value.unsigned(3)]]] });
});
after(async () => {
  await dev?.close();
});
afterEach(async () => {
  await unload();
  clearLearnedLimits();
});

function flow(nodes: Array<Record<string, unknown>>, device: Record<string, unknown> = {}, network: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'net', type: 'bacnet-network', interface: 'lo', port: 0, destinationPort: dev.port, deviceInstance: 4194300, apduTimeout: 500, retries: 1, ...network },
    { id: 'dev', type: 'bacnet-device', network: 'net', addressing: 'address', address: dev.addr, instance: INSTANCE, ...device },
    ...nodes.map((n) => ({ z: 'tab', wires: [['out']], ...n }) as unknown as FlowNode),
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

const errorOf = (m: NodeMessage): string => String((m.error as { message?: string } | undefined)?.message);

test('read on input: one msg per point with topic, value and metadata; msg points; partial failure to Catch', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'read', points: [{ object: 'ai:1', name: 'Zone' }, { object: 'analog-value:1' }, { object: 'bv:1' }] }]));
  const msgs = collectMessages(getNode('out'), 3);
  getNode('r').receive({ payload: 'go', keep: 'me' });
  const [a, b, c] = await msgs;
  assert.equal(a!.topic, 'Zone');
  assert.equal(a!.payload, 21.5);
  assert.equal(a!.keep, 'me');
  const ab = a!.bacnet as Record<string, unknown>;
  assert.equal(ab.device, INSTANCE);
  assert.equal(ab.address, dev.addr);
  assert.equal(ab.objectId, 'analog-input:1');
  assert.equal(ab.property, 'present-value');
  assert.equal(ab.units, 'degrees-celsius');
  assert.equal(ab.unitSymbol, '°C');
  assert.deepEqual(ab.statusFlags, { inAlarm: false, fault: false, overridden: false, outOfService: false });
  assert.equal(ab.reliability, 'no-fault-detected');
  assert.equal(typeof ab.timestamp, 'number');
  assert.equal(b!.topic, 'Setpoint', 'the object name when the list gives none');
  assert.equal(b!.payload, 20);
  assert.equal(c!.topic, 'Fan');
  assert.equal(c!.payload, false);
  await waitForCall(getNode('r'), 'status', (s) => /^online · /.test(String((s[0] as { text?: string }).text)));
  // points in the msg, in the usual spellings; one unknown object fails alone
  const two = collectMessages(getNode('out'), 2);
  const caught = nextMessage(getNode('caught'));
  getNode('r').receive({ points: ['analogValue:1', { type: 'msv', instance: 1, property: 'pv' }, 'ai:99'] });
  const [x, y] = await two;
  assert.deepEqual([x!.topic, x!.payload, y!.topic, y!.payload], ['Setpoint', 20, 'Mode', 1]);
  assert.match(errorOf(await caught), /1 point\(s\) could not be read: analog-input:99: BACnet error: object: unknown-object/);
});

test('one msg per device read, keyed by point name', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'read', output: 'device', points: [{ object: 'ai:1', name: 'Zone' }, { object: 'av:1', name: 'SP' }] }]));
  const p = nextMessage(getNode('out'));
  getNode('r').receive({});
  const m = await p;
  assert.deepEqual(m.payload, { Zone: 21.5, SP: 20 });
  const pts = (m.bacnet as { points: Record<string, { objectId: string; units: string }> }).points;
  assert.equal(pts.SP!.objectId, 'analog-value:1');
  assert.equal(pts.Zone!.units, 'degrees-celsius');
});

test('msg.device: names, units and the per-device msg are those of the device read', async () => {
  const other = await startDevice({ instance: INSTANCE + 1 });
  other.server.addObject(O.analogInput, { instance: 1, name: 'Outside air', values: [[P.presentValue, [Value.real(5)]], [P.units, [Value.enumerated(64)]]] });
  try {
    await loadFlow(mods, flow([
      { id: 'r', type: 'bacnet-read', device: 'dev', mode: 'read', points: [{ object: 'ai:1' }] },
      { id: 'rd', type: 'bacnet-read', device: 'dev', mode: 'read', output: 'device', points: [{ object: 'ai:1' }, { object: 'av:1' }] },
    ]));
    let p = nextMessage(getNode('out'));
    getNode('r').receive({});
    let m = await p;
    assert.deepEqual([m.topic, m.payload, (m.bacnet as { units: string }).units], ['Zone temp', 21.5, 'degrees-celsius']);
    p = nextMessage(getNode('out'));
    getNode('r').receive({ device: other.addr });
    m = await p;
    const b = m.bacnet as Record<string, unknown>;
    assert.deepEqual([m.topic, m.payload, b.units, b.unitSymbol, b.address], ['Outside air', 5, 'degrees-fahrenheit', '°F', other.addr]);
    p = nextMessage(getNode('out'));
    getNode('rd').receive({});
    assert.deepEqual((await p).payload, { 'Zone temp': 21.5, Setpoint: 20 });
    p = nextMessage(getNode('out'));
    getNode('rd').receive({ device: other.addr, points: ['ai:1'] });
    assert.deepEqual((await p).payload, { 'Outside air': 5 }, 'nothing of the configured device');
  } finally {
    await unload();
    await other.close();
  }
});

test('poll: every interval, only changes when asked', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'poll', interval: 0.15, emit: 'change', points: [{ object: 'ai:1', name: 'Zone' }] }]));
  const first = await nextMessage(getNode('out'));
  assert.equal(first.payload, 21.5);
  assert.equal((first.bacnet as { source: string }).source, 'poll');
  let extra = 0;
  const count = (): void => void extra++;
  getNode('out').on('input', count);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(extra, 0, 'no msg while nothing changes');
  const next = nextMessage(getNode('out'));
  dev.server.find('Zone temp')!.setLocal(P.presentValue, [Value.real(23)]);
  assert.equal((await next).payload, 23);
  dev.server.find('Zone temp')!.setLocal(P.presentValue, [Value.real(21.5)]);
  getNode('out').removeListener('input', count);
});

test('COV: values arrive on change; closing the node cancels the subscription on the device', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'cov', covLifetime: 60, covConfirmed: true, points: [{ object: 'ai:1', name: 'Zone' }] }]));
  const first = await nextMessage(getNode('out'));
  assert.deepEqual([first.topic, first.payload, (first.bacnet as { source: string }).source], ['Zone', 21.5, 'cov']);
  assert.equal(dev.server.cov.size, 1);
  await waitForCall(getNode('r'), 'status', (s) => /COV · 1 point/.test(String((s[0] as { text?: string }).text)));
  const next = nextMessage(getNode('out'));
  dev.server.find('Zone temp')!.setLocal(P.presentValue, [Value.real(25.25)]);
  assert.equal((await next).payload, 25.25);
  dev.server.find('Zone temp')!.setLocal(P.presentValue, [Value.real(21.5)]);
  await unload();
  for (let i = 0; i < 50 && dev.server.cov.size; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(dev.server.cov.size, 0);
});

test('discovery: Who-Is by broadcast on loopback and directed; the device point dump', async () => {
  await loadFlow(mods, flow([
    { id: 'w', type: 'bacnet-read', network: 'net', mode: 'whois', whoisTimeout: 0.5 },
    { id: 'd', type: 'bacnet-read', device: 'dev', mode: 'dump' },
  ]));
  let p = nextMessage(getNode('out'));
  getNode('w').receive({});
  let m = await p;
  const found = m.payload as Array<Record<string, unknown>>;
  const me = found.find((d) => d.instance === INSTANCE);
  assert.ok(me, `broadcast Who-Is found ${JSON.stringify(found)}`);
  assert.equal(me.name, 'fixture device');
  assert.equal(me.address, dev.addr);
  assert.equal(me.vendorName, 'Fieldlink tests');
  p = nextMessage(getNode('out'));
  getNode('w').receive({ payload: { address: dev.addr, low: INSTANCE, high: INSTANCE, timeout: 0.5 } });
  m = await p;
  assert.deepEqual((m.payload as Array<{ instance: number }>).map((d) => d.instance), [INSTANCE]);
  p = nextMessage(getNode('out'));
  getNode('d').receive({});
  m = await p;
  const points = m.payload as Array<Record<string, unknown>>;
  assert.equal(points.length, dev.server.db.size);
  assert.deepEqual(points.find((x) => x.id === 'analog-input:1'), { id: 'analog-input:1', type: 'analog-input', instance: 1, name: 'Zone temp', description: 'room 1', units: 'degrees-celsius', unitSymbol: '°C', presentValue: 21.5 });
  assert.equal(m.topic, 'fixture device');
});

test('write: typed values, priority, NULL relinquish, msg.relinquish, read-back, WPM', async () => {
  await loadFlow(mods, flow([
    { id: 'w', type: 'bacnet-write', device: 'dev', object: 'analog-value:1', property: 'present-value', priority: 8, readBack: true },
    { id: 'b', type: 'bacnet-write', device: 'dev', object: 'bv:1', priority: 16 },
  ]));
  let p = nextMessage(getNode('out'));
  getNode('w').receive({ payload: 23.5 });
  let m = await p;
  let bn = m.bacnet as Record<string, unknown>;
  assert.deepEqual([bn.objectId, bn.property, bn.value, bn.valueType, bn.priority, bn.relinquished], ['analog-value:1', 'present-value', 23.5, 'real', 8, false]);
  const rb = bn.readBack as { presentValue: number; priorityArray: unknown[]; relinquishDefault: number };
  assert.equal(rb.presentValue, 23.5);
  assert.equal(rb.priorityArray[7], 23.5);
  p = nextMessage(getNode('out'));
  getNode('w').receive({ payload: 30, priority: 5 });
  await p;
  p = nextMessage(getNode('out'));
  getNode('w').receive({ payload: null, priority: 5 });
  m = await p;
  bn = m.bacnet as Record<string, unknown>;
  assert.equal(bn.relinquished, true);
  assert.equal((bn.readBack as { presentValue: number }).presentValue, 23.5, 'priority 8 governs again');
  p = nextMessage(getNode('out'));
  getNode('w').receive({ payload: 99, relinquish: true });
  m = await p;
  assert.equal(((m.bacnet as Record<string, unknown>).readBack as { presentValue: number }).presentValue, 20, 'back to the relinquish default');
  p = nextMessage(getNode('out'));
  getNode('b').receive({ payload: 'on' });
  m = await p;
  assert.equal((m.bacnet as { valueType: string }).valueType, 'enumerated');
  assert.deepEqual(dev.server.find('Fan')!.read(P.presentValue), [Value.enumerated(1)]);
  p = nextMessage(getNode('out'));
  getNode('b').receive({ payload: [{ object: 'msv:1', value: 3, priority: 10 }, { object: 'av:1', property: 'description', value: 'via WPM' }] });
  m = await p;
  assert.equal((m.bacnet as { service: string }).service, 'write-property-multiple');
  assert.deepEqual(dev.server.find('Mode')!.read(P.presentValue), [Value.unsigned(3)]);
  assert.deepEqual(dev.server.find('Setpoint')!.read(P.description), [Value.characterString('via WPM')]);
});

test('bad input and device errors reach Catch in words; the flow goes on', async () => {
  await loadFlow(mods, flow([
    { id: 'w', type: 'bacnet-write', device: 'dev', object: 'av:1', priority: 16 },
    { id: 'r', type: 'bacnet-read', device: 'dev', mode: 'read', points: [{ object: 'ai:1' }] },
  ]));
  const cases: Array<[string, NodeMessage, RegExp]> = [
    ['w', { payload: 'warm' }, /expected a number for present-value of analog-value, got 'warm'/],
    ['w', { payload: 1, priority: 17 }, /msg\.priority 17 is outside 1\.\.16/],
    ['w', { payload: 1, bacnet: { object: 'ai:1' } }, /writing analog-input:1 at device 2601 .* failed: BACnet error: property: write-access-denied/],
    ['w', { payload: 1, bacnet: { object: 'nonsense:1' } }, /unknown object type "nonsense"/],
    ['w', { payload: 1, bacnet: { property: 'no-such-property' } }, /unknown property "no-such-property"/],
    ['r', { points: ['ai:1.bogus'] }, /unknown property "bogus"/],
  ];
  for (const [id, msg, re] of cases) {
    const p = nextMessage(getNode('caught'));
    getNode(id).receive(msg);
    assert.match(errorOf(await p), re);
  }
  const ok = nextMessage(getNode('out'));
  getNode('r').receive({});
  assert.equal((await ok).payload, 21.5);
});

test('a write that ends after the node closed sets no status', async () => {
  const unreachable = [{ address: '127.0.0.1:9' }, { apduTimeout: 300, retries: 0 }] as const;
  await loadFlow(mods, flow([{ id: 'w', type: 'bacnet-write', device: 'dev', object: 'av:1' }], ...unreachable));
  const w = getNode('w');
  w.receive({ payload: 1 });
  await new Promise((r) => setTimeout(r, 50));
  // remove the node (unload would also take the spies away)
  await helper.setFlows(flow([], ...unreachable), 'nodes');
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(w.status.lastCall?.args, [{}], 'the status close cleared stays clear');
});

test('an unreachable device: no reply in words, offline status', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'read', points: [{ object: 'ai:1' }] }], { address: '127.0.0.1:9' }, { apduTimeout: 150, retries: 0 }));
  const p = nextMessage(getNode('caught'));
  getNode('r').receive({});
  assert.match(errorOf(await p), /no reply from 127\.0\.0\.1:9/);
  await waitForCall(getNode('r'), 'status', (s) => /^offline: no reply/.test(String((s[0] as { text?: string }).text)));
});

test('admin endpoints: Who-Is scan with names, the point browser, 404 before deploy', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'read', points: [{ object: 'ai:1' }] }]));
  const scan = await helper.request().get(`/bacnet-device/discover?network=net&address=${dev.addr}&timeout=0.5`);
  assert.equal(scan.status, 200, scan.text);
  const devices = scan.body as Array<Record<string, unknown>>;
  assert.equal(devices[0]!.instance, INSTANCE);
  assert.equal(devices[0]!.name, 'fixture device');
  const pts = await helper.request().get('/bacnet-device/points?device=dev');
  assert.equal(pts.status, 200, pts.text);
  const body = pts.body as { device: { name: string; servicesSupported: string[] }; points: Array<Record<string, unknown>> };
  assert.equal(body.device.name, 'fixture device');
  assert.ok(body.points.some((x) => x.name === 'Setpoint' && x.units === 'degrees-celsius' && x.type === 'analog-value'));
  const byFields = await helper.request().get(`/bacnet-device/points?network=net&addressing=instance&instance=${INSTANCE}&address=${dev.addr}`);
  assert.equal(byFields.status, 200, byFields.text);
  const missing = await helper.request().get('/bacnet-device/discover?network=nope');
  assert.equal(missing.status, 404);
  assert.match((missing.body as { error: string }).error, /deploy/);
  const bad = await helper.request().get('/bacnet-device/points?network=net&addressing=address');
  assert.equal(bad.status, 400);
});

test('bad configuration leaves an inert node with a red status', async () => {
  await loadFlow(mods, flow([{ id: 'r', type: 'bacnet-read', device: 'dev', mode: 'poll', points: [] }]));
  await waitForCall(getNode('r'), 'status', (s) => (s[0] as { text?: string }).text === 'bad configuration');
  await waitForCall(getNode('r'), 'error', (a) => /polling needs at least one point/.test(String(a[0])));
});

test('close and redeploy leave no sockets or timers behind', async () => {
  const resources = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
    return out;
  };
  const base = resources();
  const nodes = [
    { id: 'p', type: 'bacnet-read', device: 'dev', mode: 'poll', interval: 0.1, points: [{ object: 'ai:1' }] },
    { id: 'c2', type: 'bacnet-read', device: 'dev', mode: 'cov', points: [{ object: 'av:1' }] },
    { id: 'w', type: 'bacnet-write', device: 'dev', object: 'av:1' },
  ];
  await loadFlow(mods, flow(nodes));
  await nextMessage(getNode('out'));
  await helper.setFlows(flow(nodes.map((n) => ({ ...n, name: 'again' }))), 'nodes');
  await nextMessage(getNode('out'));
  await unload();
  await new Promise((r) => setTimeout(r, 150));
  const now = resources();
  for (const k of ['UDPWrap', 'Timeout']) assert.ok((now[k] ?? 0) <= (base[k] ?? 0), `${k}: ${now[k]} after vs ${base[k]} before`);
  assert.equal(dev.server.cov.size, 0);
});

test('device addresses are checked: octets and port range; a router without port gets none', () => {
  assert.deepEqual(deviceTarget({ addressing: 'address', address: '127.0.0.5:47809' }).ref, '127.0.0.5:47809');
  assert.deepEqual(deviceTarget({ addressing: 'routed', dnet: 5, mac: '07', router: '127.0.0.5' }).ref, { network: 5, mac: '07', host: '127.0.0.5' });
  assert.deepEqual(deviceTarget({ addressing: 'routed', dnet: 5, mac: '07', router: '127.0.0.5:47809' }).ref, { network: 5, mac: '07', host: '127.0.0.5', port: 47809 });
  for (const address of ['127.0.0', '300.0.0.1', '127.0.0.5:0', '127.0.0.5:70000']) {
    assert.throws(() => deviceTarget({ addressing: 'address', address }), /address '.*' must be an IPv4 address with an optional port, e\.g\. 192\.168\.1\.20:47808/, address);
    assert.throws(() => deviceTarget({ addressing: 'routed', dnet: 5, mac: '07', router: address }), /router '.*' must be an IPv4 address with an optional port/, address);
  }
});
