/** TCP-connect ping against open and closed loopback ports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type LookupFunction } from 'node:net';
import { getEventListeners } from 'node:events';
import { tcpPing } from '../../../src/lib/probe/tcp';
/** The failure fields of a result (absent on success). */
const f = (r: { data: object }): { errorcode?: number; errorinfo?: string; reason?: string; rcode?: string; refused?: number; loss_percent?: number } => r.data as never;

async function listen(host: string): Promise<{ port: number; close(): Promise<void>; accepted: () => number }> {
  let n = 0;
  const s = createServer((c) => {
    n++;
    c.destroy();
  });
  await new Promise<void>((r) => s.listen(0, host, r));
  return { port: (s.address() as { port: number }).port, accepted: () => n, close: () => new Promise((r) => s.close(() => r())) };
}

async function closedPort(): Promise<number> {
  const s = await listen('127.0.0.1');
  await s.close();
  return s.port;
}

test('open port on 127.0.0.1 and ::1: every connect timed, statistics like ping', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const s = await listen(host);
    const r = await tcpPing({ host, port: s.port, count: 4, interval: 0.05, timeout: 2 });
    await s.close();
    assert.equal(r.status, 0, JSON.stringify(r.data));
    const d = r.data;
    assert.equal(d.destination_ip, host);
    assert.equal(d.packet_send, 4);
    assert.equal(d.packet_receive, 4);
    assert.equal(d.loss_percent, 0);
    assert.equal(d.rtts!.length, 4);
    assert.ok(d.min_time! > 0 && d.max_time! < 1000);
    assert.equal(d.method, 'tcp');
  }
});

test('closed port: refused counts as lost, or as a reply when asked', async () => {
  const port = await closedPort();
  const r = await tcpPing({ host: '127.0.0.1', port, count: 2, interval: 0.05 });
  assert.equal(r.status, 1);
  assert.equal(f(r).reason, 'refused');
  assert.equal(r.data.refused, 2);
  assert.equal(r.data.loss_percent, 100);
  assert.match(r.data.errorinfo, /refused.*port is closed/);
  const up = await tcpPing({ host: '127.0.0.1', port, count: 2, interval: 0.05, acceptRefused: true });
  assert.equal(up.status, 0);
  assert.equal(up.data.packet_receive, 2);
});

test('a name is resolved once (family 4) and not timed', async () => {
  const s = await listen('127.0.0.1');
  const DELAY = 500;
  const calls: unknown[] = [];
  const lookup = ((h: string, opts: { family?: number }, cb: (err: null, address: string, family: number) => void) => {
    calls.push([h, opts.family]);
    setTimeout(() => cb(null, '127.0.0.1', 4), DELAY);
  }) as unknown as LookupFunction;
  const r = await tcpPing({ host: 'localhost', port: s.port, family: 4, count: 2, interval: 0.05, lookup });
  await s.close();
  assert.equal(r.status, 0, JSON.stringify(r.data));
  assert.equal(r.data.destination, 'localhost');
  assert.equal(r.data.destination_ip, '127.0.0.1');
  assert.deepEqual(calls, [['localhost', 4]]);
  // A loopback connect takes well under a millisecond: a RTT holding the lookup's delay is a bug.
  assert.equal(r.data.rtts!.length, 2);
  for (const rtt of r.data.rtts!) assert.ok(rtt < DELAY, `RTT ${rtt} ms includes the ${DELAY} ms lookup`);
});

test('an attempt that wins the race leaves no timer or abort listener behind', async () => {
  const s = await listen('127.0.0.1');
  const ac = new AbortController();
  const timers = (): number => process.getActiveResourcesInfo().filter((t) => t === 'Timeout').length;
  const before = timers();
  const r = await tcpPing({ host: '127.0.0.1', port: s.port, count: 5, interval: 0.01, timeout: 30, signal: ac.signal });
  await s.close();
  assert.equal(r.status, 0, JSON.stringify(r.data));
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  assert.equal(timers(), before);
});

test('a local address that is not an IP (an interface name) is bad input, not a rejection', async () => {
  const r = await tcpPing({ host: '127.0.0.1', port: 9, count: 1, localAddress: 'eth0' });
  assert.equal(r.status, 1);
  assert.equal(f(r).reason, 'bad-input');
  assert.match(f(r).errorinfo!, /local address must be an IP address.*"eth0"/);
});

test('bad input and cancellation', async () => {
  assert.equal(f(await tcpPing({ host: '127.0.0.1', port: 0 })).reason, 'bad-input');
  assert.equal(f(await tcpPing({ host: '127.0.0.1', port: 70000 })).reason, 'bad-input');
  assert.equal(f(await tcpPing({ host: '-x', port: 80 })).reason, 'bad-input');
  assert.equal(f(await tcpPing({ host: '::1', port: 80, family: 4 })).reason, 'bad-input');
  const s = await listen('127.0.0.1');
  const ac = new AbortController();
  const p = tcpPing({ host: '127.0.0.1', port: s.port, count: 100, interval: 0.5, signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const t0 = Date.now();
  const r = await p;
  await s.close();
  assert.equal(f(r).reason, 'cancelled');
  assert.ok(Date.now() - t0 < 2000);
});
