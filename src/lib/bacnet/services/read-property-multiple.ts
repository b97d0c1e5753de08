/**
 * ReadPropertyMultiple (ASHRAE 135-2020 Clause 15.7), with the special property identifiers
 * ALL (8), REQUIRED (105) and OPTIONAL (80) and per-property access errors.
 *
 *   ReadPropertyMultiple-Request ::= SEQUENCE { listOfReadAccessSpecs SEQUENCE OF ReadAccessSpecification }
 *   ReadAccessSpecification ::= SEQUENCE {
 *     objectIdentifier [0] BACnetObjectIdentifier, listOfPropertyReferences [1] SEQUENCE OF BACnetPropertyReference }
 *   ReadPropertyMultiple-ACK ::= SEQUENCE { listOfReadAccessResults SEQUENCE OF ReadAccessResult }
 *   ReadAccessResult ::= SEQUENCE {
 *     objectIdentifier [0] BACnetObjectIdentifier,
 *     listOfResults [1] SEQUENCE OF SEQUENCE {
 *       propertyIdentifier [2], propertyArrayIndex [3] Unsigned OPTIONAL,
 *       readResult CHOICE { propertyValue [4] ABSTRACT-SYNTAX.&Type, propertyAccessError [5] Error } } OPTIONAL }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { type ObjectId, putEnumerated, putObjectId, putUnsigned } from '../codec/primitives';
import { ctxEnumerated, ctxObjectId, ctxUnsigned, optional } from '../codec/fields';
import { atClosingTag, atOpeningTag, expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type PropertyReference, type ErrorPayload, readError, readPropertyReference, writeError, writePropertyReference } from '../codec/constructed';
import { type BacnetValue, decodeValues, encodeValues } from '../codec/values';

/** Special property identifiers of ReadPropertyMultiple (15.7.3.1.2). */
export const PROPERTY_ALL = 8;
export const PROPERTY_REQUIRED = 105;
export const PROPERTY_OPTIONAL = 80;

export interface ReadAccessSpec {
  objectId: ObjectId;
  properties: PropertyReference[];
}

export interface ReadPropertyMultipleRequest {
  specs: ReadAccessSpec[];
}

/** One property's outcome: a value, or the error the device gave for it. */
export interface PropertyResult {
  propertyId: number;
  arrayIndex?: number;
  value?: BacnetValue[];
  error?: ErrorPayload;
}

export interface ReadAccessResult {
  objectId: ObjectId;
  results: PropertyResult[];
}

export interface ReadPropertyMultipleAck {
  results: ReadAccessResult[];
}

export function encodeReadPropertyMultiple(w: Writer, x: ReadPropertyMultipleRequest): void {
  if (!x.specs.length) throw new LocalProtocolError('ReadPropertyMultiple needs at least one object');
  for (const s of x.specs) {
    if (!s.properties.length) throw new LocalProtocolError('ReadPropertyMultiple needs at least one property per object');
    putObjectId(w, s.objectId, 0);
    writeOpening(w, 1);
    for (const p of s.properties) writePropertyReference(w, p);
    writeClosing(w, 1);
  }
}

export function decodeReadPropertyMultiple(r: Reader): ReadPropertyMultipleRequest {
  const specs: ReadAccessSpec[] = [];
  while (!r.done) {
    const objectId = ctxObjectId(r, 0, 'object identifier');
    expectOpening(r, 1, 'property references');
    const properties: PropertyReference[] = [];
    while (!atClosingTag(r, 1)) properties.push(readPropertyReference(r));
    expectClosing(r, 1, 'property references');
    if (!properties.length) r.fail('property references', 'empty list');
    specs.push({ objectId, properties });
  }
  if (!specs.length) r.fail('read access specifications', 'empty request');
  return { specs };
}

export function encodeReadPropertyMultipleAck(w: Writer, x: ReadPropertyMultipleAck): void {
  for (const res of x.results) {
    putObjectId(w, res.objectId, 0);
    writeOpening(w, 1);
    for (const p of res.results) encodePropertyResult(w, p);
    writeClosing(w, 1);
  }
}

/** Encode one element of listOfResults (also used by servers sizing a response). */
export function encodePropertyResult(w: Writer, p: PropertyResult): void {
  putEnumerated(w, p.propertyId, 2);
  if (p.arrayIndex !== undefined) putUnsigned(w, p.arrayIndex, 3);
  if (p.error) {
    writeOpening(w, 5);
    writeError(w, p.error);
    writeClosing(w, 5);
  } else {
    writeOpening(w, 4);
    encodeValues(w, p.value ?? []);
    writeClosing(w, 4);
  }
}

export function decodeReadPropertyMultipleAck(r: Reader): ReadPropertyMultipleAck {
  const results: ReadAccessResult[] = [];
  while (!r.done) {
    const objectId = ctxObjectId(r, 0, 'object identifier');
    const list: PropertyResult[] = [];
    if (atOpeningTag(r, 1)) {
      expectOpening(r, 1, 'list of results');
      while (!atClosingTag(r, 1)) {
        const propertyId = ctxEnumerated(r, 2, 'property identifier');
        const arrayIndex = optional(r, 3, ctxUnsigned, 'property array index');
        const item: PropertyResult = { propertyId };
        if (arrayIndex !== undefined) item.arrayIndex = arrayIndex;
        if (atOpeningTag(r, 4)) {
          expectOpening(r, 4, 'property value');
          item.value = decodeValues(r, 4, 1);
          expectClosing(r, 4, 'property value');
        } else {
          expectOpening(r, 5, 'property access error');
          item.error = readError(r);
          expectClosing(r, 5, 'property access error');
        }
        list.push(item);
      }
      expectClosing(r, 1, 'list of results');
    }
    results.push({ objectId, results: list });
  }
  return { results };
}
