/**
 * Request scheduler shared by everything that talks through one network (ASHRAE 135-2020 has
 * no rule here; it is the field practice of notes §3.3): many devices keep a single transaction
 * buffer (bacnet-stack/bacnet-stack#277), MS/TP trunks behind a router are one slow medium, and
 * a write must not wait behind a poll cycle of a thousand points.
 *
 * - One queue per device (its logical address key), at most `perDevice` requests outstanding
 *   (default 1), and at most `perRemoteNetwork` per routed network behind one router (default 1).
 * - Fair round robin across devices, within a global in-flight cap (default 128).
 * - Priority lanes: write > cov (subscriptions and renewals) > poll (reads) > discovery. A lane
 *   is served across every device before the next lane is looked at.
 * - Coalescing: a queued job with the same `coalesce` key as a new one is replaced by it (the
 *   latest write to a point wins); both callers get the outcome of the job that ran.
 * - Cancellation by AbortSignal: a queued job leaves the queue; a running one gets the signal.
 *
 * The scheduler runs promise-returning jobs; it knows nothing of BACnet encodings.
 */
import { CancelledError } from '../errors';

export type Lane = 'write' | 'cov' | 'poll' | 'discovery';
export const LANES: readonly Lane[] = ['write', 'cov', 'poll', 'discovery'];
const LANE_INDEX: Record<Lane, number> = { write: 0, cov: 1, poll: 2, discovery: 3 };

export interface SchedulerOptions {
  /** Requests outstanding per device (default 1). */
  perDevice: number;
  /** Requests outstanding per remote network behind one router (default 1). */
  perRemoteNetwork: number;
  /** Requests outstanding overall (default 128). */
  maxInFlight: number;
  /** Jobs that may wait before new ones are refused (default 100,000). */
  maxQueued: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { perDevice: 1, perRemoteNetwork: 1, maxInFlight: 128, maxQueued: 100_000 };

export interface JobOptions {
  lane?: Lane;
  /** Jobs with the same key replace each other while queued (latest wins). */
  coalesce?: string;
  /** Gate shared by devices on one routed network ('router|network'); undefined for direct devices. */
  networkKey?: string;
  /** This device's own limit of outstanding requests (overrides perDevice). */
  limit?: number;
  signal?: AbortSignal;
}

interface Job {
  run: (signal?: AbortSignal) => Promise<unknown>;
  lane: number;
  coalesce: string | undefined;
  signal: AbortSignal | undefined;
  waiters: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  queue: DeviceQueue;
  onAbort?: () => void;
}

interface DeviceQueue {
  key: string;
  networkKey: string | undefined;
  limit: number | undefined;
  lanes: Job[][];
  /** Read position of each lane (arrays are compacted lazily). */
  heads: number[];
  pending: number;
  running: number;
  inRing: boolean;
}

export interface SchedulerStats {
  running: number;
  queued: number;
  devices: number;
  completed: number;
  coalesced: number;
  cancelled: number;
  refused: number;
}

/** Refused because too many jobs are queued (local back-pressure). */
export class SchedulerFullError extends CancelledError {
  constructor(queued: number) {
    super(`request refused: ${queued} requests are already waiting in the scheduler (local back-pressure)`);
  }
}

export class RequestScheduler {
  readonly options: SchedulerOptions;
  readonly #queues = new Map<string, DeviceQueue>();
  readonly #networks = new Map<string, number>();
  /** Devices with queued work, served round robin. */
  #ring: DeviceQueue[] = [];
  #cursor = 0;
  #running = 0;
  #queued = 0;
  #closed = false;
  readonly #stats = { completed: 0, coalesced: 0, cancelled: 0, refused: 0 };

  constructor(opts: Partial<SchedulerOptions> = {}) {
    this.options = { ...DEFAULT_SCHEDULER_OPTIONS, ...opts };
    for (const k of ['perDevice', 'perRemoteNetwork', 'maxInFlight'] as const) {
      const v = this.options[k];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`scheduler ${k} must be a whole number >= 1, not ${v}`);
    }
  }

  stats(): SchedulerStats {
    return { running: this.#running, queued: this.#queued, devices: this.#queues.size, ...this.#stats };
  }

  /** Requests queued or running for a device. */
  load(deviceKey: string): number {
    const q = this.#queues.get(deviceKey);
    return q ? q.pending + q.running : 0;
  }

  /** Run `run` when the device, its network and the global budget allow; resolves with its result. */
  submit<T>(deviceKey: string, run: (signal?: AbortSignal) => Promise<T>, opts: JobOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new CancelledError('the BACnet client is closed'));
    if (opts.signal?.aborted) return Promise.reject(new CancelledError());
    const lane = LANE_INDEX[opts.lane ?? 'poll'];
    let q = this.#queues.get(deviceKey);
    if (!q) {
      q = { key: deviceKey, networkKey: opts.networkKey, limit: undefined, lanes: [[], [], [], []], heads: [0, 0, 0, 0], pending: 0, running: 0, inRing: false };
      this.#queues.set(deviceKey, q);
    }
    if (opts.limit !== undefined && Number.isInteger(opts.limit) && opts.limit >= 1) q.limit = opts.limit;
    // Fast path: nothing waits anywhere and this device, its network and the budget have room.
    if (this.#queued === 0 && this.#running < this.options.maxInFlight && this.#canRun(q) && opts.coalesce === undefined) {
      return this.#runNow(q, run, opts.signal);
    }
    return new Promise<T>((resolve, reject) => {
      const waiter = { resolve: resolve as (v: unknown) => void, reject };
      if (opts.coalesce !== undefined) {
        const list = q.lanes[lane]!;
        for (let i = q.heads[lane]!; i < list.length; i++) {
          const old = list[i]!;
          if (old.coalesce === opts.coalesce) {
            // latest wins: the queued job now runs the new request, for both callers
            old.run = run;
            old.waiters.push(waiter);
            this.#stats.coalesced++;
            return;
          }
        }
      }
      if (this.#queued >= this.options.maxQueued) {
        this.#stats.refused++;
        reject(new SchedulerFullError(this.#queued));
        return;
      }
      const job: Job = { run, lane, coalesce: opts.coalesce, signal: opts.signal, waiters: [waiter], queue: q };
      if (opts.signal) {
        const signal = opts.signal;
        job.onAbort = () => this.#abortQueued(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      q.lanes[lane]!.push(job);
      q.pending++;
      this.#queued++;
      if (!q.inRing) {
        q.inRing = true;
        this.#ring.push(q);
      }
      this.#pump();
    });
  }

  /** Reject everything queued (running jobs finish on their own) and refuse new work. */
  close(): void {
    this.#closed = true;
    for (const q of this.#queues.values()) {
      for (let l = 0; l < 4; l++) {
        const list = q.lanes[l]!;
        for (let i = q.heads[l]!; i < list.length; i++) this.#settle(list[i]!, undefined, new CancelledError('the BACnet client is closed'), false);
        q.lanes[l] = [];
        q.heads[l] = 0;
      }
      q.pending = 0;
    }
    this.#queued = 0;
    this.#ring = [];
  }

  #abortQueued(job: Job): void {
    const q = job.queue;
    const list = q.lanes[job.lane]!;
    const i = list.indexOf(job, q.heads[job.lane]!);
    if (i < 0) return; // already running: the job itself sees the signal
    list.splice(i, 1);
    q.pending--;
    this.#queued--;
    this.#stats.cancelled++;
    this.#settle(job, undefined, new CancelledError(), false);
    this.#forget(q);
  }

  #forget(q: DeviceQueue): void {
    if (q.pending === 0 && q.running === 0 && !q.inRing) this.#queues.delete(q.key);
  }

  #canRun(q: DeviceQueue): boolean {
    if (q.running >= (q.limit ?? this.options.perDevice)) return false;
    if (q.networkKey !== undefined && (this.#networks.get(q.networkKey) ?? 0) >= this.options.perRemoteNetwork) return false;
    return true;
  }

  #take(q: DeviceQueue, lane: number): Job | undefined {
    const list = q.lanes[lane]!;
    const h = q.heads[lane]!;
    if (h >= list.length) return undefined;
    const job = list[h]!;
    if (h + 1 === list.length) {
      list.length = 0;
      q.heads[lane] = 0;
    } else if (h > 1024 && h * 2 > list.length) {
      list.splice(0, h + 1);
      q.heads[lane] = 0;
    } else {
      q.heads[lane] = h + 1;
    }
    return job;
  }

  #pump(): void {
    while (this.#running < this.options.maxInFlight && this.#ring.length) {
      let started = false;
      for (let lane = 0; lane < 4 && !started; lane++) {
        const n = this.#ring.length;
        for (let k = 0; k < n; k++) {
          const idx = (this.#cursor + k) % n;
          const q = this.#ring[idx]!;
          if (!this.#canRun(q)) continue;
          const job = this.#take(q, lane);
          if (!job) continue;
          this.#cursor = idx + 1;
          this.#start(job);
          started = true;
          break;
        }
      }
      if (!started) break;
    }
    // drop devices with nothing queued from the ring
    if (this.#ring.some((q) => q.pending === 0)) {
      this.#ring = this.#ring.filter((q) => {
        if (q.pending > 0) return true;
        q.inRing = false;
        this.#forget(q);
        return false;
      });
      if (this.#cursor >= this.#ring.length) this.#cursor = 0;
    }
  }

  #runNow<T>(q: DeviceQueue, run: (signal?: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    q.running++;
    this.#running++;
    if (q.networkKey !== undefined) this.#networks.set(q.networkKey, (this.#networks.get(q.networkKey) ?? 0) + 1);
    let p: Promise<T>;
    try {
      p = run(signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then((v) => {
      this.#release(q);
      return v;
    }, (e: unknown) => {
      this.#release(q);
      throw e;
    });
  }

  #release(q: DeviceQueue): void {
    q.running--;
    this.#running--;
    this.#stats.completed++;
    if (q.networkKey !== undefined) {
      const n = (this.#networks.get(q.networkKey) ?? 1) - 1;
      if (n <= 0) this.#networks.delete(q.networkKey);
      else this.#networks.set(q.networkKey, n);
    }
    this.#forget(q);
    if (this.#queued > 0) this.#pump();
  }

  #start(job: Job): void {
    const q = job.queue;
    q.pending--;
    q.running++;
    this.#queued--;
    this.#running++;
    if (q.networkKey !== undefined) this.#networks.set(q.networkKey, (this.#networks.get(q.networkKey) ?? 0) + 1);
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    let p: Promise<unknown>;
    try {
      p = job.run(job.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then((v) => this.#done(job, v, undefined), (e: unknown) => this.#done(job, undefined, e instanceof Error ? e : new Error(String(e))));
  }

  #done(job: Job, value: unknown, error: Error | undefined): void {
    this.#settle(job, value, error, true);
    this.#release(job.queue);
  }

  #settle(job: Job, value: unknown, error: Error | undefined, ran: boolean): void {
    if (!ran && job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    for (const w of job.waiters) {
      if (error) w.reject(error);
      else w.resolve(value);
    }
  }
}
