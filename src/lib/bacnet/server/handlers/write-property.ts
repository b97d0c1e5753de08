/**
 * WriteProperty (ASHRAE 135-2020 Clause 15.9) and WritePropertyMultiple (Clause 15.10) as served.
 *
 * A write is refused with property / write-access-denied when the peer is not on the write
 * allow-list or the property is not writable (read-only objects, computed properties, the
 * present value of an input object in service); object / unknown-object and property /
 * unknown-property when they do not exist; property / invalid-data-type or value-out-of-range
 * when the value does not fit. The present value of a commandable object goes to the priority
 * array (19.2): priority 1..16 (default 16), NULL relinquishes. A NULL written to a property
 * that is not commandable succeeds without changing it (15.9.2, protocol revision 21 and later).
 * A priority outside 1..16 is rejected with parameter-out-of-range.
 *
 * WritePropertyMultiple performs the writes in order and stops at the first failure, answering
 * WritePropertyMultiple-Error with that write (15.10); the writes before it stay done.
 */
import type { WritePropertyRequest } from '../../services/write-property';
import type { WritePropertyMultipleRequest } from '../../services/write-property-multiple';
import { Errors, PropertyAccessError, ServiceReject } from '../../objects/errors';
import type { ObjectId } from '../../codec/primitives';
import type { BacnetValue } from '../../codec/values';
import type { RequestInfo, ServiceContext } from '../context';
import type { WriteService } from '../events';

interface OneWrite {
  objectId: ObjectId;
  propertyId: number;
  arrayIndex?: number;
  value: BacnetValue[];
  priority?: number;
}

function checkPriority(p: number | undefined): void {
  if (p !== undefined && (p < 1 || p > 16)) throw new ServiceReject('parameter-out-of-range', `priority ${p}`);
}

/** One write with its access checks; emits the write event. */
export function applyWrite(ctx: ServiceContext, w: OneWrite, info: RequestInfo, service: WriteService): void {
  if (!ctx.rules.mayWrite(info.source)) throw Errors.writeAccessDenied(`${info.source.host}:${info.source.port} is not on the write allow-list`);
  const o = ctx.db.get(w.objectId);
  if (!o) throw Errors.unknownObject();
  const req: Parameters<typeof o.write>[0] = { propertyId: w.propertyId, value: w.value };
  if (w.arrayIndex !== undefined) req.arrayIndex = w.arrayIndex;
  if (w.priority !== undefined) req.priority = w.priority;
  const out = o.write(req);
  if (out.ignored) return;
  ctx.events({
    type: 'write',
    object: o,
    propertyId: w.propertyId,
    ...(w.arrayIndex !== undefined ? { arrayIndex: w.arrayIndex } : {}),
    value: w.value,
    ...(out.priority !== undefined ? { priority: out.priority } : w.priority !== undefined ? { priority: w.priority } : {}),
    source: info.source,
    service,
  });
}

export function writeProperty(ctx: ServiceContext, req: WritePropertyRequest, info: RequestInfo): void {
  checkPriority(req.priority);
  applyWrite(ctx, req, info, 'write-property');
}

export function writePropertyMultiple(ctx: ServiceContext, req: WritePropertyMultipleRequest, info: RequestInfo): void {
  for (const spec of req.specs) for (const v of spec.values) checkPriority(v.priority);
  for (const spec of req.specs) {
    for (const v of spec.values) {
      try {
        applyWrite(ctx, { objectId: spec.objectId, ...v }, info, 'write-property-multiple');
      } catch (e) {
        if (!(e instanceof PropertyAccessError)) throw e;
        e.firstFailedWriteAttempt = v.arrayIndex === undefined
          ? { objectId: spec.objectId, propertyId: v.propertyId }
          : { objectId: spec.objectId, propertyId: v.propertyId, arrayIndex: v.arrayIndex };
        throw e;
      }
    }
  }
}
