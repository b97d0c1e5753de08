/**
 * The process's beacon repeater (client-repeater.ts): shared by the contexts of one process,
 * confirming and serving registered clients of other processes, and outliving a context that
 * closes for its linger, so a redeploy does not strand registered clients without beacons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { CaClientContext, LocalRepeater, Command, encodeBeacon, encodeRepeaterRegister, ipv4ToU32 } from '../../../../src/lib/epics/ca';
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
