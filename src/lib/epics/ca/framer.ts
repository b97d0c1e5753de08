/**
 * TCP stream framing for CA virtual circuits, on a ChunkQueue.
 *
 * `push()` the bytes as they arrive; `next()` returns the next complete message, or how many
 * more bytes it needs (never an exception for a partial message). It reads the header in place,
 * checks the declared payload size against a cap before waiting for the bytes, and then takes
 * exactly header + payload: it never reads past a declared size, so a following message is
 * untouched. A message that lies in one received chunk is a view into it (no copy); one that
 * spans chunks is copied once, and the frame says so (`owned`), so that the DBR decoder can swap
 * a large array in place instead of copying it again.
 */
import { ChunkQueue } from '../../wire/chunks';
import { DecodeError } from '../../wire/errors';
import { EXTENDED_HEADER_SIZE, HEADER_SIZE } from './constants';
import { peekHeader } from './header';
import type { CaFrame } from './messages';


export type FramerResult = { frame: CaFrame } | { need: number };

export interface FramerOptions {
  /**
   * Largest payload accepted, in bytes (default 256 MiB). A header declaring more is a
   * DecodeError: the circuit should be closed, as the stream cannot be resynchronised.
   */
  maxPayload?: number;
}

export const DEFAULT_MAX_PAYLOAD = 256 * 1024 * 1024;

export class CaFramer {
  readonly #queue = new ChunkQueue();
  /** ArrayBuffers of the chunks pushed: a taken frame whose buffer is not one of them is our own copy. */
  #pushed = new WeakSet<ArrayBufferLike>();
  /** A chunk being consumed in place while nothing else is queued (fast path), and our offset in it. */
  #cur: Uint8Array | undefined;
  #curOff = 0;
  readonly maxPayload: number;
  /** Bytes consumed so far (for error offsets). */
  consumed = 0;

  constructor(opts: FramerOptions = {}) {
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.#queue.length + (this.#cur === undefined ? 0 : this.#cur.length - this.#curOff);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Fast path: with nothing queued, frames are cut straight out of this chunk (no queue work).
    if (this.#cur === undefined && this.#queue.length === 0) {
      this.#cur = chunk;
      this.#curOff = 0;
      return;
    }
    this.#spill();
    this.#pushed.add(chunk.buffer);
    this.#queue.push(chunk);
  }

  /** Move what is left of the fast-path chunk into the queue (ahead of anything newer). */
  #spill(): void {
    const cur = this.#cur;
    if (cur === undefined) return;
    this.#cur = undefined;
    if (this.#curOff < cur.length) {
      this.#pushed.add(cur.buffer);
      this.#queue.push(this.#curOff === 0 ? cur : cur.subarray(this.#curOff));
    }
  }

  /** Forget everything buffered. */
  clear(): void {
    this.#cur = undefined;
    this.#queue.clear();
    this.#pushed = new WeakSet();
  }

  /**
   * The next complete message, or `{need: n}` with the number of further bytes required.
   * Throws DecodeError only for a header whose declared size exceeds `maxPayload`.
   */
  next(): FramerResult {
    const cur = this.#cur;
    if (cur !== undefined) {
      const off = this.#curOff;
      const p = peekHeader(cur, off, cur.length);
      if (!('need' in p)) {
        const { header, size } = p;
        if (header.payloadSize > this.maxPayload) {
          throw new DecodeError('payloadSize', this.consumed + 2, `declared payload of ${header.payloadSize} bytes exceeds the limit of ${this.maxPayload}`);
        }
        const end = off + size + header.payloadSize;
        if (end <= cur.length) {
          this.consumed += end - off;
          if (end === cur.length) this.#cur = undefined;
          else this.#curOff = end;
          return { frame: { header, headerSize: size, payload: cur.subarray(off + size, end), owned: false } };
        }
      }
      this.#spill();
    }
    const q = this.#queue;
    if (q.length < HEADER_SIZE) return { need: HEADER_SIZE - q.length };
    // Peek at the largest possible header in place (a view unless it spans chunks).
    const hb = q.peek(Math.min(q.length, EXTENDED_HEADER_SIZE))!;
    const p = peekHeader(hb, 0, hb.length);
    if ('need' in p) return { need: p.need };
    const { header, size } = p;
    if (header.payloadSize > this.maxPayload) {
      throw new DecodeError('payloadSize', this.consumed + 2, `declared payload of ${header.payloadSize} bytes exceeds the limit of ${this.maxPayload}`);
    }
    const total = size + header.payloadSize;
    if (q.length < total) return { need: total - q.length };
    const bytes = q.take(total)!;
    this.consumed += total;
    const owned = !this.#pushed.has(bytes.buffer);
    return { frame: { header, headerSize: size, payload: bytes.subarray(size), owned } };
  }

  /** Every complete frame currently buffered (stops at the first partial one). */
  drain(): CaFrame[] {
    const out: CaFrame[] = [];
    for (;;) {
      const r = this.next();
      if ('need' in r) return out;
      out.push(r.frame);
    }
  }
}
