/**
 * Poll groups shared by every user of one client (notes §3.3 rule 4): the points that several
 * nodes poll on one device at one interval are read together, de-duplicated, in one set of
 * ReadPropertyMultiple requests per cycle (BacnetClient.readMany sizes them to the device and
 * falls back to ReadProperty), on the scheduler's poll lane.
 *
 * A cycle starts every `interval` ms; a cycle that takes longer than the interval delays the
 * next (counted as an overrun) instead of piling up. A member that joins gets its first values
 * from a read of its own at once, then the group's cycles.
 */
import { addressKey, parseAddress } from '../address';
import type { BacnetClient, DeviceRef, ReadResult, ResolvedDevice } from './client';
import { isResolvedDevice } from './device-state';
import type { PropertyRef } from './rpm-budget';
import { refKey } from './points';

export interface CycleInfo {
  /** When the cycle started (ms since the epoch). */
  started: number;
  /** How long it took (ms). */
  duration: number;
  /** Cycles so far that ran longer than the interval. */
  overruns: number;
  /** Properties read in the cycle (all members, de-duplicated). */
  properties: number;
}

export type PollListener = (results: ReadResult[], cycle: CycleInfo) => void;

export interface PollHandle {
  readonly interval: number;
  /** Leave the group (the group stops when its last member leaves). */
  stop(): void;
}

interface Member {
  refs: PropertyRef[];
  keys: string[];
  listener: PollListener;
  active: boolean;
}

class PollGroup {
  readonly members = new Set<Member>();
  timer: ReturnType<typeof setTimeout> | undefined;
  running = false;
  overruns = 0;
  cycles = 0;
  lastDuration = 0;
  constructor(readonly key: string, readonly device: DeviceRef | ResolvedDevice, readonly interval: number, private readonly client: BacnetClient, private readonly onEmpty: () => void) {}

  start(delay: number): void {
    this.#arm(delay);
  }

  #arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.cycle();
    }, Math.max(0, ms));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.members.clear();
  }

  async cycle(): Promise<void> {
    if (this.running || !this.members.size) return;
    this.running = true;
    const started = Date.now();
    const unique: PropertyRef[] = [];
    const index = new Map<string, number>();
    for (const m of this.members) {
      for (let i = 0; i < m.refs.length; i++) {
        if (!index.has(m.keys[i]!)) {
          index.set(m.keys[i]!, unique.length);
          unique.push(m.refs[i]!);
        }
      }
    }
    let results: ReadResult[];
    try {
      results = await this.client.readMany(this.device, unique, { lane: 'poll' });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      results = unique.map((ref) => ({ ref, error: err }));
    }
    const duration = Date.now() - started;
    this.running = false;
    this.cycles++;
    this.lastDuration = duration;
    if (duration > this.interval) this.overruns++;
    const info: CycleInfo = { started, duration, overruns: this.overruns, properties: unique.length };
    for (const m of [...this.members]) {
      if (!m.active) continue;
      deliver(m, m.keys.map((k) => results[index.get(k)!]!), info);
    }
    if (!this.members.size) {
      this.onEmpty();
      return;
    }
    this.#arm(Math.max(0, started + this.interval - Date.now()));
  }
}

function deliver(m: Member, results: ReadResult[], info: CycleInfo): void {
  try {
    m.listener(results, info);
  } catch {
    // a listener's fault is its own
  }
}

export class PollManager {
  readonly #groups = new Map<string, PollGroup>();
  #closed = false;
  constructor(private readonly client: BacnetClient) {}

  get size(): number {
    return this.#groups.size;
  }

  /** Group statistics (device, interval, members, cycles, overruns, last cycle duration). */
  stats(): Array<{ key: string; interval: number; members: number; cycles: number; overruns: number; lastDuration: number }> {
    return [...this.#groups.values()].map((g) => ({ key: g.key, interval: g.interval, members: g.members.size, cycles: g.cycles, overruns: g.overruns, lastDuration: g.lastDuration }));
  }

  /** Poll `refs` of `device` every `interval` ms; `listener` gets one result per ref each cycle. */
  add(device: DeviceRef | ResolvedDevice, refs: PropertyRef[], interval: number, listener: PollListener): PollHandle {
    if (!(interval > 0)) throw new RangeError(`poll interval must be positive, not ${interval}`);
    const member: Member = { refs: [...refs], keys: refs.map(refKey), listener, active: true };
    const key = `${this.#deviceKey(device)}|${interval}`;
    const handle: PollHandle = {
      interval,
      stop: () => {
        member.active = false;
        const g = this.#groups.get(key);
        if (!g) return;
        g.members.delete(member);
        if (!g.members.size && !g.running) {
          g.stop();
          this.#groups.delete(key);
        }
      },
    };
    if (this.#closed) return handle;
    let g = this.#groups.get(key);
    if (!g) {
      g = new PollGroup(key, device, interval, this.client, () => {
        g!.stop();
        if (this.#groups.get(key) === g) this.#groups.delete(key);
      });
      this.#groups.set(key, g);
      g.members.add(member);
      // a short delay lets members added in the same deploy share the first cycle
      g.start(20);
    } else {
      g.members.add(member);
      // first values at once, from a read of its own
      const started = Date.now();
      this.client.readMany(device, member.refs, { lane: 'poll' }).then(
        (results) => {
          if (member.active) deliver(member, results, { started, duration: Date.now() - started, overruns: g!.overruns, properties: member.refs.length });
        },
        (e: unknown) => {
          const err = e instanceof Error ? e : new Error(String(e));
          if (member.active) deliver(member, member.refs.map((ref) => ({ ref, error: err })), { started, duration: Date.now() - started, overruns: g!.overruns, properties: member.refs.length });
        },
      );
    }
    return handle;
  }

  #deviceKey(device: DeviceRef | ResolvedDevice): string {
    if (isResolvedDevice(device)) return device.key;
    if (typeof device === 'number') return `#${device}`;
    if (typeof device === 'string') return /^\s*\d+\s*$/.test(device) ? `#${device.trim()}` : safeKey(device, this.client.endpoint.destinationPort);
    if ('instance' in device && typeof device.instance === 'number') {
      const a = (device as { address?: unknown }).address;
      return a === undefined || a === '' ? `#${device.instance}` : safeKey(a as string, this.client.endpoint.destinationPort);
    }
    return safeKey(device as Parameters<typeof parseAddress>[0], this.client.endpoint.destinationPort);
  }

  close(): void {
    this.#closed = true;
    for (const g of this.#groups.values()) g.stop();
    this.#groups.clear();
  }
}

function safeKey(a: Parameters<typeof parseAddress>[0], port: number): string {
  try {
    return addressKey(parseAddress(a, port), port);
  } catch {
    return JSON.stringify(a);
  }
}
