/**
 * What we know of the devices on the network (ASHRAE 135-2020 Clause 16.10 I-Am, 12.11 Device
 * object): instance -> address (IP:port, or network + MAC behind a router), max APDU,
 * segmentation, vendor, last seen. Both the client (addressing by instance) and the server
 * (whom it talks to) use it.
 *
 * Duplicate device instances (one instance heard from two addresses) are detected and kept:
 * the first address stays the device's address and the conflict is reported with both
 * addresses; the last I-Am never silently wins. `forget(instance)` lets a moved device be
 * learned again. The cache is bounded (least recently seen devices are evicted). A max APDU
 * outside what B/IP allows is clamped to 50..1476 (`clampMaxApdu`).
 */
import { type BacnetAddress, addressKey, formatAddress } from './address';
import type { IAmRequest } from './services/who-is';

export interface DeviceInfo {
  instance: number;
  address: BacnetAddress;
  maxApdu: number;
  /** BACnetSegmentation: 0 both, 1 transmit, 2 receive, 3 none. */
  segmentation: number;
  vendorId: number;
  /** ms timestamp of the last I-Am (or update). */
  lastSeen: number;
  /** Other addresses that claimed the same instance. */
  conflicts?: BacnetAddress[];
}

export interface DuplicateDevice {
  instance: number;
  /** The address the cache keeps. */
  address: BacnetAddress;
  /** The address that claimed the same instance. */
  other: BacnetAddress;
  text: string;
}

/** Smallest and largest max-APDU-length-accepted on BACnet/IP (20.1.2.5; Annex J). */
export const MIN_MAX_APDU = 50;
export const MAX_MAX_APDU = 1476;

/**
 * A max APDU announced by a device, within MIN_MAX_APDU..MAX_MAX_APDU: an I-Am with 0 or 5 would
 * leave no room for a segment of a request, one above 1476 does not fit a B/IP datagram.
 */
export function clampMaxApdu(n: number): number {
  if (!Number.isFinite(n) || n < MIN_MAX_APDU) return MIN_MAX_APDU;
  return Math.min(MAX_MAX_APDU, Math.floor(n));
}

export class DeviceCache {
  private readonly byInstance = new Map<number, DeviceInfo>();
  private readonly byAddress = new Map<string, DeviceInfo>();
  constructor(readonly maxDevices = 65536) {}

  get size(): number {
    return this.byInstance.size;
  }

  get(instance: number): DeviceInfo | undefined {
    return this.byInstance.get(instance);
  }

  /** The device at an address (by logical address key). */
  atAddress(a: BacnetAddress): DeviceInfo | undefined {
    return this.byAddress.get(addressKey(a));
  }

  all(): DeviceInfo[] {
    return [...this.byInstance.values()].sort((a, b) => a.instance - b.instance);
  }

  /** Record an I-Am heard from `address`. Returns the entry and a duplicate report when there is one. */
  update(iAm: IAmRequest, address: BacnetAddress, now: number): { device: DeviceInfo; duplicate?: DuplicateDevice } {
    const instance = iAm.deviceId.instance;
    const key = addressKey(address);
    const known = this.byInstance.get(instance);
    if (known && addressKey(known.address) !== key) {
      known.conflicts ??= [];
      if (!known.conflicts.some((c) => addressKey(c) === key)) known.conflicts.push(address);
      return {
        device: known,
        duplicate: {
          instance, address: known.address, other: address,
          text: `duplicate device instance ${instance}: answered from ${formatAddress(known.address)} and from ${formatAddress(address)} (keeping the first)`,
        },
      };
    }
    const maxApdu = clampMaxApdu(iAm.maxApdu);
    const device: DeviceInfo = known ?? { instance, address, maxApdu, segmentation: iAm.segmentation, vendorId: iAm.vendorId, lastSeen: now };
    device.address = address;
    device.maxApdu = maxApdu;
    device.segmentation = iAm.segmentation;
    device.vendorId = iAm.vendorId;
    device.lastSeen = now;
    // re-insert to keep the maps in least-recently-seen order
    this.byInstance.delete(instance);
    this.byInstance.set(instance, device);
    this.byAddress.set(key, device);
    if (this.byInstance.size > this.maxDevices) {
      const oldest = this.byInstance.values().next().value as DeviceInfo;
      this.forget(oldest.instance);
    }
    return { device };
  }

  /** Set or correct what is known of a device (e.g. from its Device object). */
  set(device: DeviceInfo): void {
    const old = this.byInstance.get(device.instance);
    if (old) this.byAddress.delete(addressKey(old.address));
    this.byInstance.set(device.instance, device);
    this.byAddress.set(addressKey(device.address), device);
  }

  forget(instance: number): boolean {
    const d = this.byInstance.get(instance);
    if (!d) return false;
    this.byInstance.delete(instance);
    if (this.byAddress.get(addressKey(d.address)) === d) this.byAddress.delete(addressKey(d.address));
    return true;
  }

  clear(): void {
    this.byInstance.clear();
    this.byAddress.clear();
  }
}
