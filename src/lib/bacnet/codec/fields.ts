/**
 * Tagged-field readers for service and constructed-data decoders (ASHRAE 135-2020 Clause 20.2,
 * as used by the ASN.1 productions of Clause 21): "read application Unsigned", "read context
 * tag [n] as ENUMERATED", "optional context tag [n]". Each checks the tag class and number
 * before it reads, so a production decoded by position cannot silently take the wrong field.
 */
import type { Reader } from '../../wire/reader';
import { AppTag, atContextTag, expectApplication, expectContext } from './tags';
import {
  type BacnetDate, type BacnetTime, type ObjectId,
  getBitString, getCharacterString, getContextBoolean, getDate, getEnumerated, getObjectId,
  getOctetString, getReal, getSignedNumber, getTime, getUnsigned, getUnsignedNumber, getDouble,
} from './primitives';

// Application-tagged

export function appUnsigned(r: Reader, field: string): number {
  return getUnsignedNumber(r, expectApplication(r, AppTag.UNSIGNED, field), field);
}
export function appUnsignedBig(r: Reader, field: string): number | bigint {
  return getUnsigned(r, expectApplication(r, AppTag.UNSIGNED, field), field);
}
export function appSigned(r: Reader, field: string): number {
  return getSignedNumber(r, expectApplication(r, AppTag.SIGNED, field), field);
}
export function appEnumerated(r: Reader, field: string): number {
  return getEnumerated(r, expectApplication(r, AppTag.ENUMERATED, field), field);
}
export function appBoolean(r: Reader, field: string): boolean {
  return expectApplication(r, AppTag.BOOLEAN, field) === 1;
}
export function appReal(r: Reader, field: string): number {
  return getReal(r, expectApplication(r, AppTag.REAL, field), field);
}
export function appObjectId(r: Reader, field: string): ObjectId {
  return getObjectId(r, expectApplication(r, AppTag.OBJECT_IDENTIFIER, field), field);
}
export function appCharacterString(r: Reader, field: string): string {
  return getCharacterString(r, expectApplication(r, AppTag.CHARACTER_STRING, field), field).value;
}
export function appOctetString(r: Reader, field: string): Uint8Array {
  return getOctetString(r, expectApplication(r, AppTag.OCTET_STRING, field), field);
}
export function appBitString(r: Reader, field: string): boolean[] {
  return getBitString(r, expectApplication(r, AppTag.BIT_STRING, field), field);
}
export function appDate(r: Reader, field: string): BacnetDate {
  return getDate(r, expectApplication(r, AppTag.DATE, field), field);
}
export function appTime(r: Reader, field: string): BacnetTime {
  return getTime(r, expectApplication(r, AppTag.TIME, field), field);
}

// Context-tagged

export function ctxUnsigned(r: Reader, tag: number, field: string): number {
  return getUnsignedNumber(r, expectContext(r, tag, field), field);
}
export function ctxUnsignedBig(r: Reader, tag: number, field: string): number | bigint {
  return getUnsigned(r, expectContext(r, tag, field), field);
}
export function ctxSigned(r: Reader, tag: number, field: string): number {
  return getSignedNumber(r, expectContext(r, tag, field), field);
}
export function ctxEnumerated(r: Reader, tag: number, field: string): number {
  return getEnumerated(r, expectContext(r, tag, field), field);
}
export function ctxBoolean(r: Reader, tag: number, field: string): boolean {
  return getContextBoolean(r, expectContext(r, tag, field), field);
}
export function ctxReal(r: Reader, tag: number, field: string): number {
  return getReal(r, expectContext(r, tag, field), field);
}
export function ctxDouble(r: Reader, tag: number, field: string): number {
  return getDouble(r, expectContext(r, tag, field), field);
}
export function ctxObjectId(r: Reader, tag: number, field: string): ObjectId {
  return getObjectId(r, expectContext(r, tag, field), field);
}
export function ctxCharacterString(r: Reader, tag: number, field: string): string {
  return getCharacterString(r, expectContext(r, tag, field), field).value;
}
export function ctxOctetString(r: Reader, tag: number, field: string): Uint8Array {
  return getOctetString(r, expectContext(r, tag, field), field);
}
export function ctxBitString(r: Reader, tag: number, field: string): boolean[] {
  return getBitString(r, expectContext(r, tag, field), field);
}
export function ctxDate(r: Reader, tag: number, field: string): BacnetDate {
  return getDate(r, expectContext(r, tag, field), field);
}
export function ctxTime(r: Reader, tag: number, field: string): BacnetTime {
  return getTime(r, expectContext(r, tag, field), field);
}

/** Read context tag [tag] with `read` if it is next (primitive only), else undefined. */
export function optional<T>(r: Reader, tag: number, read: (r: Reader, tag: number, field: string) => T, field: string): T | undefined {
  if (!atContextTag(r, tag)) return undefined;
  return read(r, tag, field);
}
