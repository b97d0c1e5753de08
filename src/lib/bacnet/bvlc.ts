/**
 * BACnet Virtual Link Control for BACnet/IP (ASHRAE 135-2020 Annex J.2): the four-octet BVLL
 * header (type 0x81, function, total length) and every function: BVLC-Result, Write-/Read-
 * Broadcast-Distribution-Table(-Ack), Forwarded-NPDU, Register-Foreign-Device, Read-Foreign-
 * Device-Table(-Ack), Delete-Foreign-Device-Table-Entry, Distribute-Broadcast-To-Network,
 * Original-Unicast-NPDU, Original-Broadcast-NPDU and Secure-BVLL (carried opaque).
 *
 * Decoding checks the declared length against the datagram (J.2.1) and the size of every table;
 * NPDU payloads are views into the datagram.
 */
import { Reader } from '../wire/reader';
import { Writer } from '../wire/writer';
import { LocalProtocolError } from '../wire/errors';

export const BVLC_TYPE_BIP = 0x81;

/** BVLC function codes (J.2). */
export const BvlcFunction = {
  RESULT: 0x00,
  WRITE_BDT: 0x01,
  READ_BDT: 0x02,
  READ_BDT_ACK: 0x03,
  FORWARDED_NPDU: 0x04,
  REGISTER_FOREIGN_DEVICE: 0x05,
  READ_FDT: 0x06,
  READ_FDT_ACK: 0x07,
  DELETE_FDT_ENTRY: 0x08,
  DISTRIBUTE_BROADCAST_TO_NETWORK: 0x09,
  ORIGINAL_UNICAST_NPDU: 0x0a,
  ORIGINAL_BROADCAST_NPDU: 0x0b,
  SECURE_BVLL: 0x0c,
} as const;

/** BVLC-Result codes (J.2.1.1). */
export const BvlcResultCode = {
  SUCCESS: 0x0000,
  WRITE_BDT_NAK: 0x0010,
  READ_BDT_NAK: 0x0020,
  REGISTER_FOREIGN_DEVICE_NAK: 0x0030,
  READ_FDT_NAK: 0x0040,
  DELETE_FDT_ENTRY_NAK: 0x0050,
  DISTRIBUTE_BROADCAST_TO_NETWORK_NAK: 0x0060,
} as const;

const RESULT_TEXT: Record<number, string> = {
  0x0000: 'successful completion',
  0x0010: 'Write-Broadcast-Distribution-Table NAK',
  0x0020: 'Read-Broadcast-Distribution-Table NAK',
  0x0030: 'Register-Foreign-Device NAK',
  0x0040: 'Read-Foreign-Device-Table NAK',
  0x0050: 'Delete-Foreign-Device-Table-Entry NAK',
  0x0060: 'Distribute-Broadcast-To-Network NAK',
};

/** A BVLC-Result code in words. */
export function bvlcResultText(code: number): string {
  return RESULT_TEXT[code] ?? `result code 0x${code.toString(16).padStart(4, '0')}`;
}

/** A B/IP address: IPv4 dotted quad and UDP port (the 6-octet B/IP address of J.1.2). */
export interface IpEndpoint {
  host: string;
  port: number;
}

/** Broadcast Distribution Table entry (J.4.3.1): address, port and broadcast distribution mask. */
export interface BdtEntry {
  host: string;
  port: number;
  mask: string;
}

/** Foreign Device Table entry (J.5.2.1): address, registered TTL and seconds remaining. */
export interface FdtEntry {
  host: string;
  port: number;
  ttl: number;
  remaining: number;
}

export type Bvlc =
  | { function: 0x00; resultCode: number }
  | { function: 0x01; entries: BdtEntry[] }
  | { function: 0x02 }
  | { function: 0x03; entries: BdtEntry[] }
  | { function: 0x04; origin: IpEndpoint; npdu: Uint8Array }
  | { function: 0x05; ttl: number }
  | { function: 0x06 }
  | { function: 0x07; entries: FdtEntry[] }
  | { function: 0x08; address: IpEndpoint }
  | { function: 0x09; npdu: Uint8Array }
  | { function: 0x0a; npdu: Uint8Array }
  | { function: 0x0b; npdu: Uint8Array }
  | { function: 0x0c; payload: Uint8Array };

const NAMES: Record<number, string> = {
  0x00: 'BVLC-Result',
  0x01: 'Write-Broadcast-Distribution-Table',
  0x02: 'Read-Broadcast-Distribution-Table',
  0x03: 'Read-Broadcast-Distribution-Table-Ack',
  0x04: 'Forwarded-NPDU',
  0x05: 'Register-Foreign-Device',
  0x06: 'Read-Foreign-Device-Table',
  0x07: 'Read-Foreign-Device-Table-Ack',
  0x08: 'Delete-Foreign-Device-Table-Entry',
  0x09: 'Distribute-Broadcast-To-Network',
  0x0a: 'Original-Unicast-NPDU',
  0x0b: 'Original-Broadcast-NPDU',
  0x0c: 'Secure-BVLL',
};

export function bvlcFunctionName(fn: number): string {
  return NAMES[fn] ?? `BVLC function 0x${fn.toString(16)}`;
}

function readIp(r: Reader, field: string): string {
  const b = r.bytes(4, field);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Parse dotted-quad IPv4 text into four octets (throws LocalProtocolError on anything else). */
export function ipv4Octets(host: string): [number, number, number, number] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  const o = m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] : [];
  if (o.length !== 4 || o.some((x) => x > 255)) throw new LocalProtocolError(`'${host}' is not an IPv4 address`);
  return o as [number, number, number, number];
}

function writeIp(w: Writer, host: string): void {
  for (const o of ipv4Octets(host)) w.u8(o);
}

/** The 6-octet B/IP address of an endpoint (as BACnet MAC addresses and FDT entries carry it). */
export function ipEndpointToMac(e: IpEndpoint): Uint8Array {
  const o = ipv4Octets(e.host);
  return Uint8Array.of(o[0], o[1], o[2], o[3], e.port >> 8, e.port & 0xff);
}

/** The endpoint of a 6-octet B/IP MAC address (undefined when it is not 6 octets). */
export function macToIpEndpoint(mac: Uint8Array): IpEndpoint | undefined {
  if (mac.length !== 6) return undefined;
  return { host: `${mac[0]}.${mac[1]}.${mac[2]}.${mac[3]}`, port: (mac[4]! << 8) | mac[5]! };
}

/** Decode one BVLL datagram. */
export function decodeBvlc(datagram: Uint8Array): Bvlc {
  // Fast path for the functions that carry NPDUs (every datagram of normal traffic).
  const n = datagram.length;
  if (n >= 4 && datagram[0] === BVLC_TYPE_BIP) {
    const fn = datagram[1]!;
    const length = (datagram[2]! << 8) | datagram[3]!;
    if (length >= 4 && length <= n) {
      if (fn === 0x0a || fn === 0x0b || fn === 0x09) return { function: fn, npdu: datagram.subarray(4, length) };
      if (fn === 0x04 && length >= 10) {
        const d = datagram;
        return { function: fn, origin: { host: `${d[4]}.${d[5]}.${d[6]}.${d[7]}`, port: (d[8]! << 8) | d[9]! }, npdu: d.subarray(10, length) };
      }
    }
  }
  const r = new Reader(datagram);
  const type = r.u8('bvlc type');
  if (type !== BVLC_TYPE_BIP) r.fail('bvlc type', `0x${type.toString(16)} is not BACnet/IP (0x81)`);
  const fn = r.u8('bvlc function');
  const length = r.u16('bvlc length');
  if (length < 4 || length > datagram.length) {
    r.pos = 2;
    r.fail('bvlc length', `declared ${length} octets, datagram has ${datagram.length}`);
  }
  const body = new Reader(datagram, 4, length);
  switch (fn) {
    case BvlcFunction.RESULT: {
      const resultCode = body.u16('result code');
      body.expectEnd('bvlc result');
      return { function: fn, resultCode };
    }
    case BvlcFunction.WRITE_BDT:
    case BvlcFunction.READ_BDT_ACK: {
      if (body.remaining % 10) body.fail('bdt', `${body.remaining} octets is not a whole number of 10-octet entries`);
      const entries: BdtEntry[] = [];
      while (!body.done) {
        const host = readIp(body, 'bdt address');
        const port = body.u16('bdt port');
        entries.push({ host, port, mask: readIp(body, 'bdt mask') });
      }
      return { function: fn, entries };
    }
    case BvlcFunction.READ_BDT:
    case BvlcFunction.READ_FDT:
      body.expectEnd(bvlcFunctionName(fn));
      return { function: fn };
    case BvlcFunction.FORWARDED_NPDU: {
      const host = readIp(body, 'original source');
      const port = body.u16('original source port');
      return { function: fn, origin: { host, port }, npdu: datagram.subarray(body.pos, length) };
    }
    case BvlcFunction.REGISTER_FOREIGN_DEVICE: {
      const ttl = body.u16('time to live');
      body.expectEnd('register foreign device');
      return { function: fn, ttl };
    }
    case BvlcFunction.READ_FDT_ACK: {
      if (body.remaining % 10) body.fail('fdt', `${body.remaining} octets is not a whole number of 10-octet entries`);
      const entries: FdtEntry[] = [];
      while (!body.done) {
        const host = readIp(body, 'fdt address');
        const port = body.u16('fdt port');
        const ttl = body.u16('fdt ttl');
        entries.push({ host, port, ttl, remaining: body.u16('fdt remaining') });
      }
      return { function: fn, entries };
    }
    case BvlcFunction.DELETE_FDT_ENTRY: {
      const host = readIp(body, 'fdt address');
      const port = body.u16('fdt port');
      body.expectEnd('delete fdt entry');
      return { function: fn, address: { host, port } };
    }
    case BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK:
    case BvlcFunction.ORIGINAL_UNICAST_NPDU:
    case BvlcFunction.ORIGINAL_BROADCAST_NPDU:
      return { function: fn, npdu: datagram.subarray(4, length) };
    case BvlcFunction.SECURE_BVLL:
      return { function: fn, payload: datagram.subarray(4, length) };
    default:
      r.pos = 1;
      return r.fail('bvlc function', `unknown function 0x${fn.toString(16)}`);
  }
}

/** Start a BVLL frame in `w`; returns the position to pass to `endBvlc`. */
export function beginBvlc(w: Writer, fn: number): number {
  const at = w.length;
  w.u8(BVLC_TYPE_BIP).u8(fn).u16(0);
  return at;
}

/** Patch the BVLL length of the frame begun at `at`. */
export function endBvlc(w: Writer, at: number): void {
  const len = w.length - at;
  if (len > 0xffff) throw new LocalProtocolError(`BVLL frame of ${len} octets exceeds 65535`);
  w.patchU16(at + 2, len);
}

/** Encode a BVLL datagram. */
export function encodeBvlc(b: Bvlc): Uint8Array {
  const w = new Writer(64);
  const at = beginBvlc(w, b.function);
  switch (b.function) {
    case BvlcFunction.RESULT: w.u16(b.resultCode); break;
    case BvlcFunction.WRITE_BDT:
    case BvlcFunction.READ_BDT_ACK:
      for (const e of b.entries) {
        writeIp(w, e.host);
        w.u16(e.port);
        writeIp(w, e.mask);
      }
      break;
    case BvlcFunction.READ_BDT:
    case BvlcFunction.READ_FDT:
      break;
    case BvlcFunction.FORWARDED_NPDU:
      writeIp(w, b.origin.host);
      w.u16(b.origin.port).bytes(b.npdu);
      break;
    case BvlcFunction.REGISTER_FOREIGN_DEVICE: w.u16(b.ttl); break;
    case BvlcFunction.READ_FDT_ACK:
      for (const e of b.entries) {
        writeIp(w, e.host);
        w.u16(e.port).u16(e.ttl).u16(e.remaining);
      }
      break;
    case BvlcFunction.DELETE_FDT_ENTRY:
      writeIp(w, b.address.host);
      w.u16(b.address.port);
      break;
    case BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK:
    case BvlcFunction.ORIGINAL_UNICAST_NPDU:
    case BvlcFunction.ORIGINAL_BROADCAST_NPDU:
      w.bytes(b.npdu);
      break;
    case BvlcFunction.SECURE_BVLL:
      w.bytes(b.payload);
      break;
    default: {
      const never: never = b;
      throw new LocalProtocolError(`unknown BVLC ${JSON.stringify(never)}`);
    }
  }
  endBvlc(w, at);
  return w.finish();
}
