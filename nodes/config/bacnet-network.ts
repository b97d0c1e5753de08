/**
 * bacnet-network (config node): one BACnet/IP interface of this machine and the ONE endpoint
 * (one UDP socket, src/lib/bacnet/endpoint.ts) that every BACnet node using it shares. The socket
 * opens when the first node registers and closes when the last leaves or on redeploy; the status
 * (open address, "port in use" with the fix) is pushed to every user.
 *
 * API for BACnet nodes (see BacnetNetworkNode):
 *   const net = RED.nodes.getNode(config.network) as BacnetNetworkNode;
 *   net.register(node, (s) => ...)   -> Promise<BacnetEndpoint> (rejects when it cannot open)
 *   net.deregister(node)             -> Promise<void>, call from close(removed, done)
 *   net.endpoint                     the open endpoint or undefined
 *   net.settings                     interface, ports, device instance, timeouts, BBMD
 *   net.claimServer(node)            one bacnet-server per network (deregister releases it)
 *
 * Admin endpoint (GET, permission bacnet-network.read): bacnet-network/interfaces lists the
 * machine's IPv4 interfaces. The client nodes' discovery endpoints are under bacnet-device/
 * (nodes/shared/bacnet-admin.ts).
 */
import { type AdminRequest, type AdminResponse, type Node, type NodeDef, type NodeStatus, type RED, int } from '../shared/red';
import { SharedEndpoint, type SharedEndpointStatus } from '../../src/lib/bacnet/shared-endpoint';
import type { BacnetEndpoint, BacnetEndpointOptions } from '../../src/lib/bacnet/endpoint';
import { type BacnetAddress, parseAddress } from '../../src/lib/bacnet/address';
import { listInterfaces } from '../../src/lib/bacnet/transport';
import { errorText } from '../../src/lib/wire/errors';

export interface BacnetNetworkSettings {
  /** OS interface name ('' = every interface, 0.0.0.0). */
  interface: string;
  /** Local UDP port (0 = any free port). */
  port: number;
  /** Port of devices given without one and of broadcasts. */
  destinationPort: number;
  /** Our device instance when no bacnet-server is attached (I-Am, client requests). */
  deviceInstance: number;
  apduTimeout: number;
  retries: number;
  bbmd?: { host: string; port: number; ttl: number };
}

export type NetworkStatusListener = (s: SharedEndpointStatus) => void;

export interface BacnetNetworkNode extends Node {
  readonly settings: BacnetNetworkSettings;
  /** Why the configuration is unusable (register rejects with it). */
  readonly configError: string | undefined;
  readonly shared: SharedEndpoint | undefined;
  readonly endpoint: BacnetEndpoint | undefined;
  register(user: Node, onStatus?: NetworkStatusListener): Promise<BacnetEndpoint>;
  deregister(user: Node): Promise<void>;
  /** Become the bacnet-server of this network (until deregister); false when another node already is. */
  claimServer(user: Node): boolean;
  readonly serverNodeId: string | undefined;
}

/** Short status text for users of a network (the long error goes to the log once). */
export function networkStatus(s: SharedEndpointStatus): NodeStatus {
  switch (s.state) {
    case 'open': return { fill: s.warning ? 'yellow' : 'green', shape: 'dot', text: s.text };
    case 'opening': return { fill: 'yellow', shape: 'ring', text: 'opening' };
    case 'error': {
      const code = (s.error as { code?: string } | undefined)?.code;
      if (code === 'EADDRINUSE') {
        const port = (s.error as { port?: number }).port;
        return { fill: 'red', shape: 'ring', text: `UDP port ${port ?? ''} in use: choose another local port or a BBMD` };
      }
      return { fill: 'red', shape: 'ring', text: s.text.length > 80 ? `${s.text.slice(0, 77)}...` : s.text };
    }
    default: return {};
  }
}

/** Settings from the saved config (throws with a readable message). */
export function parseNetworkConfig(config: NodeDef): BacnetNetworkSettings {
  const iface = typeof config.interface === 'string' ? config.interface.trim() : '';
  const s: BacnetNetworkSettings = {
    interface: iface,
    port: int(config.port, 47808, 0, 65535, 'local port'),
    destinationPort: int(config.destinationPort, 47808, 1, 65535, 'destination port'),
    deviceInstance: int(config.deviceInstance, 4194302, 0, 4194302, 'device instance'),
    apduTimeout: int(config.apduTimeout, 3000, 100, 60000, 'APDU timeout'),
    retries: int(config.retries, 3, 0, 10, 'retries'),
  };
  const bbmd = typeof config.bbmd === 'string' ? config.bbmd.trim() : '';
  if (bbmd) {
    let a: BacnetAddress;
    try {
      a = parseAddress(bbmd);
    } catch {
      throw new Error(`BBMD '${bbmd}' must be an IPv4 address with an optional port`);
    }
    s.bbmd = { host: a.host!, port: a.port!, ttl: int(config.bbmdTtl, 300, 30, 65535, 'BBMD TTL') };
  }
  return s;
}

/** Endpoint options for the settings. */
export function endpointOptions(s: BacnetNetworkSettings): BacnetEndpointOptions {
  const o: BacnetEndpointOptions = {
    port: s.port,
    destinationPort: s.destinationPort,
    apduTimeout: s.apduTimeout,
    retries: s.retries,
    device: { instance: s.deviceInstance, vendorId: 0 },
  };
  if (s.interface) {
    o.interface = s.interface;
    o.bindInterface = true;
  }
  if (s.bbmd) o.bbmd = s.bbmd;
  return o;
}

export default function (RED: RED): void {
  function BacnetNetwork(this: BacnetNetworkNode, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as BacnetNetworkNode & {
      settings: BacnetNetworkSettings; configError: string | undefined; shared: SharedEndpoint | undefined; serverNodeId: string | undefined;
    };
    const unsubscribe = new Map<string, () => void>();
    let lastError = '';
    node.serverNodeId = undefined;
    node.configError = undefined;
    try {
      node.settings = parseNetworkConfig(config);
      // settings.js may override every network's ports (test harnesses: any free port, no broadcasts to 47808).
      const portSetting = RED.settings.bacnetNetworkPort;
      const destSetting = RED.settings.bacnetNetworkDestinationPort;
      if (portSetting !== undefined && portSetting !== '') node.settings.port = int(portSetting, 47808, 0, 65535, 'settings.bacnetNetworkPort');
      if (destSetting !== undefined && destSetting !== '') node.settings.destinationPort = int(destSetting, 47808, 1, 65535, 'settings.bacnetNetworkDestinationPort');
      node.shared = new SharedEndpoint(endpointOptions(node.settings));
      node.shared.onStatus((s) => {
        // The full text (with the fix) goes to the log once per distinct error.
        if (s.state === 'error' && s.text !== lastError) node.warn(`bacnet-network: ${s.text}`);
        if (s.state === 'open' && s.warning) node.warn(`bacnet-network: ${s.warning}`);
        lastError = s.state === 'error' ? s.text : '';
      });
    } catch (err) {
      node.settings = { interface: '', port: 47808, destinationPort: 47808, deviceInstance: 4194302, apduTimeout: 3000, retries: 3 };
      node.configError = `bacnet-network configuration: ${errorText(err)}`;
      node.shared = undefined;
      node.error(node.configError);
    }
    Object.defineProperty(node, 'endpoint', { get: () => node.shared?.endpoint, enumerable: true });

    node.register = (user, onStatus) => {
      if (!node.shared) {
        const text = node.configError ?? 'bacnet-network is not configured';
        user.status({ fill: 'red', shape: 'ring', text: 'bad network configuration' });
        return Promise.reject(new Error(text));
      }
      unsubscribe.get(user.id)?.();
      unsubscribe.set(user.id, node.shared.onStatus((s) => {
        if (onStatus) onStatus(s);
        else user.status(networkStatus(s));
      }));
      return node.shared.acquire(user.id);
    };

    node.deregister = async (user) => {
      unsubscribe.get(user.id)?.();
      unsubscribe.delete(user.id);
      if (node.serverNodeId === user.id) node.serverNodeId = undefined;
      await node.shared?.release(user.id);
    };

    node.claimServer = (user) => {
      if (node.serverNodeId && node.serverNodeId !== user.id) return false;
      node.serverNodeId = user.id;
      return true;
    };

    node.on('close', (_removed, done) => {
      for (const u of unsubscribe.values()) u();
      unsubscribe.clear();
      const shared = node.shared;
      if (!shared) return done();
      // Well within Node-RED's close timeout: the socket close is quick; never block longer than 5 s.
      const timer = setTimeout(done, 5000);
      // Users closing at the same time may still need the socket (bacnet-read cancels its COV
      // subscriptions on the device): wait for them to deregister, at most 1.5 s.
      const deadline = Date.now() + 1500;
      const drained = new Promise<void>((resolve) => {
        const check = (): void => {
          if (shared.users === 0 || Date.now() >= deadline) resolve();
          else setTimeout(check, 10);
        };
        check();
      });
      drained.then(() => shared.close()).then(() => {
        clearTimeout(timer);
        done();
      }, () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  RED.nodes.registerType('bacnet-network', BacnetNetwork);
  RED.httpAdmin.get('/bacnet-network/interfaces', RED.auth.needsPermission('bacnet-network.read'), (_req: AdminRequest, res: AdminResponse) => {
    try {
      res.json(listInterfaces().map((i) => ({ ...i, label: `${i.name} — ${i.address}/${i.netmask}, broadcast ${i.broadcast}${i.internal ? ' (loopback)' : ''}` })));
    } catch (e) {
      res.status(500).json({ error: errorText(e) });
    }
  });
}
