/**
 * When Trend Log objects record (ASHRAE 135-2020 Clause 12.25): polled logging every
 * Log_Interval hundredths of a second, aligned to the clock when Align_Intervals is TRUE (with
 * Interval_Offset, 12.25/28); COV logging when the monitored local property changes by the
 * Client_COV_Increment (else the object's COV_Increment, else any change) or its status flags
 * change (12.25, 13.1); triggered logging when TRUE is written to Trigger (12.25). Logging
 * happens while Enable is TRUE and the device time lies within Start_Time..Stop_Time (12.25);
 * a change of Enable adds a log-status record (12.25).
 *
 * Log_DeviceObjectProperty must name a property of this device; the datum type follows the
 * value (REAL, ENUMERATED, Unsigned, ... or any-value for the rest, BACnetLogRecord).
 */
import type { LogRecord } from '../codec/constructed';
import { readConstructed } from '../objects/conform';
import type { DeviceObjectPropertyReference } from '../codec/constructed';
import { toJsDate } from '../codec/primitives';
import { type BacnetValue, Value, valuesEqual } from '../codec/values';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { LoggingType } from '../enums/states';
import type { BacnetObject } from '../objects/object';
import { TrendLogObject } from '../objects/trend-log';
import { type ObjectDatabase, type PropertyChange, objectKey } from './database';

interface LogState {
  timer?: () => void;
  /** Log_DeviceObjectProperty, decoded when the log is configured (undefined: none usable). */
  ref?: DeviceObjectPropertyReference;
  last?: BacnetValue[];
  lastFlags?: boolean[];
  wasActive: boolean;
}

const num = (v: BacnetValue | undefined): number | undefined =>
  v && (v.type === 'real' || v.type === 'double' || v.type === 'unsigned' || v.type === 'signed') ? Number(v.value) : undefined;

/** The log datum of a property value (BACnetLogRecord log-datum CHOICE). */
export function datumOf(value: readonly BacnetValue[]): LogRecord['datum'] {
  if (value.length === 1) {
    const v = value[0]!;
    switch (v.type) {
      case 'boolean': return { kind: 'boolean', value: v.value };
      case 'real': return { kind: 'real', value: v.value };
      case 'enumerated': return { kind: 'enumerated', value: v.value };
      case 'unsigned': if (typeof v.value === 'number' && v.value <= 0xffffffff) return { kind: 'unsigned', value: v.value }; break;
      case 'signed': if (typeof v.value === 'number' && Math.abs(v.value) <= 0x7fffffff) return { kind: 'signed', value: v.value }; break;
      case 'bit-string': return { kind: 'bit-string', value: v.value };
      case 'null': return { kind: 'null' };
      default: break;
    }
  }
  return { kind: 'any', value: value.slice() };
}

const LOG_PROPS = new Set<number>([
  P.enable, P.startTime, P.stopTime, P.logDeviceObjectProperty, P.logInterval, P.loggingType, P.alignIntervals,
  P.intervalOffset, P.trigger, P.clientCovIncrement,
]);

export class TrendLogEngine {
  readonly #db: ObjectDatabase;
  readonly #state = new Map<number, LogState>();
  readonly #unsubscribe: Array<() => void> = [];
  failures = 0;

  constructor(db: ObjectDatabase) {
    this.#db = db;
    this.#unsubscribe.push(db.onChange((c) => this.#onChange(c)));
    this.#unsubscribe.push(db.onMembership((o, ev) => {
      if (!(o instanceof TrendLogObject)) return;
      if (ev === 'added') this.configure(o);
      else this.#stop(o);
    }));
  }

  dispose(): void {
    for (const u of this.#unsubscribe) u();
    for (const s of this.#state.values()) s.timer?.();
    this.#state.clear();
  }

  /** (Re)start every trend log (after start or a clock change). */
  configureAll(): void {
    for (const o of this.#db.objects()) if (o instanceof TrendLogObject) this.configure(o);
  }

  #stop(o: BacnetObject): void {
    const s = this.#state.get(objectKey(o.id));
    s?.timer?.();
    this.#state.delete(objectKey(o.id));
  }

  #reference(log: TrendLogObject): DeviceObjectPropertyReference | undefined {
    const v = log.stored(P.logDeviceObjectProperty);
    if (!v || !v.length) return undefined;
    try {
      const ref = readConstructed<DeviceObjectPropertyReference>('device-object-property-reference', v);
      if (ref.deviceId && ref.deviceId.instance !== this.#db.device.id.instance) return undefined;
      return ref;
    } catch {
      return undefined;
    }
  }

  #loggingType(log: TrendLogObject): number {
    const v = log.stored(P.loggingType)?.[0];
    return v?.type === 'enumerated' ? v.value : LoggingType.polled;
  }

  #dateTime(log: TrendLogObject, id: number): number | undefined {
    const v = log.stored(id);
    if (!v || v.length !== 2 || v[0]!.type !== 'date' || v[1]!.type !== 'time') return undefined;
    return toJsDate(v[0]!.value, v[1]!.value)?.getTime();
  }

  /** Is the log recording at device time `now` (Enable, Start_Time, Stop_Time)? */
  active(log: TrendLogObject, now: number): boolean {
    if (!log.enabled) return false;
    const start = this.#dateTime(log, P.startTime);
    const stop = this.#dateTime(log, P.stopTime);
    return (start === undefined || now >= start) && (stop === undefined || now < stop);
  }

  configure(log: TrendLogObject): void {
    const k = objectKey(log.id);
    let s = this.#state.get(k);
    if (!s) this.#state.set(k, (s = { wasActive: false }));
    s.timer?.();
    delete s.timer;
    // decoded here once rather than on every property change of the device (#onChange)
    const ref = this.#reference(log);
    if (ref) s.ref = ref;
    else delete s.ref;
    const now = this.#db.now();
    const active = this.active(log, now);
    if (active !== s.wasActive) {
      // A change of Enable (or the start/stop window) is logged as a log-status record.
      log.append({ kind: 'log-status', value: [!active, false, false] }, now);
      s.wasActive = active;
    }
    // Wake at the start or stop time when one lies ahead.
    const edges = [this.#dateTime(log, P.startTime), this.#dateTime(log, P.stopTime)].filter((t): t is number => t !== undefined && t > now);
    const type = this.#loggingType(log);
    let next = edges.length ? Math.min(...edges) : Infinity;
    if (active && type === LoggingType.polled) next = Math.min(next, this.#nextPoll(log, now));
    if (next !== Infinity) {
      s.timer = this.#db.setTimer(Math.max(1, next - now), () => {
        delete s!.timer;
        this.#tick(log);
      });
    }
  }

  #nextPoll(log: TrendLogObject, now: number): number {
    const iv = log.stored(P.logInterval)?.[0];
    const interval = Math.max(10, (iv?.type === 'unsigned' ? Number(iv.value) : 0) * 10); // hundredths -> ms, at least 10 ms
    const align = log.stored(P.alignIntervals)?.[0];
    if (align?.type === 'boolean' && align.value) {
      const off = log.stored(P.intervalOffset)?.[0];
      const offset = (off?.type === 'unsigned' ? Number(off.value) : 0) * 10;
      const d = new Date(now);
      const midnight = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
      const since = now - midnight - offset;
      return midnight + offset + (Math.floor(since / interval) + 1) * interval;
    }
    return now + interval;
  }

  #tick(log: TrendLogObject): void {
    const now = this.#db.now();
    if (this.active(log, now) && this.#loggingType(log) === LoggingType.polled) this.#record(log, now);
    this.configure(log);
  }

  #record(log: TrendLogObject, now: number): void {
    const s = this.#state.get(objectKey(log.id));
    const ref = s ? s.ref : this.#reference(log);
    if (!ref) return;
    const target = this.#db.get(ref.objectId);
    let datum: LogRecord['datum'];
    let flags: boolean[] | undefined;
    try {
      if (!target) throw new Error('unknown object');
      const value = target.read(ref.propertyId, ref.arrayIndex);
      datum = datumOf(value);
      if (target.has(P.statusFlags)) flags = target.statusFlags();
      if (s) {
        s.last = value;
        s.lastFlags = flags;
      }
    } catch {
      this.failures++;
      datum = { kind: 'failure', value: { errorClass: 1, errorCode: 31 } }; // object / unknown-object
    }
    log.append(datum, now, flags);
  }

  #onChange(c: PropertyChange): void {
    const o = c.object;
    if (o instanceof TrendLogObject && c.source !== 'engine') {
      if (c.properties.includes(P.trigger)) this.#trigger(o);
      if (c.properties.some((p) => LOG_PROPS.has(p))) this.configure(o);
    }
    if (!this.#state.size) return;
    for (const [k, s] of this.#state) {
      const ref = s.ref;
      if (!ref || ref.objectId.type !== o.id.type || ref.objectId.instance !== o.id.instance) continue;
      if (!c.properties.includes(ref.propertyId) && !c.properties.includes(P.statusFlags)) continue;
      const log = this.#findLog(k);
      if (!log || this.#loggingType(log) !== LoggingType.cov) continue;
      const now = this.#db.now();
      if (!this.active(log, now)) continue;
      if (this.#covDue(log, o, ref, s)) this.#record(log, now);
    }
  }

  #findLog(k: number): TrendLogObject | undefined {
    const o = this.#db.get({ type: Math.floor(k / 0x400000), instance: k % 0x400000 });
    return o instanceof TrendLogObject ? o : undefined;
  }

  #covDue(log: TrendLogObject, o: BacnetObject, ref: DeviceObjectPropertyReference, s: LogState): boolean {
    let value: BacnetValue[];
    try {
      value = o.read(ref.propertyId, ref.arrayIndex);
    } catch {
      return false;
    }
    const flags = o.has(P.statusFlags) ? o.statusFlags() : undefined;
    if (flags && s.lastFlags && flags.some((f, i) => f !== s.lastFlags![i])) return true;
    if (!s.last) return true;
    if (valuesEqual(s.last, value)) return false;
    const a = num(value[0]);
    const b = num(s.last[0]);
    if (a === undefined || b === undefined) return true;
    const client = log.stored(P.clientCovIncrement)?.[0];
    let inc = client?.type === 'real' ? client.value : undefined;
    if (inc === undefined && ref.propertyId === P.presentValue && o.has(P.covIncrement)) inc = num(o.stored(P.covIncrement)?.[0]);
    return inc === undefined || inc <= 0 || Math.abs(a - b) >= inc;
  }

  #trigger(log: TrendLogObject): void {
    const t = log.stored(P.trigger)?.[0];
    if (t?.type !== 'boolean' || !t.value) return;
    const now = this.#db.now();
    if (this.active(log, now)) this.#record(log, now);
    log.setLocal(P.trigger, [Value.boolean(false)], { source: 'engine' });
  }
}
