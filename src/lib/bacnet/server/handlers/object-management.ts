/**
 * CreateObject (ASHRAE 135-2020 Clause 15.3) and DeleteObject (Clause 15.4) as served, when the
 * server allows dynamic creation (otherwise object / dynamic-creation-not-supported and object /
 * object-deletion-not-permitted).
 *
 * CreateObject by type takes the next free instance; by identifier it refuses one in use (object /
 * object-identifier-already-exists). Initial values are applied in order; the first one that fails
 * answers CreateObject-Error with its 1-based element number and nothing is created
 * (15.3). Created objects are writable and deletable. DeleteObject refuses the Device object
 * and objects configured in the flow (object / object-deletion-not-permitted).
 */
import type { CreateObjectAck, CreateObjectRequest, DeleteObjectRequest } from '../../services/object-management';
import { ObjectType } from '../../enums/object-type';
import { PropertyIdentifier as P } from '../../enums/property-identifier';
import { Errors, PropertyAccessError } from '../../objects/errors';
import { createLocalObject } from '../../objects/factory';
import { objectTypeDef } from '../../objects/types';
import type { RequestInfo, ServiceContext } from '../context';

function fail(e: unknown, element: number): never {
  if (e instanceof PropertyAccessError) {
    e.firstFailedElementNumber = element;
    throw e;
  }
  throw e;
}

export function createObject(ctx: ServiceContext, req: CreateObjectRequest, info: RequestInfo): CreateObjectAck {
  if (!ctx.rules.allowCreateDelete) fail(new PropertyAccessError('object', 'dynamic-creation-not-supported'), 0);
  if (!ctx.rules.mayWrite(info.source)) fail(Errors.writeAccessDenied('not on the write allow-list'), 0);
  const type = 'objectId' in req ? req.objectId.type : req.objectType;
  const def = objectTypeDef(type);
  if (!def || type === ObjectType.device) fail(new PropertyAccessError('object', 'unsupported-object-type', ObjectType.label(type)), 0);
  const instance = 'objectId' in req ? req.objectId.instance : ctx.db.nextInstance(type);
  if (ctx.db.get({ type, instance })) fail(new PropertyAccessError('object', 'object-identifier-already-exists'), 0);
  const initial = req.initialValues ?? [];
  const nameIndex = initial.findIndex((v) => v.propertyId === P.objectName);
  let name = `${ObjectType.label(type)}-${instance}`;
  if (nameIndex >= 0) {
    const v = initial[nameIndex]!.value[0];
    if (initial[nameIndex]!.value.length !== 1 || v?.type !== 'character-string' || !v.value) fail(Errors.invalidDataType('object-name'), nameIndex + 1);
    name = v.value;
  }
  if (ctx.db.getByName(name)) fail(Errors.duplicateName(name), nameIndex + 1);
  const object = createLocalObject(type, { instance, name, writable: true, deletable: true, commandable: def.commandable === 'always' });
  initial.forEach((v, i) => {
    if (v.propertyId === P.objectName) return;
    try {
      if (v.propertyId === P.objectIdentifier || v.propertyId === P.objectType) {
        const x = v.value[0];
        const same = v.propertyId === P.objectType
          ? x?.type === 'enumerated' && x.value === type
          : x?.type === 'object-identifier' && x.value.type === type && x.value.instance === instance;
        if (!same) throw Errors.valueOutOfRange(P.label(v.propertyId));
        return;
      }
      if (!object.has(v.propertyId)) object.addProperty(v.propertyId);
      object.setLocal(v.propertyId, v.value, { silent: true, ...(v.priority !== undefined ? { priority: v.priority } : {}) });
    } catch (e) {
      object.dispose();
      fail(e, i + 1);
    }
  });
  try {
    ctx.db.add(object);
  } catch (e) {
    fail(e, 0);
  }
  ctx.events({ type: 'object-created', object, source: info.source });
  return { objectId: object.id };
}

export function deleteObject(ctx: ServiceContext, req: DeleteObjectRequest, info: RequestInfo): void {
  if (!ctx.rules.allowCreateDelete) throw new PropertyAccessError('object', 'object-deletion-not-permitted', 'dynamic deletion is disabled');
  if (!ctx.rules.mayWrite(info.source)) throw Errors.writeAccessDenied('not on the write allow-list');
  const o = ctx.db.get(req.objectId);
  if (!o) throw Errors.unknownObject();
  if (o === ctx.db.device || !o.deletable) throw new PropertyAccessError('object', 'object-deletion-not-permitted', o.label());
  ctx.db.remove(o.id);
  ctx.events({ type: 'object-deleted', object: o, source: info.source });
}
