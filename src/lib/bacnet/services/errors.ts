/**
 * Payloads of the Error PDU (ASHRAE 135-2020 Clause 20.1.7 and the Error productions of Clause
 * 21): the plain Error (error class, error code) and the extended errors of CreateObject,
 * Add/RemoveListElement (ChangeList-Error) and WritePropertyMultiple, whose first element is the
 * Error wrapped in context tag [0]. Reject and Abort carry only a reason octet in their headers
 * (apdu.ts); their names are in enums/errors.ts.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { putUnsigned } from '../codec/primitives';
import { ctxUnsigned } from '../codec/fields';
import { atContextTag, atOpeningTag, expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';
import {
  type ErrorPayload, type ObjectPropertyReference, readError, readObjectPropertyReference, writeError,
  writeObjectPropertyReference,
} from '../codec/constructed';
import { type BacnetValue, decodeValues, encodeValues } from '../codec/values';

/** Decoded Error PDU payload. */
export interface ServiceErrorInfo extends ErrorPayload {
  /** WritePropertyMultiple-Error: the write that failed. */
  firstFailedWriteAttempt?: ObjectPropertyReference;
  /** CreateObject-Error / ChangeList-Error: 1-based element that failed (0 = not an element). */
  firstFailedElementNumber?: number;
  /** Any other parameters of an extended error (ConfirmedPrivateTransfer-Error, VTClose-Error, ...). */
  extra?: BacnetValue[];
}

const CREATE_OBJECT = 10;
const ADD_LIST_ELEMENT = 8;
const REMOVE_LIST_ELEMENT = 9;
const WRITE_PROPERTY_MULTIPLE = 16;
/** Confirmed services whose Error PDU uses the extended form ([0] Error, ...). */
export const EXTENDED_ERROR_SERVICES: ReadonlySet<number> = new Set([8, 9, 10, 16, 18, 22, 30]);

export function decodeServiceError(service: number, r: Reader): ServiceErrorInfo {
  if (!atOpeningTag(r, 0)) return readError(r);
  expectOpening(r, 0, 'error type');
  const out: ServiceErrorInfo = readError(r);
  expectClosing(r, 0, 'error type');
  if (service === WRITE_PROPERTY_MULTIPLE && atOpeningTag(r, 1)) {
    expectOpening(r, 1, 'first failed write attempt');
    out.firstFailedWriteAttempt = readObjectPropertyReference(r);
    expectClosing(r, 1, 'first failed write attempt');
  } else if ((service === CREATE_OBJECT || service === ADD_LIST_ELEMENT || service === REMOVE_LIST_ELEMENT) && atContextTag(r, 1)) {
    out.firstFailedElementNumber = ctxUnsigned(r, 1, 'first failed element number');
  }
  if (!r.done) out.extra = decodeValues(r, undefined, 1);
  return out;
}

export function encodeServiceError(w: Writer, service: number, e: ServiceErrorInfo): void {
  if (!EXTENDED_ERROR_SERVICES.has(service)) {
    writeError(w, e);
    return;
  }
  writeOpening(w, 0);
  writeError(w, e);
  writeClosing(w, 0);
  if (service === WRITE_PROPERTY_MULTIPLE) {
    if (!e.firstFailedWriteAttempt) throw new LocalProtocolError('a WritePropertyMultiple error needs firstFailedWriteAttempt');
    writeOpening(w, 1);
    writeObjectPropertyReference(w, e.firstFailedWriteAttempt);
    writeClosing(w, 1);
  } else if (service === CREATE_OBJECT || service === ADD_LIST_ELEMENT || service === REMOVE_LIST_ELEMENT) {
    putUnsigned(w, e.firstFailedElementNumber ?? 0, 1);
  }
  if (e.extra) encodeValues(w, e.extra);
}
