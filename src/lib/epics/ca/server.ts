/**
 * A Channel Access server: serves `ServerPv`s to any CA client (libca/pyepics, epics-tca, ours).
 *
 * - TCP: one `ServerCircuit` per client connection, TCP_NODELAY and keep-alive on; everything a
 *   circuit produces in one event-loop turn leaves in one socket write (`TurnWriter`). While a
 *   socket is backed up past `highWaterMark`, monitor updates are held (newest value wins).
 * - UDP: answers searches for the names it serves (NOT_FOUND for DO_REPLY searches of others,
 *   switchable), on the same port number as TCP.
 * - Beacons (RSRV_IS_UP) to the beacon addresses (default 127.0.0.1 at the repeater port 5065):
 *   the first at once, then 20 ms doubling to the 15 s period.
 * - Socket handlers never throw: malformed frames are counted, the circuit is closed, the server
 *   goes on. `close()` releases every socket and timer.
 *
 *   const server = new CaServer({ port: 0, beacons: false });
 *   server.addPv({ name: 'DEMO:X', type: 'DOUBLE', value: 1.5, units: 'V', precision: 2 });
 *   await server.listen();            // server.tcpPort
 *   server.update('DEMO:X', { value: 2.5 });   // monitors fire
 *   server.on('write', (w) => ...);   // a client wrote
 *   await server.close();
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { AccessRights, CA_REPEATER_PORT, CA_SERVER_PORT, ECA } from './constants';
import { CaStatusError, LocalProtocolError } from './errors';
import { encodeBeacon, ipv4ToU32 } from './messages';
import { toJs, type NativeArray } from './convert';
import { ServerPv, type PvDefinition, type PvUpdate } from './server-pv';
import { ServerCircuit, isPromise, type ClientIdentity, type WriteContext, type WriteOutcome } from './server-circuit';
import { answerSearchDatagram, BeaconSchedule, parseAddressList, type Endpoint } from './server-udp';
import { TurnWriter } from './transport';
import { DEFAULT_MAX_PAYLOAD } from './framer';

/** What a write hook sees. */
export interface ServerWriteRequest {
  /** PV name. */
  name: string;
  pv: ServerPv;
  /** The written value converted to the PV's type, as a JS value (scalar for count-1 PVs). */
  value: unknown;
  /** The native array behind `value`. */
  native: NativeArray;
  /** DBR type and element count the client used. */
  dataType: number;
  count: number;
  /** WRITE_NOTIFY (put with callback) rather than WRITE. */
  notify: boolean;
  client: ClientIdentity;
}

/**
 * A write hook's answer: undefined/true = accept as written; false = refuse (ECA_PUTFAIL);
 * `{value}` = accept this value instead; `{reject, status?}` = refuse with a text (and an ECA
 * code, default ECA_PUTFAIL). May be returned through a promise: a WRITE_NOTIFY is answered when
 * it settles.
 */
export type WriteDecision = void | boolean | { value: unknown } | { reject: string; status?: number };
export type WriteHook = (w: ServerWriteRequest) => WriteDecision | Promise<WriteDecision>;

/** Emitted after a client's write has been applied. */
export interface ServerWriteEvent {
  name: string;
  value: unknown;
  previous: unknown;
  /** For ENUM PVs, the state string of the new value. */
  enumString?: string;
  dataType: number;
  count: number;
  notify: boolean;
  client: ClientIdentity;
}

export interface ServerConnectionEvent {
  client: ClientIdentity;
  connected: boolean;
}

export interface CaServerEvents {
  write: [ServerWriteEvent];
  client: [ServerConnectionEvent];
  /** A circuit was closed for malformed input, or a datagram dropped. */
  malformed: [{ from: string; reason: string }];
  /** A listener or hook threw; the server went on. */
  warning: [Error];
}

export interface CaServerOptions {
  /** TCP and UDP port (default 5064). 0 = an ephemeral TCP port, UDP binds the same number. */
  port?: number;
  /** Address to bind (default 127.0.0.1; '0.0.0.0' for every interface). */
  host?: string;
  /** Answer UDP searches (default true). */
  udp?: boolean;
  /** Send NOT_FOUND for DO_REPLY searches of names we do not serve (default true). */
  replyNotFound?: boolean;
  /** Send beacons (default true). */
  beacons?: boolean;
  /** Beacon destinations, 'host[:port]' (default '127.0.0.1'). */
  beaconAddresses?: string | string[];
  /** Default port of beacon destinations (default 5065, the repeater port). */
  beaconPort?: number;
  /** Beacon period once ramped up (default 15 s) and the first interval (default 20 ms). */
  beaconPeriodMs?: number;
  beaconInitialMs?: number;
  /** IPv4 address we announce in search replies and beacons (default: the bound address, or "use the source"). */
  advertiseAddress?: string;
  /** Largest request payload accepted (default 256 MiB). */
  maxPayload?: number;
  maxChannelsPerClient?: number;
  /** Socket backlog (bytes) above which monitor updates are held (default 4 MiB). */
  highWaterMark?: number;
  writeHook?: WriteHook;
  /** ACCESS_RIGHTS per PV and client (default: read, plus write when the PV is writable). */
  accessRights?: (pv: ServerPv, client: ClientIdentity) => number;
  /** PVs to serve from the start. */
  pvs?: PvDefinition[];
}

export interface CaServerStats {
  connections: number;
  malformedFrames: number;
  malformedDatagrams: number;
  searchDatagrams: number;
  searchesAnswered: number;
  beaconsSent: number;
  writes: number;
  listenerErrors: number;
  /** Socket writes (one per event-loop turn with output per circuit) and the messages they carried. */
  socketWrites: number;
  messagesOut: number;
}

interface Connection {
  socket: net.Socket;
  writer: TurnWriter;
  circuit: ServerCircuit;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The ECA code of a hook's refusal: its own when it is a failure code that fits the wire, else ECA_PUTFAIL. */
function refusalStatus(status: unknown): number {
  const ok = typeof status === 'number' && Number.isInteger(status) && status >= 0 && status <= 0xffffffff && status !== ECA.NORMAL;
  return ok ? status : ECA.PUTFAIL;
}

export class CaServer extends EventEmitter<CaServerEvents> {
  readonly stats: CaServerStats = {
    connections: 0, malformedFrames: 0, malformedDatagrams: 0, searchDatagrams: 0, searchesAnswered: 0, beaconsSent: 0, writes: 0, listenerErrors: 0, socketWrites: 0, messagesOut: 0,
  };
  readonly #opts: CaServerOptions;
  readonly #pvs = new Map<string, ServerPv>();
  readonly #conns = new Set<Connection>();
  #tcp: net.Server | undefined;
  #udp: dgram.Socket | undefined;
  #beaconTimer: NodeJS.Timeout | undefined;
  #beaconId = 0;
  #beaconTargets: Endpoint[] = [];
  #tcpPort = 0;
  #udpPort = 0;
  /** Address announced in beacons (0: "take the datagram's source") and in search replies (0xFFFFFFFF: the same). */
  #beaconIp = 0;
  #searchIp = 0xffffffff;
  #state: 'idle' | 'starting' | 'listening' | 'closed' = 'idle';
  /** Settles when a `listen()` in progress has finished (or given up). */
  #starting: Promise<unknown> | undefined;
  readonly #host: { findPv: (n: string) => ServerPv | undefined; rightsFor: (pv: ServerPv, c: ClientIdentity) => number; write: (ctx: WriteContext) => WriteOutcome | Promise<WriteOutcome>; warn: (e: unknown) => void; readonly tcpPort: number };

  constructor(opts: CaServerOptions = {}) {
    super();
    this.#opts = { ...opts };
    const self = this;
    this.#host = {
      findPv: (n) => this.#pvs.get(n),
      rightsFor: (pv, c) => this.#rights(pv, c),
      write: (ctx) => this.#write(ctx),
      warn: (e) => this.#warn(e),
      get tcpPort() {
        return self.#tcpPort;
      },
    };
    for (const d of opts.pvs ?? []) this.addPv(d);
  }

  /** TCP port we listen on (after `listen()`). */
  get tcpPort(): number {
    return this.#tcpPort;
  }

  /** UDP search port (0 when searches are off). */
  get udpPort(): number {
    return this.#udpPort;
  }

  get listening(): boolean {
    return this.#state === 'listening';
  }

  // PV registry ---------------------------------------------------------------------------

  addPv(def: PvDefinition): ServerPv {
    if (this.#pvs.has(def.name)) throw new LocalProtocolError(`PV ${def.name} already exists`);
    const pv = new ServerPv(def);
    this.#pvs.set(pv.name, pv);
    return pv;
  }

  /**
   * Serve `def` in place of the PV of that name (or add it). The definition is checked first: when
   * it is refused (throws), the old PV stays as it was. Channels on the old PV get SERVER_DISCONN.
   */
  replacePv(def: PvDefinition): ServerPv {
    const pv = new ServerPv(def);
    this.removePv(pv.name);
    this.#pvs.set(pv.name, pv);
    return pv;
  }

  /** Remove a PV: every client channel on it gets SERVER_DISCONN. */
  removePv(name: string): boolean {
    const pv = this.#pvs.get(name);
    if (!pv) return false;
    this.#pvs.delete(name);
    pv.remove();
    return true;
  }

  getPv(name: string): ServerPv | undefined {
    return this.#pvs.get(name);
  }

  get pvNames(): string[] {
    return [...this.#pvs.keys()];
  }

  get pvCount(): number {
    return this.#pvs.size;
  }

  /** Change a PV (value, alarm, metadata, writable); monitors fire. Returns the DBE mask raised. */
  update(name: string, u: PvUpdate): number {
    const pv = this.#pvs.get(name);
    if (!pv) throw new LocalProtocolError(`no PV named ${name}`);
    return pv.update(u);
  }

  get clientCount(): number {
    return this.#conns.size;
  }

  clients(): ClientIdentity[] {
    return [...this.#conns].map((c) => ({ ...c.circuit.client }));
  }

  // Life cycle ------------------------------------------------------------------------------

  /**
   * Bind TCP (and UDP) and start beacons. With port 0, retries until TCP and UDP share a number.
   * A `close()` meanwhile wins: what was bound is released and this rejects.
   */
  listen(): Promise<this> {
    if (this.#state !== 'idle') return Promise.reject(new LocalProtocolError(`server is ${this.#state}`));
    this.#state = 'starting';
    const p = this.#bind().catch((e: unknown) => {
      if (this.#state === 'starting') this.#state = 'idle'; // nothing bound: listen() may be tried again
      throw e;
    });
    this.#starting = p.then(() => undefined, () => undefined);
    return p;
  }

  async #bind(): Promise<this> {
    const host = this.#opts.host ?? '127.0.0.1';
    const want = this.#opts.port ?? CA_SERVER_PORT;
    const udpWanted = this.#opts.udp ?? true;
    const beacons = this.#opts.beacons ?? true;
    const closedMeanwhile = (): LocalProtocolError => new LocalProtocolError('server was closed while starting to listen');
    this.#beaconTargets = beacons ? parseAddressList(this.#opts.beaconAddresses ?? '127.0.0.1', this.#opts.beaconPort ?? CA_REPEATER_PORT) : [];
    // Decided once: the advertised address, else search replies say "use the reply's source"
    // (0xFFFFFFFF, as libca reads it) and beacons carry the bound address (0 for a wildcard or a
    // name: the repeater fills in the source).
    const adv = this.#opts.advertiseAddress ? ipv4ToU32(this.#opts.advertiseAddress) || undefined : undefined;
    this.#searchIp = adv ?? 0xffffffff;
    this.#beaconIp = adv ?? ipv4ToU32(host === '0.0.0.0' ? '' : host);
    let lastErr: unknown;
    for (let attempt = 0; attempt < (want === 0 ? 20 : 1); attempt++) {
      const tcp = net.createServer({ noDelay: true, keepAlive: true });
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ port: want, host, exclusive: true }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        lastErr = e;
        tcp.close();
        if (this.#isClosed()) throw closedMeanwhile();
        continue;
      }
      if (this.#isClosed()) {
        await new Promise<void>((r) => tcp.close(() => r()));
        throw closedMeanwhile();
      }
      const port = (tcp.address() as net.AddressInfo).port;
      let udp: dgram.Socket | undefined;
      if (udpWanted || this.#beaconTargets.length) {
        udp = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
        try {
          await new Promise<void>((resolve, reject) => {
            udp!.once('error', reject);
            udp!.bind({ port: udpWanted ? port : 0, address: host }, () => {
              udp!.off('error', reject);
              resolve();
            });
          });
        } catch (e) {
          lastErr = e;
          udp.close();
          await new Promise<void>((r) => tcp.close(() => r()));
          if (this.#isClosed()) throw closedMeanwhile();
          continue;
        }
        if (this.#isClosed()) {
          await Promise.all([new Promise<void>((r) => udp!.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
          throw closedMeanwhile();
        }
      }
      this.#tcp = tcp;
      this.#udp = udp;
      this.#tcpPort = port;
      this.#udpPort = udpWanted ? port : 0;
      tcp.on('connection', (s) => this.#accept(s));
      tcp.on('error', (e) => this.#warn(e));
      if (udp) {
        udp.on('message', (msg, rinfo) => this.#datagram(msg, rinfo));
        udp.on('error', (e) => this.#warn(e));
        if (this.#beaconTargets.some((t) => t.host.endsWith('.255'))) {
          try {
            udp.setBroadcast(true);
          } catch {
            // not fatal: beacons to broadcast addresses will fail and be counted
          }
        }
      }
      this.#state = 'listening';
      if (this.#beaconTargets.length) this.#startBeacons();
      return this;
    }
    throw lastErr instanceof Error ? lastErr : new Error(`could not listen on ${host}:${want}`);
  }

  /** Close every circuit and socket, stop beacons; waits for a `listen()` in progress to let go of its sockets. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') {
      await this.#starting;
      return;
    }
    this.#state = 'closed';
    if (this.#beaconTimer) clearTimeout(this.#beaconTimer);
    this.#beaconTimer = undefined;
    for (const c of this.#conns) {
      c.circuit.close();
      c.writer.discard();
      c.socket.destroy();
    }
    this.#conns.clear();
    const waits: Array<Promise<void>> = [];
    const tcp = this.#tcp;
    if (tcp) waits.push(new Promise((r) => tcp.close(() => r())));
    const udp = this.#udp;
    if (udp) waits.push(new Promise((r) => {
      try {
        udp.close(() => r());
      } catch {
        r();
      }
    }));
    this.#tcp = undefined;
    this.#udp = undefined;
    // A listen() in progress sees the closed state after its next step and releases what it bound.
    if (this.#starting) waits.push(this.#starting.then(() => undefined));
    await Promise.all(waits);
  }

  /** `#bind` asks after each await (a method call, so that no narrowing from before the await applies). */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  // Internals -------------------------------------------------------------------------------

  #warn(e: unknown): void {
    this.stats.listenerErrors++;
    if (this.listenerCount('warning') === 0) return;
    try {
      this.emit('warning', e instanceof Error ? e : new Error(String(e)));
    } catch {
      // a throwing warning listener is ignored
    }
  }

  #safeEmit<K extends keyof CaServerEvents>(event: K, ...args: CaServerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CaServerEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      this.#warn(e);
    }
  }

  #rights(pv: ServerPv, client: ClientIdentity): number {
    const fn = this.#opts.accessRights;
    if (fn) {
      try {
        return fn(pv, client) & AccessRights.READ_WRITE;
      } catch (e) {
        this.#warn(e);
        return AccessRights.READ;
      }
    }
    return pv.writable ? AccessRights.READ_WRITE : AccessRights.READ;
  }

  #accept(socket: net.Socket): void {
    try {
      if (this.#state !== 'listening') {
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 15_000);
      const writer = new TurnWriter(socket, (messages) => {
        this.stats.socketWrites++;
        this.stats.messagesOut += messages;
      });
      const hwm = this.#opts.highWaterMark ?? 4 * 1024 * 1024;
      const from = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      let circuit: ServerCircuit | undefined;
      circuit = new ServerCircuit(
        this.#host,
        {
          send: (b) => {
            writer.write(b);
            if (circuit && socket.writableLength + writer.queuedBytes > hwm) circuit.setBlocked(true);
          },
          close: (reason) => {
            this.stats.malformedFrames++;
            this.#safeEmit('malformed', { from, reason });
            writer.flush();
            socket.destroy();
          },
        },
        { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
        {
          maxPayload: this.#opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
          ...(this.#opts.maxChannelsPerClient !== undefined ? { maxChannels: this.#opts.maxChannelsPerClient } : {}),
        },
      );
      const conn: Connection = { socket, writer, circuit };
      this.#conns.add(conn);
      this.stats.connections++;
      socket.on('data', (chunk: Buffer) => {
        try {
          conn.circuit.receive(chunk);
        } catch (e) {
          // ServerCircuit.receive does not throw; this is a last line of defence.
          this.#warn(e);
          socket.destroy();
        }
      });
      socket.on('drain', () => {
        try {
          if (socket.writableLength + writer.queuedBytes <= hwm) conn.circuit.setBlocked(false);
        } catch (e) {
          this.#warn(e);
        }
      });
      socket.on('error', () => {
        // ECONNRESET and friends: 'close' follows and cleans up.
      });
      socket.on('close', () => {
        conn.circuit.close();
        writer.discard();
        if (this.#conns.delete(conn)) this.#safeEmit('client', { client: { ...conn.circuit.client }, connected: false });
      });
      circuit.start();
      this.#safeEmit('client', { client: { ...circuit.client }, connected: true });
    } catch (e) {
      this.#warn(e);
      socket.destroy();
    }
  }

  #datagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!(this.#opts.udp ?? true) || this.#state !== 'listening') return;
    this.stats.searchDatagrams++;
    try {
      const ans = answerSearchDatagram(msg, {
        tcpPort: this.#tcpPort,
        serverIp: this.#searchIp,
        replyNotFound: this.#opts.replyNotFound ?? true,
        has: (n) => this.#pvs.has(n),
      });
      this.stats.searchesAnswered += ans.found;
      for (const r of ans.replies) {
        this.#udp?.send(r, rinfo.port, rinfo.address, (err) => {
          if (err) this.#warn(err);
        });
      }
    } catch (e) {
      this.stats.malformedDatagrams++;
      this.#safeEmit('malformed', { from: `${rinfo.address}:${rinfo.port}`, reason: errText(e) });
    }
  }

  #startBeacons(): void {
    const sched = new BeaconSchedule(this.#opts.beaconInitialMs ?? 20, this.#opts.beaconPeriodMs ?? 15_000);
    const beat = (): void => {
      this.#beaconTimer = undefined;
      if (this.#state !== 'listening' || !this.#udp) return;
      const b = encodeBeacon({ port: this.#tcpPort, beaconId: this.#beaconId, serverIp: this.#beaconIp });
      this.#beaconId = (this.#beaconId + 1) >>> 0;
      for (const t of this.#beaconTargets) {
        try {
          this.#udp.send(b, t.port, t.host, (err) => {
            if (err) this.#warn(err);
          });
          this.stats.beaconsSent++;
        } catch (e) {
          this.#warn(e);
        }
      }
      this.#beaconTimer = setTimeout(beat, sched.next());
      this.#beaconTimer.unref();
    };
    beat();
  }

  #write(ctx: WriteContext): WriteOutcome | Promise<WriteOutcome> {
    const hook = this.#opts.writeHook;
    if (!hook) return this.#apply(ctx, ctx.value);
    let d: WriteDecision | Promise<WriteDecision>;
    try {
      d = hook({
        name: ctx.pv.name, pv: ctx.pv, value: toJs(ctx.pv.nativeType, ctx.value, ctx.pv.maxCount), native: ctx.value,
        dataType: ctx.dataType, count: ctx.count, notify: ctx.notify, client: { ...ctx.client },
      });
    } catch (e) {
      return { status: ECA.PUTFAIL, message: errText(e) };
    }
    if (isPromise<WriteDecision>(d)) {
      return d.then((x) => this.#decide(ctx, x), (e: unknown) => ({ status: ECA.PUTFAIL, message: errText(e) }));
    }
    return this.#decide(ctx, d);
  }

  #decide(ctx: WriteContext, d: WriteDecision): WriteOutcome {
    if (d === false) return { status: ECA.PUTFAIL, message: `write to ${ctx.pv.name} refused` };
    if (d && typeof d === 'object' && 'reject' in d) return { status: refusalStatus(d.status), message: String(d.reject) };
    let value = ctx.value;
    if (d && typeof d === 'object' && 'value' in d) {
      try {
        value = ctx.pv.convertInput(d.value);
      } catch (e) {
        return { status: e instanceof CaStatusError ? e.eca : ECA.PUTFAIL, message: errText(e) };
      }
    }
    return this.#apply(ctx, value);
  }

  #apply(ctx: WriteContext, value: NativeArray): WriteOutcome {
    const pv = ctx.pv;
    if (pv.removed) return { status: ECA.PUTFAIL, message: `PV ${pv.name} was removed` };
    const previous = pv.jsValue();
    try {
      pv.update({ value });
    } catch (e) {
      return { status: e instanceof CaStatusError ? e.eca : ECA.PUTFAIL, message: errText(e) };
    }
    this.stats.writes++;
    if (this.listenerCount('write') > 0) {
      const ev: ServerWriteEvent = {
        name: pv.name, value: pv.jsValue(), previous, dataType: ctx.dataType, count: ctx.count, notify: ctx.notify, client: { ...ctx.client },
      };
      const es = pv.enumString();
      if (es !== undefined) ev.enumString = es;
      this.#safeEmit('write', ev);
    }
    return { status: ECA.NORMAL };
  }
}
