/**
 * The Channel Access client: one `CaClientContext` per configuration (per `epics-context` config
 * node), shared by everything that uses it.
 *
 *   const ctx = new CaClientContext({ addrList: '127.0.0.1:5064', autoAddrList: false });
 *   await ctx.connect('DEMO:X');                           // search + create, no read
 *   const r = await ctx.get('DEMO:X');                     // TIME form + cached CTRL metadata
 *   r.value; r.units; r.severity; r.timestamp;
 *   await ctx.put('DEMO:MODE', 'Running', { wait: true }); // enum by state string, WRITE_NOTIFY
 *   const m = ctx.monitor('DEMO:X', (r) => ...);           // newest-wins per subscription
 *   const all = await ctx.bulkGet(names);                  // Map name -> reading | CaClientError
 *   m.cancel(); await ctx.close();
 *
 * How it works (see README.md in this folder):
 * - Names are searched over UDP (address list / auto address list) and over TCP (name servers),
 *   packed into full datagrams, with exponential back-off and a send window (`search.ts`).
 *   Replies are matched by cid; a second server answering for a name gets a warning.
 * - One TCP circuit per server carries every channel on it (`circuit-client.ts`); requests made
 *   in one event-loop turn leave in one write, so `bulkGet` of N PVs is one write per server.
 * - Beacons (through our own repeater or a registration with the host's) are tracked; an
 *   anomaly (a server restarted) re-searches missing channels at once. Lost circuits put their
 *   channels back to searching (with jittered back-off when a server refuses connections, reset
 *   on success); monitors are re-subscribed on reconnection, so they start with a fresh value.
 * - Metadata (units, precision, limits, enum states) comes from a DBE_PROPERTY subscription in
 *   the CTRL form, made once per connection when first wanted; it refreshes by itself and is
 *   merged into every default (TIME form) reading.
 * - Monitor updates are decoded on arrival, kept newest-wins per subscription (drops counted)
 *   and handed to listeners in a later turn, within a time budget; when the listeners cannot
 *   keep up for several turns the circuits are told EVENTS_OFF until the backlog is gone.
 * - Nothing throws out of socket handlers or timers; every API promise settles (value, error or
 *   timeout); `close()` releases every socket and timer.
 */
import { EventEmitter } from 'node:events';
import { AccessRights, Command, DBE, ECA, HEADER_SIZE, SEQUENCE_NUMBER_VALID, CA_MINOR_VERSION, SearchReply } from './constants';
import { dbrLayout, dbrName, dbrSize, dbrType, parseDbrType, type DbrValue, type NativeType } from './dbr';
import { ipv4FromU32 } from './messages';
import { pad8 } from './header';
import { SearchScheduler } from './search';
import { BeaconTracker } from './client-beacons';
import { ClientCircuit, type CircuitOwner } from './circuit-client';
import { ClientUdp } from './client-udp';
import { resolveClientOptions, type CaClientOptions, type ResolvedCaClientOptions } from './client-options';
import {
  CaClientError, Channel, MetaState, accessError, ecaText, hasRight, makeReading, metaFromDbr, prepareWrite,
  type CaMetadata, type CaReading, type ChannelEvent, type ChannelListener, type ChannelWaiter, type MonitorRecord, type PendingOp,
} from './client-channel';
import type { ClientCircuitState } from './state';
import { PvNameError, requireCa } from '../pv-name';

export { CaClientError } from './client-channel';
export type { CaReading, CaMetadata, CaValue, ChannelEvent, ChannelListener, CaClientErrorCode } from './client-channel';

// ---------------------------------------------------------------------------------------------
// Public types

export interface CaWarning {
  code: string;
  message: string;
  pv?: string;
}

export interface CaClientEvents {
  /** Something worth a log line: a PV on several servers, a refused channel, a server ERROR. */
  warning: [CaWarning];
  /** A circuit changed state ('connected', 'unresponsive', 'closed'). */
  circuit: [{ server: string; state: ClientCircuitState; reason?: string }];
  /** A beacon was seen; `anomaly` when it made us search again. */
  beacon: [{ server: string; anomaly: boolean; reason: string }];
}

/** Which DBR form to read: a form of the channel's own type, or a DBR type (id or name). */
export type DbrSpec = 'native' | 'plain' | 'sts' | 'time' | 'gr' | 'ctrl' | number | string;

export interface GetOptions {
  /** Form or DBR type (default 'time': TIME form of the native type, merged with metadata). */
  type?: DbrSpec;
  /** Elements to read (default 0 = all, the current length). */
  count?: number;
  /** Milliseconds to wait for the PV to connect and answer (default: the context's timeoutMs). */
  timeout?: number;
  /** Merge cached CTRL metadata into the reading (default true for the TIME form, else false). */
  metadata?: boolean;
}

export interface PutOptions {
  /** Wait for the server to complete the put (WRITE_NOTIFY, "put callback"). Default false. */
  wait?: boolean;
  timeout?: number;
}

export interface MonitorOptions {
  /** DBE mask: a number or names ('value', 'log', 'alarm', 'property'). Default value|alarm. */
  mask?: number | ReadonlyArray<'value' | 'log' | 'alarm' | 'property'>;
  type?: DbrSpec;
  count?: number;
  /** Merge metadata (default true for the TIME form). */
  metadata?: boolean;
  /** Failures of the subscription (refused by the server, no read access, too large). */
  onError?: (err: CaClientError) => void;
  /** Connection changes of the channel. */
  onState?: ChannelListener;
}

export interface ConnectResult {
  name: string;
  nativeType: string;
  nativeCount: number;
  rights: number;
  server: string;
}

export interface CaClientStats {
  searchDatagrams: number;
  searches: number;
  searchRepeats: number;
  searchReplies: number;
  searchRepliesUnmatched: number;
  duplicateReplies: number;
  channelsCreated: number;
  channelsConnected: number;
  circuitsOpened: number;
  circuitsLost: number;
  beacons: number;
  beaconAnomalies: number;
  eventsReceived: number;
  eventsDelivered: number;
  eventsDropped: number;
  eventsOff: number;
  malformedDatagrams: number;
  warnings: number;
  listenerErrors: number;
}

type Result = CaReading | CaClientError | PvNameError;

/** Result marker of items that produce no reading (connect, put). */
const DONE = Object.freeze({}) as CaReading;

// ---------------------------------------------------------------------------------------------
// Internal records

/** A monitor made by a user (or the internal metadata subscription). */
class Monitor implements MonitorRecord {
  id = 0;
  pending: DbrValue | undefined = undefined;
  queued = false;
  cancelled = false;
  received = 0;
  delivered = 0;
  dropped = 0;
  /** Type and count actually subscribed (for EVENT_CANCEL). */
  activeType = 0;
  activeCount = 0;
  constructor(
    readonly ch: Channel,
    readonly spec: DbrSpec | undefined,
    readonly count: number,
    readonly mask: number,
    readonly merge: boolean,
    readonly internal: boolean,
    readonly listener: ((r: CaReading, m: CaMonitor) => void) | undefined,
    readonly onError: ((e: CaClientError) => void) | undefined,
  ) {}
  handle: CaMonitor | undefined;
}

/** One API call over one or more PVs: one promise, one timer. */
class Batch {
  readonly results: Array<Result | undefined>;
  left: number;
  timer: NodeJS.Timeout | undefined;
  readonly items: Item[] = [];
  done = false;
  constructor(
    n: number,
    readonly onDone: (b: Batch) => void,
  ) {
    this.results = new Array<Result | undefined>(n);
    this.left = n;
  }
  settle(i: number, r: Result): void {
    if (this.done || this.results[i] !== undefined) return;
    this.results[i] = r;
    if (--this.left === 0) this.finish();
  }
  finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.onDone(this);
  }
}

type ItemKind = 'read' | 'write' | 'connect';

/** One PV of a batch: waits for its channel, then reads / writes / just connects. */
class Item implements ChannelWaiter, PendingOp {
  ioid = 0;
  circuit: ClientCircuit | undefined = undefined;
  waiting = false;
  constructor(
    readonly ctx: Internals,
    readonly kind: ItemKind,
    readonly batch: Batch,
    readonly index: number,
    readonly ch: Channel,
    readonly spec: DbrSpec | undefined,
    readonly count: number,
    readonly merge: boolean,
    readonly value: unknown,
    readonly wait: boolean,
  ) {}
  channelReady(): void {
    this.waiting = false;
    this.ctx.run(this);
  }
  complete(status: number, data: DbrValue | undefined): void {
    this.circuit = undefined;
    this.ctx.completed(this, status, data);
  }
  fail(err: Error): void {
    this.circuit = undefined;
    this.batch.settle(this.index, err instanceof CaClientError ? err : new CaClientError('EDISCONNECTED', err.message, this.ch.name));
  }
}

/** What Items call back into (implemented by the context). */
interface Internals {
  run(item: Item): void;
  completed(item: Item, status: number, data: DbrValue | undefined): void;
}

/** A subscription handle. */
export class CaMonitor {
  readonly #ctx: CaClientContext;
  readonly #m: Monitor;
  readonly #stateListener: ChannelListener | undefined;
  /** The name as given. */
  readonly name: string;
  constructor(ctx: CaClientContext, m: Monitor, name: string, stateListener: ChannelListener | undefined) {
    this.#ctx = ctx;
    this.#m = m;
    this.name = name;
    this.#stateListener = stateListener;
  }
  /** The PV name on the wire. */
  get pvName(): string {
    return this.#m.ch.name;
  }
  /** Updates received from the server, handed to the listener, and replaced by newer ones before delivery. */
  get received(): number {
    return this.#m.received;
  }
  get delivered(): number {
    return this.#m.delivered;
  }
  get dropped(): number {
    return this.#m.dropped;
  }
  get connected(): boolean {
    return this.#m.ch.usable;
  }
  get state(): ChannelEvent['state'] {
    return this.#m.ch.publicState();
  }
  get cancelled(): boolean {
    return this.#m.cancelled;
  }
  /** Stop the subscription (EVENT_CANCEL) and release the channel. Idempotent. */
  cancel(): void {
    this.#ctx._cancelMonitor(this.#m, this.#stateListener);
  }
}

/** A held channel: keeps the PV connected (and reconnected) until `release()`. */
export class CaChannel {
  readonly #ctx: CaClientContext;
  readonly #ch: Channel;
  readonly #listener: ChannelListener | undefined;
  #released = false;
  /** The name as given (e.g. 'ca://DEMO:X'). */
  readonly name: string;
  constructor(ctx: CaClientContext, ch: Channel, name: string, listener: ChannelListener | undefined) {
    this.#ctx = ctx;
    this.#ch = ch;
    this.name = name;
    this.#listener = listener;
  }
  get pvName(): string {
    return this.#ch.name;
  }
  get state(): ChannelEvent['state'] {
    return this.#ch.publicState();
  }
  get connected(): boolean {
    return this.#ch.usable;
  }
  /** 'DOUBLE', 'ENUM', ... ('unknown' before the first connection). */
  get nativeType(): string {
    return this.#ch.nativeTypeName;
  }
  get nativeCount(): number {
    return this.#ch.nativeCount;
  }
  get readable(): boolean {
    return (this.#ch.rights & AccessRights.READ) !== 0;
  }
  get writable(): boolean {
    return (this.#ch.rights & AccessRights.WRITE) !== 0;
  }
  get server(): string | undefined {
    return this.#ch.server;
  }
  get metadata(): CaMetadata | undefined {
    return this.#ch.meta;
  }
  connect(opts: { timeout?: number } = {}): Promise<ConnectResult> {
    return this.#ctx.connect(this.name, opts);
  }
  get(opts?: GetOptions): Promise<CaReading> {
    return this.#ctx.get(this.name, opts);
  }
  put(value: unknown, opts?: PutOptions): Promise<void> {
    return this.#ctx.put(this.name, value, opts);
  }
  monitor(listener: (r: CaReading, m: CaMonitor) => void, opts?: MonitorOptions): CaMonitor {
    return this.#ctx.monitor(this.name, listener, opts);
  }
  /** Let go of the channel; it is cleared when nothing else holds it. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#ctx._releaseHandle(this.#ch, this.#listener);
  }
}

// ---------------------------------------------------------------------------------------------

const FORMS = ['native', 'plain', 'sts', 'time', 'gr', 'ctrl'] as const;
// Hot-path constants as plain locals (read once at load).
const TIME_BASE = 14;
const ECA_NORMAL = ECA.NORMAL;
const META_PENDING = MetaState.Pending;
const META_NONE = MetaState.None;
const reading = makeReading;
const CMD_VERSION = Command.VERSION;
const CMD_SEARCH = Command.SEARCH;
const CMD_BEACON = Command.RSRV_IS_UP;
const SEQ_VALID = SEQUENCE_NUMBER_VALID;
const HS = HEADER_SIZE;
/** While a large batch sets up its channels, searches start every this many new channels. */
const EARLY_SEARCH_EVERY = 512;
const canRead = hasRight;

/** The DBR type for a spec on a channel of native type `native`; undefined when the spec is unknown. */
export function resolveDbrSpec(spec: DbrSpec | undefined, native: NativeType): number | undefined {
  if (spec === undefined) return TIME_BASE + native; // DBR_TIME_<native>
  if (typeof spec === 'string') {
    const s = spec.trim().toLowerCase();
    if ((FORMS as readonly string[]).includes(s)) return dbrType(s === 'native' ? 'plain' : (s as 'plain' | 'sts' | 'time' | 'gr' | 'ctrl'), native);
  }
  return parseDbrType(spec);
}

function maskOf(m: MonitorOptions['mask']): number {
  if (m === undefined) return DBE.VALUE | DBE.ALARM;
  if (typeof m === 'number') {
    if (!Number.isInteger(m) || m <= 0 || m > 0xffff) throw new CaClientError('EBADVALUE', `monitor mask ${m} is not a DBE mask (1 value, 2 log, 4 alarm, 8 property)`);
    return m;
  }
  let v = 0;
  for (const name of m) {
    const bit = (DBE as Record<string, number>)[String(name).toUpperCase()];
    if (!bit) throw new CaClientError('EBADVALUE', `unknown monitor mask '${name}' (use value, log, alarm, property)`);
    v |= bit;
  }
  if (!v) throw new CaClientError('EBADVALUE', 'the monitor mask is empty');
  return v;
}

/** A whole search datagram: VERSION with the sequence number, then one SEARCH per name. */
function encodeSearchDatagram(sequence: number, items: readonly Channel[]): Buffer {
  let size = HEADER_SIZE;
  for (const ch of items) size += HEADER_SIZE + pad8(Buffer.byteLength(ch.name) + 1);
  const b = Buffer.alloc(size);
  b.writeUInt16BE(Command.VERSION, 0);
  b.writeUInt16BE(SEQUENCE_NUMBER_VALID, 4);
  b.writeUInt16BE(CA_MINOR_VERSION, 6);
  b.writeUInt32BE(sequence >>> 0, 8);
  let off = HEADER_SIZE;
  for (const ch of items) {
    const n = Buffer.byteLength(ch.name);
    const ps = pad8(n + 1);
    b.writeUInt16BE(Command.SEARCH, off);
    b.writeUInt16BE(ps, off + 2);
    b.writeUInt16BE(SearchReply.DONT_REPLY, off + 4);
    b.writeUInt16BE(CA_MINOR_VERSION, off + 6);
    b.writeUInt32BE(ch.cid, off + 8);
    b.writeUInt32BE(ch.cid, off + 12);
    b.write(ch.name, off + HEADER_SIZE, 'utf8');
    off += HEADER_SIZE + ps;
  }
  return b;
}

export class CaClientContext extends EventEmitter<CaClientEvents> {
  readonly options: ResolvedCaClientOptions;
  readonly #stats = {
    searchReplies: 0, searchRepliesUnmatched: 0, duplicateReplies: 0, channelsCreated: 0, channelsConnected: 0,
    circuitsOpened: 0, circuitsLost: 0, eventsReceived: 0, eventsDelivered: 0, eventsDropped: 0, eventsOff: 0,
    malformedDatagrams: 0, warnings: 0, listenerErrors: 0,
  };
  readonly #channels = new Map<string, Channel>();
  readonly #byCid = new Map<number, Channel>();
  readonly #circuits = new Map<string, ClientCircuit>();
  readonly #nameServers = new Map<string, ClientCircuit | undefined>();
  readonly #serverFailures = new Map<string, number>();
  readonly #scheduler: SearchScheduler<Channel>;
  readonly #beacons = new BeaconTracker();
  readonly #batches = new Set<Batch>();
  readonly #warnedMultiple = new WeakSet<Channel>();
  readonly #lingers = new Map<ClientCircuit, NodeJS.Timeout>();
  readonly #socketsClosing: Array<Promise<void>> = [];
  #udp: ClientUdp | undefined;
  #udpReady = false;
  /** A failed UDP open waits for this timer before the next try (back-off by failure count). */
  #udpRetry: NodeJS.Timeout | undefined;
  #udpFailures = 0;
  #searchImmediate: NodeJS.Immediate | undefined;
  #searchTimer: NodeJS.Timeout | undefined;
  #searchTimerAt = Infinity;
  #sweepTimer: NodeJS.Timeout | undefined;
  #nsTimers = new Set<NodeJS.Timeout>();
  #queue: Monitor[] = [];
  #queueHead = 0;
  #deliveryImmediate: NodeJS.Immediate | undefined;
  #backlogTurns = 0;
  #nextCid = 1;
  #nextSubId = 1;
  readonly #metaPending = new Set<Channel>();
  #metaGuard: NodeJS.Timeout | undefined;
  #closed = false;
  #warnedNoDestinations = false;
  #newSinceTick = 0;
  readonly #owner: CircuitOwner;
  readonly #internals: Internals;
  /** Time budget of one monitor delivery pass (ms) and turns of backlog before EVENTS_OFF. */
  deliveryBudgetMs = 8;
  eventsOffAfterTurns = 3;

  constructor(options: CaClientOptions = {}) {
    super();
    this.options = resolveClientOptions(options);
    this.#scheduler = new SearchScheduler<Channel>({ maxPeriodMs: this.options.maxSearchPeriodMs, windowed: this.options.searchDestinations.length > 0 });
    const self = this;
    this.#owner = {
      get options() {
        return self.options;
      },
      channelByCid: (cid) => this.#byCid.get(cid),
      circuitState: (c, s, reason) => this.#circuitState(c, s, reason),
      createReply: (c, ch, sid, t, n) => this.#createReply(c, ch, sid, t, n),
      createFailed: (c, ch, reason) => this.#createFailed(c, ch, reason),
      serverDisconn: (c, ch) => this.#serverDisconn(c, ch),
      accessRights: (c, ch, rights) => this.#accessRights(ch, rights),
      event: (c, m, status, data, message) => this.#event(m as Monitor, status, data, message),
      searchReply: (c, cid, port, ip) => this.#searchReply(cid, ip === 0 || ip === 0xffffffff ? c.host : ipv4FromU32(ip), port),
      warning: (code, text, pv) => this.#warn(code, text, pv),
    };
    this.#internals = {
      run: (item) => this.#run(item),
      completed: (item, status, data) => this.#completed(item, status, data),
    };
    for (const ns of this.options.nameServers) this.#nameServers.set(`${ns.host}:${ns.port}`, undefined);
  }

  // Introspection ------------------------------------------------------------------------------

  get closed(): boolean {
    return this.#closed;
  }

  get stats(): CaClientStats {
    const s = this.#scheduler.stats;
    return {
      ...this.#stats,
      searchDatagrams: s.datagrams,
      searches: s.searches,
      searchRepeats: s.repeats,
      beacons: this.#beacons.beacons,
      beaconAnomalies: this.#beacons.anomalies,
    };
  }

  /** Channels known to the context (held, cached or in use). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Open circuits to servers. */
  get circuitCount(): number {
    return this.#circuits.size;
  }

  /** Circuits with their state and channel count (diagnostics). */
  circuits(): Array<{ server: string; state: ClientCircuitState; channels: number; pending: number; monitors: number; writes: number; serverMinor: number }> {
    return [...this.#circuits.values()].map((c) => ({ server: c.key, state: c.state, channels: c.channels.size, pending: c.pendingOps, monitors: c.monitorCount, writes: c.writes, serverMinor: c.serverMinor }));
  }

  /** The repeater role of this context's UDP side ('repeater', 'registered', ...). */
  get repeaterRole(): string {
    return this.#udp?.role ?? 'none';
  }

  /** State of one PV's channel, or undefined when the context does not know it. */
  channelState(name: string): ChannelEvent | undefined {
    let pv: string;
    try {
      pv = requireCa(name).name;
    } catch {
      return undefined;
    }
    return this.#channels.get(pv)?.event();
  }

  // Channels ---------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new CaClientError('ECLOSED', 'the CA client context is closed');
  }

  /** The channel for a wire name (created and searched for when new). */
  #acquire(pv: string): Channel {
    let ch = this.#channels.get(pv);
    if (!ch) {
      let cid = this.#nextCid;
      while (this.#byCid.has(cid)) cid = (cid + 1) >>> 0 || 1;
      this.#nextCid = (cid + 1) >>> 0 || 1;
      ch = new Channel(pv, cid);
      this.#channels.set(pv, ch);
      this.#byCid.set(cid, ch);
      this.#stats.channelsCreated++;
      this.#startSearch(ch, 0);
      this.#armSweep();
    }
    ch.lastUse = performance.now();
    return ch;
  }

  /** The channel for a user's name (wire name fast path, then full parsing). */
  #channelFor(name: string): Channel {
    const ch = this.#channels.get(name);
    if (ch) return ch; // lastUse is set when the operation ends (#unref)
    return this.#acquire(requireCa(name).name);
  }

  /**
   * Hold a channel: it is searched for, connected and kept connected until `release()`.
   * `listener` hears its state changes. Throws PvNameError for a bad or pva:// name.
   */
  channel(name: string, listener?: ChannelListener): CaChannel {
    this.#checkOpen();
    const ch = this.#channelFor(name);
    ch.refs++;
    if (listener) (ch.listeners ??= []).push(listener);
    return new CaChannel(this, ch, name, listener);
  }

  /** @internal (CaChannel.release) */
  _releaseHandle(ch: Channel, listener: ChannelListener | undefined): void {
    if (listener && ch.listeners) {
      const i = ch.listeners.indexOf(listener);
      if (i >= 0) ch.listeners.splice(i, 1);
      if (ch.listeners.length === 0) ch.listeners = undefined;
    }
    this.#unref(ch);
  }

  #unref(ch: Channel, now = performance.now()): void {
    if (ch.refs > 0) ch.refs--;
    ch.lastUse = now;
    if (this.options.channelCacheMs === 0 && this.#idle(ch)) this.#clear(ch);
  }

  #idle(ch: Channel): boolean {
    return ch.refs === 0 && !ch.waiters?.length && !ch.metaWaiters?.length && !(ch.monitors?.some((m) => !m.internal));
  }

  /** Clear a channel that nothing holds now (it would otherwise stay cached for `channelCacheMs`). */
  release(name: string): boolean {
    let pv: string;
    try {
      pv = requireCa(name).name;
    } catch {
      return false;
    }
    const ch = this.#channels.get(pv);
    if (!ch || !this.#idle(ch)) return false;
    this.#clear(ch);
    return true;
  }

  #armSweep(): void {
    if (this.#sweepTimer || this.#closed || this.options.channelCacheMs <= 0) return;
    const every = Math.max(1000, Math.min(60_000, this.options.channelCacheMs / 2));
    this.#sweepTimer = setInterval(() => {
      try {
        const now = performance.now();
        for (const ch of this.#channels.values()) {
          if (this.#idle(ch) && now - ch.lastUse >= this.options.channelCacheMs) this.#clear(ch);
        }
        this.#beacons.prune(Date.now());
        if (this.#channels.size === 0 && this.#sweepTimer) {
          clearInterval(this.#sweepTimer);
          this.#sweepTimer = undefined;
        }
      } catch (e) {
        this.#warn('EINTERNAL', `channel cache sweep: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, every);
    this.#sweepTimer.unref();
  }

  /** Forget a channel: CLEAR_CHANNEL if connected, stop searching, wake its waiters. */
  #clear(ch: Channel): void {
    if (ch.state === 'closed') return;
    this.#scheduler.remove(ch);
    this.#metaPending.delete(ch);
    const c = ch.circuit;
    if (c) {
      for (const m of ch.monitors ?? []) c.forgetMonitor(m);
      c.clearChannel(ch);
      this.#maybeLinger(c);
    }
    ch.state = 'closed';
    ch.circuit = undefined;
    this.#channels.delete(ch.name);
    this.#byCid.delete(ch.cid);
    this.#wake(ch);
    this.#notify(ch);
    ch.listeners = undefined;
    ch.monitors = undefined;
  }

  #maybeLinger(c: ClientCircuit): void {
    // Closing: the circuit is closed with the context (batches finishing then clear channels).
    if (this.#closed || c.channels.size > 0 || c.role !== 'server' || this.#lingers.has(c)) return;
    const t = setTimeout(() => {
      this.#lingers.delete(c);
      try {
        if (c.channels.size === 0 && c.state !== 'closed') c.close('no channels left');
      } catch (e) {
        this.#warn('EINTERNAL', `closing the idle circuit ${c.key}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, 2000);
    t.unref();
    this.#lingers.set(c, t);
  }

  #wake(ch: Channel): void {
    const w = ch.waiters;
    if (w) {
      ch.waiters = undefined;
      for (const x of w) x.channelReady(ch);
    }
    const mw = ch.metaWaiters;
    if (mw) {
      ch.metaWaiters = undefined;
      for (const f of mw) f();
    }
  }

  #notify(ch: Channel): void {
    const ls = ch.listeners;
    if (!ls || ls.length === 0) return;
    const ev = ch.event();
    for (const l of ls.slice()) {
      try {
        l(ev);
      } catch (e) {
        this.#stats.listenerErrors++;
        this.#warn('ELISTENER', `a channel listener of ${ch.name} threw: ${e instanceof Error ? e.message : String(e)}`, ch.name);
      }
    }
  }

  #warn(code: string, message: string, pv?: string): void {
    this.#stats.warnings++;
    if (this.listenerCount('warning') === 0) return;
    try {
      this.emit('warning', pv === undefined ? { code, message } : { code, message, pv });
    } catch {
      this.#stats.listenerErrors++;
    }
  }

  #emitSafe<K extends keyof CaClientEvents>(event: K, ...args: CaClientEvents[K]): void {
    if (this.listenerCount(event) === 0) return;
    try {
      (this.emit as (e: K, ...a: CaClientEvents[K]) => boolean)(event, ...args);
    } catch {
      this.#stats.listenerErrors++;
    }
  }

  // Search -------------------------------------------------------------------------------------

  #startSearch(ch: Channel, delayMs: number, count = 0): void {
    ch.state = 'searching';
    this.#scheduler.add(ch, performance.now(), delayMs, count);
    if (this.options.searchDestinations.length === 0 && this.#nameServers.size === 0) {
      if (!this.#warnedNoDestinations) {
        this.#warnedNoDestinations = true;
        this.#warn('ENOSEARCHADDR', 'no search destinations: set an address list, turn the auto address list on, or give name servers (EPICS_CA_ADDR_LIST, EPICS_CA_AUTO_ADDR_LIST, EPICS_CA_NAME_SERVERS)');
      }
      return;
    }
    this.#ensureTransport();
    this.#kickSearch(delayMs);
    // A big batch (connectAll of thousands) is still creating channels in this turn: let the
    // first datagrams go now, so that the servers work while we set up the rest.
    if (delayMs <= 0 && ++this.#newSinceTick >= EARLY_SEARCH_EVERY) this.#searchTick(true);
  }

  #ensureTransport(): void {
    if (this.#closed) return;
    if (!this.#udp && !this.#udpRetry && this.options.searchDestinations.length > 0) this.#openUdp();
    for (const [key, c] of this.#nameServers) if (!c) this.#openNameServer(key);
  }

  /** Bind the UDP side (search socket, repeater); a failure is retried with back-off. */
  #openUdp(): void {
    const bcast = this.options.autoAddrList || this.options.searchDestinations.some((d) => d.host.endsWith('.255'));
    const udp = new ClientUdp({
      bindAddress: this.options.bindAddress,
      repeaterPort: this.options.repeaterPort,
      repeaterLingerMs: this.options.repeaterLingerMs,
      broadcast: bcast,
      onDatagram: (msg, from) => this.#datagram(msg, from.address),
      onError: (e) => this.#warn('EUDP', `CA UDP socket: ${e.message}`),
    });
    this.#udp = udp;
    udp.open().then(
      () => {
        if (this.#closed) return;
        this.#udpFailures = 0;
        this.#udpReady = true;
        this.#kickSearch(0);
      },
      (e: unknown) => {
        if (this.#closed || this.#udp !== udp) return;
        // Let go of the failed socket and try again later (0.5 s doubling to 30 s), so that one
        // failed bind does not end UDP searching for the life of the context.
        this.#udp = undefined;
        void udp.close();
        const wait = Math.min(30_000, 500 * 2 ** Math.min(this.#udpFailures++, 6));
        this.#warn('EUDP', `cannot open the CA UDP socket on ${this.options.bindAddress}: ${e instanceof Error ? e.message : String(e)}; trying again in ${wait} ms`);
        this.#udpRetry = setTimeout(() => {
          this.#udpRetry = undefined;
          if (this.#closed || this.#udp) return;
          try {
            this.#openUdp();
          } catch (err) {
            this.#warn('EINTERNAL', `reopening the CA UDP socket: ${err instanceof Error ? err.message : String(err)}`);
          }
        }, wait);
        this.#udpRetry.unref();
      },
    );
  }

  #openNameServer(key: string, delayMs = 0): void {
    if (this.#closed) return;
    const ep = this.options.nameServers.find((e) => `${e.host}:${e.port}` === key);
    if (!ep) return;
    const open = (): void => {
      if (this.#closed || this.#nameServers.get(key)) return;
      const c = new ClientCircuit(this.#owner, ep.host, ep.port, 'nameserver');
      this.#nameServers.set(key, c);
    };
    if (delayMs <= 0) return open();
    const t = setTimeout(() => {
      this.#nsTimers.delete(t);
      open();
    }, delayMs);
    t.unref();
    this.#nsTimers.add(t);
  }

  /** Search soon: at the end of this turn (batching everything asked for in it), or after `delayMs`. */
  #kickSearch(delayMs: number): void {
    if (this.#closed) return;
    if (delayMs <= 0) {
      if (!this.#searchImmediate) this.#searchImmediate = setImmediate(() => this.#searchTick());
      return;
    }
    this.#armSearchTimer(delayMs);
  }

  #armSearchTimer(delayMs: number): void {
    const at = performance.now() + delayMs;
    if (this.#searchTimer && at >= this.#searchTimerAt - 1) return;
    if (this.#searchTimer) clearTimeout(this.#searchTimer);
    this.#searchTimerAt = at;
    this.#searchTimer = setTimeout(() => {
      this.#searchTimer = undefined;
      this.#searchTimerAt = Infinity;
      this.#searchTick();
    }, Math.max(1, Math.ceil(delayMs)));
    this.#searchTimer.unref();
  }

  #searchTick(early = false): void {
    if (!early) this.#searchImmediate = undefined;
    this.#newSinceTick = 0;
    if (this.#closed) return;
    try {
      const udpOk = this.#udp !== undefined && this.#udpReady;
      const nsUp = [...this.#nameServers.values()].filter((c): c is ClientCircuit => c !== undefined && c.state === 'connected');
      if (!udpOk && nsUp.length === 0) return; // the UDP socket's open() kicks again
      const now = performance.now();
      // Without the UDP socket the datagrams go to name servers only: they take no window slot.
      const batches = this.#scheduler.tick(now, udpOk);
      for (const b of batches) {
        if (udpOk) {
          const d = encodeSearchDatagram(b.sequence, b.items);
          for (const dest of this.options.searchDestinations) this.#udp!.send(d, dest.port, dest.host);
        }
        for (const c of nsUp) c.search(b.items, SearchReply.DONT_REPLY);
      }
      const wake = this.#scheduler.nextWake(performance.now());
      if (wake !== undefined) this.#armSearchTimer(Math.max(1, wake));
    } catch (e) {
      this.#warn('EINTERNAL', `search: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Datagrams in: search replies, beacons. */
  #datagram(msg: Buffer, source: string): void {
    if (this.#closed) return;
    const len = msg.length;
    let off = 0;
    let freed = false;
    const now = performance.now();
    while (off + HS <= len) {
      const cmd = msg.readUInt16BE(off);
      let ps = msg.readUInt16BE(off + 2);
      const dt = msg.readUInt16BE(off + 4);
      let cnt = msg.readUInt16BE(off + 6);
      const p1 = msg.readUInt32BE(off + 8);
      const p2 = msg.readUInt32BE(off + 12);
      let hs = HS;
      if (ps === 0xffff) {
        if (off + 24 > len) break;
        ps = msg.readUInt32BE(off + 16);
        cnt = msg.readUInt32BE(off + 20);
        hs = 24;
      }
      const end = off + hs + ps;
      if (end > len) {
        this.#stats.malformedDatagrams++;
        break;
      }
      switch (cmd) {
        case CMD_VERSION:
          if (dt === SEQ_VALID) {
            this.#scheduler.reply(p1, now);
            freed = true;
          }
          break;
        case CMD_SEARCH:
          this.#searchReply(p2, p1 === 0 || p1 === 0xffffffff ? source : ipv4FromU32(p1), dt);
          break;
        case CMD_BEACON:
          this.#beacon(p2 === 0 ? source : ipv4FromU32(p2), cnt, p1);
          break;
        default:
          break; // NOT_FOUND and others: nothing to do
      }
      off = end;
    }
    if (off < len && off + HS > len) this.#stats.malformedDatagrams++;
    if (freed && this.#scheduler.scheduled > 0) this.#kickSearch(0);
  }

  #searchReply(cid: number, host: string, port: number): void {
    this.#stats.searchReplies++;
    const ch = this.#byCid.get(cid);
    if (!ch) {
      this.#stats.searchRepliesUnmatched++;
      return;
    }
    const key = `${host}:${port}`;
    if (ch.state !== 'searching') {
      if (ch.server !== key && (ch.state === 'creating' || ch.state === 'connected') && !this.#warnedMultiple.has(ch)) {
        this.#warnedMultiple.add(ch);
        this.#warn('EMULTIPLE', `PV ${ch.name} found on multiple servers: using ${ch.server}, ignoring ${key}`, ch.name);
      } else {
        this.#stats.duplicateReplies++;
      }
      return;
    }
    if (!Number.isInteger(port) || port <= 0) return;
    this.#scheduler.remove(ch);
    let c = this.#circuits.get(key);
    if (!c || c.state === 'closed') {
      c = new ClientCircuit(this.#owner, host, port, 'server');
      this.#circuits.set(key, c);
      this.#stats.circuitsOpened++;
    }
    const linger = this.#lingers.get(c);
    if (linger) {
      clearTimeout(linger);
      this.#lingers.delete(c);
    }
    ch.state = 'creating';
    ch.server = key;
    ch.circuit = c;
    c.createChannel(ch);
  }

  #beacon(host: string, port: number, id: number): void {
    const key = `${host}:${port}`;
    const v = this.#beacons.beacon(key, id, Date.now());
    this.#emitSafe('beacon', { server: key, anomaly: v.anomaly, reason: v.reason });
    if (!v.anomaly) return;
    // A server (re)appeared: search for every missing channel now (spread over 50 ms), and make
    // sure the circuit we may still hold to that address is alive.
    const n = this.#scheduler.reset(performance.now(), 50);
    if (n > 0) this.#kickSearch(0);
    this.#circuits.get(key)?.probe();
  }

  // Circuit events ------------------------------------------------------------------------------

  #circuitState(c: ClientCircuit, state: ClientCircuitState, reason: string | undefined): void {
    this.#emitSafe('circuit', reason === undefined ? { server: c.key, state } : { server: c.key, state, reason });
    if (this.#closed) return;
    if (c.role === 'nameserver') {
      if (state === 'connected') {
        this.#scheduler.reset(performance.now(), 0);
        this.#kickSearch(0);
      } else if (state === 'closed') {
        const key = c.key;
        if (this.#nameServers.get(key) === c) this.#nameServers.set(key, undefined);
        const f = (this.#serverFailures.get(key) ?? 0) + 1;
        this.#serverFailures.set(key, f);
        this.#openNameServer(key, Math.min(30_000, 250 * 2 ** Math.min(f, 7)) * (1 + 0.25 * Math.random()));
      }
      return;
    }
    if (state === 'connected' || state === 'unresponsive') {
      if (state === 'connected') this.#serverFailures.delete(c.key);
      for (const ch of c.channels) if (ch.state === 'connected') this.#notify(ch);
      return;
    }
    if (state !== 'closed') return;
    if (this.#circuits.get(c.key) === c) this.#circuits.delete(c.key);
    const linger = this.#lingers.get(c);
    if (linger) {
      clearTimeout(linger);
      this.#lingers.delete(c);
    }
    this.#stats.circuitsLost++;
    const wasUp = [...c.channels].some((ch) => ch.state === 'connected');
    let delay = 0;
    let count = 0;
    if (!wasUp) {
      // The server answered the search but refused or dropped the connection: back off (with
      // jitter), so that a broken server is not hammered in a tight loop.
      const f = (this.#serverFailures.get(c.key) ?? 0) + 1;
      this.#serverFailures.set(c.key, f);
      count = Math.min(f, 12);
      delay = this.#scheduler.period(count) * (1 + 0.25 * Math.random());
    } else {
      this.#beacons.circuitLost(c.key, Date.now());
      delay = 10 * Math.random();
    }
    const chans = [...c.channels];
    c.channels.clear();
    for (const ch of chans) this.#lost(ch, delay, count);
    if (chans.length && wasUp) this.#warn('EDISCONNECTED', `lost the connection to ${c.key} (${reason ?? 'closed'}); ${chans.length} channel(s) searching again`);
  }

  /** A channel's connection is gone: back to searching, monitors to be re-subscribed. */
  #lost(ch: Channel, delayMs: number, count: number): void {
    if (ch.state === 'closed') return;
    const c = ch.circuit;
    for (const m of ch.monitors ?? []) {
      c?.forgetMonitor(m);
      const mon = m as Monitor;
      mon.pending = undefined;
    }
    ch.circuit = undefined;
    ch.sid = 0;
    if (ch.metaState !== MetaState.None) ch.metaState = MetaState.None;
    this.#metaPending.delete(ch);
    const mw = ch.metaWaiters;
    if (mw) {
      ch.metaWaiters = undefined;
      for (const f of mw) f();
    }
    this.#startSearch(ch, delayMs, count);
    this.#notify(ch);
  }

  #createReply(c: ClientCircuit, ch: Channel, sid: number, nativeType: number, nativeCount: number): void {
    if (nativeType > 6) {
      this.#createFailed(c, ch, `server ${c.key} reports native type ${nativeType}, which is not a CA field type`);
      return;
    }
    ch.sid = sid;
    ch.nativeType = nativeType;
    ch.nativeCount = nativeCount;
    ch.state = 'connected';
    ch.everConnected = true;
    ch.searchCount = 0;
    this.#serverFailures.delete(c.key);
    this.#stats.channelsConnected++;
    // Everything queued on the channel goes out now, in this turn: metadata subscription first
    // (so that it is answered before the reads and monitors that merge it), then monitors, then
    // waiting operations.
    const mons = ch.monitors;
    if (mons) {
      for (const m of mons) if (m.internal) this.#activate(m as Monitor);
      for (const m of mons) if (!m.internal) this.#activate(m as Monitor);
    }
    this.#wake(ch);
    this.#notify(ch);
  }

  #createFailed(c: ClientCircuit, ch: Channel, reason: string): void {
    c.dropChannel(ch);
    this.#maybeLinger(c);
    ch.circuit = undefined;
    this.#warn('ECREATEFAIL', `${ch.name}: ${reason}; searching again`, ch.name);
    const f = (this.#serverFailures.get(c.key) ?? 0) + 1;
    this.#serverFailures.set(c.key, f);
    this.#startSearch(ch, this.#scheduler.period(Math.min(f + 2, 12)) * (1 + 0.25 * Math.random()), Math.min(f + 2, 12));
  }

  #serverDisconn(c: ClientCircuit, ch: Channel): void {
    c.dropChannel(ch);
    this.#maybeLinger(c);
    this.#warn('ESERVERDISCONN', `${ch.name}: the server ${c.key} dropped the channel (the PV went away); searching again`, ch.name);
    this.#lost(ch, 100 + 100 * Math.random(), 1);
  }

  #accessRights(ch: Channel, rights: number): void {
    const before = ch.rights;
    ch.rights = rights;
    if (before !== rights && ch.state === 'connected') this.#notify(ch);
  }

  // Monitors ---------------------------------------------------------------------------------

  #activate(m: Monitor): void {
    const ch = m.ch;
    const c = ch.circuit;
    if (!c || ch.state !== 'connected' || m.cancelled) return;
    const native = ch.nativeType as NativeType;
    let dataType: number;
    if (m.internal) {
      if (native === 0) {
        // DBR_CTRL_STRING has no metadata worth a subscription.
        ch.meta = {};
        ch.metaState = MetaState.Ready;
        return;
      }
      dataType = dbrType('ctrl', native);
    } else {
      const t = resolveDbrSpec(m.spec, native);
      if (t === undefined) {
        this.#monitorError(m, new CaClientError('EBADVALUE', `${ch.name}: unknown DBR type or form '${String(m.spec)}'`, ch.name));
        return;
      }
      dataType = t;
    }
    let count = m.internal ? 1 : m.count;
    if (count === 0 && c.serverMinor > 0 && c.serverMinor < 13) count = ch.nativeCount;
    const tooBig = this.#tooBig(ch, dataType, count);
    if (tooBig) {
      this.#monitorError(m, tooBig);
      return;
    }
    m.activeType = dataType;
    m.activeCount = count;
    if (m.internal) {
      ch.metaState = MetaState.Pending;
      ch.metaAskedAt = performance.now();
      this.#metaPending.add(ch);
      this.#armMetaGuard();
    }
    c.subscribe(m, this.#nextSubId, dataType, count);
    this.#nextSubId = (this.#nextSubId + 1) >>> 0 || 1;
  }

  #tooBig(ch: Channel, dataType: number, count: number): CaClientError | undefined {
    const limit = this.options.maxArrayBytes;
    if (!limit || !dbrLayout(dataType)) return undefined;
    const bytes = dbrSize(dataType, count || ch.nativeCount);
    if (bytes <= limit) return undefined;
    return new CaClientError('ETOOLONG', `${ch.name}: ${ch.nativeCount} elements as ${dbrName(dataType)} are ${bytes} bytes, more than the max array bytes setting (${limit}); raise it or read fewer elements`, ch.name, ECA.TOLARGE);
  }

  #monitorError(m: Monitor, e: CaClientError): void {
    const f = m.onError;
    if (!f) {
      this.#warn(e.code, e.message, m.ch.name);
      return;
    }
    setImmediate(() => {
      try {
        f(e);
      } catch {
        this.#stats.listenerErrors++;
      }
    });
  }

  /** The metadata is in (or will not come): release what waited for it. */
  #metaSettled(ch: Channel, meta: CaMetadata | undefined): void {
    this.#metaPending.delete(ch);
    if (meta) {
      ch.meta = meta;
      ch.metaState = MetaState.Ready;
    } else if (ch.metaState === MetaState.Pending) {
      ch.metaState = MetaState.Failed;
    }
    const mw = ch.metaWaiters;
    if (mw) {
      ch.metaWaiters = undefined;
      for (const f of mw) f();
    }
    // Updates held back for the metadata can go now.
    for (const x of ch.monitors ?? []) {
      const u = x as Monitor;
      if (!u.internal && u.pending && !u.queued) this.#enqueue(u);
    }
  }

  /**
   * Servers answer the metadata subscription at once; one that does not is given up on after a
   * second. Armed whenever a channel starts waiting for its metadata (#activate), it re-arms
   * itself while any still wait, so everything held for metadata (reads, monitor updates, enum
   * puts by state string) is released within about two seconds.
   */
  #armMetaGuard(): void {
    if (this.#metaGuard || this.#closed) return;
    this.#metaGuard = setTimeout(() => {
      this.#metaGuard = undefined;
      try {
        const now = performance.now();
        for (const ch of [...this.#metaPending]) {
          if (ch.metaState !== MetaState.Pending) this.#metaPending.delete(ch);
          else if (now - ch.metaAskedAt >= 1000) {
            this.#warn('ENOMETA', `${ch.name}: no metadata (CTRL form) from ${ch.server ?? '?'} within 1 s; readings go out without it`, ch.name);
            this.#metaSettled(ch, undefined);
          }
        }
        if (this.#metaPending.size) this.#armMetaGuard();
      } catch (e) {
        this.#warn('EINTERNAL', `metadata guard: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, 1000);
    this.#metaGuard.unref();
  }

  #event(m: Monitor, status: number, data: DbrValue | undefined, message: string | undefined): void {
    const ch = m.ch;
    if (m.internal) {
      this.#metaSettled(ch, status === ECA.NORMAL && data ? metaFromDbr(data) : undefined);
      return;
    }
    this.#stats.eventsReceived++;
    m.received++;
    if (m.cancelled) return;
    if (status !== ECA.NORMAL || !data) {
      const code = status === ECA.NORDACCESS ? 'ENOACCESS' : 'ECASTATUS';
      this.#monitorError(m, new CaClientError(code, `${ch.name}: monitor update refused: ${ecaText(status)}${message ? `: ${message}` : ''}`, ch.name, status));
      return;
    }
    if (m.pending) {
      m.dropped++;
      this.#stats.eventsDropped++;
    }
    m.pending = data;
    if (!m.queued) this.#enqueue(m);
  }

  #enqueue(m: Monitor): void {
    m.queued = true;
    this.#queue.push(m);
    if (!this.#deliveryImmediate) this.#deliveryImmediate = setImmediate(() => this.#deliver());
  }

  #deliver(): void {
    this.#deliveryImmediate = undefined;
    const start = performance.now();
    const q = this.#queue;
    let i = this.#queueHead;
    for (; i < q.length; i++) {
      const m = q[i]!;
      m.queued = false;
      const data = m.pending;
      if (!data || m.cancelled) continue;
      const ch = m.ch;
      if (m.merge && ch.metaState === MetaState.Pending) {
        // Metadata on its way (same write, answered first by well-behaved servers): hold. The
        // update is queued again when the metadata arrives or the guard gives up on it.
        continue;
      }
      m.pending = undefined;
      m.delivered++;
      this.#stats.eventsDelivered++;
      const r = makeReading(ch, data, m.merge ? ch.meta : undefined);
      try {
        m.listener?.(r, m.handle!);
      } catch (e) {
        this.#stats.listenerErrors++;
        this.#warn('ELISTENER', `a monitor listener of ${ch.name} threw: ${e instanceof Error ? e.message : String(e)}`, ch.name);
      }
      if ((i & 15) === 15 && performance.now() - start > this.deliveryBudgetMs) {
        i++;
        break;
      }
    }
    if (i < q.length) {
      this.#queueHead = i;
      if (i > 4096 && i * 2 > q.length) {
        this.#queue = q.slice(i);
        this.#queueHead = 0;
      }
      this.#backlogTurns++;
      if (this.#backlogTurns === this.eventsOffAfterTurns) {
        for (const c of this.#circuits.values()) {
          if (c.monitorCount > 0 && !c.eventsOff) {
            c.setEventsOff(true);
            this.#stats.eventsOff++;
          }
        }
      }
      this.#deliveryImmediate = setImmediate(() => this.#deliver());
    } else {
      this.#queue = [];
      this.#queueHead = 0;
      if (this.#backlogTurns >= this.eventsOffAfterTurns) for (const c of this.#circuits.values()) c.setEventsOff(false);
      this.#backlogTurns = 0;
    }
  }

  #ensureMeta(ch: Channel): void {
    if (ch.monitors?.some((m) => m.internal)) return;
    const m = new Monitor(ch, undefined, 1, DBE.PROPERTY, false, true, undefined, undefined);
    (ch.monitors ??= []).unshift(m);
    if (ch.state === 'connected') this.#activate(m);
  }

  /**
   * Subscribe to a PV. `listener` gets each update (newest wins when updates come faster than
   * they are delivered; `dropped` counts the replaced ones). Re-subscribes by itself after a
   * reconnection, starting with a fresh value. Throws PvNameError for a bad or pva:// name.
   */
  monitor(name: string, listener: (r: CaReading, m: CaMonitor) => void, opts: MonitorOptions = {}): CaMonitor {
    this.#checkOpen();
    const mask = maskOf(opts.mask);
    if (opts.count !== undefined && (!Number.isInteger(opts.count) || opts.count < 0)) throw new CaClientError('EBADVALUE', `count must be a whole number >= 0 (got ${opts.count})`);
    const ch = this.#channelFor(name);
    const merge = opts.metadata ?? opts.type === undefined;
    const m = new Monitor(ch, opts.type, opts.count ?? 0, mask, merge, false, listener, opts.onError);
    const handle = new CaMonitor(this, m, name, opts.onState);
    m.handle = handle;
    ch.refs++;
    if (opts.onState) (ch.listeners ??= []).push(opts.onState);
    (ch.monitors ??= []).push(m);
    if (merge) this.#ensureMeta(ch);
    if (ch.state === 'connected') this.#activate(m);
    return handle;
  }

  /** @internal (CaMonitor.cancel) */
  _cancelMonitor(m: Monitor, stateListener: ChannelListener | undefined): void {
    if (m.cancelled) return;
    m.cancelled = true;
    m.pending = undefined;
    const ch = m.ch;
    if (ch.circuit && m.id) ch.circuit.unsubscribe(m, m.activeType, m.activeCount);
    if (ch.monitors) {
      const i = ch.monitors.indexOf(m);
      if (i >= 0) ch.monitors.splice(i, 1);
    }
    this._releaseHandle(ch, stateListener);
  }

  // Operations -------------------------------------------------------------------------------

  #timeoutOf(t: number | undefined): number {
    if (t === undefined) return this.options.timeoutMs;
    if (!(t > 0) || !Number.isFinite(t)) throw new CaClientError('EBADVALUE', `timeout must be a positive number of milliseconds (got ${t})`);
    return t;
  }

  /** Start a batch over names; settles each item as it completes. */
  #startBatch(names: readonly string[], kind: ItemKind, timeoutMs: number, make: (ch: Channel, i: number, b: Batch) => Item, onDone: (b: Batch) => void): Batch {
    const b = new Batch(names.length, (x) => {
      this.#batches.delete(x);
      this.#cleanup(x);
      onDone(x);
    });
    this.#batches.add(b);
    b.timer = setTimeout(() => this.#expire(b), timeoutMs);
    const items: Item[] = [];
    for (let i = 0; i < names.length; i++) {
      let ch: Channel;
      try {
        ch = this.#channelFor(names[i]!);
      } catch (e) {
        b.settle(i, e instanceof PvNameError || e instanceof CaClientError ? e : new CaClientError('EBADVALUE', String(e)));
        continue;
      }
      const it = make(ch, i, b);
      b.items.push(it);
      items.push(it);
      if (kind !== 'connect') ch.refs++; // held while the operation runs
    }
    // Issue after creating every channel, so that the whole batch searches in one go.
    for (const it of items) if (!b.done) this.#run(it);
    if (b.left === 0) b.finish();
    return b;
  }

  #cleanup(b: Batch): void {
    const now = performance.now();
    for (const it of b.items) {
      if (it.waiting && it.ch.waiters) {
        const i = it.ch.waiters.indexOf(it);
        if (i >= 0) it.ch.waiters.splice(i, 1);
        if (it.ch.waiters.length === 0) it.ch.waiters = undefined;
        it.waiting = false;
      }
      if (it.circuit) {
        it.circuit.forget(it);
        it.circuit = undefined;
      }
      if (it.kind !== 'connect') this.#unref(it.ch, now);
      else it.ch.lastUse = now;
    }
  }

  #expire(b: Batch): void {
    b.timer = undefined;
    if (b.done) return;
    for (const it of b.items) {
      if (b.results[it.index] !== undefined) continue;
      b.settle(it.index, this.#timeoutError(it));
    }
    b.finish();
  }

  #timeoutError(it: Item): CaClientError {
    const ch = it.ch;
    const where = this.#whereSearched();
    if (ch.state === 'searching') {
      if (ch.everConnected) return new CaClientError('EDISCONNECTED', `${ch.name} is disconnected (last server ${ch.server ?? '?'}) and did not come back in time`, ch.name, ECA.DISCONN);
      return new CaClientError('ENOTFOUND', `PV ${ch.name} not found: no server answered the search (${where}) in time`, ch.name, ECA.TIMEOUT);
    }
    if (ch.state === 'creating') return new CaClientError('ETIMEOUT', `${ch.name}: server ${ch.server ?? '?'} did not complete the channel in time`, ch.name, ECA.TIMEOUT);
    if (ch.circuit && ch.circuit.state === 'unresponsive') return new CaClientError('ETIMEOUT', `${ch.name}: server ${ch.server} is not responding`, ch.name, ECA.TIMEOUT);
    const what = it.kind === 'read' ? 'read' : it.kind === 'write' ? 'put' : 'connection';
    return new CaClientError('ETIMEOUT', `${ch.name}: no answer to the ${what} from ${ch.server ?? '?'} in time`, ch.name, ECA.TIMEOUT);
  }

  #whereSearched(): string {
    const d = this.options.searchDestinations.map((e) => `${e.host}:${e.port}`);
    const ns = this.options.nameServers.map((e) => `name server ${e.host}:${e.port}`);
    const all = [...d, ...ns];
    if (all.length === 0) return 'no search destinations configured';
    return all.length > 4 ? `${all.slice(0, 4).join(', ')} and ${all.length - 4} more` : all.join(', ');
  }

  /** Run (or re-run after a connection) one item. */
  #run(it: Item): void {
    const b = it.batch;
    if (b.done || b.results[it.index] !== undefined) return;
    const ch = it.ch;
    if (ch.state === 'closed') {
      b.settle(it.index, new CaClientError(this.#closed ? 'ECLOSED' : 'ECANCELLED', `${ch.name}: the channel was ${this.#closed ? 'closed with the context' : 'cleared'}`, ch.name));
      return;
    }
    if (ch.state !== 'connected' || !ch.circuit) {
      if (!it.waiting) {
        it.waiting = true;
        (ch.waiters ??= []).push(it);
      }
      return;
    }
    const c = ch.circuit;
    if (it.kind === 'connect') {
      b.settle(it.index, DONE);
      return;
    }
    if (it.kind === 'read') {
      if (!canRead(ch, false)) return b.settle(it.index, accessError(ch, false));
      const dataType = resolveDbrSpec(it.spec, ch.nativeType as NativeType);
      if (dataType === undefined) return b.settle(it.index, new CaClientError('EBADVALUE', `${ch.name}: unknown DBR type or form '${String(it.spec)}'`, ch.name));
      let count = it.count;
      if (count > ch.nativeCount && ch.nativeCount > 0) return b.settle(it.index, new CaClientError('ETOOLONG', `${ch.name}: ${count} elements asked, the PV has ${ch.nativeCount}`, ch.name, ECA.BADCOUNT));
      if (count === 0 && c.serverMinor > 0 && c.serverMinor < 13) count = ch.nativeCount;
      const tooBig = this.#tooBig(ch, dataType, count);
      if (tooBig) return b.settle(it.index, tooBig);
      if (it.merge && ch.metaState === META_NONE) this.#ensureMeta(ch);
      c.read(it, dataType, count);
      return;
    }
    // write
    if (!hasRight(ch, true)) return b.settle(it.index, accessError(ch, true));
    if (ch.nativeType === 3 && ch.metaState !== MetaState.Ready && ch.metaState !== MetaState.Failed && needsStates(it.value)) {
      // An enum put by state string: get the states first (once per connection).
      this.#ensureMeta(ch);
      (ch.metaWaiters ??= []).push(() => this.#run(it));
      return;
    }
    let w;
    try {
      w = prepareWrite(ch, it.value);
    } catch (e) {
      return b.settle(it.index, e instanceof CaClientError ? e : new CaClientError('EBADVALUE', String(e), ch.name));
    }
    if (it.wait) {
      c.write(ch, it, w.dataType, w.count, w.value);
    } else {
      c.write(ch, undefined, w.dataType, w.count, w.value);
      b.settle(it.index, DONE);
    }
  }

  #completed(it: Item, status: number, data: DbrValue | undefined): void {
    const b = it.batch;
    if (b.done) return;
    const ch = it.ch;
    if (it.kind === 'write') {
      if (status === ECA_NORMAL) b.settle(it.index, DONE);
      else b.settle(it.index, new CaClientError(status === ECA.NOWTACCESS ? 'ENOACCESS' : 'ECASTATUS', `put to ${ch.name} failed: ${ecaText(status)}`, ch.name, status));
      return;
    }
    if (status !== ECA_NORMAL || !data) {
      const code = status === ECA.NORDACCESS ? 'ENOACCESS' : 'ECASTATUS';
      b.settle(it.index, new CaClientError(code, `read of ${ch.name} failed: ${ecaText(status)}`, ch.name, status));
      return;
    }
    if (it.merge && ch.metaState === META_PENDING) {
      (ch.metaWaiters ??= []).push(() => b.settle(it.index, makeReading(ch, data, ch.meta)));
      return;
    }
    b.settle(it.index, reading(ch, data, it.merge ? ch.meta : undefined));
  }

  /**
   * Search for and connect to PVs without reading them. Resolves with what the server told
   * about the channel; rejects with a CaClientError (ENOTFOUND, ...) or PvNameError.
   */
  connect(name: string, opts: { timeout?: number } = {}): Promise<ConnectResult> {
    return this.connectAll([name], opts).then((m) => {
      const r = m.get(name)!;
      if (r instanceof Error) throw r;
      return r;
    });
  }

  /** Connect many PVs at once; a Map from each name as given to its result or error. */
  connectAll(names: readonly string[], opts: { timeout?: number } = {}): Promise<Map<string, ConnectResult | CaClientError | PvNameError>> {
    return new Promise((resolve, reject) => {
      try {
        this.#checkOpen();
        const timeout = this.#timeoutOf(opts.timeout);
        this.#startBatch(names, 'connect', timeout, (ch, i, b) => new Item(this.#internals, 'connect', b, i, ch, undefined, 0, false, undefined, false), (b) => {
          const out = new Map<string, ConnectResult | CaClientError | PvNameError>();
          b.items.forEach((it) => {
            const r = b.results[it.index];
            if (r instanceof Error) out.set(names[it.index]!, r);
            else out.set(names[it.index]!, { name: it.ch.name, nativeType: it.ch.nativeTypeName, nativeCount: it.ch.nativeCount, rights: it.ch.rights, server: it.ch.server ?? '' });
          });
          for (let i = 0; i < names.length; i++) if (!out.has(names[i]!)) out.set(names[i]!, b.results[i] as CaClientError);
          resolve(out);
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  /** Read one PV (default: TIME form merged with the cached CTRL metadata). */
  get(name: string, opts: GetOptions = {}): Promise<CaReading> {
    return new Promise((resolve, reject) => {
      try {
        this.#checkOpen();
        const timeout = this.#timeoutOf(opts.timeout);
        const count = checkCount(opts.count);
        const merge = opts.metadata ?? opts.type === undefined;
        this.#startBatch([name], 'read', timeout, (ch, i, b) => new Item(this.#internals, 'read', b, i, ch, opts.type, count, merge, undefined, false), (b) => {
          const r = b.results[0];
          if (r instanceof Error) reject(r);
          else resolve(r!);
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  /**
   * Read many PVs at once: every request issued in this turn (one write per server, one round
   * trip), one timer. Resolves with a Map from each name as given to its reading or to an
   * explicit error (never rejects for a single PV's failure).
   */
  bulkGet(names: readonly string[], opts: GetOptions = {}): Promise<Map<string, CaReading | CaClientError | PvNameError>> {
    return new Promise((resolve, reject) => {
      try {
        this.#checkOpen();
        const timeout = this.#timeoutOf(opts.timeout);
        const count = checkCount(opts.count);
        const merge = opts.metadata ?? opts.type === undefined;
        this.#startBatch(names, 'read', timeout, (ch, i, b) => new Item(this.#internals, 'read', b, i, ch, opts.type, count, merge, undefined, false), (b) => {
          const out = new Map<string, CaReading | CaClientError | PvNameError>();
          for (let i = 0; i < names.length; i++) out.set(names[i]!, b.results[i]!);
          resolve(out);
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  /**
   * Write a PV: a number, string, boolean or array (typed or plain); an ENUM by state string or
   * index. With `wait`, resolves when the server completed the put (WRITE_NOTIFY); otherwise
   * once it was sent. Wrong types, unknown states and arrays longer than the PV are refused
   * (CaClientError EBADVALUE / EBADENUM / ETOOLONG) before anything is sent.
   */
  put(name: string, value: unknown, opts: PutOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.#checkOpen();
        const timeout = this.#timeoutOf(opts.timeout);
        const wait = opts.wait ?? false;
        this.#startBatch([name], 'write', timeout, (ch, i, b) => new Item(this.#internals, 'write', b, i, ch, undefined, 0, false, value, wait), (b) => {
          const r = b.results[0];
          if (r instanceof Error) reject(r);
          else resolve();
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  /** Close every circuit and socket, fail pending operations (ECLOSED). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) {
      await Promise.all(this.#socketsClosing);
      return;
    }
    this.#closed = true;
    if (this.#searchImmediate) clearImmediate(this.#searchImmediate);
    if (this.#searchTimer) clearTimeout(this.#searchTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    if (this.#deliveryImmediate) clearImmediate(this.#deliveryImmediate);
    if (this.#metaGuard) clearTimeout(this.#metaGuard);
    this.#metaGuard = undefined;
    if (this.#udpRetry) clearTimeout(this.#udpRetry);
    this.#udpRetry = undefined;
    this.#metaPending.clear();
    for (const t of this.#nsTimers) clearTimeout(t);
    for (const t of this.#lingers.values()) clearTimeout(t);
    this.#lingers.clear();
    this.#nsTimers.clear();
    this.#searchImmediate = undefined;
    this.#searchTimer = undefined;
    this.#sweepTimer = undefined;
    this.#deliveryImmediate = undefined;
    this.#queue = [];
    this.#queueHead = 0;
    const closedErr = (pv?: string): CaClientError => new CaClientError('ECLOSED', `${pv ? `${pv}: ` : ''}the CA client context was closed`, pv);
    for (const b of [...this.#batches]) {
      for (const it of b.items) if (b.results[it.index] === undefined) b.settle(it.index, closedErr(it.ch.name));
      b.finish();
    }
    for (const ch of [...this.#channels.values()]) {
      this.#scheduler.remove(ch);
      ch.state = 'closed';
      this.#notify(ch);
      ch.waiters = undefined;
      ch.metaWaiters = undefined;
      ch.listeners = undefined;
      ch.monitors = undefined;
    }
    this.#channels.clear();
    this.#byCid.clear();
    const circuits = [...this.#circuits.values(), ...[...this.#nameServers.values()].filter((c): c is ClientCircuit => c !== undefined)];
    this.#circuits.clear();
    for (const c of circuits) {
      this.#socketsClosing.push(c.whenClosed());
      c.close('the client context was closed');
    }
    if (this.#udp) this.#socketsClosing.push(this.#udp.close());
    this.#udp = undefined;
    await Promise.all(this.#socketsClosing);
  }
}

function needsStates(v: unknown): boolean {
  if (typeof v === 'string') return !/^\s*\d+\s*$/.test(v);
  if (Array.isArray(v)) return v.some((x) => typeof x === 'string' && !/^\s*\d+\s*$/.test(x));
  return false;
}

function checkCount(c: number | undefined): number {
  if (c === undefined) return 0;
  if (!Number.isInteger(c) || c < 0) throw new CaClientError('EBADVALUE', `count must be a whole number >= 0 (got ${c})`);
  return c;
}
