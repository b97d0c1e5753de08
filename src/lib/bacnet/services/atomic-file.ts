/**
 * AtomicReadFile (ASHRAE 135-2020 Clause 14.1) and AtomicWriteFile (Clause 14.2), stream and
 * record access.
 *
 *   AtomicReadFile-Request ::= SEQUENCE { fileIdentifier BACnetObjectIdentifier,
 *     accessMethod CHOICE {
 *       streamAccess [0] SEQUENCE { fileStartPosition INTEGER, requestedOctetCount Unsigned },
 *       recordAccess [1] SEQUENCE { fileStartRecord INTEGER, requestedRecordCount Unsigned } } }
 *   AtomicReadFile-ACK ::= SEQUENCE { endOfFile BOOLEAN,
 *     accessMethod CHOICE {
 *       streamAccess [0] SEQUENCE { fileStartPosition INTEGER, fileData OCTET STRING },
 *       recordAccess [1] SEQUENCE { fileStartRecord INTEGER, returnedRecordCount Unsigned,
 *                                   fileRecordData SEQUENCE OF OCTET STRING } } }
 *   AtomicWriteFile-Request ::= SEQUENCE { fileIdentifier BACnetObjectIdentifier,
 *     accessMethod CHOICE {
 *       streamAccess [0] SEQUENCE { fileStartPosition INTEGER, fileData OCTET STRING },
 *       recordAccess [1] SEQUENCE { fileStartRecord INTEGER, recordCount Unsigned,
 *                                   fileRecordData SEQUENCE OF OCTET STRING } } }
 *   AtomicWriteFile-ACK ::= CHOICE { fileStartPosition [0] INTEGER, fileStartRecord [1] INTEGER }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { type ObjectId, putBoolean, putObjectId, putOctetString, putSigned, putUnsigned } from '../codec/primitives';
import { appBoolean, appObjectId, appOctetString, appSigned, appUnsigned, ctxSigned } from '../codec/fields';
import { atContextTag, atOpeningTag, expectClosing, expectOpening, writeClosing, writeOpening } from '../codec/tags';

export type AtomicReadFileRequest =
  | { fileId: ObjectId; stream: { start: number; octetCount: number } }
  | { fileId: ObjectId; record: { start: number; recordCount: number } };

export type AtomicReadFileAck =
  | { endOfFile: boolean; stream: { start: number; data: Uint8Array } }
  | { endOfFile: boolean; record: { start: number; records: Uint8Array[] } };

export type AtomicWriteFileRequest =
  | { fileId: ObjectId; stream: { start: number; data: Uint8Array } }
  | { fileId: ObjectId; record: { start: number; records: Uint8Array[] } };

export type AtomicWriteFileAck = { start: number; record?: false } | { start: number; record: true };

export function encodeAtomicReadFile(w: Writer, x: AtomicReadFileRequest): void {
  putObjectId(w, x.fileId);
  if ('stream' in x) {
    writeOpening(w, 0);
    putSigned(w, x.stream.start);
    putUnsigned(w, x.stream.octetCount);
    writeClosing(w, 0);
  } else {
    writeOpening(w, 1);
    putSigned(w, x.record.start);
    putUnsigned(w, x.record.recordCount);
    writeClosing(w, 1);
  }
}

export function decodeAtomicReadFile(r: Reader): AtomicReadFileRequest {
  const fileId = appObjectId(r, 'file identifier');
  if (atOpeningTag(r, 0)) {
    expectOpening(r, 0, 'stream access');
    const start = appSigned(r, 'file start position');
    const octetCount = appUnsigned(r, 'requested octet count');
    expectClosing(r, 0, 'stream access');
    return { fileId, stream: { start, octetCount } };
  }
  expectOpening(r, 1, 'record access');
  const start = appSigned(r, 'file start record');
  const recordCount = appUnsigned(r, 'requested record count');
  expectClosing(r, 1, 'record access');
  return { fileId, record: { start, recordCount } };
}

/** File data as both the AtomicReadFile-ACK and the AtomicWriteFile-Request carry it. */
export type FileData = { stream: { start: number; data: Uint8Array } } | { record: { start: number; records: Uint8Array[] } };

function encodeFileData(w: Writer, x: FileData): void {
  if ('stream' in x) {
    writeOpening(w, 0);
    putSigned(w, x.stream.start);
    putOctetString(w, x.stream.data);
    writeClosing(w, 0);
  } else {
    writeOpening(w, 1);
    putSigned(w, x.record.start);
    putUnsigned(w, x.record.records.length);
    for (const rec of x.record.records) putOctetString(w, rec);
    writeClosing(w, 1);
  }
}

function decodeFileData(r: Reader): FileData {
  if (atOpeningTag(r, 0)) {
    expectOpening(r, 0, 'stream access');
    const start = appSigned(r, 'file start position');
    const data = appOctetString(r, 'file data');
    expectClosing(r, 0, 'stream access');
    return { stream: { start, data } };
  }
  expectOpening(r, 1, 'record access');
  const start = appSigned(r, 'file start record');
  // Each record needs at least one octet on the wire, so a count the datagram cannot hold fails
  // at the first missing record, before anything large is allocated.
  const count = appUnsigned(r, 'record count');
  const records: Uint8Array[] = [];
  for (let i = 0; i < count; i++) records.push(appOctetString(r, 'file record data'));
  expectClosing(r, 1, 'record access');
  return { record: { start, records } };
}

export function encodeAtomicReadFileAck(w: Writer, x: AtomicReadFileAck): void {
  putBoolean(w, x.endOfFile);
  encodeFileData(w, x);
}

export function decodeAtomicReadFileAck(r: Reader): AtomicReadFileAck {
  const endOfFile = appBoolean(r, 'end of file');
  return { endOfFile, ...decodeFileData(r) };
}

export function encodeAtomicWriteFile(w: Writer, x: AtomicWriteFileRequest): void {
  putObjectId(w, x.fileId);
  if ('record' in x && !x.record.records.length) throw new LocalProtocolError('AtomicWriteFile record access needs at least one record');
  encodeFileData(w, x);
}

export function decodeAtomicWriteFile(r: Reader): AtomicWriteFileRequest {
  const fileId = appObjectId(r, 'file identifier');
  return { fileId, ...decodeFileData(r) };
}

export function encodeAtomicWriteFileAck(w: Writer, x: AtomicWriteFileAck): void {
  putSigned(w, x.start, x.record ? 1 : 0);
}

export function decodeAtomicWriteFileAck(r: Reader): AtomicWriteFileAck {
  if (atContextTag(r, 0)) return { start: ctxSigned(r, 0, 'file start position') };
  return { start: ctxSigned(r, 1, 'file start record'), record: true };
}
