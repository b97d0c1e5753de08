/**
 * bacnet-server and bacnet-network inside the Node-RED runtime: editor-defined objects read by
 * our client over loopback, msg updates (COV follows), remote writes coming out of output 1,
 * events on output 2, create / delete / get by msg, bad input reaching Catch, persistence of a
 * command across a redeploy (and a timed save under way at close not overwriting the final one),
 * one server per network, "port in use" in the status, the interfaces admin endpoint, close
 * releasing the socket, and the network's address checks.
 */
import { test, afterEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFlow, unload, getNode, nextMessage, collectMessages, waitForCall, helper, nodeModule, type NodeModuleFn, type FlowNode } from '../../helpers/nodered';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { BacnetError } from '../../../src/lib/bacnet/errors';
import { ObjectType as O } from '../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { Value } from '../../../src/lib/bacnet/codec/values';
import type { CovNotificationRequest } from '../../../src/lib/bacnet/services/cov-notification';
import { type BacnetNetworkNode, parseNetworkConfig } from '../../../nodes/config/bacnet-network';
import { rowToSpec } from '../../../nodes/bacnet-server/bacnet-server';

const catchModule = require('@node-red/nodes/core/common/25-catch.js') as NodeModuleFn;
const mods = [nodeModule('config/bacnet-network'), nodeModule('bacnet-server'), catchModule];
const userDir = mkdtempSync(join(tmpdir(), 'fieldlink-bacnet-node-'));
let client: BacnetEndpoint;

before(async () => {
  helper.settings({ userDir });
  client = await BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', apduTimeout: 1500, retries: 1 });
});
after(async () => {
  await client.close();
  helper.settings({});
  rmSync(userDir, { recursive: true, force: true });
});
afterEach(() => unload());

const OBJECTS = [
  { type: 'analog-input', instance: 1, name: 'temp', description: 'room temperature', units: 'degrees-celsius', value: '21.5', access: 'read-only', covIncrement: '0.5' },
  { type: 'analog-value', instance: 1, name: 'setpoint', units: 'degrees-celsius', value: '20', access: 'commandable' },
  { type: 'binary-output', instance: 1, name: 'pump', value: 'false', access: 'commandable', states: 'Off, On' },
  { type: 'multi-state-value', instance: 1, name: 'mode', value: '2', access: 'writable', states: 'Off, Heat, Cool' },
  { type: 'characterstring-value', instance: 1, name: 'message', value: 'hello', access: 'read-only' },
];

function flow(server: Record<string, unknown> = {}, network: Record<string, unknown> = {}, id = 'srv'): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'net', type: 'bacnet-network', interface: 'lo', port: 0, destinationPort: 9, deviceInstance: 4194302, apduTimeout: 1000, retries: 1, ...network },
    { id, z: 'tab', type: 'bacnet-server', network: 'net', deviceInstance: 1357, deviceName: 'node-test', vendorId: 99, objects: OBJECTS, eventsOutput: true, outputs: 2, wires: [['out'], ['events']], ...server },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'events', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

/** The address the server answers on, once its status says it is up. */
async function address(id = 'srv'): Promise<string> {
  await waitForCall(getNode(id), 'status', (a) => /^device \d+/.test(String((a[0] as { text?: string }).text ?? '')));
  const net = helper.getNode('net') as unknown as BacnetNetworkNode;
  const end = Date.now() + 3000;
  while (!net.endpoint && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return `127.0.0.1:${net.endpoint!.transport.local.port}`;
}

const rp = (addr: string, type: number, instance: number, propertyId: number, arrayIndex?: number) =>
  client.confirmedRequest(addr, 'read-property', { objectId: { type, instance }, propertyId, ...(arrayIndex !== undefined ? { arrayIndex } : {}) }).then((a) => a.value);

test('editor objects are served; the Device object lists them', async () => {
  await loadFlow(mods, flow());
  const addr = await address();
  assert.deepEqual(await rp(addr, O.analogInput, 1, P.presentValue), [Value.real(21.5)]);
  assert.deepEqual(await rp(addr, O.analogInput, 1, P.units), [Value.enumerated(62)]);
  assert.deepEqual(await rp(addr, O.analogInput, 1, P.description), [Value.characterString('room temperature')]);
  assert.deepEqual(await rp(addr, O.binaryOutput, 1, P.activeText), [Value.characterString('On')]);
  assert.deepEqual(await rp(addr, O.multiStateValue, 1, P.stateText, 2), [Value.characterString('Heat')]);
  assert.deepEqual(await rp(addr, O.device, 1357, P.objectList, 0), [Value.unsigned(6)]);
  assert.deepEqual(await rp(addr, O.device, 1357, P.vendorIdentifier), [Value.unsigned(99)]);
  assert.deepEqual(await rp(addr, O.device, 1357, P.objectName), [Value.characterString('node-test')]);
  const found = await client.whoIs({ address: addr, low: 1357, high: 1357, timeout: 1000 });
  assert.deepEqual(found.map((d) => d.instance), [1357]);
});

test('msg updates change present values and reach COV subscribers; bad msgs reach Catch', async () => {
  await loadFlow(mods, flow());
  const addr = await address();
  const notes: CovNotificationRequest[] = [];
  client.on('cov-notification', (n) => notes.push(n));
  await client.confirmedRequest(addr, 'subscribe-cov', { subscriberProcessId: 5, monitoredObjectId: { type: O.analogInput, instance: 1 }, issueConfirmedNotifications: false, lifetime: 60 });
  const initial = Date.now() + 2000;
  while (notes.length < 1 && Date.now() < initial) await new Promise((r) => setTimeout(r, 10));
  const srv = getNode('srv');
  srv.receive({ topic: 'temp', payload: 24 });
  srv.receive({ topic: 'pump', payload: true, priority: 10 });
  srv.receive({ payload: { mode: 3, message: 'updated' } });
  srv.receive({ topic: 'temp', property: 'out-of-service', payload: false });
  const end = Date.now() + 2000;
  while (notes.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(notes.map((n) => n.values[0]!.value), [[Value.real(21.5)], [Value.real(24)]]);
  assert.deepEqual(await rp(addr, O.binaryOutput, 1, P.presentValue), [Value.enumerated(1)]);
  assert.deepEqual(await rp(addr, O.binaryOutput, 1, P.priorityArray, 10), [Value.enumerated(1)]);
  assert.deepEqual(await rp(addr, O.multiStateValue, 1, P.presentValue), [Value.unsigned(3)]);
  assert.deepEqual(await rp(addr, O.characterstringValue, 1, P.presentValue), [Value.characterString('updated')]);
  const caught = collectMessages(getNode('caught'), 4);
  srv.receive({ topic: 'nothing-here', payload: 1 });
  srv.receive({ topic: 'mode', payload: 9 });
  srv.receive({ topic: 'temp', payload: 'warm' });
  srv.receive({ topic: 'setpoint', payload: 1, priority: 17 });
  const errs = (await caught).map((m) => String((m.error as { message: string }).message));
  assert.match(errs[0]!, /no object 'nothing-here'/);
  assert.match(errs[1]!, /value-out-of-range/);
  assert.match(errs[2]!, /expected a number/);
  assert.match(errs[3]!, /priority must be 1\.\.16/);
});

test('remote writes come out of output 1; DCC and objects created come out of output 2', async () => {
  await loadFlow(mods, flow({ allowCreateDelete: true }), { srv: { password: 'secret' } });
  const addr = await address();
  const out = nextMessage(getNode('out'));
  await client.confirmedRequest(addr, 'write-property', { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.presentValue, value: [Value.real(23.5)], priority: 8 });
  const m = await out;
  assert.equal(m.topic, 'setpoint');
  assert.equal(m.payload, 23.5);
  const b = m.bacnet as Record<string, unknown>;
  assert.equal(b.property, 'present-value');
  assert.equal(b.value, 23.5);
  assert.equal(b.priority, 8);
  assert.equal(b.service, 'write-property');
  assert.equal(b.source, `127.0.0.1:${client.transport.local.port}`);
  assert.equal(b.objectId, 'analog-value:1');
  assert.equal((b.priorityArray as unknown[])[7], 23.5);
  const relinquish = nextMessage(getNode('out'));
  await client.confirmedRequest(addr, 'write-property', { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.presentValue, value: [Value.null()], priority: 8 });
  const r = await relinquish;
  assert.equal(r.payload, 20);
  assert.equal((r.bacnet as Record<string, unknown>).value, null);
  await assert.rejects(client.confirmedRequest(addr, 'write-property', { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue, value: [Value.real(1)] }),
    (e: unknown) => e instanceof BacnetError && e.codeName === 'write-access-denied');
  await assert.rejects(client.confirmedRequest(addr, 'device-communication-control', { enableDisable: 2, password: 'nope' }),
    (e: unknown) => e instanceof BacnetError && e.codeName === 'password-failure');
  const ev = collectMessages(getNode('events'), 2);
  await client.confirmedRequest(addr, 'device-communication-control', { enableDisable: 2, password: 'secret', timeDuration: 1 });
  await client.confirmedRequest(addr, 'create-object', { objectType: O.binaryValue });
  const events = await ev;
  assert.deepEqual(events.map((e) => e.topic), ['dcc', 'object-created']);
  assert.deepEqual((events[0]!.payload as Record<string, unknown>).state, 'disable-initiation');
  await client.confirmedRequest(addr, 'device-communication-control', { enableDisable: 0, password: 'secret' });
});

test('create, get and delete by msg', async () => {
  await loadFlow(mods, flow());
  const addr = await address();
  const srv = getNode('srv');
  const made = nextMessage(getNode('out'));
  srv.receive({ action: 'create', topic: 'co2', object: { type: 'analog-input', units: 'parts-per-million', value: 450, properties: { 'high-limit': 1000 } } });
  const c = await made;
  assert.equal((c.bacnet as Record<string, unknown>).objectId, 'analog-input:2');
  assert.deepEqual(await rp(addr, O.analogInput, 2, P.highLimit), [Value.real(1000)]);
  const got = nextMessage(getNode('out'));
  srv.receive({ action: 'get', topic: 'co2' });
  const g = await got;
  assert.equal(g.payload, 450);
  assert.equal(((g.bacnet as Record<string, unknown>).properties as Record<string, unknown>).units, 'parts-per-million');
  srv.receive({ action: 'delete', topic: 'co2' });
  await assert.rejects(rp(addr, O.analogInput, 2, P.presentValue), (e: unknown) => e instanceof BacnetError && e.codeName === 'unknown-object');
});

test('a command survives a redeploy (and the file is in the user directory)', async () => {
  const f = flow();
  await loadFlow(mods, f);
  let addr = await address();
  await client.confirmedRequest(addr, 'write-property', { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.presentValue, value: [Value.real(26)], priority: 9 });
  await client.confirmedRequest(addr, 'write-property', { objectId: { type: O.multiStateValue, instance: 1 }, propertyId: P.presentValue, value: [Value.unsigned(1)] });
  // redeploy the server node (changed), which closes it and starts a new one
  await helper.setFlows(f.map((n) => (n.id === 'srv' ? { ...n, name: 'changed' } : n)), 'nodes');
  addr = await address();
  assert.ok(existsSync(join(userDir, 'fieldlink-bacnet', 'bacnet-server-srv.json')));
  assert.deepEqual(await rp(addr, O.analogValue, 1, P.presentValue), [Value.real(26)]);
  assert.deepEqual(await rp(addr, O.analogValue, 1, P.priorityArray, 9), [Value.real(26)]);
  assert.deepEqual(await rp(addr, O.multiStateValue, 1, P.presentValue), [Value.unsigned(1)]);
  assert.deepEqual(await rp(addr, O.analogInput, 1, P.presentValue), [Value.real(21.5)], 'read-only objects are not persisted');
  await client.confirmedRequest(addr, 'write-property', { objectId: { type: O.analogValue, instance: 1 }, propertyId: P.presentValue, value: [Value.null()], priority: 9 });
});

test('a timed save under way when the node closes does not overwrite the final save', async () => {
  const file = join(userDir, 'fieldlink-bacnet', 'bacnet-server-srv.json');
  // Hold the timed save's write back so that it is still under way when the node closes (the node
  // calls writeFile through the module object, which the ES namespace of an import would copy).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  const realWriteFile = fs.writeFile;
  let started!: () => void;
  const underWay = new Promise<void>((r) => {
    started = r;
  });
  let landed!: () => void;
  const written = new Promise<void>((r) => {
    landed = r;
  });
  const mutableFs = fs as { writeFile: unknown };
  mutableFs.writeFile = (...args: unknown[]): unknown => {
    if (args[0] !== `${file}.tmp`) return Reflect.apply(realWriteFile, fs, args);
    const [path, data, cb] = args as [string, string, (e: NodeJS.ErrnoException | null) => void];
    started();
    setTimeout(() => realWriteFile(path, data, (e) => {
      cb(e);
      landed();
    }), 300);
    return undefined;
  };
  const av1 = { type: O.analogValue, instance: 1 };
  try {
    await loadFlow(mods, flow());
    const addr = await address();
    await client.confirmedRequest(addr, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.real(31)], priority: 9 });
    await underWay; // the timed save has taken its snapshot (31)
    await client.confirmedRequest(addr, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.real(32)], priority: 9 });
    await unload(); // close: the final save (32)
    await written;
    await new Promise((r) => setTimeout(r, 100)); // and its rename
  } finally {
    mutableFs.writeFile = realWriteFile;
  }
  assert.doesNotThrow(() => JSON.parse(readFileSync(file, 'utf8')));
  await loadFlow(mods, flow());
  const addr = await address();
  assert.deepEqual(await rp(addr, O.analogValue, 1, P.presentValue), [Value.real(32)], 'the value at close is what was kept');
  await client.confirmedRequest(addr, 'write-property', { objectId: av1, propertyId: P.presentValue, value: [Value.null()], priority: 9 });
});

test('one bacnet-server per network; the second one says so', async () => {
  const f = flow();
  f.push({ id: 'srv2', z: 'tab', type: 'bacnet-server', network: 'net', deviceInstance: 2468, objects: [], wires: [[]] });
  await loadFlow(mods, f);
  await waitForCall(getNode('srv2'), 'status', (a) => /another bacnet-server/.test(String((a[0] as { text?: string }).text ?? '')));
});

test('a port in use is reported in the status with the fix', async () => {
  const sock = createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  try {
    await loadFlow(mods, flow({}, { port: sock.address().port }));
    await waitForCall(getNode('srv'), 'status', (a) => /in use: choose another local port or a BBMD/.test(String((a[0] as { text?: string }).text ?? '')));
  } finally {
    sock.close();
  }
});

test('the interfaces admin endpoint lists loopback', async () => {
  await helper.startServer(); // before the flow: it initialises the runtime with the HTTP server
  await loadFlow(mods, flow());
  try {
    const res = await helper.request().get('/bacnet-network/interfaces').expect(200);
    const list = res.body as Array<{ name: string; address: string; broadcast: string }>;
    assert.ok(list.some((i) => i.address === '127.0.0.1' && i.broadcast === '127.255.255.255'));
    const units = await helper.request().get('/bacnet-server/units').expect(200);
    assert.ok((units.body as string[]).includes('degrees-celsius'));
  } finally {
    await helper.stopServer();
  }
});

test('close releases the socket and every handle', async () => {
  await new Promise((r) => setTimeout(r, 50));
  const udp = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
  const udpBefore = udp();
  await loadFlow(mods, flow());
  const addr = await address();
  assert.equal(udp(), udpBefore + 2, 'the interface socket and its broadcast socket');
  const port = Number(addr.split(':')[1]);
  await unload();
  // the port is free again and no UDP handle of ours is left
  const s = createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  s.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(udp(), udpBefore);
});

test('editor rows become object specs', () => {
  assert.deepEqual(rowToSpec({ type: 'binary-value', instance: '3', name: ' fan ', value: 'on', access: 'bogus', states: 'Off, On' }), {
    type: 'binary-value', name: 'fan', instance: '3', value: 'on', access: 'read-only', states: 'Off, On',
  });
});

test('BBMD addresses are checked: octets and port range', () => {
  assert.deepEqual(parseNetworkConfig({ id: 'n', type: 'bacnet-network', bbmd: '127.0.0.2' }).bbmd, { host: '127.0.0.2', port: 47808, ttl: 300 });
  assert.deepEqual(parseNetworkConfig({ id: 'n', type: 'bacnet-network', bbmd: ' 127.0.0.2:47809 ', bbmdTtl: 60 }).bbmd, { host: '127.0.0.2', port: 47809, ttl: 60 });
  for (const bbmd of ['127.0.0', '300.0.0.1', '127.0.0.2:0', '127.0.0.2:70000']) {
    assert.throws(() => parseNetworkConfig({ id: 'n', type: 'bacnet-network', bbmd }), /must be an IPv4 address with an optional port/, bbmd);
  }
});
