/**
 * An in-memory BACnet/IP network and a fake clock for endpoint tests: datagrams between
 * MemoryTransports are delivered on the microtask queue (no time passes), broadcasts reach every
 * transport on the same broadcast address, and hooks can drop, duplicate or record datagrams.
 *
 *   const clock = new FakeClock();
 *   const net = new MemoryNet();
 *   const a = new BacnetEndpoint(net.transport('10.0.0.1', 47808), { clock });
 *   ...
 *   await clock.advance(3000);   // runs timers due, letting deliveries happen in between
 */
import type { Clock } from '../../src/lib/bacnet/endpoint';
import type { DatagramTransport } from '../../src/lib/bacnet/transport';

export class FakeClock implements Clock {
  t = 1_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void; seq: number }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn, seq: id });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Let queued deliveries and promise callbacks run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  /** Move time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await this.settle();
    for (;;) {
      let next: { id: number; at: number; fn: () => void; seq: number } | undefined;
      for (const [id, x] of this.timers) if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = { id, ...x };
      if (!next) break;
      this.timers.delete(next.id);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await this.settle();
    }
    this.t = end;
    await this.settle();
  }
}

export interface Datagram {
  from: string;
  to: string;
  data: Uint8Array;
}

export class MemoryNet {
  private readonly nodes = new Map<string, MemoryTransport>();
  /** Return true to drop a datagram. */
  drop: (d: Datagram) => boolean = () => false;
  /** Return true to deliver a datagram twice. */
  duplicate: (d: Datagram) => boolean = () => false;
  /** Every datagram offered to the network (before drop/duplicate). */
  readonly log: Datagram[] = [];
  record = false;

  transport(host: string, port: number, broadcastAddress = '10.255.255.255'): MemoryTransport {
    const t = new MemoryTransport(this, host, port, broadcastAddress);
    this.nodes.set(`${host}:${port}`, t);
    return t;
  }

  remove(t: MemoryTransport): void {
    this.nodes.delete(`${t.local.host}:${t.local.port}`);
  }

  deliver(from: MemoryTransport, data: Uint8Array, host: string, port: number): boolean {
    const d: Datagram = { from: `${from.local.host}:${from.local.port}`, to: `${host}:${port}`, data: Uint8Array.from(data) };
    if (this.record) this.log.push(d);
    if (this.drop(d)) return true;
    const targets = host === from.broadcastAddress
      ? [...this.nodes.values()].filter((n) => n.broadcastAddress === host && n.local.port === port)
      : [this.nodes.get(`${host}:${port}`)].filter((n): n is MemoryTransport => !!n);
    const times = this.duplicate(d) ? 2 : 1;
    for (const t of targets) {
      for (let i = 0; i < times; i++) queueMicrotask(() => t.onMessage?.(Uint8Array.from(d.data), from.local.host, from.local.port));
    }
    return targets.length > 0 || host === from.broadcastAddress;
  }
}

export class MemoryTransport implements DatagramTransport {
  readonly local: { host: string; port: number };
  onMessage: ((data: Uint8Array, host: string, port: number) => void) | undefined;
  closed = false;
  /** Make every send fail (an unreachable network). */
  failSends = false;
  constructor(private readonly net: MemoryNet, host: string, port: number, readonly broadcastAddress: string) {
    this.local = { host, port };
  }
  send(data: Uint8Array, host: string, port: number, cb: (err?: Error) => void): void {
    if (this.closed || this.failSends) {
      queueMicrotask(() => cb(new Error(this.closed ? 'closed' : 'network unreachable')));
      return;
    }
    this.net.deliver(this, data, host, port);
    queueMicrotask(() => cb());
  }
  isSelf(host: string, port: number): boolean {
    return host === this.local.host && port === this.local.port;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.onMessage = undefined;
    this.net.remove(this);
  }
}
