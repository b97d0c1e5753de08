/**
 * Fuzzing the CA client's receive path: mutated and random server frames into a client circuit
 * (framing, dispatch, DBR decoding, ERROR routing) must never throw, and every value handed on
 * must be well formed; then a live rogue server sends garbage over a real socket to a client
 * context with reads and monitors outstanding, and the context must stay usable.
 * Iterations: bounded in `npm test`, 10^6 under `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { join } from 'node:path';
import {
  ClientCircuit, CaServer, DBR, DBE, ECA, Command, resolveClientOptions, encodeReadNotifyResponse, encodeEventAddResponse,
  encodeCreateChanResponse, encodeAccessRights, encodeCreateChFail, encodeServerDisconn, encodeWriteNotifyResponse,
  encodeError, encodeSearchResponse, encodeVersion, encodeEcho, encodeEventCancelResponse, encodeNotFound,
  encodeClearChannel, LAST_DBR_TYPE, dbrLayout, type CircuitOwner, type DbrValue,
} from '../../../src/lib/epics/ca';
import { Channel, type MonitorRecord, type PendingOp } from '../../../src/lib/epics/ca/client-channel';
import { fuzzIterations, vectorsDir } from '../../helpers/env';
import { rng } from '../../helpers/fuzz-rng';
import { readPcap, tcpStreams } from '../../helpers/pcap';
import { FakeCaServer, splitStream } from '../../unit/epics/ca/fake-ca-server';
import { loopbackClient, until } from '../../unit/epics/ca/client-helpers';

/** Server->client frames: our encoders for every DBR type, plus every server frame of the captures. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let t = 0; t <= LAST_DBR_TYPE; t++) {
    const l = dbrLayout(t)!;
    for (const count of [1, 3, 30]) {
      const value = l.elem === 'string' ? Array.from({ length: count }, (_, i) => `s${i}`) : Array.from({ length: count }, (_, i) => i);
      const data = { value, units: 'mm', precision: 2, enumStrings: ['A', 'B'], stamp: { secondsPastEpoch: 1e9, nanoseconds: 5 } };
      out.push(encodeReadNotifyResponse({ ioid: 1, dataType: t, count, data }));
      out.push(encodeEventAddResponse({ subscriptionId: 7, dataType: t, count, data }));
    }
  }
  out.push(
    encodeVersion(), encodeEcho(), encodeCreateChanResponse({ cid: 1, sid: 5, dataType: 6, count: 1 }), encodeAccessRights({ cid: 1, rights: 3 }),
    encodeCreateChFail({ cid: 2 }), encodeServerDisconn({ cid: 1 }), encodeWriteNotifyResponse({ ioid: 1, dataType: 6, count: 1, status: ECA.PUTFAIL }),
    encodeError({ cid: 1, status: ECA.BADCOUNT, request: { command: Command.READ_NOTIFY, payloadSize: 0, dataType: 20, count: 1, param1: 5, param2: 1 }, message: 'no' }),
    encodeError({ cid: 1, status: ECA.BADTYPE, request: { command: Command.EVENT_ADD, payloadSize: 16, dataType: 20, count: 1, param1: 5, param2: 7 }, message: 'bad' }),
    encodeError({ cid: 1, status: ECA.PUTFAIL, request: { command: Command.WRITE, payloadSize: 8, dataType: 6, count: 1, param1: 5, param2: 3 }, message: 'refused' }),
    encodeSearchResponse({ port: 5064, cid: 1, udp: false }), encodeNotFound({ cid: 1 }), encodeEventCancelResponse({ sid: 5, subscriptionId: 7, dataType: 20 }),
    encodeClearChannel({ sid: 5, cid: 1 }), encodeReadNotifyResponse({ ioid: 1, dataType: DBR.TIME_DOUBLE, count: 70_000, data: { value: new Float64Array(70_000) } }),
  );
  for (const f of ['ca-get-array.pcap', 'ca-get-ctrl-double.pcap', 'ca-get-ctrl-enum.pcap', 'ca-monitor-counter.pcap', 'ca-put-callback.pcap']) {
    for (const s of tcpStreams(readPcap(join(vectorsDir, f))).filter((x) => x.srcPort === 5064)) out.push(...splitStream(s.data).map((b) => b.slice()));
  }
  return out;
}

/** Mutate a frame, keeping it well framed (the header's size matches the bytes) most of the time. */
function mutate(src: Uint8Array, r: () => number, ioid: number, subId: number): Uint8Array {
  let b = src.slice();
  const dv = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ext = b.length >= 24 && dv().getUint16(2) === 0xffff;
  const hs = ext ? 24 : 16;
  const pick = r();
  if (pick < 0.35) {
    // Random header field values.
    const d = dv();
    const which = Math.floor(r() * 5);
    if (which === 0) d.setUint16(0, Math.floor(r() * 32));
    else if (which === 1) d.setUint16(4, Math.floor(r() * (LAST_DBR_TYPE + 10)));
    else if (which === 2) {
      if (ext) d.setUint32(20, Math.floor(r() * 200_000));
      else d.setUint16(6, Math.floor(r() * 0xffff));
    } else if (which === 3) d.setUint32(8, r() < 0.5 ? ECA.NORMAL : Math.floor(r() * 0xffffffff));
    else d.setUint32(12, Math.floor(r() * 16));
  } else if (pick < 0.6) {
    // Bit flips in the payload.
    for (let k = 0; k < 1 + Math.floor(r() * 8); k++) {
      if (b.length > hs) b[hs + Math.floor(r() * (b.length - hs))]! ^= 1 << Math.floor(r() * 8);
    }
  } else if (pick < 0.8) {
    // Payload shortened (header size kept consistent).
    const keep = Math.floor(r() * (b.length - hs + 1));
    const nb = new Uint8Array(hs + keep);
    nb.set(b.subarray(0, hs + keep));
    b = nb;
    const d = dv();
    if (ext) d.setUint32(16, keep);
    else d.setUint16(2, Math.min(keep, 0xfffe));
    if (!ext && keep > 0xfffe) b = b.subarray(0, hs + 0xfffe).slice();
  } else {
    // Everything random after a valid command.
    for (let i = 4; i < Math.min(b.length, 64); i++) b[i] = Math.floor(r() * 256);
    const d = dv();
    if (ext) d.setUint32(16, b.length - 24);
    else {
      d.setUint16(2, b.length - 16);
      if (d.getUint16(2) === 0xffff) d.setUint16(2, 0);
    }
  }
  // Aim most frames at live ids so that the dispatch paths run.
  if (r() < 0.7 && b.length >= 16) {
    const d = dv();
    const cmd = d.getUint16(0);
    if (cmd === Command.READ_NOTIFY || cmd === Command.WRITE_NOTIFY) d.setUint32(12, ioid);
    if (cmd === Command.EVENT_ADD) d.setUint32(12, subId);
    if (cmd === Command.CREATE_CHAN || cmd === Command.ACCESS_RIGHTS || cmd === Command.SERVER_DISCONN || cmd === Command.CREATE_CH_FAIL) d.setUint32(8, 1);
  }
  return b;
}

test('client circuit: mutated and random server frames never throw; decoded values are well formed', () => {
  const r = rng(0x5eed);
  const frames = corpus();
  const options = resolveClientOptions({ env: {}, autoAddrList: false });
  let events = 0;
  let completions = 0;
  let failures = 0;
  let warnings = 0;
  let circuits = 0;
  const checkValue = (d: DbrValue | undefined): void => {
    if (!d) return;
    assert.equal(d.value.length, d.count, 'a decoded value has exactly count elements');
  };
  const ch = new Channel('FUZZ:X', 1);
  const owner: CircuitOwner = {
    options,
    channelByCid: (cid) => (cid === 1 ? ch : undefined),
    circuitState: () => {},
    createReply: () => {},
    createFailed: () => {},
    serverDisconn: () => {},
    accessRights: (_c, _ch, rights) => assert.ok(Number.isInteger(rights)),
    event: (_c, _m, _status, data) => {
      events++;
      checkValue(data);
    },
    searchReply: () => {},
    warning: () => {
      warnings++;
    },
  };
  const make = (): ClientCircuit => {
    circuits++;
    const c = new ClientCircuit(owner, '127.0.0.1', 1, 'server', new net.Socket());
    ch.circuit = c;
    ch.state = 'creating';
    const mon: MonitorRecord = { ch, mask: DBE.VALUE, internal: false, id: 0 };
    c.subscribe(mon, 7, DBR.TIME_DOUBLE, 0);
    return c;
  };
  let c = make();
  const n = fuzzIterations(30_000);
  for (let i = 0; i < n; i++) {
    if (c.state === 'closed' || i % 5000 === 0) {
      c.close('rotate');
      c = make();
    }
    const op: PendingOp = {
      ch, ioid: 0, circuit: undefined,
      complete: (_s, data) => {
        completions++;
        checkValue(data);
      },
      fail: (e) => {
        failures++;
        assert.ok(e instanceof Error && e.message.length > 0);
      },
    };
    ch.state = 'connected';
    c.read(op, DBR.TIME_DOUBLE, 1);
    ch.state = r() < 0.5 ? 'creating' : 'connected';
    let bytes: Uint8Array;
    if (r() < 0.05) {
      bytes = new Uint8Array(Math.floor(r() * 64));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(r() * 256);
      const scratch = new ClientCircuit(owner, '127.0.0.1', 1, 'server', new net.Socket());
      scratch.receive(bytes);
      scratch.close('scratch');
      continue;
    }
    bytes = mutate(frames[Math.floor(r() * frames.length)]!, r, op.ioid, 7);
    // Split at a random point: framing across chunks.
    const cut = Math.floor(r() * (bytes.length + 1));
    c.receive(bytes.subarray(0, cut));
    c.receive(bytes.subarray(cut));
    c.forget(op);
  }
  c.close('done');
  assert.ok(events + completions + failures > n / 10, `dispatch paths ran (${events} events, ${completions} completions, ${failures} failures, ${warnings} warnings, ${circuits} circuits)`);
});

test('live rogue server: garbage over a real socket leaves the context usable', async () => {
  const r = rng(42);
  const frames = corpus();
  const good = new CaServer({ port: 0, beacons: false, pvs: [{ name: 'OK:x', type: 'DOUBLE', value: 3 }] });
  await good.listen();
  let rounds = 0;
  const rogue = await FakeCaServer.start((req, conn) => {
    if (req.kind === 'CreateChanRequest') {
      conn.send(encodeVersion(), encodeAccessRights({ cid: req.cid, rights: 3 }), encodeCreateChanResponse({ cid: req.cid, sid: 9, dataType: 6, count: 1 }));
    } else if (req.kind === 'ReadNotifyRequest' || req.kind === 'EventAddRequest') {
      rounds++;
      const burst: Uint8Array[] = [];
      for (let k = 0; k < 40; k++) burst.push(mutate(frames[Math.floor(r() * frames.length)]!, r, req.kind === 'ReadNotifyRequest' ? req.ioid : 1, req.kind === 'EventAddRequest' ? req.subscriptionId : 1));
      conn.send(...burst);
      if (r() < 0.2) conn.close();
    }
  }, ['ROGUE:x', 'ROGUE:y']);
  const ctx = await loopbackClient(rogue.port, { addrList: `127.0.0.1:${rogue.port} 127.0.0.1:${good.udpPort}`, timeoutMs: 300 });
  ctx.on('warning', () => {});
  try {
    const m = ctx.monitor('ROGUE:y', () => {}, { metadata: false });
    const target = fuzzIterations(40, 2000);
    for (let i = 0; i < target; i++) {
      await ctx.get('ROGUE:x', { metadata: false }).catch((e: unknown) => assert.ok(e instanceof Error));
    }
    assert.ok(rounds >= target / 2, `the rogue server answered ${rounds} times`);
    m.cancel();
    // The context still works with a sane server.
    await until(() => true, 10);
    assert.equal((await ctx.get('OK:x', { timeout: 3000 })).value, 3);
  } finally {
    await ctx.close();
    await rogue.close();
    await good.close();
  }
});

test('live rogue search responder: garbage UDP datagrams to the search socket leave the context usable', async () => {
  const r = rng(7);
  const good = new CaServer({ port: 0, beacons: false, pvs: [{ name: 'OK:udp', type: 'DOUBLE', value: 4 }] });
  await good.listen();
  const seeds: Uint8Array[] = [
    encodeVersion(), encodeSearchResponse({ port: good.tcpPort, cid: 1, udp: true }), encodeNotFound({ cid: 1 }),
    encodeEcho(), encodeAccessRights({ cid: 1, rights: 3 }),
  ];
  const rogue = dgram.createSocket('udp4');
  let replies = 0;
  rogue.on('message', (_m, rinfo) => {
    // Answer every search datagram with a burst of mutated and random datagrams.
    for (let k = 0; k < 20; k++) {
      let d: Uint8Array;
      if (r() < 0.3) d = Uint8Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256));
      else {
        const parts = [seeds[Math.floor(r() * seeds.length)]!, seeds[Math.floor(r() * seeds.length)]!];
        d = Buffer.concat(parts);
        for (let j = Math.floor(r() * 4); j >= 0; j--) d[Math.floor(r() * d.length)] = Math.floor(r() * 256);
        if (r() < 0.3) d = d.subarray(0, Math.floor(r() * d.length));
      }
      replies++;
      rogue.send(d, rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((res) => rogue.bind(0, '127.0.0.1', () => res()));
  const rport = (rogue.address() as { port: number }).port;
  const ctx = await loopbackClient(rport, { addrList: `127.0.0.1:${rport} 127.0.0.1:${good.udpPort}`, timeoutMs: 300 });
  ctx.on('warning', () => {});
  try {
    const target = fuzzIterations(30, 3000);
    for (let i = 0; i < target; i++) {
      await ctx.get(`NOWHERE:${i}`, { metadata: false, timeout: 50 }).catch((e: unknown) => assert.ok(e instanceof Error));
    }
    assert.ok(replies > 0, 'the rogue responder was searched');
    assert.equal((await ctx.get('OK:udp', { timeout: 3000 })).value, 4);
  } finally {
    await ctx.close();
    rogue.close();
    await good.close();
  }
});
