/**
 * Who-Is and I-Am (ASHRAE 135-2020 Clause 16.10).
 *
 *   Who-Is-Request ::= SEQUENCE {
 *     deviceInstanceRangeLowLimit  [0] Unsigned (0..4194303) OPTIONAL,  -- both or neither
 *     deviceInstanceRangeHighLimit [1] Unsigned (0..4194303) OPTIONAL }
 *   I-Am-Request ::= SEQUENCE {
 *     iAmDeviceIdentifier BACnetObjectIdentifier, maxAPDULengthAccepted Unsigned,
 *     segmentationSupported BACnetSegmentation, vendorID Unsigned16 }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { MAX_INSTANCE, type ObjectId, putEnumerated, putObjectId, putUnsigned } from '../codec/primitives';
import { appEnumerated, appObjectId, appUnsigned, ctxUnsigned } from '../codec/fields';

export interface WhoIsRequest {
  /** Both limits or neither (a global Who-Is). */
  lowLimit?: number;
  highLimit?: number;
}

export function encodeWhoIs(w: Writer, req: WhoIsRequest): void {
  if ((req.lowLimit === undefined) !== (req.highLimit === undefined)) {
    throw new LocalProtocolError('Who-Is needs both range limits or neither');
  }
  if (req.lowLimit === undefined || req.highLimit === undefined) return;
  for (const v of [req.lowLimit, req.highLimit]) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_INSTANCE) throw new LocalProtocolError(`Who-Is limit ${v} outside 0..${MAX_INSTANCE}`);
  }
  putUnsigned(w, req.lowLimit, 0);
  putUnsigned(w, req.highLimit, 1);
}

export function decodeWhoIs(r: Reader): WhoIsRequest {
  if (r.done) return {};
  const lowLimit = ctxUnsigned(r, 0, 'low limit');
  const highLimit = ctxUnsigned(r, 1, 'high limit');
  if (lowLimit > MAX_INSTANCE || highLimit > MAX_INSTANCE) r.fail('who-is limits', 'limit beyond 4194303');
  return { lowLimit, highLimit };
}

/** True when device `instance` falls in the request's range (always, for a global Who-Is). */
export function whoIsMatches(req: WhoIsRequest, instance: number): boolean {
  if (req.lowLimit === undefined || req.highLimit === undefined) return true;
  return instance >= req.lowLimit && instance <= req.highLimit;
}

export interface IAmRequest {
  deviceId: ObjectId;
  maxApdu: number;
  /** BACnetSegmentation (0 both, 1 transmit, 2 receive, 3 none). */
  segmentation: number;
  vendorId: number;
}

export function encodeIAm(w: Writer, x: IAmRequest): void {
  putObjectId(w, x.deviceId);
  putUnsigned(w, x.maxApdu);
  putEnumerated(w, x.segmentation);
  putUnsigned(w, x.vendorId);
}

export function decodeIAm(r: Reader): IAmRequest {
  const deviceId = appObjectId(r, 'i-am device identifier');
  const maxApdu = appUnsigned(r, 'max apdu length accepted');
  const segmentation = appEnumerated(r, 'segmentation supported');
  const vendorId = appUnsigned(r, 'vendor id');
  if (vendorId > 0xffff) r.fail('vendor id', `${vendorId} exceeds 65535`);
  return { deviceId, maxApdu, segmentation, vendorId };
}

