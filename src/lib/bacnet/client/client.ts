/**
 * BacnetClient: every client service of ASHRAE 135-2020 over one BacnetEndpoint, with the
 * machinery above it that a network of real devices needs:
 *
 * - devices by instance (address found by Who-Is, Clause 16.10), by 'host[:port]', or by network
 *   number + MAC behind a router (Clause 6);
 * - one RequestScheduler for the whole network: per-device and per-routed-network limits, fair
 *   round robin, a global cap, priority lanes, coalesced writes (scheduler.ts);
 * - readMany: many properties of one device in ReadPropertyMultiple requests sized from the
 *   device's max APDU (rpm-budget.ts), halving and remembering the size when the device aborts,
 *   ReadProperty where RPM is not executed (15.5, 15.7);
 * - what is learned per device (device-state.ts), COV subscriptions with renewal and fallback
 *   (cov-manager.ts), shared poll groups (poll-manager.ts), object lists and point dumps
 *   (discovery.ts).
 *
 *   const client = new BacnetClient(endpoint);
 *   const devices = await client.whoIs({ timeout: 2000 });
 *   const pv = await client.readProperty(1234, 'analog-input:1', 'present-value');   // BacnetValue[]
 *   await client.writeProperty('192.168.1.20', 'analog-output:3', 'pv', 42.5, { priority: 8 });
 *   await client.writeProperty(1234, 'binary-output:1', 'pv', null, { priority: 8 });   // relinquish
 *
 * Failures are the stack's typed errors (errors.ts: BacnetError with class/code names,
 * BacnetRejectError, BacnetAbortError, BacnetTimeoutError, ...).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { BacnetEndpoint, RequestOptions } from '../endpoint';
import { type BacnetAddress, addressKey, formatAddress, parseAddress } from '../address';
import type { ConfirmedAckOf, ConfirmedRequestOf, ConfirmedServiceName } from '../services/registry';
import type { DeviceInfo, DuplicateDevice } from '../device-cache';
import type { IHaveRequest } from '../services/who-has';
import type { ReadAccessResult, ReadAccessSpec } from '../services/read-property-multiple';
import type { ReadRangeAck, ReadRangeSpec } from '../services/read-range';
import type { AtomicReadFileAck } from '../services/atomic-file';
import { timeSynchronizationFor } from '../services/time-synchronization';
import type { PropertyValue } from '../codec/constructed';
import type { ObjectId } from '../codec/primitives';
import { type BacnetValue } from '../codec/values';
import { encodeProperty, isBacnetValue, parseObjectId, parsePropertyId, formatObjectId } from '../codec/js';
import { PropertyIdentifier } from '../enums/property-identifier';
import { EnableDisable, ReinitializedState } from '../enums/states';
import { BacnetError, CancelledError, DeviceUnknownError } from '../errors';
import { LocalProtocolError } from '../../wire/errors';
import { RequestScheduler, type Lane, type SchedulerOptions } from './scheduler';
import { DeviceStates, type DeviceState, isResolvedDevice } from './device-state';
import { ACK_HEADER, MIN_BUDGET, REQUEST_HEADER, planBatches, type PropertyRef, type RpmBatch } from './rpm-budget';
import { isDeviceAnswer, isOffline, isServiceUnsupported, isSizeFailure } from './failures';
import { CovManager, type CovOptions } from './cov-manager';
import { PollManager } from './poll-manager';

/** An address as parseAddress takes it ('host[:port]', or { host, port, network, mac } with mac as bytes, hex text or a number). */
export type AddressLike = Parameters<typeof parseAddress>[0];
/** A device: instance number, 'host[:port]', an address, or an instance with a known address. */
export type DeviceRef = number | string | Exclude<AddressLike, string> | { instance: number; address?: AddressLike };
/** An object in any accepted spelling ('analog-input:1', 'ai:1', {type, instance}, [0, 1]). */
export type ObjectRef = ObjectId | string | { type: number | string; instance: number } | [number | string, number];
/** A property by name ('present-value', 'presentValue', 'pv') or number. */
export type PropertyName = string | number;

export interface ResolvedDevice {
  /** Logical address key (scheduler queue and device state). */
  key: string;
  address: BacnetAddress;
  instance?: number;
  /** Gate of routed devices behind one router ('router|network'). */
  networkKey?: string;
  /** 'device 1234 (192.168.1.20:47808)'. */
  label: string;
}

export interface ClientOptions extends Partial<SchedulerOptions> {
  /** How long to wait for an I-Am when a device is given by instance (ms, default 3000). */
  resolveTimeout?: number;
  cov?: Partial<CovOptions>;
}

export interface CallOptions {
  lane?: Lane;
  signal?: AbortSignal;
  /** APDU timeout and retries for this request. */
  timeout?: number;
  retries?: number;
}

export interface ReadResult {
  ref: PropertyRef;
  value?: BacnetValue[];
  error?: Error;
}

export interface WriteSpec {
  objectId: ObjectRef;
  propertyId: PropertyName;
  /** Plain JS (typed from the object type and property), null (relinquish), or tagged BacnetValue(s). */
  value: unknown;
  priority?: number;
  arrayIndex?: number;
}

export interface ClientEvents {
  /** A device went online or offline, or its last error changed. */
  'device-status': [state: DeviceState];
  'duplicate-device': [duplicate: DuplicateDevice];
}

const MAX_RESOLVED = 4096;

function isRecord(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

/** Values to write: tagged values as they are, else typed from the datatype table (null -> NULL). */
export function valuesFor(objectId: ObjectId, propertyId: number, value: unknown, arrayIndex?: number): BacnetValue[] {
  if (isBacnetValue(value)) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every(isBacnetValue)) return value as BacnetValue[];
  return encodeProperty(objectId.type, propertyId, value, arrayIndex);
}

export class BacnetClient extends EventEmitter<ClientEvents> {
  readonly endpoint: BacnetEndpoint;
  readonly scheduler: RequestScheduler;
  readonly devices = new DeviceStates();
  readonly cov: CovManager;
  readonly polls: PollManager;
  readonly resolveTimeout: number;
  readonly #resolved = new Map<string, ResolvedDevice>();
  readonly #resolving = new Map<number, Promise<BacnetAddress>>();
  readonly #duplicates: DuplicateDevice[] = [];
  #closed = false;
  readonly #onDuplicate: (d: DuplicateDevice) => void;

  constructor(endpoint: BacnetEndpoint, opts: ClientOptions = {}) {
    super();
    this.endpoint = endpoint;
    this.resolveTimeout = opts.resolveTimeout ?? 3000;
    const sched: Partial<SchedulerOptions> = {};
    for (const k of ['perDevice', 'perRemoteNetwork', 'maxInFlight', 'maxQueued'] as const) if (opts[k] !== undefined) sched[k] = opts[k];
    this.scheduler = new RequestScheduler(sched);
    this.cov = new CovManager(this, opts.cov);
    this.polls = new PollManager(this);
    this.#onDuplicate = (d) => {
      this.#duplicates.push(d);
      if (this.#duplicates.length > 256) this.#duplicates.shift();
      this.#emitSafe('duplicate-device', d);
    };
    endpoint.on('duplicate-device', this.#onDuplicate);
  }

  get closed(): boolean {
    return this.#closed || this.endpoint.isClosed;
  }

  /** Duplicate device instances heard so far (most recent last). */
  get duplicates(): readonly DuplicateDevice[] {
    return this.#duplicates;
  }

  /** Stop: queued requests are cancelled, COV and poll timers stop (subscriptions are not cancelled on the wire: use cov.close first). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.scheduler.close();
    this.cov.stop();
    this.polls.close();
    this.endpoint.off('duplicate-device', this.#onDuplicate);
  }

  #emitSafe<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: ClientEvents[K]) => boolean)(event, ...args);
    } catch {
      // a listener's fault is its own
    }
  }

  // ===========================================================================================
  // Devices

  /** Where a device is: its address, logical key and label. Instances are found by Who-Is once. */
  async resolve(ref: DeviceRef): Promise<ResolvedDevice> {
    const now = this.resolveSync(ref);
    if (now) return now;
    if (typeof ref === 'number') return this.#byInstance(ref);
    if (typeof ref === 'string') return this.#byInstance(Number(ref.trim()));
    return this.#byInstance((ref as { instance: number }).instance);
  }

  /**
   * The device without waiting when that is possible: addresses parse at once, instances whose
   * address is known come from the cache. Undefined when a Who-Is is needed. Throws on bad input.
   */
  resolveSync(ref: DeviceRef): ResolvedDevice | undefined {
    if (typeof ref === 'number') return this.#knownInstance(ref);
    if (typeof ref === 'string') {
      const hit = this.#resolved.get(ref);
      if (hit) return hit;
      const t = ref.trim();
      if (/^\d+$/.test(t)) return this.#knownInstance(Number(t));
      return this.#remember(ref, this.#make(parseAddress(t, this.endpoint.destinationPort)));
    }
    if (isRecord(ref) && typeof (ref as { instance?: unknown }).instance === 'number') {
      const r = ref as { instance: number; address?: AddressLike };
      if (r.address === undefined || r.address === '') return this.#knownInstance(r.instance);
      return this.#make(parseAddress(r.address, this.endpoint.destinationPort), r.instance);
    }
    return this.#make(parseAddress(ref as AddressLike, this.endpoint.destinationPort));
  }

  #knownInstance(instance: number): ResolvedDevice | undefined {
    if (!Number.isInteger(instance) || instance < 0 || instance > 4194302) throw new LocalProtocolError(`device instance ${instance} is outside 0..4194302`);
    const known = this.endpoint.devices.get(instance);
    if (!known) return undefined;
    const cacheKey = `#${instance}`;
    const hit = this.#resolved.get(cacheKey);
    if (hit && hit.address === known.address) return hit;
    return this.#remember(cacheKey, this.#make(known.address, instance));
  }

  #remember(k: string, d: ResolvedDevice): ResolvedDevice {
    if (this.#resolved.size >= MAX_RESOLVED) this.#resolved.clear();
    this.#resolved.set(k, d);
    return d;
  }

  #make(address: BacnetAddress, instance?: number): ResolvedDevice {
    const key = addressKey(address, this.endpoint.destinationPort);
    const routed = address.network !== undefined && address.network !== 0 && address.mac !== undefined;
    const d: ResolvedDevice = { key, address, label: instance !== undefined ? `device ${instance} (${formatAddress(address)})` : formatAddress(address) };
    if (instance !== undefined) d.instance = instance;
    if (routed) d.networkKey = `${address.host ?? 'any'}:${address.port ?? this.endpoint.destinationPort}|${address.network}`;
    const st = this.devices.get(key);
    if (instance !== undefined) st.instance = instance;
    const info = this.endpoint.devices.atAddress(address);
    if (info) {
      st.maxApdu = info.maxApdu;
      st.segmentation = info.segmentation;
      st.vendorId = info.vendorId;
      st.instance ??= info.instance;
    }
    return d;
  }

  async #byInstance(instance: number): Promise<ResolvedDevice> {
    const now = this.#knownInstance(instance);
    if (now) return now;
    let p = this.#resolving.get(instance);
    if (!p) {
      p = this.endpoint.resolveDevice(instance, this.resolveTimeout).finally(() => this.#resolving.delete(instance));
      this.#resolving.set(instance, p);
    }
    let address: BacnetAddress;
    try {
      address = await p;
    } catch (e) {
      if (e instanceof DeviceUnknownError) {
        const st = this.devices.get(`#${instance}`);
        st.instance = instance;
        this.#failed(st, e);
      }
      throw e;
    }
    return this.#remember(`#${instance}`, this.#make(address, instance));
  }

  /** What the client knows of a device (after at least one request or resolve). */
  state(d: ResolvedDevice): DeviceState {
    return this.devices.get(d.key);
  }

  #ok(st: DeviceState, rtt: number): void {
    st.lastRtt = rtt;
    st.lastOk = Date.now();
    if (st.online !== true) {
      st.online = true;
      this.#emitSafe('device-status', st);
    }
  }

  #failed(st: DeviceState, e: unknown): void {
    const was = st.online;
    const text = e instanceof Error ? e.message : String(e);
    const changed = st.lastError !== text;
    st.lastError = text;
    st.lastFailure = Date.now();
    if (isOffline(e)) st.online = false;
    else if (isDeviceAnswer(e)) st.online = true;
    if (was !== st.online || changed) this.#emitSafe('device-status', st);
  }

  // ===========================================================================================
  // The one path of every confirmed request

  /** A scheduled confirmed request: queued per device and lane, with status bookkeeping. */
  request<N extends ConfirmedServiceName>(ref: DeviceRef | ResolvedDevice, service: N, req: ConfirmedRequestOf<N>, opts: CallOptions & { coalesce?: string } = {}): Promise<ConfirmedAckOf<N>> {
    if (this.#closed) return Promise.reject(new CancelledError('the BACnet client is closed'));
    // submit at once whenever the address is known, so requests keep the order they were made in
    let known: ResolvedDevice | undefined;
    try {
      known = isResolved(ref) ? ref : this.resolveSync(ref);
    } catch (e) {
      return Promise.reject(e);
    }
    if (known) return this.#submit(known, service, req, opts);
    return this.resolve(ref as DeviceRef).then((d) => this.#submit(d, service, req, opts));
  }

  #submit<N extends ConfirmedServiceName>(dev: ResolvedDevice, service: N, req: ConfirmedRequestOf<N>, opts: CallOptions & { coalesce?: string }): Promise<ConfirmedAckOf<N>> {
    const st = this.devices.get(dev.key);
    const jobOpts: { lane?: Lane; coalesce?: string; networkKey?: string; signal?: AbortSignal; limit?: number } = {};
    if (st.concurrency !== undefined) jobOpts.limit = st.concurrency;
    if (opts.lane) jobOpts.lane = opts.lane;
    if (opts.coalesce !== undefined) jobOpts.coalesce = opts.coalesce;
    if (dev.networkKey !== undefined) jobOpts.networkKey = dev.networkKey;
    if (opts.signal) jobOpts.signal = opts.signal;
    const timeout = opts.timeout;
    const retries = opts.retries;
    return this.scheduler.submit(dev.key, (signal) => {
      let ro: RequestOptions | undefined;
      if (signal || timeout !== undefined || retries !== undefined) {
        ro = {};
        if (signal) ro.signal = signal;
        if (timeout !== undefined) ro.timeout = timeout;
        if (retries !== undefined) ro.retries = retries;
      }
      const t0 = performance.now();
      return this.endpoint.confirmedRequest(dev.address, service, req, ro).then((ack) => {
        this.#ok(st, performance.now() - t0);
        return ack;
      }, (e: unknown) => {
        this.#failed(st, e);
        throw e;
      });
    }, jobOpts);
  }

  // ===========================================================================================
  // Discovery (16.9, 16.10)

  /**
   * Who-Is: every device (default), a range (`low`/`high`), one remote network (`network`), all
   * networks (`network: 0xFFFF`), or one address (`address`, unicast). As a foreign device the
   * endpoint sends it through its BBMD. Resolves after `timeout` ms (default 3000) with the
   * devices that answered; duplicates carry `conflicts`.
   */
  whoIs(opts: { low?: number; high?: number; network?: number; address?: BacnetAddress | string; timeout?: number } = {}): Promise<DeviceInfo[]> {
    return this.endpoint.whoIs(opts);
  }

  /** Who-Has by object identifier or name; resolves with the I-Have answers heard within `timeout`. */
  whoHas(opts: { objectId?: ObjectRef; objectName?: string; low?: number; high?: number; network?: number; timeout?: number }): Promise<Array<IHaveRequest & { source: BacnetAddress }>> {
    const req: { lowLimit?: number; highLimit?: number; objectId?: ObjectId; objectName?: string } = {};
    if (opts.low !== undefined || opts.high !== undefined) {
      req.lowLimit = opts.low ?? 0;
      req.highLimit = opts.high ?? 4194303;
    }
    if (opts.objectId !== undefined) req.objectId = parseObjectId(opts.objectId);
    else if (opts.objectName !== undefined) req.objectName = opts.objectName;
    else return Promise.reject(new LocalProtocolError('Who-Has needs an object identifier or an object name'));
    return new Promise((resolve, reject) => {
      const found: Array<IHaveRequest & { source: BacnetAddress }> = [];
      const onIHave = (h: IHaveRequest, source: BacnetAddress): void => {
        if (req.objectId && (h.objectId.type !== req.objectId.type || h.objectId.instance !== req.objectId.instance)) return;
        if (req.objectName !== undefined && h.objectName !== req.objectName) return;
        if (req.lowLimit !== undefined && (h.deviceId.instance < req.lowLimit || h.deviceId.instance > req.highLimit!)) return;
        found.push({ ...h, source });
      };
      this.endpoint.on('i-have', onIHave);
      const t = setTimeout(() => {
        this.endpoint.off('i-have', onIHave);
        resolve(found);
      }, opts.timeout ?? 3000);
      t.unref?.();
      this.endpoint.broadcast('who-has', req, opts.network !== undefined ? { network: opts.network } : {}).catch((e: unknown) => {
        clearTimeout(t);
        this.endpoint.off('i-have', onIHave);
        reject(e as Error);
      });
    });
  }

  // ===========================================================================================
  // Reading (15.5, 15.7, 15.8)

  /** ReadProperty: the property's values (one element for scalars). */
  readProperty(ref: DeviceRef | ResolvedDevice, objectId: ObjectRef, propertyId: PropertyName, opts: CallOptions & { arrayIndex?: number } = {}): Promise<BacnetValue[]> {
    let req: ConfirmedRequestOf<'read-property'>;
    try {
      req = { objectId: oid(objectId), propertyId: pid(propertyId) };
    } catch (e) {
      return Promise.reject(e);
    }
    if (opts.arrayIndex !== undefined) req.arrayIndex = opts.arrayIndex;
    return this.request(ref, 'read-property', req, opts).then((ack) => ack.value);
  }

  /**
   * ReadPropertyMultiple as the device answers it: per object, per property a value or the
   * error the device gave (ALL 8 / REQUIRED 105 / OPTIONAL 80 expand to every property).
   */
  async readPropertyMultiple(ref: DeviceRef | ResolvedDevice, specs: Array<{ objectId: ObjectRef; properties: Array<PropertyName | { propertyId: PropertyName; arrayIndex?: number }> }>, opts: CallOptions = {}): Promise<ReadAccessResult[]> {
    const req: ReadAccessSpec[] = specs.map((s) => ({
      objectId: parseObjectId(s.objectId),
      properties: s.properties.map((p) => {
        if (typeof p === 'string' || typeof p === 'number') return { propertyId: parsePropertyId(p) };
        const r: { propertyId: number; arrayIndex?: number } = { propertyId: parsePropertyId(p.propertyId) };
        if (p.arrayIndex !== undefined) r.arrayIndex = p.arrayIndex;
        return r;
      }),
    }));
    const ack = await this.request(ref, 'read-property-multiple', { specs: req }, opts);
    return ack.results;
  }

  /**
   * Read many properties of one device at once: ReadPropertyMultiple requests sized to the
   * device (halved and remembered when it aborts with buffer-overflow or
   * segmentation-not-supported), ReadProperty where RPM is not executed or a single property
   * does not fit. One result per reference, in order: a value or the error for that property.
   */
  async readMany(ref: DeviceRef | ResolvedDevice, refs: readonly PropertyRef[], opts: CallOptions = {}): Promise<ReadResult[]> {
    const dev = isResolved(ref) ? ref : await this.resolve(ref);
    const out: ReadResult[] = refs.map((r) => ({ ref: r }));
    if (!refs.length) return out;
    const st = this.devices.get(dev.key);
    if (st.rpm === false || refs.length === 1) {
      await Promise.all(refs.map((_, i) => this.#readOne(dev, refs, i, out, opts)));
      return out;
    }
    const batches = planBatches(refs, this.#answerBudget(st), this.#requestBudget(st));
    await Promise.all(batches.map((b) => this.#runBatch(dev, refs, b, out, opts)));
    return out;
  }

  #maxApdu(st: DeviceState): number {
    return Math.min(st.maxApdu ?? this.endpoint.maxApdu, this.endpoint.maxApdu);
  }

  #answerBudget(st: DeviceState): number {
    const full = this.#maxApdu(st) - ACK_HEADER;
    return Math.max(MIN_BUDGET, Math.min(full, st.rpmBudget ?? full));
  }

  #requestBudget(st: DeviceState): number {
    return this.#maxApdu(st) - REQUEST_HEADER;
  }

  async #readOne(dev: ResolvedDevice, refs: readonly PropertyRef[], i: number, out: ReadResult[], opts: CallOptions): Promise<void> {
    const r = refs[i]!;
    try {
      const req: ConfirmedRequestOf<'read-property'> = { objectId: r.objectId, propertyId: r.propertyId };
      if (r.arrayIndex !== undefined) req.arrayIndex = r.arrayIndex;
      out[i]!.value = (await this.request(dev, 'read-property', req, opts)).value;
    } catch (e) {
      out[i]!.error = e instanceof Error ? e : new Error(String(e));
    }
  }

  async #runBatch(dev: ResolvedDevice, refs: readonly PropertyRef[], b: RpmBatch, out: ReadResult[], opts: CallOptions): Promise<void> {
    const st = this.devices.get(dev.key);
    let ack: ReadAccessResult[];
    try {
      ack = (await this.request(dev, 'read-property-multiple', { specs: b.specs }, opts)).results;
    } catch (e) {
      if (st.rpm !== true && isServiceUnsupported(e)) {
        st.rpm = false;
        this.devices.remember(st);
      } else if (isSizeFailure(e) && b.items.length > 1) {
        const budget = Math.max(MIN_BUDGET, Math.floor(b.estimate / 2));
        if (st.rpmBudget === undefined || budget < st.rpmBudget) {
          st.rpmBudget = budget;
          this.devices.remember(st);
        }
        const again = planBatches(refs, Math.min(budget, this.#answerBudget(st)), this.#requestBudget(st), b.items);
        if (again.length === 1) again.splice(0, 1, ...splitInTwo(refs, again[0]!, this.#requestBudget(st)));
        await Promise.all(again.map((x) => this.#runBatch(dev, refs, x, out, opts)));
        return;
      } else if (!(e instanceof BacnetError) && !isSizeFailure(e)) {
        // no answer, cancelled, ...: every property of the batch shares the failure
        const err = e instanceof Error ? e : new Error(String(e));
        for (const i of b.items) out[i]!.error = err;
        return;
      }
      // RPM not executed, a whole-request Error, or one property too large: ReadProperty each
      await Promise.all(b.items.map((i) => this.#readOne(dev, refs, i, out, opts)));
      return;
    }
    if (st.rpm !== true) {
      st.rpm = true;
      this.devices.remember(st);
    }
    assignResults(refs, b, ack, out);
  }

  /** ReadRange (15.8): by position, sequence number or time, or the whole list. */
  async readRange(ref: DeviceRef | ResolvedDevice, objectId: ObjectRef, propertyId: PropertyName, range?: ReadRangeSpec, opts: CallOptions & { arrayIndex?: number } = {}): Promise<ReadRangeAck> {
    const req: ConfirmedRequestOf<'read-range'> = { objectId: parseObjectId(objectId), propertyId: parsePropertyId(propertyId) };
    if (opts.arrayIndex !== undefined) req.arrayIndex = opts.arrayIndex;
    if (range) req.range = range;
    return this.request(ref, 'read-range', req, opts);
  }

  // ===========================================================================================
  // Writing (15.9, 15.10, 19.2)

  /**
   * WriteProperty. `value` is plain JS typed from the object type and property (analog -> REAL,
   * binary -> ENUMERATED from true/false/'active'/'on', multi-state -> Unsigned, ...), tagged
   * BacnetValue(s) as they are, or null: the NULL tag, which relinquishes the priority given
   * (19.2.2). Writes to the same point and priority still queued are coalesced (latest wins).
   * Resolves with the values sent.
   */
  async writeProperty(ref: DeviceRef | ResolvedDevice, objectId: ObjectRef, propertyId: PropertyName, value: unknown, opts: CallOptions & { priority?: number; arrayIndex?: number } = {}): Promise<BacnetValue[]> {
    const o = oid(objectId);
    const p = pid(propertyId);
    checkPriority(opts.priority);
    const values = valuesFor(o, p, value, opts.arrayIndex);
    const req: ConfirmedRequestOf<'write-property'> = { objectId: o, propertyId: p, value: values };
    if (opts.arrayIndex !== undefined) req.arrayIndex = opts.arrayIndex;
    if (opts.priority !== undefined) req.priority = opts.priority;
    const coalesce = `wp|${o.type}:${o.instance}|${p}|${opts.arrayIndex ?? ''}|${opts.priority ?? ''}`;
    await this.request(ref, 'write-property', req, { lane: 'write', coalesce, ...opts });
    return values;
  }

  /**
   * WritePropertyMultiple of several writes (grouped by object, in order). A device that does not
   * execute WPM gets one WriteProperty after another (stopping at the first failure, as WPM would).
   */
  async writePropertyMultiple(ref: DeviceRef | ResolvedDevice, writes: WriteSpec[], opts: CallOptions = {}): Promise<Array<{ objectId: ObjectId; propertyId: number; value: BacnetValue[] }>> {
    if (!writes.length) throw new LocalProtocolError('WritePropertyMultiple needs at least one write');
    const dev = isResolved(ref) ? ref : await this.resolve(ref);
    const flat = writes.map((w) => {
      const objectId = parseObjectId(w.objectId);
      const propertyId = parsePropertyId(w.propertyId);
      checkPriority(w.priority);
      const pv: PropertyValue = { propertyId, value: valuesFor(objectId, propertyId, w.value, w.arrayIndex) };
      if (w.arrayIndex !== undefined) pv.arrayIndex = w.arrayIndex;
      if (w.priority !== undefined) pv.priority = w.priority;
      return { objectId, pv };
    });
    const st = this.devices.get(dev.key);
    const sequential = async (): Promise<void> => {
      for (const f of flat) {
        const req: ConfirmedRequestOf<'write-property'> = { objectId: f.objectId, propertyId: f.pv.propertyId, value: f.pv.value };
        if (f.pv.arrayIndex !== undefined) req.arrayIndex = f.pv.arrayIndex;
        if (f.pv.priority !== undefined) req.priority = f.pv.priority;
        await this.request(dev, 'write-property', req, { lane: 'write', ...opts });
      }
    };
    if (st.wpm === false) await sequential();
    else {
      const specs: Array<{ objectId: ObjectId; values: PropertyValue[] }> = [];
      for (const f of flat) {
        const last = specs[specs.length - 1];
        if (last && last.objectId.type === f.objectId.type && last.objectId.instance === f.objectId.instance) last.values.push(f.pv);
        else specs.push({ objectId: f.objectId, values: [f.pv] });
      }
      try {
        await this.request(dev, 'write-property-multiple', { specs }, { lane: 'write', ...opts });
        if (st.wpm !== true) {
          st.wpm = true;
          this.devices.remember(st);
        }
      } catch (e) {
        if (st.wpm === true || !isServiceUnsupported(e)) throw e;
        st.wpm = false;
        this.devices.remember(st);
        await sequential();
      }
    }
    return flat.map((f) => ({ objectId: f.objectId, propertyId: f.pv.propertyId, value: f.pv.value }));
  }

  // ===========================================================================================
  // COV (13.14, 13.15); the managed subscriptions are in `client.cov`

  /** SubscribeCOV (lifetime in seconds; 0 = indefinite, which BTL guidance advises against). */
  async subscribeCov(ref: DeviceRef | ResolvedDevice, s: { processId: number; objectId: ObjectRef; confirmed?: boolean; lifetime?: number }, opts: CallOptions = {}): Promise<void> {
    await this.request(ref, 'subscribe-cov', {
      subscriberProcessId: s.processId, monitoredObjectId: parseObjectId(s.objectId),
      issueConfirmedNotifications: s.confirmed ?? false, lifetime: s.lifetime ?? 300,
    }, { lane: 'cov', ...opts });
  }

  /** SubscribeCOVProperty of one property, with an optional COV increment. */
  async subscribeCovProperty(ref: DeviceRef | ResolvedDevice, s: { processId: number; objectId: ObjectRef; propertyId: PropertyName; arrayIndex?: number; covIncrement?: number; confirmed?: boolean; lifetime?: number }, opts: CallOptions = {}): Promise<void> {
    const req: ConfirmedRequestOf<'subscribe-cov-property'> = {
      subscriberProcessId: s.processId, monitoredObjectId: parseObjectId(s.objectId),
      issueConfirmedNotifications: s.confirmed ?? false, lifetime: s.lifetime ?? 300,
      monitoredProperty: s.arrayIndex !== undefined ? { propertyId: parsePropertyId(s.propertyId), arrayIndex: s.arrayIndex } : { propertyId: parsePropertyId(s.propertyId) },
    };
    if (s.covIncrement !== undefined) req.covIncrement = s.covIncrement;
    await this.request(ref, 'subscribe-cov-property', req, { lane: 'cov', ...opts });
  }

  /** Cancel a subscription: SubscribeCOV(-Property) with both optional parameters absent (13.14.1.1.4). */
  async cancelCov(ref: DeviceRef | ResolvedDevice, s: { processId: number; objectId: ObjectRef; propertyId?: PropertyName; arrayIndex?: number }, opts: CallOptions = {}): Promise<void> {
    const monitoredObjectId = parseObjectId(s.objectId);
    if (s.propertyId === undefined) {
      await this.request(ref, 'subscribe-cov', { subscriberProcessId: s.processId, monitoredObjectId }, { lane: 'cov', ...opts });
      return;
    }
    const monitoredProperty = s.arrayIndex !== undefined ? { propertyId: parsePropertyId(s.propertyId), arrayIndex: s.arrayIndex } : { propertyId: parsePropertyId(s.propertyId) };
    await this.request(ref, 'subscribe-cov-property', { subscriberProcessId: s.processId, monitoredObjectId, monitoredProperty }, { lane: 'cov', ...opts });
  }

  // ===========================================================================================
  // Device management (16.1, 16.4, 16.7, 16.8)

  /** TimeSynchronization (local time) or UTCTimeSynchronization (`utc`), to one device or broadcast. */
  async timeSynchronization(opts: { date?: Date; utc?: boolean; device?: DeviceRef; network?: number } = {}): Promise<void> {
    const req = timeSynchronizationFor(opts.date ?? new Date(), opts.utc === true);
    const service = opts.utc ? 'utc-time-synchronization' : 'time-synchronization';
    if (opts.device !== undefined) {
      const dev = await this.resolve(opts.device);
      await this.endpoint.unconfirmedRequest(dev.address, service, req);
    } else {
      await this.endpoint.broadcast(service, req, opts.network !== undefined ? { network: opts.network } : {});
    }
  }

  /** DeviceCommunicationControl: enable, disable or disable-initiation, for `minutes` (omitted: until changed). */
  async deviceCommunicationControl(ref: DeviceRef | ResolvedDevice, s: { state: string | number; minutes?: number; password?: string }, opts: CallOptions = {}): Promise<void> {
    const req: ConfirmedRequestOf<'device-communication-control'> = { enableDisable: EnableDisable.require(s.state) };
    if (s.minutes !== undefined) req.timeDuration = s.minutes;
    if (s.password) req.password = s.password;
    await this.request(ref, 'device-communication-control', req, { lane: 'write', ...opts });
  }

  /** ReinitializeDevice: coldstart, warmstart, start-backup, ... with the device's password. */
  async reinitializeDevice(ref: DeviceRef | ResolvedDevice, s: { state: string | number; password?: string }, opts: CallOptions = {}): Promise<void> {
    const req: ConfirmedRequestOf<'reinitialize-device'> = { state: ReinitializedState.require(s.state) };
    if (s.password) req.password = s.password;
    await this.request(ref, 'reinitialize-device', req, { lane: 'write', ...opts });
  }

  // ===========================================================================================
  // Files (14.1, 14.2) and objects (15.3, 15.4)

  /** AtomicReadFile, stream (`octetCount`) or record (`recordCount`) access. */
  async readFile(ref: DeviceRef | ResolvedDevice, fileId: ObjectRef, access: { start: number; octetCount: number } | { start: number; recordCount: number }, opts: CallOptions = {}): Promise<AtomicReadFileAck> {
    const id = parseObjectId(fileId);
    const req: ConfirmedRequestOf<'atomic-read-file'> = 'octetCount' in access
      ? { fileId: id, stream: { start: access.start, octetCount: access.octetCount } }
      : { fileId: id, record: { start: access.start, recordCount: access.recordCount } };
    return this.request(ref, 'atomic-read-file', req, opts);
  }

  /** AtomicWriteFile, stream (`data`) or record (`records`) access; resolves with the start the device used. */
  async writeFile(ref: DeviceRef | ResolvedDevice, fileId: ObjectRef, access: { start: number; data: Uint8Array } | { start: number; records: Uint8Array[] }, opts: CallOptions = {}): Promise<number> {
    const id = parseObjectId(fileId);
    const req: ConfirmedRequestOf<'atomic-write-file'> = 'data' in access
      ? { fileId: id, stream: { start: access.start, data: access.data } }
      : { fileId: id, record: { start: access.start, records: access.records } };
    const ack = await this.request(ref, 'atomic-write-file', req, { lane: 'write', ...opts });
    return ack.start;
  }

  /** CreateObject by type (the device picks the instance) or by identifier, with initial values. */
  async createObject(ref: DeviceRef | ResolvedDevice, spec: { objectType?: number | string; objectId?: ObjectRef; initialValues?: Array<{ propertyId: PropertyName; value: unknown; arrayIndex?: number }> }, opts: CallOptions = {}): Promise<ObjectId> {
    let head: { objectType: number } | { objectId: ObjectId };
    let type: number;
    if (spec.objectId !== undefined) {
      const id = parseObjectId(spec.objectId);
      head = { objectId: id };
      type = id.type;
    } else if (spec.objectType !== undefined) {
      type = parseObjectId({ type: spec.objectType, instance: 0 }).type;
      head = { objectType: type };
    } else {
      throw new LocalProtocolError('CreateObject needs an object type or an object identifier');
    }
    const req: ConfirmedRequestOf<'create-object'> = { ...head };
    if (spec.initialValues?.length) {
      req.initialValues = spec.initialValues.map((v) => {
        const propertyId = parsePropertyId(v.propertyId);
        const pv: PropertyValue = { propertyId, value: valuesFor({ type, instance: 0 }, propertyId, v.value, v.arrayIndex) };
        if (v.arrayIndex !== undefined) pv.arrayIndex = v.arrayIndex;
        return pv;
      });
    }
    const ack = await this.request(ref, 'create-object', req, { lane: 'write', ...opts });
    return ack.objectId;
  }

  async deleteObject(ref: DeviceRef | ResolvedDevice, objectId: ObjectRef, opts: CallOptions = {}): Promise<void> {
    await this.request(ref, 'delete-object', { objectId: parseObjectId(objectId) }, { lane: 'write', ...opts });
  }
}

/** True for what `resolve` returned (as opposed to a DeviceRef). */
export function isResolved(x: unknown): x is ResolvedDevice {
  return isResolvedDevice(x);
}

/** Object identifiers already in { type, instance } form pass through; other spellings are parsed. */
function oid(x: ObjectRef): ObjectId {
  if (isRecord(x) && typeof x.type === 'number' && typeof x.instance === 'number' && Number.isInteger(x.type) && x.type >= 0 && x.type < 1024
    && Number.isInteger(x.instance) && x.instance >= 0 && x.instance <= 4194303) return x as ObjectId;
  return parseObjectId(x);
}

function pid(x: PropertyName): number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 4194303 ? x : parsePropertyId(x);
}

function checkPriority(p: number | undefined): void {
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 16)) throw new LocalProtocolError(`write priority ${String(p)} is outside 1..16`);
}

/** Split a batch that cannot be shrunk by planning into two halves by item. */
function splitInTwo(refs: readonly PropertyRef[], b: RpmBatch, requestBudget: number): RpmBatch[] {
  const half = Math.ceil(b.items.length / 2);
  return [b.items.slice(0, half), b.items.slice(half)].map((items) => planBatches(refs, Infinity, requestBudget, items)).flat();
}

/** Match an RPM answer to the references of its batch (by object and property, in order). */
function assignResults(refs: readonly PropertyRef[], b: RpmBatch, ack: ReadAccessResult[], out: ReadResult[]): void {
  let k = 0;
  for (const i of b.items) {
    const ref = refs[i]!;
    let found: { value?: BacnetValue[]; error?: { errorClass: number; errorCode: number } } | undefined;
    // answers come in request order; search from the current position, then everywhere
    for (let pass = 0; pass < 2 && !found; pass++) {
      for (let j = pass === 0 ? k : 0; j < ack.length && !found; j++) {
        const obj = ack[j]!;
        const wildcard = ref.objectId.type === 8 && ref.objectId.instance === 4194303; // the device object of whoever answers
        if (obj.objectId.type !== ref.objectId.type || (!wildcard && obj.objectId.instance !== ref.objectId.instance)) continue;
        const p = obj.results.find((x) => x.propertyId === ref.propertyId && x.arrayIndex === ref.arrayIndex);
        if (p) {
          found = p;
          k = j;
        }
      }
    }
    if (!found) out[i]!.error = new BacnetError('property', 'unknown-property', { message: `the device left ${PropertyIdentifier.label(ref.propertyId)} of ${formatObjectId(ref.objectId)} out of its ReadPropertyMultiple answer` });
    else if (found.error) out[i]!.error = new BacnetError(found.error.errorClass, found.error.errorCode);
    else out[i]!.value = found.value ?? [];
  }
}
