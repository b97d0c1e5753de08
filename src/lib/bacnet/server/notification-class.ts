/**
 * Event notification routing through Notification Class objects (ASHRAE 135-2020 Clause 12.21:
 * Priority, Ack_Required, Recipient_List of BACnetDestination; Clause 13.8 / 13.9
 * Confirmed / UnconfirmedEventNotification).
 *
 * A destination receives a notification when the transition is among its Transitions, today is
 * among its Valid_Days and the time of day lies within From_Time..To_Time. Recipients named by
 * device instance are resolved through the network (Who-Is); recipients named by address are
 * sent to directly.
 */
import { type Destination, type TimeStamp } from '../codec/constructed';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import type { BacnetTime } from '../codec/primitives';
import type { EventNotificationRequest } from '../services/alarms-events';
import type { BacnetObject } from '../objects/object';
import { readConstructed, splitElements } from '../objects/conform';
import type { ObjectDatabase } from './database';
import { type ServerNetwork, addressValueToPeer } from './network';

/** Transition bit of an event state (BACnetEventTransitionBits: to-offnormal 0, to-fault 1, to-normal 2). */
export function transitionOf(toState: number): 0 | 1 | 2 {
  if (toState === 0) return 2;
  if (toState === 1) return 1;
  return 0;
}

export interface NotificationClassInfo {
  object: BacnetObject | undefined;
  priorities: [number, number, number];
  ackRequired: [boolean, boolean, boolean];
  recipients: Destination[];
}

/** The Notification Class object with Notification_Class = n, and its settings (defaults when absent). */
export function notificationClass(db: ObjectDatabase, n: number): NotificationClassInfo {
  let found: BacnetObject | undefined;
  for (const o of db.objects()) {
    if (o.id.type !== ObjectType.notificationClass) continue;
    const v = o.stored(P.notificationClass)?.[0];
    if ((v?.type === 'unsigned' && Number(v.value) === n) || (v === undefined && o.id.instance === n)) {
      found = o;
      break;
    }
  }
  if (!found) return { object: undefined, priorities: [255, 255, 255], ackRequired: [false, false, false], recipients: [] };
  const pr = found.stored(P.priority) ?? [];
  const priorities = [0, 1, 2].map((i) => {
    const v = pr[i];
    return v?.type === 'unsigned' ? Number(v.value) : 255;
  }) as [number, number, number];
  const ar = found.stored(P.ackRequired)?.[0];
  const bits = ar?.type === 'bit-string' ? ar.value : [];
  const ackRequired = [bits[0] === true, bits[1] === true, bits[2] === true] as [boolean, boolean, boolean];
  let recipients: Destination[] = [];
  try {
    recipients = splitElements(found.stored(P.recipientList) ?? [], { kind: 'constructed', name: 'destination' })
      .map((el) => readConstructed<Destination>('destination', el));
  } catch {
    recipients = [];
  }
  return { object: found, priorities, ackRequired, recipients };
}

const timeValue = (t: BacnetTime, fallback: number): number =>
  t.hour === 255 ? fallback : t.hour * 3600 + (t.minute === 255 ? 0 : t.minute) * 60 + (t.second === 255 ? 0 : t.second);

/** Does destination `d` take transition `bit` at local time `now`? */
export function destinationAccepts(d: Destination, bit: number, now: Date): boolean {
  if (d.transitions[bit] !== true) return false;
  const weekday = (now.getDay() + 6) % 7; // BACnetDaysOfWeek: Monday = 0
  if (d.validDays[weekday] !== true) return false;
  const t = now.getHours() * 3600 + now.getMinutes() * 60 + now.getSeconds();
  return t >= timeValue(d.fromTime, 0) && t <= timeValue(d.toTime, 86399);
}

export interface Delivery {
  sent: number;
  failures: number;
}

/**
 * Send an event notification to the recipients of a notification class that accept the
 * transition. Returns how many were addressed; delivery failures are counted in `delivery`.
 */
export function deliverEventNotification(
  network: ServerNetwork,
  info: NotificationClassInfo,
  bit: number,
  now: Date,
  base: Omit<EventNotificationRequest, 'processId'>,
  delivery: Delivery,
  isAck = false,
): number {
  let n = 0;
  for (const d of info.recipients) {
    if (!isAck && !destinationAccepts(d, bit, now)) continue;
    if (isAck && d.transitions[bit] !== true) continue;
    const req: EventNotificationRequest = { ...base, processId: d.processId };
    n++;
    const send = (peer: Parameters<ServerNetwork['sendUnconfirmed']>[0]): void => {
      if (d.issueConfirmedNotifications && peer !== 'broadcast') {
        network.sendConfirmed(peer, 'confirmed-event-notification', req).then(
          () => void delivery.sent++,
          () => void delivery.failures++,
        );
      } else {
        network.sendUnconfirmed(peer, 'unconfirmed-event-notification', req);
        delivery.sent++;
      }
    };
    if ('address' in d.recipient) {
      const peer = d.recipient.address.mac.length === 0 ? 'broadcast' : addressValueToPeer(d.recipient.address);
      if (peer) send(peer);
      else delivery.failures++;
    } else {
      const instance = d.recipient.device.instance;
      const resolve = network.resolveDevice;
      if (!resolve) {
        delivery.failures++;
        continue;
      }
      resolve.call(network, instance).then((peer) => {
        if (peer) send(peer);
        else delivery.failures++;
      }, () => void delivery.failures++);
    }
  }
  return n;
}

/** A BACnetTimeStamp (date-time) of a JS Date. */
export function timeStampOf(d: Date): TimeStamp {
  const wd = d.getDay();
  return {
    dateTime: {
      date: { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), weekday: wd === 0 ? 7 : wd },
      time: { hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds(), hundredths: Math.floor(d.getMilliseconds() / 10) },
    },
  };
}
