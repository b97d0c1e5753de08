/**
 * Message segmentation (ASHRAE 135-2020 Clauses 5.2 and 5.4): the pure window logic of one
 * segmented transfer, used per transaction by both transaction state machines (segmented
 * requests and segmented ComplexACKs, each direction).
 *
 * Sender: the first segment goes alone with the proposed window size; the receiver's first
 * SegmentACK sets the actual window size; then whole windows are sent and each SegmentACK (or
 * negative SegmentACK) moves the window to the segment after the one it acknowledges.
 *
 * Receiver: segment 0 is acknowledged at once; then an ACK ends each window and the transfer.
 * Duplicates of the last window are answered with the last ACK again; a gap gets a negative ACK
 * naming the last segment received in order. Caps per transfer: 256 segments (sequence numbers
 * never wrap), the segment count the receiver announced, and a byte budget.
 *
 * No I/O and no clock: callers pass segments in and send what the methods return.
 */

/** Largest number of segments of one message (sequence numbers 0..255, 20.1.2.7). */
export const MAX_SEGMENTS = 256;
/** Window sizes are 1..127 (20.1.2.8). */
export const MAX_WINDOW = 127;

export interface SegmentOut {
  sequenceNumber: number;
  data: Uint8Array;
  moreFollows: boolean;
}

/** Split service data into segments of at most `size` octets (at least one segment). */
export function splitSegments(data: Uint8Array, size: number): Uint8Array[] {
  if (size < 1) throw new RangeError(`segment size ${size}`);
  if (data.length === 0) return [data];
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

export class SegmentSender {
  readonly segments: Uint8Array[];
  readonly proposedWindow: number;
  actualWindow: number;
  /** Index of the first segment not yet acknowledged. */
  next = 0;
  /** True once the receiver acknowledged the last segment. */
  done = false;

  constructor(segments: Uint8Array[], proposedWindow: number) {
    this.segments = segments;
    this.proposedWindow = Math.max(1, Math.min(MAX_WINDOW, proposedWindow));
    this.actualWindow = 1;
  }

  get count(): number {
    return this.segments.length;
  }

  private segment(i: number): SegmentOut {
    return { sequenceNumber: i, data: this.segments[i]!, moreFollows: i < this.segments.length - 1 };
  }

  /** The first segment (sent alone, carrying the proposed window size). */
  first(): SegmentOut[] {
    return [this.segment(0)];
  }

  /** The segments of the current window (what to send again after a segment timeout). */
  window(): SegmentOut[] {
    const out: SegmentOut[] = [];
    const size = this.next === 0 ? 1 : this.actualWindow;
    for (let i = this.next; i < Math.min(this.segments.length, this.next + size); i++) out.push(this.segment(i));
    return out;
  }

  /**
   * Apply a SegmentACK. Returns the segments to send next ([] when the ACK is stale or the
   * transfer is complete: check `done`), or 'invalid' for an ACK of a segment never sent. A
   * negative ACK of the segment before the window asks for the window again.
   */
  ack(sequenceNumber: number, windowSize: number, negative = false): SegmentOut[] | 'invalid' {
    const lastSent = Math.min(this.segments.length, this.next + (this.next === 0 ? 1 : this.actualWindow)) - 1;
    if (sequenceNumber > lastSent) return 'invalid';
    if (sequenceNumber < this.next - 1) return []; // stale duplicate ACK
    // A repeated positive ACK of what was already acknowledged: the window is still in flight.
    if (!negative && this.next > 0 && sequenceNumber === this.next - 1) return [];
    if (windowSize < 1 || windowSize > MAX_WINDOW) return 'invalid';
    this.actualWindow = windowSize;
    this.next = sequenceNumber + 1;
    if (this.next >= this.segments.length) {
      this.done = true;
      return [];
    }
    return this.window();
  }
}

export type ReceiveResult =
  /** Nothing to send yet. */
  | { action: 'wait' }
  /** Send a SegmentACK (negative: a gap was found). */
  | { action: 'ack'; sequenceNumber: number; negative: boolean }
  /** Last segment received: send this ACK, then use `data`. */
  | { action: 'complete'; sequenceNumber: number; data: Uint8Array }
  /** Give up: send an Abort with this reason (buffer-overflow). */
  | { action: 'abort'; reason: number; text: string };

export interface ReceiverLimits {
  /** Segments the receiver said it accepts (max-segments-accepted; Infinity when unspecified). */
  maxSegments: number;
  /** Octets buffered per transfer. */
  maxBytes: number;
}

const ABORT_BUFFER_OVERFLOW = 1;

export class SegmentReceiver {
  readonly actualWindow: number;
  /** Sequence number expected next. */
  expected = 0;
  private readonly parts: Uint8Array[] = [];
  private bytes = 0;
  private windowStart = 0;
  private lastAck = -1;
  private readonly limits: ReceiverLimits;

  constructor(proposedWindow: number, ourWindow: number, limits: ReceiverLimits) {
    this.actualWindow = Math.max(1, Math.min(MAX_WINDOW, proposedWindow, ourWindow));
    this.limits = limits;
  }

  /** Take one segment (the data is copied). */
  receive(sequenceNumber: number, data: Uint8Array, moreFollows: boolean): ReceiveResult {
    if (sequenceNumber !== this.expected) {
      if (sequenceNumber < this.expected && sequenceNumber >= this.windowStart - MAX_WINDOW) {
        // A duplicate: our ACK was probably lost. Repeat it.
        return this.lastAck >= 0 ? { action: 'ack', sequenceNumber: this.lastAck, negative: false } : { action: 'wait' };
      }
      if (sequenceNumber > this.expected) {
        // A gap: the negative ACK acknowledges what arrived in order; the sender's next window starts after it.
        this.windowStart = this.expected;
        this.lastAck = this.expected - 1;
        return { action: 'ack', sequenceNumber: this.expected - 1, negative: true };
      }
      return { action: 'wait' };
    }
    if (this.expected + 1 > Math.min(MAX_SEGMENTS, this.limits.maxSegments)) {
      return { action: 'abort', reason: ABORT_BUFFER_OVERFLOW, text: `more than ${Math.min(MAX_SEGMENTS, this.limits.maxSegments)} segments` };
    }
    this.bytes += data.length;
    if (this.bytes > this.limits.maxBytes) {
      return { action: 'abort', reason: ABORT_BUFFER_OVERFLOW, text: `more than ${this.limits.maxBytes} octets` };
    }
    this.parts.push(data.slice());
    this.expected++;
    if (!moreFollows) {
      this.lastAck = sequenceNumber;
      const out = new Uint8Array(this.bytes);
      let at = 0;
      for (const p of this.parts) {
        out.set(p, at);
        at += p.length;
      }
      this.parts.length = 0;
      return { action: 'complete', sequenceNumber, data: out };
    }
    if (sequenceNumber === 0 || this.expected - this.windowStart >= this.actualWindow) {
      this.windowStart = this.expected;
      this.lastAck = sequenceNumber;
      return { action: 'ack', sequenceNumber, negative: false };
    }
    return { action: 'wait' };
  }
}
