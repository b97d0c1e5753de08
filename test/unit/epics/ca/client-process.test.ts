/**
 * The CA client against our CA server in a child process: 10,000 channels, a server restart
 * (monitors resume with a fresh value within 1 s of the first beacon), a server that goes away
 * (channels show disconnected, puts fail clearly), and an unresponsive server (ECHO, then the
 * circuit is dropped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnCaServer, CaClientError, type CaReading, type ChannelEvent } from '../../../../src/lib/epics/ca';
import { loopbackClient, freeUdpPort, until, sleep } from './client-helpers';
import { FakeCaServer } from './fake-ca-server';
import { ECA, encodeAccessRights, encodeCreateChanResponse, encodeVersion, encodeWriteNotifyResponse } from '../../../../src/lib/epics/ca';

test('10,000 channels: connect all, bulk get all, every value right', async () => {
  const srv = await spawnCaServer({ server: { port: 0, beacons: false }, generate: [{ prefix: 'MANY:', count: 10_000, width: 5, type: 'DOUBLE' }] });
  const ctx = await loopbackClient(srv.udpPort, { timeoutMs: 20_000 });
  try {
    const names = Array.from({ length: 10_000 }, (_, i) => `MANY:${String(i).padStart(5, '0')}`);
    const t0 = performance.now();
    const conn = await ctx.connectAll(names);
    const ms = performance.now() - t0;
    const failed = [...conn.values()].filter((v) => v instanceof Error);
    assert.equal(failed.length, 0, `${failed.length} failed, first: ${failed[0] instanceof Error ? failed[0].message : ''}`);
    assert.equal(ctx.circuitCount, 1, 'one circuit carries every channel');
    const st = ctx.stats;
    console.log(`# 10,000 channels connected in ${ms.toFixed(0)} ms; ${st.searchDatagrams} search datagrams, ${st.searchRepeats} repeated searches, ${st.searchReplies} replies`);
    assert.ok(st.searchDatagrams < 10_000 / 20, 'searches packed many to a datagram');
    assert.equal(st.searchRepliesUnmatched, 0);
    const res = await ctx.bulkGet(names, { metadata: false, type: 'time' });
    let bad = 0;
    names.forEach((n, i) => {
      const r = res.get(n);
      if (!r || r instanceof Error || (r as CaReading).value !== i) bad++;
    });
    assert.equal(bad, 0);
  } finally {
    await ctx.close();
    await srv.close();
  }
});

test('server restart: monitors resume with a fresh value within 1 s of the first beacon', async () => {
  const repeaterPort = await freeUdpPort();
  const beaconCfg = { beacons: true, beaconAddresses: '127.0.0.1', beaconPort: repeaterPort, beaconInitialMs: 20, beaconPeriodMs: 400 };
  const pvs = [{ name: 'R:counter', type: 'LONG', value: 7 }, { name: 'R:set', type: 'DOUBLE', value: 1.5, units: 'V' }];
  let srv = await spawnCaServer({ server: { port: 0, ...beaconCfg }, pvs });
  const port = srv.tcpPort;
  const ctx = await loopbackClient(port, { repeaterPort });
  try {
    const got: Array<{ v: unknown; at: number; units: string | undefined }> = [];
    const states: string[] = [];
    const m = ctx.monitor('R:counter', (r) => got.push({ v: r.value, at: performance.now(), units: r.units }), { onState: (e: ChannelEvent) => states.push(e.state) });
    const setVals: CaReading[] = [];
    const m2 = ctx.monitor('R:set', (r) => setVals.push(r));
    await until(() => got.length === 1 && setVals.length === 1, 3000, 'initial values');
    assert.equal(ctx.repeaterRole, 'repeater', 'the context owns the repeater port and hears the beacons');
    await until(() => ctx.stats.beacons >= 2, 3000, 'beacons');
    await srv.request({ cmd: 'update', name: 'R:counter', update: { value: 42 } });
    await until(() => got.at(-1)?.v === 42, 2000, 'update 42');

    await srv.close();
    await until(() => states.includes('disconnected'), 3000, 'disconnected after the server died');
    assert.equal(m.connected, false);
    await sleep(1500); // the search back-off grows meanwhile

    let firstBeaconAt = 0;
    ctx.on('beacon', (b) => {
      if (b.anomaly && !firstBeaconAt) firstBeaconAt = performance.now();
    });
    srv = await spawnCaServer({ server: { port, ...beaconCfg }, pvs });
    await until(() => got.at(-1)?.v === 7, 3000, 'fresh value after the restart');
    const fresh = got.at(-1)!;
    assert.ok(firstBeaconAt > 0, 'the restarted server was noticed by its beacon');
    const delay = fresh.at - firstBeaconAt;
    console.log(`# fresh value ${delay.toFixed(0)} ms after the first beacon`);
    assert.ok(delay < 1000, `fresh value ${delay.toFixed(0)} ms after the first beacon`);
    assert.equal(states.at(-1), 'connected');
    await until(() => setVals.length >= 2 && setVals.at(-1)!.units === 'V', 2000, 'second monitor restored with metadata');
    // And it keeps flowing.
    await srv.request({ cmd: 'update', name: 'R:counter', update: { value: 8 } });
    await until(() => got.at(-1)?.v === 8, 2000, 'update after restart');
    m.cancel();
    m2.cancel();
  } finally {
    await ctx.close();
    await srv.close();
  }
});

test('server gone: channels show disconnected, puts and gets fail with clear errors', async () => {
  const srv = await spawnCaServer({ server: { port: 0, beacons: false }, pvs: [{ name: 'G:x', type: 'DOUBLE', value: 1 }] });
  const ctx = await loopbackClient(srv.udpPort);
  try {
    const events: ChannelEvent[] = [];
    const h = ctx.channel('G:x', (e) => events.push(e));
    await h.connect();
    assert.equal(h.state, 'connected');
    // A read in flight when the server dies fails at once with EDISCONNECTED.
    await srv.request({ cmd: 'stats' });
    srv.child.kill('SIGKILL');
    await until(() => h.state === 'disconnected', 3000, 'disconnected');
    assert.equal(events.at(-1)!.state, 'disconnected');
    await assert.rejects(h.put(5, { timeout: 300 }), (e: unknown) => e instanceof CaClientError && e.code === 'EDISCONNECTED' && /G:x is disconnected \(last server 127\.0\.0\.1:\d+\)/.test(e.message));
    await assert.rejects(ctx.get('G:x', { timeout: 300 }), (e: unknown) => e instanceof CaClientError && e.code === 'EDISCONNECTED');
    h.release();
  } finally {
    await ctx.close();
    await srv.close();
  }
});

test('a read in flight when the connection drops fails with EDISCONNECTED', async () => {
  const fake = await FakeCaServer.start((req, conn) => {
    if (req.kind === 'CreateChanRequest') conn.send(encodeVersion(), encodeAccessRights({ cid: req.cid, rights: 3 }), encodeCreateChanResponse({ cid: req.cid, sid: 1, dataType: 6, count: 1 }));
    if (req.kind === 'ReadNotifyRequest') conn.close(); // dies mid-read
  });
  const ctx = await loopbackClient(fake.port);
  try {
    await assert.rejects(ctx.get('MID:read', { metadata: false }), (e: unknown) => e instanceof CaClientError && e.code === 'EDISCONNECTED' && /MID:read: the connection to 127\.0\.0\.1:\d+ was lost before the reply came/.test(e.message));
  } finally {
    await ctx.close();
    await fake.close();
  }
});

test('an unresponsive server: ECHO after the idle time, channels disconnected, circuit dropped', async () => {
  let echoes = 0;
  const fake = await FakeCaServer.start((req, conn) => {
    if (req.kind === 'CreateChanRequest') conn.send(encodeVersion(), encodeAccessRights({ cid: req.cid, rights: 3 }), encodeCreateChanResponse({ cid: req.cid, sid: 1, dataType: 6, count: 1 }));
    if (req.kind === 'Echo') echoes++; // never answered
  });
  const ctx = await loopbackClient(fake.port, { connTimeoutMs: 150, echoTimeoutMs: 150 });
  const circuitStates: string[] = [];
  ctx.on('circuit', (c) => circuitStates.push(c.state));
  try {
    const states: string[] = [];
    const h = ctx.channel('ECHO:x', (e) => states.push(e.state));
    await h.connect();
    await until(() => states.includes('disconnected'), 2000, 'unresponsive');
    assert.ok(echoes >= 1);
    assert.ok(circuitStates.includes('unresponsive'));
    await until(() => circuitStates.includes('closed'), 2000, 'circuit dropped after the second ECHO');
    assert.ok(echoes >= 2);
    // The fake answers searches, so the channel comes back on a new circuit.
    await until(() => h.state === 'connected', 3000, 'reconnected');
    h.release();
  } finally {
    await ctx.close();
    await fake.close();
  }
});

test('an enum put by state string does not wait past the metadata guard for a server that never sends the states', async () => {
  const writes: Array<{ dataType: number; value: unknown }> = [];
  const fake = await FakeCaServer.start((req, conn) => {
    if (req.kind === 'CreateChanRequest') conn.send(encodeVersion(), encodeAccessRights({ cid: req.cid, rights: 3 }), encodeCreateChanResponse({ cid: req.cid, sid: 1, dataType: 3, count: 1 }));
    // EVENT_ADD (the CTRL_ENUM subscription for the states) is never answered.
    if (req.kind === 'WriteNotifyRequest') {
      writes.push({ dataType: req.dataType, value: req.data?.value });
      conn.send(encodeWriteNotifyResponse({ ioid: req.ioid, dataType: req.dataType, count: req.count, status: ECA.NORMAL }));
    }
  });
  const ctx = await loopbackClient(fake.port, { timeoutMs: 8000 });
  const warnings: string[] = [];
  ctx.on('warning', (w) => warnings.push(w.code));
  try {
    const t0 = performance.now();
    await ctx.put('SILENT:mode', 'Running', { wait: true });
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `the put waited ${ms.toFixed(0)} ms`);
    assert.ok(warnings.includes('ENOMETA'));
    assert.deepEqual(writes, [{ dataType: 0, value: ['Running'] }], 'sent as DBR_STRING for the server to convert');
  } finally {
    await ctx.close();
    await fake.close();
  }
});
