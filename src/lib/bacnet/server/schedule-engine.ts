/**
 * Schedule and Calendar evaluation (ASHRAE 135-2020 Clause 12.24 Schedule: 12.24 Present_Value
 * from Exception_Schedule, Weekly_Schedule and Schedule_Default; 12.24 / 12.24 time values
 * and event priorities; writes to List_Of_Object_Property_References at Priority_For_Writing;
 * Clause 12.9 Calendar Present_Value from Date_List).
 *
 * At any moment of a day the value in effect is found as follows: among the special events of
 * the Exception_Schedule that apply today (a calendar entry that matches, or a referenced Calendar
 * whose date list matches), the one with the highest priority (lowest number; the earlier entry on
 * a tie) whose latest time value at or before now is not NULL gives the value. Otherwise the latest
 * time value at or before now of today's daily schedule gives it, NULL or nothing meaning
 * Schedule_Default. Outside Effective_Period the value is Schedule_Default. When the value
 * changes it is written to every referenced local property (NULL relinquishes the slot).
 *
 * The engine wakes at the next time value of the day and at midnight, and whenever a schedule,
 * a calendar or the device clock changes.
 */
import type { BacnetTime } from '../codec/primitives';
import {
  type CalendarEntry, type DateRange, type DeviceObjectPropertyReference, type SpecialEvent, type TimeValue,
} from '../codec/constructed';
import { type BacnetValue, Value, valuesEqual } from '../codec/values';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import type { BacnetObject } from '../objects/object';
import { readConstructed, splitElements } from '../objects/conform';
import { type ObjectDatabase, type PropertyChange } from './database';
import { calendarEntryMatches, inDateRange } from './calendar';

const hundredths = (t: BacnetTime): number =>
  ((t.hour === 255 ? 0 : t.hour) * 3600 + (t.minute === 255 ? 0 : t.minute) * 60 + (t.second === 255 ? 0 : t.second)) * 100 +
  (t.hundredths === 255 ? 0 : t.hundredths);

const SCHEDULE_PROPS = new Set<number>([
  P.weeklySchedule, P.exceptionSchedule, P.scheduleDefault, P.effectivePeriod, P.listOfObjectPropertyReferences,
  P.priorityForWriting, P.outOfService,
]);

export interface ScheduleStats {
  writes: number;
  writeFailures: number;
  lastError?: string;
}

/** The value of a day's time-value list at `t` (hundredths of the day): the latest entry at or before it. */
function valueAt(list: readonly TimeValue[], t: number): { found: boolean; value?: BacnetValue } {
  let best: TimeValue | undefined;
  for (const tv of list) {
    const at = hundredths(tv.time);
    if (at <= t && (!best || at >= hundredths(best.time))) best = tv;
  }
  return best ? { found: true, value: best.value } : { found: false };
}

export class ScheduleEngine {
  readonly #db: ObjectDatabase;
  readonly #unsubscribe: Array<() => void> = [];
  #timer: (() => void) | undefined;
  #evaluating = false;
  readonly stats: ScheduleStats = { writes: 0, writeFailures: 0 };

  constructor(db: ObjectDatabase) {
    this.#db = db;
    this.#unsubscribe.push(db.onChange((c) => this.#onChange(c)));
    this.#unsubscribe.push(db.onMembership((o) => {
      if (o.id.type === ObjectType.schedule || o.id.type === ObjectType.calendar) this.evaluateAll();
    }));
  }

  dispose(): void {
    this.#timer?.();
    this.#timer = undefined;
    for (const u of this.#unsubscribe) u();
  }

  #onChange(c: PropertyChange): void {
    if (this.#evaluating) return;
    const t = c.object.id.type;
    if ((t === ObjectType.schedule && c.properties.some((p) => SCHEDULE_PROPS.has(p))) || (t === ObjectType.calendar && c.properties.includes(P.dateList))) {
      this.evaluateAll();
    }
  }

  /** Re-evaluate every calendar and schedule now and set the next wake-up. */
  evaluateAll(): void {
    if (this.#evaluating) return;
    this.#evaluating = true;
    let next = Infinity;
    try {
      const now = this.#db.now();
      const day = new Date(now);
      for (const o of this.#db.objects()) {
        if (o.id.type === ObjectType.calendar) this.#evaluateCalendar(o, day);
      }
      for (const o of this.#db.objects()) {
        if (o.id.type === ObjectType.schedule) next = Math.min(next, this.#evaluateSchedule(o, day));
      }
      const midnight = new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime();
      next = Math.min(next, midnight);
      this.#arm(next - now);
    } finally {
      this.#evaluating = false;
    }
  }

  #arm(ms: number): void {
    this.#timer?.();
    this.#timer = this.#db.setTimer(Math.max(1, ms), () => {
      this.#timer = undefined;
      this.evaluateAll();
    });
  }

  /** Does the calendar's Date_List match `d`? */
  calendarMatches(o: BacnetObject, d: Date): boolean {
    const entries = splitElements(o.stored(P.dateList) ?? [], { kind: 'constructed', name: 'calendar-entry' })
      .map((el) => readConstructed<CalendarEntry>('calendar-entry', el));
    return entries.some((e) => calendarEntryMatches(e, d));
  }

  #evaluateCalendar(o: BacnetObject, d: Date): void {
    let on = false;
    try {
      on = this.calendarMatches(o, d);
    } catch {
      on = false;
    }
    o.setLocal(P.presentValue, [Value.boolean(on)], { source: 'engine' });
  }

  /** The value the schedule asks for at `d` (12.24). */
  valueAt(o: BacnetObject, d: Date): BacnetValue {
    const dflt = o.stored(P.scheduleDefault)?.[0] ?? Value.null();
    const period = o.stored(P.effectivePeriod);
    if (period && period.length === 2 && period[0]!.type === 'date' && period[1]!.type === 'date') {
      const r: DateRange = { startDate: period[0]!.value, endDate: period[1]!.value };
      if (!inDateRange(r, d)) return dflt;
    }
    const t = (d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds()) * 100 + Math.floor(d.getMilliseconds() / 10);
    let best: { priority: number; value: BacnetValue } | undefined;
    for (const ev of this.#specialEvents(o)) {
      if (!this.#eventApplies(ev, d)) continue;
      const v = valueAt(ev.timeValues, t);
      if (!v.found || !v.value || v.value.type === 'null') continue;
      if (!best || ev.priority < best.priority) best = { priority: ev.priority, value: v.value };
    }
    if (best) return best.value;
    const weekly = o.stored(P.weeklySchedule);
    if (weekly && weekly.length === 7) {
      const dow = (d.getDay() + 6) % 7; // Monday first
      const day = weekly[dow]!;
      const list = day.type === 'constructed' ? this.#timeValues(day.value) : [];
      const v = valueAt(list, t);
      if (v.found && v.value && v.value.type !== 'null') return v.value;
    }
    return dflt;
  }

  #timeValues(values: BacnetValue[]): TimeValue[] {
    const out: TimeValue[] = [];
    for (let i = 0; i + 1 < values.length; i += 2) {
      const t = values[i]!;
      if (t.type === 'time') out.push({ time: t.value, value: values[i + 1]! });
    }
    return out;
  }

  #specialEvents(o: BacnetObject): SpecialEvent[] {
    try {
      return splitElements(o.stored(P.exceptionSchedule) ?? [], { kind: 'constructed', name: 'special-event' })
        .map((el) => readConstructed<SpecialEvent>('special-event', el));
    } catch {
      return [];
    }
  }

  #eventApplies(ev: SpecialEvent, d: Date): boolean {
    if ('calendarEntry' in ev.period) return calendarEntryMatches(ev.period.calendarEntry, d);
    const cal = this.#db.get(ev.period.calendarReference);
    if (!cal || cal.id.type !== ObjectType.calendar) return false;
    try {
      return this.calendarMatches(cal, d);
    } catch {
      return false;
    }
  }

  /** Evaluate one schedule; returns the device time of its next change point today (or Infinity). */
  #evaluateSchedule(o: BacnetObject, d: Date): number {
    if (!o.outOfService) {
      const value = this.valueAt(o, d);
      const before = o.stored(P.presentValue);
      if (!before || !valuesEqual(before, [value])) {
        o.setLocal(P.presentValue, [value], { source: 'engine' });
        this.#writeReferences(o, value);
      }
    }
    return this.#nextChange(o, d);
  }

  #writeReferences(o: BacnetObject, value: BacnetValue): void {
    const pv = o.stored(P.priorityForWriting)?.[0];
    const priority = pv?.type === 'unsigned' ? Number(pv.value) : 16;
    let refs: DeviceObjectPropertyReference[] = [];
    try {
      refs = splitElements(o.stored(P.listOfObjectPropertyReferences) ?? [], { kind: 'constructed', name: 'device-object-property-reference' })
        .map((el) => readConstructed<DeviceObjectPropertyReference>('device-object-property-reference', el));
    } catch {
      refs = [];
    }
    for (const ref of refs) {
      if (ref.deviceId && ref.deviceId.instance !== this.#db.device.id.instance) continue; // remote devices: not written by this server
      const target = this.#db.get(ref.objectId);
      if (!target) {
        this.stats.writeFailures++;
        this.stats.lastError = `unknown object in ${o.label()}`;
        continue;
      }
      try {
        target.setLocal(ref.propertyId, [value], { priority, source: 'engine' });
        this.stats.writes++;
      } catch (e) {
        this.stats.writeFailures++;
        this.stats.lastError = e instanceof Error ? e.message : String(e);
      }
    }
  }

  #nextChange(o: BacnetObject, d: Date): number {
    const t = (d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds()) * 100 + Math.floor(d.getMilliseconds() / 10);
    let next = Infinity;
    const consider = (list: readonly TimeValue[]): void => {
      for (const tv of list) {
        const at = hundredths(tv.time);
        if (at > t && at < next) next = at;
      }
    };
    for (const ev of this.#specialEvents(o)) if (this.#eventApplies(ev, d)) consider(ev.timeValues);
    const weekly = o.stored(P.weeklySchedule);
    const day = weekly?.[(d.getDay() + 6) % 7];
    if (day?.type === 'constructed') consider(this.#timeValues(day.value));
    if (next === Infinity) return Infinity;
    const base = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    return base + next * 10;
  }
}
