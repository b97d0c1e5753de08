/**
 * A minimal raw CA client for server tests: a TCP socket, our framer and decoder, and a queue of
 * decoded responses to wait on. Not the real client (that is the client engineer's); just enough
 * to speak exact messages at the server.
 */
import * as net from 'node:net';
import { CaFramer, decodeResponse, type CaResponse } from '../../../../src/lib/epics/ca';

export class RawClient {
  readonly socket: net.Socket;
  readonly framer = new CaFramer();
  readonly received: CaResponse[] = [];
  /** Number of 'data' events (TCP reads) seen. */
  reads = 0;
  closed = false;
  #waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reads++;
      this.framer.push(chunk);
      for (const f of this.framer.drain()) this.received.push(decodeResponse({ ...f, payload: f.payload.slice(), owned: true }));
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(...msgs: Uint8Array[]): void {
    this.socket.write(Buffer.concat(msgs));
  }

  /** Wait until `pred` holds for the received list (or the socket closes, or the timeout). */
  async until(pred: (r: CaResponse[]) => boolean, timeoutMs = 3000): Promise<CaResponse[]> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.received)) {
      if (this.closed) throw new Error(`socket closed; received ${JSON.stringify(this.received.map((r) => r.kind))}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${JSON.stringify(this.received.map((r) => r.kind))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.received;
  }

  /** Wait for the next response of `kind` after the first `from` responses. */
  async next<K extends CaResponse['kind']>(kind: K, from = 0, timeoutMs = 3000): Promise<Extract<CaResponse, { kind: K }>> {
    const rs = await this.until((r) => r.slice(from).some((m) => m.kind === kind), timeoutMs);
    return rs.slice(from).find((m) => m.kind === kind) as Extract<CaResponse, { kind: K }>;
  }

  all<K extends CaResponse['kind']>(kind: K): Array<Extract<CaResponse, { kind: K }>> {
    return this.received.filter((m): m is Extract<CaResponse, { kind: K }> => m.kind === kind);
  }

  close(): void {
    this.socket.destroy();
  }
}
