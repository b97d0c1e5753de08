/**
 * ReadRange (ASHRAE 135-2020 Clause 15.8): by position, by sequence number or by time.
 *
 *   ReadRange-Request ::= SEQUENCE {
 *     objectIdentifier [0], propertyIdentifier [1], propertyArrayIndex [2] Unsigned OPTIONAL,
 *     range CHOICE {
 *       byPosition [3] SEQUENCE { referenceIndex Unsigned, count INTEGER },
 *       bySequenceNumber [6] SEQUENCE { referenceSequenceNumber Unsigned, count INTEGER },
 *       byTime [7] SEQUENCE { referenceTime BACnetDateTime, count INTEGER } } OPTIONAL }
 *   ReadRange-ACK ::= SEQUENCE {
 *     objectIdentifier [0], propertyIdentifier [1], propertyArrayIndex [2] OPTIONAL,
 *     resultFlags [3] BACnetResultFlags, itemCount [4] Unsigned,
 *     itemData [5] SEQUENCE OF ABSTRACT-SYNTAX.&Type, firstSequenceNumber [6] Unsigned32 OPTIONAL }
 *
 * `readLogRecords(ack.itemData)` reads the items of a log buffer (BACnetLogRecord).
 */
import { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { putBitString, putSigned, putUnsigned } from '../codec/primitives';
import { appSigned, appUnsigned, ctxBitString, ctxUnsigned, optional } from '../codec/fields';
import { atOpeningTag, expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import { type DateTime, type LogRecord, readDateTime, readLogRecord, writeDateTime } from '../codec/constructed';
import { type BacnetValue, decodeValues, encodeValues, valuesToBytes } from '../codec/values';
import { type ReadPropertyRequest, decodeReadProperty, encodeReadProperty } from './read-property';

export type ReadRangeSpec =
  | { byPosition: { referenceIndex: number; count: number } }
  | { bySequenceNumber: { referenceSequenceNumber: number; count: number } }
  | { byTime: { referenceTime: DateTime; count: number } };

export interface ReadRangeRequest extends ReadPropertyRequest {
  /** Omitted: the whole list. */
  range?: ReadRangeSpec;
}

export interface ReadRangeAck extends ReadPropertyRequest {
  /** BACnetResultFlags: [first-item, last-item, more-items]. */
  resultFlags: boolean[];
  itemCount: number;
  itemData: BacnetValue[];
  firstSequenceNumber?: number;
}

export function encodeReadRange(w: Writer, x: ReadRangeRequest): void {
  encodeReadProperty(w, x);
  const g = x.range;
  if (!g) return;
  if ('byPosition' in g) {
    writeOpening(w, 3);
    putUnsigned(w, g.byPosition.referenceIndex);
    putSigned(w, g.byPosition.count);
    writeClosing(w, 3);
  } else if ('bySequenceNumber' in g) {
    writeOpening(w, 6);
    putUnsigned(w, g.bySequenceNumber.referenceSequenceNumber);
    putSigned(w, g.bySequenceNumber.count);
    writeClosing(w, 6);
  } else {
    writeOpening(w, 7);
    writeDateTime(w, g.byTime.referenceTime);
    putSigned(w, g.byTime.count);
    writeClosing(w, 7);
  }
}

export function decodeReadRange(r: Reader): ReadRangeRequest {
  const out: ReadRangeRequest = decodeReadProperty(r);
  if (atOpeningTag(r, 3)) {
    expectOpening(r, 3, 'by position');
    out.range = { byPosition: { referenceIndex: appUnsigned(r, 'reference index'), count: appSigned(r, 'count') } };
    expectClosing(r, 3, 'by position');
  } else if (atOpeningTag(r, 6)) {
    expectOpening(r, 6, 'by sequence number');
    out.range = { bySequenceNumber: { referenceSequenceNumber: appUnsigned(r, 'reference sequence number'), count: appSigned(r, 'count') } };
    expectClosing(r, 6, 'by sequence number');
  } else if (atOpeningTag(r, 7)) {
    expectOpening(r, 7, 'by time');
    out.range = { byTime: { referenceTime: readDateTime(r), count: appSigned(r, 'count') } };
    expectClosing(r, 7, 'by time');
  }
  return out;
}

export function encodeReadRangeAck(w: Writer, x: ReadRangeAck): void {
  encodeReadProperty(w, x);
  putBitString(w, x.resultFlags, 3);
  putUnsigned(w, x.itemCount, 4);
  writeOpening(w, 5);
  encodeValues(w, x.itemData);
  writeClosing(w, 5);
  if (x.firstSequenceNumber !== undefined) putUnsigned(w, x.firstSequenceNumber, 6);
}

export function decodeReadRangeAck(r: Reader): ReadRangeAck {
  const head = decodeReadProperty(r);
  const resultFlags = ctxBitString(r, 3, 'result flags');
  const itemCount = ctxUnsigned(r, 4, 'item count');
  expectOpening(r, 5, 'item data');
  const itemData = decodeValues(r, 5, 1);
  expectClosing(r, 5, 'item data');
  const out: ReadRangeAck = { ...head, resultFlags, itemCount, itemData };
  const first = optional(r, 6, ctxUnsigned, 'first sequence number');
  if (first !== undefined) out.firstSequenceNumber = first;
  return out;
}

/** Read ReadRange item data as a list of BACnetLogRecord (Trend Log Log_Buffer). */
export function readLogRecords(itemData: readonly BacnetValue[]): LogRecord[] {
  const r = new Reader(valuesToBytes(itemData));
  const out: LogRecord[] = [];
  while (!r.done) out.push(readLogRecord(r));
  return out;
}
