/**
 * ReadProperty (ASHRAE 135-2020 Clause 15.5) and ReadPropertyMultiple (Clause 15.7) as served.
 *
 * ReadProperty answers the value or an Error: object / unknown-object, property /
 * unknown-property, property / property-is-not-an-array, property / invalid-array-index; the
 * special identifiers ALL, REQUIRED and OPTIONAL are for ReadPropertyMultiple only (15.7.3.1.2)
 * and are refused with property / read-access-denied.
 *
 * ReadPropertyMultiple answers every reference: ALL gives every property the object carries,
 * REQUIRED the required ones, OPTIONAL the optional ones present; a failing property gets its
 * own access error in the ACK (15.7); an unknown object gives object / unknown-object for
 * each of its references (one for ALL/REQUIRED/OPTIONAL).
 */
import type { ReadPropertyAck, ReadPropertyRequest } from '../../services/read-property';
import {
  PROPERTY_ALL, PROPERTY_OPTIONAL, PROPERTY_REQUIRED,
  type PropertyResult, type ReadAccessResult, type ReadPropertyMultipleAck, type ReadPropertyMultipleRequest,
} from '../../services/read-property-multiple';
import { Errors, PropertyAccessError } from '../../objects/errors';
import type { BacnetObject } from '../../objects/object';
import type { RequestInfo, ServiceContext } from '../context';

const SPECIAL = new Set([PROPERTY_ALL, PROPERTY_REQUIRED, PROPERTY_OPTIONAL]);

export function readProperty(ctx: ServiceContext, req: ReadPropertyRequest, _info: RequestInfo): ReadPropertyAck {
  const o = ctx.db.get(req.objectId);
  if (!o) throw Errors.unknownObject();
  if (SPECIAL.has(req.propertyId)) throw Errors.readAccessDenied('ALL, REQUIRED and OPTIONAL are for ReadPropertyMultiple');
  const value = o.read(req.propertyId, req.arrayIndex);
  const ack: ReadPropertyAck = { objectId: o.id, propertyId: req.propertyId, value };
  if (req.arrayIndex !== undefined) ack.arrayIndex = req.arrayIndex;
  return ack;
}

function errorOf(e: unknown): { errorClass: number; errorCode: number } {
  if (e instanceof PropertyAccessError) return { errorClass: e.errorClass, errorCode: e.errorCode };
  throw e;
}

function readOne(o: BacnetObject, propertyId: number, arrayIndex: number | undefined): PropertyResult {
  const r: PropertyResult = { propertyId };
  if (arrayIndex !== undefined) r.arrayIndex = arrayIndex;
  try {
    r.value = o.read(propertyId, arrayIndex);
  } catch (e) {
    r.error = errorOf(e);
  }
  return r;
}

/** The property identifiers ALL / REQUIRED / OPTIONAL stand for on object `o` (15.7.3.1.2). */
export function expandSpecial(o: BacnetObject, special: number): number[] {
  const ids = o.propertyIds();
  if (special === PROPERTY_ALL) return [...ids];
  const required = special === PROPERTY_REQUIRED;
  return ids.filter((id) => o.propertyDef(id)?.required === required);
}

export function readPropertyMultiple(ctx: ServiceContext, req: ReadPropertyMultipleRequest, _info: RequestInfo): ReadPropertyMultipleAck {
  const results: ReadAccessResult[] = [];
  for (const spec of req.specs) {
    const o = ctx.db.get(spec.objectId);
    const list: PropertyResult[] = [];
    if (!o) {
      const err = errorOf(Errors.unknownObject());
      for (const p of spec.properties) {
        const r: PropertyResult = { propertyId: p.propertyId, error: err };
        if (p.arrayIndex !== undefined && !SPECIAL.has(p.propertyId)) r.arrayIndex = p.arrayIndex;
        list.push(r);
      }
      results.push({ objectId: spec.objectId, results: list });
      continue;
    }
    for (const p of spec.properties) {
      if (SPECIAL.has(p.propertyId)) {
        for (const id of expandSpecial(o, p.propertyId)) list.push(readOne(o, id, undefined));
      } else {
        list.push(readOne(o, p.propertyId, p.arrayIndex));
      }
    }
    results.push({ objectId: o.id, results: list });
  }
  return { results };
}
