/**
 * The process's beacon repeater (client-repeater.ts): shared by the contexts of one process,
 * confirming and serving registered clients of other processes, and outliving a context that
 * closes for its linger, so a redeploy does not strand registered clients without beacons.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { CaClientContext, ClientUdp, LocalRepeater, Command, encodeBeacon, encodeRepeaterConfirm, encodeRepeaterRegister, ipv4ToU32 } from '../../../../src/lib/epics/ca';
import { freeUdpPort, sleep, until } from './client-helpers';

async function udp(): Promise<{ s: dgram.Socket; port: number; got: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { s, port: (s.address() as { port: number }).port, got };
}

function context(repeaterPort: number, repeaterLingerMs: number): CaClientContext {
  // A search destination nobody answers: the context opens its UDP side (and the repeater).
  return new CaClientContext({ env: {}, addrList: '127.0.0.1:9', autoAddrList: false, bindAddress: '127.0.0.1', repeaterPort, repeaterLingerMs, timeoutMs: 200 });
}

const cmd = (b: Buffer): number => (b[0]! << 8) | b[1]!;

test('contexts of one process share one repeater; registered clients and the contexts get every beacon', async () => {
  const rport = await freeUdpPort();
  const a = context(rport, 0);
  const b = context(rport, 0);
  await Promise.all([a.get('NONE:a').catch(() => undefined), b.get('NONE:b').catch(() => undefined)]);
  assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 1);
  assert.equal(a.repeaterRole, 'repeater');
  assert.equal(b.repeaterRole, 'repeater');
  const ext = await udp();
  ext.s.send(encodeRepeaterRegister({ clientIp: ipv4ToU32('127.0.0.1') }), rport, '127.0.0.1');
  await until(() => ext.got.some((m) => cmd(m) === Command.REPEATER_CONFIRM), 2000, 'REPEATER_CONFIRM');
  const server = await udp();
  server.s.send(encodeBeacon({ port: 5064, beaconId: 1 }), rport, '127.0.0.1');
  await until(() => ext.got.some((m) => cmd(m) === Command.RSRV_IS_UP), 2000, 'the beacon forwarded to the registered client');
  await until(() => a.stats.beacons === 1 && b.stats.beacons === 1, 2000, 'the beacon delivered to both contexts');
  await a.close();
  await b.close();
  assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 0, 'no linger: closed with the last context');
  ext.s.close();
  server.s.close();
});

test('the repeater outlives a closed context for its linger; a new context adopts it and registered clients keep their beacons', async () => {
  const rport = await freeUdpPort();
  const first = context(rport, 1500);
  await first.get('NONE:x').catch(() => undefined);
  const ext = await udp();
  ext.s.send(encodeRepeaterRegister({ clientIp: ipv4ToU32('127.0.0.1') }), rport, '127.0.0.1');
  await until(() => ext.got.some((m) => cmd(m) === Command.REPEATER_CONFIRM), 2000, 'REPEATER_CONFIRM');
  await first.close(); // a redeploy: the old context closes ...
  await sleep(200);
  const second = context(rport, 1500); // ... and the new one starts
  await second.get('NONE:y').catch(() => undefined);
  assert.equal(second.repeaterRole, 'repeater', 'the new context adopted the lingering repeater');
  const server = await udp();
  server.s.send(encodeBeacon({ port: 5064, beaconId: 7 }), rport, '127.0.0.1');
  await until(() => ext.got.some((m) => cmd(m) === Command.RSRV_IS_UP), 2000, 'the registered client still gets beacons');
  await second.close();
  assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 1, 'lingering');
  await until(() => LocalRepeater.running().every((r) => r.key !== `127.0.0.1:${rport}`), 4000, 'released after the linger');
  ext.s.close();
  server.s.close();
});

test('a lingering repeater does not keep the process alive', async () => {
  const rport = await freeUdpPort();
  const held = (): string[] => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'Timeout');
  await sleep(50); // sockets of the tests before have finished closing
  const before = held();
  const ctx = context(rport, 3000);
  await ctx.get('NONE:l').catch(() => undefined);
  assert.equal(ctx.repeaterRole, 'repeater');
  await ctx.close();
  await sleep(20); // the search socket's handle goes a turn after its close callback
  assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 1, 'lingering');
  assert.deepEqual(held(), before, 'neither its socket nor its timer holds the event loop');
  // A context that comes during the linger adopts it, and it holds the loop again while used.
  const next = context(rport, 0);
  await next.get('NONE:m').catch(() => undefined);
  assert.equal(next.repeaterRole, 'repeater');
  assert.equal(held().filter((r) => r === 'UDPWrap').length, before.filter((r) => r === 'UDPWrap').length + 2, 'search socket and repeater');
  await next.close();
  assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 0);
});

test('a context closed while its repeater is being bound releases the repeater', async () => {
  const rport = await freeUdpPort();
  const key = `127.0.0.1:${rport}`;
  const udp = new ClientUdp({ bindAddress: '127.0.0.1', repeaterPort: rport, broadcast: false, onDatagram: () => {}, onError: () => {} });
  const acquire = LocalRepeater.acquire.bind(LocalRepeater);
  LocalRepeater.acquire = async (address, port) => {
    const closing = udp.close(); // the context closes while the repeater port is being bound
    const r = await acquire(address, port);
    await closing;
    return r;
  };
  try {
    await udp.open();
    assert.equal(udp.role, 'none');
    assert.equal(LocalRepeater.running().filter((r) => r.key === key).length, 0, 'no repeater left bound');
  } finally {
    LocalRepeater.acquire = acquire;
    // Without the fix the repeater would stay bound for good: let it go so the test can end.
    for (const r of LocalRepeater.running().filter((x) => x.key === key)) await r.attach(() => {}, 0)(0);
  }
});

test('registered with a repeater that goes away: the re-registration goes unconfirmed and the context takes the port over', async () => {
  const rport = await freeUdpPort();
  // Another process's repeater: holds the port and confirms every registration.
  const ext = dgram.createSocket('udp4');
  let registrations = 0;
  ext.on('message', (m, rinfo) => {
    if (cmd(m) !== Command.REPEATER_REGISTER) return;
    registrations++;
    ext.send(encodeRepeaterConfirm({ repeaterIp: ipv4ToU32('127.0.0.1') }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => ext.bind(rport, '127.0.0.1', () => r()));
  // Timers are faked (the 60 s and 10 s re-registration periods); sockets are real, so wait on I/O turns.
  const settle = async (pred: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 3000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  };
  mock.timers.enable({ apis: ['setTimeout'] });
  const udp = new ClientUdp({ bindAddress: '127.0.0.1', repeaterPort: rport, broadcast: false, onDatagram: () => {}, onError: () => {} });
  try {
    await udp.open();
    await settle(() => udp.role === 'registered', 'registered');
    // A live repeater confirms each re-registration: the context stays registered.
    mock.timers.tick(60_000);
    await settle(() => registrations === 2, 'the re-registration');
    await sleepIo(50);
    mock.timers.tick(10_000);
    await settle(() => registrations === 3, 'the next re-registration');
    assert.equal(udp.role, 'registered');
    // The repeater goes away: its port is free and nobody confirms.
    await new Promise<void>((r) => ext.close(() => r()));
    mock.timers.tick(10_000);
    await sleepIo(50);
    mock.timers.tick(10_000);
    await settle(() => udp.role === 'repeater', 'the takeover');
    assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 1);
  } finally {
    mock.timers.reset();
    await udp.close();
  }
  assert.equal(LocalRepeater.running().filter((r) => r.key === `127.0.0.1:${rport}`).length, 0);
});

/** Let real I/O run for a while without timers (they are faked in some tests). */
async function sleepIo(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) await new Promise((r) => setImmediate(r));
}
