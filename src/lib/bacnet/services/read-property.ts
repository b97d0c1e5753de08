/**
 * ReadProperty (ASHRAE 135-2020 Clause 15.5).
 *
 *   ReadProperty-Request ::= SEQUENCE {
 *     objectIdentifier [0] BACnetObjectIdentifier, propertyIdentifier [1] BACnetPropertyIdentifier,
 *     propertyArrayIndex [2] Unsigned OPTIONAL }
 *   ReadProperty-ACK ::= SEQUENCE {
 *     objectIdentifier [0], propertyIdentifier [1], propertyArrayIndex [2] OPTIONAL,
 *     propertyValue [3] ABSTRACT-SYNTAX.&Type }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { type ObjectId, putEnumerated, putObjectId, putUnsigned } from '../codec/primitives';
import { ctxEnumerated, ctxObjectId, ctxUnsigned, optional } from '../codec/fields';
import { expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type BacnetValue, decodeValues, encodeValues } from '../codec/values';

export interface ReadPropertyRequest {
  objectId: ObjectId;
  propertyId: number;
  arrayIndex?: number;
}

export interface ReadPropertyAck extends ReadPropertyRequest {
  value: BacnetValue[];
}

export function encodeReadProperty(w: Writer, x: ReadPropertyRequest): void {
  putObjectId(w, x.objectId, 0);
  putEnumerated(w, x.propertyId, 1);
  if (x.arrayIndex !== undefined) putUnsigned(w, x.arrayIndex, 2);
}

export function decodeReadProperty(r: Reader): ReadPropertyRequest {
  const objectId = ctxObjectId(r, 0, 'object identifier');
  const propertyId = ctxEnumerated(r, 1, 'property identifier');
  const arrayIndex = optional(r, 2, ctxUnsigned, 'property array index');
  return arrayIndex === undefined ? { objectId, propertyId } : { objectId, propertyId, arrayIndex };
}

export function encodeReadPropertyAck(w: Writer, x: ReadPropertyAck): void {
  encodeReadProperty(w, x);
  writeOpening(w, 3);
  encodeValues(w, x.value);
  writeClosing(w, 3);
}

export function decodeReadPropertyAck(r: Reader): ReadPropertyAck {
  const head = decodeReadProperty(r);
  expectOpening(r, 3, 'property value');
  const value = decodeValues(r, 3, 1);
  expectClosing(r, 3, 'property value');
  return { ...head, value };
}
