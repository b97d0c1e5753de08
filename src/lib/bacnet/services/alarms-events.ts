/**
 * Alarm and event services (ASHRAE 135-2020 Clause 13): AcknowledgeAlarm (13.5),
 * Confirmed/UnconfirmedEventNotification (13.8, 13.9) and GetEventInformation (13.12).
 *
 *   AcknowledgeAlarm-Request ::= SEQUENCE {
 *     acknowledgingProcessIdentifier [0] Unsigned32, eventObjectIdentifier [1] BACnetObjectIdentifier,
 *     eventStateAcknowledged [2] BACnetEventState, timeStamp [3] BACnetTimeStamp,
 *     acknowledgmentSource [4] CharacterString, timeOfAcknowledgment [5] BACnetTimeStamp }
 *   EventNotification-Request ::= SEQUENCE {
 *     processIdentifier [0] Unsigned32, initiatingDeviceIdentifier [1], eventObjectIdentifier [2],
 *     timeStamp [3] BACnetTimeStamp, notificationClass [4] Unsigned, priority [5] Unsigned8,
 *     eventType [6] BACnetEventType, messageText [7] CharacterString OPTIONAL,
 *     notifyType [8] BACnetNotifyType, ackRequired [9] BOOLEAN OPTIONAL,
 *     fromState [10] BACnetEventState OPTIONAL, toState [11] BACnetEventState,
 *     eventValues [12] BACnetNotificationParameters OPTIONAL }
 *   GetEventInformation-Request ::= SEQUENCE { lastReceivedObjectIdentifier [0] BACnetObjectIdentifier OPTIONAL }
 *   GetEventInformation-ACK ::= SEQUENCE {
 *     listOfEventSummaries [0] SEQUENCE OF SEQUENCE {
 *       objectIdentifier [0], eventState [1], acknowledgedTransitions [2] BACnetEventTransitionBits,
 *       eventTimeStamps [3] SEQUENCE SIZE (3) OF BACnetTimeStamp, notifyType [4],
 *       eventEnable [5] BACnetEventTransitionBits, eventPriorities [6] SEQUENCE SIZE (3) OF Unsigned },
 *     moreEvents [1] BOOLEAN }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import {
  type ObjectId, putBitString, putBoolean, putCharacterString, putEnumerated, putObjectId, putUnsigned,
} from '../codec/primitives';
import {
  appUnsigned, ctxBitString, ctxBoolean, ctxCharacterString, ctxEnumerated, ctxObjectId, ctxUnsigned, optional,
} from '../codec/fields';
import { atClosingTag, atOpeningTag, expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type TimeStamp, readTimeStamp, readWrappedTimeStamp, writeTimeStamp, writeWrappedTimeStamp } from '../codec/constructed';
import { type NotificationParameters, readNotificationParameters, writeNotificationParameters } from '../codec/event-parameters';

export interface AcknowledgeAlarmRequest {
  acknowledgingProcessId: number;
  eventObjectId: ObjectId;
  eventStateAcknowledged: number;
  timeStamp: TimeStamp;
  acknowledgmentSource: string;
  timeOfAcknowledgment: TimeStamp;
}

export function encodeAcknowledgeAlarm(w: Writer, x: AcknowledgeAlarmRequest): void {
  putUnsigned(w, x.acknowledgingProcessId, 0);
  putObjectId(w, x.eventObjectId, 1);
  putEnumerated(w, x.eventStateAcknowledged, 2);
  writeWrappedTimeStamp(w, 3, x.timeStamp);
  putCharacterString(w, x.acknowledgmentSource, 4);
  writeWrappedTimeStamp(w, 5, x.timeOfAcknowledgment);
}

export function decodeAcknowledgeAlarm(r: Reader): AcknowledgeAlarmRequest {
  return {
    acknowledgingProcessId: ctxUnsigned(r, 0, 'acknowledging process identifier'),
    eventObjectId: ctxObjectId(r, 1, 'event object identifier'),
    eventStateAcknowledged: ctxEnumerated(r, 2, 'event state acknowledged'),
    timeStamp: readWrappedTimeStamp(r, 3, 'time stamp'),
    acknowledgmentSource: ctxCharacterString(r, 4, 'acknowledgment source'),
    timeOfAcknowledgment: readWrappedTimeStamp(r, 5, 'time of acknowledgment'),
  };
}

export interface EventNotificationRequest {
  processId: number;
  initiatingDeviceId: ObjectId;
  eventObjectId: ObjectId;
  timeStamp: TimeStamp;
  notificationClass: number;
  priority: number;
  eventType: number;
  messageText?: string;
  notifyType: number;
  ackRequired?: boolean;
  fromState?: number;
  toState: number;
  eventValues?: NotificationParameters;
}

export function encodeEventNotification(w: Writer, x: EventNotificationRequest): void {
  if (!Number.isInteger(x.priority) || x.priority < 0 || x.priority > 255) throw new LocalProtocolError(`event priority ${x.priority} outside 0..255`);
  putUnsigned(w, x.processId, 0);
  putObjectId(w, x.initiatingDeviceId, 1);
  putObjectId(w, x.eventObjectId, 2);
  writeWrappedTimeStamp(w, 3, x.timeStamp);
  putUnsigned(w, x.notificationClass, 4);
  putUnsigned(w, x.priority, 5);
  putEnumerated(w, x.eventType, 6);
  if (x.messageText !== undefined) putCharacterString(w, x.messageText, 7);
  putEnumerated(w, x.notifyType, 8);
  if (x.ackRequired !== undefined) putBoolean(w, x.ackRequired, 9);
  if (x.fromState !== undefined) putEnumerated(w, x.fromState, 10);
  putEnumerated(w, x.toState, 11);
  if (x.eventValues) {
    writeOpening(w, 12);
    writeNotificationParameters(w, x.eventValues);
    writeClosing(w, 12);
  }
}

export function decodeEventNotification(r: Reader): EventNotificationRequest {
  const out: EventNotificationRequest = {
    processId: ctxUnsigned(r, 0, 'process identifier'),
    initiatingDeviceId: ctxObjectId(r, 1, 'initiating device identifier'),
    eventObjectId: ctxObjectId(r, 2, 'event object identifier'),
    timeStamp: readWrappedTimeStamp(r, 3, 'time stamp'),
    notificationClass: ctxUnsigned(r, 4, 'notification class'),
    priority: ctxUnsigned(r, 5, 'priority'),
    eventType: ctxEnumerated(r, 6, 'event type'),
    notifyType: 0,
    toState: 0,
  };
  const text = optional(r, 7, ctxCharacterString, 'message text');
  if (text !== undefined) out.messageText = text;
  out.notifyType = ctxEnumerated(r, 8, 'notify type');
  const ack = optional(r, 9, ctxBoolean, 'ack required');
  if (ack !== undefined) out.ackRequired = ack;
  const from = optional(r, 10, ctxEnumerated, 'from state');
  if (from !== undefined) out.fromState = from;
  out.toState = ctxEnumerated(r, 11, 'to state');
  if (atOpeningTag(r, 12)) {
    expectOpening(r, 12, 'event values');
    out.eventValues = readNotificationParameters(r);
    expectClosing(r, 12, 'event values');
  }
  return out;
}

export interface GetEventInformationRequest {
  lastReceivedObjectId?: ObjectId;
}

export interface EventSummary {
  objectId: ObjectId;
  eventState: number;
  acknowledgedTransitions: boolean[];
  eventTimeStamps: [TimeStamp, TimeStamp, TimeStamp];
  notifyType: number;
  eventEnable: boolean[];
  eventPriorities: [number, number, number];
}

export interface GetEventInformationAck {
  summaries: EventSummary[];
  moreEvents: boolean;
}

export function encodeGetEventInformation(w: Writer, x: GetEventInformationRequest): void {
  if (x.lastReceivedObjectId) putObjectId(w, x.lastReceivedObjectId, 0);
}

export function decodeGetEventInformation(r: Reader): GetEventInformationRequest {
  const id = optional(r, 0, ctxObjectId, 'last received object identifier');
  return id ? { lastReceivedObjectId: id } : {};
}

export function encodeGetEventInformationAck(w: Writer, x: GetEventInformationAck): void {
  writeOpening(w, 0);
  for (const s of x.summaries) {
    putObjectId(w, s.objectId, 0);
    putEnumerated(w, s.eventState, 1);
    putBitString(w, s.acknowledgedTransitions, 2);
    writeOpening(w, 3);
    for (const t of s.eventTimeStamps) writeTimeStamp(w, t);
    writeClosing(w, 3);
    putEnumerated(w, s.notifyType, 4);
    putBitString(w, s.eventEnable, 5);
    writeOpening(w, 6);
    for (const p of s.eventPriorities) putUnsigned(w, p);
    writeClosing(w, 6);
  }
  writeClosing(w, 0);
  putBoolean(w, x.moreEvents, 1);
}

export function decodeGetEventInformationAck(r: Reader): GetEventInformationAck {
  expectOpening(r, 0, 'list of event summaries');
  const summaries: EventSummary[] = [];
  while (!atClosingTag(r, 0)) {
    const objectId = ctxObjectId(r, 0, 'object identifier');
    const eventState = ctxEnumerated(r, 1, 'event state');
    const acknowledgedTransitions = ctxBitString(r, 2, 'acknowledged transitions');
    expectOpening(r, 3, 'event time stamps');
    const ts = [readTimeStamp(r), readTimeStamp(r), readTimeStamp(r)] as [TimeStamp, TimeStamp, TimeStamp];
    expectClosing(r, 3, 'event time stamps');
    const notifyType = ctxEnumerated(r, 4, 'notify type');
    const eventEnable = ctxBitString(r, 5, 'event enable');
    expectOpening(r, 6, 'event priorities');
    const pr = [appUnsigned(r, 'priority'), appUnsigned(r, 'priority'), appUnsigned(r, 'priority')] as [number, number, number];
    expectClosing(r, 6, 'event priorities');
    summaries.push({ objectId, eventState, acknowledgedTransitions, eventTimeStamps: ts, notifyType, eventEnable, eventPriorities: pr });
  }
  expectClosing(r, 0, 'list of event summaries');
  return { summaries, moreEvents: ctxBoolean(r, 1, 'more events') };
}
