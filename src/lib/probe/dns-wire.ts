/**
 * DNS message codec (RFC 1035, AAAA RFC 3596, SRV RFC 2782), sans-I/O: a query encoder and a
 * response decoder built on the wire Reader/Writer. Just what a probe needs: one question,
 * answers with their TTLs, the rcode, names with compression pointers (loops and forward jumps
 * refused), and the record types A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV; other types keep
 * their raw bytes as hex.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Reader } from '../wire/reader';
import { Writer } from '../wire/writer';
import { DecodeError } from '../wire/errors';

export const RR_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
/** The types a probe may ask for. */
export const QUERY_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT', 'SRV', 'PTR', 'SOA'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export function typeName(t: number): string {
  for (const [k, v] of Object.entries(RR_TYPES)) if (v === t) return k;
  return `TYPE${t}`;
}

export function rcodeName(r: number): string {
  return RCODES[r] ?? `RCODE${r}`;
}

export type RData =
  | string
  | { preference: number; exchange: string }
  | { priority: number; weight: number; port: number; target: string }
  | { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { strings: string[]; text: string };

export interface ResourceRecord {
  name: string;
  type: string;
  class: number;
  ttl: number;
  data: RData;
}

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: Array<{ name: string; type: string; class: number }>;
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

const utf8 = new TextEncoder();

function writeName(w: Writer, name: string): void {
  const n = name.replace(/\.$/, '');
  if (n) {
    for (const label of n.split('.')) {
      const bytes = utf8.encode(label);
      if (bytes.length === 0 || bytes.length > 63) throw new Error(`invalid DNS name ${JSON.stringify(name)}: label length ${bytes.length}`);
      w.u8(bytes.length).bytes(bytes);
    }
  }
  w.u8(0);
}

/** Check a query name: 1..253 bytes, labels 1..63 bytes (UTF-8, as writeName sends them). */
export function checkName(name: string): string {
  const n = name.trim().replace(/\.$/, '');
  if (!n || utf8.encode(n).length > 253) throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
  for (const l of n.split('.')) if (!l || utf8.encode(l).length > 63 || /\s/.test(l)) throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
  return n;
}

/** A standard query: one question, class IN, RD set as asked. */
export function encodeQuery(id: number, name: string, type: number, recursionDesired = true): Uint8Array {
  const w = new Writer(64);
  w.u16(id & 0xffff).u16(recursionDesired ? 0x0100 : 0).u16(1).u16(0).u16(0).u16(0);
  writeName(w, name);
  w.u16(type).u16(1);
  return w.finish().slice();
}

function readName(r: Reader, field: string): string {
  const labels: string[] = [];
  let pos = r.pos;
  let jumped = false;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (pos >= r.end) throw new DecodeError(field, pos, 'name runs past the message');
    const len = r.buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= r.end) throw new DecodeError(field, pos, 'truncated compression pointer');
      const target = ((len & 0x3f) << 8) | r.buf[pos + 1]!;
      if (!jumped) r.pos = pos + 2;
      jumped = true;
      if (++jumps > 64 || target >= pos) throw new DecodeError(field, pos, 'compression pointer loop or forward jump');
      pos = target;
      continue;
    }
    if (len & 0xc0) throw new DecodeError(field, pos, `unsupported label type 0x${len.toString(16)}`);
    pos++;
    if (len === 0) break;
    if (pos + len > r.end) throw new DecodeError(field, pos, 'label runs past the message');
    total += len + 1;
    if (total > 255) throw new DecodeError(field, pos, 'name longer than 255 octets');
    labels.push(new TextDecoder().decode(r.buf.subarray(pos, pos + len)));
    pos += len;
  }
  if (!jumped) r.pos = pos;
  return labels.join('.');
}

function ipv6Text(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // Compress the longest run of zeros (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

function readRecord(r: Reader): ResourceRecord {
  const name = readName(r, 'rr.name');
  const type = r.u16('rr.type');
  const cls = r.u16('rr.class');
  const ttl = r.u32('rr.ttl');
  const rdlen = r.u16('rr.rdlength');
  r.need(rdlen, 'rr.rdata');
  const start = r.pos;
  const end = start + rdlen;
  // Names inside RDATA may point anywhere before them, so decode with the whole message in view.
  let data: RData;
  switch (type) {
    case RR_TYPES.A:
      if (rdlen !== 4) throw new DecodeError('A.rdata', start, `length ${rdlen}, expected 4`);
      data = Array.from(r.bytes(4, 'A')).join('.');
      break;
    case RR_TYPES.AAAA:
      if (rdlen !== 16) throw new DecodeError('AAAA.rdata', start, `length ${rdlen}, expected 16`);
      data = ipv6Text(r.bytes(16, 'AAAA'));
      break;
    case RR_TYPES.NS:
    case RR_TYPES.CNAME:
    case RR_TYPES.PTR:
      data = readName(r, `${typeName(type)}.rdata`);
      break;
    case RR_TYPES.MX: {
      const preference = r.u16('MX.preference');
      data = { preference, exchange: readName(r, 'MX.exchange') };
      break;
    }
    case RR_TYPES.SRV: {
      const priority = r.u16('SRV.priority');
      const weight = r.u16('SRV.weight');
      const port = r.u16('SRV.port');
      data = { priority, weight, port, target: readName(r, 'SRV.target') };
      break;
    }
    case RR_TYPES.SOA: {
      const mname = readName(r, 'SOA.mname');
      const rname = readName(r, 'SOA.rname');
      data = { mname, rname, serial: r.u32('SOA.serial'), refresh: r.u32('SOA.refresh'), retry: r.u32('SOA.retry'), expire: r.u32('SOA.expire'), minimum: r.u32('SOA.minimum') };
      break;
    }
    case RR_TYPES.TXT: {
      const strings: string[] = [];
      while (r.pos < end) {
        const n = r.u8('TXT.length');
        if (r.pos + n > end) throw new DecodeError('TXT.string', r.pos, 'string runs past the record');
        strings.push(r.utf8(n, 'TXT.string'));
      }
      data = { strings, text: strings.join('') };
      break;
    }
    default:
      data = Buffer.from(r.bytes(rdlen, 'rdata')).toString('hex');
  }
  if (r.pos !== end) throw new DecodeError(`${typeName(type)}.rdata`, r.pos, `record data length ${rdlen} does not match its content`);
  return { name, type: typeName(type), class: cls, ttl, data };
}

/** Decode a whole DNS message; throws DecodeError on malformed input. */
export function decodeMessage(buf: Uint8Array): DnsMessage {
  const r = new Reader(buf);
  const id = r.u16('id');
  const flags = r.u16('flags');
  const qd = r.u16('qdcount');
  const an = r.u16('ancount');
  const ns = r.u16('nscount');
  const ar = r.u16('arcount');
  const questions: DnsMessage['questions'] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(r, 'question.name');
    questions.push({ name, type: typeName(r.u16('question.type')), class: r.u16('question.class') });
  }
  const section = (n: number): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    for (let i = 0; i < n; i++) out.push(readRecord(r));
    return out;
  };
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  return {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
    authorities,
    additionals,
  };
}

/** Only the header (id, flags, counts): enough to match a response to its query and see TC. */
export function decodeHeader(buf: Uint8Array): { id: number; qr: boolean; tc: boolean; rcode: number } {
  const r = new Reader(buf);
  const id = r.u16('id');
  const flags = r.u16('flags');
  return { id, qr: (flags & 0x8000) !== 0, tc: (flags & 0x0200) !== 0, rcode: flags & 0xf };
}

/** The reverse-lookup name of an IP address (in-addr.arpa / ip6.arpa). */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  // Expand IPv6: without a zone id (%eth0), an embedded IPv4 tail (::ffff:1.2.3.4) as two groups.
  let a = ip.replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const hex = groups.map((g: string) => g.padStart(4, '0')).join('');
  return `${hex.split('').reverse().join('.')}.ip6.arpa`;
}
