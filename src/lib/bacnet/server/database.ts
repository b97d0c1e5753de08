/**
 * The object database of a local device (ASHRAE 135-2020 Clause 12.11 Object_List,
 * 12.11 Database_Revision, 12.1 unique object names): objects by identifier and by name,
 * the Device object, the device clock (with the offset set by TimeSynchronization, 16.7), and
 * the change feed that the COV, trend-log, schedule and intrinsic-reporting engines listen to.
 *
 * Database_Revision is incremented when an object is added or removed or an object is renamed.
 */
import type { ObjectId } from '../codec/primitives';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import { BacnetObject, type ChangeSource, type ObjectHost } from '../objects/object';
import { DeviceObject } from '../objects/device';
import { PropertyAccessError } from '../objects/errors';
import { setLongTimeout } from '../timer';

/** Wall clock and timers, injectable so engines run on fake time in tests. */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Run fn after ms; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    // delays beyond setTimeout's 24.8 days (a DCC duration of up to 45.5 days) are chained
    const t = setLongTimeout(fn, ms);
    return () => t.cancel();
  },
};

export interface PropertyChange {
  object: BacnetObject;
  properties: readonly number[];
  source: ChangeSource;
}

export type ChangeListener = (change: PropertyChange) => void;
export type MembershipListener = (object: BacnetObject, event: 'added' | 'removed') => void;

/** Numeric key of an object identifier. */
export function objectKey(id: ObjectId): number {
  return id.type * 0x400000 + id.instance;
}

export class ObjectDatabase implements ObjectHost {
  readonly device: DeviceObject;
  readonly clock: Clock;
  readonly #byKey = new Map<number, BacnetObject>();
  readonly #byName = new Map<string, BacnetObject>();
  readonly #changeListeners: ChangeListener[] = [];
  readonly #membershipListeners: MembershipListener[] = [];
  #revision = 1;
  /** ms added to the system clock by time synchronization. */
  #offset = 0;
  /** Set while a change is being dispatched (listeners may cause further changes). */
  #depth = 0;
  /** Errors thrown by listeners and timer callbacks (counted, never propagated to the writer or the event loop). */
  listenerErrors = 0;
  lastListenerError: unknown;

  constructor(device: DeviceObject, clock: Clock = systemClock) {
    this.device = device;
    this.clock = clock;
    this.#insert(device);
  }

  // ObjectHost ---------------------------------------------------------------------------------

  now(): number {
    return this.clock.now() + this.#offset;
  }

  /**
   * Every engine timer (COV, schedules, trend logs, intrinsic reporting, minimum on/off times)
   * runs through here: a callback that throws is counted like a listener error instead of
   * escaping into the event loop (where it would end the process).
   */
  setTimer(ms: number, fn: () => void): () => void {
    return this.clock.setTimer(ms, () => this.#safe(fn));
  }

  nameInUse(name: string, except: BacnetObject): boolean {
    const o = this.#byName.get(name);
    return o !== undefined && o !== except;
  }

  changed(object: BacnetObject, properties: readonly number[], source: ChangeSource): void {
    if (properties.includes(P.objectName)) this.#reindexName(object);
    if (this.#depth > 16) return; // a listener loop: stop feeding it
    this.#depth++;
    try {
      for (const l of this.#changeListeners) {
        try {
          l({ object, properties, source });
        } catch (e) {
          this.listenerErrors++;
          this.lastListenerError = e;
        }
      }
    } finally {
      this.#depth--;
    }
  }

  // Clock ----------------------------------------------------------------------------------------

  /** Set the device clock to `deviceTimeMs` (TimeSynchronization). */
  setTime(deviceTimeMs: number): void {
    this.#offset = deviceTimeMs - this.clock.now();
  }

  get clockOffset(): number {
    return this.#offset;
  }

  // Membership ----------------------------------------------------------------------------------

  get revision(): number {
    return this.#revision;
  }

  onChange(l: ChangeListener): () => void {
    this.#changeListeners.push(l);
    return () => {
      const i = this.#changeListeners.indexOf(l);
      if (i >= 0) this.#changeListeners.splice(i, 1);
    };
  }

  onMembership(l: MembershipListener): () => void {
    this.#membershipListeners.push(l);
    return () => {
      const i = this.#membershipListeners.indexOf(l);
      if (i >= 0) this.#membershipListeners.splice(i, 1);
    };
  }

  /** Add an object; throws object / object-identifier-already-exists or property / duplicate-name. */
  add(object: BacnetObject): void {
    if (object.id.type === ObjectType.device) throw new PropertyAccessError('object', 'dynamic-creation-not-supported', 'a device has one Device object');
    if (this.#byKey.has(objectKey(object.id))) throw new PropertyAccessError('object', 'object-identifier-already-exists', object.label());
    if (this.#byName.has(object.name)) throw new PropertyAccessError('property', 'duplicate-name', object.name);
    this.#insert(object);
    this.#revision++;
    for (const l of this.#membershipListeners) this.#safe(() => l(object, 'added'));
    this.changed(this.device, [P.objectList, P.databaseRevision], 'local');
  }

  /** Remove an object (not the Device object). Returns the object removed, or undefined. */
  remove(id: ObjectId): BacnetObject | undefined {
    const o = this.#byKey.get(objectKey(id));
    if (!o || o === this.device) return undefined;
    this.#byKey.delete(objectKey(id));
    if (this.#byName.get(o.name) === o) this.#byName.delete(o.name);
    o.dispose();
    this.#revision++;
    for (const l of this.#membershipListeners) this.#safe(() => l(o, 'removed'));
    this.changed(this.device, [P.objectList, P.databaseRevision], 'local');
    return o;
  }

  get(id: ObjectId): BacnetObject | undefined {
    // The wildcard Device instance 4194303 names the local Device object.
    if (id.type === ObjectType.device && (id.instance === 0x3fffff || id.instance === this.device.id.instance)) return this.device;
    return this.#byKey.get(objectKey(id));
  }

  getByName(name: string): BacnetObject | undefined {
    return this.#byName.get(name);
  }

  /** Objects in Object_List order: the Device object first, then in the order they were added. */
  objects(): IterableIterator<BacnetObject> {
    return this.#byKey.values();
  }

  get size(): number {
    return this.#byKey.size;
  }

  objectIds(): ObjectId[] {
    const out: ObjectId[] = [];
    for (const o of this.#byKey.values()) out.push(o.id);
    return out;
  }

  /** The next free instance of a type (CreateObject by type, 15.3). */
  nextInstance(type: number): number {
    let i = 1;
    while (this.#byKey.has(type * 0x400000 + i)) i++;
    return i;
  }

  /** Stop every object's timers. */
  dispose(): void {
    for (const o of this.#byKey.values()) o.dispose();
  }

  #insert(object: BacnetObject): void {
    this.#byKey.set(objectKey(object.id), object);
    this.#byName.set(object.name, object);
    object.attach(this);
  }

  #reindexName(object: BacnetObject): void {
    for (const [n, o] of this.#byName) {
      if (o === object && n !== object.name) this.#byName.delete(n);
    }
    this.#byName.set(object.name, object);
    this.#revision++;
  }

  #safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.listenerErrors++;
      this.lastListenerError = e;
    }
  }
}
