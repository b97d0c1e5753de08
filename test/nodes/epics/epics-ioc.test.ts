/**
 * epics-ioc inside the Node-RED runtime: editor-defined PVs readable by libca (pyepics) and by
 * our raw client, msg updates firing monitors, alarm and metadata through msg.epics, create /
 * remove / get by msg, remote puts coming out as msgs, bad input reaching Catch, and redeploy
 * releasing the port and every handle.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { loadFlow, unload, getNode, nextMessage, waitForCall, helper, nodeModule, type NodeModuleFn, type FlowNode } from '../../helpers/nodered';
import { peerSkip } from '../../helpers/env';
import { RawClient } from '../../unit/epics/ca/rawclient';
import { PyCa, havePyepics } from '../../interop/epics/pyca';
import {
  DBR, DBE, ECA, encodeVersion, encodeHostName, encodeClientName, encodeCreateChanRequest, encodeReadNotifyRequest,
  encodeEventAddRequest, encodeWriteNotifyRequest, type CaResponse,
} from '../../../src/lib/epics/ca';
import { rowToDefinition, parseValueText } from '../../../nodes/epics-ioc/epics-ioc';

const catchModule = require('@node-red/nodes/core/common/25-catch.js') as NodeModuleFn;
const iocModule = nodeModule('epics-ioc');
const mods = [iocModule, catchModule];

afterEach(() => unload());

const PVS = [
  { name: 'COUNTER', type: 'LONG', count: 1, value: '0', units: 'counts', writable: false },
  { name: 'SETPOINT', type: 'DOUBLE', count: 1, value: '21.5', units: 'degC', precision: '2', writable: true, displayLow: '-20', displayHigh: '100', alarmLow: '-10', alarmHigh: '90', warningLow: '0', warningHigh: '80', controlLow: '-20', controlHigh: '100' },
  { name: 'MODE', type: 'ENUM', count: 1, value: 'Idle', enums: 'Idle, Running, Paused, Fault', writable: true },
  { name: 'WAVEFORM', type: 'DOUBLE', count: 100, value: '[1,2,3]', precision: '3', writable: false },
  { name: 'MESSAGE', type: 'STRING', count: 1, value: 'hello from Node-RED', writable: true },
];

function flow(extra: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'ioc', z: 'tab', type: 'epics-ioc', name: '', prefix: 'NT:DEMO:', port: 0, bind: '127.0.0.1', beaconAddresses: '', pvs: PVS, wires: [['out']], ...extra },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

/** The TCP port the node serves on, from its status text (": <port>"). */
async function servedPort(id = 'ioc'): Promise<number> {
  const args = await waitForCall(getNode(id), 'status', (a) => /:\d+$/.test(String((a[0] as { text?: string }).text ?? '')));
  return Number(/:(\d+)$/.exec(String((args[0] as { text: string }).text))![1]);
}

async function channel(c: RawClient, name: string): Promise<number> {
  const from = c.received.length;
  c.send(encodeCreateChanRequest({ cid: from + 1, name }));
  const r = await c.next('CreateChanResponse', from);
  return r.sid;
}

async function readValue(c: RawClient, sid: number, dataType: number): Promise<Extract<CaResponse, { kind: 'ReadNotifyResponse' }>> {
  const ioid = 1000 + c.received.length;
  c.send(encodeReadNotifyRequest({ sid, ioid, dataType, count: 0 }));
  await c.until((r) => r.some((m) => m.kind === 'ReadNotifyResponse' && m.ioid === ioid));
  return c.all('ReadNotifyResponse').find((m) => m.ioid === ioid)!;
}

test('editor rows become PV definitions; value text parsing', () => {
  const d = rowToDefinition(PVS[1]!, 'P:');
  assert.deepEqual(d, {
    name: 'P:SETPOINT', type: 6, count: 1, writable: true, value: 21.5, units: 'degC', precision: 2,
    limits: { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } },
  });
  assert.deepEqual(rowToDefinition(PVS[2]!, '').enumStrings, ['Idle', 'Running', 'Paused', 'Fault']);
  assert.deepEqual(parseValueText('1, 2, 3', 6, 10), [1, 2, 3]);
  assert.equal(parseValueText('hello', 4, 20), 'hello');
  assert.equal(parseValueText(' text ', 0, 1), ' text ');
  assert.equal(parseValueText('Running', 3, 1), 'Running');
  assert.throws(() => rowToDefinition({ name: 'X', type: 'QUAD' }, ''), /unknown type/);
  assert.throws(() => rowToDefinition({ name: '', type: 'DOUBLE' }, ''), /no name/);
  assert.throws(() => rowToDefinition({ name: 'X', type: 'DOUBLE', precision: 'abc' }, ''), /not a number/);
});

test('editor PVs are served; msgs update them and fire monitors; metadata and alarms by msg.epics', async () => {
  await loadFlow(mods, flow());
  const port = await servedPort();
  const c = await RawClient.connect(port);
  c.send(encodeVersion(), encodeHostName('nodetest'), encodeClientName('tester'));
  const sp = await channel(c, 'NT:DEMO:SETPOINT');
  const ctrl = (await readValue(c, sp, DBR.CTRL_DOUBLE)).data!;
  assert.deepEqual(Array.from(ctrl.value as Float64Array), [21.5]);
  assert.equal(ctrl.units, 'degC');
  assert.equal(ctrl.precision, 2);
  assert.deepEqual(ctrl.limits!.control, { low: -20, high: 100 });
  const wf = await channel(c, 'NT:DEMO:WAVEFORM');
  assert.deepEqual(Array.from((await readValue(c, wf, DBR.DOUBLE)).data!.value as Float64Array), [1, 2, 3]);

  const cnt = await channel(c, 'NT:DEMO:COUNTER');
  const from = c.received.length;
  c.send(encodeEventAddRequest({ sid: cnt, subscriptionId: 1, dataType: DBR.TIME_LONG, count: 0, mask: DBE.VALUE | DBE.ALARM | DBE.PROPERTY }));
  await c.next('EventAddResponse', from);
  const ioc = getNode('ioc');
  ioc.receive({ topic: 'NT:DEMO:COUNTER', payload: 5 });
  ioc.receive({ topic: 'COUNTER', payload: 6 }); // the prefix may be left out
  ioc.receive({ topic: 'COUNTER', epics: { severity: 'MAJOR', status: 'HIHI' } });
  ioc.receive({ payload: { 'NT:DEMO:COUNTER': 7, MESSAGE: 'bulk' } });
  await c.until(() => c.all('EventAddResponse').length >= 5);
  const ev = c.all('EventAddResponse').map((e) => [Array.from(e.data!.value as Int32Array)[0], e.data!.severity, e.data!.status]);
  assert.deepEqual(ev, [[0, 0, 0], [5, 0, 0], [6, 0, 0], [6, 2, 3], [7, 2, 3]]);
  const msg = await channel(c, 'NT:DEMO:MESSAGE');
  assert.deepEqual((await readValue(c, msg, DBR.STRING)).data!.value, ['bulk']);
  c.close();
});

test('remote puts come out as msgs with msg.epics; enum puts by state name', async () => {
  await loadFlow(mods, flow());
  const port = await servedPort();
  const c = await RawClient.connect(port);
  c.send(encodeVersion(), encodeHostName('nodetest'), encodeClientName('tester'));
  const mode = await channel(c, 'NT:DEMO:MODE');
  const out = getNode('out');
  let p = nextMessage(out);
  let from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: mode, ioid: 1, dataType: DBR.STRING, count: 1, data: { value: ['Paused'] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NORMAL);
  let m = await p;
  assert.equal(m.topic, 'NT:DEMO:MODE');
  assert.equal(m.payload, 'Paused');
  const e = m.epics as Record<string, unknown>;
  assert.equal(e.index, 2);
  assert.equal(e.host, 'nodetest');
  assert.equal(e.user, 'tester');
  assert.equal(e.written, 'DBR_STRING');
  assert.equal(e.callback, true);
  assert.equal(e.previous, 0);
  assert.deepEqual(e.enumStrings, ['Idle', 'Running', 'Paused', 'Fault']);

  const sp = await channel(c, 'NT:DEMO:SETPOINT');
  p = nextMessage(out);
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: sp, ioid: 2, dataType: DBR.DOUBLE, count: 1, data: { value: [33.25] } }));
  await c.next('WriteNotifyResponse', from);
  m = await p;
  assert.equal(m.payload, 33.25);
  assert.equal((m.epics as Record<string, unknown>).units, 'degC');

  // Not writable: refused, nothing comes out.
  const cnt = await channel(c, 'NT:DEMO:COUNTER');
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: cnt, ioid: 3, dataType: DBR.LONG, count: 1, data: { value: [1] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NOWTACCESS);
  c.close();
});

test('create, get and remove PVs by msg; bad input goes to Catch', async () => {
  await loadFlow(mods, flow());
  const port = await servedPort();
  const ioc = getNode('ioc');
  ioc.receive({ topic: 'NEW', action: 'create', payload: [1.5, 2.5], epics: { type: 'FLOAT', count: 4, units: 'A' } });
  const got = nextMessage(getNode('out'));
  ioc.receive({ topic: 'NEW', action: 'get' });
  const g = await got;
  assert.equal(g.topic, 'NT:DEMO:NEW');
  assert.deepEqual(g.payload, [1.5, 2.5]);
  assert.equal((g.epics as { units: string }).units, 'A');
  const c = await RawClient.connect(port);
  c.send(encodeVersion());
  const sid = await channel(c, 'NT:DEMO:NEW');
  assert.deepEqual(Array.from((await readValue(c, sid, DBR.FLOAT)).data!.value as Float32Array), [1.5, 2.5]);
  const from = c.received.length;
  ioc.receive({ topic: 'NEW', action: 'remove' });
  await c.next('ServerDisconnResponse', from);
  c.close();

  const caught = getNode('caught');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ topic: 'NO:SUCH', payload: 1 }, /no PV named/],
    [{ topic: 'SETPOINT', payload: 'abc' }, /not a number/],
    [{ topic: 'MODE', payload: 'Nope' }, /not one of the states/],
    [{ topic: 'WAVEFORM', payload: new Array(101).fill(0) }, /exceed/],
    [{ payload: 1 }, /msg.topic/],
    [{ topic: 'SETPOINT', epics: { severity: 'TERRIBLE' } }, /severity/],
    [{ topic: 'X', action: 'explode' }, /unknown msg.action/],
    [{ payload: { SETPOINT: 1, NOPE: 2 } }, /no PV named/],
  ];
  for (const [msg, re] of cases) {
    const p = nextMessage(caught);
    ioc.receive(msg);
    const m = await p;
    assert.match(String((m.error as { message: string }).message), re, JSON.stringify(msg).slice(0, 80));
  }
});

test('create over an existing PV with a bad definition keeps the old PV', async () => {
  await loadFlow(mods, flow());
  const port = await servedPort();
  const ioc = getNode('ioc');
  const c = await RawClient.connect(port);
  c.send(encodeVersion());
  const sid = await channel(c, 'NT:DEMO:SETPOINT');
  const caught = getNode('caught');
  for (const epics of [{ type: 'QUAD' }, { type: 'DOUBLE', severity: 'TERRIBLE' }]) {
    const p = nextMessage(caught);
    ioc.receive({ topic: 'SETPOINT', action: 'create', payload: 1, epics });
    assert.match(String(((await p).error as { message: string }).message), /unknown/);
  }
  const got = nextMessage(getNode('out'));
  ioc.receive({ topic: 'SETPOINT', action: 'get' });
  assert.equal((await got).payload, 21.5, 'the old PV is still there, unchanged');
  assert.equal(c.all('ServerDisconnResponse').length, 0, 'its clients were not disconnected');
  assert.equal((await readValue(c, sid, DBR.DOUBLE)).status, ECA.NORMAL);
  // A good definition replaces it: its clients are told, and the new PV is served.
  const from = c.received.length;
  ioc.receive({ topic: 'SETPOINT', action: 'create', payload: 'now text' });
  await c.next('ServerDisconnResponse', from);
  const sid2 = await channel(c, 'NT:DEMO:SETPOINT');
  assert.deepEqual((await readValue(c, sid2, DBR.STRING)).data!.value, ['now text']);
  c.close();
});

test('closed right after the deploy: close completes after the port is released', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await loadFlow(mods, flow({ port }));
  await unload();
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
  });
  await new Promise<void>((r) => again.close(() => r()));
});

test('bad configuration leaves an inert node with a red status', async () => {
  await loadFlow(mods, flow({ pvs: [{ name: 'A', type: 'NOPE' }] }));
  await waitForCall(getNode('ioc'), 'error', (a) => /unknown type/.test(String(a[0])));
  await waitForCall(getNode('ioc'), 'status', (a) => (a[0] as { fill?: string }).fill === 'red');
});

test('a port in use shows a red status and an error, without crashing', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await loadFlow(mods, flow({ port }));
    await waitForCall(getNode('ioc'), 'status', (a) => /in use/.test(String((a[0] as { text?: string }).text)));
    await waitForCall(getNode('ioc'), 'error', (a) => /cannot serve/.test(String(a[0])));
    getNode('ioc').receive({ topic: 'SETPOINT', payload: 1 }); // still accepts msgs
  } finally {
    blocker.close();
  }
});

test('redeploy releases the port; unload leaves no sockets or timers', async () => {
  const before = process.getActiveResourcesInfo().length;
  await loadFlow(mods, flow());
  const port = await servedPort();
  const c = await RawClient.connect(port);
  c.send(encodeVersion());
  await channel(c, 'NT:DEMO:SETPOINT');
  // Same fixed port after a redeploy: the old server must have let it go.
  await helper.setFlows(flow({ port, prefix: 'NT2:' }), 'nodes');
  assert.equal(await servedPort(), port);
  await c.until(() => c.closed).catch(() => undefined);
  assert.equal(c.closed, true, 'the old server closed its client connections');
  const c2 = await RawClient.connect(port);
  c2.send(encodeVersion());
  await channel(c2, 'NT2:SETPOINT');
  c2.close();
  await unload();
  await new Promise((r) => setTimeout(r, 100));
  const after = process.getActiveResourcesInfo().length;
  assert.ok(after <= before, `handles before ${before}, after ${after}: ${process.getActiveResourcesInfo().join(',')}`);
});

const pySkip = peerSkip('python3-pyepics', havePyepics());
test('libca (pyepics) reads the editor PVs and its puts come out of the node', { skip: pySkip }, async () => {
  await loadFlow(mods, flow());
  const port = await servedPort();
  const py = new PyCa(port);
  try {
    assert.equal(await py.call('caget', { pv: 'NT:DEMO:SETPOINT' }), 21.5);
    assert.equal(await py.call('caget', { pv: 'NT:DEMO:MODE', as_string: true }), 'Idle');
    assert.equal(await py.call('caget', { pv: 'NT:DEMO:MESSAGE' }), 'hello from Node-RED');
    const p = nextMessage(getNode('out'));
    assert.equal(await py.call('caput', { pv: 'NT:DEMO:SETPOINT', value: 42.5, wait: true }), 1);
    const m = await p;
    assert.equal(m.payload, 42.5);
    await py.call('subscribe', { pv: 'NT:DEMO:COUNTER', sub: 1 });
    await py.waitEvents(1, 1);
    getNode('ioc').receive({ topic: 'COUNTER', payload: 99 });
    const ev = await py.waitEvents(1, 2);
    assert.equal(ev[1]!.value, 99);
  } finally {
    await py.close();
  }
});
