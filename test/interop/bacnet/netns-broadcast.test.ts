/**
 * Real subnet broadcasts between two network namespaces this test creates (veth pair, 192.0.2.0/24;
 * nothing leaves the namespaces): the broadcast address computed from the interface, Who-Is /
 * I-Am by directed broadcast to 192.0.2.255, and the Linux rule that a subnet broadcast reaches
 * only sockets bound to the wildcard or to the broadcast address (our extra broadcast socket when
 * an endpoint binds one interface address). Needs root and iproute2; skipped loudly otherwise.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { peerSkip, haveCommand } from '../../helpers/env';

const tag = (process.pid % 100000).toString(36);
const nsA = `flbacA${tag}`;
const nsB = `flbacB${tag}`;
const vethA = `flba${tag}`;
const vethB = `flbb${tag}`;
const script = join(__dirname, 'netns-node.js');

function canNetns(): boolean {
  if (!haveCommand('ip')) return false;
  try {
    execFileSync('ip', ['netns', 'add', nsA], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'add', nsB], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'set', vethA, 'netns', nsA], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'set', vethB, 'netns', nsB], { stdio: 'ignore' });
    for (const [ns, dev, addr] of [[nsA, vethA, '192.0.2.1/24'], [nsB, vethB, '192.0.2.2/24']] as const) {
      execFileSync('ip', ['-n', ns, 'addr', 'add', addr, 'brd', '+', 'dev', dev], { stdio: 'ignore' });
      execFileSync('ip', ['-n', ns, 'link', 'set', dev, 'up'], { stdio: 'ignore' });
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
    }
    return true;
  } catch {
    cleanup();
    return false;
  }
}

function cleanup(): void {
  for (const ns of [nsA, nsB]) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // not created
    }
  }
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  cleanup();
});

function serve(ns: string, opts: object): Promise<{ child: ChildProcess; info: { local: { host: string; port: number }; broadcast: string } }> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, 'serve', JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^ready (.*)$/m.exec(buf);
      if (m) resolve({ child, info: JSON.parse(m[1]!) as { local: { host: string; port: number }; broadcast: string } });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${buf}`)));
  });
}

function whois(ns: string, opts: object): Record<string, unknown> {
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, script, 'whois', JSON.stringify(opts)], { encoding: 'utf8', timeout: 20_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function stop(child: ChildProcess): Promise<void> {
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
}

// Creating namespaces needs root: without it the test is skipped (loudly), even in CI.
const root = process.getuid?.() === 0;
if (!root) console.warn('\n*** netns broadcast tests need root (ip netns add): skipped ***\n');
const skip = root ? peerSkip('iproute2 (ip netns)', canNetns()) : 'needs root for ip netns';

test('Who-Is by subnet broadcast: wildcard-bound server, client bound to its interface address', { skip }, async () => {
  const srv = await serve(nsA, { interface: vethA, port: 47808 });
  assert.equal(srv.info.broadcast, '192.0.2.255', 'directed broadcast computed from the interface address and mask');
  assert.equal(srv.info.local.host, '0.0.0.0');
  const res = whois(nsB, { interface: vethB, bindInterface: true, port: 47808 });
  assert.deepEqual(res.local, { host: '192.0.2.2', port: 47808 });
  assert.equal(res.broadcast, '192.0.2.255');
  assert.equal(res.warning, null);
  assert.deepEqual(res.found, [{ instance: 4321, host: '192.0.2.1', port: 47808 }]);
  assert.equal(res.name, 'device 4321 0.0.0.0');
  await stop(srv.child);
});

test('a server bound to its interface address still hears broadcast Who-Is (extra broadcast socket)', { skip }, async () => {
  const srv = await serve(nsA, { interface: vethA, bindInterface: true, port: 47808, instance: 99 });
  assert.equal(srv.info.local.host, '192.0.2.1');
  const res = whois(nsB, { interface: vethB, port: 47808 });
  assert.deepEqual(res.found, [{ instance: 99, host: '192.0.2.1', port: 47808 }]);
  assert.equal(res.name, 'device 99 192.0.2.1');
  await stop(srv.child);
});
