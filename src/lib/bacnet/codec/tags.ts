/**
 * BACnet tags (ASHRAE 135-2020 Clause 20.2.1): the initial octet (tag number, class, length /
 * value / type), extended tag numbers (tag number 15 + one octet), extended lengths (5 + one,
 * three or five octets), and the opening/closing tags that bracket constructed context data.
 *
 * Decoding checks every octet before reading it (the Reader throws `DecodeError`), refuses
 * lengths beyond `MAX_TAG_LENGTH` and reports what it found; nothing here allocates beyond the
 * returned header object.
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';

/** Application tag numbers (20.2.1.4). */
export const AppTag = {
  NULL: 0,
  BOOLEAN: 1,
  UNSIGNED: 2,
  SIGNED: 3,
  REAL: 4,
  DOUBLE: 5,
  OCTET_STRING: 6,
  CHARACTER_STRING: 7,
  BIT_STRING: 8,
  ENUMERATED: 9,
  DATE: 10,
  TIME: 11,
  OBJECT_IDENTIFIER: 12,
} as const;

/** Largest content length accepted for one tag (a whole APDU after reassembly is far smaller). */
export const MAX_TAG_LENGTH = 1 << 20;
/** Deepest nesting of opening tags accepted when decoding constructed data. */
export const MAX_NESTING_DEPTH = 32;

export const TagKind = { Primitive: 0, Opening: 1, Closing: 2 } as const;
export type TagKind = (typeof TagKind)[keyof typeof TagKind];

export interface TagHeader {
  /** Tag number (application tag 0..12, or context tag 0..254). */
  number: number;
  /** True for context-specific class. */
  context: boolean;
  kind: TagKind;
  /**
   * Content length in octets for primitive tags. For the application-tagged BOOLEAN this is the
   * value (0 or 1) and no content octets follow (20.2.3).
   */
  length: number;
  /** Offset of the tag's first octet. */
  start: number;
}

/** Decode one tag header at the reader's position and advance past it. */
export function readTag(r: Reader): TagHeader {
  const start = r.pos;
  const b = r.u8('tag');
  let number = b >> 4;
  const context = (b & 0x08) !== 0;
  const lvt = b & 0x07;
  if (number === 15) {
    number = r.u8('extended tag number');
    if (number === 255) r.fail('tag', 'tag number 255 is reserved');
  }
  if (context && lvt === 6) return { number, context, kind: TagKind.Opening, length: 0, start };
  if (context && lvt === 7) return { number, context, kind: TagKind.Closing, length: 0, start };
  let length = lvt;
  if (lvt === 5) {
    length = r.u8('extended length');
    if (length === 254) length = r.u16('extended length');
    else if (length === 255) length = r.u32('extended length');
  }
  if (!context && number === 1) {
    // Application BOOLEAN: the value is in L/V/T, there are no content octets.
    if (lvt > 1) r.fail('boolean', `boolean value ${lvt} is not 0 or 1`);
    return { number, context, kind: TagKind.Primitive, length: lvt, start };
  }
  if (!context && (lvt === 6 || lvt === 7)) r.fail('tag', 'opening/closing tags must be context-specific');
  if (length > MAX_TAG_LENGTH) r.fail('tag length', `${length} octets exceeds the ${MAX_TAG_LENGTH}-octet cap`);
  r.need(length, 'tag content');
  return { number, context, kind: TagKind.Primitive, length, start };
}

/** Peek at the next tag header without consuming it (undefined at the end of input). */
export function peekTag(r: Reader): TagHeader | undefined {
  if (r.pos >= r.end) return undefined;
  const save = r.pos;
  try {
    return readTag(r);
  } finally {
    r.pos = save;
  }
}

/** True if the next octets are the closing tag `n` (does not consume). */
export function atClosingTag(r: Reader, n: number): boolean {
  if (r.pos >= r.end) return false;
  const b = r.buf[r.pos]!;
  if (n < 15) return b === ((n << 4) | 0x0f);
  return b === 0xff && r.pos + 1 < r.end && r.buf[r.pos + 1] === n;
}

/** True if the next octets are the opening tag `n` (does not consume). */
export function atOpeningTag(r: Reader, n: number): boolean {
  if (r.pos >= r.end) return false;
  const b = r.buf[r.pos]!;
  if (n < 15) return b === ((n << 4) | 0x0e);
  return b === 0xfe && r.pos + 1 < r.end && r.buf[r.pos + 1] === n;
}

/** True if the next tag is the primitive context tag `n` (not an opening/closing tag; does not consume). */
export function atContextTag(r: Reader, n: number): boolean {
  if (r.pos >= r.end) return false;
  const b = r.buf[r.pos]!;
  if ((b & 0x08) === 0 || (b & 0x07) >= 6) return false;
  const t = b >> 4;
  if (t < 15) return t === n;
  return r.pos + 1 < r.end && r.buf[r.pos + 1] === n;
}

/** True if the next tag is context tag `n` of any kind: primitive, opening or closing. */
export function atAnyContextTag(r: Reader, n: number): boolean {
  if (r.pos >= r.end) return false;
  const b = r.buf[r.pos]!;
  if ((b & 0x08) === 0) return false;
  const t = b >> 4;
  if (t < 15) return t === n;
  return r.pos + 1 < r.end && r.buf[r.pos + 1] === n;
}

/** Consume opening tag `n` or throw. */
export function expectOpening(r: Reader, n: number, field: string): void {
  const t = readTag(r);
  if (!t.context || t.kind !== TagKind.Opening || t.number !== n) {
    r.pos = t.start;
    r.fail(field, `expected opening tag [${n}]`);
  }
}

/** Consume closing tag `n` or throw. */
export function expectClosing(r: Reader, n: number, field: string): void {
  const t = readTag(r);
  if (!t.context || t.kind !== TagKind.Closing || t.number !== n) {
    r.pos = t.start;
    r.fail(field, `expected closing tag [${n}]`);
  }
}

/** Consume a primitive context tag `n` and return its content length, or throw. */
export function expectContext(r: Reader, n: number, field: string): number {
  const t = readTag(r);
  if (!t.context || t.kind !== TagKind.Primitive || t.number !== n) {
    r.pos = t.start;
    r.fail(field, `expected context tag [${n}]`);
  }
  return t.length;
}

/** Consume a primitive application tag `n` and return its length (boolean: its value), or throw. */
export function expectApplication(r: Reader, n: number, field: string): number {
  const t = readTag(r);
  if (t.context || t.kind !== TagKind.Primitive || t.number !== n) {
    r.pos = t.start;
    r.fail(field, `expected application tag ${n}`);
  }
  return t.length;
}

/**
 * Skip one complete element: a primitive tag with its content, or an opening tag with everything
 * up to its matching closing tag (nesting capped at MAX_NESTING_DEPTH).
 */
export function skipElement(r: Reader): void {
  const t = readTag(r);
  if (t.kind === TagKind.Closing) {
    r.pos = t.start;
    r.fail('element', 'unexpected closing tag');
  }
  if (t.kind === TagKind.Primitive) {
    if (!(!t.context && t.number === 1)) r.skip(t.length, 'tag content');
    return;
  }
  let depth = 1;
  while (depth > 0) {
    const u = readTag(r);
    if (u.kind === TagKind.Opening) {
      if (++depth > MAX_NESTING_DEPTH) r.fail('element', `nesting deeper than ${MAX_NESTING_DEPTH}`);
    } else if (u.kind === TagKind.Closing) {
      depth--;
      if (depth === 0 && u.number !== t.number) r.fail('element', `closing tag [${u.number}] does not match [${t.number}]`);
    } else if (!(!u.context && u.number === 1)) {
      r.skip(u.length, 'tag content');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Write a tag header: class, number and content length (or boolean value). */
export function writeTag(w: Writer, number: number, context: boolean, length: number): void {
  if (!Number.isInteger(number) || number < 0 || number > 254) {
    throw new LocalProtocolError(`tag number ${number} out of range 0..254`);
  }
  const cls = context ? 0x08 : 0;
  const lvt = length <= 4 ? length : 5;
  if (number < 15) w.u8((number << 4) | cls | lvt);
  else w.u8(0xf0 | cls | lvt).u8(number);
  if (lvt === 5) {
    if (length <= 253) w.u8(length);
    else if (length <= 0xffff) w.u8(254).u16(length);
    else w.u8(255).u32(length);
  }
}

export function writeOpening(w: Writer, number: number): void {
  if (number < 15) w.u8((number << 4) | 0x0e);
  else w.u8(0xfe).u8(number);
}

export function writeClosing(w: Writer, number: number): void {
  if (number < 15) w.u8((number << 4) | 0x0f);
  else w.u8(0xff).u8(number);
}
