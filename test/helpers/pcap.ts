/**
 * Minimal reader for the classic pcap captures in test/vectors (link type Ethernet, IPv4, UDP and
 * TCP), and a writer for pcap files of our own PDUs so tshark can dissect them.
 *
 * `readPcap` returns every UDP datagram and every TCP segment with its addresses; `tcpStreams`
 * reassembles each direction of each TCP connection in sequence order (the captures are complete
 * loopback sessions, so there is no loss to handle beyond ordering and retransmitted duplicates).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vectorsDir } from './env';

export interface Packet {
  /** Seconds since the Unix epoch, with microseconds. */
  time: number;
  proto: 'udp' | 'tcp';
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Uint8Array;
  /** TCP only. */
  seq?: number;
  flags?: number;
}

function ip4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Parse a classic pcap file (either byte order, microsecond or nanosecond stamps). */
export function readPcap(nameOrPath: string): Packet[] {
  const path = nameOrPath.includes('/') ? nameOrPath : join(vectorsDir, nameOrPath);
  const buf = new Uint8Array(readFileSync(path));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4) le = false;
  else if (magic === 0xd4c3b2a1) le = true;
  else if (magic === 0xa1b23c4d) { le = false; nano = true; }
  else if (magic === 0x4d3cb2a1) { le = true; nano = true; }
  else throw new Error(`${path}: not a classic pcap file`);
  const linkType = dv.getUint32(20, le);
  if (linkType !== 1) throw new Error(`${path}: link type ${linkType}, expected Ethernet (1)`);
  const out: Packet[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const time = sec + frac / (nano ? 1e9 : 1e6);
    if (frame.length < 14) continue;
    const etherType = (frame[12]! << 8) | frame[13]!;
    if (etherType !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ihl = (ip[0]! & 0x0f) * 4;
    const totalLen = (ip[2]! << 8) | ip[3]!;
    const proto = ip[9]!;
    const src = ip4(ip, 12);
    const dst = ip4(ip, 16);
    const l4 = ip.subarray(ihl, totalLen);
    if (proto === 17) {
      const srcPort = (l4[0]! << 8) | l4[1]!;
      const dstPort = (l4[2]! << 8) | l4[3]!;
      const len = (l4[4]! << 8) | l4[5]!;
      out.push({ time, proto: 'udp', src, srcPort, dst, dstPort, payload: l4.subarray(8, len) });
    } else if (proto === 6) {
      const srcPort = (l4[0]! << 8) | l4[1]!;
      const dstPort = (l4[2]! << 8) | l4[3]!;
      const seq = ((l4[4]! << 24) | (l4[5]! << 16) | (l4[6]! << 8) | l4[7]!) >>> 0;
      const dataOff = (l4[12]! >> 4) * 4;
      const flags = l4[13]!;
      out.push({ time, proto: 'tcp', src, srcPort, dst, dstPort, payload: l4.subarray(dataOff), seq, flags });
    }
  }
  return out;
}

export interface TcpStream {
  /** "src:port>dst:port" of the direction. */
  key: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** The reassembled byte stream of this direction. */
  data: Uint8Array;
  /** Time of the SYN (or first segment) of the connection, to order streams. */
  start: number;
}

/** Reassemble every direction of every TCP connection in a capture. */
export function tcpStreams(packets: Packet[]): TcpStream[] {
  const byKey = new Map<string, { p: Packet[]; isn?: number; start: number }>();
  for (const p of packets) {
    if (p.proto !== 'tcp') continue;
    const key = `${p.src}:${p.srcPort}>${p.dst}:${p.dstPort}`;
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { p: [], start: p.time }));
    if (p.flags! & 0x02) e.isn = p.seq! + 1; // SYN consumes one sequence number
    if (p.payload.length) e.p.push(p);
  }
  const out: TcpStream[] = [];
  for (const [key, e] of byKey) {
    const segs = e.p.slice().sort((a, b) => ((a.seq! - b.seq!) | 0));
    let next = e.isn ?? segs[0]?.seq ?? 0;
    const parts: Uint8Array[] = [];
    for (const s of segs) {
      const rel = (s.seq! - next) | 0;
      if (rel > 0) throw new Error(`${key}: gap of ${rel} bytes in capture`);
      const skip = -rel;
      if (skip >= s.payload.length) continue; // retransmission
      parts.push(s.payload.subarray(skip));
      next = (next + s.payload.length - skip) >>> 0;
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const data = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    const [from, to] = key.split('>') as [string, string];
    const [src, sp] = from.split(':') as [string, string];
    const [dst, dp] = to.split(':') as [string, string];
    out.push({ key, src, srcPort: Number(sp), dst, dstPort: Number(dp), data, start: e.start });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** UDP datagrams of a capture, optionally only those touching `port`. */
export function udpPayloads(packets: Packet[], port?: number): Packet[] {
  return packets.filter((p) => p.proto === 'udp' && (port === undefined || p.srcPort === port || p.dstPort === port));
}

function csum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) s += b[b.length - 1]! << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

export interface UdpFrame {
  src?: string;
  srcPort: number;
  dst?: string;
  dstPort: number;
  payload: Uint8Array;
}

/**
 * Write UDP datagrams as a classic pcap (Ethernet, IPv4 127.0.0.1 by default) so tshark can
 * dissect what our encoders produce: `tshark -r file -V`.
 */
export function writeUdpPcap(path: string, frames: UdpFrame[]): void {
  const chunks: Uint8Array[] = [];
  const hdr = new DataView(new ArrayBuffer(24));
  hdr.setUint32(0, 0xa1b2c3d4, false);
  hdr.setUint16(4, 2, false);
  hdr.setUint16(6, 4, false);
  hdr.setUint32(16, 65535, false);
  hdr.setUint32(20, 1, false);
  chunks.push(new Uint8Array(hdr.buffer));
  let t = 1_700_000_000;
  for (const f of frames) {
    const udpLen = 8 + f.payload.length;
    const ipLen = 20 + udpLen;
    const frame = new Uint8Array(14 + ipLen);
    const dv = new DataView(frame.buffer);
    dv.setUint16(12, 0x0800, false);
    const ip = frame.subarray(14);
    ip[0] = 0x45;
    dv.setUint16(16, ipLen, false);
    ip[8] = 64;
    ip[9] = 17;
    const s = (f.src ?? '127.0.0.1').split('.').map(Number);
    const d = (f.dst ?? '127.0.0.1').split('.').map(Number);
    ip.set(s, 12);
    ip.set(d, 16);
    dv.setUint16(24, csum(ip.subarray(0, 20)), false);
    dv.setUint16(34, f.srcPort, false);
    dv.setUint16(36, f.dstPort, false);
    dv.setUint16(38, udpLen, false);
    frame.set(f.payload, 42);
    const rec = new DataView(new ArrayBuffer(16));
    t += 0.001;
    rec.setUint32(0, Math.floor(t), false);
    rec.setUint32(4, Math.round((t % 1) * 1e6), false);
    rec.setUint32(8, frame.length, false);
    rec.setUint32(12, frame.length, false);
    chunks.push(new Uint8Array(rec.buffer), frame);
  }
  writeFileSync(path, Buffer.concat(chunks));
}
