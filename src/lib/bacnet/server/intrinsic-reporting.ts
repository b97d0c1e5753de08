/**
 * Intrinsic reporting (ASHRAE 135-2020 Clause 13.2 event-state detection, 13.3.6 OUT_OF_RANGE
 * for analog objects, 13.3.2 CHANGE_OF_STATE for binary and multi-state objects, 13.4 fault
 * detection through Reliability), acknowledgement (13.5 AcknowledgeAlarm) and the event summary
 * of GetEventInformation (13.12).
 *
 * An object reports when it carries Notification_Class and Event_Detection_Enable is TRUE. Each
 * change of its present value, limits or reliability is evaluated; an offnormal condition must
 * hold for Time_Delay seconds (back to normal: Time_Delay_Normal) before the transition is made.
 * A transition updates Event_State, Event_Time_Stamps and Acked_Transitions (cleared when the
 * Notification Class requires an acknowledgement), and, when Event_Enable has the transition,
 * sends event notifications to the class's recipients (notification-class.ts).
 */
import { type TimeStamp, writeTimeStamp } from '../codec/constructed';
import { type BacnetValue, Value, bytesToValues, valuesEqual } from '../codec/values';
import { Writer } from '../../wire/writer';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { EventState, EventType, NotifyType, Reliability } from '../enums/states';
import type { NotificationParameters } from '../codec/event-parameters';
import type { AcknowledgeAlarmRequest, EventSummary } from '../services/alarms-events';
import type { BacnetObject } from '../objects/object';
import { PropertyAccessError } from '../objects/errors';
import { readConstructed, splitElements } from '../objects/conform';
import { type ObjectDatabase, type PropertyChange, objectKey } from './database';
import type { EventSink } from './events';
import { type PeerAddress, type ServerNetwork } from './network';
import { type Delivery, deliverEventNotification, notificationClass, timeStampOf, transitionOf } from './notification-class';

interface Pending {
  toState: number;
  cancel: () => void;
}

interface Track {
  pending?: Pending;
  /** The alarm value that caused the last offnormal transition (CHANGE_OF_STATE re-alarm). */
  alarmValue?: number;
  /** The limit exceeded on the last limit transition (OUT_OF_RANGE to-normal values). */
  exceededLimit?: number;
}

export interface ReportingOptions {
  network: () => ServerNetwork;
  canInitiate: () => boolean;
  events: EventSink;
}

const TRIGGERS = new Set<number>([
  P.presentValue, P.statusFlags, P.reliability, P.highLimit, P.lowLimit, P.deadband, P.limitEnable, P.alarmValue,
  P.alarmValues, P.eventDetectionEnable, P.notificationClass, P.outOfService,
]);

const num = (v: BacnetValue | undefined, d = 0): number =>
  v && (v.type === 'real' || v.type === 'double' || v.type === 'unsigned' || v.type === 'signed' || v.type === 'enumerated') ? Number(v.value) : d;

export class IntrinsicReporting {
  readonly #db: ObjectDatabase;
  readonly #opts: ReportingOptions;
  readonly #tracks = new Map<number, Track>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly delivery: Delivery = { sent: 0, failures: 0 };
  suppressed = 0;

  constructor(db: ObjectDatabase, opts: ReportingOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#unsubscribe.push(db.onChange((c) => this.#onChange(c)));
    this.#unsubscribe.push(db.onMembership((o, ev) => {
      if (ev === 'removed') this.#drop(o);
      else this.evaluate(o);
    }));
  }

  dispose(): void {
    for (const u of this.#unsubscribe) u();
    for (const t of this.#tracks.values()) t.pending?.cancel();
    this.#tracks.clear();
  }

  /** True when `o` reports intrinsically (13.2). */
  reports(o: BacnetObject): boolean {
    if (o.def.algorithm === 'none' || !o.has(P.notificationClass) || !o.has(P.eventState)) return false;
    const v = o.stored(P.eventDetectionEnable)?.[0];
    return !(v?.type === 'boolean' && !v.value);
  }

  #onChange(c: PropertyChange): void {
    if (c.source === 'engine' && c.properties.length === 1 && c.properties[0] === P.eventState) return;
    if (!c.properties.some((p) => TRIGGERS.has(p))) return;
    this.evaluate(c.object);
  }

  #drop(o: BacnetObject): void {
    const t = this.#tracks.get(objectKey(o.id));
    t?.pending?.cancel();
    this.#tracks.delete(objectKey(o.id));
  }

  #track(o: BacnetObject): Track {
    const k = objectKey(o.id);
    let t = this.#tracks.get(k);
    if (!t) this.#tracks.set(k, (t = {}));
    return t;
  }

  /** Evaluate the event algorithm of `o` now (13.2). */
  evaluate(o: BacnetObject): void {
    if (!this.reports(o)) return;
    const t = this.#track(o);
    const current = o.eventState;
    const target = this.#target(o, current, t);
    if (target === undefined || target === current) {
      if (t.pending) {
        t.pending.cancel();
        delete t.pending;
      }
      return;
    }
    // Faults and disabled limits take effect at once; other transitions wait out their delay.
    const immediate = target === EventState.fault || current === EventState.fault || this.#limitDisabled(o, current);
    const delay = immediate ? 0 : target === EventState.normal && o.has(P.timeDelayNormal)
      ? num(o.stored(P.timeDelayNormal)?.[0]) : num(o.stored(P.timeDelay)?.[0]);
    if (t.pending && t.pending.toState === target) return;
    t.pending?.cancel();
    delete t.pending;
    if (delay <= 0) {
      this.#transition(o, current, target, t);
      return;
    }
    const cancel = this.#db.setTimer(delay * 1000, () => {
      delete t.pending;
      // The condition must still hold after the delay.
      const now = this.#target(o, o.eventState, t);
      if (now === target && now !== o.eventState) this.#transition(o, o.eventState, target, t);
    });
    t.pending = { toState: target, cancel };
  }

  #limitDisabled(o: BacnetObject, current: number): boolean {
    if (o.def.algorithm !== 'out-of-range') return false;
    const le = o.stored(P.limitEnable)?.[0];
    const bits = le?.type === 'bit-string' ? le.value : [];
    return (current === EventState.highLimit && bits[1] !== true) || (current === EventState.lowLimit && bits[0] !== true);
  }

  /** The event state the algorithm asks for, given the current one. */
  #target(o: BacnetObject, current: number, t: Track): number | undefined {
    if (o.reliability !== Reliability.noFaultDetected) return EventState.fault;
    if (current === EventState.fault) return EventState.normal;
    const pv = o.read(P.presentValue)[0];
    if (o.def.algorithm === 'out-of-range') {
      const v = num(pv);
      const high = num(o.stored(P.highLimit)?.[0], Infinity);
      const low = num(o.stored(P.lowLimit)?.[0], -Infinity);
      const deadband = num(o.stored(P.deadband)?.[0]);
      const le = o.stored(P.limitEnable)?.[0];
      const bits = le?.type === 'bit-string' ? le.value : [];
      const lowOn = bits[0] === true;
      const highOn = bits[1] === true;
      if (current === EventState.highLimit) {
        if (!highOn) return EventState.normal;
        if (lowOn && v < low) return EventState.lowLimit;
        return v < high - deadband ? EventState.normal : EventState.highLimit;
      }
      if (current === EventState.lowLimit) {
        if (!lowOn) return EventState.normal;
        if (highOn && v > high) return EventState.highLimit;
        return v > low + deadband ? EventState.normal : EventState.lowLimit;
      }
      if (highOn && v > high) return EventState.highLimit;
      if (lowOn && v < low) return EventState.lowLimit;
      return EventState.normal;
    }
    // change-of-state
    const v = num(pv);
    const alarm = this.#alarmValues(o);
    if (!alarm.includes(v)) return EventState.normal;
    if (current === EventState.offnormal && t.alarmValue !== undefined && t.alarmValue !== v) return -1; // a new alarm value: re-alarm
    return EventState.offnormal;
  }

  #alarmValues(o: BacnetObject): number[] {
    if (o.has(P.alarmValue)) return [num(o.stored(P.alarmValue)?.[0], -1)];
    return (o.stored(P.alarmValues) ?? []).map((v) => num(v, -1));
  }

  #transition(o: BacnetObject, from: number, requested: number, t: Track): void {
    const to = requested === -1 ? EventState.offnormal : requested;
    const bit = transitionOf(to);
    const now = new Date(this.#db.now());
    const stamp = timeStampOf(now);
    const nc = notificationClass(this.#db, num(o.stored(P.notificationClass)?.[0]));
    // Event_State, Event_Time_Stamps and Acked_Transitions (13.2).
    o.setLocal(P.eventState, [Value.enumerated(to)], { source: 'engine' });
    const stamps = (o.stored(P.eventTimeStamps) ?? []).slice();
    const els = stamps.length === 3 ? stamps : [stampValue(stamp), stampValue(stamp), stampValue(stamp)];
    els[bit] = stampValue(stamp);
    o.setLocal(P.eventTimeStamps, els, { source: 'engine' });
    const acked = bitsOf(o, P.ackedTransitions);
    acked[bit] = !nc.ackRequired[bit];
    o.setLocal(P.ackedTransitions, [Value.bitString(acked)], { source: 'engine' });
    const pv = o.read(P.presentValue)[0]!;
    const v = num(pv);
    let eventType: number = EventType.changeOfState;
    let eventValues: NotificationParameters;
    const flags = o.statusFlags();
    if (to === EventState.fault || from === EventState.fault) {
      eventType = EventType.changeOfReliability;
      eventValues = { eventType, parameters: { reliability: o.reliability, statusFlags: flags, propertyValues: [] } };
    } else if (o.def.algorithm === 'out-of-range') {
      eventType = EventType.outOfRange;
      const limit = to === EventState.highLimit ? num(o.stored(P.highLimit)?.[0]) : to === EventState.lowLimit ? num(o.stored(P.lowLimit)?.[0]) : t.exceededLimit ?? 0;
      if (to !== EventState.normal) t.exceededLimit = limit;
      eventValues = { eventType, parameters: { exceedingValue: v, statusFlags: flags, deadband: num(o.stored(P.deadband)?.[0]), exceededLimit: limit } };
    } else {
      t.alarmValue = to === EventState.offnormal ? v : undefined;
      const kind = o.def.family === 'binary' ? 1 : 11; // BACnetPropertyStates binary-value [1] / unsigned-value [11]
      eventValues = { eventType, parameters: { newState: { kind, value: v }, statusFlags: flags } };
    }
    const enable = bitsOf(o, P.eventEnable);
    const texts = o.stored(P.eventMessageTexts) ?? [];
    const text = texts[bit]?.type === 'character-string' ? texts[bit].value : '';
    let recipients = 0;
    if (enable[bit]) {
      if (this.#opts.canInitiate()) {
        recipients = deliverEventNotification(this.#opts.network(), nc, bit, now, {
          initiatingDeviceId: this.#db.device.id,
          eventObjectId: o.id,
          timeStamp: stamp,
          notificationClass: num(o.stored(P.notificationClass)?.[0]),
          priority: nc.priorities[bit],
          eventType,
          ...(text ? { messageText: text } : {}),
          notifyType: num(o.stored(P.notifyType)?.[0], NotifyType.alarm),
          ackRequired: nc.ackRequired[bit],
          fromState: from,
          toState: to,
          eventValues,
        }, this.delivery);
      } else {
        this.suppressed++;
      }
    }
    this.#opts.events({
      type: 'event', object: o, fromState: from, toState: to, eventType,
      notificationClass: num(o.stored(P.notificationClass)?.[0]), priority: nc.priorities[bit], ackRequired: nc.ackRequired[bit], recipients,
      ...(text ? { message: text } : {}),
    });
  }

  /** AcknowledgeAlarm (13.5): check the state and time stamp, set the acked bit, tell the recipients. */
  acknowledge(req: AcknowledgeAlarmRequest, source: PeerAddress): void {
    const o = this.#db.get(req.eventObjectId);
    if (!o) throw new PropertyAccessError('object', 'unknown-object');
    if (!o.has(P.ackedTransitions) || !o.has(P.eventTimeStamps)) throw new PropertyAccessError('object', 'no-alarm-configured', o.label());
    const bit = transitionOf(req.eventStateAcknowledged);
    const stamps = o.stored(P.eventTimeStamps) ?? [];
    if (transitionOf(o.eventState) !== bit && bitsOf(o, P.ackedTransitions)[bit] === true) {
      throw new PropertyAccessError('services', 'invalid-event-state', `no ${['to-offnormal', 'to-fault', 'to-normal'][bit]} transition to acknowledge`);
    }
    const stamp = stamps[bit];
    if (!stamp || !valuesEqual([stamp], [stampValue(req.timeStamp)])) {
      throw new PropertyAccessError('services', 'invalid-time-stamp', 'the time stamp is not the one of that transition');
    }
    const acked = bitsOf(o, P.ackedTransitions);
    if (acked[bit]) return; // already acknowledged
    acked[bit] = true;
    o.setLocal(P.ackedTransitions, [Value.bitString(acked)], { source: 'engine' });
    const nc = notificationClass(this.#db, num(o.stored(P.notificationClass)?.[0]));
    const now = new Date(this.#db.now());
    if (this.#opts.canInitiate()) {
      deliverEventNotification(this.#opts.network(), nc, bit, now, {
        initiatingDeviceId: this.#db.device.id,
        eventObjectId: o.id,
        timeStamp: req.timeStamp,
        notificationClass: num(o.stored(P.notificationClass)?.[0]),
        priority: nc.priorities[bit],
        eventType: o.def.algorithm === 'out-of-range' ? EventType.outOfRange : EventType.changeOfState,
        notifyType: NotifyType.ackNotification,
        toState: req.eventStateAcknowledged,
      }, this.delivery, true);
    }
    this.#opts.events({ type: 'acknowledge', object: o, state: req.eventStateAcknowledged, source, acknowledgmentSource: req.acknowledgmentSource });
  }

  /** Event summaries of GetEventInformation (13.12): objects not normal or with unacknowledged transitions, by object identifier. */
  summaries(): EventSummary[] {
    const out: Array<EventSummary & { key: number }> = [];
    for (const o of this.#db.objects()) {
      if (!o.has(P.ackedTransitions) || !o.has(P.eventState)) continue;
      const acked = bitsOf(o, P.ackedTransitions);
      if (o.eventState === EventState.normal && acked.every(Boolean)) continue;
      const nc = notificationClass(this.#db, num(o.stored(P.notificationClass)?.[0]));
      const stamps = splitElements(o.stored(P.eventTimeStamps) ?? [], { kind: 'constructed', name: 'timestamp' })
        .map((el) => readConstructed<TimeStamp>('timestamp', el));
      while (stamps.length < 3) stamps.push(UNSPECIFIED_TS);
      out.push({
        key: objectKey(o.id),
        objectId: o.id,
        eventState: o.eventState,
        acknowledgedTransitions: acked,
        eventTimeStamps: [stamps[0]!, stamps[1]!, stamps[2]!],
        notifyType: num(o.stored(P.notifyType)?.[0]),
        eventEnable: bitsOf(o, P.eventEnable),
        eventPriorities: nc.priorities,
      });
    }
    return out.sort((a, b) => a.key - b.key).map(({ key: _k, ...s }) => s);
  }
}

const UNSPECIFIED_TS: TimeStamp = {
  dateTime: { date: { year: 255, month: 255, day: 255, weekday: 255 }, time: { hour: 255, minute: 255, second: 255, hundredths: 255 } },
};

function bitsOf(o: BacnetObject, id: number): boolean[] {
  const v = o.stored(id)?.[0];
  const bits = v?.type === 'bit-string' ? v.value.slice() : [];
  while (bits.length < 3) bits.push(id === P.ackedTransitions);
  return bits;
}

/** A BACnetTimeStamp as one tagged element of Event_Time_Stamps. */
export function stampValue(t: TimeStamp): BacnetValue {
  const w = new Writer(16);
  writeTimeStamp(w, t);
  return bytesToValues(w.finish())[0]!;
}
