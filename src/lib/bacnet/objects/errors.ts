/**
 * Errors a local BACnet object or a server handler answers with (ASHRAE 135-2020 Clause 18:
 * error classes and codes; 18.8 reject reasons; 18.9 abort reasons).
 *
 * Object code throws a `PropertyAccessError` (Result(-) of ReadProperty/WriteProperty with an
 * error class and code); handlers turn it into an Error PDU, or into a per-property
 * access error inside a ReadPropertyMultiple-ACK. `ServiceReject` and `ServiceAbort` stand for
 * Reject and Abort PDUs. All three carry the standard's names in their message.
 */
import { FieldlinkError } from '../../wire/errors';
import { AbortReason, ErrorClass, ErrorCode, RejectReason } from '../enums/errors';
import type { ObjectPropertyReference } from '../codec/constructed';

export type ErrorClassName = keyof typeof ErrorClass.table & string;
export type ErrorCodeName = keyof typeof ErrorCode.table & string;

/** A BACnet Error (error class, error code) raised while serving a request. */
export class PropertyAccessError extends FieldlinkError {
  readonly errorClass: number;
  readonly errorCode: number;
  /** WritePropertyMultiple-Error: the write that failed (15.10). */
  firstFailedWriteAttempt?: ObjectPropertyReference;
  /** CreateObject-Error: the 1-based initial value that failed, 0 when none did (15.3). */
  firstFailedElementNumber?: number;
  constructor(errorClass: ErrorClassName, errorCode: ErrorCodeName, detail?: string) {
    super('EBACNETERROR', `${errorClass}: ${errorCode}${detail ? ` (${detail})` : ''}`);
    this.errorClass = ErrorClass.require(errorClass);
    this.errorCode = ErrorCode.require(errorCode);
  }
}

/** A Reject PDU with a reason (18.8). */
export class ServiceReject extends FieldlinkError {
  readonly reason: number;
  constructor(reason: keyof typeof RejectReason.table & string, detail?: string) {
    super('EBACNETREJECT', `reject: ${reason}${detail ? ` (${detail})` : ''}`);
    this.reason = RejectReason.require(reason);
  }
}

/** An Abort PDU with a reason (18.9). */
export class ServiceAbort extends FieldlinkError {
  readonly reason: number;
  constructor(reason: keyof typeof AbortReason.table & string, detail?: string) {
    super('EBACNETABORT', `abort: ${reason}${detail ? ` (${detail})` : ''}`);
    this.reason = AbortReason.require(reason);
  }
}

/** Shorthands for the errors the object model raises most. */
export const Errors = {
  unknownObject: (what?: string) => new PropertyAccessError('object', 'unknown-object', what),
  unknownProperty: (what?: string) => new PropertyAccessError('property', 'unknown-property', what),
  writeAccessDenied: (what?: string) => new PropertyAccessError('property', 'write-access-denied', what),
  readAccessDenied: (what?: string) => new PropertyAccessError('property', 'read-access-denied', what),
  invalidDataType: (what?: string) => new PropertyAccessError('property', 'invalid-data-type', what),
  valueOutOfRange: (what?: string) => new PropertyAccessError('property', 'value-out-of-range', what),
  notAnArray: (what?: string) => new PropertyAccessError('property', 'property-is-not-an-array', what),
  invalidArrayIndex: (what?: string) => new PropertyAccessError('property', 'invalid-array-index', what),
  duplicateName: (what?: string) => new PropertyAccessError('property', 'duplicate-name', what),
} as const;
