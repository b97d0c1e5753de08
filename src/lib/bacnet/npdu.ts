/**
 * Network layer protocol data units (ASHRAE 135-2020 Clause 6.2): version, control octet
 * (network-layer message, DNET/DLEN/DADR, SNET/SLEN/SADR, expecting-reply, priority), hop
 * count, and the network-layer messages of Clause 6.4: Who-Is-Router-To-Network,
 * I-Am-Router-To-Network, I-Could-Be-Router-To-Network, Reject-Message-To-Network,
 * Router-Busy/Available-To-Network, Initialize-Routing-Table(-Ack), Establish/Disconnect-
 * Connection-To-Network, What-Is-Network-Number and Network-Number-Is.
 *
 * DLEN 0 means a broadcast on DNET; DNET 0xFFFF is the global broadcast (6.2.2). SLEN must not
 * be 0 (6.2.2.1). Payloads are views into the datagram.
 */
import { Reader } from '../wire/reader';
import type { Writer } from '../wire/writer';
import { DecodeError, LocalProtocolError } from '../wire/errors';
import { defineEnum } from './enums/enum';

export const NPDU_VERSION = 0x01;
export const GLOBAL_NETWORK = 0xffff;
export const DEFAULT_HOP_COUNT = 255;

/** Network priority (6.2.2): normal, urgent, critical equipment, life safety. */
export const NetworkPriority = defineEnum('network priority', {
  normal: 0, urgent: 1, 'critical-equipment': 2, 'life-safety': 3,
}, {}, 3);

/** Network layer message types (6.2.4). */
export const NetworkMessageType = defineEnum('network message type', {
  'who-is-router-to-network': 0x00,
  'i-am-router-to-network': 0x01,
  'i-could-be-router-to-network': 0x02,
  'reject-message-to-network': 0x03,
  'router-busy-to-network': 0x04,
  'router-available-to-network': 0x05,
  'initialize-routing-table': 0x06,
  'initialize-routing-table-ack': 0x07,
  'establish-connection-to-network': 0x08,
  'disconnect-connection-to-network': 0x09,
  'challenge-request': 0x0a,
  'security-payload': 0x0b,
  'security-response': 0x0c,
  'request-key-update': 0x0d,
  'update-key-set': 0x0e,
  'update-distribution-key': 0x0f,
  'request-master-key': 0x10,
  'set-master-key': 0x11,
  'what-is-network-number': 0x12,
  'network-number-is': 0x13,
}, {}, 255);

/** Reject-Message-To-Network reasons (6.4.4). */
export const RejectMessageReason = defineEnum('reject-message reason', {
  other: 0,
  'not-directly-connected': 1,
  'router-busy': 2,
  'unknown-message-type': 3,
  'message-too-long': 4,
  'security-error': 5,
  'addressing-error': 6,
}, {}, 255);

/** A network-layer address: network number and MAC (an empty MAC is a broadcast on that network). */
export interface NetworkAddress {
  network: number;
  mac: Uint8Array;
}

export interface Npdu {
  /** Present for network-layer messages (control bit 7). */
  messageType?: number;
  /** Vendor ID of proprietary message types (0x80..0xFF). */
  vendorId?: number;
  destination?: NetworkAddress;
  source?: NetworkAddress;
  hopCount?: number;
  expectingReply: boolean;
  priority: number;
  /** APDU, or the body of the network-layer message: a view into the datagram. */
  payload: Uint8Array;
}

/** Decode an NPDU (the BVLL payload). */
export function decodeNpdu(b: Uint8Array): Npdu {
  // Direct indexing with explicit bounds checks: this runs for every datagram.
  const n = b.length;
  const need = (at: number, k: number, field: string): void => {
    if (at + k > n) throw new DecodeError(field, at, `needs ${k} byte(s), ${Math.max(0, n - at)} left`);
  };
  need(0, 2, 'npdu header');
  if (b[0] !== NPDU_VERSION) throw new DecodeError('npdu version', 0, `version ${b[0]} is not 1`);
  const control = b[1]!;
  if (control & 0x50) throw new DecodeError('npdu control', 1, 'reserved bits set');
  let p = 2;
  const out: Npdu = { expectingReply: (control & 0x04) !== 0, priority: control & 0x03, payload: b };
  if (control & 0x20) {
    need(p, 3, 'dnet');
    const network = (b[p]! << 8) | b[p + 1]!;
    if (network === 0) throw new DecodeError('dnet', p, 'DNET 0 is not a valid network number');
    const len = b[p + 2]!;
    p += 3;
    need(p, len, 'dadr');
    out.destination = { network, mac: b.slice(p, p + len) };
    p += len;
  }
  if (control & 0x08) {
    need(p, 3, 'snet');
    const network = (b[p]! << 8) | b[p + 1]!;
    if (network === 0 || network === GLOBAL_NETWORK) throw new DecodeError('snet', p, `SNET ${network} is not a valid source network`);
    const len = b[p + 2]!;
    if (len === 0) throw new DecodeError('slen', p + 2, 'SLEN 0 is not allowed');
    p += 3;
    need(p, len, 'sadr');
    out.source = { network, mac: b.slice(p, p + len) };
    p += len;
  }
  if (control & 0x20) {
    need(p, 1, 'hop count');
    out.hopCount = b[p++]!;
  }
  if (control & 0x80) {
    need(p, 1, 'network message type');
    out.messageType = b[p++]!;
    if (out.messageType >= 0x80) {
      need(p, 2, 'vendor id');
      out.vendorId = (b[p]! << 8) | b[p + 1]!;
      p += 2;
    }
  }
  out.payload = b.subarray(p);
  return out;
}

/** Write an NPDU header (everything before the APDU or network message body). */
export function writeNpduHeader(w: Writer, n: Omit<Npdu, 'payload'>): void {
  let control = n.priority & 0x03;
  if (n.expectingReply) control |= 0x04;
  if (n.destination) control |= 0x20;
  if (n.source) control |= 0x08;
  if (n.messageType !== undefined) control |= 0x80;
  w.u8(NPDU_VERSION).u8(control);
  if (n.destination) {
    if (n.destination.network < 1 || n.destination.network > 0xffff) {
      throw new LocalProtocolError(`DNET ${n.destination.network} outside 1..65535`);
    }
    if (n.destination.mac.length > 255) throw new LocalProtocolError('DADR longer than 255 octets');
    w.u16(n.destination.network).u8(n.destination.mac.length).bytes(n.destination.mac);
  }
  if (n.source) {
    if (n.source.network < 1 || n.source.network >= 0xffff) throw new LocalProtocolError(`SNET ${n.source.network} outside 1..65534`);
    if (n.source.mac.length < 1 || n.source.mac.length > 255) throw new LocalProtocolError('SADR must be 1..255 octets');
    w.u16(n.source.network).u8(n.source.mac.length).bytes(n.source.mac);
  }
  if (n.destination) w.u8(n.hopCount ?? DEFAULT_HOP_COUNT);
  if (n.messageType !== undefined) {
    w.u8(n.messageType);
    if (n.messageType >= 0x80) w.u16(n.vendorId ?? 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Network layer messages (6.4)

/** One port of an Initialize-Routing-Table(-Ack) (6.4.7). */
export interface RoutingTablePort {
  network: number;
  portId: number;
  portInfo: Uint8Array;
}

export type NetworkMessage =
  | { type: 0x00; network?: number }
  | { type: 0x01 | 0x04 | 0x05; networks: number[] }
  | { type: 0x02; network: number; performanceIndex: number }
  | { type: 0x03; reason: number; network: number }
  | { type: 0x06 | 0x07; ports: RoutingTablePort[] }
  | { type: 0x08; network: number; terminationTime: number }
  | { type: 0x09; network: number }
  | { type: 0x12 }
  | { type: 0x13; network: number; configured: boolean }
  | { type: number; body: Uint8Array };

function networkList(r: Reader): number[] {
  if (r.remaining % 2) r.fail('network list', 'odd number of octets');
  const out: number[] = [];
  while (!r.done) out.push(r.u16('network'));
  return out;
}

/** Decode the body of a network-layer message of type `type`. */
export function decodeNetworkMessage(type: number, body: Uint8Array): NetworkMessage {
  const r = new Reader(body);
  let m: NetworkMessage;
  switch (type) {
    case 0x00:
      m = r.done ? { type } : { type, network: r.u16('dnet') };
      break;
    case 0x01:
    case 0x04:
    case 0x05:
      m = { type, networks: networkList(r) };
      break;
    case 0x02:
      m = { type, network: r.u16('dnet'), performanceIndex: r.u8('performance index') };
      break;
    case 0x03:
      m = { type, reason: r.u8('reject reason'), network: r.u16('dnet') };
      break;
    case 0x06:
    case 0x07: {
      const count = r.u8('number of ports');
      const ports: RoutingTablePort[] = [];
      for (let i = 0; i < count; i++) {
        const network = r.u16('port dnet');
        const portId = r.u8('port id');
        const len = r.u8('port info length');
        ports.push({ network, portId, portInfo: r.copy(len, 'port info') });
      }
      m = { type, ports };
      break;
    }
    case 0x08:
      m = { type, network: r.u16('dnet'), terminationTime: r.u8('termination time') };
      break;
    case 0x09:
      m = { type, network: r.u16('dnet') };
      break;
    case 0x12:
      m = { type };
      break;
    case 0x13: {
      const network = r.u16('network number');
      const flag = r.u8('network number flag');
      m = { type, network, configured: flag === 1 };
      break;
    }
    default:
      return { type, body: body.slice() };
  }
  r.expectEnd(NetworkMessageType.label(type));
  return m;
}

/** Write the body of a network-layer message (the header carries its type). */
export function writeNetworkMessageBody(w: Writer, m: NetworkMessage): void {
  if ('body' in m) {
    w.bytes(m.body);
    return;
  }
  switch (m.type) {
    case 0x00:
      if ('network' in m && m.network !== undefined) w.u16(m.network);
      return;
    case 0x01:
    case 0x04:
    case 0x05:
      for (const n of (m as { networks: number[] }).networks) w.u16(n);
      return;
    case 0x02: {
      const x = m as { network: number; performanceIndex: number };
      w.u16(x.network).u8(x.performanceIndex);
      return;
    }
    case 0x03: {
      const x = m as { reason: number; network: number };
      w.u8(x.reason).u16(x.network);
      return;
    }
    case 0x06:
    case 0x07: {
      const ports = (m as { ports: RoutingTablePort[] }).ports;
      w.u8(ports.length);
      for (const p of ports) w.u16(p.network).u8(p.portId).u8(p.portInfo.length).bytes(p.portInfo);
      return;
    }
    case 0x08: {
      const x = m as { network: number; terminationTime: number };
      w.u16(x.network).u8(x.terminationTime);
      return;
    }
    case 0x09:
      w.u16((m as { network: number }).network);
      return;
    case 0x12:
      return;
    case 0x13: {
      const x = m as { network: number; configured: boolean };
      w.u16(x.network).u8(x.configured ? 1 : 0);
      return;
    }
    default:
      throw new LocalProtocolError(`network message type ${(m as { type: number }).type} needs a body`);
  }
}
