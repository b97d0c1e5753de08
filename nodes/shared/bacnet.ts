/**
 * Glue shared by the BACnet client nodes (bacnet-device, bacnet-read, bacnet-write): the device
 * config node's shape, registering a node with its network and getting the network's shared
 * BacnetClient, status texts (network state first, then the device: online/offline, round
 * trip, last error) at most a few times a second, and msg parsing helpers.
 */
import { type Node, type NodeStatus, type RED, optInt } from './red';
import type { BacnetNetworkNode } from '../config/bacnet-network';
import { networkStatus } from '../config/bacnet-network';
import type { SharedEndpointStatus } from '../../src/lib/bacnet/shared-endpoint';
import type { BacnetClient, DeviceRef, ResolvedDevice } from '../../src/lib/bacnet/client/client';
import type { DeviceState } from '../../src/lib/bacnet/client/device-state';
import { clientFor } from '../../src/lib/bacnet/client/shared';
import { type BacnetAddress, parseAddress } from '../../src/lib/bacnet/address';
import { errorText } from '../../src/lib/wire/errors';

/** What a bacnet-device config node offers its users. */
export interface BacnetDeviceNode extends Node {
  readonly network: BacnetNetworkNode | undefined;
  /** The device as the client takes it (undefined when the configuration is unusable). */
  readonly target: DeviceRef | undefined;
  /** 'device 1234', '192.168.1.20:47808', 'network 5 MAC 07'. */
  readonly label: string;
  /** Requests outstanding at once to this device (default 1). */
  readonly concurrency: number;
  readonly configError: string | undefined;
}

export function deviceNode(RED: RED, id: unknown): BacnetDeviceNode | undefined {
  if (typeof id !== 'string' || !id) return undefined;
  const n = RED.nodes.getNode(id) as BacnetDeviceNode | null | undefined;
  return n && n.type === 'bacnet-device' ? n : undefined;
}

export function networkNode(RED: RED, id: unknown): BacnetNetworkNode | undefined {
  if (typeof id !== 'string' || !id) return undefined;
  const n = RED.nodes.getNode(id) as BacnetNetworkNode | null | undefined;
  return n && n.type === 'bacnet-network' ? n : undefined;
}

/** Throttled node.status: the latest status wins, at most one update per `gap` ms; nothing after stop(). */
export function statusSetter(node: Node, gap = 250): { set(s: NodeStatus): void; stop(): void } {
  let last = 0;
  let pending: NodeStatus | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let shown = '';
  let stopped = false;
  const show = (s: NodeStatus): void => {
    const k = JSON.stringify(s);
    if (k === shown) return;
    shown = k;
    last = Date.now();
    node.status(s);
  };
  return {
    set(s) {
      if (stopped) return;
      const wait = last + gap - Date.now();
      if (wait <= 0 && !timer) {
        show(s);
        return;
      }
      pending = s;
      if (!timer) {
        timer = setTimeout(() => {
          timer = undefined;
          if (pending) show(pending);
          pending = undefined;
        }, Math.max(0, wait));
        timer.unref?.();
      }
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}

export function fmtRtt(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Status for a device: online with the round trip, offline or the device's last error. */
export function deviceStatus(st: DeviceState | undefined, extra = ''): NodeStatus {
  const tail = extra ? ` · ${extra}` : '';
  if (!st || st.online === undefined) return { fill: 'grey', shape: 'ring', text: `waiting${tail}` };
  if (st.online === false) return { fill: 'red', shape: 'ring', text: `offline: ${st.lastError ? short(st.lastError) : 'no reply'}` };
  const recentError = st.lastFailure !== undefined && (st.lastOk === undefined || st.lastFailure >= st.lastOk);
  if (recentError) return { fill: 'yellow', shape: 'dot', text: `online · ${short(st.lastError ?? '')}` };
  return { fill: 'green', shape: 'dot', text: `online · ${fmtRtt(st.lastRtt)}${tail}` };
}

function short(t: string): string {
  const m = /BACnet (?:error|reject|abort)[^:]*: (.*)$/.exec(t);
  const s = m ? m[1]! : /^no reply/.test(t) ? 'no reply' : t;
  return s.length > 48 ? `${s.slice(0, 45)}...` : s;
}

/**
 * A node's use of a network: register on start (the socket opens with the first user),
 * `client()` when the endpoint is open, `close()` on close. Network status (opening, port in
 * use, ...) goes to `onNetwork`; the node shows its own status once the network is open.
 */
export class NetworkUse {
  #client: Promise<BacnetClient> | undefined;
  #net: SharedEndpointStatus | undefined;
  #closed = false;

  constructor(private readonly node: Node, private readonly network: BacnetNetworkNode, private readonly onNetwork: (s: SharedEndpointStatus) => void) {}

  get networkState(): SharedEndpointStatus | undefined {
    return this.#net;
  }

  /** The network's shared client; registers this node on first use. Rejects with a readable error. */
  client(): Promise<BacnetClient> {
    if (this.#closed) return Promise.reject(new Error('the node is closing'));
    const ep = this.network.endpoint;
    if (this.#client && ep && !ep.isClosed) return this.#client;
    this.#client = this.network.register(this.node, (s) => {
      this.#net = s;
      try {
        this.onNetwork(s);
      } catch {
        // status only
      }
    }).then((endpoint) => clientFor(endpoint));
    this.#client.catch(() => {
      this.#client = undefined;
    });
    return this.#client;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#client = undefined;
    try {
      await this.network.deregister(this.node);
    } catch {
      // the network closes on its own
    }
  }
}

/** Network status for a user node, or undefined when the network is open (the node shows its own). */
export function networkProblem(s: SharedEndpointStatus | undefined): NodeStatus | undefined {
  if (!s || s.state === 'open') return undefined;
  return networkStatus(s);
}

/** Tell the client how many requests the device may have outstanding, and resolve it. */
export async function resolveDevice(client: BacnetClient, dev: BacnetDeviceNode, ref: DeviceRef = dev.target!): Promise<ResolvedDevice> {
  const d = await client.resolve(ref);
  if (dev.concurrency !== 1) client.devices.get(d.key).concurrency = dev.concurrency;
  return d;
}

/** A device given in a msg: instance number, 'host[:port]', or { instance, address } / { network, mac, host? }. */
export function msgDevice(x: unknown): DeviceRef | undefined {
  if (x === undefined || x === null || x === '') return undefined;
  if (typeof x === 'number' || typeof x === 'string') return x;
  if (typeof x === 'object') return x as DeviceRef;
  throw new Error(`msg device ${errorText(x)} is not an instance number, 'host:port' or an address object`);
}

export interface DeviceFields {
  addressing?: unknown;
  instance?: unknown;
  address?: unknown;
  dnet?: unknown;
  mac?: unknown;
  router?: unknown;
}

/** A command priority 1..16 (1 the highest), undefined when the field is empty; throws in words. */
export function optPriority(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`${what} ${JSON.stringify(v)} is outside 1..16 (priority must be 1..16, 1 the highest)`);
  return n;
}

function optText(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined;
}

/** 'host[:port]' checked (octets, port range) or an error in the words `wrong` gives. */
function ipv4(text: string, wrong: string): BacnetAddress {
  try {
    return parseAddress(text);
  } catch {
    throw new Error(wrong);
  }
}

/**
 * The device a bacnet-device config (or the same fields in an admin query) names: by instance
 * (address found by Who-Is, or given), by address 'host[:port]', or on a remote network by
 * network number + MAC (behind a router given as 'host[:port]', or found by
 * Who-Is-Router-To-Network). Throws with a readable message.
 */
export function deviceTarget(f: DeviceFields): { ref: DeviceRef; label: string } {
  const mode = optText(f.addressing) ?? 'instance';
  const instance = optInt(f.instance, 0, 4194302, 'device instance');
  const address = optText(f.address);
  if (address !== undefined) ipv4(address, `address '${address}' must be an IPv4 address with an optional port, e.g. 192.168.1.20:47808`);
  if (mode === 'routed') {
    const network = optInt(f.dnet, 1, 65534, 'network number');
    const mac = optText(f.mac);
    if (network === undefined || mac === undefined) throw new Error('a device behind a router needs its network number and MAC address');
    const router = optText(f.router);
    const a: { network: number; mac: string; host?: string; port?: number } = { network, mac };
    if (router) {
      const r = ipv4(router, `router '${router}' must be an IPv4 address with an optional port`);
      a.host = r.host!;
      // without a port the client uses the network's destination port
      if (router.includes(':')) a.port = r.port!;
    }
    const label = `${instance !== undefined ? `device ${instance}, ` : ''}network ${network} MAC ${mac}${router ? ` via ${router}` : ''}`;
    return { ref: instance !== undefined ? { instance, address: a as never } : (a as never), label };
  }
  if (mode === 'address') {
    if (address === undefined) throw new Error('give the device address (host[:port])');
    return { ref: instance !== undefined ? { instance, address } : address, label: instance !== undefined ? `device ${instance} (${address})` : address };
  }
  if (instance === undefined) throw new Error('give the device instance (0..4194302)');
  return { ref: address !== undefined ? { instance, address } : instance, label: `device ${instance}${address ? ` (${address})` : ''}` };
}
