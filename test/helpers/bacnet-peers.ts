/**
 * The npm BACnet libraries used as independent peers (node-bacnet, @bacnet-js/client), behind one
 * small typed facade so tests and benchmarks drive both the same way. Both descend from the same
 * JavaScript core: callback style (node-bacnet) and promise style (@bacnet-js/client).
 */
import { createSocket } from 'node:dgram';

export type PeerName = 'node-bacnet' | '@bacnet-js/client';
export const PEER_NAMES: PeerName[] = ['node-bacnet', '@bacnet-js/client'];

/** Service-event content as both libraries emit it. */
export interface PeerContent {
  header?: { sender: { address?: string; forwardedFrom?: string | null } };
  invokeId?: number;
  service?: number;
  payload: Record<string, unknown>;
}

/** The part of the peers' client classes the tests use (both share these names). */
export interface PeerClientApi {
  on(event: string, fn: (c: PeerContent) => void): void;
  whoIs(receiver?: unknown, options?: { lowLimit?: number; highLimit?: number }): void;
  iAmResponse(receiver: unknown, deviceId: number, segmentation: number, vendorId: number): void;
  readPropertyResponse(receiver: unknown, invokeId: number, objectId: unknown, property: unknown, value: unknown): void;
  readPropertyMultipleResponse(receiver: unknown, invokeId: number, values: unknown): void;
  simpleAckResponse(receiver: unknown, service: number, invokeId: number): void;
  errorResponse(receiver: unknown, service: number, invokeId: number, errorClass: number, errorCode: number): void;
  close(): void;
}

export interface Peer {
  name: PeerName;
  api: PeerClientApi;
  port: number;
  /** The library's address value for `host:port` (a string for node-bacnet, { address } for @bacnet-js/client). */
  addr(hostPort: string): unknown;
  readProperty(hostPort: string, objectId: { type: number; instance: number }, propertyId: number): Promise<{ values: Array<{ type: number; value: unknown }> }>;
  readPropertyMultiple(hostPort: string, specs: Array<{ objectId: { type: number; instance: number }; properties: Array<{ id: number }> }>): Promise<{ values: Array<{ objectId: unknown; values: Array<{ id: number; value: Array<{ type: number; value: unknown }> }> }> }>;
  writeProperty(hostPort: string, objectId: { type: number; instance: number }, propertyId: number, values: Array<{ type: number; value: unknown }>, priority?: number): Promise<void>;
  confirmedCovNotification(hostPort: string, objectId: { type: number; instance: number }, processId: number, device: number, lifetime: number, values: Array<{ property: { id: number }; value: Array<{ type: number; value: unknown }> }>): Promise<void>;
  /** Idempotent. */
  close(): void;
}

/** A free UDP port on 127.0.0.1 (the peers cannot bind port 0: they take 0 as "use 47808"). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

export function peerAvailable(name: PeerName): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function callbackToPromise<T>(f: (cb: (err: Error | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

/** Give a peer's socket a larger kernel receive buffer (both keep the dgram socket in `_transport._server`). */
function enlargeBuffer(client: unknown, bytes: number): void {
  const sock = (client as { _transport?: { _server?: { setRecvBufferSize(n: number): void } } })._transport?._server;
  try {
    sock?.setRecvBufferSize(bytes);
  } catch {
    // capped by the OS
  }
}

/**
 * Start a peer client bound to 127.0.0.1:port. `receiveBufferSize` enlarges its socket buffer
 * (benchmarks use the peers at their best: with the 208 KiB default, bursts of replies are lost).
 */
export async function startPeer(name: PeerName, port?: number, apduTimeout = 3000, receiveBufferSize?: number): Promise<Peer> {
  const p = port ?? await freePort();
  const opts = { port: p, interface: '127.0.0.1', broadcastAddress: '127.255.255.255', apduTimeout, reuseAddr: false };
  if (name === 'node-bacnet') {
    // node-bacnet ships no types: the facade above describes what is used.
    const Ctor = require('node-bacnet') as new (o: typeof opts) => unknown;
    const c = new Ctor(opts) as PeerClientApi & Record<string, (...a: unknown[]) => void>;
    await new Promise<void>((r) => c.on('listening', () => r()));
    if (receiveBufferSize) enlargeBuffer(c, receiveBufferSize);
    return {
      name, api: c, port: p,
      addr: (hp) => hp,
      readProperty: (hp, o, id) => callbackToPromise((cb) => c.readProperty!(hp, o, id, {}, cb)),
      readPropertyMultiple: (hp, specs) => callbackToPromise((cb) => c.readPropertyMultiple!(hp, specs, {}, cb)),
      writeProperty: (hp, o, id, values, priority) => callbackToPromise<void>((cb) => c.writeProperty!(hp, o, id, values, priority ? { priority } : {}, cb)),
      confirmedCovNotification: (hp, o, pid, dev, life, values) => callbackToPromise<void>((cb) => c.confirmedCOVNotification!(hp, o, pid, dev, life, values, {}, cb)),
      close: once(() => c.close()),
    };
  }
  const mod = require('@bacnet-js/client') as { default: new (o: typeof opts) => unknown };
  const c = new mod.default(opts) as PeerClientApi & Record<string, (...a: unknown[]) => Promise<unknown>>;
  await new Promise<void>((r) => c.on('listening', () => r()));
  if (receiveBufferSize) enlargeBuffer(c, receiveBufferSize);
  const a = (hp: string): { address: string } => ({ address: hp });
  return {
    name, api: c, port: p,
    addr: a,
    readProperty: (hp, o, id) => c.readProperty!(a(hp), o, id) as Promise<{ values: Array<{ type: number; value: unknown }> }>,
    readPropertyMultiple: (hp, specs) => c.readPropertyMultiple!(a(hp), specs) as ReturnType<Peer['readPropertyMultiple']>,
    writeProperty: (hp, o, id, values, priority) => c.writeProperty!(a(hp), o, id, values, priority ? { priority } : {}) as Promise<void>,
    confirmedCovNotification: (hp, o, pid, dev, life, values) => c.confirmedCOVNotification!(a(hp), o, pid, dev, life, values) as Promise<void>,
    close: once(() => c.close()),
  };
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}
