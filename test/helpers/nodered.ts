/**
 * Typed wrapper around node-red-node-test-helper (which ships no types) for node tests under
 * node:test. Loads the real Node-RED 4.1 runtime from devDependencies and our compiled nodes
 * from dist/nodes.
 *
 *   const flow = [{ id: 'n1', type: 'probe-ping', wires: [['out']] }, { id: 'out', type: 'helper' }];
 *   await loadFlow([nodeModule('probe-ping')], flow);
 *   const out = getNode('out');
 *   const msgP = nextMessage(out);
 *   getNode('n1').receive({ payload: 'go' });
 *   const msg = await msgP;
 *   await unload();
 */
import { join } from 'node:path';
import { distRoot } from './env';
import type { NodeMessage, RED } from '../../nodes/shared/red';

export type NodeModuleFn = (RED: RED) => void | Promise<void>;

/** A sinon spy as the helper installs it on node methods. */
export interface Spy {
  called: boolean;
  callCount: number;
  args: unknown[][];
  lastCall: { args: unknown[] } | null;
  getCalls(): Array<{ args: unknown[] }>;
  resetHistory(): void;
}

export interface TestNode {
  id: string;
  type: string;
  receive(msg: NodeMessage): void;
  on(event: string, fn: (arg: never) => void): void;
  once(event: string, fn: (arg: never) => void): void;
  removeListener(event: string, fn: (arg: never) => void): void;
  status: Spy;
  error: Spy;
  warn: Spy;
  log: Spy;
  send: Spy;
  credentials?: Record<string, unknown>;
  [key: string]: unknown;
}

export type FlowNode = { id: string; type: string; [key: string]: unknown };

interface TestHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  settings(s: Record<string, unknown>): Record<string, unknown>;
  load(mods: NodeModuleFn | NodeModuleFn[], flow: FlowNode[], creds?: Record<string, Record<string, string>>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode | undefined;
  setFlows(flow: FlowNode[], type?: 'full' | 'flows' | 'nodes', creds?: Record<string, Record<string, string>>): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  request(): SuperTest;
}

export interface SuperTestResponse {
  status: number;
  body: unknown;
  text: string;
}
export interface SuperTestRequest extends PromiseLike<SuperTestResponse> {
  send(body: unknown): SuperTestRequest;
  set(name: string, value: string): SuperTestRequest;
  query(q: Record<string, string>): SuperTestRequest;
  expect(status: number): SuperTestRequest;
}
export interface SuperTest {
  get(url: string): SuperTestRequest;
  post(url: string): SuperTestRequest;
}

// The package has no types; this is its documented API, typed above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper') as TestHelper;
helper.init(require.resolve('node-red'));

export { helper };

/** The module function of a compiled Fieldlink node file, e.g. nodeModule('probe-ping') or nodeModule('config/bacnet-network'). */
export function nodeModule(name: string): NodeModuleFn {
  const rel = name.includes('/') ? `${name}.js` : `${name}/${name}.js`;
  const mod = require(join(distRoot, 'nodes', rel)) as { default?: NodeModuleFn } | NodeModuleFn;
  const fn = typeof mod === 'function' ? mod : mod.default;
  if (typeof fn !== 'function') throw new Error(`${rel} exports no module function`);
  return fn;
}

export function loadFlow(mods: NodeModuleFn[], flow: FlowNode[], creds?: Record<string, Record<string, string>>): Promise<void> {
  return helper.load(mods, flow, creds);
}

export function unload(): Promise<void> {
  return helper.unload();
}

export function getNode(id: string): TestNode {
  const n = helper.getNode(id);
  if (!n) throw new Error(`node ${id} is not in the running flow`);
  return n;
}

/** Resolve with the next msg that `node` (normally a `helper` node) receives. */
export function nextMessage(node: TestNode, timeoutMs = 5000): Promise<NodeMessage> {
  return collectMessages(node, 1, timeoutMs).then((m) => m[0]!);
}

/** Resolve with the next `count` msgs that `node` receives. */
export function collectMessages(node: TestNode, count: number, timeoutMs = 5000): Promise<NodeMessage[]> {
  return new Promise((resolve, reject) => {
    const got: NodeMessage[] = [];
    const onInput = (msg: NodeMessage): void => {
      got.push(msg);
      if (got.length >= count) {
        clearTimeout(timer);
        node.removeListener('input', onInput as (arg: never) => void);
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      node.removeListener('input', onInput as (arg: never) => void);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} msg(s) at ${node.id}; got ${got.length}`));
    }, timeoutMs);
    node.on('input', onInput as (arg: never) => void);
  });
}

/**
 * Resolve when `node.<method>` (error, warn, status, log, send) is called with arguments that
 * satisfy `pred`; with the arguments of that call.
 */
export function waitForCall(
  node: TestNode,
  method: 'error' | 'warn' | 'status' | 'log' | 'send',
  pred: (args: unknown[]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    for (const c of (node[method] as Spy).getCalls()) {
      if (pred(c.args)) return resolve(c.args);
    }
    const onCall = (call: { args: unknown[] }): void => {
      if (pred(call.args)) {
        clearTimeout(timer);
        node.removeListener(`call:${method}`, onCall as (arg: never) => void);
        resolve(call.args);
      }
    };
    const timer = setTimeout(() => {
      node.removeListener(`call:${method}`, onCall as (arg: never) => void);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${method}() on ${node.id}`));
    }, timeoutMs);
    node.on(`call:${method}`, onCall as (arg: never) => void);
  });
}
