/**
 * WritePropertyMultiple (ASHRAE 135-2020 Clause 15.10).
 *
 *   WritePropertyMultiple-Request ::= SEQUENCE { listOfwriteAccessSpecifications SEQUENCE OF WriteAccessSpecification }
 *   WriteAccessSpecification ::= SEQUENCE {
 *     objectIdentifier [0] BACnetObjectIdentifier, listOfProperties [1] SEQUENCE OF BACnetPropertyValue }
 *   WritePropertyMultiple-Error ::= SEQUENCE {
 *     errorType [0] Error, firstFailedWriteAttempt [1] BACnetObjectPropertyReference }
 *
 * The response is a SimpleACK; the error payload is decoded in services/errors.ts.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { type ObjectId, putObjectId } from '../codec/primitives';
import { ctxObjectId } from '../codec/fields';
import { expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type PropertyValue, readPropertyValueList, writePropertyValue } from '../codec/constructed';
import { checkPriority } from './write-property';

export interface WriteAccessSpec {
  objectId: ObjectId;
  values: PropertyValue[];
}

export interface WritePropertyMultipleRequest {
  specs: WriteAccessSpec[];
}

export function encodeWritePropertyMultiple(w: Writer, x: WritePropertyMultipleRequest): void {
  if (!x.specs.length) throw new LocalProtocolError('WritePropertyMultiple needs at least one object');
  for (const s of x.specs) {
    if (!s.values.length) throw new LocalProtocolError('WritePropertyMultiple needs at least one property per object');
    putObjectId(w, s.objectId, 0);
    writeOpening(w, 1);
    for (const v of s.values) {
      checkPriority(v.priority);
      writePropertyValue(w, v);
    }
    writeClosing(w, 1);
  }
}

export function decodeWritePropertyMultiple(r: Reader): WritePropertyMultipleRequest {
  const specs: WriteAccessSpec[] = [];
  while (!r.done) {
    const objectId = ctxObjectId(r, 0, 'object identifier');
    expectOpening(r, 1, 'list of properties');
    const values = readPropertyValueList(r, 1);
    expectClosing(r, 1, 'list of properties');
    if (!values.length) r.fail('list of properties', 'empty list');
    specs.push({ objectId, values });
  }
  if (!specs.length) r.fail('write access specifications', 'empty request');
  return { specs };
}
