/**
 * UDP datagrams: several CA messages back to back. A datagram that carries SEARCH requests starts
 * with a VERSION message (dataType 1 = "sequence number valid", param1 = the sequence number);
 * RSRV answers with a VERSION echoing it, then one SEARCH reply per name it serves. Datagrams we
 * send stay within MAX_UDP_SEND (1024) bytes.
 */
import { DecodeError, LocalProtocolError } from '../../wire/errors';
import { CA_MINOR_VERSION, MAX_UDP_SEND, SearchReply } from './constants';
import { peekHeader } from './header';
import { decodeRequest, decodeResponse, encodeSearchRequest, encodeUdpVersion, type CaFrame, type CaRequest, type CaResponse } from './messages';


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
