/**
 * Application layer PDU headers (ASHRAE 135-2020 Clause 20.1): Confirmed-Request (20.1.2),
 * Unconfirmed-Request (20.1.3), SimpleACK (20.1.4), ComplexACK (20.1.5), SegmentACK (20.1.6),
 * Error (20.1.7), Reject (20.1.8) and Abort (20.1.9), with the segmentation fields
 * (segmented-message, more-follows, sequence number, proposed/actual window size) and the
 * max-segments / max-APDU codes (20.1.2.4, 20.1.2.5).
 *
 * Service data is a view into the datagram; whoever keeps it (segment reassembly, caches)
 * copies it.
 */
import type { Writer } from '../wire/writer';
import { DecodeError, LocalProtocolError } from '../wire/errors';

export const PduType = {
  CONFIRMED_REQUEST: 0,
  UNCONFIRMED_REQUEST: 1,
  SIMPLE_ACK: 2,
  COMPLEX_ACK: 3,
  SEGMENT_ACK: 4,
  ERROR: 5,
  REJECT: 6,
  ABORT: 7,
} as const;

const PDU_NAMES = ['Confirmed-Request', 'Unconfirmed-Request', 'SimpleACK', 'ComplexACK', 'SegmentACK', 'Error', 'Reject', 'Abort'];
export function pduTypeName(t: number): string {
  return PDU_NAMES[t] ?? `PDU type ${t}`;
}

/** max-APDU-length-accepted codes 0..5 (20.1.2.5); reserved codes read as 1476. */
const MAX_APDU = [50, 128, 206, 480, 1024, 1476];
export function maxApduFromCode(code: number): number {
  return MAX_APDU[code] ?? 1476;
}
/** The largest code whose length does not exceed `octets`. */
export function maxApduToCode(octets: number): number {
  if (octets >= 1476) return 5;
  let code = 0;
  for (let i = 0; i < MAX_APDU.length; i++) if (MAX_APDU[i]! <= octets) code = i;
  return code;
}

/**
 * max-segments-accepted codes (20.1.2.4): 0 unspecified, 1..6 = 2, 4, 8, 16, 32, 64,
 * 7 = more than 64. Decoded as a count: unspecified reads as 0, "more than 64" as Infinity.
 */
export function maxSegmentsFromCode(code: number): number {
  if (code === 0) return 0;
  if (code >= 7) return Infinity;
  return 2 ** code;
}
/** Code for accepting up to `n` segments (n <= 1 is "unspecified"). */
export function maxSegmentsToCode(n: number): number {
  if (n === 64) return 6;
  if (n <= 1) return 0;
  if (n > 64) return 7;
  let code = 1;
  while (2 ** (code + 1) <= n && code < 6) code++;
  return code;
}

export interface ConfirmedRequestPdu {
  type: 0;
  segmented: boolean;
  moreFollows: boolean;
  segmentedResponseAccepted: boolean;
  /** Decoded count (see maxSegmentsFromCode). */
  maxSegments: number;
  /** Octets. */
  maxApdu: number;
  invokeId: number;
  sequenceNumber?: number;
  proposedWindowSize?: number;
  service: number;
  data: Uint8Array;
}
export interface UnconfirmedRequestPdu { type: 1; service: number; data: Uint8Array }
export interface SimpleAckPdu { type: 2; invokeId: number; service: number }
export interface ComplexAckPdu {
  type: 3;
  segmented: boolean;
  moreFollows: boolean;
  invokeId: number;
  sequenceNumber?: number;
  proposedWindowSize?: number;
  service: number;
  data: Uint8Array;
}
export interface SegmentAckPdu {
  type: 4;
  negative: boolean;
  /** True when sent by the server (the responder of the transaction). */
  server: boolean;
  invokeId: number;
  sequenceNumber: number;
  actualWindowSize: number;
}
export interface ErrorPdu { type: 5; invokeId: number; service: number; data: Uint8Array }
export interface RejectPdu { type: 6; invokeId: number; reason: number }
export interface AbortPdu { type: 7; server: boolean; invokeId: number; reason: number }

export type Apdu =
  | ConfirmedRequestPdu | UnconfirmedRequestPdu | SimpleAckPdu | ComplexAckPdu
  | SegmentAckPdu | ErrorPdu | RejectPdu | AbortPdu;

/** Decode an APDU (the NPDU payload of a non-network message). */
export function decodeApdu(b: Uint8Array): Apdu {
  // Direct indexing with explicit bounds checks: this runs for every datagram.
  const n = b.length;
  const need = (k: number, field: string): void => {
    if (k > n) throw new DecodeError(field, Math.min(n, k - 1), `needs ${k} byte(s), ${n} present`);
  };
  const exact = (k: number, what: string): void => {
    if (n !== k) throw new DecodeError(what, k, n > k ? `${n - k} unexpected trailing byte(s)` : 'truncated');
  };
  need(1, 'pdu type');
  const h = b[0]!;
  const type = h >> 4;
  switch (type) {
    case PduType.CONFIRMED_REQUEST: {
      const segmented = (h & 0x08) !== 0;
      const hdr = segmented ? 6 : 4;
      need(hdr, segmented ? 'segment header' : 'service choice');
      const o1 = b[1]!;
      const pdu: ConfirmedRequestPdu = {
        type,
        segmented,
        moreFollows: (h & 0x04) !== 0,
        segmentedResponseAccepted: (h & 0x02) !== 0,
        maxSegments: maxSegmentsFromCode((o1 >> 4) & 0x07),
        maxApdu: maxApduFromCode(o1 & 0x0f),
        invokeId: b[2]!,
        service: b[hdr - 1]!,
        data: b.subarray(hdr),
      };
      if (segmented) {
        pdu.sequenceNumber = b[3]!;
        pdu.proposedWindowSize = b[4]!;
      }
      return pdu;
    }
    case PduType.UNCONFIRMED_REQUEST:
      need(2, 'service choice');
      return { type, service: b[1]!, data: b.subarray(2) };
    case PduType.SIMPLE_ACK:
      exact(3, 'SimpleACK');
      return { type, invokeId: b[1]!, service: b[2]! };
    case PduType.COMPLEX_ACK: {
      const segmented = (h & 0x08) !== 0;
      const hdr = segmented ? 5 : 3;
      need(hdr, segmented ? 'segment header' : 'service ack choice');
      const pdu: ComplexAckPdu = {
        type, segmented, moreFollows: (h & 0x04) !== 0, invokeId: b[1]!, service: b[hdr - 1]!, data: b.subarray(hdr),
      };
      if (segmented) {
        pdu.sequenceNumber = b[2]!;
        pdu.proposedWindowSize = b[3]!;
      }
      return pdu;
    }
    case PduType.SEGMENT_ACK:
      exact(4, 'SegmentACK');
      return { type, negative: (h & 0x02) !== 0, server: (h & 0x01) !== 0, invokeId: b[1]!, sequenceNumber: b[2]!, actualWindowSize: b[3]! };
    case PduType.ERROR:
      need(3, 'error choice');
      return { type, invokeId: b[1]!, service: b[2]!, data: b.subarray(3) };
    case PduType.REJECT:
      exact(3, 'Reject');
      return { type, invokeId: b[1]!, reason: b[2]! };
    case PduType.ABORT:
      exact(3, 'Abort');
      return { type, server: (h & 0x01) !== 0, invokeId: b[1]!, reason: b[2]! };
    default:
      throw new DecodeError('pdu type', 0, `reserved PDU type ${type}`);
  }
}

function checkByte(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new LocalProtocolError(`${what} ${v} outside 0..255`);
}

/** Write an APDU header and its service data. */
export function writeApdu(w: Writer, p: Apdu): void {
  switch (p.type) {
    case PduType.CONFIRMED_REQUEST: {
      checkByte(p.invokeId, 'invoke id');
      let h = 0x00;
      if (p.segmented) h |= 0x08;
      if (p.moreFollows) h |= 0x04;
      if (p.segmentedResponseAccepted) h |= 0x02;
      w.u8(h).u8((maxSegmentsToCode(p.maxSegments) << 4) | maxApduToCode(p.maxApdu)).u8(p.invokeId);
      if (p.segmented) w.u8(p.sequenceNumber ?? 0).u8(p.proposedWindowSize ?? 1);
      w.u8(p.service).bytes(p.data);
      return;
    }
    case PduType.UNCONFIRMED_REQUEST:
      w.u8(0x10).u8(p.service).bytes(p.data);
      return;
    case PduType.SIMPLE_ACK:
      w.u8(0x20).u8(p.invokeId).u8(p.service);
      return;
    case PduType.COMPLEX_ACK: {
      let h = 0x30;
      if (p.segmented) h |= 0x08;
      if (p.moreFollows) h |= 0x04;
      w.u8(h).u8(p.invokeId);
      if (p.segmented) w.u8(p.sequenceNumber ?? 0).u8(p.proposedWindowSize ?? 1);
      w.u8(p.service).bytes(p.data);
      return;
    }
    case PduType.SEGMENT_ACK:
      w.u8(0x40 | (p.negative ? 0x02 : 0) | (p.server ? 0x01 : 0))
        .u8(p.invokeId).u8(p.sequenceNumber).u8(p.actualWindowSize);
      return;
    case PduType.ERROR:
      w.u8(0x50).u8(p.invokeId).u8(p.service).bytes(p.data);
      return;
    case PduType.REJECT:
      w.u8(0x60).u8(p.invokeId).u8(p.reason);
      return;
    case PduType.ABORT:
      w.u8(0x70 | (p.server ? 0x01 : 0)).u8(p.invokeId).u8(p.reason);
      return;
    default: {
      const never: never = p;
      throw new LocalProtocolError(`unknown APDU ${JSON.stringify(never)}`);
    }
  }
}

/** Octets of Confirmed-Request header before the service data: unsegmented 4, segmented 6. */
export const CONFIRMED_REQUEST_HEADER = 4;
export const CONFIRMED_REQUEST_SEGMENT_HEADER = 6;
/** Octets of ComplexACK header before the service data: unsegmented 3, segmented 5. */
export const COMPLEX_ACK_HEADER = 3;
export const COMPLEX_ACK_SEGMENT_HEADER = 5;
