/**
 * What the client has learned about each remote device (ASHRAE 135-2020 12.11 Device object:
 * Max_APDU_Length_Accepted, Segmentation_Supported, Protocol_Services_Supported; 15.7 RPM),
 * beyond the endpoint's I-Am cache: whether ReadPropertyMultiple works, how large an RPM answer
 * may be before the device aborts (halved on each segmentation or buffer failure and
 * remembered), which object-list reading step worked, whether it is online, the last round trip
 * and the last error.
 *
 * The learned limits are also kept in a small process-wide memory keyed by address, so a
 * redeploy (a new endpoint) does not relearn them by failing against the device again (a
 * relearning storm after each redeploy made a small MS/TP device reject reads: notes §3.2).
 */
export type ObjectListMethod = 'rpm' | 'rp' | 'index';

/** True for a device already resolved by BacnetClient.resolve ({ key, address, label, ... }). */
export function isResolvedDevice(x: unknown): x is { key: string; address: object; label: string } {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return typeof o.key === 'string' && !!o.address && typeof o.address === 'object' && typeof o.label === 'string';
}

export interface DeviceState {
  key: string;
  instance?: number;
  /** Octets the device accepts in one APDU (from I-Am or the Device object). */
  maxApdu?: number;
  /** BACnetSegmentation: 0 both, 1 transmit, 2 receive, 3 none. */
  segmentation?: number;
  vendorId?: number;
  /** undefined = not tried yet. */
  rpm?: boolean;
  wpm?: boolean;
  cov?: boolean;
  /** Octets of RPM answer that fit (learned). */
  rpmBudget?: number;
  objectList?: ObjectListMethod;
  /** Requests this device may have outstanding (overrides the scheduler's perDevice). */
  concurrency?: number;
  servicesSupported?: boolean[];
  online?: boolean;
  lastRtt?: number;
  lastError?: string;
  lastOk?: number;
  lastFailure?: number;
}

type Learned = Pick<DeviceState, 'rpm' | 'wpm' | 'cov' | 'rpmBudget' | 'objectList' | 'maxApdu' | 'segmentation'>;

const MEMORY_SIZE = 4096;
const memory = new Map<string, Learned>();

/** Forget what the process remembers (tests). */
export function clearLearnedLimits(): void {
  memory.clear();
}

export class DeviceStates {
  readonly #map = new Map<string, DeviceState>();
  readonly maxDevices: number;

  constructor(maxDevices = 65536) {
    this.maxDevices = maxDevices;
  }

  get(key: string): DeviceState {
    let s = this.#map.get(key);
    if (!s) {
      s = { key, ...memory.get(key) };
      this.#map.set(key, s);
      if (this.#map.size > this.maxDevices) this.#map.delete(this.#map.keys().next().value as string);
    }
    return s;
  }

  peek(key: string): DeviceState | undefined {
    return this.#map.get(key);
  }

  all(): DeviceState[] {
    return [...this.#map.values()];
  }

  /** Keep the learned limits of `s` for later endpoints in this process. */
  remember(s: DeviceState): void {
    const l: Learned = {};
    if (s.rpm !== undefined) l.rpm = s.rpm;
    if (s.wpm !== undefined) l.wpm = s.wpm;
    if (s.cov !== undefined) l.cov = s.cov;
    if (s.rpmBudget !== undefined) l.rpmBudget = s.rpmBudget;
    if (s.objectList !== undefined) l.objectList = s.objectList;
    if (s.maxApdu !== undefined) l.maxApdu = s.maxApdu;
    if (s.segmentation !== undefined) l.segmentation = s.segmentation;
    memory.delete(s.key);
    memory.set(s.key, l);
    if (memory.size > MEMORY_SIZE) memory.delete(memory.keys().next().value as string);
  }

  ok(key: string, rtt: number, now: number): void {
    const s = this.get(key);
    s.online = true;
    s.lastRtt = rtt;
    s.lastOk = now;
  }

  failed(key: string, error: string, offline: boolean, now: number): void {
    const s = this.get(key);
    s.lastError = error;
    s.lastFailure = now;
    if (offline) s.online = false;
  }
}
