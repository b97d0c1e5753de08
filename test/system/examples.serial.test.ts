/**
 * The example flows on a real Node-RED 4.1, as `npm start` runs them (the demo BACnet device on
 * 127.0.0.1:47808, the demo IOC on 127.0.0.1:5064, the probe endpoint on Node-RED's own port),
 * checked from outside by independent clients; then 100 full redeploys, after which the same
 * services must still answer and the runtime must hold no more file descriptors, child processes
 * or memory than before (no leaked socket, timer, subscription or ping).
 *
 * Serial (*.serial.test.ts): it owns the well-known ports while it runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startNodeRed, type NodeRedProcess } from '../helpers/nodered-process';
import { startPeer, peerAvailable, type Peer } from '../helpers/bacnet-peers';
import { peerSkip } from '../helpers/env';
import { CaClientContext } from '../../src/lib/epics/ca';

const REDEPLOYS = Number(process.env.FIELDLINK_REDEPLOYS ?? 100);
const skip = peerSkip('@bacnet-js/client', peerAvailable('@bacnet-js/client'));

let red: NodeRedProcess;
let peer: Peer;
let ca: CaClientContext;

before(async () => {
  if (skip) return;
  red = await startNodeRed();
  peer = await startPeer('@bacnet-js/client');
  // The default repeater port: this client and Node-RED's epics-context share beacons through
  // whichever of them holds 5065, as libca clients on one host do, so a restarted IOC is found at
  // once rather than at the next step of the search back-off.
  ca = new CaClientContext({ env: {}, addrList: '127.0.0.1:5064', autoAddrList: false, bindAddress: '127.0.0.1', timeoutMs: 5000 });
});

after(async () => {
  await ca?.close();
  peer?.api.close();
  await red?.stop();
});

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function children(pid: number): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${ms} ms (${last instanceof Error ? last.message : String(last)})\n${red.log().slice(-3000)}`);
}

/** Every example service answers: HTTP endpoint, the demo IOC (counter moving), the demo BACnet device. */
async function servicesAnswer(): Promise<void> {
  const body = await until('GET /fieldlink-demo', async () => {
    const r = await fetch(red.url + 'fieldlink-demo');
    return r.ok ? r.text() : undefined;
  });
  assert.match(body, /fieldlink demo/);
  const c1 = await until('caget FIELDLINK:DEMO:COUNTER', async () => (await ca.get('FIELDLINK:DEMO:COUNTER', { metadata: false })).value as number);
  const c2 = await until('the counter moves', async () => {
    const v = (await ca.get('FIELDLINK:DEMO:COUNTER', { metadata: false })).value as number;
    return v !== c1 ? v : undefined;
  });
  assert.equal(typeof c2, 'number');
  const name = await until('BACnet ReadProperty of the demo device name', async () => {
    const r = await peer.readProperty('127.0.0.1:47808', { type: 8, instance: 260001 }, 77);
    return r.values[0]?.value as string;
  });
  assert.equal(name, 'Fieldlink demo device');
  const temp = await peer.readProperty('127.0.0.1:47808', { type: 0, instance: 1 }, 85);
  assert.equal(typeof temp.values[0]?.value, 'number');
}

async function redeploy(): Promise<void> {
  const headers = { 'Node-RED-API-Version': 'v2', 'content-type': 'application/json' };
  const cur = (await (await fetch(red.url + 'flows', { headers })).json()) as { rev: string; flows: unknown[] };
  const r = await fetch(red.url + 'flows', {
    method: 'POST',
    headers: { ...headers, 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ rev: cur.rev, flows: cur.flows }),
  });
  assert.equal(r.status, 200, await r.text());
}

test('the example flows serve HTTP, EPICS CA and BACnet to independent clients', { skip }, async () => {
  await servicesAnswer();
});

test(`${REDEPLOYS} full redeploys leak no descriptors, children or memory, and the examples still work`, { skip, timeout: 900_000 }, async () => {
  for (let i = 0; i < 5; i++) await redeploy();
  await servicesAnswer();
  await new Promise((r) => setTimeout(r, 3000));
  const fd0 = fds(red.pid);
  const rss0 = rssMiB(red.pid);
  const kids0 = children(red.pid).length;
  const t0 = Date.now();
  for (let i = 0; i < REDEPLOYS; i++) await redeploy();
  const perDeploy = (Date.now() - t0) / REDEPLOYS;
  await servicesAnswer();
  await new Promise((r) => setTimeout(r, 5000));
  const fd1 = fds(red.pid);
  const rss1 = rssMiB(red.pid);
  const kids = children(red.pid);
  console.log(`${REDEPLOYS} redeploys, ${perDeploy.toFixed(0)} ms each: fds ${fd0} -> ${fd1}, RSS ${rss0.toFixed(1)} -> ${rss1.toFixed(1)} MiB, children ${kids0} -> ${kids.length}`);
  assert.ok(fd1 <= fd0 + 5, `file descriptors grew from ${fd0} to ${fd1}`);
  assert.ok(kids.length <= kids0, `child processes left behind: ${kids.join('; ')}`);
  // A leak of even one subscription, socket or timer per deploy and node would show as tens of MiB
  // over 100 deploys of ~40 nodes; the bound leaves room for V8's heap growing to its working size.
  assert.ok(rss1 - rss0 < 40, `RSS grew by ${(rss1 - rss0).toFixed(1)} MiB`);
  assert.doesNotMatch(red.log(), /EADDRINUSE|in use|Uncaught|TypeError|RangeError/);
});
