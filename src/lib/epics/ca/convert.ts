/**
 * Value conversion between a PV's native type and the types a client asks for or writes, and
 * between native arrays and plain JavaScript values.
 *
 * Rules (what RSRV's database conversions do, simplified):
 * - numeric -> numeric: C-style casts (truncation toward zero; integer overflow wraps).
 * - FLOAT/DOUBLE -> STRING: fixed-point with the PV's precision when it has one, else the
 *   shortest text that reads back the same number; other numbers as integers.
 * - ENUM -> STRING: the state string (the index as text when there is none).
 * - STRING -> number: decimal, hex (0x..), exponent, inf/nan for floats; anything else fails.
 * - STRING -> ENUM: a state string (exact, then ignoring surrounding blanks), else an index.
 * - Writes check ranges (an integer type refuses 1e10, an enum refuses an index past its states);
 *   reads never fail for numeric types.
 */
import { ECA } from './constants';
import { CaStatusError } from './errors';
import type { DbrArray, NativeType } from './dbr';


/** The native value of a PV: a typed array of its element type, or strings. */
export type NativeArray = DbrArray;

export interface ConvertContext {
  /** States of an ENUM PV. */
  enumStrings?: readonly string[];
  /** Display precision of FLOAT/DOUBLE PVs (undefined or negative: shortest form). */
  precision?: number;
}

const INT_RANGE: Partial<Record<NativeType, [number, number]>> = {
  1: [-32768, 32767],
  3: [0, 65535],
  4: [0, 255],
  5: [-2147483648, 2147483647],
};

/** An empty typed array (or string array) of a native type, with `n` zero elements. */
export function allocNative(native: NativeType, n: number): NativeArray {
  switch (native) {
    case 0: return new Array<string>(n).fill('');
    case 1: return new Int16Array(n);
    case 2: return new Float32Array(n);
    case 3: return new Uint16Array(n);
    case 4: return new Uint8Array(n);
    case 5: return new Int32Array(n);
    case 6: return new Float64Array(n);
  }
}

/** Format one number of a native type as DBR_STRING text (at most 39 bytes). */
export function formatNumber(v: number, native: NativeType, precision?: number): string {
  if (native === 2 || native === 6) {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    let s: string;
    if (precision !== undefined && precision >= 0 && Math.abs(v) < 1e21) s = v.toFixed(Math.min(precision, 17));
    else s = String(native === 2 ? Number(v.toPrecision(7)) : v);
    return s.length > 39 ? v.toPrecision(15) : s;
  }
  return String(Math.trunc(v));
}

/** Parse DBR_STRING text as a number; NaN when it is not one. */
export function parseNumber(text: string, allowSpecial: boolean): number {
  const s = text.trim();
  if (s === '') return NaN;
  if (allowSpecial) {
    if (/^[+]?inf(inity)?$/i.test(s)) return Infinity;
    if (/^-inf(inity)?$/i.test(s)) return -Infinity;
    if (/^nan$/i.test(s)) return NaN;
  }
  if (/^[+-]?0x[0-9a-f]+$/i.test(s)) {
    const neg = s.startsWith('-');
    const n = parseInt(s.replace(/^[+-]/, ''), 16);
    return neg ? -n : n;
  }
  const n = Number(s);
  return n;
}

function enumIndexOf(text: string, ctx: ConvertContext): number {
  const states = ctx.enumStrings ?? [];
  let i = states.indexOf(text);
  if (i >= 0) return i;
  const t = text.trim();
  i = states.findIndex((st) => st.trim() === t);
  if (i >= 0) return i;
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  return -1;
}

function badValue(detail: string, status: number = ECA.NOCONVERT): CaStatusError {
  return new CaStatusError(status, undefined, detail);
}

/**
 * Convert one input element (number, string, boolean, bigint) to a number of a native numeric
 * type for a write, checking ranges. Throws CaStatusError (ECA_NOCONVERT / ECA_BADSTR) otherwise.
 */
function inputToNumber(x: unknown, native: Exclude<NativeType, 0>, ctx: ConvertContext): number {
  let n: number;
  if (typeof x === 'number') n = x;
  else if (typeof x === 'boolean') n = x ? 1 : 0;
  else if (typeof x === 'bigint') n = Number(x);
  else if (typeof x === 'string') {
    if (native === 3) {
      const i = enumIndexOf(x, ctx);
      if (i < 0) throw badValue(`'${x}' is not one of the states ${JSON.stringify(ctx.enumStrings ?? [])}`, ECA.BADSTR);
      n = i;
    } else {
      n = parseNumber(x, native === 2 || native === 6);
      if (Number.isNaN(n) && !/^\s*nan\s*$/i.test(x)) throw badValue(`'${x}' is not a number`, ECA.BADSTR);
    }
  } else {
    throw badValue(`cannot convert ${x === null ? 'null' : typeof x} to a number`);
  }
  if (native === 2 || native === 6) return n;
  if (!Number.isFinite(n)) throw badValue(`${n} does not fit an integer type`);
  const t = Math.trunc(n);
  const [lo, hi] = INT_RANGE[native]!;
  if (t < lo || t > hi) throw badValue(`${n} is outside ${lo}..${hi}`);
  if (native === 3) {
    const states = ctx.enumStrings ?? [];
    if (states.length > 0 && t >= states.length) throw badValue(`enum index ${t} is past the last state (${states.length - 1})`);
  }
  return t;
}

function inputToString(x: unknown, ctx: ConvertContext, fromNative?: NativeType): string {
  if (typeof x === 'string') return x;
  if (typeof x === 'number') {
    if (fromNative === 3) return ctx.enumStrings?.[x] ?? String(x);
    return formatNumber(x, fromNative ?? 6, fromNative === 2 || fromNative === 6 ? ctx.precision : undefined);
  }
  if (typeof x === 'boolean' || typeof x === 'bigint') return String(x);
  if (x === null || x === undefined) return '';
  return JSON.stringify(x) ?? '';
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || ArrayBuffer.isView(x);
}

/**
 * Convert a value from a user (flow, library caller) or from a client's WRITE into the PV's
 * native representation. Accepts a scalar, an array, a typed array; for CHAR arrays also a
 * string (its UTF-8 bytes, NUL-terminated when there is room). Throws CaStatusError with
 * ECA_BADCOUNT when there are more elements than `maxCount`, ECA_NOCONVERT / ECA_BADSTR when an
 * element does not convert.
 */
export function toNative(native: NativeType, input: unknown, maxCount: number, ctx: ConvertContext = {}): NativeArray {
  let items: ArrayLike<unknown>;
  if (native === 4 && typeof input === 'string' && maxCount > 1) {
    const bytes = new TextEncoder().encode(input);
    if (bytes.length > maxCount) throw badValue(`text of ${bytes.length} bytes exceeds ${maxCount} elements`, ECA.BADCOUNT);
    const out = new Uint8Array(Math.min(maxCount, bytes.length + 1));
    out.set(bytes);
    return out;
  }
  if (isArrayLike(input) && !(typeof input === 'string')) items = input;
  else items = [input];
  const n = items.length;
  if (n > maxCount) throw badValue(`${n} elements exceed the PV's ${maxCount}`, ECA.BADCOUNT);
  if (native === 0) {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = inputToString(items[i], ctx);
    return out;
  }
  const out = allocNative(native, n) as Exclude<NativeArray, string[]>;
  // Typed-array input of a numeric kind: bulk set (conversion by the engine), ranges unchecked
  // for floats, checked element-wise for integers only when the kinds differ.
  if (ArrayBuffer.isView(input) && !(input instanceof DataView) && (native === 2 || native === 6 || input.constructor === out.constructor)) {
    out.set(input as unknown as ArrayLike<number>);
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = inputToNumber(items[i], native, ctx);
  return out;
}

/**
 * The native value as the `reqNative` element type of a read: numbers cast, strings formatted,
 * enum indexes named. Throws CaStatusError(ECA_NOCONVERT) when a STRING PV's text is not a
 * number and a numeric type is asked for.
 */
export function convertForRead(native: NativeType, value: NativeArray, reqNative: NativeType, ctx: ConvertContext = {}): ArrayLike<number> | string[] {
  if (reqNative === native) return value;
  if (reqNative === 0) {
    const out = new Array<string>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = inputToString(value[i], ctx, native);
    return out;
  }
  if (native === 0) {
    const strs = value as string[];
    const out: number[] = new Array<number>(strs.length);
    for (let i = 0; i < strs.length; i++) {
      const n = parseNumber(strs[i]!, true);
      if (Number.isNaN(n) && !/^\s*nan\s*$/i.test(strs[i]!)) throw badValue(`'${strs[i]}' is not a number`);
      out[i] = n;
    }
    return out;
  }
  // Numeric to numeric: the DBR encoder casts element by element.
  return value as ArrayLike<number>;
}

/**
 * A plain JavaScript value for users: a scalar PV (max count 1) gives a number or string (an
 * ENUM gives its index); an array PV gives a copy as a typed array (strings: string[]).
 */
export function toJs(native: NativeType, value: NativeArray, maxCount: number): number | string | string[] | DbrArray {
  if (maxCount === 1) {
    const v = value[0];
    return native === 0 ? ((v as string | undefined) ?? '') : ((v as number | undefined) ?? 0);
  }
  return native === 0 ? (value as string[]).slice() : (value as Exclude<NativeArray, string[]>).slice();
}
