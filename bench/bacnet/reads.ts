/**
 * The read loops the BACnet client benchmarks share. A reader reads analog-value `instance` from
 * a responder that answers REAL instance / 2 (bench/bacnet/responder.ts); every value is checked.
 */
import { nowMs } from '../harness';

/** Reads analog-value `instance`, resolving with the REAL it returned. */
export type ReadFn = (instance: number) => Promise<number>;

/** Throw unless `v` is what the responder answers for `instance`. */
export function check(instance: number, v: number): void {
  if (v !== instance / 2) throw new Error(`wrong value for analog-value ${instance}: ${v}`);
}

/** `n` reads one after another: the latency of each, ms. */
export async function sequentialLatencies(read: ReadFn, n: number): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    const v = await read(i);
    lat.push(nowMs() - t0);
    check(i, v);
  }
  return lat;
}

/**
 * `total` reads keeping `flight` outstanding: reads per second, and the CPU (user + system) of
 * this process per read in µs (the responder runs in its own process; the kernel's send and
 * receive of every datagram are included).
 */
export async function keepInFlight(read: ReadFn, flight: number, total: number): Promise<{ rate: number; cpuPerRead: number }> {
  let next = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  await new Promise<void>((resolve, reject) => {
    const one = (): void => {
      const i = next++;
      read(i % 100_000).then((v) => {
        check(i % 100_000, v);
        done++;
        if (done === total) resolve();
        else if (next < total) one();
      }, reject);
    };
    for (let k = 0; k < flight; k++) one();
  });
  const dt = nowMs() - t0;
  const c = process.cpuUsage(cpu0);
  return { rate: total / (dt / 1000), cpuPerRead: (c.user + c.system) / total };
}
