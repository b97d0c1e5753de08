/**
 * Transaction state machine of the responding BACnet-user (ASHRAE 135-2020 Clause 5.4.5; APDU
 * fields of 20.1.2; segmentation of Clause 5.2): every confirmed request a peer sends us, from
 * arrival (whole or in segments) to the reply (whole or in segments).
 *
 * - Duplicate requests (same peer, invoke ID and octets) are not executed twice: while the
 *   first is being served they are ignored, afterwards the cached reply is sent again. A request
 *   with a reused invoke ID but other content is a new request.
 * - Segmented requests are reassembled per transaction (window, SegmentACK/NAK, caps).
 * - A ComplexACK larger than the client's max-APDU is segmented when the client accepts
 *   segmentation (never more segments than it accepts: abort apdu-too-long otherwise), or
 *   refused with Abort segmentation-not-supported.
 *
 * Sans-I/O: the host dispatches complete requests, answers with `respond`, delivers APDUs and
 * calls `tick(now)`.
 */
import { type Apdu, PduType, type ConfirmedRequestPdu } from './apdu';
import { SegmentReceiver, SegmentSender, splitSegments, MAX_SEGMENTS, type SegmentOut } from './segmentation';

export interface ServerTsmOptions {
  /** Largest APDU we send and accept (default 1476). */
  maxApdu: number;
  /** Segment timeout in ms (default 2000). */
  segmentTimeout: number;
  /** Resends of a window before giving up (default 3). */
  retries: number;
  /** Window size we propose and accept (default 16). */
  windowSize: number;
  /** Whether we send segmented responses (default true). */
  segmentedTransmit: boolean;
  /** Whether we accept segmented requests (default true). */
  segmentedReceive: boolean;
  /** Segments we accept in a segmented request (default 64). */
  maxSegments: number;
  /** Octets one reassembled request may hold (default 1 MiB). */
  maxReassembly: number;
  /** How long a reply stays cached for duplicate requests, ms (default 12000 = 4 x 3 s). */
  duplicateWindow: number;
  /** Transactions kept at once (in progress and cached; default 4096). */
  maxTransactions: number;
  /**
   * How long a dispatched request may wait for the host's answer before it is dropped, ms
   * (default: twice the duplicate window; the client stopped retrying long before). A handler
   * that never settles would otherwise hold its entry, and with enough of them every new
   * request is aborted for want of room.
   */
  processingTimeout: number;
}

export const DEFAULT_SERVER_TSM_OPTIONS: ServerTsmOptions = {
  maxApdu: 1476,
  segmentTimeout: 2000,
  retries: 3,
  windowSize: 16,
  segmentedTransmit: true,
  segmentedReceive: true,
  maxSegments: 64,
  maxReassembly: 1 << 20,
  duplicateWindow: 12000,
  maxTransactions: 4096,
  processingTimeout: 24000,
};

/**
 * Finished entries (cached replies) expire on this grid, ms: many replies finished within one
 * step share one timer firing instead of one firing per reply about a millisecond apart. A
 * reply stays cached up to this much longer than the duplicate window, which does no harm.
 */
const DONE_GRANULARITY = 1000;

/** A complete confirmed request for the host to execute. */
export interface IncomingRequest<P = unknown> {
  peer: P;
  peerKey: string;
  invokeId: number;
  service: number;
  /** Service data (owned copy). */
  data: Uint8Array;
  /** The client's max-APDU-length-accepted (octets). */
  maxApdu: number;
  /** The client's max-segments-accepted (0 unspecified, Infinity more than 64). */
  maxSegments: number;
  segmentedResponseAccepted: boolean;
}

export type ServerResponse =
  | { kind: 'simple-ack' }
  | { kind: 'complex-ack'; data: Uint8Array }
  | { kind: 'error'; data: Uint8Array }
  | { kind: 'reject'; reason: number }
  | { kind: 'abort'; reason: number };

export interface ServerTsmHost<P> {
  send(peer: P, apdu: Apdu): void;
  dispatch(req: IncomingRequest<P>): void;
}

type EntryState = 'receiving' | 'processing' | 'sending' | 'done';

interface Entry<P> {
  key: string;
  state: EntryState;
  request: IncomingRequest<P>;
  /** Service choice, and data of the request or of its first segment: duplicate detection. */
  fpService: number;
  fpData: Uint8Array;
  reply?: Apdu;
  receiver?: SegmentReceiver;
  sender?: SegmentSender;
  deadline: number;
  attempts: number;
}

export interface ServerTsmCounters {
  requests: number;
  duplicatesIgnored: number;
  duplicatesAnswered: number;
  segmentedResponses: number;
  segmentedRequests: number;
  aborts: number;
  /** Replies for requests that were superseded or timed out before the handler answered. */
  lateReplies: number;
  /** Requests dropped because the host did not answer within the processing timeout. */
  unanswered: number;
}

const ABORT_SEGMENTATION_NOT_SUPPORTED = 4;
const ABORT_OUT_OF_RESOURCES = 9;
const ABORT_TSM_TIMEOUT = 10;
const ABORT_APDU_TOO_LONG = 11;
const ABORT_INVALID_APDU = 2;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}


export class ServerTsm<P = unknown> {
  readonly options: ServerTsmOptions;
  readonly counters: ServerTsmCounters = {
    requests: 0, duplicatesIgnored: 0, duplicatesAnswered: 0, segmentedResponses: 0, segmentedRequests: 0, aborts: 0, lateReplies: 0,
    unanswered: 0,
  };
  private readonly host: ServerTsmHost<P>;
  private readonly entries = new Map<string, Entry<P>>();
  private wakeHint: number | undefined;

  constructor(host: ServerTsmHost<P>, options: Partial<ServerTsmOptions> = {}) {
    this.host = host;
    this.options = { ...DEFAULT_SERVER_TSM_OPTIONS, ...options };
    this.options.maxSegments = Math.min(MAX_SEGMENTS, this.options.maxSegments);
    if (options.processingTimeout === undefined) this.options.processingTimeout = 2 * this.options.duplicateWindow;
  }

  /** Transactions held (in progress or cached). */
  get size(): number {
    return this.entries.size;
  }

  /** A Confirmed-Request, a SegmentACK (server=false) or an Abort (server=false) from `peer`. */
  receive(peer: P, peerKey: string, apdu: Apdu, now: number): boolean {
    switch (apdu.type) {
      case PduType.CONFIRMED_REQUEST:
        this.request(peer, peerKey, apdu, now);
        return true;
      case PduType.SEGMENT_ACK: {
        if (apdu.server) return false;
        const e = this.entries.get(`${peerKey}#${apdu.invokeId}`);
        if (!e || e.state !== 'sending' || !e.sender) return false;
        const next = e.sender.ack(apdu.sequenceNumber, apdu.actualWindowSize, apdu.negative);
        if (next === 'invalid') {
          this.abort(e, ABORT_INVALID_APDU, now);
          return true;
        }
        e.attempts = 0;
        if (e.sender.done) {
          e.sender = undefined;
          e.state = 'done';
          this.setDoneDeadline(e, now);
        } else {
          this.setDeadline(e, now + this.options.segmentTimeout);
          this.sendSegments(e, next);
        }
        return true;
      }
      case PduType.ABORT: {
        if (apdu.server) return false;
        const key = `${peerKey}#${apdu.invokeId}`;
        if (!this.entries.has(key)) return false;
        this.entries.delete(key);
        return true;
      }
      default:
        return false;
    }
  }

  /** The host's answer to a dispatched request. */
  respond(req: IncomingRequest<P>, response: ServerResponse, now: number): void {
    const e = this.entries.get(`${req.peerKey}#${req.invokeId}`);
    if (!e || e.request !== req || e.state !== 'processing') {
      this.counters.lateReplies++;
      return;
    }
    const o = this.options;
    let reply: Apdu;
    switch (response.kind) {
      case 'simple-ack':
        reply = { type: PduType.SIMPLE_ACK, invokeId: req.invokeId, service: req.service };
        break;
      case 'error':
        reply = { type: PduType.ERROR, invokeId: req.invokeId, service: req.service, data: response.data };
        break;
      case 'reject':
        reply = { type: PduType.REJECT, invokeId: req.invokeId, reason: response.reason };
        break;
      case 'abort':
        reply = { type: PduType.ABORT, server: true, invokeId: req.invokeId, reason: response.reason };
        break;
      case 'complex-ack': {
        const maxSend = Math.min(req.maxApdu, o.maxApdu);
        if (3 + response.data.length <= maxSend) {
          reply = { type: PduType.COMPLEX_ACK, segmented: false, moreFollows: false, invokeId: req.invokeId, service: req.service, data: response.data };
          break;
        }
        if (!req.segmentedResponseAccepted || !o.segmentedTransmit) {
          this.abort(e, ABORT_SEGMENTATION_NOT_SUPPORTED, now);
          return;
        }
        const segments = splitSegments(response.data, maxSend - 5);
        const limit = Math.min(MAX_SEGMENTS, req.maxSegments > 0 ? req.maxSegments : MAX_SEGMENTS);
        if (segments.length > limit) {
          this.abort(e, ABORT_APDU_TOO_LONG, now);
          return;
        }
        this.counters.segmentedResponses++;
        e.sender = new SegmentSender(segments, o.windowSize);
        e.state = 'sending';
        e.attempts = 0;
        this.setDeadline(e, now + o.segmentTimeout);
        this.sendSegments(e, e.sender.first());
        return;
      }
    }
    e.reply = reply;
    e.state = 'done';
    this.setDoneDeadline(e, now);
    this.host.send(req.peer, reply);
  }

  takeWakeHint(): number | undefined {
    const h = this.wakeHint;
    this.wakeHint = undefined;
    return h;
  }

  nextDeadline(): number | undefined {
    let d: number | undefined;
    for (const e of this.entries.values()) if (d === undefined || e.deadline < d) d = e.deadline;
    return d;
  }

  tick(now: number): void {
    // Deleting the entry being visited is safe while iterating a Map, and nothing below adds one.
    for (const e of this.entries.values()) {
      if (e.deadline > now) continue;
      switch (e.state) {
        case 'done':
          this.entries.delete(e.key);
          break;
        case 'processing':
          // the host never answered: forget the request (a late answer counts as lateReplies)
          this.counters.unanswered++;
          this.entries.delete(e.key);
          break;
        case 'receiving':
          this.abort(e, ABORT_TSM_TIMEOUT, now);
          break;
        case 'sending':
          if (e.attempts < this.options.retries) {
            e.attempts++;
            this.setDeadline(e, now + this.options.segmentTimeout);
            this.sendSegments(e, e.sender!.next === 0 ? e.sender!.first() : e.sender!.window());
          } else {
            this.abort(e, ABORT_TSM_TIMEOUT, now);
          }
          break;
      }
    }
  }

  // -------------------------------------------------------------------------------------------

  private setDeadline(e: Entry<P>, t: number): void {
    e.deadline = t;
    if (this.wakeHint === undefined || t < this.wakeHint) this.wakeHint = t;
  }

  /** Finished: keep the reply for duplicates for the duplicate window, rounded up to the grid. */
  private setDoneDeadline(e: Entry<P>, now: number): void {
    this.setDeadline(e, Math.ceil((now + this.options.duplicateWindow) / DONE_GRANULARITY) * DONE_GRANULARITY);
  }

  /** Forget every transaction (the endpoint is closing): answers that come later are dropped. */
  clear(): void {
    this.entries.clear();
    this.wakeHint = undefined;
  }

  private request(peer: P, peerKey: string, pdu: ConfirmedRequestPdu, now: number): void {
    const key = `${peerKey}#${pdu.invokeId}`;
    const existing = this.entries.get(key);
    const seq = pdu.segmented ? pdu.sequenceNumber ?? 0 : 0;
    if (existing) {
      if (pdu.segmented && seq > 0) {
        if (existing.state === 'receiving') this.segment(existing, pdu, now);
        return;
      }
      if (existing.fpService === pdu.service && sameBytes(existing.fpData, pdu.data)) {
        if (existing.state === 'done' && existing.reply) {
          this.counters.duplicatesAnswered++;
          this.host.send(peer, existing.reply);
        } else if (existing.state === 'receiving' && existing.receiver) {
          // the client did not get our ACK of segment 0
          this.host.send(peer, { type: PduType.SEGMENT_ACK, negative: false, server: true, invokeId: pdu.invokeId, sequenceNumber: 0, actualWindowSize: existing.receiver.actualWindow });
        } else {
          this.counters.duplicatesIgnored++;
        }
        return;
      }
      this.entries.delete(key); // a new request reusing the invoke ID
    } else if (pdu.segmented && seq > 0) {
      return; // a segment of a transaction we do not know (aborted or expired)
    }
    this.counters.requests++;
    const request: IncomingRequest<P> = {
      peer, peerKey, invokeId: pdu.invokeId, service: pdu.service, data: pdu.data,
      maxApdu: pdu.maxApdu, maxSegments: pdu.maxSegments, segmentedResponseAccepted: pdu.segmentedResponseAccepted,
    };
    if (!pdu.segmented) request.data = pdu.data.slice();
    const e: Entry<P> = {
      key, state: 'processing', request, fpService: pdu.service, fpData: pdu.segmented ? pdu.data.slice() : request.data, deadline: now, attempts: 0,
    };
    if (!this.makeRoom()) {
      this.counters.aborts++;
      this.host.send(peer, { type: PduType.ABORT, server: true, invokeId: pdu.invokeId, reason: ABORT_OUT_OF_RESOURCES });
      return;
    }
    this.entries.set(key, e);
    if (!pdu.segmented) {
      this.setDeadline(e, now + this.options.processingTimeout);
      this.host.dispatch(request);
      return;
    }
    if (!this.options.segmentedReceive) {
      this.abort(e, ABORT_SEGMENTATION_NOT_SUPPORTED, now);
      return;
    }
    this.counters.segmentedRequests++;
    e.state = 'receiving';
    e.receiver = new SegmentReceiver(pdu.proposedWindowSize ?? 1, this.options.windowSize, {
      maxSegments: this.options.maxSegments, maxBytes: this.options.maxReassembly,
    });
    this.segment(e, pdu, now);
  }

  private segment(e: Entry<P>, pdu: ConfirmedRequestPdu, now: number): void {
    const rx = e.receiver!;
    const res = rx.receive(pdu.sequenceNumber ?? 0, pdu.data, pdu.moreFollows);
    this.setDeadline(e, now + this.options.segmentTimeout * 4);
    const ack = (seq: number, negative: boolean): void => this.host.send(e.request.peer, {
      type: PduType.SEGMENT_ACK, negative, server: true, invokeId: e.request.invokeId, sequenceNumber: seq & 0xff, actualWindowSize: rx.actualWindow,
    });
    switch (res.action) {
      case 'wait':
        return;
      case 'ack':
        ack(res.sequenceNumber, res.negative);
        return;
      case 'abort':
        this.abort(e, res.reason, now);
        return;
      case 'complete':
        ack(res.sequenceNumber, false);
        e.receiver = undefined;
        e.state = 'processing';
        this.setDeadline(e, now + this.options.processingTimeout);
        e.request.data = res.data;
        this.host.dispatch(e.request);
    }
  }

  private sendSegments(e: Entry<P>, segs: SegmentOut[]): void {
    const req = e.request;
    for (const s of segs) {
      this.host.send(req.peer, {
        type: PduType.COMPLEX_ACK, segmented: true, moreFollows: s.moreFollows, invokeId: req.invokeId,
        sequenceNumber: s.sequenceNumber, proposedWindowSize: this.options.windowSize, service: req.service, data: s.data,
      });
    }
  }

  private abort(e: Entry<P>, reason: number, now: number): void {
    this.counters.aborts++;
    const reply: Apdu = { type: PduType.ABORT, server: true, invokeId: e.request.invokeId, reason };
    e.state = 'done';
    e.sender = undefined;
    e.receiver = undefined;
    e.reply = reply;
    this.setDoneDeadline(e, now);
    this.host.send(e.request.peer, reply);
  }

  /** Keep the table within its cap by dropping the oldest finished transactions. */
  private makeRoom(): boolean {
    if (this.entries.size < this.options.maxTransactions) return true;
    for (const [k, e] of this.entries) {
      if (e.state === 'done') {
        this.entries.delete(k);
        if (this.entries.size < this.options.maxTransactions) return true;
      }
    }
    return this.entries.size < this.options.maxTransactions;
  }
}
