/**
 * ReadProperty against one responder in its own process (bench/bacnet/responder.ts, on our
 * endpoint), from three clients in this process: the Fieldlink endpoint, node-bacnet and
 * @bacnet-js/client. Every value read is checked (REAL instance / 2) before and while timing.
 *
 *   sequential ReadProperty latency, p50 of each round (200 reads), median over rounds
 *   200 requests in flight: reads/s over 10,000 reads
 *
 *   npm run bench -- bacnet/rp        results: bench/results/bacnet-rp.json
 */
import { BacnetEndpoint } from '../../src/lib/bacnet/endpoint';
import { startPeer, type Peer, PEER_NAMES, peerAvailable } from '../../test/helpers/bacnet-peers';
import { interleave, median, quantile, report, type Figure } from '../harness';
import { sequentialLatencies, keepInFlight, type ReadFn } from './reads';
import { startResponder } from './responder';

const SEQ_READS = 200;
const SEQ_ROUNDS = 30;
const FLIGHT = 200;
const FLIGHT_READS = 10_000;
const FLIGHT_ROUNDS = 7;


/** Reads that failed or never settled (the peers lose some under load; ours must lose none). */
const lost: Record<string, number> = {};
const LOST_AFTER_MS = 4000;

function guarded(name: string, read: ReadFn): ReadFn {
  return (instance) => new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('never settled')), LOST_AFTER_MS);
    read(instance).then((v) => {
      clearTimeout(t);
      resolve(v);
    }, (e: unknown) => {
      clearTimeout(t);
      reject(e as Error);
    });
  }).catch((e: unknown) => {
    if (name === 'fieldlink') throw e;
    lost[name] = (lost[name] ?? 0) + 1;
    return instance / 2; // counted as lost; the run goes on
  });
}

async function sequential(read: ReadFn): Promise<{ p50: number; p99: number }> {
  const lat = await sequentialLatencies(read, SEQ_READS);
  return { p50: median(lat), p99: quantile(lat, 0.99) };
}

/** CPU time (user + system) of this process per read in each in-flight run, µs, by reader. */
const cpuPerRead: Record<string, number[]> = {};

async function inFlight(read: ReadFn, name?: string): Promise<number> {
  const r = await keepInFlight(read, FLIGHT, FLIGHT_READS);
  if (name) (cpuPerRead[name] ??= []).push(r.cpuPerRead);
  return r.rate;
}

async function main(): Promise<void> {
  const responder = await startResponder();
  const target = `127.0.0.1:${responder.port}`;
  const ep = await BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255' });
  const readers: Record<string, ReadFn> = {
    fieldlink: async (i) => {
      const a = await ep.confirmedRequest(target, 'read-property', { objectId: { type: 2, instance: i }, propertyId: 85 });
      const v = a.value[0]!;
      return v.type === 'real' ? v.value : NaN;
    },
  };
  const peers: Peer[] = [];
  for (const name of PEER_NAMES) {
    if (!peerAvailable(name)) {
      console.warn(`*** ${name} is not installed: skipped ***`);
      continue;
    }
    const peer = await startPeer(name, undefined, 3000, 1 << 21);
    peers.push(peer);
    readers[name] = async (i) => {
      const r = await peer.readProperty(target, { type: 2, instance: i }, 85);
      return Number(r.values[0]!.value);
    };
  }
  for (const k of Object.keys(readers)) readers[k] = guarded(k, readers[k]!);
  const figures: Figure[] = [];
  try {
    // warm up and check every reader
    for (const r of Object.values(readers)) {
      await sequential(r);
      await inFlight(r);
    }
    const seqRuns: Record<string, Array<{ p50: number; p99: number }>> = {};
    const seq = await interleave(SEQ_ROUNDS, Object.fromEntries(Object.entries(readers).map(([k, r]) => [k, async () => {
      const res = await sequential(r);
      (seqRuns[k] ??= []).push(res);
      return res.p50;
    }])));
    figures.push({
      scenario: 'sequential ReadProperty p50', unit: 'ms', higherIsBetter: false,
      values: Object.fromEntries(Object.entries(seq).map(([k, v]) => [k, median(v)])),
      conditions: `one responder (Fieldlink endpoint) in its own process on 127.0.0.1; ${SEQ_READS} reads per round, ${SEQ_ROUNDS} interleaved rounds; median of the round p50s; every value checked`,
      goal: '<= 0.08 ms',
      extra: { p99: Object.fromEntries(Object.entries(seqRuns).map(([k, v]) => [k, median(v.map((x) => x.p99))])) },
    });
    const fl = await interleave(FLIGHT_ROUNDS, Object.fromEntries(Object.entries(readers).map(([k, r]) => [k, () => inFlight(r, k)])));
    const flight = Object.fromEntries(Object.entries(fl).map(([k, v]) => [k, median(v)]));
    const bestPeer = Math.max(...Object.entries(flight).filter(([k]) => k !== 'fieldlink').map(([, v]) => v));
    figures.push({
      scenario: `${FLIGHT} ReadProperty in flight`, unit: 'reads/s', higherIsBetter: true,
      values: flight,
      conditions: `same responder; ${FLIGHT_READS} reads per round keeping ${FLIGHT} outstanding; ${FLIGHT_ROUNDS} interleaved rounds; median; every value checked`,
      goal: `>= 2x the best peer (${Math.round(2 * bestPeer).toLocaleString('en-US')} reads/s)`,
      extra: { ratioToBestPeer: flight.fieldlink! / bestPeer, lostReads: { ...lost } },
    });
    figures.push({
      scenario: `client CPU per ReadProperty, ${FLIGHT} in flight`, unit: 'µs', higherIsBetter: false,
      values: Object.fromEntries(Object.entries(cpuPerRead).map(([k, v]) => [k, median(v)])),
      conditions: 'user + system CPU of the client process (only the client under test is busy) divided by the reads of the run; the responder runs elsewhere; includes the kernel send and receive of every datagram',
    });
  } finally {
    for (const p of peers) p.close();
    await ep.close();
    await responder.stop();
  }
  report('bacnet-rp', figures);
  console.log(`    reads lost (no reply within ${LOST_AFTER_MS} ms or rejected) over the whole run: ${JSON.stringify(lost)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
