/**
 * The outcomes of a BACnet request that are not its ACK, as typed errors with the standard's
 * names in their messages (ASHRAE 135-2020 Clause 18; Error/Reject/Abort PDUs of 20.1.7-20.1.9),
 * plus the local ones (timeout, back-pressure, send failure, port in use).
 *
 * Server handlers throw the same `BacnetError` / `BacnetRejectError` / `BacnetAbortError` to
 * answer with an Error, Reject or Abort PDU.
 *
 * Every class has a stable `code` (FieldlinkError) for nodes to switch on:
 *   EBACNET (Error PDU), EBACNETREJECT, EBACNETABORT, ETIMEOUT, EBACKPRESSURE, ESENDFAILED,
 *   EADDRINUSE, ETOOLARGE, ENOROUTE, ECANCELLED, ECLOSED, EDEVICEUNKNOWN.
 */
import { FieldlinkError, TimeoutError } from '../wire/errors';
import { AbortReason, ErrorClass, ErrorCode, RejectReason } from './enums/errors';
import type { ObjectPropertyReference } from './codec/constructed';

/** The peer answered with an Error PDU: error class and code, by name in the message. */
export class BacnetError extends FieldlinkError {
  readonly errorClass: number;
  readonly errorCode: number;
  /** Extra parameters of extended errors (WritePropertyMultiple, CreateObject). */
  readonly firstFailedWriteAttempt?: ObjectPropertyReference;
  readonly firstFailedElementNumber?: number;
  constructor(errorClass: number | string, errorCode: number | string, extra: { firstFailedWriteAttempt?: ObjectPropertyReference; firstFailedElementNumber?: number; message?: string } = {}) {
    const c = typeof errorClass === 'number' ? errorClass : ErrorClass.require(errorClass);
    const k = typeof errorCode === 'number' ? errorCode : ErrorCode.require(errorCode);
    super('EBACNET', extra.message ?? `BACnet error: ${ErrorClass.label(c)}: ${ErrorCode.label(k)}`);
    this.errorClass = c;
    this.errorCode = k;
    if (extra.firstFailedWriteAttempt) this.firstFailedWriteAttempt = extra.firstFailedWriteAttempt;
    if (extra.firstFailedElementNumber !== undefined) this.firstFailedElementNumber = extra.firstFailedElementNumber;
  }
  get className(): string {
    return ErrorClass.label(this.errorClass);
  }
  get codeName(): string {
    return ErrorCode.label(this.errorCode);
  }
}

/** The peer rejected the request (a protocol fault in it). */
export class BacnetRejectError extends FieldlinkError {
  readonly reason: number;
  constructor(reason: number | string, message?: string) {
    const r = typeof reason === 'number' ? reason : RejectReason.require(reason);
    super('EBACNETREJECT', message ?? `BACnet reject: ${RejectReason.label(r)}`);
    this.reason = r;
  }
  get reasonName(): string {
    return RejectReason.label(this.reason);
  }
}

/** The transaction was aborted, by the peer (`server`) or by us. */
export class BacnetAbortError extends FieldlinkError {
  readonly reason: number;
  /** True when the peer sent the Abort. */
  readonly byPeer: boolean;
  constructor(reason: number | string, byPeer = true, message?: string) {
    const r = typeof reason === 'number' ? reason : AbortReason.require(reason);
    super('EBACNETABORT', message ?? `BACnet abort${byPeer ? '' : ' (local)'}: ${AbortReason.label(r)}`);
    this.reason = r;
    this.byPeer = byPeer;
  }
  get reasonName(): string {
    return AbortReason.label(this.reason);
  }
}

/** No reply after the APDU timeout and every retry. */
export class BacnetTimeoutError extends TimeoutError {
  readonly attempts: number;
  constructor(message: string, attempts: number) {
    super(message);
    this.attempts = attempts;
  }
}

/** Too many requests are already waiting (local back-pressure): try again later. */
export class BackPressureError extends FieldlinkError {
  constructor(message: string) {
    super('EBACKPRESSURE', message);
  }
}

/** The datagram could not be sent (no route, interface down, ...). */
export class SendFailedError extends FieldlinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ESENDFAILED', message, options);
  }
}

/** The local UDP port is taken by another program. */
export class PortInUseError extends FieldlinkError {
  readonly port: number;
  readonly address: string;
  constructor(address: string, port: number) {
    super(
      'EADDRINUSE',
      `UDP port ${port} on ${address} is already in use by another program (another BACnet stack, ` +
        `or another Fieldlink network on the same port). Fieldlink does not share the port silently. ` +
        `Fix: choose another local port (devices are still reached on their own port, e.g. 47808), ` +
        `or register with a BBMD as a foreign device and use any free local port.`,
    );
    this.port = port;
    this.address = address;
  }
}

/** The request does not fit what the device accepts (max APDU, segmentation). */
export class TooLargeError extends FieldlinkError {
  constructor(message: string) {
    super('ETOOLARGE', message);
  }
}

/** No router answered for a remote network, or a router refused the message. */
export class NoRouteError extends FieldlinkError {
  readonly network: number;
  constructor(network: number, message: string) {
    super('ENOROUTE', message);
    this.network = network;
  }
}

/** The request was cancelled (AbortSignal or endpoint closing). */
export class CancelledError extends FieldlinkError {
  constructor(message = 'request cancelled') {
    super('ECANCELLED', message);
  }
}

/** The device instance could not be found by Who-Is. */
export class DeviceUnknownError extends FieldlinkError {
  readonly instance: number;
  constructor(instance: number, message?: string) {
    super('EDEVICEUNKNOWN', message ?? `device ${instance} did not answer Who-Is`);
    this.instance = instance;
  }
}
