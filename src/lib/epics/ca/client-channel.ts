/**
 * Client-side channel and subscription records, the reading users get, the client's error
 * type, and the conversion of user values for puts. No I/O.
 *
 * A `Channel` is kept small (plain fields, optional arrays left undefined until used): a
 * connected channel nobody is reading costs a few hundred bytes, so 100,000 of them fit in
 * well under 150 MB.
 */
import { FieldlinkError } from '../../wire/errors';
import { AccessRights, ECA, MAX_STRING_SIZE, ecaInfo } from './constants';
import { dbrLayout, dbrName, nativeTypeNames, type DbrArray, type DbrLimits, type DbrValue, type NativeType } from './dbr';
import { epicsTimeToMs, type EpicsTime } from './time';
import { toNative } from './convert';
import { CaStatusError } from './errors';
import type { Searchable } from './search';
import type { ClientCircuit } from './circuit-client';

/** A value as users see it: a number or string for scalars, a typed array or string[] for arrays. */
export type CaValue = number | string | string[] | DbrArray;

/** Display and control metadata (from the CTRL form), merged into every default reading. */
export interface CaMetadata {
  units?: string;
  precision?: number;
  limits?: DbrLimits;
  enumStrings?: string[];
}

/** One value read or monitored. */
export interface CaReading extends CaMetadata {
  /** The PV name on the wire. */
  name: string;
  /** Scalar for channels of one element, otherwise an array (typed for numbers). ENUM: the state string when known. */
  value: CaValue;
  /** DBR type of the reply, e.g. 20 (DBR_TIME_DOUBLE), and its name. */
  dataType: number;
  dataTypeName: string;
  /** Elements in the reply. */
  count: number;
  /** The channel's native type ('DOUBLE', ...) and element count. */
  nativeType: string;
  nativeCount: number;
  /** Alarm severity and status (STS and richer forms). */
  severity?: number;
  status?: number;
  /** Time stamp as POSIX milliseconds (fraction = sub-millisecond part) and as EPICS seconds + ns (TIME form). */
  timestamp?: number;
  stamp?: EpicsTime;
  /** ENUM channels: the state index (value holds the state string when the strings are known). */
  enumIndex?: number;
  /** STSACK_STRING. */
  ackt?: number;
  acks?: number;
}

/** Error codes of `CaClientError`. */
export type CaClientErrorCode =
  | 'ENOTFOUND' // no server answered the search in time
  | 'ETIMEOUT' // connected, but no reply in time (or the channel creation did not finish)
  | 'EDISCONNECTED' // the circuit was lost before the operation completed
  | 'EBADVALUE' // a value that cannot be written to this PV
  | 'EBADENUM' // an enum state string the PV does not have
  | 'ETOOLONG' // an array longer than the PV (or than maxArrayBytes)
  | 'ENOACCESS' // no read or write access
  | 'ECASTATUS' // the server answered with an ECA error status
  | 'EMALFORMED' // the server's reply did not decode
  | 'ECLOSED' // the client context was closed
  | 'ECANCELLED'; // the operation was cancelled

/** An operation failed: the PV name, a stable code and, for server refusals, the ECA status. */
export class CaClientError extends FieldlinkError {
  declare readonly code: CaClientErrorCode;
  /** PV name the failure concerns. */
  readonly pv: string | undefined;
  /** ECA status when the server reported one. */
  readonly eca: number | undefined;
  readonly ecaName: string | undefined;
  constructor(code: CaClientErrorCode, message: string, pv?: string, eca?: number) {
    super(code, message);
    this.pv = pv;
    this.eca = eca;
    this.ecaName = eca === undefined ? undefined : ecaInfo(eca).name;
  }
}

/** Text of an ECA status for messages: 'ECA_PUTFAIL (Write failed)'. */
export function ecaText(status: number): string {
  const i = ecaInfo(status);
  return `${i.name} (${i.text})`;
}

/** Where a channel's metadata stands: not asked, subscription sent, received, refused. */
export const MetaState = { None: 0, Pending: 1, Ready: 2, Failed: 3 } as const;
export type MetaState = (typeof MetaState)[keyof typeof MetaState];

/** What happens to a channel, for handles' listeners. */
export interface ChannelEvent {
  name: string;
  /** 'searching' (never connected yet), 'connected', 'disconnected' (lost, searching again), 'closed'. */
  state: 'searching' | 'connected' | 'disconnected' | 'closed';
  connected: boolean;
  /** Access rights bits (1 read, 2 write). */
  rights: number;
  /** Server 'ip:port' (when known). */
  server: string | undefined;
}
export type ChannelListener = (ev: ChannelEvent) => void;

/** Something waiting for a channel to connect (a read, a put, a connect call). */
export interface ChannelWaiter {
  /** Called once the channel connected, or was closed (check `ch.state`). */
  channelReady(ch: Channel): void;
}

/** A pending read or write on a circuit. */
export interface PendingOp {
  ch: Channel;
  ioid: number;
  circuit: ClientCircuit | undefined;
  /** Read: the DBR value; write: undefined. `status` is the ECA status of the reply. */
  complete(status: number, data: DbrValue | undefined): void;
  fail(err: Error): void;
}

/** What a circuit needs of a monitor (the context keeps the rest). */
export interface MonitorRecord {
  readonly ch: Channel;
  readonly mask: number;
  /** The internal metadata subscription (DBE_PROPERTY, CTRL form) rather than a user's. */
  readonly internal: boolean;
  /** Current subscription id on the circuit (0 while not subscribed). */
  id: number;
}

const NATIVE_NAMES: readonly string[] = [...nativeTypeNames];

export class Channel implements Searchable {
  readonly name: string;
  readonly cid: number;
  searchLane = -1;
  searchToken = 0;
  searchCount = 0;
  state: 'searching' | 'creating' | 'connected' | 'closed' = 'searching';
  sid = 0;
  /** Native type (0..6; -1 until connected) and element count. */
  nativeType = -1;
  nativeCount = 0;
  rights = 0;
  circuit: ClientCircuit | undefined = undefined;
  /** Server of the current or last connection ('ip:port'). */
  server: string | undefined = undefined;
  everConnected = false;
  /** Handles and monitors holding the channel. */
  refs = 0;
  lastUse = 0;
  meta: CaMetadata | undefined = undefined;
  metaState: MetaState = MetaState.None;
  /** When the metadata subscription was sent (performance.now()). */
  metaAskedAt = 0;
  monitors: MonitorRecord[] | undefined = undefined;
  waiters: ChannelWaiter[] | undefined = undefined;
  metaWaiters: Array<() => void> | undefined = undefined;
  listeners: ChannelListener[] | undefined = undefined;

  constructor(name: string, cid: number) {
    this.name = name;
    this.cid = cid;
  }

  get nativeTypeName(): string {
    return this.nativeType >= 0 ? NATIVE_NAMES[this.nativeType]! : 'unknown';
  }

  /** Connected and its circuit answering. */
  get usable(): boolean {
    return this.state === 'connected' && this.circuit !== undefined && this.circuit.state === 'connected';
  }

  /** The state users see. */
  publicState(): ChannelEvent['state'] {
    if (this.state === 'closed') return 'closed';
    if (this.usable) return 'connected';
    return this.everConnected ? 'disconnected' : 'searching';
  }

  event(): ChannelEvent {
    const state = this.publicState();
    return { name: this.name, state, connected: state === 'connected', rights: this.rights, server: this.server };
  }
}

// Hot-path imports as module locals (read once at load, not through the module object per call).
const layoutOf = dbrLayout;
const nameOf = dbrName;
const stampToMs = epicsTimeToMs;
const RIGHT_READ = AccessRights.READ;
const RIGHT_WRITE = AccessRights.WRITE;

/**
 * Build the reading of a DBR value for a channel. `meta` (cached CTRL metadata) fills units,
 * precision, limits and enum strings where the reply itself has none.
 */
export function makeReading(ch: Channel, v: DbrValue, meta: CaMetadata | undefined): CaReading {
  const l = layoutOf(v.dataType);
  const arr = v.value;
  const scalar = ch.nativeCount <= 1 && v.count === 1;
  const enumStrings = v.enumStrings ?? meta?.enumStrings;
  let value: CaValue;
  let enumIndex: number | undefined;
  if (l && l.native === 3 && (l.family !== 'put_ackt' && l.family !== 'put_acks') && ch.nativeType === 3) {
    // An ENUM read as ENUM: the index, shown as its state string when known.
    const idx = arr as Uint16Array;
    if (scalar) {
      const i = idx[0] ?? 0;
      enumIndex = i;
      const s = enumStrings?.[i];
      value = s !== undefined ? s : i;
    } else {
      value = idx;
    }
  } else if (scalar) {
    value = arr[0] ?? (Array.isArray(arr) ? '' : 0);
  } else {
    value = arr;
  }
  const r: CaReading = {
    name: ch.name,
    value,
    dataType: v.dataType,
    dataTypeName: nameOf(v.dataType),
    count: v.count,
    nativeType: ch.nativeTypeName,
    nativeCount: ch.nativeCount,
  };
  if (v.severity !== undefined) r.severity = v.severity;
  if (v.status !== undefined) r.status = v.status;
  if (v.stamp) {
    r.stamp = v.stamp;
    r.timestamp = stampToMs(v.stamp);
  }
  const units = v.units ?? meta?.units;
  if (units !== undefined) r.units = units;
  const precision = v.precision ?? meta?.precision;
  if (precision !== undefined) r.precision = precision;
  const limits = v.limits ?? meta?.limits;
  if (limits !== undefined) r.limits = limits;
  if (enumStrings !== undefined) r.enumStrings = enumStrings;
  if (enumIndex !== undefined) r.enumIndex = enumIndex;
  if (v.ackt !== undefined) r.ackt = v.ackt;
  if (v.acks !== undefined) r.acks = v.acks;
  return r;
}

/** Metadata of a CTRL/GR reply. */
export function metaFromDbr(v: DbrValue): CaMetadata {
  const m: CaMetadata = {};
  if (v.units !== undefined) m.units = v.units;
  if (v.precision !== undefined) m.precision = v.precision;
  if (v.limits !== undefined) m.limits = v.limits;
  if (v.enumStrings !== undefined) m.enumStrings = v.enumStrings;
  return m;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '...' : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return `a${typeof v === 'object' ? 'n object' : ' ' + typeof v}`;
}

function isScalarInput(x: unknown): boolean {
  return typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean' || typeof x === 'bigint';
}

export interface PreparedWrite {
  dataType: number;
  count: number;
  value: ArrayLike<number> | string[];
}

/**
 * Convert a user's value for a put to `ch` (connected): checks element types, array length,
 * string length and enum states, and returns what to send (the native type, or DBR_STRING for an
 * enum state whose strings are not known here: the server then converts). Throws CaClientError.
 */
export function prepareWrite(ch: Channel, input: unknown): PreparedWrite {
  const native = ch.nativeType as NativeType;
  const pv = ch.name;
  const typeName = ch.nativeTypeName;
  let items: ArrayLike<unknown>;
  if (Array.isArray(input) || (ArrayBuffer.isView(input) && !(input instanceof DataView))) items = input as ArrayLike<unknown>;
  else if (isScalarInput(input)) items = [input];
  else throw new CaClientError('EBADVALUE', `cannot write ${describe(input)} to ${pv} (${typeName}): expected a number, a string, a boolean or an array of them`, pv);
  const n = items.length;
  // A CHAR waveform takes a string as its bytes.
  const charText = native === 4 && typeof input === 'string' && ch.nativeCount > 1;
  if (!charText) {
    if (n === 0) throw new CaClientError('EBADVALUE', `cannot write an empty array to ${pv}`, pv);
    if (n > ch.nativeCount) throw new CaClientError('ETOOLONG', `${n} elements are too many for ${pv}, which holds ${ch.nativeCount}`, pv);
    if (!ArrayBuffer.isView(input)) {
      for (let i = 0; i < n; i++) {
        if (!isScalarInput(items[i])) throw new CaClientError('EBADVALUE', `cannot write ${describe(items[i])} (element ${i}) to ${pv} (${typeName})`, pv);
      }
    }
  }
  if (native === 0) {
    const out: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const x = items[i];
      const s = typeof x === 'string' ? x : String(x);
      if (Buffer.byteLength(s) > MAX_STRING_SIZE - 1) throw new CaClientError('ETOOLONG', `a string of ${Buffer.byteLength(s)} bytes is too long for ${pv} (CA strings hold ${MAX_STRING_SIZE - 1} bytes)`, pv);
      out[i] = s;
    }
    return { dataType: 0, count: n, value: out };
  }
  if (native === 3) {
    const states = ch.meta?.enumStrings;
    const strs = Array.from({ length: n }, (_, i) => items[i]);
    if (!states && strs.some((x) => typeof x === 'string' && !/^\s*\d+\s*$/.test(x))) {
      // State strings unknown here: let the server convert (DBR_STRING), as caput does.
      return { dataType: 0, count: n, value: strs.map((x) => String(x)) };
    }
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const x = strs[i];
      if (typeof x === 'string') {
        let idx = states ? states.indexOf(x) : -1;
        if (idx < 0 && states) idx = states.findIndex((s) => s.trim() === x.trim());
        if (idx < 0 && /^\s*\d+\s*$/.test(x)) idx = Number(x);
        if (idx < 0) throw new CaClientError('EBADENUM', `'${x}' is not a state of ${pv}; its states are ${(states ?? []).map((s) => `'${s}'`).join(', ')}`, pv);
        if (states && states.length > 0 && idx >= states.length) throw new CaClientError('EBADENUM', `state index ${idx} is past the last state of ${pv} (${states.length - 1})`, pv);
        out[i] = idx;
      } else {
        const v = typeof x === 'boolean' ? (x ? 1 : 0) : Number(x);
        if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new CaClientError('EBADENUM', `${describe(x)} is not a state index of ${pv}`, pv);
        if (states && states.length > 0 && v >= states.length) throw new CaClientError('EBADENUM', `state index ${v} is past the last state of ${pv} (${states.length - 1})`, pv);
        out[i] = v;
      }
    }
    return { dataType: 3, count: n, value: out };
  }
  try {
    const v = toNative(native, charText ? input : items, ch.nativeCount);
    return { dataType: native, count: v.length, value: v as ArrayLike<number> };
  } catch (e) {
    if (e instanceof CaStatusError) {
      const code = e.eca === ECA.BADCOUNT ? 'ETOOLONG' : 'EBADVALUE';
      const detail = e.message.replace(/^ECA_\w+: [^:]*: /, '');
      throw new CaClientError(code, `cannot write ${describe(input)} to ${pv} (${typeName}): ${detail}`, pv);
    }
    throw e;
  }
}

/** Text for the lack of a right: 'no write access to X'. */
export function accessError(ch: Channel, write: boolean): CaClientError {
  return new CaClientError('ENOACCESS', `no ${write ? 'write' : 'read'} access to ${ch.name}${ch.server ? ` on ${ch.server}` : ''}`, ch.name, write ? ECA.NOWTACCESS : ECA.NORDACCESS);
}

export function hasRight(ch: Channel, write: boolean): boolean {
  return (ch.rights & (write ? RIGHT_WRITE : RIGHT_READ)) !== 0;
}
