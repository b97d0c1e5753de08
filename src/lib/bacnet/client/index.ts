/**
 * The BACnet client: services, scheduling, device knowledge, COV and polling above one
 * BacnetEndpoint. See client.ts for the overview.
 */
export * from './client';
export * from './scheduler';
export * from './device-state';
export * from './rpm-budget';
export * from './failures';
export * from './cov-manager';
export * from './poll-manager';
export * from './discovery';
export * from './points';
export * from './shared';
