/**
 * Transaction state machine of the requesting BACnet-user (ASHRAE 135-2020 Clause 5.4.4; APDU
 * fields of 20.1.2.6, 20.1.4.2, 20.1.5.6; segmentation of Clause 5.2): every confirmed request
 * we send, from invoke-ID allocation to its outcome.
 *
 * - Transactions are keyed by (peer key, invoke ID). The peer key is the logical device address
 *   (IP:port, or network + MAC for routed devices), so a routed reply that arrives from the
 *   router with SNET/SADR finds its transaction.
 * - Invoke IDs are allocated per peer, round robin from the free set, never reused while in
 *   flight, and held back for a while after a transaction that may still draw a late reply
 *   (timeouts, retries, aborts).
 * - The APDU timeout resends the request with the same invoke ID, `retries` times.
 * - SimpleACK/ComplexACK must carry the request's service choice (a mismatch keeps the
 *   transaction pending); the host may also vet a ComplexACK's content (`acceptAck`).
 * - When a peer's IDs, the per-peer limit or the global in-flight budget run out, requests wait
 *   in a queue (never overwrite), served round robin across peers; a full queue refuses new
 *   requests at once (local back-pressure).
 * - Segmented requests and segmented ComplexACKs are carried per transaction
 *   (segmentation.ts), with the segment timeout, window sizes, caps and aborts.
 *
 * Sans-I/O: the host sends what it is told to, delivers received APDUs, and calls `tick(now)`
 * at the time `nextDeadline()` names.
 */
import { type Apdu, PduType, type ConfirmedRequestPdu } from './apdu';
import { SegmentReceiver, SegmentSender, splitSegments, MAX_SEGMENTS, type SegmentOut } from './segmentation';

export interface ClientTsmOptions {
  /** APDU timeout in ms (default 3000). */
  apduTimeout: number;
  /** Resends after the first attempt (default 3). */
  retries: number;
  /** Segment timeout in ms (default 2000). */
  segmentTimeout: number;
  /** Largest APDU we accept and send (default 1476, the BACnet/IP maximum). */
  maxApdu: number;
  /** Segments we accept in a segmented ComplexACK (default 64; at most 256). */
  maxSegments: number;
  /** Window size we propose and accept (default 16). */
  windowSize: number;
  /** Whether we accept segmented responses (default true). */
  segmentedResponseAccepted: boolean;
  /** Octets one reassembled response may hold (default 1 MiB). */
  maxReassembly: number;
  /** Global cap on transactions in flight (default 1024). */
  maxInFlight: number;
  /** Cap per peer (default 255: every invoke ID). */
  maxInFlightPerPeer: number;
  /** Requests that may wait for an invoke ID or budget before new ones are refused (default 65536). */
  maxQueued: number;
}

export const DEFAULT_CLIENT_TSM_OPTIONS: ClientTsmOptions = {
  apduTimeout: 3000,
  retries: 3,
  segmentTimeout: 2000,
  maxApdu: 1476,
  maxSegments: 64,
  windowSize: 16,
  segmentedResponseAccepted: true,
  maxReassembly: 1 << 20,
  maxInFlight: 1024,
  maxInFlightPerPeer: 255,
  maxQueued: 65536,
};

/** What we know of a peer when sending to it. */
export interface PeerLimits {
  /** The peer's max-APDU-length-accepted (octets). */
  maxApdu: number;
  /** Segments the peer accepts (Infinity when unknown). */
  maxSegments: number;
  /** False when the peer is known not to accept segmented requests. */
  segmentedReceive?: boolean;
}

export type ClientOutcome =
  | { kind: 'simple-ack' }
  | { kind: 'complex-ack'; data: Uint8Array }
  | { kind: 'error'; service: number; data: Uint8Array }
  | { kind: 'reject'; reason: number }
  | { kind: 'abort'; reason: number; server: boolean }
  | { kind: 'timeout'; attempts: number; phase: 'reply' | 'segment' }
  | { kind: 'send-failed'; error: unknown }
  | { kind: 'back-pressure'; queued: number }
  | { kind: 'too-large'; message: string }
  | { kind: 'no-route'; network: number; text: string }
  | { kind: 'cancelled' };

export type TxnState = 'queued' | 'await-confirmation' | 'segmented-request' | 'segmented-confirmation' | 'done';

export class ClientTransaction<P = unknown> {
  state: TxnState = 'queued';
  invokeId = -1;
  attempts = 0;
  segmentAttempts = 0;
  deadline = 0;
  sender?: SegmentSender;
  receiver?: SegmentReceiver;
  /** Free for the host (promise callbacks, request record for the ACK check, ...). */
  context: unknown;
  readonly timeout: number;
  readonly retries: number;
  constructor(
    readonly peer: P,
    readonly peerKey: string,
    readonly limits: PeerLimits,
    readonly service: number,
    readonly data: Uint8Array,
    opts: { timeout: number; retries: number },
  ) {
    this.timeout = opts.timeout;
    this.retries = opts.retries;
  }
}

export interface ClientTsmHost<P> {
  /** Send one APDU of transaction `txn` to its peer. */
  send(txn: ClientTransaction<P>, apdu: Apdu): void;
  /** The transaction ended (called exactly once per transaction). */
  finish(txn: ClientTransaction<P>, outcome: ClientOutcome): void;
  /** Vet the data of a ComplexACK (service already checked): false keeps the transaction pending. */
  acceptAck?(txn: ClientTransaction<P>, data: Uint8Array): boolean;
}

interface PeerState<P> {
  key: string;
  active: Map<number, ClientTransaction<P>>;
  /** Invoke ID -> time it may be used again. */
  quarantine: Map<number, number>;
  nextId: number;
  queue: ClientTransaction<P>[];
  queueHead: number;
}

export interface ClientTsmCounters {
  requests: number;
  retries: number;
  timeouts: number;
  /** ACKs whose service choice did not match their transaction. */
  mismatchedService: number;
  /** ComplexACKs refused by the host's content check. */
  rejectedAcks: number;
  /** APDUs for no known transaction (late replies, strangers). */
  unmatched: number;
  backPressure: number;
  segmentsSent: number;
  segmentsReceived: number;
}

export class ClientTsm<P = unknown> {
  readonly options: ClientTsmOptions;
  readonly counters: ClientTsmCounters = {
    requests: 0, retries: 0, timeouts: 0, mismatchedService: 0, rejectedAcks: 0, unmatched: 0, backPressure: 0,
    segmentsSent: 0, segmentsReceived: 0,
  };
  private readonly host: ClientTsmHost<P>;
  private readonly peers = new Map<string, PeerState<P>>();
  /**
   * Next invoke ID of peers whose state was dropped when idle: restarting at 0 would send the
   * same invoke ID for the same request octets again within a server's duplicate-request window
   * (5.4.5), and a server that keeps replies for duplicates answers with the old reply.
   */
  private readonly idleNextIds = new Map<string, number>();
  /** Peers with queued requests, in service order. */
  private readonly waiting = new Set<PeerState<P>>();
  private inFlightTotal = 0;
  private queuedTotal = 0;
  private wakeHint: number | undefined;
  /** False while failWhere ends transactions: freed slots must not start queued requests then. */
  private pumping = true;

  constructor(host: ClientTsmHost<P>, options: Partial<ClientTsmOptions> = {}) {
    this.host = host;
    this.options = { ...DEFAULT_CLIENT_TSM_OPTIONS, ...options };
    this.options.maxSegments = Math.min(MAX_SEGMENTS, this.options.maxSegments);
    this.options.maxInFlightPerPeer = Math.min(255, Math.max(1, this.options.maxInFlightPerPeer));
  }

  get inFlight(): number {
    return this.inFlightTotal;
  }

  get queued(): number {
    return this.queuedTotal;
  }

  /** Start (or queue) a confirmed request. The returned transaction ends through `host.finish`. */
  request(
    peer: P,
    peerKey: string,
    limits: PeerLimits,
    service: number,
    data: Uint8Array,
    now: number,
    opts: { timeout?: number; retries?: number; context?: unknown } = {},
  ): ClientTransaction<P> {
    const txn = new ClientTransaction(peer, peerKey, limits, service, data, {
      timeout: opts.timeout ?? this.options.apduTimeout,
      retries: opts.retries ?? this.options.retries,
    });
    txn.context = opts.context;
    this.counters.requests++;
    const ps = this.peerState(peerKey);
    if (ps.queue.length - ps.queueHead === 0 && this.canStart(ps, now)) {
      this.start(ps, txn, now);
      return txn;
    }
    if (this.queuedTotal >= this.options.maxQueued) {
      this.counters.backPressure++;
      txn.state = 'done';
      this.host.finish(txn, { kind: 'back-pressure', queued: this.queuedTotal });
      this.dropIfIdle(ps);
      return txn;
    }
    ps.queue.push(txn);
    this.queuedTotal++;
    this.waiting.add(ps);
    return txn;
  }

  /** An APDU from peer `peerKey` (ACKs, SegmentACKs from the server, Error, Reject, Abort). */
  receive(peerKey: string, apdu: Apdu, now: number): boolean {
    if (apdu.type === PduType.CONFIRMED_REQUEST || apdu.type === PduType.UNCONFIRMED_REQUEST) return false;
    if ((apdu.type === PduType.SEGMENT_ACK || apdu.type === PduType.ABORT) && !apdu.server) return false;
    const ps = this.peers.get(peerKey);
    const txn = ps?.active.get(apdu.invokeId);
    if (!txn) {
      this.counters.unmatched++;
      return false;
    }
    switch (apdu.type) {
      case PduType.SIMPLE_ACK:
        if (!this.expectingReply(txn)) return this.unmatched();
        if (apdu.service !== txn.service) return this.mismatch();
        this.end(txn, { kind: 'simple-ack' }, now);
        return true;
      case PduType.COMPLEX_ACK:
        if (apdu.service !== txn.service) return this.mismatch();
        if (!apdu.segmented) {
          if (!this.expectingReply(txn)) return this.unmatched();
          return this.completeAck(txn, apdu.data, now);
        }
        return this.ackSegment(txn, apdu.sequenceNumber ?? 0, apdu.proposedWindowSize ?? 1, apdu.moreFollows, apdu.data, now);
      case PduType.SEGMENT_ACK:
        return this.segmentAck(txn, apdu.sequenceNumber, apdu.actualWindowSize, apdu.negative, now);
      case PduType.ERROR:
        this.end(txn, { kind: 'error', service: apdu.service, data: apdu.data.slice() }, now);
        return true;
      case PduType.REJECT:
        this.end(txn, { kind: 'reject', reason: apdu.reason }, now);
        return true;
      case PduType.ABORT:
        this.end(txn, { kind: 'abort', reason: apdu.reason, server: true }, now);
        return true;
      default:
        return false;
    }
  }

  /** The send of this transaction's last datagram failed: end it now. */
  sendFailed(txn: ClientTransaction<P>, error: unknown, now: number): void {
    if (txn.state !== 'done') this.end(txn, { kind: 'send-failed', error }, now);
  }

  /** Stop a transaction: forget a queued one, or release an in-flight one (its ID is held back). */
  cancel(txn: ClientTransaction<P>, now: number): void {
    if (txn.state === 'done') return;
    if (txn.state === 'queued') this.cancelQueued(txn, { kind: 'cancelled' });
    else this.end(txn, { kind: 'cancelled' }, now);
  }

  private cancelQueued(txn: ClientTransaction<P>, outcome: ClientOutcome): void {
    const ps = this.peers.get(txn.peerKey);
    if (ps) {
      const i = ps.queue.indexOf(txn, ps.queueHead);
      if (i >= 0) {
        ps.queue.splice(i, 1);
        this.queuedTotal--;
      }
    }
    txn.state = 'done';
    this.host.finish(txn, outcome);
    if (ps) this.dropIfIdle(ps);
  }

  /**
   * The earliest deadline set since the last call (undefined if none): a host that keeps one
   * timer re-arms it when this is earlier than the time it is armed for.
   */
  takeWakeHint(): number | undefined {
    const h = this.wakeHint;
    this.wakeHint = undefined;
    return h;
  }

  private hint(t: number): void {
    if (this.wakeHint === undefined || t < this.wakeHint) this.wakeHint = t;
  }

  private setDeadline(txn: ClientTransaction<P>, t: number): void {
    txn.deadline = t;
    this.hint(t);
  }

  /**
   * End every transaction, queued or in flight, that `pred` selects. The queued ones go first,
   * in one pass over each queue, and no queued request is started while the in-flight ones end:
   * otherwise each ending would start (and send) the next queued request only for it to be
   * failed a moment later, e.g. a write reaching a device while the endpoint closes.
   */
  failWhere(pred: (txn: ClientTransaction<P>) => boolean, outcome: ClientOutcome, now: number): number {
    const queued: ClientTransaction<P>[] = [];
    const active: ClientTransaction<P>[] = [];
    for (const ps of this.peers.values()) {
      for (const t of ps.active.values()) if (pred(t)) active.push(t);
      if (ps.queue.length === ps.queueHead) continue;
      const keep: ClientTransaction<P>[] = [];
      for (let i = ps.queueHead; i < ps.queue.length; i++) {
        const t = ps.queue[i]!;
        (pred(t) ? queued : keep).push(t);
      }
      ps.queue = keep;
      ps.queueHead = 0;
    }
    this.queuedTotal -= queued.length;
    this.pumping = false;
    try {
      for (const t of queued) {
        t.state = 'done';
        this.host.finish(t, outcome);
      }
      for (const t of active) this.end(t, outcome, now);
    } finally {
      this.pumping = true;
    }
    for (const t of queued) {
      const ps = this.peers.get(t.peerKey);
      if (ps) this.dropIfIdle(ps);
    }
    // what the predicate spared may start now (other peers under the global budget)
    this.pump(now);
    return queued.length + active.length;
  }

  /** Cancel everything (endpoint closing). */
  cancelAll(now: number): void {
    this.failWhere(() => true, { kind: 'cancelled' }, now);
  }

  /** Earliest deadline of any transaction or quarantined ID, or undefined when idle. */
  nextDeadline(): number | undefined {
    let d: number | undefined;
    for (const ps of this.peers.values()) {
      for (const t of ps.active.values()) if (d === undefined || t.deadline < d) d = t.deadline;
      for (const until of ps.quarantine.values()) if (d === undefined || until < d) d = until;
    }
    return d;
  }

  /** Handle timeouts due at `now`. */
  tick(now: number): void {
    const due: ClientTransaction<P>[] = [];
    for (const ps of [...this.peers.values()]) {
      for (const t of ps.active.values()) if (t.deadline <= now) due.push(t);
      let released = false;
      for (const [id, until] of ps.quarantine) {
        if (until <= now) {
          ps.quarantine.delete(id);
          released = true;
        }
      }
      if (released && ps.queue.length > ps.queueHead) this.waiting.add(ps);
      this.dropIfIdle(ps);
    }
    for (const t of due) if (t.state !== 'done') this.timeout(t, now);
    this.pump(now);
  }

  // -------------------------------------------------------------------------------------------

  private peerState(key: string): PeerState<P> {
    let ps = this.peers.get(key);
    if (!ps) {
      ps = { key, active: new Map(), quarantine: new Map(), nextId: this.idleNextIds.get(key) ?? 0, queue: [], queueHead: 0 };
      this.idleNextIds.delete(key);
      this.peers.set(key, ps);
    }
    return ps;
  }

  private dropIfIdle(ps: PeerState<P>): void {
    if (ps.active.size === 0 && ps.quarantine.size === 0 && ps.queue.length === ps.queueHead) {
      this.peers.delete(ps.key);
      this.waiting.delete(ps);
      if (this.idleNextIds.size >= 65536) this.idleNextIds.delete(this.idleNextIds.keys().next().value!);
      this.idleNextIds.set(ps.key, ps.nextId);
    }
  }

  private canStart(ps: PeerState<P>, now: number): boolean {
    if (this.inFlightTotal >= this.options.maxInFlight) return false;
    if (ps.active.size >= this.options.maxInFlightPerPeer) return false;
    return this.freeId(ps, now) >= 0;
  }

  private freeId(ps: PeerState<P>, now: number): number {
    if (ps.active.size + ps.quarantine.size >= 256) {
      // quarantined IDs whose time has come are free again
      for (const [id, until] of ps.quarantine) if (until <= now) ps.quarantine.delete(id);
    }
    for (let i = 0; i < 256; i++) {
      const id = (ps.nextId + i) & 0xff;
      if (!ps.active.has(id) && !ps.quarantine.has(id)) return id;
    }
    return -1;
  }

  private start(ps: PeerState<P>, txn: ClientTransaction<P>, now: number): void {
    const id = this.freeId(ps, now);
    txn.invokeId = id;
    ps.nextId = (id + 1) & 0xff;
    ps.active.set(id, txn);
    this.inFlightTotal++;
    this.transmit(txn, now);
  }

  /** Send (or resend) the request from its beginning. */
  private transmit(txn: ClientTransaction<P>, now: number): void {
    const o = this.options;
    const maxSend = Math.min(txn.limits.maxApdu, o.maxApdu);
    if (4 + txn.data.length <= maxSend) {
      txn.state = 'await-confirmation';
      this.setDeadline(txn, now + txn.timeout);
      this.host.send(txn, this.requestPdu(txn, txn.data));
      return;
    }
    if (!txn.sender) {
      if (!(maxSend - 6 >= 1)) {
        // no room for a single octet of service data in a segment (a nonsense or NaN max APDU)
        this.end(txn, { kind: 'too-large', message: `request of ${txn.data.length + 4} octets exceeds the device's max APDU of ${txn.limits.maxApdu} octets, too small to segment` }, now);
        return;
      }
      const segments = splitSegments(txn.data, maxSend - 6);
      const limit = Math.min(MAX_SEGMENTS, txn.limits.maxSegments > 0 ? txn.limits.maxSegments : MAX_SEGMENTS);
      if (txn.limits.segmentedReceive === false || segments.length > limit) {
        const why = txn.limits.segmentedReceive === false
          ? 'the device does not accept segmented requests'
          : `it needs ${segments.length} segments and the device accepts ${limit}`;
        this.end(txn, { kind: 'too-large', message: `request of ${txn.data.length + 4} octets exceeds the device's max APDU of ${txn.limits.maxApdu} octets and ${why}` }, now);
        return;
      }
      txn.sender = new SegmentSender(segments, o.windowSize);
    } else {
      txn.sender = new SegmentSender(txn.sender.segments, o.windowSize);
    }
    txn.state = 'segmented-request';
    txn.segmentAttempts = 0;
    this.setDeadline(txn, now + o.segmentTimeout);
    this.sendSegments(txn, txn.sender.first());
  }

  private requestPdu(txn: ClientTransaction<P>, data: Uint8Array, seg?: SegmentOut, window?: number): ConfirmedRequestPdu {
    const o = this.options;
    const pdu: ConfirmedRequestPdu = {
      type: PduType.CONFIRMED_REQUEST,
      segmented: seg !== undefined,
      moreFollows: seg?.moreFollows ?? false,
      segmentedResponseAccepted: o.segmentedResponseAccepted,
      maxSegments: o.segmentedResponseAccepted ? o.maxSegments : 0,
      maxApdu: o.maxApdu,
      invokeId: txn.invokeId,
      service: txn.service,
      data,
    };
    if (seg) {
      pdu.sequenceNumber = seg.sequenceNumber;
      pdu.proposedWindowSize = window ?? o.windowSize;
    }
    return pdu;
  }

  private sendSegments(txn: ClientTransaction<P>, segs: SegmentOut[]): void {
    for (const s of segs) {
      this.counters.segmentsSent++;
      this.host.send(txn, this.requestPdu(txn, s.data, s, this.options.windowSize));
      if (txn.state === 'done') return; // a synchronous send failure ended it
    }
  }

  private expectingReply(txn: ClientTransaction<P>): boolean {
    // After the last segment of a segmented request the server may answer before our SegmentACK
    // bookkeeping catches up; accept its reply then too.
    return txn.state === 'await-confirmation' || (txn.state === 'segmented-request' && !!txn.sender
      && txn.sender.next + txn.sender.actualWindow >= txn.sender.count);
  }

  private unmatched(): boolean {
    this.counters.unmatched++;
    return false;
  }

  private mismatch(): boolean {
    this.counters.mismatchedService++;
    return false;
  }

  private completeAck(txn: ClientTransaction<P>, data: Uint8Array, now: number): boolean {
    if (this.host.acceptAck && !this.host.acceptAck(txn, data)) {
      this.counters.rejectedAcks++;
      if (txn.state === 'segmented-confirmation') {
        txn.state = 'await-confirmation';
        txn.receiver = undefined;
        this.setDeadline(txn, now + txn.timeout);
      }
      return false;
    }
    this.end(txn, { kind: 'complex-ack', data }, now);
    return true;
  }

  private ackSegment(txn: ClientTransaction<P>, seq: number, proposedWindow: number, more: boolean, data: Uint8Array, now: number): boolean {
    const o = this.options;
    if (txn.state !== 'segmented-confirmation') {
      if (seq !== 0 || !this.expectingReply(txn)) return this.unmatched();
      if (!o.segmentedResponseAccepted) {
        this.abortTxn(txn, 4, now);
        return true;
      }
      txn.state = 'segmented-confirmation';
      txn.receiver = new SegmentReceiver(proposedWindow, o.windowSize, { maxSegments: o.maxSegments, maxBytes: o.maxReassembly });
    }
    this.counters.segmentsReceived++;
    const rx = txn.receiver!;
    const res = rx.receive(seq, data, more);
    this.setDeadline(txn, now + o.segmentTimeout * 4);
    switch (res.action) {
      case 'wait':
        return true;
      case 'ack':
        this.host.send(txn, { type: PduType.SEGMENT_ACK, negative: res.negative, server: false, invokeId: txn.invokeId, sequenceNumber: res.sequenceNumber & 0xff, actualWindowSize: rx.actualWindow });
        return true;
      case 'complete':
        this.host.send(txn, { type: PduType.SEGMENT_ACK, negative: false, server: false, invokeId: txn.invokeId, sequenceNumber: res.sequenceNumber & 0xff, actualWindowSize: rx.actualWindow });
        if ((txn.state as TxnState) !== 'done') this.completeAck(txn, res.data, now);
        return true;
      case 'abort':
        this.abortTxn(txn, res.reason, now);
        return true;
    }
  }

  private segmentAck(txn: ClientTransaction<P>, seq: number, window: number, negative: boolean, now: number): boolean {
    if (txn.state !== 'segmented-request' || !txn.sender) return this.unmatched();
    const next = txn.sender.ack(seq, window, negative);
    if (next === 'invalid') {
      this.abortTxn(txn, 2, now); // invalid-apdu-in-this-state
      return true;
    }
    txn.segmentAttempts = 0;
    if (txn.sender.done) {
      txn.state = 'await-confirmation';
      this.setDeadline(txn, now + txn.timeout);
      return true;
    }
    this.setDeadline(txn, now + this.options.segmentTimeout);
    this.sendSegments(txn, next);
    return true;
  }

  private abortTxn(txn: ClientTransaction<P>, reason: number, now: number): void {
    this.host.send(txn, { type: PduType.ABORT, server: false, invokeId: txn.invokeId, reason });
    if (txn.state !== 'done') this.end(txn, { kind: 'abort', reason, server: false }, now);
  }

  private timeout(txn: ClientTransaction<P>, now: number): void {
    switch (txn.state) {
      case 'await-confirmation':
        if (txn.attempts < txn.retries) {
          txn.attempts++;
          this.counters.retries++;
          this.transmit(txn, now);
        } else {
          this.counters.timeouts++;
          this.end(txn, { kind: 'timeout', attempts: txn.attempts + 1, phase: 'reply' }, now);
        }
        return;
      case 'segmented-request':
        if (txn.segmentAttempts < txn.retries) {
          txn.segmentAttempts++;
          this.counters.retries++;
          this.setDeadline(txn, now + this.options.segmentTimeout);
          this.sendSegments(txn, txn.sender!.next === 0 ? txn.sender!.first() : txn.sender!.window());
        } else {
          this.counters.timeouts++;
          this.end(txn, { kind: 'timeout', attempts: txn.segmentAttempts + 1, phase: 'segment' }, now);
        }
        return;
      case 'segmented-confirmation':
        this.counters.timeouts++;
        this.host.send(txn, { type: PduType.ABORT, server: false, invokeId: txn.invokeId, reason: 10 });
        if ((txn.state as TxnState) !== 'done') this.end(txn, { kind: 'timeout', attempts: txn.attempts + 1, phase: 'segment' }, now);
        return;
      default:
        return;
    }
  }

  private end(txn: ClientTransaction<P>, outcome: ClientOutcome, now: number): void {
    if (txn.state === 'done') return;
    const ps = this.peers.get(txn.peerKey);
    // A started transaction holds its invoke ID and in-flight slot whatever its state: one that
    // ends inside its first transmit (too large for the device) is still 'queued' then.
    const wasActive = txn.invokeId >= 0 && ps !== undefined && ps.active.get(txn.invokeId) === txn;
    txn.state = 'done';
    txn.sender = undefined;
    txn.receiver = undefined;
    if (wasActive) {
      ps.active.delete(txn.invokeId);
      this.inFlightTotal--;
      // A reply may still be on its way after retries, timeouts, aborts and cancels: hold the ID.
      const late = outcome.kind === 'timeout' || outcome.kind === 'cancelled' || outcome.kind === 'abort' || outcome.kind === 'send-failed' || txn.attempts > 0;
      if (late) {
        ps.quarantine.set(txn.invokeId, now + this.options.apduTimeout);
        this.hint(now + this.options.apduTimeout);
      }
      if (ps.queue.length > ps.queueHead) this.waiting.add(ps);
    }
    this.host.finish(txn, outcome);
    this.pump(now);
    if (ps) this.dropIfIdle(ps);
  }

  /** Start queued requests while budget and IDs allow, round robin across peers. */
  private pump(now: number): void {
    if (!this.pumping) return;
    while (this.waiting.size && this.inFlightTotal < this.options.maxInFlight) {
      let progressed = false;
      for (const ps of this.waiting) {
        if (this.inFlightTotal >= this.options.maxInFlight) break;
        this.waiting.delete(ps);
        if (ps.queue.length === ps.queueHead) continue;
        if (!this.canStart(ps, now)) continue; // re-added when one of its transactions ends
        const txn = ps.queue[ps.queueHead]!;
        ps.queue[ps.queueHead++] = undefined as unknown as ClientTransaction<P>;
        if (ps.queueHead > 1024 && ps.queueHead * 2 > ps.queue.length) {
          ps.queue = ps.queue.slice(ps.queueHead);
          ps.queueHead = 0;
        }
        this.queuedTotal--;
        this.start(ps, txn, now);
        progressed = true;
        if (ps.queue.length > ps.queueHead) this.waiting.add(ps); // to the back of the line
      }
      if (!progressed) break;
    }
  }
}
