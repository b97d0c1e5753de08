/**
 * WriteProperty (ASHRAE 135-2020 Clause 15.9; priority and relinquish per Clause 19.2).
 *
 *   WriteProperty-Request ::= SEQUENCE {
 *     objectIdentifier [0] BACnetObjectIdentifier, propertyIdentifier [1] BACnetPropertyIdentifier,
 *     propertyArrayIndex [2] Unsigned OPTIONAL, propertyValue [3] ABSTRACT-SYNTAX.&Type,
 *     priority [4] Unsigned (1..16) OPTIONAL }
 *
 * The response is a SimpleACK. A relinquish is the NULL value with a priority (19.2.2).
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { putUnsigned } from '../codec/primitives';
import { ctxUnsigned, optional } from '../codec/fields';
import { expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type BacnetValue, decodeValues, encodeValues } from '../codec/values';
import { type ReadPropertyRequest, decodeReadProperty, encodeReadProperty } from './read-property';

export interface WritePropertyRequest extends ReadPropertyRequest {
  value: BacnetValue[];
  /** 1 (highest) .. 16 (lowest). */
  priority?: number;
}

export function checkPriority(p: number | undefined): void {
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 16)) {
    throw new LocalProtocolError(`write priority ${p} is outside 1..16`);
  }
}

export function encodeWriteProperty(w: Writer, x: WritePropertyRequest): void {
  checkPriority(x.priority);
  encodeReadProperty(w, x);
  writeOpening(w, 3);
  encodeValues(w, x.value);
  writeClosing(w, 3);
  if (x.priority !== undefined) putUnsigned(w, x.priority, 4);
}

export function decodeWriteProperty(r: Reader): WritePropertyRequest {
  const head = decodeReadProperty(r);
  expectOpening(r, 3, 'property value');
  const value = decodeValues(r, 3, 1);
  expectClosing(r, 3, 'property value');
  const priority = optional(r, 4, ctxUnsigned, 'priority');
  const out: WritePropertyRequest = { ...head, value };
  if (priority !== undefined) out.priority = priority;
  return out;
}
