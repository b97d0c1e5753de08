/**
 * Managed COV subscriptions (ASHRAE 135-2020 13.1 change of value, 13.6/13.7 notifications,
 * 13.14 SubscribeCOV, 13.15 SubscribeCOVProperty; BTL Implementation Guidelines 7.6: finite
 * lifetimes, renewed), the part other JavaScript clients leave to their users:
 *
 * - the subscriber process identifier is derived from a stable owner id (a Node-RED node id),
 *   so a restart replaces the subscription on the device instead of adding another;
 * - a finite lifetime (default 300 s) renewed at 75 % of it, earlier when a notification's Time
 *   Remaining says the device shortened it; exponential back-off (5 s doubling to 5 min) on
 *   failure;
 * - confirmed notifications are acknowledged by the endpoint (a SimpleACK, 13.6);
 * - when the device refuses COV (Error such as resources: no-space-to-add-list-element, Reject
 *   unrecognized-service), stops answering, or sends no notification after subscribing
 *   (13.14.2 asks for one at once), the subscription falls back to polling through the shared
 *   poll groups and says why; it keeps trying to subscribe and returns to COV when it can;
 * - cancel sends SubscribeCOV with both optional parameters absent (13.14.1.1.4).
 */
import type { BacnetAddress } from '../address';
import { addressKey } from '../address';
import type { CovNotificationRequest } from '../services/cov-notification';
import type { PropertyValue } from '../codec/constructed';
import type { ObjectId } from '../codec/primitives';
import { parseObjectId, parsePropertyId } from '../codec/js';
import { PropertyIdentifier } from '../enums/property-identifier';
import type { BacnetClient, DeviceRef, ObjectRef, PropertyName, ResolvedDevice } from './client';
import type { PollHandle } from './poll-manager';
import { isDeviceAnswer, shortFailure } from './failures';
import { isResolvedDevice } from './device-state';

export interface CovOptions {
  /** Subscription lifetime in seconds (default 300; 0 is refused: renewals need a finite lease). */
  lifetime: number;
  /** Renew at this fraction of the lifetime (default 0.75). */
  renewAt: number;
  /** Ask for confirmed notifications (default false). */
  confirmed: boolean;
  /** Fall back to polling when no notification arrives this long after subscribing (ms, default 10000; 0 = never). */
  notifyTimeout: number;
  /** Polling interval while falling back (ms, default 10000). */
  pollInterval: number;
  /** Back-off after a failed subscription: first delay and cap (ms, default 5000 and 300000). */
  backoffMin: number;
  backoffMax: number;
  /** First retry after the device refused COV (ms, default 60000). */
  refusedRetry: number;
}

export const DEFAULT_COV_OPTIONS: CovOptions = {
  lifetime: 300, renewAt: 0.75, confirmed: false, notifyTimeout: 10_000, pollInterval: 10_000,
  backoffMin: 5_000, backoffMax: 300_000, refusedRetry: 60_000,
};

export type CovMode = 'subscribing' | 'cov' | 'polling' | 'cancelled';

export interface CovStatus {
  mode: CovMode;
  /** Why it polls, in words. */
  reason?: string;
}

export interface CovListener {
  /** Values from a notification (or, while polling, from a read: same shape). */
  values(values: PropertyValue[], source: 'cov' | 'poll', notification?: CovNotificationRequest): void;
  status?(s: CovStatus): void;
}

export interface CovRequest {
  device: DeviceRef | ResolvedDevice;
  objectId: ObjectRef;
  /** Subscriber process identifier (see processIdFor). */
  processId: number;
  /** SubscribeCOVProperty of this property instead of SubscribeCOV. */
  propertyId?: PropertyName;
  covIncrement?: number;
  confirmed?: boolean;
  lifetime?: number;
  pollInterval?: number;
}

/** A stable subscriber process identifier (1..2^31-1) for an owner id such as a node id (FNV-1a). */
export function processIdFor(owner: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < owner.length; i++) {
    h ^= owner.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h & 0x7fffffff) || 1;
}

export class CovSubscription {
  readonly objectId: ObjectId;
  readonly propertyId: number | undefined;
  readonly processId: number;
  #mode: CovMode = 'subscribing';
  #reason: string | undefined;
  #dev: ResolvedDevice | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #poll: PollHandle | undefined;
  #subscribed = false;
  #heard = false;
  #backoff = 0;
  #expiresAt = 0;
  #renewDue = 0;
  #inFlight = false;
  readonly #lifetime: number;
  readonly #confirmed: boolean;
  readonly #pollInterval: number;

  constructor(private readonly manager: CovManager, private readonly req: CovRequest, private readonly listener: CovListener, private readonly opts: CovOptions) {
    this.objectId = parseObjectId(req.objectId);
    this.propertyId = req.propertyId === undefined ? undefined : parsePropertyId(req.propertyId);
    this.processId = req.processId;
    this.#lifetime = Math.max(1, Math.round(req.lifetime ?? opts.lifetime));
    this.#confirmed = req.confirmed ?? opts.confirmed;
    this.#pollInterval = req.pollInterval ?? opts.pollInterval;
    // Checked now, in the caller's hands: the fallback to polling comes later from a timer or a
    // failed subscription, where a bad interval could only fail out of sight.
    if (!(this.#pollInterval > 0) || !Number.isFinite(this.#pollInterval)) {
      throw new RangeError(`COV poll fallback interval must be a positive number of ms, not ${this.#pollInterval}`);
    }
  }

  /** Re-read after an await (the mode may have changed meanwhile). */
  #isCancelled(): boolean {
    return this.#mode === 'cancelled';
  }

  get mode(): CovMode {
    return this.#mode;
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  get device(): ResolvedDevice | undefined {
    return this.#dev;
  }

  /** True when a notification for this subscription comes from `source` about `n`. */
  matches(n: CovNotificationRequest, source: BacnetAddress): boolean {
    if (n.subscriberProcessId !== this.processId || n.monitoredObjectId.type !== this.objectId.type || n.monitoredObjectId.instance !== this.objectId.instance) return false;
    const d = this.#dev;
    if (!d) return false;
    return d.key === addressKey(source) || (d.instance !== undefined && d.instance === n.initiatingDeviceId.instance);
  }

  #set(mode: CovMode, reason?: string): void {
    if (this.#mode === 'cancelled') return;
    const changed = mode !== this.#mode || reason !== this.#reason;
    this.#mode = mode;
    this.#reason = reason;
    if (changed) {
      try {
        this.listener.status?.({ mode, ...(reason !== undefined ? { reason } : {}) });
      } catch {
        // the listener's fault
      }
    }
  }

  #arm(ms: number, fn: () => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      fn();
    }, Math.max(0, ms));
    this.#timer.unref?.();
  }

  start(): void {
    void this.#subscribe(false);
  }

  async #subscribe(renewal: boolean): Promise<void> {
    if (this.#mode === 'cancelled' || this.#inFlight) return;
    this.#inFlight = true;
    const client = this.manager.client;
    try {
      this.#dev ??= isResolvedDevice(this.req.device) ? this.req.device as ResolvedDevice : await client.resolve(this.req.device as DeviceRef);
      const s = { processId: this.processId, objectId: this.objectId, confirmed: this.#confirmed, lifetime: this.#lifetime };
      if (this.propertyId === undefined) await client.subscribeCov(this.#dev, s);
      else {
        const p: Parameters<BacnetClient['subscribeCovProperty']>[1] = { ...s, propertyId: this.propertyId };
        if (this.req.covIncrement !== undefined) p.covIncrement = this.req.covIncrement;
        await client.subscribeCovProperty(this.#dev, p);
      }
      this.#inFlight = false;
      if (this.#isCancelled()) {
        void this.#sendCancel();
        return;
      }
      const now = Date.now();
      this.#subscribed = true;
      this.#backoff = 0;
      this.#expiresAt = now + this.#lifetime * 1000;
      this.#scheduleRenewal(now + this.#lifetime * 1000 * this.opts.renewAt);
      const st = client.devices.get(this.#dev.key);
      st.cov = true;
      // while polling, the next notification (13.14.2 asks for one at once) switches back to COV
      if (this.#mode !== 'polling') {
        this.#set('cov');
        if (!renewal && !this.#heard) this.#startWatchdog();
      }
    } catch (e) {
      this.#inFlight = false;
      if (this.#isCancelled()) return;
      this.#failed(e, renewal);
    }
  }

  #scheduleRenewal(at: number): void {
    this.#renewDue = at;
    this.#arm(at - Date.now(), () => void this.#subscribe(true));
  }

  #startWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    if (this.opts.notifyTimeout <= 0) return;
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      if (!this.#heard && this.#mode !== 'cancelled') this.#toPolling('no COV notification after subscribing');
    }, this.opts.notifyTimeout);
    this.#watchdog.unref?.();
  }

  #failed(e: unknown, renewal: boolean): void {
    const refused = isDeviceAnswer(e);
    const why = refused ? `COV refused: ${shortFailure(e)}` : `COV subscription failed: ${shortFailure(e)}`;
    if (refused && this.#dev) {
      const st = this.manager.client.devices.get(this.#dev.key);
      st.cov = false;
    }
    const delay = refused ? Math.max(this.opts.refusedRetry, this.#nextBackoff()) : this.#nextBackoff();
    const leaseLeft = this.#subscribed && Date.now() < this.#expiresAt;
    if (renewal && !refused && leaseLeft) {
      // the lease still runs: retry before it expires, keep COV meanwhile
      this.#arm(Math.min(delay, Math.max(0, this.#expiresAt - Date.now() - 1000)), () => void this.#subscribe(true));
      if (this.#expiresAt - Date.now() < 2000) this.#toPolling(why);
      return;
    }
    this.#subscribed = false;
    this.#toPolling(why);
    this.#arm(delay, () => void this.#subscribe(false));
    this.manager.emitWarning(`${why} (${this.#what()}); polling every ${Math.round(this.#pollInterval / 1000)} s, next try in ${Math.round(delay / 1000)} s`);
  }

  #nextBackoff(): number {
    this.#backoff = this.#backoff === 0 ? this.opts.backoffMin : Math.min(this.opts.backoffMax, this.#backoff * 2);
    return this.#backoff;
  }

  #what(): string {
    const p = this.propertyId === undefined ? '' : ` ${PropertyIdentifier.label(this.propertyId)}`;
    return `${this.#dev?.label ?? 'device'} ${this.objectId.type}:${this.objectId.instance}${p}`;
  }

  #toPolling(reason: string): void {
    this.#set('polling', reason);
    if (this.#poll) return;
    const props = this.propertyId !== undefined ? [this.propertyId] : [PropertyIdentifier.presentValue, PropertyIdentifier.statusFlags];
    try {
      this.#poll = this.manager.client.polls.add(this.req.device, props.map((propertyId) => ({ objectId: this.objectId, propertyId })), this.#pollInterval, (results) => {
        if (this.#mode !== 'polling') return;
        const values: PropertyValue[] = [];
        for (const r of results) if (r.value) values.push({ propertyId: r.ref.propertyId, value: r.value });
        if (values.length) this.#deliver(values, 'poll');
      });
    } catch (e) {
      // called from timers and promise callbacks: nothing may escape (the interval is checked at creation)
      this.manager.emitWarning(`cannot poll ${this.#what()} instead of COV: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #toCov(): void {
    this.#poll?.stop();
    this.#poll = undefined;
    this.#set('cov');
  }

  #deliver(values: PropertyValue[], source: 'cov' | 'poll', n?: CovNotificationRequest): void {
    try {
      this.listener.values(values, source, n);
    } catch {
      // the listener's fault
    }
  }

  /** A notification for this subscription arrived. */
  notified(n: CovNotificationRequest): void {
    if (this.#mode === 'cancelled') return;
    this.#heard = true;
    if (this.#watchdog) {
      clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
    }
    if (this.#mode === 'polling' && this.#subscribed) this.#toCov();
    // the device may have shortened the lease: renew before its Time Remaining runs out
    if (this.#subscribed && n.timeRemaining > 0) {
      const due = Date.now() + n.timeRemaining * 1000 * this.opts.renewAt;
      if (due < this.#renewDue - 1000) this.#scheduleRenewal(due);
    }
    this.#deliver(n.values, 'cov', n);
  }

  async #sendCancel(): Promise<void> {
    if (!this.#dev || this.manager.client.closed) return;
    try {
      const c: Parameters<BacnetClient['cancelCov']>[1] = { processId: this.processId, objectId: this.objectId };
      if (this.propertyId !== undefined) c.propertyId = this.propertyId;
      await this.manager.client.cancelCov(this.#dev, c, { timeout: 500, retries: 0 });
    } catch {
      // best effort: the lease expires by itself
    }
  }

  /** Stop: timers and polling end; with `unsubscribe` the device is told (13.14.1.1.4). */
  async cancel(unsubscribe = true): Promise<void> {
    if (this.#mode === 'cancelled') return;
    const wasSubscribed = this.#subscribed;
    this.#mode = 'cancelled';
    this.#subscribed = false;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#timer = undefined;
    this.#watchdog = undefined;
    this.#poll?.stop();
    this.#poll = undefined;
    this.manager.remove(this);
    if (unsubscribe && wasSubscribed) await this.#sendCancel();
  }
}

export class CovManager {
  readonly client: BacnetClient;
  readonly options: CovOptions;
  readonly #subs = new Set<CovSubscription>();
  readonly #onNotification: (n: CovNotificationRequest, source: BacnetAddress) => void;
  #listening = false;
  /** Warnings in words (fallbacks), for a log. */
  onWarning: ((text: string) => void) | undefined;
  /** Notifications that matched no subscription (acknowledged all the same). */
  unmatched = 0;

  constructor(client: BacnetClient, opts: Partial<CovOptions> = {}) {
    this.client = client;
    this.options = { ...DEFAULT_COV_OPTIONS, ...opts };
    this.#onNotification = (n, source) => {
      let hit = false;
      for (const s of this.#subs) {
        if (s.matches(n, source)) {
          hit = true;
          s.notified(n);
        }
      }
      if (!hit) this.unmatched++;
    };
  }

  get size(): number {
    return this.#subs.size;
  }

  subscriptions(): CovSubscription[] {
    return [...this.#subs];
  }

  /** Subscribe (and keep subscribed) to one object or property of a device. */
  subscribe(req: CovRequest, listener: CovListener): CovSubscription {
    if (!Number.isInteger(req.processId) || req.processId < 0 || req.processId > 0xffffffff) throw new RangeError(`subscriber process identifier ${req.processId} outside 0..2^32-1`);
    const s = new CovSubscription(this, req, listener, this.options); // throws on a bad request, before anything is set up
    if (!this.#listening) {
      this.client.endpoint.on('cov-notification', this.#onNotification);
      this.#listening = true;
    }
    this.#subs.add(s);
    s.start();
    return s;
  }

  /** @internal */
  remove(s: CovSubscription): void {
    this.#subs.delete(s);
    if (!this.#subs.size && this.#listening) {
      this.client.endpoint.off('cov-notification', this.#onNotification);
      this.#listening = false;
    }
  }

  /** @internal */
  emitWarning(text: string): void {
    try {
      this.onWarning?.(text);
    } catch {
      // the listener's fault
    }
  }

  /** Cancel every subscription on the wire (best effort, in parallel). */
  async cancelAll(): Promise<void> {
    await Promise.all([...this.#subs].map((s) => s.cancel(true)));
  }

  /** Stop every subscription's timers without telling the devices (the endpoint is closing). */
  stop(): void {
    for (const s of [...this.#subs]) void s.cancel(false);
  }
}

