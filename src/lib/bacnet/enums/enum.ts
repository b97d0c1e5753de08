/**
 * Named BACnet enumerations with lookup both ways (ASHRAE 135-2020 Clause 21, the ASN.1
 * ENUMERATED and BIT STRING productions).
 *
 * Every enumeration keeps the standard's hyphenated spelling as its canonical name
 * ('analog-input', 'present-value', 'degrees-celsius'). Input is accepted in the spellings people
 * type: hyphenated, camelCase, snake_case, UPPER_SNAKE, with spaces, any case, a decimal string,
 * a number, and the short aliases each table lists ('ai', 'pv'). Values without a name (vendor
 * extensions, later addenda) are plain numbers: decoding never fails on them, `nameOf` returns
 * undefined and `label` returns the decimal text.
 *
 * `defineEnum` also returns the values as camelCase constants, typed as literals:
 * `ObjectType.analogInput === 0`, `PropertyIdentifier.presentValue === 85`.
 */
import { FieldlinkError } from '../../wire/errors';

/** 'analog-input' -> 'analogInput' at the type level. */
export type KebabToCamel<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<KebabToCamel<T>>}`
  : S;

export type EnumConstants<T extends Record<string, number>> = {
  readonly [K in keyof T & string as KebabToCamel<K>]: T[K];
};

/** A name or number that is not valid for an enumeration (local input, not peer data). */
export class BacnetNameError extends FieldlinkError {
  constructor(message: string) {
    super('EBACNETNAME', message);
  }
}

/** Lower-case and drop separators: 'Analog_Input', 'analogInput', 'analog-input' -> 'analoginput'. */
export function normalizeName(s: string): string {
  return s.toLowerCase().replace(/[-_\s.]/g, '');
}

function camel(s: string): string {
  return s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const RESERVED = new Set(['title', 'table', 'max', 'nameOf', 'label', 'lookup', 'require', 'names', 'entries', 'size']);

export class BacnetEnum<T extends Record<string, number> = Record<string, number>> {
  /** What the enumeration is, in words ('object type'), for error messages. */
  readonly title: string;
  /** Canonical name -> value. */
  readonly table: Readonly<T>;
  /** Largest value accepted by `lookup`/`require` (vendor range included). */
  readonly max: number;
  readonly #byValue = new Map<number, string>();
  readonly #byKey = new Map<string, number>();

  constructor(title: string, table: T, aliases: Record<string, string> = {}, max = 0xffffffff) {
    this.title = title;
    this.table = Object.freeze({ ...table });
    this.max = max;
    for (const [name, value] of Object.entries(table)) {
      if (!this.#byValue.has(value)) this.#byValue.set(value, name);
      const key = normalizeName(name);
      if (this.#byKey.has(key) && this.#byKey.get(key) !== value) {
        throw new Error(`${title}: '${name}' collides with another name`);
      }
      this.#byKey.set(key, value);
    }
    for (const [alias, target] of Object.entries(aliases)) {
      const value = table[target];
      if (value === undefined) throw new Error(`${title}: alias '${alias}' names unknown '${target}'`);
      const key = normalizeName(alias);
      const existing = this.#byKey.get(key);
      if (existing !== undefined && existing !== value) throw new Error(`${title}: alias '${alias}' is ambiguous`);
      this.#byKey.set(key, value);
    }
  }

  /** Number of named values. */
  get size(): number {
    return this.#byValue.size;
  }

  /** Canonical name of a value, or undefined for unnamed (vendor, future) values. */
  nameOf(value: number): (keyof T & string) | undefined {
    return this.#byValue.get(value) as (keyof T & string) | undefined;
  }

  /** Canonical name, or the decimal value when it has none: for display and messages. */
  label(value: number): string {
    return this.#byValue.get(value) ?? String(value);
  }

  /**
   * The value for a name in any accepted spelling, a decimal string or a number; undefined when
   * unknown or out of range. 'proprietary-600' and 'vendor-600' are read as 600.
   */
  lookup(x: string | number): number | undefined {
    if (typeof x === 'number') return Number.isInteger(x) && x >= 0 && x <= this.max ? x : undefined;
    if (typeof x !== 'string') return undefined;
    const s = x.trim();
    if (/^\d+$/.test(s)) return this.lookup(Number(s));
    const v = this.#byKey.get(normalizeName(s));
    if (v !== undefined) return v;
    const m = /^(?:proprietary|vendor)[-_ ]?(\d+)$/i.exec(s);
    return m ? this.lookup(Number(m[1])) : undefined;
  }

  /** Like `lookup`, but throws a `BacnetNameError` that says what was expected. */
  require(x: string | number, what = this.title): number {
    const v = this.lookup(x);
    if (v === undefined) throw new BacnetNameError(`unknown ${what} ${JSON.stringify(x)}`);
    return v;
  }

  /** Canonical names in value order. */
  names(): string[] {
    return this.entries().map(([n]) => n);
  }

  /** [name, value] pairs in value order. */
  entries(): Array<[string, number]> {
    return [...this.#byValue.entries()].sort((a, b) => a[0] - b[0]).map(([v, n]) => [n, v]);
  }
}

/**
 * Define an enumeration from its canonical table (name -> value). Returns the lookup object with
 * a camelCase constant for every name.
 */
export function defineEnum<const T extends Record<string, number>>(
  title: string,
  table: T,
  aliases: Record<string, string> = {},
  max = 0xffffffff,
): BacnetEnum<T> & EnumConstants<T> {
  const e = new BacnetEnum(title, table, aliases, max);
  for (const [name, value] of Object.entries(table)) {
    const c = camel(name);
    if (RESERVED.has(c)) throw new Error(`${title}: '${name}' clashes with a method name`);
    Object.defineProperty(e, c, { value, enumerable: true });
  }
  return e as BacnetEnum<T> & EnumConstants<T>;
}

/**
 * Bits of a BACnet BIT STRING as an object keyed by the camelCase names of a bit-position
 * enumeration: statusFlags bits [F,F,F,T] -> { inAlarm: false, fault: false, overridden: false,
 * outOfService: true }. Bits beyond the named ones are dropped; missing bits read false.
 */
export function bitsToFlags<T extends Record<string, number>>(
  e: BacnetEnum<T>,
  bits: readonly boolean[],
): { [K in keyof T & string as KebabToCamel<K>]: boolean } {
  const out: Record<string, boolean> = {};
  for (const [name, pos] of e.entries()) out[camel(name)] = bits[pos] === true;
  return out as { [K in keyof T & string as KebabToCamel<K>]: boolean };
}

/**
 * The inverse of `bitsToFlags`: a bit array of `length` bits (default: one past the highest
 * named position) from names set to true. Accepts an object of flags or a list of names.
 */
export function flagsToBits(
  e: BacnetEnum,
  flags: Readonly<Record<string, boolean>> | readonly (string | number)[],
  length?: number,
): boolean[] {
  let max = -1;
  for (const [, v] of e.entries()) max = Math.max(max, v);
  const bits: boolean[] = new Array<boolean>(length ?? max + 1).fill(false);
  const set = (k: string | number): void => {
    const pos = e.require(k);
    while (bits.length <= pos) bits.push(false);
    bits[pos] = true;
  };
  if (Array.isArray(flags)) for (const k of flags as readonly (string | number)[]) set(k);
  else for (const [k, on] of Object.entries(flags as Record<string, boolean>)) if (on) set(k);
  return bits;
}
