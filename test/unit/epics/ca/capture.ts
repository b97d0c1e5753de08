/** Decode the CA capture vectors into messages per stream (test helper). */
import { readPcap, tcpStreams, udpPayloads } from '../../../helpers/pcap';
import { CaFramer, decodeRequest, decodeResponse, decodeRequestDatagram, decodeResponseDatagram, type CaRequest, type CaResponse } from '../../../../src/lib/epics/ca';

export interface CaCapture {
  /** UDP datagrams client -> server 5064, decoded. */
  searches: CaRequest[][];
  /** UDP datagrams server -> client, decoded. */
  replies: CaResponse[][];
  /** One entry per TCP connection, in order: the client's requests and the server's responses. */
  circuits: Array<{ requests: CaRequest[]; responses: CaResponse[]; clientPort: number }>;
  /** Raw reassembled streams, for framing tests. */
  streams: Array<{ fromServer: boolean; data: Uint8Array }>;
}

export function decodeCapture(file: string, serverPort = 5064): CaCapture {
  const pk = readPcap(file);
  const out: CaCapture = { searches: [], replies: [], circuits: [], streams: [] };
  for (const u of udpPayloads(pk, serverPort)) {
    if (u.dstPort === serverPort) out.searches.push(decodeRequestDatagram(u.payload));
    else out.replies.push(decodeResponseDatagram(u.payload));
  }
  const byClient = new Map<number, { requests: CaRequest[]; responses: CaResponse[]; clientPort: number }>();
  for (const s of tcpStreams(pk)) {
    const fromServer = s.srcPort === serverPort;
    const clientPort = fromServer ? s.dstPort : s.srcPort;
    let c = byClient.get(clientPort);
    if (!c) {
      c = { requests: [], responses: [], clientPort };
      byClient.set(clientPort, c);
      out.circuits.push(c);
    }
    out.streams.push({ fromServer, data: s.data });
    const f = new CaFramer();
    f.push(s.data);
    const frames = f.drain();
    if (f.buffered !== 0) throw new Error(`${file}: ${f.buffered} trailing bytes in ${s.key}`);
    for (const fr of frames) {
      if (fromServer) c.responses.push(decodeResponse(fr));
      else c.requests.push(decodeRequest(fr));
    }
  }
  return out;
}
