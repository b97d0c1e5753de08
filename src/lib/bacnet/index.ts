/**
 * Fieldlink's BACnet/IP stack (ASHRAE 135-2020): public entry point. See README.md in this
 * folder for the module map, the value model and examples.
 */
export * from './enums';
export * from './codec/primitives';
export * from './codec/values';
export * from './codec/constructed';
export * from './codec/event-parameters';
export * from './codec/datatypes';
export * from './codec/js';
export { AppTag, TagKind, readTag, writeTag, writeOpening, writeClosing, skipElement, MAX_NESTING_DEPTH, MAX_TAG_LENGTH } from './codec/tags';
export * from './bvlc';
export * from './npdu';
export * from './apdu';
export * from './frame';
export * from './services/registry';
export * from './services/errors';
export * from './services/who-is';
export * from './services/who-has';
export * from './services/read-property';
export * from './services/read-property-multiple';
export * from './services/write-property';
export * from './services/write-property-multiple';
export * from './services/subscribe-cov';
export * from './services/cov-notification';
export * from './services/read-range';
export * from './services/time-synchronization';
export * from './services/device-management';
export * from './services/atomic-file';
export * from './services/object-management';
export * from './services/alarms-events';
export * as server from './server/index';
// the client: services, scheduler, COV, polling, discovery (bacnet.client.*; BacnetClient also at the top)
export * as client from './client/index';
export { BacnetClient } from './client/client';
export { SharedEndpoint, type SharedEndpointStatus, type SharedEndpointState } from './shared-endpoint';
// the stack
export * from './errors';
export * from './address';
export * from './segmentation';
export * from './client-tsm';
export * from './server-tsm';
export * from './network';
export * from './foreign-device';
export * from './device-cache';
export * from './transport';
export * from './endpoint';
