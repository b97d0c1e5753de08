/**
 * A whole BACnet/IP datagram, layer by layer: BVLL (Annex J.2) -> NPDU (Clause 6.2) -> APDU
 * (Clause 20.1) or network-layer message (Clause 6.4) -> service parameters (Clauses 13..17).
 *
 * `decodeFrame` is the full receive-side decode path in one call, used by tests, the fuzzers
 * and diagnostics (the endpoint runs the same steps with its own state in between). It throws
 * `DecodeError` and nothing else for malformed input. `encodeFrame` builds a datagram in one
 * buffer.
 */
import { Writer } from '../wire/writer';
import { type Bvlc, type IpEndpoint, BvlcFunction, beginBvlc, decodeBvlc, endBvlc, ipv4Octets } from './bvlc';
import { type NetworkMessage, type Npdu, decodeNetworkMessage, decodeNpdu, writeNetworkMessageBody, writeNpduHeader } from './npdu';
import { type Apdu, PduType, decodeApdu, writeApdu } from './apdu';
import { confirmedCodec, decodeWhole, unconfirmedCodec } from './services/registry';
import { type ServiceErrorInfo, decodeServiceError } from './services/errors';

export interface DecodedFrame {
  bvlc: Bvlc;
  npdu?: Npdu;
  network?: NetworkMessage;
  apdu?: Apdu;
  /**
   * Decoded service parameters: the request of an unsegmented Confirmed/Unconfirmed-Request, the
   * ACK of an unsegmented ComplexACK, the error of an Error PDU. Undefined for services without a
   * codec and for segments.
   */
  service?: unknown;
  error?: ServiceErrorInfo;
}

/** Decode a datagram through every layer. Throws DecodeError on malformed input. */
export function decodeFrame(datagram: Uint8Array): DecodedFrame {
  const bvlc = decodeBvlc(datagram);
  const out: DecodedFrame = { bvlc };
  if (!('npdu' in bvlc)) return out;
  const npdu = decodeNpdu(bvlc.npdu);
  out.npdu = npdu;
  if (npdu.messageType !== undefined) {
    out.network = decodeNetworkMessage(npdu.messageType, npdu.payload);
    return out;
  }
  const apdu = decodeApdu(npdu.payload);
  out.apdu = apdu;
  switch (apdu.type) {
    case PduType.CONFIRMED_REQUEST: {
      const c = confirmedCodec(apdu.service);
      if (c && !apdu.segmented) out.service = decodeWhole(apdu.data, c.decodeRequest, c.name);
      break;
    }
    case PduType.UNCONFIRMED_REQUEST: {
      const c = unconfirmedCodec(apdu.service);
      if (c) out.service = decodeWhole(apdu.data, c.decodeRequest, c.name);
      break;
    }
    case PduType.COMPLEX_ACK: {
      const c = confirmedCodec(apdu.service);
      if (c?.decodeAck && !apdu.segmented) out.service = decodeWhole(apdu.data, c.decodeAck, `${c.name} ACK`);
      break;
    }
    case PduType.ERROR:
      out.error = decodeWhole(apdu.data, (r) => decodeServiceError(apdu.service, r), 'error');
      break;
    default:
      break;
  }
  return out;
}

export interface FrameSpec {
  /** Default Original-Unicast-NPDU. */
  bvlcFunction?: number;
  /** Forwarded-NPDU only: the original source. */
  origin?: IpEndpoint;
  npdu?: Partial<Omit<Npdu, 'payload'>>;
  /** Exactly one of apdu and network. */
  apdu?: Apdu;
  network?: NetworkMessage;
}

/** Write a complete datagram into `w`. */
export function writeFrame(w: Writer, f: FrameSpec): void {
  const fn = f.bvlcFunction ?? BvlcFunction.ORIGINAL_UNICAST_NPDU;
  const at = beginBvlc(w, fn);
  if (fn === BvlcFunction.FORWARDED_NPDU) {
    const o = f.origin ?? { host: '0.0.0.0', port: 0 };
    for (const b of ipv4Octets(o.host)) w.u8(b);
    w.u16(o.port);
  }
  const n = f.npdu ?? {};
  const header: Omit<Npdu, 'payload'> = { expectingReply: n.expectingReply ?? false, priority: n.priority ?? 0 };
  if (n.destination) header.destination = n.destination;
  if (n.source) header.source = n.source;
  if (n.hopCount !== undefined) header.hopCount = n.hopCount;
  if (f.network) {
    header.messageType = f.network.type;
    if (n.vendorId !== undefined) header.vendorId = n.vendorId;
  }
  writeNpduHeader(w, header);
  if (f.network) writeNetworkMessageBody(w, f.network);
  else if (f.apdu) writeApdu(w, f.apdu);
  endBvlc(w, at);
}

export function encodeFrame(f: FrameSpec): Uint8Array {
  const w = new Writer(128);
  writeFrame(w, f);
  return w.finish();
}
