/**
 * Socket glue shared by the CA server and client: write coalescing per event-loop turn.
 *
 * `TurnWriter.write()` queues a message; the first write of a turn schedules one flush with
 * `setImmediate`, which runs after every callback, promise and timer of the current turn. The
 * flush hands everything queued to the socket in one call (one `write` of one buffer when it is
 * small, otherwise `cork()` + writes + `uncork()`, which Node turns into one `writev`). So a bulk
 * get of N PVs, or N monitor updates posted in one turn, leave in one system call.
 */
import type { Socket } from 'node:net';

/** Below this many queued bytes the flush concatenates into one buffer; above, it uses writev. */
const CONCAT_LIMIT = 64 * 1024;

export class TurnWriter {
  readonly #socket: Socket;
  #queue: Uint8Array[] = [];
  #bytes = 0;
  #scheduled: NodeJS.Immediate | undefined;
  /** Flushes performed (= socket writes) and messages written, for tests and benchmarks. */
  flushes = 0;
  messages = 0;

  readonly #onFlush: ((messages: number, bytes: number) => void) | undefined;

  /** `onFlush` is told, per socket write, how many messages and bytes it carried. */
  constructor(socket: Socket, onFlush?: (messages: number, bytes: number) => void) {
    this.#socket = socket;
    this.#onFlush = onFlush;
  }

  /** Bytes queued for this turn and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#bytes += bytes.length;
    this.messages++;
    if (!this.#scheduled) this.#scheduled = setImmediate(() => this.flush());
  }

  /** Hand the queue to the socket now (normally called by the scheduled immediate). */
  flush(): void {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const q = this.#queue;
    if (q.length === 0) return;
    this.#queue = [];
    const total = this.#bytes;
    this.#bytes = 0;
    const s = this.#socket;
    if (s.destroyed || !s.writable) return;
    this.flushes++;
    this.#onFlush?.(q.length, total);
    if (q.length === 1) {
      s.write(q[0]!);
    } else if (total <= CONCAT_LIMIT) {
      s.write(Buffer.concat(q, total));
    } else {
      s.cork();
      for (const b of q) s.write(b);
      s.uncork();
    }
  }

  /** Drop anything queued (the socket is going away). */
  discard(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    this.#queue = [];
    this.#bytes = 0;
  }
}
