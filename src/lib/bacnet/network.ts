/**
 * The network layer of a non-routing BACnet/IP node (ASHRAE 135-2020 Clause 6: 6.4 messages,
 * 6.5 procedures, 6.5.3 sending to a network whose router is unknown, 6.6.3 router busy).
 *
 * - A router table keyed by router address AND network number (sites reuse network numbers
 *   behind different routers): learned from I-Am-Router-To-Network and from traffic that
 *   carries SNET (a datagram from router R with SNET n means R reaches n).
 * - `whenRouted(network)`: the router for a remote network, asking with a broadcast
 *   Who-Is-Router-To-Network when none is known; callers that wait get `undefined` after the
 *   route timeout and then broadcast the NPDU with DNET (routers forward it).
 * - Reject-Message-To-Network removes the route and is reported; Router-Busy/Available mark
 *   routes (busy for at most 30 s); What-Is-Network-Number is answered when our network
 *   number is configured; Network-Number-Is teaches it otherwise.
 *
 * Sans-I/O: the host sends network messages and receives the events; `tick(now)` ends waits.
 */
import type { ResolvedAddress } from './address';
import type { NetworkMessage, Npdu } from './npdu';
import { RejectMessageReason } from './npdu';

export interface RouterEntry {
  router: ResolvedAddress;
  network: number;
  /** Set by Router-Busy-To-Network until Router-Available or `busyUntil`. */
  busyUntil?: number;
  learned: 'i-am-router' | 'traffic' | 'configured';
  updated: number;
}

export type NetworkEvent =
  | { type: 'route-learned'; entry: RouterEntry }
  | { type: 'route-rejected'; network: number; router: ResolvedAddress; reason: number; reasonName: string }
  | { type: 'router-busy'; router: ResolvedAddress; networks: number[] }
  | { type: 'router-available'; router: ResolvedAddress; networks: number[] }
  | { type: 'network-number'; network: number; configured: boolean; source: ResolvedAddress }
  | { type: 'message'; source: ResolvedAddress; message: NetworkMessage };

export interface NetworkLayerHost {
  /** Send a network-layer message: to one node, or as a local broadcast. */
  sendNetworkMessage(to: ResolvedAddress | 'broadcast', message: NetworkMessage): void;
  event(e: NetworkEvent): void;
}

export interface NetworkLayerOptions {
  /** Our own network number, when configured (answers What-Is-Network-Number). */
  localNetwork?: number;
  /** How long to wait for I-Am-Router-To-Network, ms (default 1000). */
  routeTimeout: number;
  /** Router table size cap (default 4096). */
  maxRoutes: number;
}

const BUSY_MS = 30_000;
const routerKey = (r: ResolvedAddress): string => `${r.host}:${r.port}`;

type RouteWaiter = (router: ResolvedAddress | undefined) => void;

export class NetworkLayer {
  readonly options: NetworkLayerOptions;
  /** network -> router key -> entry */
  private readonly routes = new Map<number, Map<string, RouterEntry>>();
  private routeCount = 0;
  private readonly waits = new Map<number, { until: number; waiters: RouteWaiter[] }>();
  private localNetwork: number | undefined;
  private localConfigured: boolean;
  private wakeHint: number | undefined;

  constructor(private readonly host: NetworkLayerHost, options: Partial<NetworkLayerOptions> = {}) {
    this.options = { routeTimeout: 1000, maxRoutes: 4096, ...options };
    this.localNetwork = options.localNetwork;
    this.localConfigured = options.localNetwork !== undefined;
  }

  /** Our network number (configured or learned), if known. */
  get network(): number | undefined {
    return this.localNetwork;
  }

  /** Every route, for diagnostics. */
  entries(): RouterEntry[] {
    const out: RouterEntry[] = [];
    for (const m of this.routes.values()) out.push(...m.values());
    return out;
  }

  /** Add a route by configuration (a router the user named). */
  addRoute(network: number, router: ResolvedAddress, now: number): void {
    this.learn(network, router, 'configured', now);
  }

  /** The best known router for `network` (not busy, most recently confirmed). */
  routerFor(network: number, now: number): ResolvedAddress | undefined {
    const m = this.routes.get(network);
    if (!m) return undefined;
    let best: RouterEntry | undefined;
    for (const e of m.values()) {
      const busy = e.busyUntil !== undefined && e.busyUntil > now;
      const bestBusy = best?.busyUntil !== undefined && best.busyUntil > now;
      if (!best || (bestBusy && !busy) || (busy === bestBusy && e.updated > best.updated)) best = e;
    }
    return best?.router;
  }

  /**
   * Call `cb` with the router for `network` now if known; otherwise broadcast
   * Who-Is-Router-To-Network once and call it when a router answers, or with undefined after the
   * route timeout.
   */
  whenRouted(network: number, now: number, cb: RouteWaiter): void {
    const r = this.routerFor(network, now);
    if (r) {
      cb(r);
      return;
    }
    let w = this.waits.get(network);
    if (!w) {
      w = { until: now + this.options.routeTimeout, waiters: [] };
      this.waits.set(network, w);
      this.hint(w.until);
      this.host.sendNetworkMessage('broadcast', { type: 0x00, network });
    }
    if (w.waiters.length < 65536) w.waiters.push(cb);
    else cb(undefined);
  }

  /** Learn from every received NPDU: SNET from router R means R reaches SNET. */
  observe(source: ResolvedAddress, npdu: Npdu, now: number): void {
    if (npdu.source && npdu.source.network !== this.localNetwork) this.learn(npdu.source.network, source, 'traffic', now);
  }

  /** A network-layer message from `source`. */
  receive(source: ResolvedAddress, npdu: Npdu, msg: NetworkMessage, now: number): void {
    this.host.event({ type: 'message', source, message: msg });
    switch (msg.type) {
      case 0x01: { // I-Am-Router-To-Network
        for (const n of (msg as { networks: number[] }).networks) this.learn(n, source, 'i-am-router', now);
        return;
      }
      case 0x03: { // Reject-Message-To-Network
        const { reason, network } = msg as { reason: number; network: number };
        if (reason === 2) this.busy(source, [network], now);
        else this.forget(network, source);
        this.host.event({ type: 'route-rejected', network, router: source, reason, reasonName: RejectMessageReason.label(reason) });
        return;
      }
      case 0x04: // Router-Busy-To-Network
        this.busy(source, (msg as { networks: number[] }).networks, now);
        return;
      case 0x05: { // Router-Available-To-Network
        const networks = (msg as { networks: number[] }).networks;
        for (const m of this.routes.values()) {
          for (const e of m.values()) {
            if (routerKey(e.router) === routerKey(source) && (networks.length === 0 || networks.includes(e.network))) delete e.busyUntil;
          }
        }
        this.host.event({ type: 'router-available', router: source, networks });
        return;
      }
      case 0x12: // What-Is-Network-Number
        if (this.localConfigured && this.localNetwork !== undefined && !npdu.source && !npdu.destination) {
          this.host.sendNetworkMessage('broadcast', { type: 0x13, network: this.localNetwork, configured: true });
        }
        return;
      case 0x13: { // Network-Number-Is
        const { network, configured } = msg as { network: number; configured: boolean };
        if (npdu.source || npdu.destination) return; // only meaningful from the local network
        if (!this.localConfigured) this.localNetwork = network;
        this.host.event({ type: 'network-number', network, configured, source });
        return;
      }
      default:
        // Who-Is-Router-To-Network, I-Could-Be-Router, Initialize-Routing-Table(-Ack), security and
        // connection messages are for routers: reported, otherwise ignored.
        return;
    }
  }

  takeWakeHint(): number | undefined {
    const h = this.wakeHint;
    this.wakeHint = undefined;
    return h;
  }

  nextDeadline(): number | undefined {
    let d: number | undefined;
    for (const w of this.waits.values()) if (d === undefined || w.until < d) d = w.until;
    return d;
  }

  tick(now: number): void {
    for (const [network, w] of [...this.waits]) {
      if (w.until > now) continue;
      this.waits.delete(network);
      for (const cb of w.waiters) cb(undefined);
    }
  }

  /** Drop every waiter (endpoint closing): they are called with undefined. */
  clear(): void {
    const waits = [...this.waits.values()];
    this.waits.clear();
    for (const w of waits) for (const cb of w.waiters) cb(undefined);
  }

  // -------------------------------------------------------------------------------------------

  private hint(t: number): void {
    if (this.wakeHint === undefined || t < this.wakeHint) this.wakeHint = t;
  }

  private learn(network: number, router: ResolvedAddress, how: RouterEntry['learned'], now: number): void {
    if (network === 0 || network === 0xffff) return;
    let m = this.routes.get(network);
    if (!m) {
      m = new Map();
      this.routes.set(network, m);
    }
    const k = routerKey(router);
    const existing = m.get(k);
    if (existing) {
      existing.updated = now;
      if (how !== 'traffic') existing.learned = existing.learned === 'configured' ? 'configured' : how;
    } else {
      if (this.routeCount >= this.options.maxRoutes) return;
      const entry: RouterEntry = { router: { host: router.host, port: router.port }, network, learned: how, updated: now };
      m.set(k, entry);
      this.routeCount++;
      this.host.event({ type: 'route-learned', entry });
    }
    const w = this.waits.get(network);
    if (w) {
      this.waits.delete(network);
      for (const cb of w.waiters) cb(router);
    }
  }

  private forget(network: number, router: ResolvedAddress): void {
    const m = this.routes.get(network);
    if (m?.delete(routerKey(router))) this.routeCount--;
    if (m && m.size === 0) this.routes.delete(network);
  }

  private busy(router: ResolvedAddress, networks: number[], now: number): void {
    for (const m of this.routes.values()) {
      for (const e of m.values()) {
        if (routerKey(e.router) === routerKey(router) && (networks.length === 0 || networks.includes(e.network))) e.busyUntil = now + BUSY_MS;
      }
    }
    this.host.event({ type: 'router-busy', router, networks });
  }
}
