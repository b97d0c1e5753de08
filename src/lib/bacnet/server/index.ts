/**
 * The BACnet server (ASHRAE 135-2020: a device's object database, Clause 12 objects, the engines of
 * Clauses 12.24/12.25/13 and the services of Clauses 13..16 as a responding BACnet-user), public
 * entry point: `bacnet.server.BacnetServer`, `bindServer(server, endpoint)`, the object model.
 */
export { BacnetServer, CONFIRMED_HANDLERS, UNCONFIRMED_HANDLERS, type ServerOptions, type ConfirmedOutcome, type ServerStats } from './server';
export { bindServer, responseBudget, type BindingOptions, type BindingStats } from './endpoint-binding';
export { ObjectDatabase, systemClock, objectKey, type Clock, type PropertyChange } from './database';
export type { ServerEvent, EventSink, WriteService } from './events';
export type { PeerAddress, ServerNetwork } from './network';
export { peerKey } from './network';
export {
  specToInit, propertyJs, presentValueJs, describeObject, objectPropertiesJs, ObjectSpecError, type ObjectSpec, type ObjectAccess,
} from './object-spec';
export { takeSnapshot, restoreSnapshot, type ServerSnapshot, type RestoreReport } from './persistence';
export { allowListPredicate } from './allow-list';
export { passwordMatches, type CommunicationState } from './communication-control';
export { BacnetObject, type ObjectInit, type WriteRequest, type ObjectHost } from '../objects/object';
export { DeviceObject, PROTOCOL_REVISION, PROTOCOL_VERSION, type DeviceIdentity, type DeviceCommunication } from '../objects/device';
export { FileObject, type FileInit } from '../objects/file';
export { TrendLogObject } from '../objects/trend-log';
export { PriorityArray } from '../objects/command';
export { OBJECT_TYPES, objectTypeDef, type ObjectTypeDef } from '../objects/types';
export { PropertyAccessError, ServiceReject, ServiceAbort } from '../objects/errors';
export { createLocalObject } from '../objects/factory';
