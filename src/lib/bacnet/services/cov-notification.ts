/**
 * ConfirmedCOVNotification and UnconfirmedCOVNotification (ASHRAE 135-2020 Clauses 13.6, 13.7).
 *
 *   COVNotification-Request ::= SEQUENCE {
 *     subscriberProcessIdentifier [0] Unsigned32, initiatingDeviceIdentifier [1] BACnetObjectIdentifier,
 *     monitoredObjectIdentifier [2] BACnetObjectIdentifier, timeRemaining [3] Unsigned,
 *     listOfValues [4] SEQUENCE OF BACnetPropertyValue }
 *
 * Both services carry the same parameters; the confirmed one is answered with a SimpleACK.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { type ObjectId, putObjectId, putUnsigned } from '../codec/primitives';
import { ctxObjectId, ctxUnsigned } from '../codec/fields';
import { expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type PropertyValue, readPropertyValueList, writePropertyValue } from '../codec/constructed';

export interface CovNotificationRequest {
  subscriberProcessId: number;
  initiatingDeviceId: ObjectId;
  monitoredObjectId: ObjectId;
  /** Seconds left on the subscription (0 for indefinite ones). */
  timeRemaining: number;
  values: PropertyValue[];
}

export function encodeCovNotification(w: Writer, x: CovNotificationRequest): void {
  putUnsigned(w, x.subscriberProcessId, 0);
  putObjectId(w, x.initiatingDeviceId, 1);
  putObjectId(w, x.monitoredObjectId, 2);
  putUnsigned(w, x.timeRemaining, 3);
  writeOpening(w, 4);
  for (const v of x.values) writePropertyValue(w, v);
  writeClosing(w, 4);
}

export function decodeCovNotification(r: Reader): CovNotificationRequest {
  const subscriberProcessId = ctxUnsigned(r, 0, 'subscriber process identifier');
  const initiatingDeviceId = ctxObjectId(r, 1, 'initiating device identifier');
  const monitoredObjectId = ctxObjectId(r, 2, 'monitored object identifier');
  const timeRemaining = ctxUnsigned(r, 3, 'time remaining');
  expectOpening(r, 4, 'list of values');
  const values = readPropertyValueList(r, 4);
  expectClosing(r, 4, 'list of values');
  return { subscriberProcessId, initiatingDeviceId, monitoredObjectId, timeRemaining, values };
}
