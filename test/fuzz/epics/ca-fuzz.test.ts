/**
 * Fuzzing the CA protocol core and the server with random and mutated frames: the decoders may
 * only throw DecodeError; the server's circuit never throws, closes circuits on garbage and keeps
 * answering well-behaved clients, over TCP and UDP. Iterations: bounded in `npm test`, 10^6
 * under `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import {
  CaFramer, CaServer, DBR, DBE, ECA, ServerCircuit, ServerPv, decodeRequest, decodeResponse, decodeRequestDatagram,
  decodeResponseDatagram, decodeDbr, answerSearchDatagram, packSearchRequests, AccessRights,
  encodeVersion, encodeHostName, encodeClientName, encodeCreateChanRequest, encodeReadNotifyRequest, encodeWriteRequest,
  encodeWriteNotifyRequest, encodeEventAddRequest, encodeEventCancelRequest, encodeEventsOff, encodeEventsOn,
  encodeClearChannel, encodeEcho, encodeSearchRequest, encodeReadSync, encodeReadNotifyResponse, encodeEventAddResponse,
  encodeError, encodeBeacon, encodeHeader, Command, type CircuitHost, type WriteOutcome,
} from '../../../src/lib/epics/ca';
import { DecodeError } from '../../../src/lib/wire/errors';
import { fuzzIterations, vectorsDir } from '../../helpers/env';
import { rng } from '../../helpers/fuzz-rng';
import { readPcap, tcpStreams } from '../../helpers/pcap';

/** Client-side frames: our encoders plus every client->server frame of the capture vectors. */
function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [
    encodeVersion(), encodeHostName('h'), encodeClientName('u'), encodeCreateChanRequest({ cid: 1, name: 'F:X' }),
    encodeCreateChanRequest({ cid: 2, name: 'F:WF' }), encodeReadNotifyRequest({ sid: 1, ioid: 1, dataType: DBR.CTRL_DOUBLE, count: 1 }),
    encodeReadNotifyRequest({ sid: 2, ioid: 2, dataType: DBR.TIME_DOUBLE, count: 0 }),
    encodeWriteRequest({ sid: 1, ioid: 3, dataType: DBR.STRING, count: 1, data: { value: ['1.5'] } }),
    encodeWriteNotifyRequest({ sid: 2, ioid: 4, dataType: DBR.DOUBLE, count: 3, data: { value: [1, 2, 3] } }),
    encodeEventAddRequest({ sid: 1, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 0, mask: DBE.VALUE | DBE.ALARM }),
    encodeEventCancelRequest({ sid: 1, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 0 }),
    encodeEventsOff(), encodeEventsOn(), encodeClearChannel({ sid: 1, cid: 1 }), encodeEcho(), encodeReadSync(),
    encodeSearchRequest({ name: 'F:X', cid: 9 }),
  ];
  for (const f of readdirSync(vectorsDir).filter((n) => n.startsWith('ca-') && n.endsWith('.pcap'))) {
    for (const s of tcpStreams(readPcap(f))) {
      if (s.dstPort !== 5064) continue;
      const fr = new CaFramer();
      fr.push(s.data);
      for (const x of fr.drain()) out.push(Uint8Array.from(Buffer.concat([encodeHeader(x.header), x.payload])));
    }
  }
  return out;
}

const CORPUS = corpus();

function mutate(r: () => number, base: Uint8Array): Uint8Array {
  const b = Uint8Array.from(base);
  const kind = Math.floor(r() * 6);
  const pick = (n: number): number => Math.floor(r() * n);
  switch (kind) {
    case 0: // flip a few random bytes
      for (let i = 0, n = 1 + pick(4); i < n && b.length; i++) b[pick(b.length)] = pick(256);
      return b;
    case 1: { // rewrite one header field
      if (b.length < 16) return b;
      const dv = new DataView(b.buffer);
      const field = pick(6);
      const v = [0, 1, 0xffff, 0xfffe, pick(65536), 39, 38, 34, 7][pick(9)]!;
      if (field < 4) dv.setUint16(field * 2, v);
      else dv.setUint32(field === 4 ? 8 : 12, r() < 0.5 ? v : pick(2 ** 32));
      return b;
    }
    case 2: // truncate
      return b.subarray(0, pick(b.length + 1));
    case 3: { // random bytes
      const n = pick(64);
      const x = new Uint8Array(n);
      for (let i = 0; i < n; i++) x[i] = pick(256);
      return x;
    }
    case 4: { // valid command, random rest
      const x = Uint8Array.from(b);
      for (let i = 2; i < x.length; i++) if (r() < 0.2) x[i] = pick(256);
      return x;
    }
    default: // extended-header marker with a random size
      if (b.length >= 8) {
        const dv = new DataView(b.buffer);
        dv.setUint16(2, 0xffff);
        dv.setUint16(6, 0);
      }
      return b;
  }
}

function onlyDecodeErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

test('decoders throw only DecodeError for random and mutated input', () => {
  const r = rng(1);
  const n = fuzzIterations(20_000);
  for (let i = 0; i < n; i++) {
    const base = CORPUS[Math.floor(r() * CORPUS.length)]!;
    const m = mutate(r, base);
    const f = new CaFramer({ maxPayload: 1 << 20 });
    f.push(m);
    onlyDecodeErrors(() => {
      for (const fr of f.drain()) {
        onlyDecodeErrors(() => decodeRequest(fr));
        onlyDecodeErrors(() => decodeResponse(fr));
        onlyDecodeErrors(() => decodeRequest(fr, true));
      }
    });
    onlyDecodeErrors(() => decodeRequestDatagram(m));
    onlyDecodeErrors(() => decodeResponseDatagram(m));
    onlyDecodeErrors(() => decodeDbr(Math.floor(r() * 45), Math.floor(r() * 20), m));
    onlyDecodeErrors(() => answerSearchDatagram(m, { tcpPort: 1, replyNotFound: true, has: () => r() < 0.5 }));
  }
  // Server-side messages too (responses mutated), decoded in both directions.
  const server = [
    encodeReadNotifyResponse({ ioid: 1, dataType: DBR.CTRL_ENUM, count: 1, data: { value: [1], enumStrings: ['a', 'b'] } }),
    encodeEventAddResponse({ subscriptionId: 1, dataType: DBR.TIME_STRING, count: 2, data: { value: ['x', 'y'] } }),
    encodeError({ cid: 1, status: ECA.BADCHID, request: { command: 15, payloadSize: 0, dataType: 6, count: 1, param1: 1, param2: 2 }, message: 'x' }),
    encodeBeacon({ port: 1, beaconId: 2 }),
  ];
  for (let i = 0; i < n / 4; i++) {
    const m = mutate(r, server[Math.floor(r() * server.length)]!);
    const f = new CaFramer({ maxPayload: 1 << 20 });
    f.push(m);
    onlyDecodeErrors(() => f.drain().forEach((fr) => onlyDecodeErrors(() => decodeResponse(fr))));
  }
});

test('a server circuit never throws; garbage closes it, and a fresh circuit still works', () => {
  const pvs = new Map<string, ServerPv>([
    ['F:X', new ServerPv({ name: 'F:X', type: 'DOUBLE', value: 1 })],
    ['F:WF', new ServerPv({ name: 'F:WF', type: 'DOUBLE', count: 10 })],
    ['F:E', new ServerPv({ name: 'F:E', type: 'ENUM', enumStrings: ['a', 'b'] })],
  ]);
  const host: CircuitHost = {
    findPv: (n) => pvs.get(n),
    rightsFor: () => AccessRights.READ_WRITE,
    write: (ctx): WriteOutcome => {
      ctx.pv.update({ value: ctx.value });
      return { status: ECA.NORMAL };
    },
    tcpPort: 5064,
  };
  const r = rng(2);
  const n = fuzzIterations(5_000);
  let closes = 0;
  let sent = 0;
  for (let i = 0; i < n; i++) {
    const circuit = new ServerCircuit(host, { send: () => sent++, close: () => closes++ }, { address: '127.0.0.1', port: 1 }, { maxPayload: 1 << 20 });
    circuit.start();
    // A valid prefix (channels exist), then mutated frames, delivered in random chunk sizes.
    const frames = [encodeVersion(), encodeCreateChanRequest({ cid: 1, name: 'F:X' }), encodeCreateChanRequest({ cid: 2, name: 'F:WF' })];
    for (let k = 0, m = 1 + Math.floor(r() * 8); k < m; k++) frames.push(r() < 0.3 ? CORPUS[Math.floor(r() * CORPUS.length)]! : mutate(r, CORPUS[Math.floor(r() * CORPUS.length)]!));
    const stream = Buffer.concat(frames);
    let off = 0;
    while (off < stream.length) {
      const len = 1 + Math.floor(r() * 64);
      circuit.receive(stream.subarray(off, off + len)); // must not throw
      off += len;
    }
    if (r() < 0.5) pvs.get('F:X')!.update({ value: i });
    circuit.close();
  }
  assert.ok(closes > 0, 'some garbage closed circuits');
  assert.ok(sent > n, 'circuits answered');
  // A clean circuit still works.
  const out: Uint8Array[] = [];
  const c = new ServerCircuit(host, { send: (b) => out.push(b), close: () => assert.fail('closed a clean circuit') }, { address: '127.0.0.1', port: 1 });
  c.start();
  c.receive(Buffer.concat([encodeVersion(), encodeCreateChanRequest({ cid: 1, name: 'F:X' })]));
  assert.equal(out.length, 3);
});

async function roundTripOk(port: number): Promise<void> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  const f = new CaFramer();
  const got: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not answer a clean client')), 5000);
    sock.on('data', (d: Buffer) => {
      f.push(d);
      for (const fr of f.drain()) {
        const m = decodeResponse({ ...fr, payload: fr.payload.slice() });
        got.push(fr.header.command);
        if (m.kind === 'CreateChanResponse') sock.write(encodeReadNotifyRequest({ sid: m.sid, ioid: 1, dataType: DBR.TIME_DOUBLE, count: 1 }));
        if (m.kind === 'ReadNotifyResponse') {
          clearTimeout(t);
          assert.equal(m.status, ECA.NORMAL);
          resolve();
        }
      }
    });
    sock.on('error', reject);
    sock.write(Buffer.concat([encodeVersion(), encodeCreateChanRequest({ cid: 1, name: 'F:X' })]));
  });
  sock.destroy();
  assert.ok(got.includes(Command.READ_NOTIFY));
}

test('live server: mutated TCP streams and UDP datagrams, then it still answers', async () => {
  const server = new CaServer({
    port: 0,
    beacons: false,
    maxPayload: 1 << 20,
    pvs: [{ name: 'F:X', type: 'DOUBLE', value: 1 }, { name: 'F:WF', type: 'DOUBLE', count: 10 }, { name: 'F:E', type: 'ENUM', enumStrings: ['a', 'b'] }],
  });
  let warnings = 0;
  server.on('warning', () => warnings++);
  await server.listen();
  const r = rng(3);
  const total = fuzzIterations(3_000);
  const perConn = 50;
  const conns = Math.ceil(total / perConn);
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  for (let c = 0; c < conns; c++) {
    const frames: Uint8Array[] = [encodeVersion(), encodeCreateChanRequest({ cid: 1, name: 'F:X' })];
    for (let k = 0; k < perConn; k++) frames.push(r() < 0.5 ? CORPUS[Math.floor(r() * CORPUS.length)]! : mutate(r, CORPUS[Math.floor(r() * CORPUS.length)]!));
    const data = Buffer.concat(frames);
    await new Promise<void>((resolve) => {
      const s = net.connect({ port: server.tcpPort, host: '127.0.0.1' }, () => {
        s.write(data, () => s.end());
      });
      s.on('data', () => {});
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      setTimeout(() => s.destroy(), 200).unref();
    });
    const dg = mutate(r, packSearchRequests([{ name: 'F:X', cid: c }], { sequence: () => c })[0]!);
    udp.send(dg, server.udpPort, '127.0.0.1');
  }
  await roundTripOk(server.tcpPort);
  // UDP still answered.
  const reply = new Promise<boolean>((resolve) => {
    udp.on('message', (m) => {
      try {
        if (decodeResponseDatagram(m).some((x) => x.kind === 'SearchResponse' && x.cid === 424242)) resolve(true);
      } catch {
        // replies to mutated searches may be anything we sent; ignore
      }
    });
    setTimeout(() => resolve(false), 3000).unref();
  });
  udp.send(packSearchRequests([{ name: 'F:X', cid: 424242 }])[0]!, server.udpPort, '127.0.0.1');
  assert.equal(await reply, true, 'UDP search still answered');
  assert.ok(server.stats.malformedFrames > 0, 'garbage was counted');
  assert.equal(warnings, 0, `no internal errors (${warnings})`);
  assert.equal(server.stats.listenerErrors, 0);
  udp.close();
  await server.close();
});
