/**
 * The COV server (ASHRAE 135-2020 Clause 13.1 change-of-value reporting, 13.14 SubscribeCOV,
 * 13.15 SubscribeCOVProperty, 13.6 / 13.7 Confirmed / UnconfirmedCOVNotification, 12.11
 * Active_COV_Subscriptions).
 *
 * A subscription is keyed by (subscriber address, process identifier, monitored object[,
 * property, array index]); subscribing again replaces it (13.14.1.1.4 / 13.15). Every
 * accepted subscription gets an initial notification right after the SimpleACK (13.14).
 * Afterwards a notification goes out when the monitored value changes (13.1): for
 * REAL-like values when it moved by at least the COV increment since the last notification
 * (the subscription's increment for SubscribeCOVProperty, else the object's COV_Increment), for
 * everything else on any change; and whenever Status_Flags change. Subscriptions end when their
 * lifetime runs out (lifetime 0 = indefinite) or on cancellation.
 *
 * Notifications carry the Present_Value and Status_Flags (13.1), or for SubscribeCOVProperty
 * the monitored property and Status_Flags.
 */
import type { PropertyValue } from '../codec/constructed';
import { type BacnetValue, Value, valuesEqual } from '../codec/values';
import { writeCovSubscription } from '../codec/constructed';
import { bytesToValues } from '../codec/values';
import { Writer } from '../../wire/writer';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import type { CovNotificationRequest } from '../services/cov-notification';
import type { BacnetObject } from '../objects/object';
import { PropertyAccessError } from '../objects/errors';
import { type ObjectDatabase, type PropertyChange, objectKey } from './database';
import { type PeerAddress, type ServerNetwork, peerKey, peerToAddressValue } from './network';

export const DEFAULT_MAX_COV_SUBSCRIPTIONS = 4096;

export interface CovSubscribe {
  subscriber: PeerAddress;
  processId: number;
  object: BacnetObject;
  confirmed: boolean;
  /** Seconds, 0 = indefinite. */
  lifetime: number;
  /** SubscribeCOVProperty: the monitored property. */
  propertyId?: number;
  arrayIndex?: number;
  covIncrement?: number;
}

export interface Subscription extends CovSubscribe {
  key: string;
  /** ms (device clock) when it ends; undefined for lifetime 0. */
  expiresAt: number | undefined;
  lastValue: BacnetValue[] | undefined;
  lastFlags: boolean[] | undefined;
}

export interface CovStats {
  notificationsSent: number;
  confirmedFailures: number;
  suppressed: number;
  expired: number;
}

export interface CovEngineOptions {
  maxSubscriptions?: number;
  network: () => ServerNetwork;
  /** False while DeviceCommunicationControl disables initiation (16.1). */
  canInitiate: () => boolean;
}

const numeric = (v: BacnetValue | undefined): number | undefined =>
  v && (v.type === 'real' || v.type === 'double' || v.type === 'unsigned' || v.type === 'signed') ? Number(v.value) : undefined;

export class CovEngine {
  readonly #db: ObjectDatabase;
  readonly #opts: CovEngineOptions;
  readonly #max: number;
  readonly #byKey = new Map<string, Subscription>();
  readonly #byObject = new Map<number, Set<Subscription>>();
  #sweepCancel: (() => void) | undefined;
  #sweepAt = Infinity;
  readonly #unsubscribe: Array<() => void> = [];
  readonly stats: CovStats = { notificationsSent: 0, confirmedFailures: 0, suppressed: 0, expired: 0 };

  constructor(db: ObjectDatabase, opts: CovEngineOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#max = opts.maxSubscriptions ?? DEFAULT_MAX_COV_SUBSCRIPTIONS;
    this.#unsubscribe.push(db.onChange((c) => this.#onChange(c)));
    this.#unsubscribe.push(db.onMembership((o, ev) => {
      if (ev === 'removed') this.#dropObject(o);
    }));
  }

  get size(): number {
    return this.#byKey.size;
  }

  subscriptions(): Subscription[] {
    return [...this.#byKey.values()];
  }

  /**
   * Add or replace a subscription (13.14.1.1.4). Checks that the object supports COV and the
   * property exists; throws PropertyAccessError. The initial notification is sent on the next tick.
   */
  subscribe(s: CovSubscribe): Subscription {
    const o = s.object;
    if (s.propertyId === undefined) {
      if (o.def.cov === 'none' || !o.has(P.presentValue)) throw new PropertyAccessError('object', 'optional-functionality-not-supported', `${o.label()} has no COV reporting`);
    } else {
      if (!o.has(s.propertyId)) throw new PropertyAccessError('property', 'unknown-property', P.label(s.propertyId));
      if (s.propertyId === P.logBuffer) throw new PropertyAccessError('property', 'not-cov-property', 'log-buffer');
      o.read(s.propertyId, s.arrayIndex); // array index errors surface here
    }
    const key = this.#key(s);
    const existing = this.#byKey.get(key);
    if (!existing && this.#byKey.size >= this.#max) throw new PropertyAccessError('resources', 'no-space-to-add-list-element', `${this.#max} COV subscriptions in use`);
    const now = this.#db.now();
    const sub: Subscription = {
      ...s,
      key,
      expiresAt: s.lifetime > 0 ? now + s.lifetime * 1000 : undefined,
      lastValue: undefined,
      lastFlags: undefined,
    };
    if (existing) this.#remove(existing);
    this.#byKey.set(key, sub);
    const k = objectKey(o.id);
    let set = this.#byObject.get(k);
    if (!set) this.#byObject.set(k, (set = new Set()));
    set.add(sub);
    this.#scheduleSweep();
    this.#db.setTimer(0, () => {
      // (a change since subscribing has already notified)
      if (this.#byKey.get(key) === sub && sub.lastValue === undefined) this.#notify(sub);
    });
    return sub;
  }

  /** Cancel (13.14.1.1.4: both optional parameters absent). Unknown subscriptions are not an error. */
  cancel(s: Omit<CovSubscribe, 'confirmed' | 'lifetime'>): boolean {
    const sub = this.#byKey.get(this.#key(s));
    if (!sub) return false;
    this.#remove(sub);
    return true;
  }

  /** Active_COV_Subscriptions: BACnetLIST of BACnetCOVSubscription (12.11). */
  activeSubscriptionValues(): BacnetValue[] {
    this.#expire();
    const w = new Writer(64);
    const now = this.#db.now();
    for (const s of this.#byKey.values()) {
      writeCovSubscription(w, {
        recipient: { recipient: { address: peerToAddressValue(s.subscriber) }, processId: s.processId },
        monitoredProperty: s.arrayIndex === undefined
          ? { objectId: s.object.id, propertyId: s.propertyId ?? P.presentValue }
          : { objectId: s.object.id, propertyId: s.propertyId ?? P.presentValue, arrayIndex: s.arrayIndex },
        issueConfirmedNotifications: s.confirmed,
        timeRemaining: this.#remaining(s, now),
        ...(s.covIncrement !== undefined ? { covIncrement: s.covIncrement } : {}),
      });
    }
    return bytesToValues(w.finish());
  }

  /** Stop timers and listeners. */
  dispose(): void {
    this.#sweepCancel?.();
    this.#sweepCancel = undefined;
    for (const u of this.#unsubscribe) u();
    this.#byKey.clear();
    this.#byObject.clear();
  }

  #key(s: Pick<CovSubscribe, 'subscriber' | 'processId' | 'object' | 'propertyId' | 'arrayIndex'>): string {
    const prop = s.propertyId === undefined ? '' : `/${s.propertyId}${s.arrayIndex === undefined ? '' : `[${s.arrayIndex}]`}`;
    return `${peerKey(s.subscriber)}#${s.processId}@${objectKey(s.object.id)}${prop}`;
  }

  #remove(sub: Subscription): void {
    this.#byKey.delete(sub.key);
    const k = objectKey(sub.object.id);
    const set = this.#byObject.get(k);
    if (set) {
      set.delete(sub);
      if (!set.size) this.#byObject.delete(k);
    }
  }

  #dropObject(o: BacnetObject): void {
    const set = this.#byObject.get(objectKey(o.id));
    if (!set) return;
    for (const s of [...set]) this.#remove(s);
  }

  #remaining(s: Subscription, now: number): number {
    return s.expiresAt === undefined ? 0 : Math.max(0, Math.ceil((s.expiresAt - now) / 1000));
  }

  #monitored(s: Subscription): BacnetValue[] {
    return s.object.read(s.propertyId ?? P.presentValue, s.arrayIndex);
  }

  #onChange(c: PropertyChange): void {
    const set = this.#byObject.get(objectKey(c.object.id));
    if (!set) return;
    const flagsChanged = c.properties.includes(P.statusFlags);
    for (const s of set) {
      const prop = s.propertyId ?? P.presentValue;
      if (!flagsChanged && !c.properties.includes(prop)) continue;
      if (s.expiresAt !== undefined && s.expiresAt <= this.#db.now()) continue;
      if (this.#shouldNotify(s)) this.#notify(s);
    }
  }

  #shouldNotify(s: Subscription): boolean {
    const o = s.object;
    if (o.has(P.statusFlags)) {
      const flags = o.statusFlags();
      if (!s.lastFlags || flags.some((f, i) => f !== s.lastFlags![i])) return true;
    }
    let value: BacnetValue[];
    try {
      value = this.#monitored(s);
    } catch {
      return false;
    }
    if (!s.lastValue) return true;
    if (valuesEqual(s.lastValue, value)) return false;
    const now = numeric(value[0]);
    const then = numeric(s.lastValue[0]);
    if (value.length === 1 && now !== undefined && then !== undefined && (value[0]!.type === 'real' || value[0]!.type === 'double' || s.propertyId === undefined)) {
      const increment = this.#increment(s);
      if (increment !== undefined && increment > 0) return Math.abs(now - then) >= increment;
    }
    return true;
  }

  /** COV increment in effect: the subscription's, else the object's COV_Increment for its present value. */
  #increment(s: Subscription): number | undefined {
    if (s.covIncrement !== undefined) return s.covIncrement;
    const prop = s.propertyId ?? P.presentValue;
    if (prop !== P.presentValue || s.object.def.cov !== 'increment' || !s.object.has(P.covIncrement)) return undefined;
    return numeric(s.object.stored(P.covIncrement)?.[0]);
  }

  #notify(s: Subscription): void {
    const o = s.object;
    const values: PropertyValue[] = [];
    let monitored: BacnetValue[];
    try {
      monitored = this.#monitored(s);
    } catch {
      return;
    }
    const prop = s.propertyId ?? P.presentValue;
    values.push(s.arrayIndex === undefined ? { propertyId: prop, value: monitored } : { propertyId: prop, arrayIndex: s.arrayIndex, value: monitored });
    let flags: boolean[] | undefined;
    if (o.has(P.statusFlags)) {
      flags = o.statusFlags();
      if (prop !== P.statusFlags) values.push({ propertyId: P.statusFlags, value: [Value.bitString(flags)] });
    }
    s.lastValue = monitored;
    s.lastFlags = flags;
    if (!this.#opts.canInitiate()) {
      this.stats.suppressed++;
      return;
    }
    const req: CovNotificationRequest = {
      subscriberProcessId: s.processId,
      initiatingDeviceId: this.#db.device.id,
      monitoredObjectId: o.id,
      timeRemaining: this.#remaining(s, this.#db.now()),
      values,
    };
    const net = this.#opts.network();
    this.stats.notificationsSent++;
    if (s.confirmed) {
      net.sendConfirmed(s.subscriber, 'confirmed-cov-notification', req).catch(() => {
        this.stats.confirmedFailures++;
      });
    } else {
      net.sendUnconfirmed(s.subscriber, 'unconfirmed-cov-notification', req);
    }
  }

  #expire(): void {
    const now = this.#db.now();
    for (const s of [...this.#byKey.values()]) {
      if (s.expiresAt !== undefined && s.expiresAt <= now) {
        this.#remove(s);
        this.stats.expired++;
      }
    }
  }

  #scheduleSweep(): void {
    let next = Infinity;
    for (const s of this.#byKey.values()) if (s.expiresAt !== undefined && s.expiresAt < next) next = s.expiresAt;
    if (next === this.#sweepAt) return;
    this.#sweepCancel?.();
    this.#sweepCancel = undefined;
    this.#sweepAt = next;
    if (next === Infinity) return;
    this.#sweepCancel = this.#db.setTimer(Math.max(0, next - this.#db.now()), () => {
      this.#sweepCancel = undefined;
      this.#sweepAt = Infinity;
      this.#expire();
      this.#scheduleSweep();
    });
  }
}
