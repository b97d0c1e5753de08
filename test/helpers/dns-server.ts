/**
 * A tiny authoritative DNS server for tests, on 127.0.0.1 (UDP and TCP on the same port 0-chosen
 * port). It answers from a zone table with records written byte by byte here (independent of
 * src/lib/probe/dns-wire.ts's decoder): A, AAAA, CNAME, MX, NS, TXT, SRV, PTR. Special names:
 * `servfail.test` → SERVFAIL, `refused.test` → REFUSED, `silent.test` → no answer,
 * `big.test` → truncated over UDP (TC), full over TCP; unknown names → NXDOMAIN.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

type Rec = { type: number; ttl: number; rdata: Buffer };

function name(n: string): Buffer {
  const parts = n.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}
const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);

export const ZONE: Record<string, Rec[]> = {
  'host.test': [
    { type: 1, ttl: 300, rdata: Buffer.from([127, 0, 0, 1]) },
    { type: 1, ttl: 300, rdata: Buffer.from([127, 0, 0, 2]) },
    { type: 28, ttl: 120, rdata: Buffer.from('00000000000000000000000000000001', 'hex') },
    { type: 15, ttl: 600, rdata: Buffer.concat([u16(10), name('mail.host.test')]) },
    { type: 2, ttl: 3600, rdata: name('ns1.host.test') },
    { type: 16, ttl: 60, rdata: Buffer.concat([Buffer.from([11]), Buffer.from('v=fieldlink')]) },
  ],
  'alias.test': [{ type: 5, ttl: 30, rdata: name('host.test') }],
  '_modbus._tcp.host.test': [{ type: 33, ttl: 90, rdata: Buffer.concat([u16(1), u16(5), u16(502), name('plc.host.test')]) }],
  '1.0.0.127.in-addr.arpa': [{ type: 12, ttl: 86400, rdata: name('localhost') }],
  'big.test': Array.from({ length: 40 }, (_, i) => ({ type: 16, ttl: 5, rdata: Buffer.concat([Buffer.from([40]), Buffer.from(`record ${String(i).padStart(3, '0')} `.padEnd(40, 'x'))]) })),
};

function answer(query: Buffer, overUdp: boolean): Buffer | undefined {
  if (query.length < 17) return undefined;
  const id = query.readUInt16BE(0);
  let p = 12;
  const labels: string[] = [];
  while (query[p]! > 0) {
    labels.push(query.subarray(p + 1, p + 1 + query[p]!).toString());
    p += query[p]! + 1;
  }
  const qname = labels.join('.').toLowerCase();
  const qtype = query.readUInt16BE(p + 1);
  const question = query.subarray(12, p + 5);
  if (qname === 'silent.test') return undefined;
  let rcode = 0;
  let recs: Rec[] = [];
  if (qname === 'servfail.test') rcode = 2;
  else if (qname === 'refused.test') rcode = 5;
  else if (!(qname in ZONE)) rcode = 3;
  else recs = ZONE[qname]!.filter((r) => r.type === qtype || (r.type === 5 && qtype !== 5));
  let tc = false;
  const rrs = recs.map((r) => Buffer.concat([u16(0xc00c), u16(r.type), u16(1), Buffer.from([r.ttl >>> 24, (r.ttl >> 16) & 0xff, (r.ttl >> 8) & 0xff, r.ttl & 0xff]), u16(r.rdata.length), r.rdata]));
  let body = Buffer.concat(rrs);
  let count = rrs.length;
  if (overUdp && 12 + question.length + body.length > 512) {
    tc = true;
    body = Buffer.alloc(0);
    count = 0;
  }
  const flags = 0x8000 | 0x0400 | 0x0100 | (tc ? 0x0200 : 0) | rcode;
  return Buffer.concat([u16(id), u16(flags), u16(1), u16(count), u16(0), u16(0), question, body]);
}

export interface TestDnsServer {
  port: number;
  address: string;
  queries: number;
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const tcp: Server = createServer((s: Socket) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const a = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), false);
        if (a) s.end(Buffer.concat([u16(a.length), a]));
        else s.destroy();
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const port = (tcp.address() as { port: number }).port;
  const udp: UdpSocket = createSocket('udp4');
  const server: TestDnsServer = {
    port,
    address: '127.0.0.1',
    queries: 0,
    close: () =>
      new Promise<void>((resolve) => {
        udp.close(() => tcp.close(() => resolve()));
      }),
  };
  udp.on('message', (msg, rinfo) => {
    server.queries++;
    const a = answer(msg, true);
    if (a) udp.send(a, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()));
  return server;
}
