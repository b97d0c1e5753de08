/**
 * Test helpers for the BACnet server core: a fake clock with timers, a network that records what
 * the server sends, and request/response codecs by service name.
 */
import { Reader } from '../../../../src/lib/wire/reader';
import { Writer } from '../../../../src/lib/wire/writer';
import { DecodeError } from '../../../../src/lib/wire/errors';
import {
  CONFIRMED_SERVICES, type ConfirmedAckOf, type ConfirmedRequestOf, type ConfirmedServiceName, type ServiceCodec,
  UNCONFIRMED_SERVICES, type UnconfirmedRequestOf, type UnconfirmedServiceName, decodeWhole,
} from '../../../../src/lib/bacnet/services/registry';
import { UnconfirmedServiceChoice } from '../../../../src/lib/bacnet/enums/services';
import { decodeServiceError, type ServiceErrorInfo } from '../../../../src/lib/bacnet/services/errors';
import type { Clock } from '../../../../src/lib/bacnet/server/database';
import type { PeerAddress, ServerNetwork } from '../../../../src/lib/bacnet/server/network';
import { BacnetServer, type ConfirmedOutcome, type ServerOptions } from '../../../../src/lib/bacnet/server/server';
import { ErrorClass, ErrorCode } from '../../../../src/lib/bacnet/enums/errors';

export class FakeClock implements Clock {
  t: number;
  #timers: Array<{ at: number; fn: () => void; seq: number }> = [];
  #seq = 0;
  constructor(start: Date | number = new Date(2024, 0, 15, 7, 0, 0)) {
    this.t = typeof start === 'number' ? start : start.getTime();
  }
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), fn, seq: this.#seq++ };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== timer);
    };
  }
  get pending(): number {
    return this.#timers.length;
  }
  /** Advance time, firing due timers in order (timers added meanwhile fire too when due). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
  /** Fire timers due now (zero-delay work such as initial COV notifications). */
  flush(): void {
    this.advance(0);
  }
}

export interface Sent {
  to: PeerAddress | 'broadcast';
  service: string;
  request: unknown;
  confirmed: boolean;
}

export class RecordingNetwork implements ServerNetwork {
  sent: Sent[] = [];
  /** Make confirmed sends fail. */
  failConfirmed = false;
  devices = new Map<number, PeerAddress>();
  sendUnconfirmed(to: PeerAddress | 'broadcast', service: UnconfirmedServiceName, request: unknown): void {
    // Encode and decode like the wire would, so a request the codec cannot write fails the test.
    const codec = UNCONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, never>;
    const w = new Writer(64);
    codec.encodeRequest(w, request);
    this.sent.push({ to, service, request: codec.decodeRequest(new Reader(w.finish())), confirmed: false });
  }
  sendConfirmed(to: PeerAddress, service: ConfirmedServiceName, request: unknown): Promise<unknown> {
    const codec = CONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
    const w = new Writer(64);
    codec.encodeRequest(w, request);
    this.sent.push({ to, service, request: codec.decodeRequest(new Reader(w.finish())), confirmed: true });
    return this.failConfirmed ? Promise.reject(new Error('timeout')) : Promise.resolve(undefined);
  }
  resolveDevice(instance: number): Promise<PeerAddress | undefined> {
    return Promise.resolve(this.devices.get(instance));
  }
  take(service?: string): Sent[] {
    const out = service ? this.sent.filter((s) => s.service === service) : this.sent;
    this.sent = service ? this.sent.filter((s) => s.service !== service) : [];
    return out;
  }
}

export const CLIENT: PeerAddress = { host: '127.0.0.1', port: 50001 };
export const OTHER: PeerAddress = { host: '127.0.0.2', port: 50002 };

export function makeServer(opts: Partial<ServerOptions> = {}, clock = new FakeClock()): { server: BacnetServer; net: RecordingNetwork; clock: FakeClock } {
  const server = new BacnetServer({ device: { instance: 1234, name: 'test-device', vendorId: 999 }, clock, ...opts });
  const net = new RecordingNetwork();
  server.setNetwork(net);
  return { server, net, clock };
}

export function encodeRequest<N extends ConfirmedServiceName>(service: N, req: ConfirmedRequestOf<N>): Uint8Array {
  const codec = CONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
  const w = new Writer(64);
  codec.encodeRequest(w, req);
  return w.finish();
}

export function encodeUnconfirmed<N extends UnconfirmedServiceName>(service: N, req: UnconfirmedRequestOf<N>): Uint8Array {
  const codec = UNCONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, never>;
  const w = new Writer(64);
  codec.encodeRequest(w, req);
  return w.finish();
}

/**
 * Deliver an unconfirmed request the way a bound endpoint does (bindServer registers every
 * service of UNCONFIRMED_HANDLERS with `endpoint.onUnconfirmed`): the whole service data is
 * decoded first, a malformed request is dropped (the endpoint counts it), then
 * `server.unconfirmed` serves it. Services without a codec are ignored, as by the endpoint.
 */
export function handleUnconfirmed(server: BacnetServer, choice: number, data: Uint8Array, source: PeerAddress, broadcast = false): void {
  const name = UnconfirmedServiceChoice.nameOf(choice) as UnconfirmedServiceName | undefined;
  const codec = name ? (UNCONFIRMED_SERVICES[name] as unknown as ServiceCodec<unknown, never> | undefined) : undefined;
  if (!name || !codec) return;
  let req: unknown;
  try {
    req = decodeWhole(data, codec.decodeRequest, codec.name);
  } catch (e) {
    if (e instanceof DecodeError) return;
    throw e;
  }
  server.unconfirmed(name, req as never, source, broadcast);
}

export type Outcome<N extends ConfirmedServiceName> =
  | { kind: 'ack'; ack: ConfirmedAckOf<N> }
  | { kind: 'simple-ack' }
  | { kind: 'error'; error: ServiceErrorInfo; className: string; codeName: string }
  | { kind: 'reject'; reason: number }
  | { kind: 'abort'; reason: number }
  | { kind: 'none' };

/** Send a confirmed request through the server and decode what comes back. */
export function call<N extends ConfirmedServiceName>(
  server: BacnetServer,
  service: N,
  req: ConfirmedRequestOf<N>,
  source: PeerAddress = CLIENT,
  maxResponse = 1476 * 64,
): Outcome<N> {
  const codec = CONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
  const out: ConfirmedOutcome = server.handleConfirmed(codec.choice, encodeRequest(service, req), { source, maxResponse });
  switch (out.kind) {
    case 'complex-ack': {
      const r = new Reader(out.data);
      const ack = codec.decodeAck!(r) as ConfirmedAckOf<N>;
      r.expectEnd('ack');
      return { kind: 'ack', ack };
    }
    case 'error': {
      const error = decodeServiceError(codec.choice, new Reader(out.data));
      return { kind: 'error', error, className: ErrorClass.label(error.errorClass), codeName: ErrorCode.label(error.errorCode) };
    }
    default:
      return out as Outcome<N>;
  }
}

/** The ACK of a call, failing the test with the outcome otherwise. */
export function ack<N extends ConfirmedServiceName>(o: Outcome<N>): ConfirmedAckOf<N> {
  if (o.kind !== 'ack') throw new Error(`expected an ACK, got ${JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  return o.ack;
}

/** 'class/code' of an error outcome, or the kind. */
export function errorOf<N extends ConfirmedServiceName>(o: Outcome<N>): string {
  return o.kind === 'error' ? `${o.className}/${o.codeName}` : o.kind;
}
