/**
 * One client virtual circuit: a TCP connection to one CA server (or to a name server), shared by
 * every channel on that server.
 *
 * - TCP_NODELAY and keep-alive on; everything requested in one event-loop turn leaves in one
 *   socket write (`StagedWriter`, client-writer.ts), so N reads issued together are one write and
 *   one round trip.
 * - Frames are dispatched on the header alone: those wholly inside a received chunk are read in
 *   place; a frame spanning chunks goes through the core's `CaFramer` (one copy). Only
 *   READ_NOTIFY and EVENT_ADD payloads are decoded (client-decode.ts: scalars read directly,
 *   everything else by `decodeDbr`, arrays copied at most once).
 * - Liveness: after `connTimeoutMs` without a byte from the server an ECHO goes out; no answer
 *   within `echoTimeoutMs` makes the circuit 'unresponsive' (its channels show disconnected,
 *   nothing is dropped) and a second ECHO goes out; no answer to that closes the circuit. Any
 *   byte received brings it back to 'connected'.
 * - Nothing throws out of the socket handlers: a frame that does not decode fails the operation
 *   it answers (or is counted and ignored); only a framing fault (a declared size beyond the
 *   limit, after which the stream cannot be followed) closes the circuit.
 */
import * as net from 'node:net';
import { CA_MINOR_VERSION, Command, ECA } from './constants';
import { clientCircuitTable, transition, type ClientCircuitEvent, type ClientCircuitState } from './state';
import { CaFramer, DEFAULT_MAX_PAYLOAD } from './framer';
import { dbrLayout } from './dbr';
import {
  decodeResponse, encodeClientName, encodeEventAddRequest, encodeEventCancelRequest,
  encodeHostName, encodeReadNotifyRequest, encodeVersion, encodeWriteNotifyRequest, encodeWriteRequest,
  type CaFrame,
} from './messages';
import { StagedWriter } from './client-writer';
import { decodeReply } from './client-decode';
import { DecodeError } from './errors';
import { CaClientError, ecaText, type Channel, type MonitorRecord, type PendingOp } from './client-channel';
import type { DbrValue } from './dbr';
import type { ResolvedCaClientOptions } from './client-options';

// Command codes as plain locals: the hot dispatch compares against them for every frame.
const C_VERSION = Command.VERSION;
const C_EVENT_ADD = Command.EVENT_ADD;
const C_EVENT_CANCEL = Command.EVENT_CANCEL;
const C_EVENTS_OFF = Command.EVENTS_OFF;
const C_EVENTS_ON = Command.EVENTS_ON;
const C_READ_SYNC = Command.READ_SYNC;
const C_ERROR = Command.ERROR;
const C_CLEAR_CHANNEL = Command.CLEAR_CHANNEL;
const C_NOT_FOUND = Command.NOT_FOUND;
const C_READ_NOTIFY = Command.READ_NOTIFY;
const C_CREATE_CHAN = Command.CREATE_CHAN;
const C_WRITE_NOTIFY = Command.WRITE_NOTIFY;
const C_ACCESS_RIGHTS = Command.ACCESS_RIGHTS;
const C_ECHO = Command.ECHO;
const C_CREATE_CH_FAIL = Command.CREATE_CH_FAIL;
const C_SERVER_DISCONN = Command.SERVER_DISCONN;
const C_SEARCH = Command.SEARCH;
const C_WRITE = Command.WRITE;
const ECA_NORMAL = ECA.NORMAL;
const CA_MINOR = CA_MINOR_VERSION;
const ECA_BADTYPE = ECA.BADTYPE;
const decode = decodeReply;

/** What a circuit needs from its client context. */
export interface CircuitOwner {
  readonly options: ResolvedCaClientOptions;
  channelByCid(cid: number): Channel | undefined;
  circuitState(c: ClientCircuit, state: ClientCircuitState, reason?: string): void;
  createReply(c: ClientCircuit, ch: Channel, sid: number, nativeType: number, nativeCount: number): void;
  createFailed(c: ClientCircuit, ch: Channel, reason: string): void;
  serverDisconn(c: ClientCircuit, ch: Channel): void;
  accessRights(c: ClientCircuit, ch: Channel, rights: number): void;
  event(c: ClientCircuit, m: MonitorRecord, status: number, data: DbrValue | undefined, message?: string): void;
  /** A SEARCH reply on a name-server circuit. */
  searchReply(c: ClientCircuit, cid: number, port: number, serverIp: number, minorVersion: number | undefined): void;
  warning(code: string, text: string, pv?: string): void;
}

export type CircuitRole = 'server' | 'nameserver';

export interface CircuitStats {
  bytesIn: number;
  framesIn: number;
  malformed: number;
  unmatched: number;
  echoesSent: number;
}

export class ClientCircuit {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly role: CircuitRole;
  state: ClientCircuitState = 'connecting';
  /** Server's minor protocol version (from its VERSION; 0 until then). */
  serverMinor = 0;
  readonly channels = new Set<Channel>();
  readonly stats: CircuitStats = { bytesIn: 0, framesIn: 0, malformed: 0, unmatched: 0, echoesSent: 0 };
  /** Why the circuit closed. */
  closeReason: string | undefined;
  readonly #owner: CircuitOwner;
  readonly #socket: net.Socket;
  readonly #writer: StagedWriter;
  readonly #maxPayload: number;
  readonly #framer: CaFramer;
  readonly #ops = new Map<number, PendingOp>();
  readonly #monitors = new Map<number, MonitorRecord>();
  #nextIoid = 1;
  #lastRx = 0;
  /** Time the unanswered ECHO went out (0: none outstanding). */
  #echoAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #eventsOff = false;
  #finished = false;
  readonly #socketClosed: Promise<void>;
  /** Socket writes (one per turn with output) and messages written. */
  get writes(): number {
    return this.#writer.flushes;
  }

  constructor(owner: CircuitOwner, host: string, port: number, role: CircuitRole = 'server', socket?: net.Socket) {
    this.#owner = owner;
    this.host = host;
    this.port = port;
    this.key = `${host}:${port}`;
    this.role = role;
    const o = owner.options;
    this.#maxPayload = o.maxArrayBytes > 0 ? Math.max(o.maxArrayBytes + 4096, 16384) : DEFAULT_MAX_PAYLOAD;
    this.#framer = new CaFramer({ maxPayload: this.#maxPayload });
    this.#socket = socket ?? net.connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 15_000 });
    this.#writer = new StagedWriter(this.#socket);
    this.#lastRx = performance.now();
    const s = this.#socket;
    s.on('connect', () => this.#safe(() => this.#connected()));
    s.on('data', (chunk: Buffer) => this.#safe(() => this.receive(chunk)));
    s.on('error', (e: Error) => {
      if (!this.closeReason) this.closeReason = e.message;
    });
    let closedResolve: () => void = () => {};
    this.#socketClosed = new Promise<void>((r) => (closedResolve = r));
    s.on('close', () => {
      closedResolve();
      this.#safe(() => this.#finish(this.closeReason ?? 'the server closed the connection'));
    });
    if (!socket) {
      this.#connectTimer = setTimeout(() => this.#safe(() => this.close(`no TCP connection to ${this.key} within ${o.timeoutMs} ms`)), o.timeoutMs);
      this.#connectTimer.unref();
    }
    // Speak first: VERSION, HOST_NAME, CLIENT_NAME (queued; they leave with the turn's requests).
    this.#writer.write(encodeVersion({ priority: 0 }));
    if (role === 'server') {
      this.#writer.write(encodeHostName(o.hostName));
      this.#writer.write(encodeClientName(o.userName));
    }
  }

  #safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // Last line of defence: a bug of ours must not escape into the socket's event handlers.
      this.stats.malformed++;
      this.#owner.warning('EINTERNAL', `CA circuit ${this.key}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  #move(event: ClientCircuitEvent, reason?: string): void {
    const before = this.state;
    const next = transition(clientCircuitTable, `circuit ${this.key}`, before, event);
    this.state = next;
    if (next !== before) this.#owner.circuitState(this, next, reason);
  }

  #connected(): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    if (this.state !== 'connecting') return;
    this.#lastRx = performance.now();
    this.#move('tcpUp');
    this.#arm(this.#owner.options.connTimeoutMs);
  }

  /** Resolves once the socket is closed (its handle released). */
  whenClosed(): Promise<void> {
    return this.#socketClosed;
  }

  /** Pending operations (reads and notified writes) awaiting a reply. */
  get pendingOps(): number {
    return this.#ops.size;
  }

  get monitorCount(): number {
    return this.#monitors.size;
  }

  // Requests ---------------------------------------------------------------------------------

  createChannel(ch: Channel): void {
    this.channels.add(ch);
    this.#writer.named(C_CREATE_CHAN, 0, 0, ch.cid, CA_MINOR, ch.name);
  }

  /** Send CLEAR_CHANNEL for a connected channel and forget it. */
  clearChannel(ch: Channel): void {
    this.channels.delete(ch);
    if (ch.state === 'connected' && this.state !== 'closed') this.#writer.header(C_CLEAR_CHANNEL, 0, 0, ch.sid, ch.cid);
  }

  /** Forget a channel without telling the server (it is being recreated elsewhere). */
  dropChannel(ch: Channel): void {
    this.channels.delete(ch);
  }

  #ioid(): number {
    let id = this.#nextIoid;
    while (this.#ops.has(id)) id = (id + 1) >>> 0 || 1;
    this.#nextIoid = (id + 1) >>> 0 || 1;
    return id;
  }

  read(op: PendingOp, dataType: number, count: number): void {
    const ioid = this.#ioid();
    op.ioid = ioid;
    op.circuit = this;
    this.#ops.set(ioid, op);
    if (count < 0xffff) this.#writer.header(C_READ_NOTIFY, dataType, count, op.ch.sid, ioid);
    else this.#writer.write(encodeReadNotifyRequest({ sid: op.ch.sid, ioid, dataType, count }));
  }

  /** WRITE_NOTIFY when `op` is given (the reply completes it), plain WRITE otherwise. */
  write(ch: Channel, op: PendingOp | undefined, dataType: number, count: number, value: ArrayLike<number> | string[]): void {
    if (op) {
      const ioid = this.#ioid();
      op.ioid = ioid;
      op.circuit = this;
      this.#ops.set(ioid, op);
      this.#writer.write(encodeWriteNotifyRequest({ sid: ch.sid, ioid, dataType, count, data: { value } }));
    } else {
      this.#writer.write(encodeWriteRequest({ sid: ch.sid, ioid: this.#ioid(), dataType, count, data: { value } }));
    }
  }

  /** Forget a pending operation (timed out or cancelled); a late reply is then ignored. */
  forget(op: PendingOp): void {
    if (this.#ops.get(op.ioid) === op) this.#ops.delete(op.ioid);
  }

  subscribe(m: MonitorRecord, id: number, dataType: number, count: number): void {
    m.id = id;
    this.#monitors.set(id, m);
    this.#writer.write(encodeEventAddRequest({ sid: m.ch.sid, subscriptionId: id, dataType, count, mask: m.mask }));
  }

  /** EVENT_CANCEL; later events for the id are ignored. */
  unsubscribe(m: MonitorRecord, dataType: number, count: number): void {
    if (!m.id) return;
    const id = m.id;
    m.id = 0;
    if (this.#monitors.get(id) === m) this.#monitors.delete(id);
    if (this.state !== 'closed' && m.ch.state === 'connected' && m.ch.circuit === this) {
      if (count < 0xffff) this.#writer.header(C_EVENT_CANCEL, dataType, count, m.ch.sid, id);
      else this.#writer.write(encodeEventCancelRequest({ sid: m.ch.sid, subscriptionId: id, dataType, count }));
    }
  }

  /** Forget a subscription id without telling the server (its channel is gone). */
  forgetMonitor(m: MonitorRecord): void {
    if (m.id && this.#monitors.get(m.id) === m) this.#monitors.delete(m.id);
    m.id = 0;
  }

  get eventsOff(): boolean {
    return this.#eventsOff;
  }

  /** Ask the server to hold monitor updates (EVENTS_OFF) or to resume them (EVENTS_ON). */
  setEventsOff(off: boolean): void {
    if (off === this.#eventsOff || this.state === 'closed') return;
    this.#eventsOff = off;
    this.#writer.header(off ? C_EVENTS_OFF : C_EVENTS_ON, 0, 0, 0, 0);
  }

  /** SEARCH requests over TCP (name-server circuits). */
  search(items: ReadonlyArray<{ name: string; cid: number }>, reply: number): void {
    for (const it of items) this.#writer.named(C_SEARCH, reply, CA_MINOR, it.cid, it.cid, it.name);
  }

  /** Send an ECHO now (beacon anomaly: is this server still the one we talk to?). */
  probe(): void {
    if (this.state === 'closed' || this.state === 'connecting' || this.#echoAt) return;
    this.#sendEcho();
    this.#arm(this.#owner.options.echoTimeoutMs);
  }

  #sendEcho(): void {
    this.#echoAt = performance.now();
    this.stats.echoesSent++;
    this.#writer.header(C_ECHO, 0, 0, 0, 0);
  }

  /** Close the connection (idempotent); channels and operations are told through the owner. */
  close(reason: string): void {
    if (this.#finished) return;
    if (!this.closeReason) this.closeReason = reason;
    this.#writer.flush();
    this.#socket.destroy();
    this.#finish(reason);
  }

  // Liveness ---------------------------------------------------------------------------------

  #arm(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#safe(() => this.#check()), Math.max(1, ms));
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.state === 'closed' || this.state === 'connecting') return;
    const o = this.#owner.options;
    const now = performance.now();
    if (this.#echoAt) {
      if (this.#lastRx >= this.#echoAt) {
        this.#echoAt = 0;
      } else {
        const waited = now - this.#echoAt;
        if (waited < o.echoTimeoutMs) return this.#arm(o.echoTimeoutMs - waited);
        if (this.state === 'connected') {
          this.#move('echoTimeout', `no answer to ECHO within ${o.echoTimeoutMs} ms`);
          this.#sendEcho();
          return this.#arm(o.echoTimeoutMs);
        }
        this.close(`server ${this.key} did not answer ECHO for ${Math.round((now - this.#lastRx) / 1000)} s`);
        return;
      }
    }
    const idle = now - this.#lastRx;
    if (idle >= o.connTimeoutMs) {
      this.#sendEcho();
      return this.#arm(o.echoTimeoutMs);
    }
    this.#arm(o.connTimeoutMs - idle);
  }

  // Receive ----------------------------------------------------------------------------------

  /** Feed bytes from the server. Never throws. */
  receive(chunk: Uint8Array): void {
    if (this.#finished) return;
    this.stats.bytesIn += chunk.length;
    this.#lastRx = performance.now();
    if (this.state === 'unresponsive') {
      this.#echoAt = 0;
      this.#move('traffic');
      this.#arm(this.#owner.options.connTimeoutMs);
    }
    if (this.#framer.buffered === 0 && chunk instanceof Buffer) {
      // Fast path: frames wholly inside this chunk are read in place.
      const len = chunk.length;
      let off = 0;
      while (len - off >= 16) {
        const ps = chunk.readUInt16BE(off + 2);
        if (ps === 0xffff) break; // extended header: the framer handles it
        const end = off + 16 + ps;
        if (end > len) break;
        if (ps > this.#maxPayload) break; // let the framer refuse it
        this.stats.framesIn++;
        try {
          this.#dispatch(chunk.readUInt16BE(off), ps, chunk.readUInt16BE(off + 4), chunk.readUInt16BE(off + 6), chunk.readUInt32BE(off + 8), chunk.readUInt32BE(off + 12), chunk, off + 16, end, false);
        } catch (e) {
          this.#malformedFrame(chunk.readUInt16BE(off), e);
        }
        if (this.#finished) return;
        off = end;
      }
      if (off === len) return;
      chunk = chunk.subarray(off);
    }
    this.#framer.push(chunk);
    for (;;) {
      let frame: CaFrame;
      try {
        const r = this.#framer.next();
        if ('need' in r) return;
        frame = r.frame;
      } catch (e) {
        this.stats.malformed++;
        this.close(`malformed stream from ${this.key}: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      this.stats.framesIn++;
      try {
        this.handleFrame(frame);
      } catch (e) {
        this.#malformedFrame(frame.header.command, e);
      }
      if (this.#finished) return;
    }
  }

  #malformedFrame(command: number, e: unknown): void {
    this.stats.malformed++;
    this.#owner.warning('EMALFORMED', `ignored a malformed ${command} frame from ${this.key}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Act on one complete frame from the server. */
  handleFrame(f: CaFrame): void {
    const h = f.header;
    this.#dispatch(h.command, h.payloadSize, h.dataType, h.count, h.param1, h.param2, f.payload, 0, f.payload.length, f.owned);
  }

  #dispatch(cmd: number, payloadSize: number, dataType: number, count: number, p1: number, p2: number, buf: Uint8Array, pOff: number, pEnd: number, owned: boolean): void {
    const owner = this.#owner;
    switch (cmd) {
      case C_READ_NOTIFY: {
        const op = this.#ops.get(p2);
        if (!op) {
          this.stats.unmatched++;
          return;
        }
        this.#ops.delete(p2);
        if (p1 !== ECA_NORMAL) return op.complete(p1, undefined);
        const data = this.#decode(dataType, count, buf, pOff, pEnd, owned, op.ch.name, op.ch.nativeCount <= 1);
        if (data instanceof Error) return op.fail(data);
        op.complete(ECA_NORMAL, data);
        return;
      }
      case C_EVENT_ADD: {
        const m = this.#monitors.get(p2);
        if (!m) {
          this.stats.unmatched++;
          return;
        }
        if (payloadSize === 0) {
          // The final event confirming an EVENT_CANCEL.
          this.#monitors.delete(p2);
          return;
        }
        if (p1 !== ECA_NORMAL) return owner.event(this, m, p1, undefined);
        const data = this.#decode(dataType, count, buf, pOff, pEnd, owned, m.ch.name, m.ch.nativeCount <= 1);
        if (data instanceof Error) return owner.event(this, m, ECA_BADTYPE, undefined, data.message);
        owner.event(this, m, ECA_NORMAL, data);
        return;
      }
      case C_WRITE_NOTIFY: {
        const op = this.#ops.get(p2);
        if (!op) {
          this.stats.unmatched++;
          return;
        }
        this.#ops.delete(p2);
        op.complete(p1, undefined);
        return;
      }
      case C_VERSION:
        this.serverMinor = count;
        return;
      case C_ACCESS_RIGHTS: {
        const ch = this.#mine(p1);
        if (ch) owner.accessRights(this, ch, p2);
        return;
      }
      case C_CREATE_CHAN: {
        const ch = this.#mine(p1);
        if (ch && ch.state === 'creating') owner.createReply(this, ch, p2, dataType, count);
        else this.stats.unmatched++;
        return;
      }
      case C_CREATE_CH_FAIL: {
        const ch = this.#mine(p1);
        if (ch && ch.state === 'creating') owner.createFailed(this, ch, `server ${this.key} refused to create the channel`);
        return;
      }
      case C_SERVER_DISCONN: {
        const ch = this.#mine(p1);
        if (ch) owner.serverDisconn(this, ch);
        return;
      }
      case C_SEARCH: {
        const minor = pEnd - pOff >= 2 ? (buf[pOff]! << 8) | buf[pOff + 1]! : undefined;
        owner.searchReply(this, p2, dataType, p1, minor);
        return;
      }
      case C_ERROR:
        this.#error({ header: { command: cmd, payloadSize, dataType, count, param1: p1, param2: p2 }, headerSize: 16, payload: buf.subarray(pOff, pEnd), owned });
        return;
      case C_ECHO:
      case C_CLEAR_CHANNEL:
      case C_NOT_FOUND:
      case C_READ_SYNC:
        return;
      default:
        this.stats.unmatched++;
        return;
    }
  }

  #mine(cid: number): Channel | undefined {
    const ch = this.#owner.channelByCid(cid);
    return ch && ch.circuit === this ? ch : undefined;
  }

  #decode(dataType: number, count: number, buf: Uint8Array, pOff: number, pEnd: number, owned: boolean, pv: string, scalar: boolean): DbrValue | CaClientError {
    if (!dbrLayout(dataType)) {
      this.stats.malformed++;
      return new CaClientError('EMALFORMED', `${pv}: server ${this.key} answered with unknown DBR type ${dataType}`, pv);
    }
    try {
      return decode(dataType, count, buf, pOff, pEnd, owned, scalar);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.malformed++;
      return new CaClientError('EMALFORMED', `${pv}: malformed reply from ${this.key}: ${e.message}`, pv);
    }
  }

  #error(f: CaFrame): void {
    const m = decodeResponse(f);
    if (m.kind !== 'ErrorResponse') return;
    const rq = m.request;
    const text = m.message ? `: ${m.message}` : '';
    const chByCid = this.#owner.channelByCid(m.cid);
    if (rq && (rq.command === Command.READ_NOTIFY || rq.command === Command.WRITE_NOTIFY)) {
      const op = this.#ops.get(rq.param2);
      if (op) {
        this.#ops.delete(rq.param2);
        const what = rq.command === Command.READ_NOTIFY ? 'read' : 'write';
        op.fail(new CaClientError('ECASTATUS', `${op.ch.name}: server refused the ${what}: ${ecaText(m.status)}${text}`, op.ch.name, m.status));
        return;
      }
    }
    if (rq && rq.command === Command.EVENT_ADD) {
      const mon = this.#monitors.get(rq.param2);
      if (mon) {
        this.#owner.event(this, mon, m.status, undefined, m.message);
        return;
      }
    }
    if (rq && rq.command === Command.CREATE_CHAN) {
      const ch = this.#mine(rq.param1);
      if (ch && ch.state === 'creating') {
        this.#owner.createFailed(this, ch, `server ${this.key} refused the channel: ${ecaText(m.status)}${text}`);
        return;
      }
    }
    const pv = chByCid?.name;
    const cmd = rq ? ` to ${rq.command === C_WRITE ? 'a put' : `command ${rq.command}`}` : '';
    this.#owner.warning('ECASTATUS', `server ${this.key} answered${cmd}${pv ? ` on ${pv}` : ''} with ${ecaText(m.status)}${text}`, pv);
  }

  #finish(reason: string): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#timer = undefined;
    this.#connectTimer = undefined;
    this.#writer.discard();
    this.#framer.clear();
    if (!this.#socket.destroyed) this.#socket.destroy();
    const ops = [...this.#ops.values()];
    this.#ops.clear();
    this.#monitors.clear();
    this.closeReason = this.closeReason ?? reason;
    this.state = 'closed';
    for (const op of ops) {
      try {
        op.fail(new CaClientError('EDISCONNECTED', `${op.ch.name}: the connection to ${this.key} was lost before the reply came (${this.closeReason})`, op.ch.name, ECA.DISCONN));
      } catch {
        // an operation's failure handler must not stop the others
      }
    }
    this.#owner.circuitState(this, 'closed', this.closeReason);
  }
}
