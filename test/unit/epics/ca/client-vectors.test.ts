/**
 * The client decoding real server replies: a fake server replays the bytes RSRV (softIocPVA,
 * epics-base 7.0) sent in the capture vectors, answering our client's requests in order. Only
 * the ids our client chose (cid, ioid, subscription id) are patched into the captured headers;
 * payloads go out exactly as captured. Values asserted are the ones test/vectors/README.md lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Command, CaFramer, decodeResponse, DBR, type CaReading } from '../../../../src/lib/epics/ca';
import { readPcap, tcpStreams } from '../../../helpers/pcap';
import { vectorsDir } from '../../../helpers/env';
import { FakeCaServer, splitStream, type FakeConn, type RequestHandler } from './fake-ca-server';
import { loopbackClient, until } from './client-helpers';

interface Replay {
  handler: RequestHandler;
  /** Send the captured monitor updates not sent yet. */
  flushEvents(conn?: FakeConn): void;
  conns: FakeConn[];
}

function patch(frame: Uint8Array, param1?: number, param2?: number): Uint8Array {
  const out = frame.slice();
  const dv = new DataView(out.buffer);
  if (param1 !== undefined) dv.setUint32(8, param1);
  if (param2 !== undefined) dv.setUint32(12, param2);
  return out;
}

/** Replay the server side of the `index`-th TCP connection of a capture. */
function replay(file: string, index = 0): Replay {
  const pk = readPcap(join(vectorsDir, file));
  const fromServer = tcpStreams(pk).filter((s) => s.srcPort === 5064);
  const raw = splitStream(fromServer[index]!.data);
  // Sanity: the same frames decode with the core's framer.
  const f = new CaFramer();
  f.push(fromServer[index]!.data);
  assert.equal(f.drain().length, raw.length);
  const cmd = (b: Uint8Array): number => (b[0]! << 8) | b[1]!;
  const createAt = raw.findIndex((b) => cmd(b) === Command.CREATE_CHAN);
  const createGroup = raw.slice(0, createAt + 1);
  const reads = raw.filter((b) => cmd(b) === Command.READ_NOTIFY);
  const writes = raw.filter((b) => cmd(b) === Command.WRITE_NOTIFY);
  const events = raw.filter((b) => cmd(b) === Command.EVENT_ADD && b.length > 16);
  let sub = 0;
  const conns: FakeConn[] = [];
  const r: Replay = {
    conns,
    flushEvents(conn = conns[0]) {
      while (events.length && conn) conn.send(patch(events.shift()!, undefined, sub));
    },
    handler(req, conn) {
      if (!conns.includes(conn)) conns.push(conn);
      switch (req.kind) {
        case 'CreateChanRequest':
          conn.send(...createGroup.map((b) => (cmd(b) === Command.CREATE_CHAN || cmd(b) === Command.ACCESS_RIGHTS ? patch(b, req.cid) : b)));
          break;
        case 'ReadNotifyRequest':
          if (reads.length) conn.send(patch(reads.shift()!, undefined, req.ioid));
          break;
        case 'WriteNotifyRequest':
          if (writes.length) conn.send(patch(writes.shift()!, undefined, req.ioid));
          if (events.length && sub) conn.send(patch(events.shift()!, undefined, sub));
          break;
        case 'EventAddRequest':
          sub = req.subscriptionId;
          if (events.length) conn.send(patch(events.shift()!, undefined, sub));
          break;
        default:
          break;
      }
    },
  };
  return r;
}

async function withReplay<T>(file: string, fn: (ctx: Awaited<ReturnType<typeof loopbackClient>>, r: Replay) => Promise<T>, index = 0): Promise<T> {
  const r = replay(file, index);
  const fake = await FakeCaServer.start(r.handler);
  const ctx = await loopbackClient(fake.port);
  try {
    return await fn(ctx, r);
  } finally {
    await ctx.close();
    await fake.close();
  }
}

test('ca-get-time-double: 12.5, NO_ALARM, the captured time stamp', async () => {
  await withReplay('ca-get-time-double.pcap', async (ctx) => {
    const r = await ctx.get('TEST:ai', { type: 'time', metadata: false });
    assert.equal(r.value, 12.5);
    assert.equal(r.dataType, DBR.TIME_DOUBLE);
    assert.equal(r.severity, 0);
    assert.equal(r.status, 0);
    assert.ok(r.stamp!.secondsPastEpoch > 1_000_000_000);
    assert.ok(new Date(r.timestamp!).getUTCFullYear() >= 2020);
  });
});

test('ca-get-ctrl-double: units, precision and all limits of TEST:ai', async () => {
  await withReplay('ca-get-ctrl-double.pcap', async (ctx) => {
    const r = await ctx.get('TEST:ai', { type: 'ctrl' });
    assert.equal(r.value, 12.5);
    assert.equal(r.units, 'degC');
    assert.equal(r.precision, 3);
    assert.deepEqual(r.limits, { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } });
  });
});

test('ca-get-ctrl-enum: TEST:mbbo reads as "Running" with its four states', async () => {
  await withReplay('ca-get-ctrl-enum.pcap', async (ctx) => {
    const r = await ctx.get('TEST:mbbo', { type: 'ctrl' });
    assert.equal(r.value, 'Running');
    assert.equal(r.enumIndex, 1);
    assert.deepEqual(r.enumStrings, ['Idle', 'Running', 'Paused', 'Fault']);
  });
});

test('ca-get-string and ca-get-array', async () => {
  await withReplay('ca-get-string.pcap', async (ctx) => {
    assert.equal((await ctx.get('TEST:si', { type: 'time', metadata: false })).value, 'hello EPICS');
  });
  await withReplay('ca-get-array.pcap', async (ctx) => {
    const r = await ctx.get('TEST:wf', { type: 'time', metadata: false });
    const v = r.value as Float64Array;
    assert.equal(r.nativeCount, 1000);
    assert.equal(v.length, 1000);
    for (let i = 0; i < 1000; i++) assert.equal(v[i], i * 0.5);
  });
});

test('ca-monitor-counter: five updates 145..149 all reach the client', async () => {
  await withReplay('ca-monitor-counter.pcap', async (ctx, rp) => {
    const got: number[] = [];
    const m = ctx.monitor('TEST:counter', (r) => got.push(r.value as number), { type: 'time', metadata: false });
    await until(() => got.length === 1, 2000, 'first update');
    assert.equal(got[0], 145);
    rp.flushEvents();
    await until(() => m.received === 5, 2000, 'all five updates');
    await until(() => got.at(-1) === 149, 2000, 'newest delivered');
    assert.equal(m.delivered + m.dropped, 5);
    m.cancel();
  });
});

test('ca-put-callback: WRITE_NOTIFY completion, then the new value', async () => {
  await withReplay('ca-put-callback.pcap', async (ctx) => {
    const before = await ctx.get('TEST:ao', { type: 'time', metadata: false });
    await ctx.put('TEST:ao', 7.25, { wait: true });
    const after = await ctx.get('TEST:ao', { type: 'time', metadata: false });
    assert.notEqual(before.value, after.value);
    assert.equal(typeof after.value, 'number');
  });
});

test('ca-put-double-pyepics: a monitor sees 8.5, then 5.5 after the completed put', async () => {
  await withReplay('ca-put-double-pyepics.pcap', async (ctx) => {
    const got: CaReading[] = [];
    const m = ctx.monitor('TEST:ao', (r) => got.push(r), { type: 'time', metadata: false });
    await until(() => got.length === 1, 2000);
    assert.equal(got[0]!.value, 8.5);
    await ctx.put('TEST:ao', 5.5, { wait: true });
    await until(() => got.length === 2, 2000);
    assert.equal(got[1]!.value, 5.5);
    m.cancel();
  });
});

test('every captured server frame decodes as a response the client knows', () => {
  const files = ['ca-get-array.pcap', 'ca-get-ctrl-double.pcap', 'ca-get-ctrl-enum.pcap', 'ca-get-string.pcap', 'ca-get-time-double.pcap', 'ca-monitor-counter.pcap', 'ca-monitor.pcap', 'ca-put-callback.pcap', 'ca-put-double-pyepics.pcap', 'ca-put.pcap'];
  let n = 0;
  for (const file of files) {
    for (const s of tcpStreams(readPcap(join(vectorsDir, file))).filter((x) => x.srcPort === 5064)) {
      const f = new CaFramer();
      f.push(s.data);
      for (const fr of f.drain()) {
        const m = decodeResponse(fr);
        assert.notEqual(m.kind, 'Unknown', `${file}: command ${fr.header.command}`);
        n++;
      }
    }
  }
  assert.ok(n > 50);
});
