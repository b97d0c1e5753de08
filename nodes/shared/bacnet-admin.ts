/**
 * Admin endpoints of the BACnet client nodes (editor: device discovery and the point browser),
 * permission bacnet-device.read, relative URLs from the editor:
 *
 *   GET bacnet-device/discover?network=<bacnet-network id>[&low=&high=][&address=host:port][&dnet=n][&timeout=s]
 *       Who-Is (broadcast, one remote network, or directed to one address); each device with its
 *       name, vendor and model read from its Device object.
 *   GET bacnet-device/points?network=<id>&addressing=&instance=&address=&dnet=&mac=&router=
 *   GET bacnet-device/points?device=<bacnet-device id>
 *       the device's profile and every object with name, type, units, present value, description.
 *
 * The bacnet-network must be deployed (404 says so). The endpoints use the network's socket like
 * any node: they register for the request and release it after.
 */
import type { AdminRequest, AdminResponse, Node, RED } from './red';
import type { BacnetNetworkNode } from '../config/bacnet-network';
import { type BacnetDeviceNode, deviceNode, deviceTarget, networkNode } from './bacnet';
import type { BacnetClient } from '../../src/lib/bacnet/client/client';
import { clientFor } from '../../src/lib/bacnet/client/shared';
import { browseDevice, discoverDevices } from '../../src/lib/bacnet/client/discovery';
import { errorText } from '../../src/lib/wire/errors';

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Use the network's client for one admin request: register a stand-in user, release it after. */
async function withClient<T>(net: BacnetNetworkNode, fn: (client: BacnetClient) => Promise<T>): Promise<T> {
  // a stand-in user of the network (register uses only its id and status)
  const user = { id: `bacnet-admin:${net.id}:${++seq}`, type: 'bacnet-admin', status: () => undefined } as unknown as Node;
  try {
    const ep = await net.register(user, () => undefined);
    return await fn(clientFor(ep));
  } finally {
    await net.deregister(user).catch(() => undefined);
  }
}
let seq = 0;

function q(req: AdminRequest, k: string): string | undefined {
  const v = req.query[k];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function num(req: AdminRequest, k: string, min: number, max: number): number | undefined {
  const v = q(req, k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new HttpError(400, `${k} must be a number ${min}..${max}`);
  return n;
}

function net(RED: RED, id: string | undefined): BacnetNetworkNode {
  const n = networkNode(RED, id);
  if (!n) throw new HttpError(404, 'the bacnet-network is not deployed yet: deploy it first, then scan');
  return n;
}

function handle(fn: (req: AdminRequest) => Promise<unknown>) {
  return (req: AdminRequest, res: AdminResponse): void => {
    fn(req).then((body) => res.json(body), (e: unknown) => {
      res.status(e instanceof HttpError ? e.status : 500).json({ error: errorText(e) });
    });
  };
}

async function discover(RED: RED, req: AdminRequest): Promise<unknown> {
  const network = net(RED, q(req, 'network'));
  const opts: Parameters<BacnetClient['whoIs']>[0] = { timeout: (num(req, 'timeout', 0.1, 30) ?? 3) * 1000 };
  const low = num(req, 'low', 0, 4194303);
  const high = num(req, 'high', 0, 4194303);
  if (low !== undefined || high !== undefined) {
    opts.low = low ?? 0;
    opts.high = high ?? 4194303;
  }
  const address = q(req, 'address');
  if (address) opts.address = address;
  const dnet = num(req, 'dnet', 1, 65535);
  if (dnet !== undefined) opts.network = dnet;
  return withClient(network, (client) => discoverDevices(client, opts));
}

async function points(RED: RED, req: AdminRequest): Promise<unknown> {
  const devId = q(req, 'device');
  let dev: BacnetDeviceNode | undefined;
  let network: BacnetNetworkNode;
  let ref;
  if (devId && (dev = deviceNode(RED, devId)) && dev.target && dev.network) {
    network = dev.network;
    ref = dev.target;
  } else {
    network = net(RED, q(req, 'network'));
    try {
      ref = deviceTarget({ addressing: q(req, 'addressing'), instance: q(req, 'instance'), address: q(req, 'address'), dnet: q(req, 'dnet'), mac: q(req, 'mac'), router: q(req, 'router') }).ref;
    } catch (e) {
      throw new HttpError(400, errorText(e));
    }
  }
  return withClient(network, async (client) => {
    const { device, profile, points: list } = await browseDevice(client, ref);
    return { device: { ...profile, label: device.label }, points: list };
  });
}

/** Mount the routes (the bacnet-device module does, once per runtime). */
export function installBacnetAdmin(RED: RED): void {
  const perm = RED.auth.needsPermission('bacnet-device.read');
  RED.httpAdmin.get('/bacnet-device/discover', perm, handle((req) => discover(RED, req)));
  RED.httpAdmin.get('/bacnet-device/points', perm, handle((req) => points(RED, req)));
}
