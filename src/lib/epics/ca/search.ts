/**
 * Name search scheduling without sockets or timers: which channels to search now, packed into
 * datagrams of at most 1024 bytes, with per-channel exponential back-off and a send window.
 *
 * Back-off: a channel's first search goes out at once; after its n-th search the next one is due
 * `firstPeriodMs x 2^n` later (jittered by up to +25 %), capped at `maxPeriodMs`
 * (EPICS_CA_MAX_SEARCH_PERIOD). Channels with the same number of searches share a FIFO lane (as
 * libca's search timers do), so the schedule costs O(1) per search whatever the channel count.
 * `reset()` (a beacon anomaly: a server came back) puts every waiting channel back at the start.
 *
 * Send window (UDP only): at most `window` datagrams wait for an answer at a time. Each datagram
 * carries a sequence number that servers echo in their reply's VERSION; a reply frees its slot
 * and widens the window by one (up to `maxWindow`, 64); a datagram unanswered for `slotTimeout()`
 * (a few smoothed round trips, 15 ms at least) frees its slot, and halves the window when no
 * reply at all came in meanwhile. A burst of 100,000 names therefore flows at the rate the
 * servers answer instead of overrunning their socket buffers (the lost replies epics-tca shows).
 * Names nobody serves get no reply (DONT_REPLY searches) and simply back off.
 */
import { HEADER_SIZE, MAX_UDP_SEND } from './constants';
import { pad8 } from './header';

/** What the scheduler needs of a channel; the fields starting with `search` belong to it. */
export interface Searchable {
  readonly name: string;
  readonly cid: number;
  /** Lane the channel waits in (-1: not scheduled). */
  searchLane: number;
  /** Bumped on every (re)schedule, so stale lane entries are recognised and skipped. */
  searchToken: number;
  /** Searches sent since the channel was (re)scheduled from scratch. */
  searchCount: number;
}

export interface SearchSchedulerOptions {
  /** Delay after the first search before the second, ms (doubles after each). Default 32. */
  firstPeriodMs?: number;
  /** Longest delay between two searches of one channel, ms. Default 300000. */
  maxPeriodMs?: number;
  /** Datagrams allowed in flight at first / at most / at least. Defaults 16, 64, 2 (64 x 1 KiB stays well inside a server's default 208 KiB socket buffer, measured loss-free at 100,000 names). */
  initialWindow?: number;
  maxWindow?: number;
  minWindow?: number;
  /** Whether the window applies (false when searches go only to TCP name servers). Default true. */
  windowed?: boolean;
  /** Largest datagram, bytes (default 1024, MAX_UDP_SEND). */
  maxDatagram?: number;
  /** Random source for jitter, [0, 1). */
  random?: () => number;
}

/** One datagram's worth of searches. */
export interface SearchBatch<T extends Searchable> {
  sequence: number;
  items: T[];
}

export interface SearchStats {
  datagrams: number;
  searches: number;
  /** Searches of a channel after its first (back-off repeats). */
  repeats: number;
  repliesMatched: number;
  slotTimeouts: number;
}

class Lane<T> {
  chs: T[] = [];
  dues: number[] = [];
  tokens: number[] = [];
  head = 0;

  get size(): number {
    return this.chs.length - this.head;
  }

  push(ch: T, due: number, token: number): void {
    this.chs.push(ch);
    this.dues.push(due);
    this.tokens.push(token);
  }

  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.chs.length) {
      this.chs = this.chs.slice(this.head);
      this.dues = this.dues.slice(this.head);
      this.tokens = this.tokens.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.chs = [];
    this.dues = [];
    this.tokens = [];
    this.head = 0;
  }
}

/** Bytes a SEARCH for `name` takes in a datagram. */
export function searchMessageSize(name: string): number {
  return HEADER_SIZE + pad8(Buffer.byteLength(name) + 1);
}

export class SearchScheduler<T extends Searchable> {
  readonly stats: SearchStats = { datagrams: 0, searches: 0, repeats: 0, repliesMatched: 0, slotTimeouts: 0 };
  readonly #first: number;
  readonly #max: number;
  readonly #maxWindow: number;
  readonly #minWindow: number;
  readonly #windowed: boolean;
  readonly #maxDatagram: number;
  readonly #random: () => number;
  readonly #lanes: Array<Lane<T>> = [];
  /** sequence → send time of datagrams awaiting an answer. */
  readonly #inFlight = new Map<number, number>();
  #window: number;
  #seq = 0;
  #srtt = 5;
  #lastReplyAt = -Infinity;
  #scheduled = 0;

  constructor(opts: SearchSchedulerOptions = {}) {
    this.#first = opts.firstPeriodMs ?? 32;
    this.#max = Math.max(this.#first, opts.maxPeriodMs ?? 300_000);
    this.#maxWindow = opts.maxWindow ?? 64;
    this.#minWindow = opts.minWindow ?? 2;
    this.#window = Math.min(this.#maxWindow, opts.initialWindow ?? 16);
    this.#windowed = opts.windowed ?? true;
    this.#maxDatagram = opts.maxDatagram ?? MAX_UDP_SEND;
    this.#random = opts.random ?? Math.random;
    // Lanes up to the one whose period reaches the ceiling, plus that one.
    let n = 1;
    while (this.#first * 2 ** (n - 1) < this.#max) n++;
    for (let i = 0; i <= n; i++) this.#lanes.push(new Lane<T>());
  }

  /** Channels waiting for a search (stale entries excluded). */
  get scheduled(): number {
    return this.#scheduled;
  }

  get window(): number {
    return this.#window;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Smoothed datagram round trip, ms. */
  get srtt(): number {
    return this.#srtt;
  }

  /** How long an unanswered datagram holds its slot, ms. */
  slotTimeout(): number {
    return Math.min(1000, Math.max(15, 4 * this.#srtt + 5));
  }

  /** Delay before the search after `count` searches (without jitter). */
  period(count: number): number {
    return Math.min(this.#max, this.#first * 2 ** Math.max(0, count - 1));
  }

  /**
   * Schedule a channel: its first search after `delayMs` (0 = at the next tick), continuing its
   * back-off from `count` searches already made (0 = from the start).
   */
  add(ch: T, now: number, delayMs = 0, count = 0): void {
    if (ch.searchLane >= 0) this.#scheduled--;
    ch.searchToken = (ch.searchToken + 1) | 0;
    ch.searchCount = count;
    const lane = Math.min(count, this.#lanes.length - 1);
    ch.searchLane = lane;
    this.#lanes[lane]!.push(ch, now + delayMs, ch.searchToken);
    this.#scheduled++;
  }

  /** Stop searching for a channel (found, or cleared). */
  remove(ch: T): void {
    if (ch.searchLane < 0) return;
    ch.searchLane = -1;
    ch.searchToken = (ch.searchToken + 1) | 0;
    this.#scheduled--;
  }

  /**
   * Search every waiting channel again from the start, each within `spreadMs` (jittered, so that
   * many clients seeing the same beacon do not search in the same millisecond).
   */
  reset(now: number, spreadMs = 0): number {
    const all: T[] = [];
    for (const lane of this.#lanes) {
      for (let i = lane.head; i < lane.chs.length; i++) {
        const ch = lane.chs[i]!;
        if (lane.tokens[i] === ch.searchToken && ch.searchLane >= 0) all.push(ch);
      }
      lane.clear();
    }
    this.#scheduled = 0;
    for (const ch of all) {
      ch.searchLane = -1;
      this.add(ch, now, spreadMs > 0 ? this.#random() * spreadMs : 0, 0);
    }
    return all.length;
  }

  /** A reply datagram echoed `sequence`: free its slot, learn the round trip. */
  reply(sequence: number, now: number): void {
    const sent = this.#inFlight.get(sequence);
    this.#lastReplyAt = now;
    if (sent === undefined) return;
    this.#inFlight.delete(sequence);
    this.stats.repliesMatched++;
    const rtt = Math.max(0, now - sent);
    this.#srtt += (rtt - this.#srtt) / 8;
    if (this.#window < this.#maxWindow) this.#window++;
  }

  #expire(now: number): void {
    if (this.#inFlight.size === 0) return;
    const limit = this.slotTimeout();
    for (const [seq, sent] of this.#inFlight) {
      if (now - sent < limit) break; // insertion order = send order
      this.#inFlight.delete(seq);
      this.stats.slotTimeouts++;
      if (this.#lastReplyAt < sent) this.#window = Math.max(this.#minWindow, this.#window >> 1);
    }
  }

  /** Drop stale entries at the head of a lane; true when a live entry is left at its head. */
  #cleanHead(lane: Lane<T>, index: number): boolean {
    while (lane.head < lane.chs.length) {
      const ch = lane.chs[lane.head]!;
      if (lane.tokens[lane.head] === ch.searchToken && ch.searchLane === index) return true;
      lane.shift();
    }
    return false;
  }

  /**
   * The datagrams to send now. Call again when `nextWake` says so, or after `reply`. `udp` false:
   * they go to TCP name servers only (the UDP socket is not open), so they take no window slot.
   */
  tick(now: number, udp = true): Array<SearchBatch<T>> {
    this.#expire(now);
    const out: Array<SearchBatch<T>> = [];
    const windowed = this.#windowed && udp;
    let slots = windowed ? this.#window - this.#inFlight.size : Infinity;
    let items: T[] = [];
    let size = HEADER_SIZE; // the VERSION that starts each datagram
    const emit = (): void => {
      if (items.length === 0) return;
      const sequence = this.#seq;
      this.#seq = (this.#seq + 1) >>> 0;
      out.push({ sequence, items });
      if (windowed) this.#inFlight.set(sequence, now);
      this.stats.datagrams++;
      slots--;
      items = [];
      size = HEADER_SIZE;
    };
    const minGap = this.slotTimeout();
    outer: for (let li = 0; li < this.#lanes.length; li++) {
      const lane = this.#lanes[li]!;
      while (slots > 0 && this.#cleanHead(lane, li)) {
        if (lane.dues[lane.head]! > now) break;
        const ch = lane.chs[lane.head]!;
        const msg = searchMessageSize(ch.name);
        if (size + msg > this.#maxDatagram) {
          emit();
          if (slots <= 0) break outer;
        }
        lane.shift();
        items.push(ch);
        size += msg;
        this.stats.searches++;
        if (ch.searchCount > 0) this.stats.repeats++;
        // Reschedule in the next lane.
        const count = ch.searchCount + 1;
        const next = Math.min(count, this.#lanes.length - 1);
        const delay = Math.max(minGap, this.period(count) * (1 + 0.25 * this.#random()));
        ch.searchCount = count;
        ch.searchLane = next;
        ch.searchToken = (ch.searchToken + 1) | 0;
        this.#lanes[next]!.push(ch, now + delay, ch.searchToken);
      }
    }
    emit(); // the last, partly filled datagram (the window is a soft limit for it)
    return out;
  }

  /** Milliseconds until `tick` has something to do (undefined: nothing scheduled). */
  nextWake(now: number): number | undefined {
    let due = Infinity;
    for (let li = 0; li < this.#lanes.length; li++) {
      const lane = this.#lanes[li]!;
      if (this.#cleanHead(lane, li)) due = Math.min(due, lane.dues[lane.head]!);
    }
    if (due === Infinity) return undefined;
    let at = due;
    if (this.#windowed && this.#inFlight.size >= this.#window) {
      // Blocked by the window: wake when the oldest datagram's slot expires.
      const oldest = this.#inFlight.values().next().value as number;
      at = Math.max(at, oldest + this.slotTimeout());
    }
    return Math.max(0, at - now);
  }
}
