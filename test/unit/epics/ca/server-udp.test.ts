/**
 * The server's UDP side: search answering (pure and live), the beacon schedule and live beacons
 * to a test-owned port, and that close() releases every socket and timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import {
  CaServer, answerSearchDatagram, BeaconSchedule, parseAddressList, packSearchRequests, decodeResponseDatagram,
  SearchReply, ipv4ToU32, type CaResponse,
} from '../../../../src/lib/epics/ca';
import { hex } from './hex';

test('answerSearchDatagram: VERSION echo, replies for our names, NOT_FOUND on DO_REPLY when enabled', () => {
  const names = new Set(['A', 'B']);
  const [dg] = packSearchRequests([{ name: 'A', cid: 1 }, { name: 'X', cid: 2 }, { name: 'B', cid: 3 }], { sequence: () => 42, reply: SearchReply.DO_REPLY });
  const ans = answerSearchDatagram(dg!, { tcpPort: 6000, replyNotFound: true, has: (n) => names.has(n) });
  assert.equal(ans.searched, 3);
  assert.equal(ans.found, 2);
  const msgs = ans.replies.flatMap((r) => decodeResponseDatagram(r));
  assert.deepEqual(msgs, [
    { kind: 'Version', priority: 0, minorVersion: 13, sequence: 42 },
    { kind: 'SearchResponse', port: 6000, cid: 1, serverIp: 0xffffffff, minorVersion: 13 },
    { kind: 'NotFoundResponse', cid: 2, reply: 10, minorVersion: 13 },
    { kind: 'SearchResponse', port: 6000, cid: 3, serverIp: 0xffffffff, minorVersion: 13 },
  ]);
  const quiet = answerSearchDatagram(dg!, { tcpPort: 6000, replyNotFound: false, has: () => false });
  assert.equal(quiet.replies.length, 0);
  const [dont] = packSearchRequests([{ name: 'X', cid: 2 }]);
  assert.equal(answerSearchDatagram(dont!, { tcpPort: 1, replyNotFound: true, has: () => false }).replies.length, 0, 'DONT_REPLY: silence');
  assert.throws(() => answerSearchDatagram(hex('00 06 00 08 00 05 00 0d'), { tcpPort: 1, replyNotFound: true, has: () => true }), { code: 'EDECODE' });
  // Many found names split into several reply datagrams of at most 1024 bytes.
  const many = packSearchRequests(Array.from({ length: 200 }, (_, i) => ({ name: `N${i}`, cid: i })), { sequence: () => 1 });
  const big = many.flatMap((d) => answerSearchDatagram(d, { tcpPort: 1, replyNotFound: false, has: () => true }).replies);
  assert.ok(big.every((d) => d.length <= 1024));
  assert.equal(big.flatMap((d) => decodeResponseDatagram(d)).filter((m) => m.kind === 'SearchResponse').length, 200);
});

test('beacon schedule: 20 ms doubling to the 15 s period', () => {
  const s = new BeaconSchedule();
  const seq = Array.from({ length: 12 }, () => s.next());
  assert.deepEqual(seq, [20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 15000, 15000]);
  s.reset();
  assert.equal(s.next(), 20);
});

test('address lists', () => {
  assert.deepEqual(parseAddressList('127.0.0.1 10.1.2.255:5999,localhost', 5065), [
    { host: '127.0.0.1', port: 5065 }, { host: '10.1.2.255', port: 5999 }, { host: 'localhost', port: 5065 },
  ]);
  assert.deepEqual(parseAddressList(['[::1]:7000'], 1), [{ host: '::1', port: 7000 }]);
  assert.throws(() => parseAddressList('1.2.3.4:99999', 1), { code: 'ELOCALPROTO' });
});

function udpListener(): Promise<{ sock: dgram.Socket; port: number; got: Array<{ at: number; msgs: CaResponse[] }> }> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const got: Array<{ at: number; msgs: CaResponse[] }> = [];
    sock.on('message', (m) => got.push({ at: performance.now(), msgs: decodeResponseDatagram(m) }));
    sock.bind(0, '127.0.0.1', () => resolve({ sock, port: (sock.address()).port, got }));
  });
}

test('live: UDP search on the TCP port number, beacons to a test-owned port, close() releases everything', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
  const beacon = await udpListener();
  const server = new CaServer({ port: 0, beaconAddresses: [`127.0.0.1:${beacon.port}`], pvs: [{ name: 'U:X', type: 'DOUBLE', value: 1 }] });
  const t0 = performance.now();
  await server.listen();
  assert.equal(server.udpPort, server.tcpPort);
  const client = await udpListener();
  for (const d of packSearchRequests([{ name: 'U:X', cid: 7 }, { name: 'U:NONE', cid: 8 }], { sequence: () => 3, reply: SearchReply.DO_REPLY })) {
    client.sock.send(d, server.udpPort, '127.0.0.1');
  }
  const until = async (pred: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await until(() => client.got.length > 0 && beacon.got.length >= 5, 2000);
  assert.deepEqual(client.got[0]!.msgs, [
    { kind: 'Version', priority: 0, minorVersion: 13, sequence: 3 },
    { kind: 'SearchResponse', port: server.tcpPort, cid: 7, serverIp: 0xffffffff, minorVersion: 13 },
    { kind: 'NotFoundResponse', cid: 8, reply: 10, minorVersion: 13 },
  ]);
  const beacons = beacon.got.slice(0, 5).map((g) => g.msgs[0]!);
  beacons.forEach((b, i) => assert.deepEqual(b, { kind: 'Beacon', minorVersion: 13, port: server.tcpPort, beaconId: i, serverIp: ipv4ToU32('127.0.0.1') }));
  // Intervals 20, 40, 80, 160 ms: check the ramp with generous bounds (timers are not exact).
  const at = beacon.got.slice(0, 5).map((g) => g.at);
  assert.ok(at[0]! - t0 < 500, 'first beacon at once');
  const gaps = at.slice(1).map((v, i) => v - at[i]!);
  assert.ok(gaps[3]! > gaps[0]!, `intervals grow: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  assert.ok(gaps[0]! >= 15 && gaps[3]! >= 120, `ramp ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  await server.close();
  client.sock.close();
  beacon.sock.close();
  await new Promise((r) => setTimeout(r, 50));
  const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
  assert.ok(after <= before, `resources before ${before}, after ${after}: ${process.getActiveResourcesInfo().join(',')}`);
});

test('listen on a taken port fails cleanly; bind address and advertised address', async () => {
  const a = new CaServer({ port: 0, beacons: false });
  await a.listen();
  const b = new CaServer({ port: a.tcpPort, beacons: false });
  await assert.rejects(b.listen(), /EADDRINUSE/);
  await b.close();
  await a.close();
  const c = new CaServer({ port: 0, host: '127.0.0.2', udp: false, beacons: false, pvs: [{ name: 'Z', type: 'LONG' }] });
  await c.listen();
  assert.equal(c.udpPort, 0);
  await c.close();
});

test('close() while listen() is under way: listen() settles, nothing stays bound, no beacons go out', async () => {
  // A port pair that was free a moment ago, and a test-owned beacon sink.
  const probe = new CaServer({ port: 0, beacons: false });
  await probe.listen();
  const port = probe.tcpPort;
  await probe.close();
  const sink = dgram.createSocket('udp4');
  const beacons: Buffer[] = [];
  sink.on('message', (m) => beacons.push(m));
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const beaconPort = (sink.address() as { port: number }).port;
  try {
    // Closed at once (during the TCP bind), then a few ticks later each time: during the UDP bind,
    // or after listen() finished. Whatever the moment, listen() settles and close() frees the port.
    for (let ticks = 0; ticks < 8; ticks++) {
      const s = new CaServer({ port, beaconAddresses: '127.0.0.1', beaconPort });
      const listening = s.listen().then(() => 'listened', (e: unknown) => e);
      for (let i = 0; i < ticks; i++) await new Promise((r) => process.nextTick(r));
      await s.close();
      const outcome = await listening;
      if (ticks === 0) assert.match(String(outcome), /closed while starting/);
      else assert.ok(outcome === 'listened' || /closed while starting/.test(String(outcome)), String(outcome));
      assert.equal(s.listening, false);
      await assert.rejects(s.listen(), /server is closed/);
      // The port is free again, for TCP and UDP alike.
      const tcp = net.createServer();
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
      });
      await new Promise<void>((r) => tcp.close(() => r()));
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve());
      });
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise((r) => setTimeout(r, 30));
      if (outcome !== 'listened') assert.equal(beacons.length, 0, 'no beacons from a server closed while starting');
      beacons.length = 0; // (one that did listen sent its first beacon at once)
    }
  } finally {
    sink.close();
  }
});
