/**
 * Who-Has and I-Have (ASHRAE 135-2020 Clause 16.9).
 *
 *   Who-Has-Request ::= SEQUENCE {
 *     limits SEQUENCE { deviceInstanceRangeLowLimit [0] Unsigned, deviceInstanceRangeHighLimit [1] Unsigned } OPTIONAL,
 *     object CHOICE { objectIdentifier [2] BACnetObjectIdentifier, objectName [3] CharacterString } }
 *   I-Have-Request ::= SEQUENCE {
 *     deviceIdentifier BACnetObjectIdentifier, objectIdentifier BACnetObjectIdentifier, objectName CharacterString }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { type ObjectId, putCharacterString, putObjectId, putUnsigned } from '../codec/primitives';
import { appCharacterString, appObjectId, ctxCharacterString, ctxObjectId, ctxUnsigned } from '../codec/fields';
import { atContextTag } from '../codec/tags';

export interface WhoHasRequest {
  lowLimit?: number;
  highLimit?: number;
  /** Exactly one of objectId and objectName. */
  objectId?: ObjectId;
  objectName?: string;
}

export function encodeWhoHas(w: Writer, x: WhoHasRequest): void {
  if ((x.lowLimit === undefined) !== (x.highLimit === undefined)) throw new LocalProtocolError('Who-Has needs both limits or neither');
  if (x.lowLimit !== undefined && x.highLimit !== undefined) {
    putUnsigned(w, x.lowLimit, 0);
    putUnsigned(w, x.highLimit, 1);
  }
  if (x.objectId) putObjectId(w, x.objectId, 2);
  else if (x.objectName !== undefined) putCharacterString(w, x.objectName, 3);
  else throw new LocalProtocolError('Who-Has needs an object identifier or an object name');
}

export function decodeWhoHas(r: Reader): WhoHasRequest {
  const out: WhoHasRequest = {};
  if (atContextTag(r, 0)) {
    out.lowLimit = ctxUnsigned(r, 0, 'low limit');
    out.highLimit = ctxUnsigned(r, 1, 'high limit');
  }
  if (atContextTag(r, 2)) out.objectId = ctxObjectId(r, 2, 'object identifier');
  else out.objectName = ctxCharacterString(r, 3, 'object name');
  return out;
}

export interface IHaveRequest {
  deviceId: ObjectId;
  objectId: ObjectId;
  objectName: string;
}

export function encodeIHave(w: Writer, x: IHaveRequest): void {
  putObjectId(w, x.deviceId);
  putObjectId(w, x.objectId);
  putCharacterString(w, x.objectName);
}

export function decodeIHave(r: Reader): IHaveRequest {
  return {
    deviceId: appObjectId(r, 'device identifier'),
    objectId: appObjectId(r, 'object identifier'),
    objectName: appCharacterString(r, 'object name'),
  };
}
