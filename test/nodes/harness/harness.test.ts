/**
 * Checks the node-test harness itself with a tiny node defined here (not part of the package):
 * messages in and out, done(err) reaching a Catch node, status calls, close on redeploy.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { loadFlow, unload, getNode, nextMessage, waitForCall, helper, type NodeModuleFn } from '../../helpers/nodered';
import type { Node, NodeDef, RED } from '../../../nodes/shared/red';

let closed = 0;
const echoModule: NodeModuleFn = (RED: RED) => {
  function Echo(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      if (msg.payload === 'bad') return done(new Error('bad payload'));
      this.status({ fill: 'green', shape: 'dot', text: 'ok' });
      msg.payload = `echo:${String(msg.payload)}`;
      send(msg);
      done();
    });
    this.on('close', (_removed, done) => {
      closed++;
      done();
    });
  }
  RED.nodes.registerType('test-echo', Echo);
};
// The core catch node, for done(err) → Catch.
const catchModule = require('@node-red/nodes/core/common/25-catch.js') as NodeModuleFn;

afterEach(() => unload());

const flow = [
  { id: 'tab', type: 'tab', label: 't' },
  { id: 'e', z: 'tab', type: 'test-echo', wires: [['out']] },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

test('a msg goes through and status is recorded', async () => {
  await loadFlow([echoModule, catchModule], flow);
  const p = nextMessage(getNode('out'));
  getNode('e').receive({ payload: 1 });
  assert.equal((await p).payload, 'echo:1');
  await waitForCall(getNode('e'), 'status', (a) => (a[0] as { text?: string }).text === 'ok');
});

test('done(err) reaches a Catch node with the msg', async () => {
  await loadFlow([echoModule, catchModule], flow);
  const p = nextMessage(getNode('caught'));
  getNode('e').receive({ payload: 'bad', topic: 't1' });
  const m = await p;
  assert.equal(m.topic, 't1');
  assert.match(String((m.error as { message: string }).message), /bad payload/);
});

test('redeploy closes the old node', async () => {
  await loadFlow([echoModule, catchModule], flow);
  const before = closed;
  await helper.setFlows(flow.map((n) => (n.id === 'e' ? { ...n, name: 'changed' } : n)), 'nodes');
  assert.equal(closed, before + 1);
});
