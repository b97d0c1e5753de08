/**
 * Our CA server under load, in its own process (spawnCaServer), read by libca (ctypes through
 * python3-pyepics: one ca_array_get per PV then one ca_pend_io, the batched read of libca) and by
 * a raw client built on our protocol core (all requests in one write). Correctness is checked
 * before timing. Results: bench/results/epics-ca-server.json.
 *
 *   npm run bench -- epics/ca-server
 */
import assert from 'node:assert/strict';
import { spawnCaServer } from '../../src/lib/epics/ca/server-main';
import { DBR, DBE, encodeVersion, encodeCreateChanRequest, encodeReadNotifyRequest, encodeEventAddRequest } from '../../src/lib/epics/ca';
import { RawClient } from '../../test/unit/epics/ca/rawclient';
import { PyCa, havePyepics } from '../../test/interop/epics/pyca';
import { median, quantile, nowMs, report, type Figure } from '../harness';

const N = 100;
const ROUNDS = 300;
const names = Array.from({ length: N }, (_, i) => `BENCH:${String(i).padStart(2, '0')}`);

async function main(): Promise<void> {
  const srv = await spawnCaServer({
    server: { port: 0, beacons: false },
    generate: [{ prefix: 'BENCH:', count: N, type: 'DOUBLE', units: 'mm', precision: 1 }],
    pvs: [{ name: 'BENCH:MON', type: 'DOUBLE', value: 0 }, { name: 'BENCH:WF', type: 'DOUBLE', count: 100_000 }],
  });
  const figures: Figure[] = [];
  try {
    // Raw client on our core: connect the 100 channels.
    const c = await RawClient.connect(srv.tcpPort);
    c.send(encodeVersion(), ...names.map((name, i) => encodeCreateChanRequest({ cid: i + 1, name })));
    await c.until((r) => r.filter((m) => m.kind === 'CreateChanResponse').length === N);
    const sids = new Map(c.all('CreateChanResponse').map((m) => [m.cid, m.sid]));
    let ioid = 1;
    const bulk = async (): Promise<number> => {
      const from = c.received.length;
      const first = ioid;
      const reqs = names.map((_, i) => encodeReadNotifyRequest({ sid: sids.get(i + 1)!, ioid: ioid++, dataType: DBR.TIME_DOUBLE, count: 1 }));
      const t0 = nowMs();
      c.send(...reqs);
      await c.until((r) => r.length - from >= N);
      const dt = nowMs() - t0;
      const got = c.received.slice(from).map((m) => (m.kind === 'ReadNotifyResponse' ? Number((m.data!.value as Float64Array)[0]) + 1000 * (m.ioid - first) : NaN));
      c.received.length = 0;
      assert.deepEqual(got.sort((a, b) => a - b), names.map((_, i) => i * 1001), 'every PV read with its value');
      return dt * 1000;
    };
    const single = async (): Promise<number> => {
      const t0 = nowMs();
      c.send(encodeReadNotifyRequest({ sid: sids.get(1)!, ioid: ioid++, dataType: DBR.TIME_DOUBLE, count: 1 }));
      await c.until((r) => r.length >= 1);
      const dt = nowMs() - t0;
      c.received.length = 0;
      return dt * 1000;
    };
    for (let i = 0; i < 20; i++) await bulk();
    const rawBulk: number[] = [];
    const rawSingle: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      rawBulk.push(await bulk());
      rawSingle.push(await single());
    }

    let libBulk: number[] = [];
    let libSingle: number[] = [];
    let py: PyCa | undefined;
    if (havePyepics()) {
      py = new PyCa(srv.tcpPort);
      await py.call('bench_get', { pvs: names, rounds: 20 });
      libBulk = await py.call<number[]>('bench_get', { pvs: names, rounds: ROUNDS }, 120_000);
      libSingle = await py.call<number[]>('bench_get', { pvs: [names[0]], rounds: ROUNDS }, 120_000);
    }
    figures.push({
      scenario: `bulk get of ${N} DOUBLE PVs as TIME_DOUBLE, p50`, unit: 'µs', higherIsBetter: false,
      values: { fieldlink: median(rawBulk), libca: median(libBulk) },
      conditions: `our CA server in its own process; fieldlink = raw client on our core (100 READ_NOTIFY in one write); libca = ca_array_get x100 + ca_pend_io; ${ROUNDS} rounds`,
      extra: { fieldlinkP95: quantile(rawBulk, 0.95), libcaP95: quantile(libBulk, 0.95) },
    });
    figures.push({
      scenario: 'single warm get p50', unit: 'µs', higherIsBetter: false,
      values: { fieldlink: median(rawSingle), libca: median(libSingle) },
      extra: { fieldlinkP95: quantile(rawSingle, 0.95), libcaP95: quantile(libSingle, 0.95) },
    });

    // Monitor throughput: one subscriber, the server posts a burst of updates in one turn each.
    const m = await RawClient.connect(srv.tcpPort);
    m.send(encodeVersion(), encodeCreateChanRequest({ cid: 1, name: 'BENCH:MON' }));
    const ch = await m.next('CreateChanResponse');
    m.send(encodeEventAddRequest({ sid: ch.sid, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 1, mask: DBE.VALUE }));
    await m.next('EventAddResponse');
    const BURST = 10_000;
    const rounds = 10;
    const rates: number[] = [];
    let delivered = 0;
    for (let r = 0; r < rounds; r++) {
      m.received.length = 0;
      const t0 = nowMs();
      await srv.request({ cmd: 'burst', name: 'BENCH:MON', n: BURST, start: r * BURST });
      await m.until((x) => {
        const last = x.at(-1);
        return last?.kind === 'EventAddResponse' && (last.data!.value as Float64Array)[0] === r * BURST + BURST - 1;
      }, 30_000);
      rates.push((m.received.length / (nowMs() - t0)) * 1000);
      delivered += m.received.length;
    }
    const stats = (await srv.request({ cmd: 'stats' })) as Record<string, number>;
    figures.push({
      scenario: `monitor updates delivered per second (bursts of ${BURST})`, unit: 'updates/s', higherIsBetter: true,
      values: { fieldlink: median(rates) },
      conditions: 'one TIME_DOUBLE subscription; the server posts each burst synchronously; updates coalesce (newest wins) only if the socket backs up past 4 MiB',
      extra: { delivered, posted: BURST * rounds, socketWrites: stats.socketWrites, messagesOut: stats.messagesOut },
    });

    // Big array: 100,000 doubles (800 kB) read whole.
    const w = await RawClient.connect(srv.tcpPort);
    w.send(encodeVersion(), encodeCreateChanRequest({ cid: 1, name: 'BENCH:WF' }));
    const wch = await w.next('CreateChanResponse');
    const wf: number[] = [];
    for (let i = 0; i < 30; i++) {
      w.received.length = 0;
      const t0 = nowMs();
      w.send(encodeReadNotifyRequest({ sid: wch.sid, ioid: i, dataType: DBR.DOUBLE, count: 0 }));
      await w.next('ReadNotifyResponse');
      wf.push(nowMs() - t0);
      assert.equal((w.received[0] as { count: number }).count, 100_000);
    }
    figures.push({ scenario: '100,000-element DOUBLE waveform read, p50', unit: 'ms', higherIsBetter: false, values: { fieldlink: median(wf) } });
    c.close();
    m.close();
    w.close();
    await py?.close();
  } finally {
    await srv.close();
  }
  report('epics-ca-server', figures);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
