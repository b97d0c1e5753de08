/**
 * The CA message header (big-endian).
 *
 * Standard form, 16 bytes:
 *
 *     0       2           4          6        8          12           16
 *     | cmmd  | postsize  | dataType | count  | param1   | param2     |
 *
 * Extended form, 24 bytes (CA >= 4.9), used only when the payload size or the element count does
 * not fit 16 bits (>= 0xFFFF): postsize = 0xFFFF and count = 0 in the first 16 bytes, then
 * u32 payloadSize and u32 count. Payloads are padded with zeros to a multiple of 8 bytes; the
 * payload size in the header includes the padding.
 */
import { DecodeError } from '../../wire/errors';
import { EXTENDED_HEADER_SIZE, EXTENDED_THRESHOLD, HEADER_SIZE } from './constants';


export interface CaHeader {
  command: number;
  /** Payload bytes following the header (padding included). */
  payloadSize: number;
  dataType: number;
  count: number;
  param1: number;
  param2: number;
}

/** Round up to the next multiple of 8. */
export function pad8(n: number): number {
  return (n + 7) & ~7;
}

/** True when a header with this payload size and count needs the 24-byte form. */
export function needsExtended(payloadSize: number, count: number): boolean {
  return payloadSize >= EXTENDED_THRESHOLD || count >= EXTENDED_THRESHOLD;
}

/** Header size for a payload size and count: 16 or 24. */
export function headerSize(payloadSize: number, count: number): number {
  return needsExtended(payloadSize, count) ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
}

/**
 * Write a header at `off` of `buf` (which must have room); returns the header size (16 or 24).
 * Integers are masked to their field width; callers validate ranges.
 */
export function writeHeader(buf: Uint8Array, off: number, h: CaHeader): number {
  const b = buf;
  const c = h.command, t = h.dataType, p1 = h.param1, p2 = h.param2;
  b[off] = (c >>> 8) & 255;
  b[off + 1] = c & 255;
  b[off + 4] = (t >>> 8) & 255;
  b[off + 5] = t & 255;
  b[off + 8] = (p1 >>> 24) & 255;
  b[off + 9] = (p1 >>> 16) & 255;
  b[off + 10] = (p1 >>> 8) & 255;
  b[off + 11] = p1 & 255;
  b[off + 12] = (p2 >>> 24) & 255;
  b[off + 13] = (p2 >>> 16) & 255;
  b[off + 14] = (p2 >>> 8) & 255;
  b[off + 15] = p2 & 255;
  const ps = h.payloadSize, n = h.count;
  if (ps >= EXTENDED_THRESHOLD || n >= EXTENDED_THRESHOLD) {
    b[off + 2] = 0xff;
    b[off + 3] = 0xff;
    b[off + 6] = 0;
    b[off + 7] = 0;
    b[off + 16] = (ps >>> 24) & 255;
    b[off + 17] = (ps >>> 16) & 255;
    b[off + 18] = (ps >>> 8) & 255;
    b[off + 19] = ps & 255;
    b[off + 20] = (n >>> 24) & 255;
    b[off + 21] = (n >>> 16) & 255;
    b[off + 22] = (n >>> 8) & 255;
    b[off + 23] = n & 255;
    return EXTENDED_HEADER_SIZE;
  }
  b[off + 2] = (ps >>> 8) & 255;
  b[off + 3] = ps & 255;
  b[off + 6] = (n >>> 8) & 255;
  b[off + 7] = n & 255;
  return HEADER_SIZE;
}

/** A header as a fresh 16- or 24-byte array. */
export function encodeHeader(h: CaHeader): Uint8Array {
  const out = new Uint8Array(headerSize(h.payloadSize, h.count));
  writeHeader(out, 0, h);
  return out;
}

/**
 * Result of peeking at a header in a buffer: the header and its size, or how many bytes are
 * needed before it can be read.
 */
export type HeaderPeek = { header: CaHeader; size: number } | { need: number };

/**
 * Read a header at `off` of `buf` without consuming anything. Returns `{need}` when fewer bytes
 * than the header needs are present (16, or 24 once the extended marker has been seen).
 */
export function peekHeader(buf: Uint8Array, off = 0, end = buf.length): HeaderPeek {
  const avail = end - off;
  if (avail < HEADER_SIZE) return { need: HEADER_SIZE - avail };
  const b = buf;
  const command = (b[off]! << 8) | b[off + 1]!;
  const ps16 = (b[off + 2]! << 8) | b[off + 3]!;
  const dataType = (b[off + 4]! << 8) | b[off + 5]!;
  const count16 = (b[off + 6]! << 8) | b[off + 7]!;
  const param1 = ((b[off + 8]! << 24) | (b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!) >>> 0;
  const param2 = ((b[off + 12]! << 24) | (b[off + 13]! << 16) | (b[off + 14]! << 8) | b[off + 15]!) >>> 0;
  if (ps16 !== 0xffff) {
    return { header: { command, payloadSize: ps16, dataType, count: count16, param1, param2 }, size: HEADER_SIZE };
  }
  if (avail < EXTENDED_HEADER_SIZE) return { need: EXTENDED_HEADER_SIZE - avail };
  const payloadSize = ((b[off + 16]! << 24) | (b[off + 17]! << 16) | (b[off + 18]! << 8) | b[off + 19]!) >>> 0;
  const count = ((b[off + 20]! << 24) | (b[off + 21]! << 16) | (b[off + 22]! << 8) | b[off + 23]!) >>> 0;
  return { header: { command, payloadSize, dataType, count, param1, param2 }, size: EXTENDED_HEADER_SIZE };
}

/** Read a complete header at `off`, throwing a DecodeError if the bytes are not all there. */
export function decodeHeader(buf: Uint8Array, off = 0, end = buf.length): { header: CaHeader; size: number } {
  const p = peekHeader(buf, off, end);
  if ('need' in p) throw new DecodeError('header', off, `truncated CA header: ${p.need} more byte(s) needed`);
  return p;
}
