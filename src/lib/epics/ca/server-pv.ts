/**
 * A PV served by our CA server: native type, maximum element count, current value, alarm,
 * time stamp, display/control metadata, write access; and the channels watching it.
 *
 * No I/O: `update()` changes the state and tells every watcher which DBE bits the change raised
 * (VALUE|LOG for a new value, ALARM for a new severity or status, PROPERTY for new metadata);
 * `read()` renders the PV as any DBR type and count a client asks for.
 */
import { DBE, ECA, MAX_ENUM_STATES, parseAlarmStatus, parseSeverity } from './constants';
import { CaStatusError, LocalProtocolError } from './errors';
import { dbrLayout, parseNativeType, nativeTypeNames, type DbrInput, type DbrLimits, type NativeType, type NativeTypeName, type Range } from './dbr';
import { toNative, convertForRead, toJs, type NativeArray } from './convert';
import { epicsTimeFromDate, epicsTimeFromMs, epicsTimeNow, type EpicsTime } from './time';


export interface PvLimits {
  display?: Range;
  alarm?: Range;
  warning?: Range;
  control?: Range;
}

export type TimestampInput = EpicsTime | Date | number;

/** What a PV is made from (the server's `addPv` and the epics-ioc editor table). */
export interface PvDefinition {
  name: string;
  /** Native type: 'DOUBLE', 'float', 'LONG', 'SHORT', 'CHAR', 'ENUM', 'STRING' or a DBR id 0..6. */
  type: NativeTypeName | Lowercase<NativeTypeName> | NativeType | string | number;
  /** Maximum number of elements (1 = scalar). Default 1, or the initial array's length. */
  count?: number;
  /** Initial value (number, string, enum state or index, array, typed array). Default zeros. */
  value?: unknown;
  units?: string;
  precision?: number;
  limits?: PvLimits;
  /** States of an ENUM PV (at most 16 travel over CA). */
  enumStrings?: string[];
  /** Whether clients may write (default true). */
  writable?: boolean;
  severity?: number | string;
  status?: number | string;
  timestamp?: TimestampInput;
  /** What DBR_CLASS_NAME returns (RSRV returns the record type); default from the type. */
  className?: string;
}

/** A change to a PV. Omitted fields stay as they are. */
export interface PvUpdate {
  value?: unknown;
  severity?: number | string;
  status?: number | string;
  /** Default: now, when the value or the alarm changes. */
  timestamp?: TimestampInput;
  units?: string;
  precision?: number;
  limits?: PvLimits;
  enumStrings?: string[];
  writable?: boolean;
}

/** Receives a PV's changes: the DBE mask raised, or `removed`. */
export interface PvWatcher {
  pvChanged(pv: ServerPv, mask: number): void;
  pvRightsChanged(pv: ServerPv): void;
  pvRemoved(pv: ServerPv): void;
}

/** Outcome of rendering a PV for a read or a monitor. */
export interface PvRead {
  status: number;
  count: number;
  data?: DbrInput;
  message?: string;
}

function toStamp(t: TimestampInput | undefined): EpicsTime {
  if (t === undefined) return epicsTimeNow();
  if (t instanceof Date) return epicsTimeFromDate(t);
  if (typeof t === 'number') return epicsTimeFromMs(t);
  return { secondsPastEpoch: t.secondsPastEpoch >>> 0, nanoseconds: t.nanoseconds >>> 0 };
}

function range(r: Range | undefined): Range | undefined {
  if (!r) return undefined;
  const low = Number(r.low);
  const high = Number(r.high);
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw new LocalProtocolError(`limits must be finite numbers (got ${r.low}..${r.high})`);
  return { low, high };
}

function defaultClass(native: NativeType, count: number, writable: boolean): string {
  if (count > 1) return 'waveform';
  const io = writable ? 'o' : 'i';
  switch (native) {
    case 0: return `string${writable ? 'out' : 'in'}`;
    case 3: return `mbb${io}`;
    case 2:
    case 6: return `a${io}`;
    default: return `long${writable ? 'out' : 'in'}`;
  }
}

/** A valid PV name: non-empty, printable, no blanks, at most 1000 bytes. */
export function checkPvName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new LocalProtocolError('a PV needs a name');
  if (/[\s\0]/.test(name)) throw new LocalProtocolError(`PV name '${name}' contains blanks or control characters`);
  if (Buffer.byteLength(name) > 1000) throw new LocalProtocolError('PV name is too long');
  return name;
}

export class ServerPv {
  readonly name: string;
  readonly nativeType: NativeType;
  /** Maximum element count (what CREATE_CHAN reports). */
  readonly maxCount: number;
  #value: NativeArray;
  severity = 0;
  status = 0;
  stamp: EpicsTime;
  units = '';
  precision = 0;
  limits: DbrLimits = { display: { low: 0, high: 0 }, alarm: { low: 0, high: 0 }, warning: { low: 0, high: 0 }, control: { low: 0, high: 0 } };
  enumStrings: string[] = [];
  writable: boolean;
  className: string;
  /** Alarm acknowledge transient / severity (DBR_PUT_ACKT, DBR_PUT_ACKS, DBR_STSACK_STRING). */
  ackt = 1;
  acks = 0;
  /** Incremented on every change (value, alarm or metadata). */
  version = 0;
  readonly #watchers = new Set<PvWatcher>();
  #removed = false;

  constructor(def: PvDefinition) {
    this.name = checkPvName(def.name);
    const native = parseNativeType(def.type);
    if (native === undefined) throw new LocalProtocolError(`PV ${def.name}: unknown type '${String(def.type)}' (use ${nativeTypeNames.join(', ')})`);
    this.nativeType = native;
    const initialLen = Array.isArray(def.value) || ArrayBuffer.isView(def.value) ? (def.value as ArrayLike<unknown>).length : 1;
    const count = def.count ?? Math.max(1, initialLen);
    if (!Number.isInteger(count) || count < 1 || count > 0x7fffffff) throw new LocalProtocolError(`PV ${def.name}: count must be a positive integer`);
    this.maxCount = count;
    if (def.enumStrings) this.enumStrings = def.enumStrings.slice(0, MAX_ENUM_STATES).map(String);
    this.writable = def.writable ?? true;
    this.className = def.className ?? defaultClass(native, count, this.writable);
    this.applyMeta(def);
    if (def.value === undefined || def.value === null || def.value === '') {
      // Scalars start as one zero element; arrays start full of zeros.
      this.#value = toNative(native, native === 0 ? [''] : new Array<number>(count).fill(0), count, this.ctx());
    } else {
      this.#value = this.convertInput(def.value);
    }
    const sev = def.severity === undefined ? 0 : parseSeverity(def.severity);
    const st = def.status === undefined ? 0 : parseAlarmStatus(def.status);
    if (sev === undefined) throw new LocalProtocolError(`PV ${def.name}: unknown severity '${String(def.severity)}'`);
    if (st === undefined) throw new LocalProtocolError(`PV ${def.name}: unknown alarm status '${String(def.status)}'`);
    this.severity = sev;
    this.status = st;
    this.stamp = toStamp(def.timestamp);
  }

  private ctx(): { enumStrings: string[]; precision: number } {
    return { enumStrings: this.enumStrings, precision: this.precision };
  }

  private applyMeta(u: { units?: string; precision?: number; limits?: PvLimits; enumStrings?: string[] }): boolean {
    let changed = false;
    if (u.units !== undefined && u.units !== this.units) {
      this.units = String(u.units);
      changed = true;
    }
    if (u.precision !== undefined && u.precision !== this.precision) {
      if (!Number.isInteger(u.precision) || u.precision < -32768 || u.precision > 32767) throw new LocalProtocolError(`PV ${this.name}: precision must be an integer`);
      this.precision = u.precision;
      changed = true;
    }
    if (u.limits) {
      const l = this.limits;
      const next: DbrLimits = {
        display: range(u.limits.display) ?? l.display,
        alarm: range(u.limits.alarm) ?? l.alarm,
        warning: range(u.limits.warning) ?? l.warning,
        control: range(u.limits.control) ?? l.control ?? { low: 0, high: 0 },
      };
      if (JSON.stringify(next) !== JSON.stringify(l)) {
        this.limits = next;
        changed = true;
      }
    }
    if (u.enumStrings !== undefined) {
      const next = u.enumStrings.slice(0, MAX_ENUM_STATES).map(String);
      if (JSON.stringify(next) !== JSON.stringify(this.enumStrings)) {
        this.enumStrings = next;
        changed = true;
      }
    }
    return changed;
  }

  /** Convert a user or client value to this PV's native array (throws CaStatusError). */
  convertInput(v: unknown): NativeArray {
    return toNative(this.nativeType, v, this.maxCount, this.ctx());
  }

  /** Current native value (do not modify). */
  get value(): NativeArray {
    return this.#value;
  }

  /** Current number of elements (<= maxCount). */
  get length(): number {
    return this.#value.length;
  }

  get removed(): boolean {
    return this.#removed;
  }

  /** The value as a plain JS value (scalar for count-1 PVs). */
  jsValue(): unknown {
    return toJs(this.nativeType, this.#value, this.maxCount);
  }

  /** The state string of an ENUM PV's current value (undefined for other types). */
  enumString(): string | undefined {
    if (this.nativeType !== 3) return undefined;
    const i = this.#value[0] as number | undefined;
    return i === undefined ? undefined : this.enumStrings[i] ?? String(i);
  }

  /** Apply a change; notifies watchers with the DBE mask raised and returns it (0 = nothing). */
  update(u: PvUpdate): number {
    if (this.#removed) throw new LocalProtocolError(`PV ${this.name} was removed`);
    // Validate everything before changing anything.
    const value = u.value !== undefined ? this.convertInput(u.value) : undefined;
    const sev = u.severity !== undefined ? parseSeverity(u.severity) : this.severity;
    const st = u.status !== undefined ? parseAlarmStatus(u.status) : this.status;
    if (sev === undefined) throw new CaStatusError(ECA.BADSTR, `PV ${this.name}`, `unknown severity '${String(u.severity)}'`);
    if (st === undefined) throw new CaStatusError(ECA.BADSTR, `PV ${this.name}`, `unknown alarm status '${String(u.status)}'`);
    let mask = 0;
    if (this.applyMeta(u)) mask |= DBE.PROPERTY;
    if (value !== undefined) {
      this.#value = value;
      mask |= DBE.VALUE | DBE.LOG;
    }
    if (sev !== this.severity || st !== this.status) {
      this.severity = sev;
      this.status = st;
      mask |= DBE.ALARM;
    }
    if (u.timestamp !== undefined) this.stamp = toStamp(u.timestamp);
    else if (mask & (DBE.VALUE | DBE.ALARM)) this.stamp = epicsTimeNow();
    let rights = false;
    if (u.writable !== undefined && u.writable !== this.writable) {
      this.writable = u.writable;
      rights = true;
    }
    if (mask) {
      this.version++;
      for (const w of this.#watchers) w.pvChanged(this, mask);
    }
    if (rights) for (const w of this.#watchers) w.pvRightsChanged(this);
    return mask;
  }

  watch(w: PvWatcher): void {
    this.#watchers.add(w);
  }

  unwatch(w: PvWatcher): void {
    this.#watchers.delete(w);
  }

  /** Mark removed and tell every watcher (each sends SERVER_DISCONN). */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    for (const w of [...this.#watchers]) w.pvRemoved(this);
    this.#watchers.clear();
  }

  /**
   * Render as DBR `dataType` with `count` elements (0 = the current length). Returns a status:
   * ECA_BADTYPE, ECA_BADCOUNT (more than the maximum), ECA_NOCONVERT (a STRING that is not a
   * number read as a number) or ECA_NORMAL with the data.
   */
  read(dataType: number, count: number): PvRead {
    const l = dbrLayout(dataType);
    if (!l) return { status: ECA.BADTYPE, count: 0, message: `unknown DBR type ${dataType}` };
    if (count > this.maxCount) return { status: ECA.BADCOUNT, count: 0, message: `${count} elements requested, the PV has ${this.maxCount}` };
    const n = count === 0 ? this.#value.length : count;
    const base: DbrInput = {
      value: [],
      status: this.status,
      severity: this.severity,
      stamp: this.stamp,
      units: this.units,
      precision: this.precision,
      limits: this.limits,
      enumStrings: this.nativeType === 3 ? this.enumStrings : [],
      ackt: this.ackt,
      acks: this.acks,
    };
    if (l.family === 'class_name') return { status: ECA.NORMAL, count: n, data: { ...base, value: [this.className] } };
    if (l.family === 'put_ackt') return { status: ECA.NORMAL, count: n, data: { ...base, value: [this.ackt] } };
    if (l.family === 'put_acks') return { status: ECA.NORMAL, count: n, data: { ...base, value: [this.acks] } };
    try {
      const value = convertForRead(this.nativeType, this.#value, l.native, this.ctx());
      return { status: ECA.NORMAL, count: n, data: { ...base, value } };
    } catch (err) {
      const status = err instanceof CaStatusError ? err.eca : ECA.GETFAIL;
      return { status, count: n, message: err instanceof Error ? err.message : String(err) };
    }
  }
}

