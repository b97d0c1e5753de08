/**
 * Receive buffer for stream protocols (TCP): a list of chunks as they arrived.
 *
 * A framer peeks at the header in place, asks whether a whole message is present, and takes
 * exactly that many bytes. Taking bytes that lie inside one chunk returns a view (no copy);
 * only a message that spans chunk boundaries is copied, once. Total work is linear in the bytes
 * received, however the stream is split (unlike concatenating every chunk onto one growing
 * buffer, which is quadratic for large arrays).
 */
export class ChunkQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first unread byte in chunks[0]. */
  private head = 0;
  /** Unread bytes in total. */
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }

  /** Byte at offset `i` from the read position (caller checks `i < length`). */
  byteAt(i: number): number {
    let idx = 0;
    let off = this.head + i;
    while (idx < this.chunks.length) {
      const c = this.chunks[idx]!;
      if (off < c.length) return c[off]!;
      off -= c.length;
      idx++;
    }
    return -1;
  }

  /**
   * The first `n` unread bytes without consuming them: a view when they sit in one chunk,
   * otherwise a copy (the queue is unchanged either way). Returns undefined if fewer than `n`
   * bytes are queued.
   */
  peek(n: number): Uint8Array | undefined {
    if (n > this.length) return undefined;
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let idx = 0;
    let start = this.head;
    while (filled < n) {
      const c = this.chunks[idx]!;
      const take = Math.min(c.length - start, n - filled);
      out.set(c.subarray(start, start + take), filled);
      filled += take;
      idx++;
      start = 0;
    }
    return out;
  }

  /** Consume and return the first `n` bytes (a view when possible, else one copy). */
  take(n: number): Uint8Array | undefined {
    if (n > this.length) return undefined;
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) {
      const v = first.subarray(this.head, this.head + n);
      this.advance(n);
      return v;
    }
    const out = this.peek(n)!;
    this.advance(n);
    return out;
  }

  /** Drop the first `n` bytes. */
  skip(n: number): void {
    this.advance(Math.min(n, this.length));
  }

  private advance(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const avail = c.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
    if (this.length === 0) {
      this.chunks.length = 0;
      this.head = 0;
    }
  }
}
