/**
 * SubscribeCOV (ASHRAE 135-2020 Clause 13.14) and SubscribeCOVProperty (Clause 13.15).
 *
 *   SubscribeCOV-Request ::= SEQUENCE {
 *     subscriberProcessIdentifier [0] Unsigned32, monitoredObjectIdentifier [1] BACnetObjectIdentifier,
 *     issueConfirmedNotifications [2] BOOLEAN OPTIONAL, lifetime [3] Unsigned OPTIONAL }
 *   SubscribeCOVProperty-Request ::= SEQUENCE {
 *     ... the four fields above ..., monitoredPropertyIdentifier [4] BACnetPropertyReference,
 *     covIncrement [5] REAL OPTIONAL }
 *
 * With both optional fields absent a SubscribeCOV is a cancellation (13.14.1.1.4); lifetime 0
 * is indefinite. Responses are SimpleACKs.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { type ObjectId, putBoolean, putObjectId, putReal, putUnsigned } from '../codec/primitives';
import { ctxBoolean, ctxObjectId, ctxReal, ctxUnsigned, optional } from '../codec/fields';
import { expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type PropertyReference, readPropertyReference, writePropertyReference } from '../codec/constructed';

export interface SubscribeCovRequest {
  subscriberProcessId: number;
  monitoredObjectId: ObjectId;
  /** Omit both this and lifetime to cancel. */
  issueConfirmedNotifications?: boolean;
  /** Seconds; 0 = indefinite (avoid: BTL guideline 7.6). */
  lifetime?: number;
}

export interface SubscribeCovPropertyRequest extends SubscribeCovRequest {
  monitoredProperty: PropertyReference;
  covIncrement?: number;
}

/** True when the request cancels a subscription (13.14.1.1.4). */
export function isCancellation(x: SubscribeCovRequest): boolean {
  return x.issueConfirmedNotifications === undefined && x.lifetime === undefined;
}

function encodeHead(w: Writer, x: SubscribeCovRequest): void {
  if (!Number.isInteger(x.subscriberProcessId) || x.subscriberProcessId < 0 || x.subscriberProcessId > 0xffffffff) {
    throw new LocalProtocolError(`subscriber process identifier ${x.subscriberProcessId} outside 0..2^32-1`);
  }
  if ((x.issueConfirmedNotifications === undefined) !== (x.lifetime === undefined)) {
    throw new LocalProtocolError('a subscription needs both issueConfirmedNotifications and lifetime (omit both to cancel)');
  }
  putUnsigned(w, x.subscriberProcessId, 0);
  putObjectId(w, x.monitoredObjectId, 1);
  if (x.issueConfirmedNotifications !== undefined) putBoolean(w, x.issueConfirmedNotifications, 2);
  if (x.lifetime !== undefined) putUnsigned(w, x.lifetime, 3);
}

function decodeHead(r: Reader): SubscribeCovRequest {
  const out: SubscribeCovRequest = {
    subscriberProcessId: ctxUnsigned(r, 0, 'subscriber process identifier'),
    monitoredObjectId: ctxObjectId(r, 1, 'monitored object identifier'),
  };
  const confirmed = optional(r, 2, ctxBoolean, 'issue confirmed notifications');
  if (confirmed !== undefined) out.issueConfirmedNotifications = confirmed;
  const lifetime = optional(r, 3, ctxUnsigned, 'lifetime');
  if (lifetime !== undefined) out.lifetime = lifetime;
  return out;
}

export function encodeSubscribeCov(w: Writer, x: SubscribeCovRequest): void {
  encodeHead(w, x);
}

export function decodeSubscribeCov(r: Reader): SubscribeCovRequest {
  return decodeHead(r);
}

export function encodeSubscribeCovProperty(w: Writer, x: SubscribeCovPropertyRequest): void {
  encodeHead(w, x);
  writeOpening(w, 4);
  writePropertyReference(w, x.monitoredProperty);
  writeClosing(w, 4);
  if (x.covIncrement !== undefined) putReal(w, x.covIncrement, 5);
}

export function decodeSubscribeCovProperty(r: Reader): SubscribeCovPropertyRequest {
  const head = decodeHead(r);
  expectOpening(r, 4, 'monitored property');
  const monitoredProperty = readPropertyReference(r);
  expectClosing(r, 4, 'monitored property');
  const out: SubscribeCovPropertyRequest = { ...head, monitoredProperty };
  const inc = optional(r, 5, ctxReal, 'cov increment');
  if (inc !== undefined) out.covIncrement = inc;
  return out;
}
