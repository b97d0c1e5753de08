/**
 * Beacon tracking without sockets: decides whether a server's beacon (RSRV_IS_UP) is an anomaly,
 * meaning the server (re)started and missing channels should be searched for again now.
 *
 * - The first beacon from a server we never had a circuit to is not an anomaly (at start-up every
 *   server on the network is seen for the first time; re-searching on each would be a storm).
 * - A beacon whose id is not the previous id + 1 is one (a restarted server counts from 0 again),
 *   except the same id seen twice (the beacon came through two interfaces or a repeater).
 * - An interval much shorter than the last one is one (a restarted server starts its beacons at
 *   20 ms and doubles up to the period).
 * - After a circuit to a server is lost, its next beacon is one, whatever its id.
 */
export interface BeaconVerdict {
  anomaly: boolean;
  /** Why, for logs and tests: 'first', 'sequence', 'restart', 'interval', 'after-loss', 'duplicate', 'normal'. */
  reason: string;
}

interface ServerBeacons {
  lastId: number;
  lastAt: number;
  /** Last interval, ms (NaN until two beacons were seen). */
  interval: number;
  /** A circuit to this server was lost since its last beacon. */
  lost: boolean;
}

export class BeaconTracker {
  readonly #servers = new Map<string, ServerBeacons>();
  readonly #forgetAfterMs: number;
  anomalies = 0;
  beacons = 0;

  /** Entries silent for `forgetAfterMs` (default 15 min) are dropped by `prune`. */
  constructor(forgetAfterMs = 15 * 60_000) {
    this.#forgetAfterMs = forgetAfterMs;
  }

  get size(): number {
    return this.#servers.size;
  }

  /** Account one beacon from server `key` ('ip:port') with beacon id `id`, received at `now` (ms). */
  beacon(key: string, id: number, now: number): BeaconVerdict {
    this.beacons++;
    const s = this.#servers.get(key);
    if (!s) {
      this.#servers.set(key, { lastId: id, lastAt: now, interval: NaN, lost: false });
      return { anomaly: false, reason: 'first' };
    }
    if (id === s.lastId && !s.lost) return { anomaly: false, reason: 'duplicate' };
    const interval = now - s.lastAt;
    let reason = 'normal';
    if (s.lost) reason = 'after-loss';
    else if (id !== ((s.lastId + 1) >>> 0)) reason = id < s.lastId ? 'restart' : 'sequence';
    else if (Number.isFinite(s.interval) && s.interval > 0 && interval < s.interval / 3) reason = 'interval';
    s.lastId = id;
    s.lastAt = now;
    s.interval = interval;
    s.lost = false;
    const anomaly = reason !== 'normal';
    if (anomaly) this.anomalies++;
    return { anomaly, reason };
  }

  /** A circuit to `key` was lost: its next beacon means it is back. */
  circuitLost(key: string, now: number): void {
    const s = this.#servers.get(key);
    if (s) s.lost = true;
    else this.#servers.set(key, { lastId: -1, lastAt: now, interval: NaN, lost: true });
  }

  /** Forget servers silent for longer than the configured time. */
  prune(now: number): void {
    for (const [k, s] of this.#servers) if (now - s.lastAt > this.#forgetAfterMs) this.#servers.delete(k);
  }
}
