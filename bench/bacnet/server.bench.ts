/**
 * The BACnet server under load, served from a process of its own on 127.0.0.1:
 *
 *   ReadProperty from 4 concurrent clients, 16 and 64 outstanding each: requests/s
 *   RP / RPM mix (80 % ReadProperty, 20 % ReadPropertyMultiple of 5 present values), 16 outstanding: requests/s
 *     -- each beside the same load served by responders built on node-bacnet and on
 *        @bacnet-js/client (each in its own process), interleaved rounds, medians, every value
 *        checked (present value = instance / 2)
 *   COV fan-out: 1,000 subscriptions (10 subscribers x 100 objects), 100 value changes/s for
 *     10 s: notifications delivered (must be all) and latency p50 / p99 from change to receipt
 *
 *   npm run bench -- bacnet/server        results: bench/results/bacnet-server.json
 */
import { BacnetEndpoint } from '../../src/lib/bacnet/endpoint';
import { ObjectType as O } from '../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../src/lib/bacnet/enums/property-identifier';
import type { CovNotificationRequest } from '../../src/lib/bacnet/services/cov-notification';
import { PEER_NAMES, peerAvailable } from '../../test/helpers/bacnet-peers';
import { interleave, median, quantile, nowMs, report, type Figure } from '../harness';
import { AV_COUNT, COV_OBJECTS, type ServerProcess, startServerProcess, wallMs } from './server-process';

const CLIENTS = 4;
/** Requests each client keeps outstanding: a moderate load and a heavy one. */
const MODERATE = 16;
const HEAVY = 64;
const REQUESTS = 20_000;
const ROUNDS = 5;
const COV_SUBSCRIBERS = 10;
const COV_RATE = 100;
const COV_SECONDS = 10;

function check(instance: number, v: unknown): void {
  if (v !== instance / 2) throw new Error(`wrong value for analog-value ${instance}: ${String(v)}`);
}

async function load(clients: BacnetEndpoint[], target: string, rpmShare: number, outstanding: number): Promise<number> {
  let issued = 0;
  let done = 0;
  const t0 = nowMs();
  await new Promise<void>((resolve, reject) => {
    const one = (c: BacnetEndpoint): void => {
      const k = issued++;
      const base = 1 + (k * 7) % AV_COUNT;
      let p: Promise<void>;
      if ((k % 100) < rpmShare * 100) {
        const ids = [0, 1, 2, 3, 4].map((j) => 1 + ((base + j * 13) % AV_COUNT));
        p = c.confirmedRequest(target, 'read-property-multiple', { specs: ids.map((instance) => ({ objectId: { type: O.analogValue, instance }, properties: [{ propertyId: P.presentValue }] })) })
          .then((a) => a.results.forEach((r, j) => check(ids[j]!, (r.results[0]!.value![0] as { value: number }).value)));
      } else {
        p = c.confirmedRequest(target, 'read-property', { objectId: { type: O.analogValue, instance: base }, propertyId: P.presentValue })
          .then((a) => check(base, (a.value[0] as { value: number }).value));
      }
      p.then(() => {
        done++;
        if (done === REQUESTS) resolve();
        else if (issued < REQUESTS) one(c);
      }, reject);
    };
    for (const c of clients) for (let i = 0; i < outstanding; i++) one(c);
  });
  return REQUESTS / ((nowMs() - t0) / 1000);
}

async function covFanOut(server: ServerProcess): Promise<Figure[]> {
  const target = `127.0.0.1:${server.port}`;
  const subs = await Promise.all(Array.from({ length: COV_SUBSCRIBERS }, () => BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', receiveBufferSize: 1 << 21 })));
  const received: Array<{ seq: number; at: number }> = [];
  let initial = 0;
  for (const s of subs) {
    s.on('cov-notification', (n: CovNotificationRequest) => {
      const v = (n.values[0]!.value[0] as { value: number }).value;
      if (v === 0) initial++;
      else received.push({ seq: v, at: wallMs() });
    });
  }
  try {
    for (const s of subs) {
      await Promise.all(Array.from({ length: COV_OBJECTS }, (_x, k) => s.confirmedRequest(target, 'subscribe-cov', {
        subscriberProcessId: 1, monitoredObjectId: { type: O.analogInput, instance: k }, issueConfirmedNotifications: false, lifetime: 600,
      })));
    }
    const end = Date.now() + 5000;
    while (initial < COV_SUBSCRIBERS * COV_OBJECTS && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    if (initial !== COV_SUBSCRIBERS * COV_OBJECTS) throw new Error(`only ${initial} initial notifications for ${COV_SUBSCRIBERS * COV_OBJECTS} subscriptions`);
    const count = COV_RATE * COV_SECONDS;
    const res = await server.request<{ times: number[]; sent: number; subscriptions: number }>({ cmd: 'cov', rate: COV_RATE, count });
    const expected = count * COV_SUBSCRIBERS;
    const settle = Date.now() + 3000;
    while (received.length < expected && Date.now() < settle) await new Promise((r) => setTimeout(r, 10));
    const lat = received.map((r) => r.at - res.times[r.seq]!);
    if (received.length !== expected) console.warn(`    COV: ${received.length} of ${expected} notifications delivered`);
    return [{
      scenario: `COV fan-out: ${res.subscriptions.toLocaleString('en-US')} subscriptions, ${COV_RATE} changes/s, notifications delivered`,
      unit: '%', higherIsBetter: true,
      values: { fieldlink: (100 * received.length) / expected },
      conditions: `${COV_SUBSCRIBERS} subscriber endpoints x ${COV_OBJECTS} Analog Inputs, unconfirmed; ${count} changes over ${COV_SECONDS} s (each beyond the COV increment); ${expected} notifications expected`,
      goal: '100 %',
      extra: { delivered: received.length, expected, sentByServer: res.sent },
    }, {
      scenario: 'COV notification latency p50 (change to receipt)', unit: 'ms', higherIsBetter: false,
      values: { fieldlink: median(lat) },
      conditions: 'wall clock of the change in the server process to receipt by the subscriber endpoint',
      extra: { p99: quantile(lat, 0.99), max: Math.max(...lat) },
    }, {
      scenario: 'COV notification latency p99 (change to receipt)', unit: 'ms', higherIsBetter: false,
      values: { fieldlink: quantile(lat, 0.99) },
    }];
  } finally {
    await Promise.all(subs.map((s) => s.close()));
  }
}

async function main(): Promise<void> {
  const servers: Record<string, ServerProcess> = { fieldlink: await startServerProcess(['--fieldlink']) };
  for (const name of PEER_NAMES) {
    if (peerAvailable(name)) servers[name] = await startServerProcess(['--peer', name]);
    else console.warn(`*** ${name} is not installed: skipped ***`);
  }
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => BacnetEndpoint.open({
    localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', receiveBufferSize: 1 << 22, apduTimeout: 3000, maxInFlightPerPeer: 255,
  })));
  const figures: Figure[] = [];
  try {
    const run = (share: number, outstanding: number): Record<string, () => Promise<number>> =>
      Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, async () => {
        const before = clients.reduce((n, c) => n + c.stats().client.retries, 0);
        const rate = await load(clients, `127.0.0.1:${s.port}`, share, outstanding);
        (retries[k] ??= []).push(clients.reduce((n, c) => n + c.stats().client.retries, 0) - before);
        return rate;
      }]));
    let retries: Record<string, number[]> = {};
    for (const f of Object.values(run(0.2, MODERATE))) await f(); // warm up and check every server
    for (const [label, share, outstanding] of [['ReadProperty', 0, MODERATE], ['ReadProperty', 0, HEAVY], ['RP / RPM mix (20 % RPM of 5)', 0.2, MODERATE]] as const) {
      retries = {};
      const s = await interleave(ROUNDS, run(share, outstanding));
      figures.push({
        scenario: `${label} served per second, ${CLIENTS} clients x ${outstanding} outstanding`, unit: 'req/s', higherIsBetter: true,
        values: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)])),
        conditions: `server in its own process on 127.0.0.1 (the peers: a responder built on the library answering from a table); ${CLIENTS} Fieldlink client endpoints in one process; ${REQUESTS} requests per round, ${ROUNDS} interleaved rounds, median; every value checked; retries = requests the clients had to send again (a datagram the server dropped costs one APDU timeout, 3 s)`,
        ...(share === 0 ? { goal: '>= 20,000 RP/s' } : {}),
        extra: { samples: s, retriesPerRound: retries },
      });
      console.log(`    ${label} x ${outstanding}: retries per round ${JSON.stringify(retries)}`);
    }
    figures.push(...await covFanOut(servers.fieldlink!));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
  report('bacnet-server', figures);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
