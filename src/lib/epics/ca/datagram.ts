/**
 * UDP datagrams: several CA messages back to back. A datagram that carries SEARCH requests starts
 * with a VERSION message (dataType 1 = "sequence number valid", param1 = the sequence number);
 * RSRV answers with a VERSION echoing it, then one SEARCH reply per name it serves. Datagrams we
 * send stay within MAX_UDP_SEND (1024) bytes.
 */
import { DecodeError as DecodeError_, LocalProtocolError as LocalProtocolError_ } from '../../wire/errors';
import { CA_MINOR_VERSION as CA_MINOR_VERSION_, MAX_UDP_SEND as MAX_UDP_SEND_, SearchReply as SearchReply_ } from './constants';
import { peekHeader as peekHeader_ } from './header';
import { decodeRequest as decodeRequest_, decodeResponse as decodeResponse_, encodeSearchRequest as encodeSearchRequest_, encodeUdpVersion as encodeUdpVersion_, type CaFrame, type CaRequest, type CaResponse } from './messages';

// esbuild's CommonJS output reaches imported bindings through two layers of getters on every use;
// hot paths read these local copies instead (imports here are never reassigned).
const DecodeError = DecodeError_, LocalProtocolError = LocalProtocolError_, CA_MINOR_VERSION = CA_MINOR_VERSION_, MAX_UDP_SEND = MAX_UDP_SEND_, SearchReply = SearchReply_, peekHeader = peekHeader_, decodeRequest = decodeRequest_, decodeResponse = decodeResponse_, encodeSearchRequest = encodeSearchRequest_, encodeUdpVersion = encodeUdpVersion_;

/**
 * Split a datagram into frames. Every message must lie wholly inside the datagram: a header or
 * payload running past its end is a DecodeError (drop the datagram).
 */
export function splitDatagram(bytes: Uint8Array): CaFrame[] {
  const out: CaFrame[] = [];
  let off = 0;
  while (off < bytes.length) {
    const p = peekHeader(bytes, off, bytes.length);
    if ('need' in p) throw new DecodeError('header', off, `datagram ends inside a CA header (${p.need} byte(s) missing)`);
    const end = off + p.size + p.header.payloadSize;
    if (end > bytes.length) throw new DecodeError('payload', off, `message declares ${p.header.payloadSize} payload bytes, datagram has ${bytes.length - off - p.size}`);
    out.push({ header: p.header, headerSize: p.size, payload: bytes.subarray(off + p.size, end), owned: false });
    off = end;
  }
  return out;
}

/** Decode the requests in a datagram a client sent (searches, repeater registration). */
export function decodeRequestDatagram(bytes: Uint8Array): CaRequest[] {
  return splitDatagram(bytes).map((f) => decodeRequest(f, true));
}

/** Decode the responses in a datagram a server or repeater sent (search replies, beacons, ...). */
export function decodeResponseDatagram(bytes: Uint8Array): CaResponse[] {
  return splitDatagram(bytes).map((f) => decodeResponse(f, true));
}

/**
 * Pack encoded messages into datagrams of at most `maxSize` bytes, each beginning with
 * `prefix()` (called once per datagram, e.g. a VERSION with a fresh sequence number).
 */
export function packDatagrams(messages: Uint8Array[], prefix: () => Uint8Array, maxSize = MAX_UDP_SEND): Uint8Array[] {
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  let size = 0;
  const flush = (): void => {
    if (parts.length <= 1) return;
    const d = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      d.set(p, o);
      o += p.length;
    }
    out.push(d);
  };
  for (const m of messages) {
    if (parts.length === 0) {
      const pre = prefix();
      parts = [pre];
      size = pre.length;
    }
    if (size + m.length > maxSize) {
      if (parts.length === 1) throw new LocalProtocolError(`a ${m.length}-byte message does not fit a ${maxSize}-byte datagram`);
      flush();
      const pre = prefix();
      parts = [pre];
      size = pre.length;
      if (size + m.length > maxSize) throw new LocalProtocolError(`a ${m.length}-byte message does not fit a ${maxSize}-byte datagram`);
    }
    parts.push(m);
    size += m.length;
  }
  flush();
  return out;
}

export interface SearchItem {
  name: string;
  cid: number;
}

export interface PackSearchOptions {
  /** DONT_REPLY (5, default) or DO_REPLY (10: servers that lack the name answer NOT_FOUND). */
  reply?: number;
  minorVersion?: number;
  /** Sequence number for each datagram (called once per datagram); omitted = not flagged. */
  sequence?: () => number;
  maxSize?: number;
}

/** Pack SEARCH requests for many names into as few datagrams as fit `maxSize` (1024) bytes. */
export function packSearchRequests(items: SearchItem[], opts: PackSearchOptions = {}): Uint8Array[] {
  const minor = opts.minorVersion ?? CA_MINOR_VERSION;
  const reply = opts.reply ?? SearchReply.DONT_REPLY;
  const msgs = items.map((it) => encodeSearchRequest({ name: it.name, cid: it.cid, reply, minorVersion: minor }));
  const seq = opts.sequence;
  return packDatagrams(msgs, () => encodeUdpVersion({ minorVersion: minor, ...(seq ? { sequence: seq() } : {}) }), opts.maxSize ?? MAX_UDP_SEND);
}
