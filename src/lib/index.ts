/**
 * Fieldlink as a plain library: the protocol stacks and probes without Node-RED.
 * Each area adds its public entry points here.
 */
export { Reader } from './wire/reader';
export { Writer } from './wire/writer';
export { ChunkQueue } from './wire/chunks';
export { FieldlinkError, DecodeError, LocalProtocolError, RemoteProtocolError, TimeoutError, errorText } from './wire/errors';
export * as probe from './probe';
export * as ca from './epics/ca';
export * as bacnet from './bacnet';
