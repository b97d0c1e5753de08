/**
 * AtomicReadFile (ASHRAE 135-2020 Clause 14.1) and AtomicWriteFile (Clause 14.2) on File objects
 * (objects/file.ts). A read returns at most what fits the requester's response size; a write
 * needs the peer on the write allow-list. An identifier that is not a File object is
 * services / inconsistent-object-type.
 */
import type {
  AtomicReadFileAck, AtomicReadFileRequest, AtomicWriteFileAck, AtomicWriteFileRequest,
} from '../../services/atomic-file';
import { Errors, PropertyAccessError } from '../../objects/errors';
import { FileObject } from '../../objects/file';
import type { RequestInfo, ServiceContext } from '../context';

/** Octets of an AtomicReadFile-ACK besides the data (tags, start, count, end-of-file). */
const ACK_OVERHEAD = 16;

function fileOf(ctx: ServiceContext, id: { type: number; instance: number }): FileObject {
  const o = ctx.db.get(id);
  if (!o) throw Errors.unknownObject();
  if (!(o instanceof FileObject)) throw new PropertyAccessError('services', 'inconsistent-object-type', `${o.label()} is not a File`);
  return o;
}

export function atomicReadFile(ctx: ServiceContext, req: AtomicReadFileRequest, info: RequestInfo): AtomicReadFileAck {
  const f = fileOf(ctx, req.fileId);
  const budget = Math.max(1, info.maxResponse - ACK_OVERHEAD);
  if ('stream' in req) {
    const r = f.readStream(req.stream.start, Math.min(req.stream.octetCount, budget));
    return { endOfFile: r.endOfFile && req.stream.octetCount >= r.data.length, stream: { start: req.stream.start, data: r.data } };
  }
  const r = f.readRecords(req.record.start, req.record.recordCount);
  // Drop records from the end until the answer fits.
  let size = 0;
  let n = 0;
  while (n < r.records.length && size + r.records[n]!.length + 5 <= budget) size += r.records[n++]!.length + 5;
  const records = r.records.slice(0, n);
  return { endOfFile: r.endOfFile && n === r.records.length, record: { start: req.record.start, records } };
}

export function atomicWriteFile(ctx: ServiceContext, req: AtomicWriteFileRequest, info: RequestInfo): AtomicWriteFileAck {
  if (!ctx.rules.mayWrite(info.source)) throw new PropertyAccessError('services', 'file-access-denied', 'not on the write allow-list');
  const f = fileOf(ctx, req.fileId);
  const ack: AtomicWriteFileAck = 'stream' in req
    ? { start: f.writeStream(req.stream.start, req.stream.data) }
    : { start: f.writeRecords(req.record.start, req.record.records), record: true };
  ctx.events({ type: 'file-written', object: f, source: info.source });
  return ack;
}
