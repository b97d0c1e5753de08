/**
 * The service table (ASHRAE 135-2020 Clauses 13..17 via the choices of Clause 21): for every
 * confirmed and unconfirmed service Fieldlink implements, its choice number and the request and
 * ACK codecs. The endpoint uses it to encode requests and decode ACKs by service name, and to
 * decode requests for registered handlers. A service without `decodeAck` is answered with a
 * SimpleACK.
 */
import { Reader } from '../../wire/reader';
import { Writer } from '../../wire/writer';
import { DecodeError, LocalProtocolError } from '../../wire/errors';
import { ConfirmedServiceChoice, UnconfirmedServiceChoice } from '../enums/services';
import { RejectReason } from '../enums/errors';
import * as wi from './who-is';
import * as wh from './who-has';
import * as rp from './read-property';
import * as rpm from './read-property-multiple';
import * as wp from './write-property';
import * as wpm from './write-property-multiple';
import * as scov from './subscribe-cov';
import * as cov from './cov-notification';
import * as rr from './read-range';
import * as ts from './time-synchronization';
import * as dm from './device-management';
import * as af from './atomic-file';
import * as om from './object-management';
import * as ae from './alarms-events';

export interface ServiceCodec<Req, Ack> {
  choice: number;
  name: string;
  encodeRequest(w: Writer, x: Req): void;
  decodeRequest(r: Reader): Req;
  /** Absent: the service is answered with a SimpleACK. */
  encodeAck?: (w: Writer, x: Ack) => void;
  decodeAck?: (r: Reader) => Ack;
}

function confirmed<Req, Ack = void>(
  name: string,
  encodeRequest: (w: Writer, x: Req) => void,
  decodeRequest: (r: Reader) => Req,
  encodeAck?: (w: Writer, x: Ack) => void,
  decodeAck?: (r: Reader) => Ack,
): ServiceCodec<Req, Ack> {
  const s: ServiceCodec<Req, Ack> = { choice: ConfirmedServiceChoice.require(name), name, encodeRequest, decodeRequest };
  if (encodeAck && decodeAck) {
    s.encodeAck = encodeAck;
    s.decodeAck = decodeAck;
  }
  return s;
}

function unconfirmed<Req>(name: string, encodeRequest: (w: Writer, x: Req) => void, decodeRequest: (r: Reader) => Req): ServiceCodec<Req, never> {
  return { choice: UnconfirmedServiceChoice.require(name), name, encodeRequest, decodeRequest };
}

export const CONFIRMED_SERVICES = {
  'acknowledge-alarm': confirmed('acknowledge-alarm', ae.encodeAcknowledgeAlarm, ae.decodeAcknowledgeAlarm),
  'confirmed-cov-notification': confirmed('confirmed-cov-notification', cov.encodeCovNotification, cov.decodeCovNotification),
  'confirmed-event-notification': confirmed('confirmed-event-notification', ae.encodeEventNotification, ae.decodeEventNotification),
  'subscribe-cov': confirmed('subscribe-cov', scov.encodeSubscribeCov, scov.decodeSubscribeCov),
  'atomic-read-file': confirmed('atomic-read-file', af.encodeAtomicReadFile, af.decodeAtomicReadFile, af.encodeAtomicReadFileAck, af.decodeAtomicReadFileAck),
  'atomic-write-file': confirmed('atomic-write-file', af.encodeAtomicWriteFile, af.decodeAtomicWriteFile, af.encodeAtomicWriteFileAck, af.decodeAtomicWriteFileAck),
  'create-object': confirmed('create-object', om.encodeCreateObject, om.decodeCreateObject, om.encodeCreateObjectAck, om.decodeCreateObjectAck),
  'delete-object': confirmed('delete-object', om.encodeDeleteObject, om.decodeDeleteObject),
  'read-property': confirmed('read-property', rp.encodeReadProperty, rp.decodeReadProperty, rp.encodeReadPropertyAck, rp.decodeReadPropertyAck),
  'read-property-multiple': confirmed('read-property-multiple', rpm.encodeReadPropertyMultiple, rpm.decodeReadPropertyMultiple, rpm.encodeReadPropertyMultipleAck, rpm.decodeReadPropertyMultipleAck),
  'write-property': confirmed('write-property', wp.encodeWriteProperty, wp.decodeWriteProperty),
  'write-property-multiple': confirmed('write-property-multiple', wpm.encodeWritePropertyMultiple, wpm.decodeWritePropertyMultiple),
  'device-communication-control': confirmed('device-communication-control', dm.encodeDeviceCommunicationControl, dm.decodeDeviceCommunicationControl),
  'reinitialize-device': confirmed('reinitialize-device', dm.encodeReinitializeDevice, dm.decodeReinitializeDevice),
  'read-range': confirmed('read-range', rr.encodeReadRange, rr.decodeReadRange, rr.encodeReadRangeAck, rr.decodeReadRangeAck),
  'subscribe-cov-property': confirmed('subscribe-cov-property', scov.encodeSubscribeCovProperty, scov.decodeSubscribeCovProperty),
  'get-event-information': confirmed('get-event-information', ae.encodeGetEventInformation, ae.decodeGetEventInformation, ae.encodeGetEventInformationAck, ae.decodeGetEventInformationAck),
};

export const UNCONFIRMED_SERVICES = {
  'i-am': unconfirmed('i-am', wi.encodeIAm, wi.decodeIAm),
  'i-have': unconfirmed('i-have', wh.encodeIHave, wh.decodeIHave),
  'unconfirmed-cov-notification': unconfirmed('unconfirmed-cov-notification', cov.encodeCovNotification, cov.decodeCovNotification),
  'unconfirmed-event-notification': unconfirmed('unconfirmed-event-notification', ae.encodeEventNotification, ae.decodeEventNotification),
  'time-synchronization': unconfirmed('time-synchronization', ts.encodeTimeSynchronization, ts.decodeTimeSynchronization),
  'who-has': unconfirmed('who-has', wh.encodeWhoHas, wh.decodeWhoHas),
  'who-is': unconfirmed('who-is', wi.encodeWhoIs, wi.decodeWhoIs),
  'utc-time-synchronization': unconfirmed('utc-time-synchronization', ts.encodeTimeSynchronization, ts.decodeTimeSynchronization),
};

export type ConfirmedServiceName = keyof typeof CONFIRMED_SERVICES;
export type UnconfirmedServiceName = keyof typeof UNCONFIRMED_SERVICES;

/** Request record of a confirmed service ('read-property' -> ReadPropertyRequest). */
export type ConfirmedRequestOf<N extends ConfirmedServiceName> =
  (typeof CONFIRMED_SERVICES)[N] extends ServiceCodec<infer R, infer _A> ? R : never;
/** ACK record of a confirmed service (void for services answered with a SimpleACK). */
export type ConfirmedAckOf<N extends ConfirmedServiceName> =
  (typeof CONFIRMED_SERVICES)[N] extends ServiceCodec<infer _R, infer A> ? A : never;
/** Request record of an unconfirmed service. */
export type UnconfirmedRequestOf<N extends UnconfirmedServiceName> =
  (typeof UNCONFIRMED_SERVICES)[N] extends ServiceCodec<infer R, never> ? R : never;

type AnyCodec = ServiceCodec<unknown, unknown>;
const confirmedByChoice: Array<AnyCodec | undefined> = [];
for (const s of Object.values(CONFIRMED_SERVICES) as unknown as AnyCodec[]) confirmedByChoice[s.choice] = s;
const unconfirmedByChoice: Array<AnyCodec | undefined> = [];
for (const s of Object.values(UNCONFIRMED_SERVICES) as unknown as AnyCodec[]) unconfirmedByChoice[s.choice] = s;

/** Codec of a confirmed service choice, or undefined when Fieldlink has none. */
export function confirmedCodec(choice: number): AnyCodec | undefined {
  return confirmedByChoice[choice];
}
export function unconfirmedCodec(choice: number): AnyCodec | undefined {
  return unconfirmedByChoice[choice];
}

/** Resolve a confirmed service name in any accepted spelling ('readProperty', 'rp', 12). */
export function confirmedServiceName(x: string | number): ConfirmedServiceName {
  const choice = ConfirmedServiceChoice.require(x, 'confirmed service');
  const c = confirmedByChoice[choice];
  if (!c) throw new LocalProtocolError(`confirmed service ${ConfirmedServiceChoice.label(choice)} has no codec`);
  return c.name as ConfirmedServiceName;
}
export function unconfirmedServiceName(x: string | number): UnconfirmedServiceName {
  const choice = UnconfirmedServiceChoice.require(x, 'unconfirmed service');
  const c = unconfirmedByChoice[choice];
  if (!c) throw new LocalProtocolError(`unconfirmed service ${UnconfirmedServiceChoice.label(choice)} has no codec`);
  return c.name as UnconfirmedServiceName;
}

/** Service data of a request (the octets after the service choice). */
export function encodeRequestData<Req>(codec: ServiceCodec<Req, unknown>, x: Req): Uint8Array {
  const w = new Writer(64);
  codec.encodeRequest(w, x);
  return w.finish();
}

/** Decode service data completely (trailing octets are a decode error). */
export function decodeWhole<T>(data: Uint8Array, decode: (r: Reader) => T, what: string): T {
  const r = new Reader(data);
  const v = decode(r);
  r.expectEnd(what);
  return v;
}

/**
 * The reject reason for request service data of `dataLength` octets that failed to decode with
 * `e` (18.8, 20.1.8): trailing octets are too-many-arguments; running out of data is
 * missing-required-parameter; a value out of bounds is parameter-out-of-range; anything else
 * invalid-tag.
 */
export function rejectReasonFor(e: DecodeError, dataLength: number): number {
  // the text after "<field> at offset <n>: " (a field name such as 'read range' says nothing)
  const head = `${e.field} at offset ${e.offset}: `;
  const m = e.message.startsWith(head) ? e.message.slice(head.length) : e.message;
  if (/trailing/.test(m)) return RejectReason.tooManyArguments;
  if (e.offset >= dataLength && /needs \d+ byte|missing|\bexpected\b/.test(m)) return RejectReason.missingRequiredParameter;
  if (/outside|beyond|exceeds|range/.test(m)) return RejectReason.parameterOutOfRange;
  return RejectReason.invalidTag;
}

/**
 * Decode a request's service data completely, or say with which reason to reject it when it
 * does not decode (`rejectReasonFor`). Errors other than DecodeError propagate.
 */
export function decodeRequestOrReject<T>(data: Uint8Array, decode: (r: Reader) => T, what: string): { value: T } | { reject: number } {
  try {
    return { value: decodeWhole(data, decode, what) };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { reject: rejectReasonFor(e, data.length) };
  }
}
