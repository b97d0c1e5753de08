/**
 * One client connection (virtual circuit) of the CA server, without I/O.
 *
 * Bytes go in through `receive()`; encoded replies come out through `io.send()`; a peer that
 * sends something unparseable or a command a client may not send is counted and `io.close()`
 * is asked to end the circuit. Nothing here throws for peer input.
 *
 * Per circuit: channels by SID (each watching its PV), subscriptions per channel, the client's
 * host and user names, and monitor flow control: after EVENTS_OFF (or while the transport says
 * the socket is backed up) updates are not sent; each subscription remembers that it is due and,
 * on EVENTS_ON, sends one update with the newest value.
 */
import { AccessRights, CA_MINOR_VERSION, ECA, SearchReply, commandName, ecaInfo } from './constants';
import { CaStatusError, DecodeError } from './errors';
import { dbrLayout } from './dbr';
import { CaFramer } from './framer';
import type { CaHeader } from './header';
import { decodeRequest, encodeAccessRights, encodeClearChannel, encodeCreateChanResponse, encodeCreateChFail, encodeEcho, encodeError, encodeEventAddResponse, encodeEventCancelResponse, encodeNotFound, encodeReadNotifyResponse, encodeReadResponse, encodeReadSync, encodeSearchResponse, encodeServerDisconn, encodeVersion, encodeWriteNotifyResponse, type CaFrame, type CaRequest } from './messages';
import { clientMaySend } from './state';
import type { NativeArray } from './convert';
import type { PvWatcher, ServerPv } from './server-pv';


export interface ClientIdentity {
  /** Peer IP address and port of the TCP connection. */
  address: string;
  port: number;
  /** From HOST_NAME ('' until sent). */
  host: string;
  /** From CLIENT_NAME ('' until sent). */
  user: string;
}

/** A write a client asked for, converted to the PV's native type. */
export interface WriteContext {
  pv: ServerPv;
  value: NativeArray;
  /** DBR type and count as the client wrote them. */
  dataType: number;
  count: number;
  /** WRITE_NOTIFY (the client waits for the outcome) rather than WRITE. */
  notify: boolean;
  client: ClientIdentity;
}

export interface WriteOutcome {
  status: number;
  message?: string;
}

/** What a circuit needs from its server. */
export interface CircuitHost {
  findPv(name: string): ServerPv | undefined;
  /** ACCESS_RIGHTS bits for a client on a PV. */
  rightsFor(pv: ServerPv, client: ClientIdentity): number;
  /** Carry out a write (hook, apply, notify); may be asynchronous. */
  write(ctx: WriteContext): WriteOutcome | Promise<WriteOutcome>;
  /** TCP port for SEARCH replies sent on the circuit. */
  readonly tcpPort: number;
  /** A fault the circuit cannot answer on the wire (e.g. the late reply to an asynchronous write). */
  warn?(e: unknown): void;
}

export interface CircuitIo {
  send(bytes: Uint8Array): void;
  /** The circuit must end (malformed input or protocol violation). */
  close(reason: string): void;
}

export interface CircuitStats {
  framesIn: number;
  malformed: number;
  eventsSent: number;
  /** Updates folded into a newer one while events were off or the socket was backed up. */
  eventsCoalesced: number;
}

interface Subscription {
  id: number;
  dataType: number;
  count: number;
  mask: number;
  channel: Channel;
  /** DBE bits raised while paused (0 = nothing due). */
  due: number;
}

class Channel implements PvWatcher {
  readonly subs = new Map<number, Subscription>();
  rights: number;
  constructor(
    readonly circuit: ServerCircuit,
    readonly sid: number,
    readonly cid: number,
    readonly pv: ServerPv,
    rights: number,
  ) {
    this.rights = rights;
  }
  pvChanged(_pv: ServerPv, mask: number): void {
    this.circuit.channelChanged(this, mask);
  }
  pvRightsChanged(): void {
    this.circuit.channelRightsChanged(this);
  }
  pvRemoved(): void {
    this.circuit.channelRemoved(this);
  }
}

export interface ServerCircuitOptions {
  maxPayload?: number;
  /** Most channels one client may open (default 1,000,000). */
  maxChannels?: number;
}

export class ServerCircuit {
  readonly client: ClientIdentity;
  /** Minor version and priority from the client's VERSION. */
  clientMinorVersion = 0;
  priority = 0;
  readonly stats: CircuitStats = { framesIn: 0, malformed: 0, eventsSent: 0, eventsCoalesced: 0 };
  readonly #host: CircuitHost;
  readonly #io: CircuitIo;
  readonly #framer: CaFramer;
  readonly #channels = new Map<number, Channel>();
  readonly #due = new Set<Subscription>();
  readonly #maxChannels: number;
  #nextSid = 1;
  #eventsOff = false;
  #blocked = false;
  #closed = false;

  constructor(host: CircuitHost, io: CircuitIo, peer: { address: string; port: number }, opts: ServerCircuitOptions = {}) {
    this.#host = host;
    this.#io = io;
    this.client = { address: peer.address, port: peer.port, host: '', user: '' };
    this.#framer = new CaFramer(opts.maxPayload !== undefined ? { maxPayload: opts.maxPayload } : {});
    this.#maxChannels = opts.maxChannels ?? 1_000_000;
  }

  /** Send our VERSION (the server speaks first, right after the TCP connection is up). */
  start(): void {
    this.#send(encodeVersion({ minorVersion: CA_MINOR_VERSION }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get channelCount(): number {
    return this.#channels.size;
  }

  /** Feed received bytes. Returns false once the circuit has failed and must be closed. */
  receive(chunk: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#framer.push(chunk);
    for (;;) {
      let frame: CaFrame;
      try {
        const r = this.#framer.next();
        if ('need' in r) return true;
        frame = r.frame;
      } catch (err) {
        this.#fail(err instanceof Error ? err.message : String(err));
        return false;
      }
      this.stats.framesIn++;
      try {
        this.#dispatch(frame);
      } catch (err) {
        // DecodeError: a payload shorter than its header says. Anything else is a bug of ours,
        // but it must not escape into the socket handler either.
        const why = err instanceof DecodeError ? err.message : `internal error on ${commandName(frame.header.command)}: ${err instanceof Error ? err.message : String(err)}`;
        this.#fail(why);
        return false;
      }
      if (this.#closed) return false;
    }
  }

  /** The transport's socket is backed up (true) or drained (false): hold or release updates. */
  setBlocked(blocked: boolean): void {
    this.#blocked = blocked;
    if (!blocked) this.#flushDue();
  }

  /** Release every channel and subscription; send nothing more. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const ch of this.#channels.values()) ch.pv.unwatch(ch);
    this.#channels.clear();
    this.#due.clear();
    this.#framer.clear();
  }

  // -------------------------------------------------------------------------------------------

  #send(bytes: Uint8Array): void {
    if (!this.#closed) this.#io.send(bytes);
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.stats.malformed++;
    this.close();
    this.#io.close(reason);
  }

  #fault(err: unknown): void {
    try {
      this.#host.warn?.(err);
    } catch {
      // nowhere left to report it
    }
  }

  #error(h: CaHeader, cid: number, status: number, message: string): void {
    this.#send(encodeError({ cid, status, request: h, message }));
  }

  #dispatch(f: CaFrame): void {
    const h = f.header;
    if (!clientMaySend(h.command, 'tcp')) {
      this.#fail(`${commandName(h.command)} is not a client request on a circuit`);
      return;
    }
    const m = decodeRequest(f, false);
    switch (m.kind) {
      case 'Version':
        this.clientMinorVersion = m.minorVersion;
        this.priority = m.priority;
        return;
      case 'HostNameRequest':
        this.client.host = m.name;
        this.#refreshRights();
        return;
      case 'ClientNameRequest':
        this.client.user = m.name;
        this.#refreshRights();
        return;
      case 'Echo':
        this.#send(encodeEcho());
        return;
      case 'ReadSyncRequest':
        this.#send(encodeReadSync());
        return;
      case 'EventsOffRequest':
        this.#eventsOff = true;
        return;
      case 'EventsOnRequest':
        this.#eventsOff = false;
        this.#flushDue();
        return;
      case 'SearchRequest':
        this.#search(m);
        return;
      case 'CreateChanRequest':
        this.#createChannel(m.cid, m.name);
        return;
      case 'ClearChannelRequest': {
        const ch = this.#channels.get(m.sid);
        if (!ch) return this.#error(h, m.cid, ECA.BADCHID, `no channel with sid ${m.sid}`);
        this.#dropChannel(ch);
        this.#send(encodeClearChannel({ sid: m.sid, cid: m.cid }));
        return;
      }
      case 'ReadNotifyRequest':
      case 'ReadRequest':
        this.#read(h, m);
        return;
      case 'WriteRequest':
      case 'WriteNotifyRequest':
        this.#write(h, m);
        return;
      case 'EventAddRequest':
        this.#eventAdd(h, m);
        return;
      case 'EventCancelRequest': {
        const ch = this.#channels.get(m.sid);
        if (!ch) return this.#error(h, 0, ECA.BADCHID, `no channel with sid ${m.sid}`);
        const sub = ch.subs.get(m.subscriptionId);
        if (!sub) return this.#error(h, ch.cid, ECA.BADMONID, `no subscription ${m.subscriptionId} on ${ch.pv.name}`);
        ch.subs.delete(sub.id);
        this.#due.delete(sub);
        this.#send(encodeEventCancelResponse({ sid: m.sid, subscriptionId: sub.id, dataType: m.dataType }));
        return;
      }
      default:
        this.#fail(`unexpected ${commandName(h.command)} from the client`);
    }
  }

  #search(m: Extract<CaRequest, { kind: 'SearchRequest' }>): void {
    if (this.#host.findPv(m.name)) {
      this.#send(encodeSearchResponse({ port: this.#host.tcpPort, cid: m.cid, udp: true }));
    } else if (m.reply === SearchReply.DO_REPLY) {
      this.#send(encodeNotFound({ cid: m.cid, minorVersion: m.minorVersion }));
    }
  }

  #createChannel(cid: number, name: string): void {
    const pv = this.#host.findPv(name);
    if (!pv || this.#channels.size >= this.#maxChannels) {
      this.#send(encodeCreateChFail({ cid }));
      return;
    }
    let sid = this.#nextSid;
    while (this.#channels.has(sid)) sid = (sid + 1) >>> 0;
    this.#nextSid = (sid + 1) >>> 0;
    const rights = this.#host.rightsFor(pv, this.client);
    const ch = new Channel(this, sid, cid, pv, rights);
    this.#channels.set(sid, ch);
    pv.watch(ch);
    this.#send(encodeAccessRights({ cid, rights }));
    this.#send(encodeCreateChanResponse({ cid, sid, dataType: pv.nativeType, count: pv.maxCount }));
  }

  #dropChannel(ch: Channel): void {
    ch.pv.unwatch(ch);
    for (const s of ch.subs.values()) this.#due.delete(s);
    ch.subs.clear();
    this.#channels.delete(ch.sid);
  }

  #read(h: CaHeader, m: Extract<CaRequest, { kind: 'ReadNotifyRequest' | 'ReadRequest' }>): void {
    const ch = this.#channels.get(m.sid);
    const notify = m.kind === 'ReadNotifyRequest';
    if (!ch) return this.#error(h, 0, ECA.BADCHID, `no channel with sid ${m.sid}`);
    if (!dbrLayout(m.dataType)) return this.#error(h, ch.cid, ECA.BADTYPE, `unknown DBR type ${m.dataType}`);
    if (m.count > ch.pv.maxCount) return this.#error(h, ch.cid, ECA.BADCOUNT, `${m.count} elements requested, ${ch.pv.name} has ${ch.pv.maxCount}`);
    if (!(ch.rights & AccessRights.READ)) {
      if (!notify) return this.#error(h, ch.cid, ECA.NORDACCESS, `no read access to ${ch.pv.name}`);
      this.#send(encodeReadNotifyResponse({ ioid: m.ioid, dataType: m.dataType, count: m.count || 1, status: ECA.NORDACCESS }));
      return;
    }
    const r = ch.pv.read(m.dataType, m.count);
    if (!notify) {
      if (r.status !== ECA.NORMAL || !r.data) return this.#error(h, ch.cid, r.status, r.message ?? ecaInfo(r.status).text);
      this.#send(encodeReadResponse({ sid: m.sid, ioid: m.ioid, dataType: m.dataType, count: r.count, data: r.data }));
      return;
    }
    if (r.status === ECA.NORMAL && r.data) {
      this.#send(encodeReadNotifyResponse({ ioid: m.ioid, dataType: m.dataType, count: r.count, data: r.data }));
    } else {
      this.#send(encodeReadNotifyResponse({ ioid: m.ioid, dataType: m.dataType, count: r.count, status: r.status }));
    }
  }

  #write(h: CaHeader, m: Extract<CaRequest, { kind: 'WriteRequest' | 'WriteNotifyRequest' }>): void {
    const notify = m.kind === 'WriteNotifyRequest';
    const ch = this.#channels.get(m.sid);
    if (!ch) return this.#error(h, 0, ECA.BADCHID, `no channel with sid ${m.sid}`);
    const fail = (status: number, message: string): void => {
      if (notify) this.#send(encodeWriteNotifyResponse({ ioid: m.ioid, dataType: m.dataType, count: m.count, status }));
      else this.#error(h, ch.cid, status, message);
    };
    const l = dbrLayout(m.dataType);
    if (!l || !m.data || !['plain', 'put_ackt', 'put_acks'].includes(l.family)) return fail(ECA.BADTYPE, `DBR type ${m.dataType} cannot be written`);
    if (!(ch.rights & AccessRights.WRITE)) return fail(ECA.NOWTACCESS, `no write access to ${ch.pv.name}`);
    if (m.count === 0 || m.count > ch.pv.maxCount) return fail(ECA.BADCOUNT, `${m.count} elements written, ${ch.pv.name} takes 1..${ch.pv.maxCount}`);
    const pv = ch.pv;
    if (l.family === 'put_ackt' || l.family === 'put_acks') {
      const v = Number((m.data.value as ArrayLike<number>)[0] ?? 0);
      if (l.family === 'put_ackt') pv.ackt = v ? 1 : 0;
      else if (v >= pv.acks) pv.acks = 0;
      if (notify) this.#send(encodeWriteNotifyResponse({ ioid: m.ioid, dataType: m.dataType, count: m.count, status: ECA.NORMAL }));
      return;
    }
    let value: NativeArray;
    try {
      value = pv.convertInput(m.data.value);
    } catch (err) {
      const status = err instanceof CaStatusError ? err.eca : ECA.PUTFAIL;
      return fail(status, err instanceof Error ? err.message : String(err));
    }
    const ctx: WriteContext = { pv, value, dataType: m.dataType, count: m.count, notify, client: this.client };
    let outcome: WriteOutcome | Promise<WriteOutcome>;
    try {
      outcome = this.#host.write(ctx);
    } catch (err) {
      outcome = { status: ECA.PUTFAIL, message: err instanceof Error ? err.message : String(err) };
    }
    const finish = (o: WriteOutcome): void => {
      if (this.#closed) return;
      if (o.status === ECA.NORMAL) {
        if (notify) this.#send(encodeWriteNotifyResponse({ ioid: m.ioid, dataType: m.dataType, count: m.count, status: ECA.NORMAL }));
      } else {
        fail(o.status, o.message ?? ecaInfo(o.status).text);
      }
    };
    if (isPromise<WriteOutcome>(outcome)) {
      // The last link of the chain: nothing thrown while answering may become an unhandled rejection.
      outcome
        .then(finish, (err: unknown) => finish({ status: ECA.PUTFAIL, message: err instanceof Error ? err.message : String(err) }))
        .catch((err: unknown) => this.#fault(err));
    } else {
      finish(outcome);
    }
  }

  #eventAdd(h: CaHeader, m: Extract<CaRequest, { kind: 'EventAddRequest' }>): void {
    const ch = this.#channels.get(m.sid);
    if (!ch) return this.#error(h, 0, ECA.BADCHID, `no channel with sid ${m.sid}`);
    if (!dbrLayout(m.dataType)) return this.#error(h, ch.cid, ECA.BADTYPE, `unknown DBR type ${m.dataType}`);
    if (m.count > ch.pv.maxCount) return this.#error(h, ch.cid, ECA.BADCOUNT, `${m.count} elements requested, ${ch.pv.name} has ${ch.pv.maxCount}`);
    const old = ch.subs.get(m.subscriptionId);
    if (old) this.#due.delete(old);
    const sub: Subscription = { id: m.subscriptionId, dataType: m.dataType, count: m.count, mask: m.mask, channel: ch, due: 0 };
    ch.subs.set(sub.id, sub);
    // The first update goes out at once, whatever the mask (and even while events are off: the
    // client is waiting for its initial value).
    this.#sendEvent(sub);
  }

  #sendEvent(sub: Subscription): void {
    const ch = sub.channel;
    this.stats.eventsSent++;
    if (!(ch.rights & AccessRights.READ)) {
      this.#send(encodeEventAddResponse({ subscriptionId: sub.id, dataType: sub.dataType, count: sub.count || 1, status: ECA.NORDACCESS }));
      return;
    }
    const r = ch.pv.read(sub.dataType, sub.count);
    if (r.status === ECA.NORMAL && r.data) {
      this.#send(encodeEventAddResponse({ subscriptionId: sub.id, dataType: sub.dataType, count: r.count, data: r.data }));
    } else {
      this.#send(encodeEventAddResponse({ subscriptionId: sub.id, dataType: sub.dataType, count: r.count, status: r.status }));
    }
  }

  #flushDue(): void {
    if (this.#eventsOff || this.#blocked || this.#due.size === 0) return;
    const due = [...this.#due];
    this.#due.clear();
    for (const s of due) {
      s.due = 0;
      if (s.channel.subs.get(s.id) === s) this.#sendEvent(s);
    }
  }

  #refreshRights(): void {
    for (const ch of this.#channels.values()) this.channelRightsChanged(ch);
  }

  // Called by Channel (PvWatcher) -----------------------------------------------------------

  /** @internal */
  channelChanged(ch: Channel, mask: number): void {
    if (this.#closed) return;
    const paused = this.#eventsOff || this.#blocked;
    for (const sub of ch.subs.values()) {
      // Property changes are delivered to every subscription that asked for DBE_PROPERTY.
      if (!(sub.mask & mask)) continue;
      if (paused) {
        if (sub.due) this.stats.eventsCoalesced++;
        sub.due |= mask;
        this.#due.add(sub);
      } else {
        this.#sendEvent(sub);
      }
    }
  }

  /** @internal */
  channelRightsChanged(ch: Channel): void {
    if (this.#closed) return;
    const rights = this.#host.rightsFor(ch.pv, this.client);
    if (rights === ch.rights) return;
    ch.rights = rights;
    this.#send(encodeAccessRights({ cid: ch.cid, rights }));
  }

  /** @internal */
  channelRemoved(ch: Channel): void {
    if (this.#closed) return;
    this.#dropChannel(ch);
    this.#send(encodeServerDisconn({ cid: ch.cid }));
  }
}

/** A promise (or any thenable), as hooks may return. */
export function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

