/**
 * epics-context and epics-pv inside the Node-RED runtime against our CA server (loopback, its own
 * ports): get / put / monitor / bulk get, msg overrides, PV from msg.topic, errors reaching Catch,
 * status counts, and redeploy/close releasing every channel, socket and timer.
 */
import { test, afterEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadFlow, unload, getNode, nextMessage, collectMessages, waitForCall, helper, nodeModule, type NodeModuleFn, type FlowNode } from '../../helpers/nodered';
import { CaServer, LocalRepeater } from '../../../src/lib/epics/ca';
import { REPEATER_LINGER_MS } from '../../../nodes/config/epics-context';
import { freeUdpPort, sleep, until } from '../../unit/epics/ca/client-helpers';
import type { NodeMessage } from '../../../nodes/shared/red';

const catchModule = require('@node-red/nodes/core/common/25-catch.js') as NodeModuleFn;
const mods = [nodeModule('config/epics-context'), nodeModule('epics-pv'), catchModule];

let server: CaServer;
let repeaterPort: number;
let slowRelease: (() => void) | undefined;

before(async () => {
  server = new CaServer({
    port: 0,
    beacons: false,
    pvs: [
      { name: 'N:ai', type: 'DOUBLE', value: 12.5, units: 'degC', precision: 3, limits: { display: { low: -20, high: 100 } } },
      { name: 'N:mode', type: 'ENUM', value: 1, enumStrings: ['Idle', 'Running', 'Paused'] },
      { name: 'N:wf', type: 'DOUBLE', count: 5, value: [1, 2, 3, 4, 5] },
      { name: 'N:text', type: 'STRING', value: 'hello' },
      { name: 'N:set', type: 'DOUBLE', value: 0 },
      { name: 'N:slow', type: 'LONG', value: 0 },
      { name: 'N:ro', type: 'LONG', value: 3, writable: false },
      ...Array.from({ length: 10 }, (_, i) => ({ name: `N:b${i}`, type: 'LONG', value: i * 10 })),
    ],
    writeHook: (w) => (w.name === 'N:slow' ? new Promise((r) => (slowRelease = () => r(true))) : true),
  });
  await server.listen();
  repeaterPort = await freeUdpPort();
});
after(async () => {
  await server.close();
});
afterEach(() => unload());

function flow(pv: Record<string, unknown>, ctx: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'ctx', type: 'epics-context', addrList: `127.0.0.1:${server.udpPort}`, autoAddrList: 'no', repeaterPort: String(repeaterPort), timeout: 2, ...ctx },
    { id: 'p', z: 'tab', type: 'epics-pv', epicsContext: 'ctx', wires: [['out']], ...pv },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

async function roundTrip(msg: NodeMessage, timeoutMs = 5000): Promise<NodeMessage> {
  const p = nextMessage(getNode('out'), timeoutMs);
  getNode('p').receive(msg);
  return p;
}

async function caughtError(msg: NodeMessage, timeoutMs = 5000): Promise<string> {
  const p = nextMessage(getNode('caught'), timeoutMs);
  getNode('p').receive(msg);
  const m = await p;
  return String((m.error as { message?: string }).message);
}

function statusText(): Promise<unknown[]> {
  return waitForCall(getNode('p'), 'status', (a) => /connected/.test(String((a[0] as { text?: string }).text)));
}

test('get: value, topic as written, msg.epics with alarm, time and metadata; status connected', async () => {
  await loadFlow(mods, flow({ mode: 'get', pvs: 'ca://N:ai' }));
  await statusText();
  const m = await roundTrip({ payload: 'go' });
  assert.equal(m.topic, 'ca://N:ai');
  assert.equal(m.payload, 12.5);
  const e = m.epics as Record<string, unknown>;
  assert.equal(e.protocol, 'ca');
  assert.equal(e.pv, 'N:ai');
  assert.equal(e.severity, 'NO_ALARM');
  assert.equal(e.status, 'NO_ALARM');
  assert.equal(e.units, 'degC');
  assert.equal(e.precision, 3);
  assert.deepEqual((e.limits as { display: unknown }).display, { low: -20, high: 100 });
  assert.ok(typeof e.timestamp === 'number' && Math.abs((e.timestamp as number) - Date.now()) < 3_600_000);
  assert.equal(e.dataType, 'DBR_TIME_DOUBLE');
  assert.equal(e.nativeType, 'DOUBLE');
});

test('get: several PVs, enum as its state string, arrays as plain arrays, strings', async () => {
  await loadFlow(mods, flow({ mode: 'get', pvs: 'N:mode\nN:wf, N:text' }));
  const msgs = collectMessages(getNode('out'), 3);
  getNode('p').receive({ payload: 1 });
  const [mode, wf, text] = await msgs;
  assert.equal(mode!.topic, 'N:mode');
  assert.equal(mode!.payload, 'Running');
  assert.equal((mode!.epics as Record<string, unknown>).enumIndex, 1);
  assert.deepEqual((mode!.epics as Record<string, unknown>).enumStrings, ['Idle', 'Running', 'Paused']);
  assert.deepEqual(wf!.payload, [1, 2, 3, 4, 5]);
  assert.ok(Array.isArray(wf!.payload));
  assert.equal(text!.payload, 'hello');
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === '3 connected');
});

test('get: typed arrays and element count when asked', async () => {
  await loadFlow(mods, flow({ mode: 'get', pvs: 'N:wf', arrays: 'typed', count: 3, dbrType: 'native' }));
  const m = await roundTrip({});
  assert.ok(m.payload instanceof Float64Array);
  assert.deepEqual(Array.from(m.payload as Float64Array), [1, 2, 3]);
  assert.equal((m.epics as Record<string, unknown>).dataType, 'DBR_DOUBLE');
});

test('get: PV from msg.topic when the node has none; errors reach Catch with clear text', async () => {
  await loadFlow(mods, flow({ mode: 'get', pvs: '' }));
  const m = await roundTrip({ topic: 'N:text' });
  assert.equal(m.payload, 'hello');
  assert.match(await caughtError({ topic: 'pva://N:ai' }), /pvAccess \(pva:\/\/\) is not available in Fieldlink yet/);
  assert.match(await caughtError({ topic: 'N:missing', timeout: 0.3 }), /PV N:missing not found: no server answered the search/);
  assert.match(await caughtError({ payload: 1 }), /no PV name: configure one in the node or set msg.topic/);
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { fill?: string }).fill === 'red');
});

test('put: msg.payload written, wait for completion, wrong values to Catch, per-name objects', async () => {
  await loadFlow(mods, flow({ mode: 'put', pvs: 'N:set', wait: true }));
  const m = await roundTrip({ payload: 42.5 });
  assert.equal(m.payload, 42.5);
  assert.deepEqual(m.epics, { protocol: 'ca', pv: 'N:set', put: 'completed' });
  assert.equal(server.getPv('N:set')!.jsValue(), 42.5);
  assert.match(await caughtError({ payload: 'forty' }), /cannot write 'forty' to N:set \(DOUBLE\): 'forty' is not a number/);
  assert.match(await caughtError({ payload: { a: 1 } }), /cannot write an object to N:set/);
  assert.match(await caughtError({ payload: [1, 2] }), /2 elements are too many for N:set, which holds 1/);
  // msg.wait overrides: without completion the msg goes on as soon as the put is sent.
  const sent = await roundTrip({ payload: 7, wait: false });
  assert.equal((sent.epics as Record<string, unknown>).put, 'sent');
  await until(() => server.getPv('N:set')!.jsValue() === 7, 2000, 'plain put applied');
});

test('put: enum by state string, unknown states refused; no write access refused', async () => {
  await loadFlow(mods, flow({ mode: 'put', pvs: 'N:mode', wait: true }));
  await roundTrip({ payload: 'Paused' });
  assert.equal(server.getPv('N:mode')!.enumString(), 'Paused');
  assert.match(await caughtError({ payload: 'Broken' }), /'Broken' is not a state of N:mode; its states are 'Idle', 'Running', 'Paused'/);
  await unload();
  await loadFlow(mods, flow({ mode: 'put', pvs: '' }));
  assert.match(await caughtError({ topic: 'N:ro', payload: 1 }), /no write access to N:ro/);
});

test('put with completion waits for the server; several PVs take an object of values', async () => {
  await loadFlow(mods, flow({ mode: 'put', pvs: 'N:slow', wait: true }));
  let got = false;
  const p = nextMessage(getNode('out'), 5000).then((m) => {
    got = true;
    return m;
  });
  getNode('p').receive({ payload: 3 });
  await until(() => slowRelease !== undefined, 3000, 'write hook');
  await sleep(50);
  assert.equal(got, false, 'held until the put completes');
  slowRelease!();
  await p;
  await unload();
  await loadFlow(mods, flow({ mode: 'put', pvs: 'N:b1 N:b2' }));
  await roundTrip({ payload: { 'N:b1': 111, 'N:b2': 222 } });
  await until(() => server.getPv('N:b1')!.jsValue() === 111 && server.getPv('N:b2')!.jsValue() === 222, 2000, 'both written');
});

test('monitor: a msg per update, status counts, disconnected when the PV goes away', async () => {
  await loadFlow(mods, flow({ mode: 'monitor', pvs: 'N:b3\nN:b4' }));
  const first = await collectMessages(getNode('out'), 2);
  assert.deepEqual(first.map((m) => m.topic).sort(), ['N:b3', 'N:b4']);
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === '2 connected');
  const next = nextMessage(getNode('out'));
  server.update('N:b3', { value: 333, severity: 'MINOR', status: 'HIGH' });
  const m = await next;
  assert.equal(m.topic, 'N:b3');
  assert.equal(m.payload, 333);
  assert.equal((m.epics as Record<string, unknown>).severity, 'MINOR');
  assert.equal((m.epics as Record<string, unknown>).status, 'HIGH');
  assert.equal((m.epics as Record<string, unknown>).dropped, 0);
  server.removePv('N:b4');
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === '1 connected, 1 disconnected');
  const back = nextMessage(getNode('out'), 5000);
  server.addPv({ name: 'N:b4', type: 'LONG', value: 44 });
  assert.equal((await back).payload, 44);
});

test('monitor from msg.topic when no PVs are configured; "stop" ends it', async () => {
  await loadFlow(mods, flow({ mode: 'monitor', pvs: '' }));
  const first = nextMessage(getNode('out'));
  getNode('p').receive({ topic: 'N:b5' });
  assert.equal((await first).payload, 50);
  getNode('p').receive({ payload: 'stop' });
  await sleep(50);
  let extra = 0;
  getNode('out').on('input', () => extra++);
  server.update('N:b5', { value: 55 });
  await sleep(100);
  assert.equal(extra, 0);
});

test('bulk get: one msg with every value, error entries per failed PV', async () => {
  await loadFlow(mods, flow({ mode: 'bulk', pvs: '', timeout: 0.5 }));
  const names = ['N:b6', 'N:b7', 'N:nothere', 'pva://N:b8'];
  const m = await roundTrip({ payload: names });
  const p = m.payload as Record<string, unknown>;
  assert.equal(p['N:b6'], 60);
  assert.equal(p['N:b7'], 70);
  assert.equal(p['N:nothere'], null);
  assert.equal(p['pva://N:b8'], null);
  const e = m.errors as Record<string, string>;
  assert.match(e['N:nothere']!, /not found/);
  assert.match(e['pva://N:b8']!, /pvAccess/);
  assert.equal(((m.epics as Record<string, Record<string, unknown>>)['N:b6']!).severity, 'NO_ALARM');
  await waitForCall(getNode('p'), 'status', (a) => /2 failed/.test(String((a[0] as { text?: string }).text)) || (a[0] as { fill?: string }).fill === 'red');
  await unload();
  await loadFlow(mods, flow({ mode: 'bulk', pvs: 'N:b6 N:b7 N:b9' }));
  const all = await roundTrip({});
  assert.deepEqual(all.payload, { 'N:b6': 60, 'N:b7': 70, 'N:b9': 90 });
  assert.equal(all.errors, undefined);
});

test('configuration errors: pva:// names and a missing context leave an inert node', async () => {
  await loadFlow(mods, flow({ mode: 'get', pvs: 'pva://N:ai' }));
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === 'pva:// not available yet');
  assert.match(await caughtError({}), /pvAccess \(pva:\/\/\) is not available/);
  await unload();
  await loadFlow(mods, flow({ mode: 'get', pvs: 'N:ai', epicsContext: 'nope' }));
  await waitForCall(getNode('p'), 'error', (a) => /no epics-context is configured/.test(String(a[0])));
});

test('redeploy and close release every channel, socket and timer', async () => {
  const resources = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
    return out;
  };
  await sleep(50);
  const base = resources();
  const clientsBefore = server.clientCount;
  await loadFlow(mods, flow({ mode: 'monitor', pvs: 'N:b0 N:b1 N:b2' }));
  await collectMessages(getNode('out'), 3);
  assert.equal(server.clientCount, clientsBefore + 1, 'one circuit for the three PVs');
  await helper.setFlows(flow({ mode: 'get', pvs: 'N:ai', name: 'redeployed' }), 'full');
  await until(() => server.clientCount === clientsBefore, 3000, 'the old circuit closed on redeploy');
  const m = await roundTrip({});
  assert.equal(m.payload, 12.5, 'the redeployed flow works');
  await unload();
  await until(() => server.clientCount === clientsBefore, 3000, 'circuit closed after unload');
  // The beacon repeater the context held stays bound for its linger, then goes too.
  await until(() => LocalRepeater.running().length === 0, REPEATER_LINGER_MS + 2000, 'the beacon repeater released after its linger');
  await sleep(100);
  const now = resources();
  for (const k of ['TCPSocketWrap', 'UDPWrap', 'Timeout', 'Immediate']) assert.ok((now[k] ?? 0) <= (base[k] ?? 0), `${k}: ${now[k]} after vs ${base[k]} before`);
});

test('the EPICS example flow: its epics-pv nodes get, put, monitor and bulk-get the example IOC', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { repoRoot } = await import('../../helpers/env');
  const flowFile = JSON.parse(readFileSync(join(repoRoot, 'examples', 'EPICS IOC and PVs.json'), 'utf8')) as FlowNode[];
  const port = await freeUdpPort();
  // Keep the example's nodes that need no other modules; debug nodes become test helpers.
  const keep = flowFile
    .filter((n) => ['tab', 'epics-ioc', 'epics-context', 'epics-pv', 'debug'].includes(n.type))
    .map((n) => {
      if (n.type === 'debug') return { id: n.id, z: n.z, type: 'helper' } as FlowNode;
      if (n.type === 'epics-context') {
        assert.equal(n.autoAddrList, 'no', 'the example never broadcasts');
        assert.equal(n.addrList, '127.0.0.1:5064');
        return { ...n, addrList: `127.0.0.1:${port}`, repeaterPort: String(repeaterPort) };
      }
      return n;
    });
  helper.settings({ epicsIocPort: port, epicsIocBeacons: '' });
  try {
    await loadFlow([...mods, nodeModule('epics-ioc')], keep);
    const monTopics = new Set<string>();
    getNode('ex-epics-pv-out-mon').on('input', ((m: NodeMessage) => monTopics.add(String(m.topic))) as (arg: never) => void);
    const get = nextMessage(getNode('ex-epics-pv-out-get'));
    getNode('ex-epics-pv-get').receive({ payload: '' });
    const g = await get;
    assert.equal(g.payload, 21.5);
    assert.equal((g.epics as Record<string, unknown>).units, 'degC');
    const put = nextMessage(getNode('ex-epics-pv-out-put'));
    getNode('ex-epics-pv-put-mode').receive({ payload: 'Running' });
    await put;
    await until(() => monTopics.size === 2, 5000, 'monitor msgs for COUNTER and MODE');
    assert.deepEqual([...monTopics].sort(), ['FIELDLINK:DEMO:COUNTER', 'FIELDLINK:DEMO:MODE']);
    const bulk = nextMessage(getNode('ex-epics-pv-out-bulk'));
    getNode('ex-epics-pv-bulk').receive({ payload: '' });
    const b = await bulk;
    const p = b.payload as Record<string, unknown>;
    assert.equal(p['FIELDLINK:DEMO:MODE'], 'Running');
    assert.equal(p['FIELDLINK:DEMO:MESSAGE'], 'hello from Node-RED');
    assert.equal((p['FIELDLINK:DEMO:WAVEFORM'] as number[]).length, 100);
    assert.equal(b.errors, undefined);
  } finally {
    helper.settings({});
  }
});
