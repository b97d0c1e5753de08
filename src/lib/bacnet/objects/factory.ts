/**
 * Create a local object of any implemented type (ASHRAE 135-2020 Clause 12; the types listed in
 * types.ts), choosing the class that carries its behaviour: File (12.13), Trend Log (12.25),
 * or the generic object for the rest. The Device object is created by the server (device.ts).
 */
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { Value } from '../codec/values';
import { BacnetObject, type ObjectInit } from './object';
import { FileObject, type FileInit } from './file';
import { TrendLogObject } from './trend-log';
import { objectTypeDef } from './types';
import { PropertyAccessError } from './errors';

/** Create an object; throws object / unsupported-object-type for types this server does not host. */
export function createLocalObject(type: number, init: ObjectInit | FileInit): BacnetObject {
  if (type === ObjectType.file) return new FileObject(init as FileInit);
  if (type === ObjectType.trendLog) return new TrendLogObject(init);
  const def = objectTypeDef(type);
  if (type === ObjectType.notificationClass) {
    // Notification_Class defaults to the instance number (the usual convention; Clause 12.21).
    const values = [...(init.values ?? [])];
    if (!values.some(([id]) => id === P.notificationClass)) values.push([P.notificationClass, [Value.unsigned(init.instance)]]);
    init = { ...init, values };
  }
  if (!def || type === ObjectType.device) {
    throw new PropertyAccessError('object', 'unsupported-object-type', `${ObjectType.label(type)} is not implemented`);
  }
  return new BacnetObject(def, init);
}
