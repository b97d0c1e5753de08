/**
 * Channel Access (CA 4.13) in TypeScript: the sans-I/O protocol core (this barrel's first part)
 * and the server. See README.md in this folder for the module map.
 */
export * from './constants';
export * from './header';
export * from './time';
export * from './dbr';
export * from './messages';
export * from './framer';
export * from './datagram';
export * from './state';
export * from './errors';
export * from './convert';
export * from './server-pv';
export * from './server-circuit';
export * from './server-udp';
export * from './transport';
export * from './server';
export { spawnCaServer, runServer, type CaServerProcess, type ServerProcessConfig, type ServerCommand, type ServerProcessOptions } from './server-main';
export * from './client-options';
export * from './search';
export * from './client-beacons';
export { ClientCircuit, type CircuitOwner, type CircuitRole, type CircuitStats } from './circuit-client';
export { ClientUdp, type ClientUdpOptions, type RepeaterRole } from './client-udp';
export { LocalRepeater, type RepeaterListener } from './client-repeater';
export { makeReading, metaFromDbr, prepareWrite, type CaMetadata, type CaReading, type CaValue, type ChannelEvent, type ChannelListener, type CaClientErrorCode, type PreparedWrite } from './client-channel';
export * from './client';
export * from '../pv-name';
