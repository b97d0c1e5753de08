/**
 * A scriptable fake CA server for client tests (loopback only): answers UDP searches for any
 * name (or a chosen set) with its TCP port, and hands every request received on a circuit to a
 * handler that decides what to send back (nothing, captured bytes, garbage). Used to replay
 * captured server replies, to play a server that stops answering, and to fuzz the client.
 */
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { CaFramer, decodeRequest, decodeRequestDatagram, encodeSearchResponse, encodeUdpVersion, type CaRequest } from '../../../../src/lib/epics/ca';

export class FakeConn {
  readonly socket: net.Socket;
  readonly framer = new CaFramer();
  readonly requests: CaRequest[] = [];
  constructor(socket: net.Socket) {
    this.socket = socket;
  }
  send(...parts: Uint8Array[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(parts));
  }
  close(): void {
    this.socket.destroy();
  }
}

export type RequestHandler = (req: CaRequest, conn: FakeConn) => void;

export class FakeCaServer {
  readonly conns = new Set<FakeConn>();
  searches = 0;
  private constructor(
    readonly tcp: net.Server,
    readonly udp: dgram.Socket,
    readonly port: number,
    public handler: RequestHandler,
    public names: Set<string> | undefined,
  ) {}

  /** Listen on 127.0.0.1 (TCP and UDP on the same free port). `names` limits the names it answers. */
  static async start(handler: RequestHandler, names?: Iterable<string>): Promise<FakeCaServer> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const tcp = net.createServer({ noDelay: true });
      await new Promise<void>((r, j) => {
        tcp.once('error', j);
        tcp.listen(0, '127.0.0.1', () => r());
      });
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket('udp4');
      const ok = await new Promise<boolean>((r) => {
        udp.once('error', () => r(false));
        udp.bind(port, '127.0.0.1', () => r(true));
      });
      if (!ok) {
        udp.close();
        tcp.close();
        continue;
      }
      const s = new FakeCaServer(tcp, udp, port, handler, names ? new Set(names) : undefined);
      tcp.on('connection', (sock) => {
        const c = new FakeConn(sock);
        s.conns.add(c);
        sock.on('error', () => {});
        sock.on('close', () => s.conns.delete(c));
        sock.on('data', (chunk: Buffer) => {
          c.framer.push(chunk);
          for (const f of c.framer.drain()) {
            const req = decodeRequest({ ...f, payload: f.payload.slice(), owned: true });
            c.requests.push(req);
            s.handler(req, c);
          }
        });
      });
      udp.on('message', (msg, rinfo) => {
        let reqs: CaRequest[];
        try {
          reqs = decodeRequestDatagram(msg);
        } catch {
          return;
        }
        let seq: number | undefined;
        const out: Uint8Array[] = [];
        for (const r of reqs) {
          if (r.kind === 'Version' && r.sequence !== undefined) seq = r.sequence;
          if (r.kind === 'SearchRequest' && (!s.names || s.names.has(r.name))) {
            s.searches++;
            out.push(encodeSearchResponse({ port, cid: r.cid }));
          }
        }
        if (out.length) udp.send(Buffer.concat([encodeUdpVersion(seq === undefined ? {} : { sequence: seq }), ...out]), rinfo.port, rinfo.address);
      });
      return s;
    }
    throw new Error('no free port pair for the fake CA server');
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    await new Promise<void>((r) => this.tcp.close(() => r()));
    await new Promise<void>((r) => this.udp.close(() => r()));
  }
}

/** Cut a captured byte stream into the raw bytes of each message. */
export function splitStream(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off + 16 <= data.length) {
    const ps16 = (data[off + 2]! << 8) | data[off + 3]!;
    let hs = 16;
    let ps = ps16;
    if (ps16 === 0xffff) {
      hs = 24;
      ps = ((data[off + 16]! << 24) | (data[off + 17]! << 16) | (data[off + 18]! << 8) | data[off + 19]!) >>> 0;
    }
    out.push(data.subarray(off, off + hs + ps));
    off += hs + ps;
  }
  return out;
}
