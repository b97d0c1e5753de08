/**
 * One encoder and one decoded shape per CA message.
 *
 * Messages mean different things in each direction (a CREATE_CHAN request carries a name, the
 * reply a native type and a SID), so decoding takes the direction: `decodeRequest` for what a
 * client sends (a server decodes it), `decodeResponse` for what a server sends. Field names
 * follow the specification; header fields that a message does not use are written as zero.
 *
 * Header field use per message (p1 = param1 / "cid", p2 = param2 / "available"):
 *
 * | command          | dataType          | count            | p1                 | p2               | payload                  |
 * |------------------|-------------------|------------------|--------------------|------------------|--------------------------|
 * | VERSION (TCP)    | priority          | minor version    | 0                  | 0                | -                        |
 * | VERSION (UDP)    | 1 = seq. valid    | minor version    | sequence number    | 0                | -                        |
 * | SEARCH request   | DO/DONT_REPLY     | minor version    | cid                | cid              | name                     |
 * | SEARCH reply     | server TCP port   | 0                | server IPv4 or ~0  | cid              | u16 minor version (UDP)  |
 * | NOT_FOUND        | DO_REPLY          | minor version    | cid                | cid              | -                        |
 * | CREATE_CHAN req  | 0                 | 0                | cid                | minor version    | name                     |
 * | CREATE_CHAN rep  | native type       | native count     | cid                | sid              | -                        |
 * | ACCESS_RIGHTS    | 0                 | 0                | cid                | rights           | -                        |
 * | CREATE_CH_FAIL   | 0                 | 0                | cid                | 0                | -                        |
 * | SERVER_DISCONN   | 0                 | 0                | cid                | 0                | -                        |
 * | READ_NOTIFY req  | DBR type          | count (0 = all)  | sid                | ioid             | -                        |
 * | READ_NOTIFY rep  | DBR type          | count            | ECA status         | ioid             | DBR                      |
 * | WRITE(_NOTIFY)   | DBR type          | count            | sid                | ioid             | DBR                      |
 * | WRITE_NOTIFY rep | DBR type          | count            | ECA status         | ioid             | -                        |
 * | EVENT_ADD req    | DBR type          | count (0 = all)  | sid                | subscription id  | f32 lo, hi, to; u16 mask |
 * | EVENT_ADD rep    | DBR type          | count            | ECA status         | subscription id  | DBR                      |
 * | EVENT_CANCEL     | DBR type          | count            | sid                | subscription id  | -                        |
 * | final EVENT_ADD  | DBR type          | 0                | sid                | subscription id  | none (size 0)            |
 * | CLEAR_CHANNEL    | 0                 | 0                | sid                | cid              | -                        |
 * | ERROR            | 0                 | 0                | cid                | ECA status       | request header + text    |
 * | RSRV_IS_UP       | minor version     | server TCP port  | beacon id          | server IPv4      | -                        |
 * | REPEATER_REGISTER| 0                 | 0                | 0                  | client IPv4      | -                        |
 * | REPEATER_CONFIRM | 0                 | 0                | 0                  | repeater IPv4    | -                        |
 * | HOST/CLIENT_NAME | 0                 | 0                | 0                  | 0                | name                     |
 * | ECHO, EVENTS_OFF/ON, READ_SYNC | 0   | 0                | 0                  | 0                | -                        |
 */
import { DecodeError, LocalProtocolError } from '../../wire/errors';
import { CA_MINOR_VERSION, Command, ECA, HEADER_SIZE, SearchReply, SEQUENCE_NUMBER_VALID } from './constants';
import { decodeDbr, dbrLayout, dbrSize, writeDbr, type DbrInput, type DbrValue } from './dbr';
import { pad8, peekHeader, writeHeader, headerSize, type CaHeader } from './header';


// ---------------------------------------------------------------------------------------------
// Shapes

/** A complete message as the framer delivers it: header plus exactly `payloadSize` bytes. */
export interface CaFrame {
  header: CaHeader;
  /** 16 or 24. */
  headerSize: number;
  payload: Uint8Array;
  /** True when `payload` is a private copy that the decoder may modify (byte-swap in place). */
  owned: boolean;
}

export interface VersionMessage { kind: 'Version'; priority: number; minorVersion: number; /** UDP only, when flagged valid. */ sequence?: number }
export interface SearchRequest { kind: 'SearchRequest'; name: string; cid: number; reply: number; minorVersion: number }
export interface SearchResponse {
  kind: 'SearchResponse';
  port: number;
  cid: number;
  /** The server's IPv4 address as u32; 0xFFFFFFFF (or 0) means "the datagram's source". */
  serverIp: number;
  /** Server minor version (UDP replies carry it; TCP replies leave it to the VERSION exchange). */
  minorVersion?: number;
}
export interface NotFoundResponse { kind: 'NotFoundResponse'; cid: number; reply: number; minorVersion: number }
export interface CreateChanRequest { kind: 'CreateChanRequest'; cid: number; minorVersion: number; name: string }
export interface CreateChanResponse { kind: 'CreateChanResponse'; cid: number; sid: number; dataType: number; count: number }
export interface AccessRightsResponse { kind: 'AccessRightsResponse'; cid: number; rights: number }
export interface CreateChFailResponse { kind: 'CreateChFailResponse'; cid: number }
export interface ServerDisconnResponse { kind: 'ServerDisconnResponse'; cid: number }
export interface ReadNotifyRequest { kind: 'ReadNotifyRequest'; sid: number; ioid: number; dataType: number; count: number }
export interface ReadRequest { kind: 'ReadRequest'; sid: number; ioid: number; dataType: number; count: number }
export interface ReadNotifyResponse {
  kind: 'ReadNotifyResponse';
  ioid: number;
  status: number;
  dataType: number;
  count: number;
  /** Present when status is ECA_NORMAL and the type is known. */
  data?: DbrValue;
}
export interface ReadResponse { kind: 'ReadResponse'; sid: number; ioid: number; dataType: number; count: number; data?: DbrValue }
export interface WriteRequest { kind: 'WriteRequest'; sid: number; ioid: number; dataType: number; count: number; /** Absent for an unknown type. */ data?: DbrValue }
export interface WriteNotifyRequest { kind: 'WriteNotifyRequest'; sid: number; ioid: number; dataType: number; count: number; data?: DbrValue }
export interface WriteNotifyResponse { kind: 'WriteNotifyResponse'; ioid: number; status: number; dataType: number; count: number }
export interface EventAddRequest {
  kind: 'EventAddRequest';
  sid: number;
  subscriptionId: number;
  dataType: number;
  count: number;
  mask: number;
  /** Deadband fields of `mon_info` (float32, unused by RSRV). */
  low: number;
  high: number;
  timeout: number;
}
export interface EventAddResponse { kind: 'EventAddResponse'; subscriptionId: number; status: number; dataType: number; count: number; data?: DbrValue }
export interface EventCancelRequest { kind: 'EventCancelRequest'; sid: number; subscriptionId: number; dataType: number; count: number }
/** The final EVENT_ADD (payload size 0) that confirms an EVENT_CANCEL. */
export interface EventCancelResponse { kind: 'EventCancelResponse'; sid: number; subscriptionId: number; dataType: number }
export interface EventsOffRequest { kind: 'EventsOffRequest' }
export interface EventsOnRequest { kind: 'EventsOnRequest' }
export interface ReadSyncRequest { kind: 'ReadSyncRequest' }
export interface ClearChannelRequest { kind: 'ClearChannelRequest'; sid: number; cid: number }
export interface ClearChannelResponse { kind: 'ClearChannelResponse'; sid: number; cid: number }
export interface EchoMessage { kind: 'Echo' }
export interface HostNameRequest { kind: 'HostNameRequest'; name: string }
export interface ClientNameRequest { kind: 'ClientNameRequest'; name: string }
export interface ErrorResponse {
  kind: 'ErrorResponse';
  cid: number;
  status: number;
  /** Header of the request that failed (undefined when the payload does not hold one). */
  request?: CaHeader;
  message: string;
}
export interface BeaconMessage { kind: 'Beacon'; minorVersion: number; port: number; beaconId: number; /** u32; 0 = use the source. */ serverIp: number }
export interface RepeaterRegisterRequest { kind: 'RepeaterRegisterRequest'; clientIp: number }
export interface RepeaterConfirmResponse { kind: 'RepeaterConfirmResponse'; repeaterIp: number }
/** A command this decoder does not know (or one that has no meaning in this direction). */
export interface UnknownMessage { kind: 'Unknown'; header: CaHeader; payload: Uint8Array }

/** What a client sends (decoded by a server). */
export type CaRequest =
  | VersionMessage | SearchRequest | CreateChanRequest | ReadNotifyRequest | ReadRequest | WriteRequest
  | WriteNotifyRequest | EventAddRequest | EventCancelRequest | EventsOffRequest | EventsOnRequest
  | ReadSyncRequest | ClearChannelRequest | EchoMessage | HostNameRequest | ClientNameRequest
  | RepeaterRegisterRequest | UnknownMessage;

/** What a server (or repeater) sends (decoded by a client). */
export type CaResponse =
  | VersionMessage | SearchResponse | NotFoundResponse | CreateChanResponse | AccessRightsResponse
  | CreateChFailResponse | ServerDisconnResponse | ReadNotifyResponse | ReadResponse | WriteNotifyResponse
  | EventAddResponse | EventCancelResponse | ClearChannelResponse | EchoMessage | ErrorResponse
  | BeaconMessage | RepeaterConfirmResponse | ReadSyncRequest | UnknownMessage;

// ---------------------------------------------------------------------------------------------
// Helpers

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Dotted IPv4 text of a u32. */
export function ipv4FromU32(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** u32 of a dotted IPv4 address (0 for anything that is not one). */
export function ipv4ToU32(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return 0;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return 0;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new LocalProtocolError(`${what} ${v} does not fit 16 bits`);
  return v;
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new LocalProtocolError(`${what} ${v} does not fit 32 bits`);
  return v;
}

/** A message with no payload (always the 16-byte form). */
function bare(command: number, dataType: number, count: number, p1: number, p2: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  writeHeader(out, 0, { command, payloadSize: 0, dataType: u16(dataType, 'dataType'), count: u16(count, 'count'), param1: u32(p1, 'param1'), param2: u32(p2, 'param2') });
  return out;
}

/** A message whose payload is a NUL-terminated string padded to 8. */
function withName(command: number, dataType: number, count: number, p1: number, p2: number, name: string): Uint8Array {
  const bytes = textEncoder.encode(name);
  if (bytes.includes(0)) throw new LocalProtocolError('CA names cannot contain NUL');
  const ps = pad8(bytes.length + 1);
  if (ps > 0xfff0) throw new LocalProtocolError(`name of ${bytes.length} bytes is too long`);
  const out = new Uint8Array(HEADER_SIZE + ps);
  writeHeader(out, 0, { command, payloadSize: ps, dataType: u16(dataType, 'dataType'), count: u16(count, 'count'), param1: u32(p1, 'param1'), param2: u32(p2, 'param2') });
  out.set(bytes, HEADER_SIZE);
  return out;
}

/** A message carrying a DBR payload of `count` elements (extended header when needed). */
function withDbr(command: number, dataType: number, count: number, p1: number, p2: number, data: DbrInput | undefined): Uint8Array {
  const l = dbrLayout(dataType);
  if (!l) throw new LocalProtocolError(`unknown DBR type ${dataType}`);
  u32(count, 'count');
  const size = dbrSize(dataType, count);
  // A count-0 reply of a plain type has no bytes at all; send 8 zero bytes so that it is not
  // mistaken for the zero-size final event that confirms an EVENT_CANCEL.
  const ps = Math.max(8, pad8(size));
  const hs = headerSize(ps, count);
  const out = new Uint8Array(hs + ps);
  writeHeader(out, 0, { command, payloadSize: ps, dataType, count, param1: u32(p1, 'param1'), param2: u32(p2, 'param2') });
  if (data) writeDbr(out, hs, dataType, count, data);
  return out;
}

/** Text up to the first NUL of a payload. */
function payloadString(p: Uint8Array): string {
  let n = p.indexOf(0);
  if (n < 0) n = p.length;
  return textDecoder.decode(p.subarray(0, n));
}

// ---------------------------------------------------------------------------------------------
// Encoders

/** VERSION on a TCP circuit: priority (0..99) and our minor version. */
export function encodeVersion(m: { priority?: number; minorVersion?: number } = {}): Uint8Array {
  return bare(Command.VERSION, m.priority ?? 0, m.minorVersion ?? CA_MINOR_VERSION, 0, 0);
}

/** VERSION at the start of a UDP datagram, with an optional search sequence number. */
export function encodeUdpVersion(m: { minorVersion?: number; sequence?: number } = {}): Uint8Array {
  const seq = m.sequence;
  return bare(Command.VERSION, seq === undefined ? 0 : SEQUENCE_NUMBER_VALID, m.minorVersion ?? CA_MINOR_VERSION, seq ?? 0, 0);
}

export function encodeSearchRequest(m: { name: string; cid: number; reply?: number; minorVersion?: number }): Uint8Array {
  return withName(Command.SEARCH, m.reply ?? SearchReply.DONT_REPLY, m.minorVersion ?? CA_MINOR_VERSION, m.cid, m.cid, m.name);
}

/** SEARCH reply. Over UDP the payload carries our minor version; over TCP it is empty. */
export function encodeSearchResponse(m: { port: number; cid: number; serverIp?: number; minorVersion?: number; udp?: boolean }): Uint8Array {
  const udp = m.udp ?? true;
  const out = new Uint8Array(HEADER_SIZE + (udp ? 8 : 0));
  writeHeader(out, 0, { command: Command.SEARCH, payloadSize: udp ? 8 : 0, dataType: u16(m.port, 'port'), count: 0, param1: u32(m.serverIp ?? 0xffffffff, 'serverIp'), param2: u32(m.cid, 'cid') });
  if (udp) {
    const v = m.minorVersion ?? CA_MINOR_VERSION;
    out[16] = (v >> 8) & 255;
    out[17] = v & 255;
  }
  return out;
}

export function encodeNotFound(m: { cid: number; minorVersion?: number; reply?: number }): Uint8Array {
  return bare(Command.NOT_FOUND, m.reply ?? SearchReply.DO_REPLY, m.minorVersion ?? CA_MINOR_VERSION, m.cid, m.cid);
}

export function encodeCreateChanRequest(m: { cid: number; name: string; minorVersion?: number }): Uint8Array {
  return withName(Command.CREATE_CHAN, 0, 0, m.cid, m.minorVersion ?? CA_MINOR_VERSION, m.name);
}

export function encodeCreateChanResponse(m: { cid: number; sid: number; dataType: number; count: number }): Uint8Array {
  // The native count can exceed 16 bits: the extended header then carries it.
  const out = new Uint8Array(headerSize(0, m.count));
  writeHeader(out, 0, { command: Command.CREATE_CHAN, payloadSize: 0, dataType: u16(m.dataType, 'dataType'), count: u32(m.count, 'count'), param1: u32(m.cid, 'cid'), param2: u32(m.sid, 'sid') });
  return out;
}

export function encodeAccessRights(m: { cid: number; rights: number }): Uint8Array {
  return bare(Command.ACCESS_RIGHTS, 0, 0, m.cid, m.rights);
}

export function encodeCreateChFail(m: { cid: number }): Uint8Array {
  return bare(Command.CREATE_CH_FAIL, 0, 0, m.cid, 0);
}

export function encodeServerDisconn(m: { cid: number }): Uint8Array {
  return bare(Command.SERVER_DISCONN, 0, 0, m.cid, 0);
}

function requestHeaderOnly(command: number, m: { sid: number; ioid: number; dataType: number; count: number }): Uint8Array {
  const out = new Uint8Array(headerSize(0, m.count));
  writeHeader(out, 0, { command, payloadSize: 0, dataType: u16(m.dataType, 'dataType'), count: u32(m.count, 'count'), param1: u32(m.sid, 'sid'), param2: u32(m.ioid, 'ioid') });
  return out;
}

export function encodeReadNotifyRequest(m: { sid: number; ioid: number; dataType: number; count: number }): Uint8Array {
  return requestHeaderOnly(Command.READ_NOTIFY, m);
}

/** The deprecated READ (3): same fields as READ_NOTIFY. */
export function encodeReadRequest(m: { sid: number; ioid: number; dataType: number; count: number }): Uint8Array {
  return requestHeaderOnly(Command.READ, m);
}

/**
 * READ_NOTIFY reply. With `data` absent (a failed read) the payload is zeros of the requested
 * size, as RSRV sends it, and `status` says why.
 */
export function encodeReadNotifyResponse(m: { ioid: number; dataType: number; count: number; status?: number; data?: DbrInput }): Uint8Array {
  return withDbr(Command.READ_NOTIFY, m.dataType, m.count, m.status ?? ECA.NORMAL, m.ioid, m.data);
}

export function encodeReadResponse(m: { sid: number; ioid: number; dataType: number; count: number; data?: DbrInput }): Uint8Array {
  return withDbr(Command.READ, m.dataType, m.count, m.sid, m.ioid, m.data);
}

export function encodeWriteRequest(m: { sid: number; ioid: number; dataType: number; count: number; data: DbrInput }): Uint8Array {
  return withDbr(Command.WRITE, m.dataType, m.count, m.sid, m.ioid, m.data);
}

export function encodeWriteNotifyRequest(m: { sid: number; ioid: number; dataType: number; count: number; data: DbrInput }): Uint8Array {
  return withDbr(Command.WRITE_NOTIFY, m.dataType, m.count, m.sid, m.ioid, m.data);
}

export function encodeWriteNotifyResponse(m: { ioid: number; dataType: number; count: number; status?: number }): Uint8Array {
  const out = new Uint8Array(headerSize(0, m.count));
  writeHeader(out, 0, { command: Command.WRITE_NOTIFY, payloadSize: 0, dataType: u16(m.dataType, 'dataType'), count: u32(m.count, 'count'), param1: u32(m.status ?? ECA.NORMAL, 'status'), param2: u32(m.ioid, 'ioid') });
  return out;
}

export function encodeEventAddRequest(m: { sid: number; subscriptionId: number; dataType: number; count: number; mask: number; low?: number; high?: number; timeout?: number }): Uint8Array {
  const out = new Uint8Array(headerSize(16, m.count) + 16);
  const hs = writeHeader(out, 0, { command: Command.EVENT_ADD, payloadSize: 16, dataType: u16(m.dataType, 'dataType'), count: u32(m.count, 'count'), param1: u32(m.sid, 'sid'), param2: u32(m.subscriptionId, 'subscriptionId') });
  const d = new DataView(out.buffer);
  d.setFloat32(hs, m.low ?? 0);
  d.setFloat32(hs + 4, m.high ?? 0);
  d.setFloat32(hs + 8, m.timeout ?? 0);
  d.setUint16(hs + 12, u16(m.mask, 'mask'));
  return out;
}

/** A monitor update. `count` is the number of elements sent (the current size for count-0 subscriptions). */
export function encodeEventAddResponse(m: { subscriptionId: number; dataType: number; count: number; status?: number; data?: DbrInput }): Uint8Array {
  return withDbr(Command.EVENT_ADD, m.dataType, m.count, m.status ?? ECA.NORMAL, m.subscriptionId, m.data);
}

export function encodeEventCancelRequest(m: { sid: number; subscriptionId: number; dataType: number; count: number }): Uint8Array {
  const out = new Uint8Array(headerSize(0, m.count));
  writeHeader(out, 0, { command: Command.EVENT_CANCEL, payloadSize: 0, dataType: u16(m.dataType, 'dataType'), count: u32(m.count, 'count'), param1: u32(m.sid, 'sid'), param2: u32(m.subscriptionId, 'subscriptionId') });
  return out;
}

/** The final, empty EVENT_ADD that answers EVENT_CANCEL (RSRV echoes the sid in param1). */
export function encodeEventCancelResponse(m: { sid: number; subscriptionId: number; dataType: number }): Uint8Array {
  return bare(Command.EVENT_ADD, m.dataType, 0, m.sid, m.subscriptionId);
}

export function encodeEventsOff(): Uint8Array {
  return bare(Command.EVENTS_OFF, 0, 0, 0, 0);
}

export function encodeEventsOn(): Uint8Array {
  return bare(Command.EVENTS_ON, 0, 0, 0, 0);
}

/** READ_SYNC (deprecated): a barrier; servers echo it. */
export function encodeReadSync(): Uint8Array {
  return bare(Command.READ_SYNC, 0, 0, 0, 0);
}

/** CLEAR_CHANNEL; the reply has the same fields as the request. */
export function encodeClearChannel(m: { sid: number; cid: number }): Uint8Array {
  return bare(Command.CLEAR_CHANNEL, 0, 0, m.sid, m.cid);
}

export function encodeEcho(): Uint8Array {
  return bare(Command.ECHO, 0, 0, 0, 0);
}

export function encodeHostName(name: string): Uint8Array {
  return withName(Command.HOST_NAME, 0, 0, 0, 0, name);
}

export function encodeClientName(name: string): Uint8Array {
  return withName(Command.CLIENT_NAME, 0, 0, 0, 0, name);
}

/** ERROR: the failed request's header (16 or 24 bytes), then a NUL-terminated text. */
export function encodeError(m: { cid: number; status: number; request: CaHeader; message: string }): Uint8Array {
  const text = textEncoder.encode(m.message.replace(/\0/g, ' '));
  const rq = m.request;
  const rqSize = headerSize(rq.payloadSize, rq.count);
  const ps = pad8(rqSize + text.length + 1);
  const hs = headerSize(ps, 0);
  const out = new Uint8Array(hs + ps);
  writeHeader(out, 0, { command: Command.ERROR, payloadSize: ps, dataType: 0, count: 0, param1: u32(m.cid, 'cid'), param2: u32(m.status, 'status') });
  writeHeader(out, hs, rq);
  out.set(text, hs + rqSize);
  return out;
}

/** RSRV_IS_UP beacon. */
export function encodeBeacon(m: { port: number; beaconId: number; serverIp?: number; minorVersion?: number }): Uint8Array {
  return bare(Command.RSRV_IS_UP, m.minorVersion ?? CA_MINOR_VERSION, m.port, m.beaconId >>> 0, m.serverIp ?? 0);
}

export function encodeRepeaterRegister(m: { clientIp?: number } = {}): Uint8Array {
  return bare(Command.REPEATER_REGISTER, 0, 0, 0, m.clientIp ?? 0);
}

export function encodeRepeaterConfirm(m: { repeaterIp?: number } = {}): Uint8Array {
  return bare(Command.REPEATER_CONFIRM, 0, 0, 0, m.repeaterIp ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Decoders

function data(f: CaFrame, dataType: number, count: number): DbrValue | undefined {
  if (!dbrLayout(dataType)) return undefined;
  return decodeDbr(dataType, count, f.payload, 0, f.payload.length, { owned: f.owned });
}

/** Read a header at `off` of a message's bytes as the embedded request of an ERROR. */
function embeddedHeader(p: Uint8Array): { header?: CaHeader; size: number } {
  const h = peekHeader(p, 0, p.length);
  if ('need' in h) return { size: 0 };
  return { header: h.header, size: h.size };
}

/** VERSION, the same both ways: over UDP it carries the sequence number of a search datagram, over TCP the priority. */
function decodeVersion(h: CaHeader, udp: boolean): VersionMessage {
  return udp
    ? { kind: 'Version', priority: 0, minorVersion: h.count, ...(h.dataType === SEQUENCE_NUMBER_VALID ? { sequence: h.param1 } : {}) }
    : { kind: 'Version', priority: h.dataType, minorVersion: h.count };
}

/**
 * Decode a message a client sent (what a server receives). `udp` selects the datagram meaning of
 * VERSION. Throws DecodeError when a payload is too short for what its header declares.
 */
export function decodeRequest(f: CaFrame, udp = false): CaRequest {
  const h = f.header;
  switch (h.command) {
    case Command.VERSION:
      return decodeVersion(h, udp);
    case Command.SEARCH:
      return { kind: 'SearchRequest', name: payloadString(f.payload), cid: h.param1, reply: h.dataType, minorVersion: h.count };
    case Command.CREATE_CHAN:
      return { kind: 'CreateChanRequest', cid: h.param1, minorVersion: h.param2, name: payloadString(f.payload) };
    case Command.READ_NOTIFY:
      return { kind: 'ReadNotifyRequest', sid: h.param1, ioid: h.param2, dataType: h.dataType, count: h.count };
    case Command.READ:
      return { kind: 'ReadRequest', sid: h.param1, ioid: h.param2, dataType: h.dataType, count: h.count };
    case Command.WRITE:
    case Command.WRITE_NOTIFY: {
      const d = data(f, h.dataType, h.count);
      const kind = h.command === Command.WRITE ? 'WriteRequest' : 'WriteNotifyRequest';
      return { kind, sid: h.param1, ioid: h.param2, dataType: h.dataType, count: h.count, ...(d ? { data: d } : {}) };
    }
    case Command.EVENT_ADD: {
      if (f.payload.length < 14) throw new DecodeError('EVENT_ADD.mon_info', 0, `needs 16 bytes, ${f.payload.length} present`);
      const d = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
      return {
        kind: 'EventAddRequest', sid: h.param1, subscriptionId: h.param2, dataType: h.dataType, count: h.count,
        low: d.getFloat32(0), high: d.getFloat32(4), timeout: d.getFloat32(8), mask: d.getUint16(12),
      };
    }
    case Command.EVENT_CANCEL:
      return { kind: 'EventCancelRequest', sid: h.param1, subscriptionId: h.param2, dataType: h.dataType, count: h.count };
    case Command.EVENTS_OFF:
      return { kind: 'EventsOffRequest' };
    case Command.EVENTS_ON:
      return { kind: 'EventsOnRequest' };
    case Command.READ_SYNC:
      return { kind: 'ReadSyncRequest' };
    case Command.CLEAR_CHANNEL:
      return { kind: 'ClearChannelRequest', sid: h.param1, cid: h.param2 };
    case Command.ECHO:
      return { kind: 'Echo' };
    case Command.HOST_NAME:
      return { kind: 'HostNameRequest', name: payloadString(f.payload) };
    case Command.CLIENT_NAME:
      return { kind: 'ClientNameRequest', name: payloadString(f.payload) };
    case Command.REPEATER_REGISTER:
      return { kind: 'RepeaterRegisterRequest', clientIp: h.param2 };
    default:
      return { kind: 'Unknown', header: h, payload: f.payload };
  }
}

/** Decode a message a server (or repeater) sent (what a client receives). */
export function decodeResponse(f: CaFrame, udp = false): CaResponse {
  const h = f.header;
  switch (h.command) {
    case Command.VERSION:
      return decodeVersion(h, udp);
    case Command.SEARCH: {
      const r: SearchResponse = { kind: 'SearchResponse', port: h.dataType, cid: h.param2, serverIp: h.param1 };
      if (f.payload.length >= 2) r.minorVersion = (f.payload[0]! << 8) | f.payload[1]!;
      return r;
    }
    case Command.NOT_FOUND:
      return { kind: 'NotFoundResponse', cid: h.param2, reply: h.dataType, minorVersion: h.count };
    case Command.CREATE_CHAN:
      return { kind: 'CreateChanResponse', cid: h.param1, sid: h.param2, dataType: h.dataType, count: h.count };
    case Command.ACCESS_RIGHTS:
      return { kind: 'AccessRightsResponse', cid: h.param1, rights: h.param2 };
    case Command.CREATE_CH_FAIL:
      return { kind: 'CreateChFailResponse', cid: h.param1 };
    case Command.SERVER_DISCONN:
      return { kind: 'ServerDisconnResponse', cid: h.param1 };
    case Command.READ_NOTIFY: {
      const r: ReadNotifyResponse = { kind: 'ReadNotifyResponse', ioid: h.param2, status: h.param1, dataType: h.dataType, count: h.count };
      if (h.param1 === ECA.NORMAL) {
        const d = data(f, h.dataType, h.count);
        if (d) r.data = d;
      }
      return r;
    }
    case Command.READ: {
      const r: ReadResponse = { kind: 'ReadResponse', sid: h.param1, ioid: h.param2, dataType: h.dataType, count: h.count };
      const d = data(f, h.dataType, h.count);
      if (d) r.data = d;
      return r;
    }
    case Command.WRITE_NOTIFY:
      return { kind: 'WriteNotifyResponse', ioid: h.param2, status: h.param1, dataType: h.dataType, count: h.count };
    case Command.EVENT_ADD: {
      if (h.payloadSize === 0) return { kind: 'EventCancelResponse', sid: h.param1, subscriptionId: h.param2, dataType: h.dataType };
      const r: EventAddResponse = { kind: 'EventAddResponse', subscriptionId: h.param2, status: h.param1, dataType: h.dataType, count: h.count };
      if (h.param1 === ECA.NORMAL) {
        const d = data(f, h.dataType, h.count);
        if (d) r.data = d;
      }
      return r;
    }
    case Command.CLEAR_CHANNEL:
      return { kind: 'ClearChannelResponse', sid: h.param1, cid: h.param2 };
    case Command.ECHO:
      return { kind: 'Echo' };
    case Command.READ_SYNC:
      return { kind: 'ReadSyncRequest' };
    case Command.ERROR: {
      const e = embeddedHeader(f.payload);
      const r: ErrorResponse = { kind: 'ErrorResponse', cid: h.param1, status: h.param2, message: payloadString(f.payload.subarray(e.size)) };
      if (e.header) r.request = e.header;
      return r;
    }
    case Command.RSRV_IS_UP:
      return { kind: 'Beacon', minorVersion: h.dataType, port: h.count, beaconId: h.param1, serverIp: h.param2 };
    case Command.REPEATER_CONFIRM:
      return { kind: 'RepeaterConfirmResponse', repeaterIp: h.param2 };
    default:
      return { kind: 'Unknown', header: h, payload: f.payload };
  }
}

