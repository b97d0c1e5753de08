/**
 * CreateObject (ASHRAE 135-2020 Clause 15.3) and DeleteObject (Clause 15.4).
 *
 *   CreateObject-Request ::= SEQUENCE {
 *     objectSpecifier [0] CHOICE { objectType [0] BACnetObjectType, objectIdentifier [1] BACnetObjectIdentifier },
 *     listOfInitialValues [1] SEQUENCE OF BACnetPropertyValue OPTIONAL }
 *   CreateObject-ACK ::= BACnetObjectIdentifier
 *   DeleteObject-Request ::= SEQUENCE { objectIdentifier BACnetObjectIdentifier }   -- SimpleACK
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { type ObjectId, putEnumerated, putObjectId } from '../codec/primitives';
import { appObjectId, ctxEnumerated, ctxObjectId } from '../codec/fields';
import { atContextTag, atOpeningTag, expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type PropertyValue, readPropertyValueList, writePropertyValue } from '../codec/constructed';

export type CreateObjectRequest = ({ objectType: number } | { objectId: ObjectId }) & { initialValues?: PropertyValue[] };

export interface CreateObjectAck {
  objectId: ObjectId;
}

export interface DeleteObjectRequest {
  objectId: ObjectId;
}

export function encodeCreateObject(w: Writer, x: CreateObjectRequest): void {
  writeOpening(w, 0);
  if ('objectId' in x) putObjectId(w, x.objectId, 1);
  else putEnumerated(w, x.objectType, 0);
  writeClosing(w, 0);
  if (x.initialValues && x.initialValues.length) {
    writeOpening(w, 1);
    for (const v of x.initialValues) writePropertyValue(w, v);
    writeClosing(w, 1);
  }
}

export function decodeCreateObject(r: Reader): CreateObjectRequest {
  expectOpening(r, 0, 'object specifier');
  const spec: { objectType: number } | { objectId: ObjectId } = atContextTag(r, 0)
    ? { objectType: ctxEnumerated(r, 0, 'object type') }
    : { objectId: ctxObjectId(r, 1, 'object identifier') };
  expectClosing(r, 0, 'object specifier');
  if (!atOpeningTag(r, 1)) return spec;
  expectOpening(r, 1, 'initial values');
  const initialValues = readPropertyValueList(r, 1);
  expectClosing(r, 1, 'initial values');
  return { ...spec, initialValues };
}

export function encodeCreateObjectAck(w: Writer, x: CreateObjectAck): void {
  putObjectId(w, x.objectId);
}

export function decodeCreateObjectAck(r: Reader): CreateObjectAck {
  return { objectId: appObjectId(r, 'object identifier') };
}

export function encodeDeleteObject(w: Writer, x: DeleteObjectRequest): void {
  putObjectId(w, x.objectId);
}

export function decodeDeleteObject(r: Reader): DeleteObjectRequest {
  return { objectId: appObjectId(r, 'object identifier') };
}
