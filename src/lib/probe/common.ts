/**
 * Small helpers shared by the probes: address family, host validation, clocks.
 */
import { isIP } from 'node:net';

/** 0 = any (system default), 4 = IPv4 only, 6 = IPv6 only. */
export type Family = 0 | 4 | 6;

/** Parse a family given as 0/4/6, '4', 'ipv6', 'IPv4', 'any', 'auto' or ''. */
export function parseFamily(v: unknown, name = 'family'): Family {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0' || v === 'any' || v === 'auto') return 0;
  if (v === 4 || v === '4' || (typeof v === 'string' && /^ipv?4$/i.test(v))) return 4;
  if (v === 6 || v === '6' || (typeof v === 'string' && /^ipv?6$/i.test(v))) return 6;
  throw new Error(`${name} must be 4, 6 or empty for either (got ${JSON.stringify(v)})`);
}

/**
 * A host name or IP literal that is safe to hand to a command line: no blanks, no leading '-',
 * at most 253 characters of letters, digits and `.-_:%` (IPv6 zone ids), optional [brackets]
 * around an IPv6 literal (removed).
 */
export function validateHost(v: unknown, name = 'destination'): string {
  if (typeof v !== 'string') throw new Error(`${name} must be a host name or IP address (got ${describe(v)})`);
  let h = v.trim();
  if (/^\[.*\]$/.test(h)) h = h.slice(1, -1);
  if (!h) throw new Error(`${name} is empty`);
  if (h.length > 253 || h.startsWith('-') || !/^[A-Za-z0-9._:%-]+$/.test(h)) {
    throw new Error(`${name} ${JSON.stringify(v)} is not a valid host name or IP address`);
  }
  if (h.includes(':') && !isIP(h)) throw new Error(`${name} ${JSON.stringify(v)} is not a valid IPv6 address`);
  return h;
}

/**
 * A number option: `def` when empty (undefined, null, ''), else a finite number in min..max
 * (whole when `integer`); throws an Error naming the option otherwise.
 */
export function checkNumber<D extends number | undefined>(v: unknown, name: string, def: D, min: number, max: number, integer: boolean): number | D {
  if (v === undefined || v === null || v === '') return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${name} must be a number (got ${JSON.stringify(v)})`);
  if (integer && !Number.isInteger(v)) throw new Error(`${name} must be a whole number (got ${v})`);
  if (v < min || v > max) throw new Error(`${name} must be between ${min} and ${max} (got ${v})`);
  return v;
}

/** A short description of a value for error texts. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  return `${typeof v} ${String(v)}`;
}

/** Milliseconds on the monotonic clock. */
export function now(): number {
  return performance.now();
}

/** Epoch seconds with sub-millisecond precision (natrix stamps are float epoch seconds). */
export function epochSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/** Round a duration in ms to microseconds. */
export function ms3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
