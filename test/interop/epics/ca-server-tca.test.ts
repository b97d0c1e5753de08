/**
 * npm epics-tca (an independent TypeScript CA client) against our CA server: search, connect,
 * reads in TIME/CTRL forms, enum strings, a 1000-element array, put with and without callback,
 * and monitors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CaServer, DBR } from '../../../src/lib/epics/ca';
import { peerSkip } from '../../helpers/env';

function haveTca(): boolean {
  try {
    require.resolve('epics-tca');
    return true;
  } catch {
    return false;
  }
}
const skip = peerSkip('epics-tca', haveTca());
let server: CaServer;
let child: ChildProcess;
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`epics-tca ${op} timed out`)), 15_000);
    pending.set(id, { resolve: (v) => (clearTimeout(t), resolve(v as T)), reject: (e) => (clearTimeout(t), reject(e)) });
    child.send({ id, op, ...args });
  });
}

before(async () => {
  if (skip) return;
  server = new CaServer({
    port: 0,
    beacons: false,
    pvs: [
      { name: 'TCA:ai', type: 'DOUBLE', value: 12.5, units: 'degC', precision: 3, limits: { display: { low: -20, high: 100 }, control: { low: -5, high: 50 } } },
      { name: 'TCA:mbbo', type: 'ENUM', value: 1, enumStrings: ['Idle', 'Running', 'Paused', 'Fault'] },
      { name: 'TCA:si', type: 'STRING', value: 'hello EPICS' },
      { name: 'TCA:wf', type: 'DOUBLE', count: 1000, value: Float64Array.from({ length: 1000 }, (_, i) => i * 0.5) },
      { name: 'TCA:counter', type: 'LONG', value: 0 },
    ],
  });
  await server.listen();
  child = fork(join(__dirname, 'tca-client.js'), [String(server.tcpPort)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('epics-tca client did not start')), 15_000);
    child.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.ready) {
        clearTimeout(t);
        resolve();
      } else if (typeof m.id === 'number') {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(m.error));
      }
    });
  });
});

after(async () => {
  if (skip) return;
  await new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    const k = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => (clearTimeout(k), resolve()));
    child.send({ op: 'quit' });
  });
  await server.close();
});

/** epics-tca gives a scalar for one element, an array otherwise. */
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

test('epics-tca reads TIME and CTRL forms, enum strings, strings and arrays', { skip }, async () => {
  const t = await call<{ value: unknown; status: number; severity: number; secondsSinceEpoch: number }>('get', { pv: 'TCA:ai', type: DBR.TIME_DOUBLE });
  assert.deepEqual(arr(t.value), [12.5]);
  assert.ok(Math.abs(t.secondsSinceEpoch + 631152000 - Date.now() / 1000) < 60);
  const c = await call<Record<string, unknown>>('get', { pv: 'TCA:ai', type: DBR.CTRL_DOUBLE });
  assert.equal(c.units, 'degC');
  assert.equal(c.precision, 3);
  assert.equal(c.upper_display_limit, 100);
  assert.equal(c.lower_display_limit, -20);
  assert.equal(c.upper_ctrl_limit, 50);
  assert.equal(c.lower_ctrl_limit, -5);
  const e = await call<{ strings: string[]; number_of_string_used: number; value: unknown }>('get', { pv: 'TCA:mbbo', type: DBR.CTRL_ENUM });
  assert.deepEqual(e.strings.slice(0, e.number_of_string_used), ['Idle', 'Running', 'Paused', 'Fault']);
  assert.deepEqual(arr(e.value), [1]);
  const s = await call<{ value: unknown }>('get', { pv: 'TCA:si', type: DBR.TIME_STRING });
  assert.deepEqual(arr(s.value), ['hello EPICS']);
  const w = await call<{ value: number[] }>('get', { pv: 'TCA:wf', type: DBR.TIME_DOUBLE });
  assert.equal(w.value.length, 1000);
  assert.equal(w.value[999], 499.5);
});

test('epics-tca puts with and without callback', { skip }, async () => {
  await call('put', { pv: 'TCA:ai', value: 4.5, wait: true });
  assert.equal(server.getPv('TCA:ai')!.value[0], 4.5);
  await call('put', { pv: 'TCA:ai', value: 5.5, wait: false });
  const deadline = Date.now() + 3000;
  while (server.getPv('TCA:ai')!.value[0] !== 5.5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.getPv('TCA:ai')!.value[0], 5.5);
});

test('epics-tca monitors see the first value and every update', { skip }, async () => {
  await call('monitor', { pv: 'TCA:counter', type: DBR.TIME_LONG });
  for (let i = 1; i <= 5; i++) {
    await new Promise((r) => setTimeout(r, 20));
    server.update('TCA:counter', { value: 144 + i });
  }
  let got: unknown[] = [];
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    got = await call<unknown[]>('monitorValues');
    if (got.length >= 6) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(got, [0, 145, 146, 147, 148, 149]);
});
