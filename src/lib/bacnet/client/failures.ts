/**
 * Classifying the outcome of a failed request for the client's fallbacks (ASHRAE 135-2020
 * Clause 18 error classes/codes, reject reasons 18.8, abort reasons 18.9), and the sentence a
 * node shows: the operation, the device and the standard's names in words.
 */
import { BacnetAbortError, BacnetError, BacnetRejectError, BacnetTimeoutError, DeviceUnknownError, NoRouteError, SendFailedError, TooLargeError } from '../errors';
import { errorText } from '../../wire/errors';

const ABORT_BUFFER_OVERFLOW = 1;
const ABORT_SEGMENTATION_NOT_SUPPORTED = 4;
const ABORT_OUT_OF_RESOURCES = 9;
const ABORT_APDU_TOO_LONG = 11;
const REJECT_BUFFER_OVERFLOW = 1;
const REJECT_UNRECOGNIZED_SERVICE = 9;
const CLASS_SERVICES = 5;
const CODE_SERVICE_REQUEST_DENIED = 29;
const CODE_OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED = 45;
const SIZE_ERROR_CODES = new Set([51, 54, 59, 123, 125]); // abort-buffer-overflow, abort-segmentation-not-supported, reject-buffer-overflow, abort-apdu-too-long, abort-out-of-resources

/** The answer (or request) was too large for the device: shrink and retry. */
export function isSizeFailure(e: unknown): boolean {
  if (e instanceof TooLargeError) return true;
  if (e instanceof BacnetAbortError) {
    return [ABORT_BUFFER_OVERFLOW, ABORT_SEGMENTATION_NOT_SUPPORTED, ABORT_OUT_OF_RESOURCES, ABORT_APDU_TOO_LONG].includes(e.reason);
  }
  if (e instanceof BacnetRejectError) return e.reason === REJECT_BUFFER_OVERFLOW;
  if (e instanceof BacnetError) return SIZE_ERROR_CODES.has(e.errorCode);
  return false;
}

/** The device does not execute this service at all. */
export function isServiceUnsupported(e: unknown): boolean {
  if (e instanceof BacnetRejectError) return e.reason === REJECT_UNRECOGNIZED_SERVICE;
  if (e instanceof BacnetError) {
    return (e.errorClass === CLASS_SERVICES && (e.errorCode === CODE_SERVICE_REQUEST_DENIED || e.errorCode === CODE_OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED))
      || e.errorCode === 67; // reject-unrecognized-service reported as an Error
  }
  return false;
}

/** No answer at all: the device (or the way to it) is down. */
export function isOffline(e: unknown): boolean {
  return e instanceof BacnetTimeoutError || e instanceof SendFailedError || e instanceof NoRouteError || e instanceof DeviceUnknownError;
}

/** The device answered (Error, Reject or Abort from the peer). */
export function isDeviceAnswer(e: unknown): boolean {
  return e instanceof BacnetError || e instanceof BacnetRejectError || (e instanceof BacnetAbortError && e.byPeer);
}

/**
 * One line for node.error / Catch: "writing present-value of analog-value:1 at device 1234
 * (127.0.0.1:47808) failed: BACnet error: property: write-access-denied".
 */
export function describeFailure(what: string, where: string, e: unknown): string {
  return `${what}${where ? ` at ${where}` : ''} failed: ${errorText(e)}`;
}

/** Short text for a node status (about 30 characters). */
export function shortFailure(e: unknown): string {
  if (e instanceof BacnetError) return `${e.className}: ${e.codeName}`;
  if (e instanceof BacnetRejectError) return `reject: ${e.reasonName}`;
  if (e instanceof BacnetAbortError) return `abort: ${e.reasonName}`;
  if (e instanceof BacnetTimeoutError) return 'no reply';
  if (e instanceof DeviceUnknownError) return 'device not found';
  if (e instanceof NoRouteError) return `no route to network ${e.network}`;
  if (e instanceof SendFailedError) return 'send failed';
  const t = errorText(e);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}
