/**
 * A local BACnet object: its property values, reads and writes with the standard's checks
 * (ASHRAE 135-2020 Clause 12.1 common properties; 15.5 / 15.9 errors; 19.2 command
 * prioritization; 12.x.4 Present_Value of input objects writable only while Out_Of_Service).
 *
 * Values are kept as the codec's tagged `BacnetValue[]`, so a read returns exactly what goes on
 * the wire. Properties the server computes (Status_Flags, Property_List, Priority_Array, the
 * present value of commandable objects, ...) are produced on read. Every change is reported to
 * the host (the object database), which drives COV, trend logs and intrinsic reporting.
 *
 * Subclasses (Device, File, Trend Log) add computed properties and special writes through
 * `compute` and `writeSpecial`.
 */
import { type ObjectId } from '../codec/primitives';
import { type BacnetValue, Value, valuesEqual } from '../codec/values';
import { elementDatatype } from '../codec/datatypes';
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { EventState, Reliability } from '../enums/states';
import { Errors } from './errors';
import { checkConforms, splitElements } from './conform';
import { DEFAULT_WRITE_PRIORITY, MINIMUM_ON_OFF_PRIORITY, PriorityArray } from './command';
import type { ObjectTypeDef } from './types';
import type { PropertyDef } from './properties';
import { setLongTimeout } from '../timer';

/** Who changed a property: a remote client, the local flow, or a server engine (schedule, reporting). */
export type ChangeSource = 'network' | 'local' | 'engine';

/** What an object needs from the device that hosts it. */
export interface ObjectHost {
  /** Device clock in ms since the epoch (time synchronization may offset it from the system clock). */
  now(): number;
  /** Run `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
  /** True when another object of the device already has this name (names are unique per device, 12.1). */
  nameInUse(name: string, except: BacnetObject): boolean;
  /** Properties of `obj` changed (present value, status flags, configuration...). */
  changed(obj: BacnetObject, properties: readonly number[], source: ChangeSource): void;
}

/** A host for objects used on their own (tests, scripts): system clock, no neighbours. */
export const standaloneHost: ObjectHost = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    // no database to count a failure in: report it as a process warning rather than let it escape the timer
    const t = setLongTimeout(() => {
      try {
        fn();
      } catch (e) {
        process.emitWarning(`BACnet object timer failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, ms);
    return () => t.cancel();
  },
  nameInUse: () => false,
  changed: () => undefined,
};

export interface ObjectInit {
  instance: number;
  name: string;
  description?: string;
  /** The network may write the present value and configuration properties. Default false. */
  writable?: boolean;
  /** Value objects only: keep a priority array (implies writable). Outputs are always commandable. */
  commandable?: boolean;
  /** DeleteObject and msg deletes may remove it. Default false. */
  deletable?: boolean;
  /** Add the intrinsic reporting properties of the type (13.2). */
  reporting?: boolean;
  /** Further optional properties to carry (by id), with their default values. */
  optional?: number[];
  /** Initial values by property id; checked against the datatypes. */
  values?: Iterable<[number, BacnetValue[]]>;
}

export interface WriteRequest {
  propertyId: number;
  arrayIndex?: number;
  value: BacnetValue[];
  priority?: number;
}

export interface WriteOutcome {
  /** True when some property value changed. */
  changed: boolean;
  /** The write was a NULL to a non-commandable property: accepted without effect (15.9.2, revision 21 and later). */
  ignored?: boolean;
  /** The priority the write went to (commandable present value / relinquish). */
  priority?: number;
}

const IDENTITY_IDS = new Set<number>([P.objectIdentifier, P.objectName, P.objectType, P.propertyList]);
const STATUS_INPUTS = new Set<number>([P.eventState, P.reliability, P.outOfService]);

export class BacnetObject {
  readonly id: ObjectId;
  readonly def: ObjectTypeDef;
  writable: boolean;
  readonly commandable: boolean;
  deletable: boolean;
  protected host: ObjectHost = standaloneHost;
  readonly #values = new Map<number, BacnetValue[]>();
  readonly #defs = new Map<number, PropertyDef>();
  #order: number[] = [];
  readonly #priority: PriorityArray | undefined;
  /** Input objects: the latest local (flow) value held back while out of service. */
  #heldInput: BacnetValue[] | undefined;
  #minimumTimer: (() => void) | undefined;
  #overridden = false;

  constructor(def: ObjectTypeDef, init: ObjectInit) {
    this.def = def;
    this.id = { type: def.type, instance: init.instance };
    this.commandable = def.commandable === 'always' || (def.commandable === 'optional' && init.commandable === true);
    this.writable = init.writable === true || this.commandable;
    this.deletable = init.deletable === true;
    const wanted = new Set<number>(def.defaultOptional);
    if (init.reporting) for (const id of def.reporting) wanted.add(id);
    for (const id of init.optional ?? []) wanted.add(id);
    if (init.description !== undefined) wanted.add(P.description);
    const given = new Map<number, BacnetValue[]>(init.values ?? []);
    for (const id of given.keys()) wanted.add(id);
    const isCommandProp = (id: number): boolean => id === P.priorityArray || id === P.relinquishDefault || id === P.currentCommandPriority;
    for (const d of def.properties) {
      if (isCommandProp(d.id) && !this.commandable) continue;
      if (d.required || wanted.has(d.id)) {
        this.#defs.set(d.id, d);
        this.#order.push(d.id);
      }
    }
    for (const [id, v] of def.defaults) if (this.#defs.has(id)) this.#values.set(id, v.slice());
    this.#values.set(P.objectName, [Value.characterString(init.name)]);
    if (init.description !== undefined) this.#values.set(P.description, [Value.characterString(init.description)]);
    else if (this.#defs.has(P.description) && !this.#values.has(P.description)) this.#values.set(P.description, [Value.characterString('')]);
    if (this.commandable) {
      const rd = this.#values.get(P.relinquishDefault)?.[0] ?? this.#values.get(P.presentValue)?.[0] ?? Value.null();
      this.#priority = new PriorityArray(rd);
    }
    for (const [id, v] of given) {
      // The initial value of a commandable object is its Relinquish_Default (no slot commanded).
      if (id === P.presentValue && this.commandable && !given.has(P.relinquishDefault)) {
        this.setLocal(P.relinquishDefault, v, { silent: true });
        continue;
      }
      if (!this.#defs.has(id)) throw Errors.unknownProperty(`${propName(id)} of ${ObjectType.label(def.type)}`);
      this.setLocal(id, v, { silent: true });
    }
  }

  /** Attach to the device that hosts it (the object database does this on add). */
  attach(host: ObjectHost): void {
    this.host = host;
  }

  get name(): string {
    const v = this.#values.get(P.objectName)?.[0];
    return v && v.type === 'character-string' ? v.value : '';
  }

  /** True when the object carries the property. */
  has(propertyId: number): boolean {
    return this.#defs.has(propertyId);
  }

  propertyDef(propertyId: number): PropertyDef | undefined {
    return this.#defs.get(propertyId);
  }

  /** Every property the object carries, in table order (for ReadPropertyMultiple ALL). */
  propertyIds(): readonly number[] {
    return this.#order;
  }

  /** Add an optional property (with its default value) after creation. */
  addProperty(propertyId: number, value?: BacnetValue[]): void {
    if (this.#defs.has(propertyId)) return;
    const d = this.def.properties.find((x) => x.id === propertyId);
    if (!d) throw Errors.unknownProperty(`${propName(propertyId)} of ${ObjectType.label(this.def.type)}`);
    this.#defs.set(propertyId, d);
    const index = new Map(this.def.properties.map((x, i) => [x.id, i]));
    this.#order = [...this.#order, propertyId].sort((a, b) => index.get(a)! - index.get(b)!);
    const v = value ?? this.def.defaults.get(propertyId);
    if (v) this.#values.set(propertyId, v.slice());
  }

  get priorityArray(): PriorityArray | undefined {
    return this.#priority;
  }

  /** The present value as one tagged element (first element for multi-element values). */
  get presentValue(): BacnetValue[] {
    return this.read(P.presentValue);
  }

  get outOfService(): boolean {
    const v = this.#values.get(P.outOfService)?.[0];
    return v?.type === 'boolean' && v.value;
  }

  get eventState(): number {
    const v = this.#values.get(P.eventState)?.[0];
    return v?.type === 'enumerated' ? v.value : EventState.normal;
  }

  get reliability(): number {
    const v = this.#values.get(P.reliability)?.[0];
    return v?.type === 'enumerated' ? v.value : Reliability.noFaultDetected;
  }

  /** Overridden bit of Status_Flags (set by the local flow, e.g. a hand switch). */
  set overridden(on: boolean) {
    if (on === this.#overridden) return;
    this.#overridden = on;
    this.host.changed(this, [P.statusFlags], 'local');
  }

  /** Status_Flags {in-alarm, fault, overridden, out-of-service} (12.x.n, derived). */
  statusFlags(): boolean[] {
    return [this.eventState !== EventState.normal, this.reliability !== Reliability.noFaultDetected, this.#overridden, this.outOfService];
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /** Read a property (with an optional array index: 0 = length, 1..n = element). Throws PropertyAccessError. */
  read(propertyId: number, arrayIndex?: number): BacnetValue[] {
    const d = this.#defs.get(propertyId);
    if (!d) throw Errors.unknownProperty(propName(propertyId));
    const whole = this.compute(propertyId) ?? this.#values.get(propertyId);
    if (!whole) throw Errors.unknownProperty(`${propName(propertyId)} has no value`);
    if (arrayIndex === undefined) return whole;
    if (d.datatype?.kind !== 'array') throw Errors.notAnArray(propName(propertyId));
    const els = splitElements(whole, d.datatype.of, propName(propertyId));
    if (arrayIndex === 0) return [Value.unsigned(els.length)];
    const el = els[arrayIndex - 1];
    if (!el) throw Errors.invalidArrayIndex(`${propName(propertyId)}[${arrayIndex}] of ${els.length}`);
    return el;
  }

  /** Stored value of a property without computing (engines, persistence). */
  stored(propertyId: number): BacnetValue[] | undefined {
    return this.#values.get(propertyId);
  }

  /** Computed properties; subclasses extend. Undefined = use the stored value. */
  protected compute(propertyId: number): BacnetValue[] | undefined {
    switch (propertyId) {
      case P.objectIdentifier: return [Value.objectId(this.id.type, this.id.instance)];
      case P.objectType: return [Value.enumerated(this.id.type)];
      case P.propertyList: return this.#order.filter((id) => !IDENTITY_IDS.has(id)).map((id) => Value.enumerated(id));
      case P.statusFlags: return [Value.bitString(this.statusFlags())];
      case P.presentValue: return this.#priority ? [this.#priority.effective().value] : undefined;
      case P.priorityArray: return this.#priority?.toValues();
      case P.relinquishDefault: return this.#priority ? [this.#priority.relinquishDefault] : undefined;
      case P.currentCommandPriority: {
        if (!this.#priority) return undefined;
        const p = this.#priority.effective().priority;
        return [p === undefined ? Value.null() : Value.unsigned(p)];
      }
      default: return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** May the network write this property now? */
  canWrite(d: PropertyDef): boolean {
    if (d.access === 'read' || !this.writable) return false;
    if (d.access === 'present-value' && this.def.input) return this.outOfService;
    return true;
  }

  /**
   * A write from the network (WriteProperty / WritePropertyMultiple / CreateObject initial
   * values). Checks access, datatype and range; throws PropertyAccessError.
   */
  write(req: WriteRequest): WriteOutcome {
    const d = this.#defs.get(req.propertyId);
    if (!d) throw Errors.unknownProperty(propName(req.propertyId));
    if (!this.canWrite(d)) throw Errors.writeAccessDenied(`${propName(req.propertyId)} of ${this.label()}`);
    const isNull = req.value.length === 1 && req.value[0]!.type === 'null';
    if (req.propertyId === P.presentValue && this.#priority) {
      if (req.arrayIndex !== undefined) throw Errors.notAnArray('present-value');
      const priority = req.priority ?? DEFAULT_WRITE_PRIORITY;
      if (priority === MINIMUM_ON_OFF_PRIORITY && this.#minimumTimesConfigured()) throw Errors.writeAccessDenied('priority 6 is reserved for minimum on/off time');
      if (!isNull) this.#checkValue(P.presentValue, req.value);
      return { changed: this.command(priority, isNull ? null : req.value[0]!, 'network'), priority };
    }
    // Revision 21 and later: NULL to a property that is not commandable succeeds without effect (15.9.2).
    if (isNull && !this.#acceptsNull(d)) return { changed: false, ignored: true };
    const special = this.writeSpecial(d, req);
    if (special) return special;
    if (req.propertyId === P.objectName) return { changed: this.#rename(req.value) };
    return { changed: this.#store(d, req.value, req.arrayIndex, 'network') };
  }

  /**
   * Subclass hook for properties with their own write rules (Record_Count of a Trend Log,
   * Archive of a File...). Return undefined for the ordinary path.
   */
  protected writeSpecial(_d: PropertyDef, _req: WriteRequest): WriteOutcome | undefined {
    return undefined;
  }

  /**
   * A value from the local flow or configuration: no network access rules, same datatype and
   * range checks. On a commandable object, the present value goes to slot `priority` (default
   * 16); on an input object out of service the value is held until it returns in service.
   */
  setLocal(propertyId: number, value: BacnetValue[], opts: { priority?: number; silent?: boolean; source?: ChangeSource } = {}): boolean {
    const d = this.#defs.get(propertyId);
    if (!d) throw Errors.unknownProperty(`${propName(propertyId)} of ${this.label()}`);
    const source = opts.source ?? 'local';
    const isNull = value.length === 1 && value[0]!.type === 'null';
    if (propertyId === P.presentValue && this.#priority) {
      if (!isNull) this.#checkValue(P.presentValue, value);
      const changed = this.#priority.command(opts.priority ?? DEFAULT_WRITE_PRIORITY, isNull ? null : value[0]!);
      if (changed && !opts.silent) this.host.changed(this, [P.presentValue, P.priorityArray, P.currentCommandPriority], source);
      return changed;
    }
    if (propertyId === P.relinquishDefault && this.#priority) {
      this.#checkValue(P.presentValue, value);
      if (valuesEqual([this.#priority.relinquishDefault], value)) return false;
      const before = this.#priority.effective().value;
      this.#priority.relinquishDefault = value[0]!;
      if (!opts.silent) this.host.changed(this, this.#pvChangedList(before, [P.relinquishDefault]), source);
      return true;
    }
    if (propertyId === P.presentValue && this.def.input && this.outOfService && source === 'local' && !opts.silent) {
      this.#checkValue(P.presentValue, value);
      this.#heldInput = value.slice();
      return false;
    }
    if (propertyId === P.objectName) return this.#rename(value, opts.silent);
    return this.#store(d, value, undefined, source, opts.silent);
  }

  /**
   * Write slot `priority` of the priority array (null relinquishes) and apply the minimum
   * on/off time of binary outputs (19.2.3). Returns true when the present value or the array changed.
   */
  command(priority: number, value: BacnetValue | null, source: ChangeSource): boolean {
    const pa = this.#priority;
    if (!pa) throw Errors.writeAccessDenied(`${this.label()} is not commandable`);
    const before = pa.effective().value;
    if (!pa.command(priority, value)) return false;
    const after = pa.effective().value;
    if (!valuesEqual([before], [after])) this.#startMinimumTime(after);
    this.host.changed(this, this.#pvChangedList(before, [P.priorityArray, P.currentCommandPriority]), source);
    return true;
  }

  #pvChangedList(before: BacnetValue, extra: number[]): number[] {
    const after = this.#priority ? this.#priority.effective().value : this.#values.get(P.presentValue)?.[0];
    return after && valuesEqual([before], [after]) ? extra : [P.presentValue, ...extra];
  }

  #minimumTimesConfigured(): boolean {
    if (this.id.type !== ObjectType.binaryOutput) return false;
    return this.#seconds(P.minimumOnTime) > 0 || this.#seconds(P.minimumOffTime) > 0;
  }

  #seconds(id: number): number {
    const v = this.#values.get(id)?.[0];
    return v?.type === 'unsigned' ? Number(v.value) : 0;
  }

  /** Minimum on/off time (19.2.3): hold a new binary state in slot 6 for the configured time. */
  #startMinimumTime(state: BacnetValue): void {
    if (!this.#minimumTimesConfigured() || state.type !== 'enumerated' || !this.#priority) return;
    const seconds = this.#seconds(state.value === 1 ? P.minimumOnTime : P.minimumOffTime);
    this.#minimumTimer?.();
    this.#minimumTimer = undefined;
    const pa = this.#priority;
    // A command above priority 6 overrides the hold; only hold when slot 6 decides the value.
    const current = pa.effective().priority;
    if (seconds <= 0 || (current !== undefined && current < MINIMUM_ON_OFF_PRIORITY)) {
      pa.command(MINIMUM_ON_OFF_PRIORITY, null);
      return;
    }
    pa.command(MINIMUM_ON_OFF_PRIORITY, state);
    this.#minimumTimer = this.host.setTimer(seconds * 1000, () => {
      this.#minimumTimer = undefined;
      const before = pa.effective().value;
      if (pa.command(MINIMUM_ON_OFF_PRIORITY, null)) {
        const after = pa.effective().value;
        if (!valuesEqual([before], [after])) this.#startMinimumTime(after);
        this.host.changed(this, this.#pvChangedList(before, [P.priorityArray, P.currentCommandPriority]), 'engine');
      }
    });
  }

  /** Stop timers (object removed or device stopped). */
  dispose(): void {
    this.#minimumTimer?.();
    this.#minimumTimer = undefined;
  }

  #acceptsNull(d: PropertyDef): boolean {
    const k = d.datatype?.kind;
    return k === 'null' || k === 'optional' || k === 'any';
  }

  /** Datatype and range check of a whole property value (or one element with an index). */
  #checkValue(propertyId: number, value: BacnetValue[], arrayIndex?: number): void {
    const d = this.#defs.get(propertyId);
    const dt = elementDatatype(d?.datatype, arrayIndex);
    const name = propName(propertyId);
    if (dt) checkConforms(value, dt, name);
    if (propertyId === P.presentValue || propertyId === P.relinquishDefault) this.checkPresentValueRange(value);
  }

  /** Range rules of the present value: 1..Number_Of_States (12.18), Min/Max_Pres_Value (12.2). */
  protected checkPresentValueRange(value: BacnetValue[]): void {
    const v = value[0];
    if (!v) return;
    if (this.def.family === 'multi-state' && v.type === 'unsigned') {
      const n = this.#values.get(P.numberOfStates)?.[0];
      const states = n?.type === 'unsigned' ? Number(n.value) : Infinity;
      if (Number(v.value) < 1 || Number(v.value) > states) throw Errors.valueOutOfRange(`state ${v.value} outside 1..${states}`);
    }
    if (this.def.family === 'analog' && (v.type === 'real' || v.type === 'double' || v.type === 'signed' || v.type === 'unsigned')) {
      const x = Number(v.value);
      const min = this.#values.get(P.minPresValue)?.[0];
      const max = this.#values.get(P.maxPresValue)?.[0];
      if (this.#defs.has(P.minPresValue) && min && 'value' in min && x < Number(min.value)) throw Errors.valueOutOfRange(`${x} below ${String(min.value)}`);
      if (this.#defs.has(P.maxPresValue) && max && 'value' in max && x > Number(max.value)) throw Errors.valueOutOfRange(`${x} above ${String(max.value)}`);
    }
  }

  #rename(value: BacnetValue[], silent = false): boolean {
    const v = value[0];
    if (value.length !== 1 || v?.type !== 'character-string') throw Errors.invalidDataType('object-name');
    if (v.value === '') throw Errors.valueOutOfRange('object-name must not be empty');
    if (v.value === this.name) return false;
    if (this.host.nameInUse(v.value, this)) throw Errors.duplicateName(v.value);
    this.#values.set(P.objectName, [v]);
    if (!silent) this.host.changed(this, [P.objectName], 'local');
    return true;
  }

  #store(d: PropertyDef, value: BacnetValue[], arrayIndex: number | undefined, source: ChangeSource, silent = false): boolean {
    this.#checkValue(d.id, value, arrayIndex);
    let next = value;
    if (arrayIndex !== undefined) {
      if (d.datatype?.kind !== 'array') throw Errors.notAnArray(propName(d.id));
      const els = splitElements(this.#values.get(d.id) ?? [], d.datatype.of, propName(d.id));
      if (arrayIndex === 0) throw Errors.writeAccessDenied(`the size of ${propName(d.id)} is fixed`);
      if (arrayIndex > els.length) throw Errors.invalidArrayIndex(`${propName(d.id)}[${arrayIndex}] of ${els.length}`);
      els[arrayIndex - 1] = value;
      next = els.flat();
    }
    const old = this.#values.get(d.id);
    if (old && valuesEqual(old, next)) return false;
    const pvBefore = d.id === P.presentValue ? undefined : this.#values.get(P.presentValue)?.[0];
    this.#values.set(d.id, next.slice());
    if (d.id === P.outOfService && !this.outOfService && this.#heldInput) {
      // Back in service: the value the flow sent meanwhile takes effect.
      this.#values.set(P.presentValue, this.#heldInput);
      this.#heldInput = undefined;
    }
    if (silent) return true;
    const changed = [d.id];
    if (STATUS_INPUTS.has(d.id)) changed.push(P.statusFlags);
    if (pvBefore && d.id === P.outOfService) {
      const now = this.#values.get(P.presentValue)?.[0];
      if (now && !valuesEqual([pvBefore], [now])) changed.push(P.presentValue);
    }
    this.host.changed(this, changed, source);
    return true;
  }

  /** 'analog-value:3 "Setpoint"' for messages. */
  label(): string {
    return `${ObjectType.label(this.id.type)}:${this.id.instance} "${this.name}"`;
  }
}

function propName(id: number): string {
  return P.label(id);
}
