/**
 * CA client benchmark: Fieldlink's client beside libca (Debian libca 4.13.5 through Python ctypes)
 * and npm epics-tca, all against our CA server running in a process of its own on loopback.
 * Each client runs in its own driver process and times its own calls; rounds are interleaved
 * (the order rotates each round) and medians are quoted. Values are checked before timing counts.
 *
 *   npm run bench -- ca-client      (or: node --expose-gc dist/bench/epics/ca-client.bench.js)
 *
 * Figures: bulk get of 100 DOUBLE PVs (TIME form), single warm get, connect 100 / 10,000 /
 * 100,000 PVs (search + create, no read), memory per idle channel (10,000 channels), monitor
 * updates at 10,000/s received at the protocol layer.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as dgram from 'node:dgram';
import { spawnCaServer, type CaServerProcess } from '../../src/lib/epics/ca';
import { median, quantile, report, type Figure } from '../harness';
import { Driver } from './ca-driver-protocol';
import { distRoot, repoRoot } from '../../test/helpers/env';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** BENCH_ONLY=get,connect100 runs some scenarios (memory, connect100, get, connect10k, connect100k, monitor). */
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const want = (k: string): boolean => !ONLY || ONLY.has(k);
const POOL = 100_000;
const name = (i: number): string => `BENCH:${String(i).padStart(6, '0')}`;
const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => name(from + i));

async function freePort(): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.bind(p, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => s.close(() => r()));
    if (ok) return p;
  }
}

function tcaAvailable(): boolean {
  try {
    require.resolve('epics-tca');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  console.log(`CA client benchmark: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, rounds ${ROUNDS}`);
  const server: CaServerProcess = await spawnCaServer({
    server: { port: 0, beacons: false },
    generate: [{ prefix: 'BENCH:', count: POOL, width: 6, type: 'DOUBLE' }],
    pvs: [{ name: 'MON:0', type: 'DOUBLE', value: 0 }],
  }, 60_000);
  const env = async (): Promise<Record<string, string>> => ({ BENCH_CA_PORT: String(server.tcpPort), BENCH_CA_REPEATER: String(await freePort()) });
  const drivers: Driver[] = [];
  drivers.push(Driver.node('fieldlink', join(distRoot, 'bench', 'epics', 'ca-driver-fieldlink.js'), await env(), ['--expose-gc']));
  const py = join(repoRoot, 'bench', 'epics', 'ca_libca_driver.py');
  if (existsSync('/usr/bin/python3')) {
    const e = await env();
    drivers.push(Driver.python('libca', py, {
      EPICS_CA_ADDR_LIST: `127.0.0.1:${e.BENCH_CA_PORT}`, EPICS_CA_AUTO_ADDR_LIST: 'NO', EPICS_CA_SERVER_PORT: e.BENCH_CA_PORT!,
      EPICS_CA_REPEATER_PORT: e.BENCH_CA_REPEATER!, EPICS_CA_MAX_ARRAY_BYTES: '100000000',
    }));
  }
  if (tcaAvailable()) drivers.push(Driver.node('epics-tca', join(distRoot, 'bench', 'epics', 'ca-driver-tca.js'), await env(), ['--expose-gc']));
  const live: Driver[] = [];
  for (const d of drivers) {
    try {
      await d.ready();
      live.push(d);
    } catch (e) {
      console.log(`(${d.name} unavailable: ${e instanceof Error ? e.message.split('\n')[0] : e})`);
    }
  }
  const figures: Figure[] = [];
  const values = (f: (d: Driver) => number): Record<string, number> => Object.fromEntries(drivers.map((d) => [d.name, live.includes(d) ? f(d) : NaN]));
  /** Run `fn` per driver for `rounds` rounds, the order rotating; samples per driver. */
  async function rotate(rounds: number, fn: (d: Driver) => Promise<number[]>): Promise<Map<Driver, number[]>> {
    const out = new Map<Driver, number[]>(live.map((d) => [d, []]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < live.length; i++) {
        const d = live[(r + i) % live.length]!;
        try {
          out.get(d)!.push(...(await fn(d)));
        } catch (e) {
          console.log(`  ${d.name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        }
      }
    }
    return out;
  }
  const med = (m: Map<Driver, number[]>, d: Driver): number => (m.get(d)?.length ? median(m.get(d)!) : NaN);

  try {
    const c100 = range(0, 100);
    // --- memory per idle channel (first: libca's RSS must not reuse memory freed by other runs) ---
    if (want('memory')) {
      const cMem = range(20_000, 10_000);
      const memory = new Map<Driver, number>();
      const rssMem = new Map<Driver, number>();
      for (const d of live) {
        try {
          const r = await d.call<{ failed: number; bytesPerChannel: number; rssPerChannel: number }>({ op: 'memory', names: cMem });
          if (r.failed) throw new Error(`${r.failed} did not connect`);
          memory.set(d, r.bytesPerChannel);
          rssMem.set(d, r.rssPerChannel);
          await d.call({ op: 'clear', names: cMem });
        } catch (e) {
          console.log(`  ${d.name} memory: ${e instanceof Error ? e.message : e}`);
        }
      }
      figures.push({
        scenario: 'memory per idle connected channel', unit: 'bytes', higherIsBetter: false, values: values((d) => memory.get(d) ?? NaN), goal: '<= 1536 bytes',
        conditions: '10,000 connected channels in a fresh context; JavaScript clients: heap + external after GC; libca: process RSS',
        extra: { rssPerChannel: Object.fromEntries([...rssMem].map(([d, v]) => [d.name, v])) },
      });
    }

    // --- connect 100 (fresh channels each round; circuits and sockets warm) ----------------------
    if (want('connect100')) {
      await rotate(1, async (d) => {
        await d.call({ op: 'connect', names: c100 });
        await d.call({ op: 'clear', names: c100 });
        return [];
      });
      const conn100 = await rotate(ROUNDS, async (d) => {
        const r = await d.call<{ ms: number; failed: number }>({ op: 'connect', names: c100 });
        await d.call({ op: 'clear', names: c100 });
        if (r.failed) throw new Error(`${r.failed} of 100 did not connect`);
        return [r.ms];
      });
      figures.push({ scenario: 'connect 100 PVs (search + create, no read)', unit: 'ms', higherIsBetter: false, values: values((d) => med(conn100, d)), goal: '<= 5 ms', conditions: `median of ${ROUNDS} rounds; channels cleared between rounds, client context and sockets kept` });
    }

    // --- bulk get of 100 -------------------------------------------------------------------------
    if (want('get')) {
      for (const d of live) await d.call({ op: 'connect', names: c100 });
      const expect = c100.map((_, i) => i);
      const bulk = await rotate(ROUNDS, async (d) => {
        await d.call({ op: 'bulk', names: c100, samples: 5 }); // warm
        const r = await d.call<{ us: number[]; values: unknown[] }>({ op: 'bulk', names: c100, samples: 40 });
        const bad = r.values.findIndex((v, i) => v !== expect[i]);
        if (bad >= 0) throw new Error(`bulk get returned ${JSON.stringify(r.values[bad])} for ${c100[bad]}`);
        return r.us;
      });
      figures.push({
        scenario: 'bulk get of 100 connected DOUBLE PVs (DBR_TIME_DOUBLE) p50', unit: 'us', higherIsBetter: false, values: values((d) => med(bulk, d)),
        goal: '<= 150 us and >= 1.5x faster than libca',
        conditions: `${ROUNDS} rounds x 40 calls after warm-up; Fieldlink bulkGet (TIME form, cached CTRL metadata merged); libca 100 x ca_array_get + one ca_pend_io; epics-tca Promise.all of 100 get()`,
        extra: Object.fromEntries(live.map((d) => [`${d.name}_p90`, quantile(bulk.get(d) ?? [], 0.9)])),
      });
    }

    // --- single warm get -------------------------------------------------------------------------
    if (want('get')) {
      const single = await rotate(ROUNDS, async (d) => {
        const r = await d.call<{ us: number[]; value: unknown }>({ op: 'single', name: c100[42]!, samples: 100 });
        if (r.value !== 42) throw new Error(`single get returned ${JSON.stringify(r.value)}`);
        return r.us.slice(5);
      });
      figures.push({ scenario: 'single warm get p50 (DBR_TIME_DOUBLE)', unit: 'us', higherIsBetter: false, values: values((d) => med(single, d)), goal: '<= 60 us', conditions: `${ROUNDS} rounds x 95 sequential gets`, extra: Object.fromEntries(live.map((d) => [`${d.name}_p90`, quantile(single.get(d) ?? [], 0.9)])) });
      for (const d of live) await d.call({ op: 'clear', names: c100 });
    }

    // --- connect 10,000 --------------------------------------------------------------------------
    if (want('connect10k')) {
      const c10k = range(1000, 10_000);
      const rounds10k = Math.max(3, ROUNDS);
      const repeats: number[] = [];
      await rotate(1, async (d) => {
        // Warm-up (JIT of the JavaScript clients and of the server), not timed.
        await d.call({ op: 'connect', names: c10k });
        await d.call({ op: 'clear', names: c10k });
        return [];
      });
      const conn10k = await rotate(rounds10k, async (d) => {
        await d.call({ op: 'fresh' });
        const r = await d.call<{ ms: number; failed: number; repeats?: number }>({ op: 'connect', names: c10k });
        await d.call({ op: 'clear', names: c10k });
        if (r.failed) throw new Error(`${r.failed} of 10,000 did not connect`);
        if (d.name === 'fieldlink' && r.repeats !== undefined) repeats.push(r.repeats);
        return [r.ms];
      });
      figures.push({
        scenario: 'connect 10,000 PVs', unit: 'ms', higherIsBetter: false, values: values((d) => med(conn10k, d)), goal: 'no slower than libca, no lost search replies',
        conditions: `median of ${rounds10k} rounds after a warm-up round, channels cleared between rounds; Fieldlink repeated searches per round: ${repeats.join(', ')} (0 = no search reply lost)`,
        extra: { fieldlinkRepeatedSearches: repeats, samples: Object.fromEntries([...conn10k].map(([d, v]) => [d.name, v])) },
      });
    }

    // --- connect 100,000 -------------------------------------------------------------------------
    if (want('connect100k')) {
      const c100k = range(0, POOL);
      const conn100k = await rotate(2, async (d) => {
        await d.call({ op: 'fresh' });
        const r = await d.call<{ ms: number; failed: number; repeats?: number }>({ op: 'connect', names: c100k }, 180_000);
        await d.call({ op: 'clear', names: c100k }, 180_000);
        if (r.failed) throw new Error(`${r.failed} of 100,000 did not connect`);
        if (d.name === 'fieldlink') console.log(`  fieldlink 100,000: ${r.ms.toFixed(0)} ms, repeated searches ${r.repeats}`);
        return [r.ms];
      });
      figures.push({ scenario: 'connect 100,000 PVs', unit: 'ms', higherIsBetter: false, values: values((d) => med(conn100k, d)), goal: '<= 1000 ms', conditions: 'median of 2 rounds, channels cleared between rounds' });
    }

    // --- monitors at 10,000 updates/s -------------------------------------------------------------
    if (want('monitor')) {
      const monitorRate = new Map<Driver, number>();
      const monitorLoss = new Map<Driver, number>();
      let counter = 1;
      for (const d of live) {
        try {
          await d.call({ op: 'monitor', name: 'MON:0' });
          const bursts = 200;
          const per = 100;
          const t0 = performance.now();
          for (let b = 0; b < bursts; b++) {
            await server.request({ cmd: 'burst', name: 'MON:0', n: per, start: counter });
            counter += per;
            const due = t0 + (b + 1) * 10;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          const secs = (performance.now() - t0) / 1000;
          await new Promise((r) => setTimeout(r, 500));
          const r = await d.call<{ received: number }>({ op: 'monitorCount', name: 'MON:0' });
          const sent = bursts * per;
          monitorRate.set(d, r.received / secs);
          monitorLoss.set(d, sent - r.received);
          console.log(`  ${d.name}: ${r.received} of ${sent} updates received in ${secs.toFixed(2)} s (${(sent / secs).toFixed(0)}/s offered)`);
        } catch (e) {
          console.log(`  ${d.name} monitor: ${e instanceof Error ? e.message : e}`);
        }
      }
      figures.push({
        scenario: 'monitor updates received at 10,000/s offered', unit: 'updates/s', higherIsBetter: true, values: values((d) => monitorRate.get(d) ?? NaN), goal: '10,000/s without loss at the protocol layer',
        conditions: '20,000 updates of one DOUBLE PV in bursts of 100 every 10 ms; counted per update received from the server (before any coalescing)',
        extra: { lost: Object.fromEntries([...monitorLoss].map(([d, v]) => [d.name, v])) },
      });
    }
  } finally {
    for (const d of drivers) await d.quit().catch(() => undefined);
    await server.close();
  }
  report('epics-ca-client', figures);
  const bulkFig = figures.find((f) => f.scenario.startsWith('bulk get'));
  if (bulkFig && live.some((d) => d.name === 'libca')) {
    const ours = bulkFig.values.fieldlink!;
    const theirs = bulkFig.values.libca!;
    console.log(`bulk get 100: Fieldlink ${ours.toFixed(0)} us vs libca ${theirs.toFixed(0)} us = ${(theirs / ours).toFixed(2)}x faster`);
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
