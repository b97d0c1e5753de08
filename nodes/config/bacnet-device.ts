/**
 * bacnet-device (config node): one remote BACnet device, by instance (its address found by
 * Who-Is, or given), by address 'host[:port]', or on a remote network by network number + MAC
 * behind a router; and how many requests it may have outstanding at once (default 1: many
 * devices keep a single transaction buffer). bacnet-read and bacnet-write use it; it owns no
 * socket (the bacnet-network does). Its module also mounts the discovery and point-browser
 * admin endpoints (nodes/shared/bacnet-admin.ts).
 */
import type { NodeDef, RED } from '../shared/red';
import type { BacnetNetworkNode } from './bacnet-network';
import { type BacnetDeviceNode, deviceTarget, networkNode } from '../shared/bacnet';
import { installBacnetAdmin } from '../shared/bacnet-admin';
import type { DeviceRef } from '../../src/lib/bacnet/client/client';
import { errorText } from '../../src/lib/wire/errors';

type Writable = { -readonly [K in keyof BacnetDeviceNode]: BacnetDeviceNode[K] };

export default function (RED: RED): void {
  function BacnetDevice(this: BacnetDeviceNode, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as unknown as Writable;
    node.network = networkNode(RED, config.network) as BacnetNetworkNode | undefined;
    node.target = undefined;
    node.label = typeof config.name === 'string' && config.name ? config.name : 'BACnet device';
    node.configError = undefined;
    const c = Number(config.concurrency ?? 1);
    node.concurrency = Number.isInteger(c) && c >= 1 && c <= 16 ? c : 1;
    try {
      if (!node.network) throw new Error('choose a bacnet-network');
      const t = deviceTarget({ addressing: config.addressing, instance: config.instance, address: config.address, dnet: config.dnet, mac: config.mac, router: config.router });
      node.target = t.ref as DeviceRef;
      if (!config.name) node.label = t.label;
    } catch (e) {
      node.configError = `bacnet-device configuration: ${errorText(e)}`;
      node.error(node.configError);
    }
  }
  RED.nodes.registerType('bacnet-device', BacnetDevice);
  installBacnetAdmin(RED);
}
