/**
 * What a BACnet engineer expects from browsing a device (ASHRAE 135-2020 12.11 Device object,
 * 15.5 ReadProperty, 15.7 ReadPropertyMultiple; the degradation ladder of notes §3.2 and
 * bacnet-stack/bacnet-stack#417):
 *
 * - readObjectList: Object_List by RPM, then by RP of the whole array, then element by element
 *   (index 0 is the length), remembering per device which step worked;
 * - dump: the name, description, units and present value of every object (one set of sized
 *   RPM requests, per-property errors kept: a binary object has no units);
 * - deviceProfile: the Device object's identity, limits and Protocol_Services_Supported, which
 *   also tells the client whether to try ReadPropertyMultiple at all;
 * - browseDevice: the profile and every object's summary (the point browser, bacnet-read's dump).
 */
import type { ObjectId } from '../codec/primitives';
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { Segmentation } from '../enums/states';
import { ServicesSupported } from '../enums/services';
import { formatAddress } from '../address';
import { formatObjectId } from '../codec/js';
import { isOffline } from './failures';
import { type BacnetClient, type CallOptions, type DeviceRef, type ResolvedDevice, isResolved } from './client';
import type { ObjectListMethod } from './device-state';
import type { PropertyRef } from './rpm-budget';
import { UNIT_TYPES, renderValue, unitsOf } from './points';

const WILDCARD = 4194303;

function deviceObject(dev: ResolvedDevice): ObjectId {
  return { type: ObjectType.device, instance: dev.instance ?? WILDCARD };
}

function idsOf(values: ReadonlyArray<{ type: string; value?: unknown }>): ObjectId[] {
  const out: ObjectId[] = [];
  for (const v of values) if (v.type === 'object-identifier') out.push(v.value as ObjectId);
  return out;
}

/** The device's Object_List, by the first step of the ladder that works for it. */
export async function readObjectList(client: BacnetClient, ref: DeviceRef | ResolvedDevice, opts: CallOptions = {}): Promise<ObjectId[]> {
  const dev = isResolved(ref) ? ref : await client.resolve(ref);
  const st = client.devices.get(dev.key);
  const o: CallOptions = { lane: 'discovery', ...opts };
  const devId = deviceObject(dev);
  const ladder: ObjectListMethod[] = ['rpm', 'rp', 'index'];
  let start = st.objectList ? ladder.indexOf(st.objectList) : 0;
  if (start === 0 && st.rpm === false) start = 1;
  let last: unknown;
  for (let k = start; k < ladder.length; k++) {
    const step = ladder[k]!;
    try {
      let ids: ObjectId[];
      if (step === 'rpm') {
        const res = await client.readPropertyMultiple(dev, [{ objectId: devId, properties: [P.objectList] }], o);
        const r = res[0]?.results.find((x) => x.propertyId === P.objectList);
        if (!r || r.error || !r.value) throw new Error(r?.error ? `object-list refused in ReadPropertyMultiple (${r.error.errorClass}/${r.error.errorCode})` : 'no object-list in the answer');
        ids = idsOf(r.value);
      } else if (step === 'rp') {
        ids = idsOf(await client.readProperty(dev, devId, P.objectList, o));
      } else {
        const len = await client.readProperty(dev, devId, P.objectList, { ...o, arrayIndex: 0 });
        const n = len[0]?.type === 'unsigned' ? Number(len[0].value) : NaN;
        if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new Error(`object-list length ${String(len[0]?.type === 'unsigned' ? len[0].value : '?')} is not usable`);
        const refs: PropertyRef[] = Array.from({ length: n }, (_, i) => ({ objectId: devId, propertyId: P.objectList, arrayIndex: i + 1 }));
        const res = await client.readMany(dev, refs, o);
        const bad = res.find((r) => r.error);
        if (bad) throw bad.error;
        ids = res.flatMap((r) => idsOf(r.value ?? []));
      }
      if (st.objectList !== step) {
        st.objectList = step;
        client.devices.remember(st);
      }
      return ids;
    } catch (e) {
      last = e;
      if (isOffline(e) || (e instanceof Error && e.name === 'CancelledError')) throw e;
    }
  }
  throw last;
}

export interface PointInfo {
  /** 'analog-input:1' */
  id: string;
  objectId: ObjectId;
  type: string;
  instance: number;
  name?: string;
  description?: string;
  /** 'degrees-celsius' and '°C'. */
  units?: string;
  unitSymbol?: string;
  presentValue?: unknown;
  /** Properties the device could not give, in words. */
  errors?: Record<string, string>;
}

const NO_PRESENT_VALUE = new Set<number>([
  ObjectType.device, ObjectType.file, ObjectType.notificationClass, ObjectType.trendLog, ObjectType.trendLogMultiple,
  ObjectType.eventEnrollment, ObjectType.eventLog, ObjectType.program, ObjectType.structuredView, ObjectType.networkPort,
]);

/** Name, description, units and present value of every object of the device (or of `objects`). */
export async function dumpPoints(client: BacnetClient, ref: DeviceRef | ResolvedDevice, opts: CallOptions & { objects?: ObjectId[] } = {}): Promise<PointInfo[]> {
  const dev = isResolved(ref) ? ref : await client.resolve(ref);
  const o: CallOptions = { lane: 'discovery', ...opts };
  const ids = opts.objects ?? await readObjectList(client, dev, o);
  const refs: PropertyRef[] = [];
  const owner: number[] = [];
  ids.forEach((objectId, i) => {
    const props: number[] = [P.objectName, P.description];
    if (UNIT_TYPES.has(objectId.type)) props.push(P.units);
    if (!NO_PRESENT_VALUE.has(objectId.type)) props.push(P.presentValue);
    for (const propertyId of props) {
      refs.push({ objectId, propertyId });
      owner.push(i);
    }
  });
  const points: PointInfo[] = ids.map((objectId) => ({
    id: formatObjectId(objectId), objectId, type: ObjectType.label(objectId.type), instance: objectId.instance,
  }));
  const results = await client.readMany(dev, refs, o);
  results.forEach((r, k) => {
    const p = points[owner[k]!]!;
    const pid = r.ref.propertyId;
    if (r.error) {
      if (isOffline(r.error)) throw r.error;
      (p.errors ??= {})[P.label(pid)] = r.error.message;
      return;
    }
    const v = renderValue(r.ref.objectId.type, pid, r.value ?? []);
    if (pid === P.objectName) p.name = typeof v === 'string' ? v : String(v);
    else if (pid === P.description) p.description = typeof v === 'string' ? v : String(v);
    else if (pid === P.units) {
      const u = unitsOf(r.value);
      if (u) {
        p.units = u.units;
        if (u.unitSymbol) p.unitSymbol = u.unitSymbol;
      }
    } else p.presentValue = v;
  });
  return points;
}

export interface DeviceProfile {
  instance?: number;
  address: string;
  name?: string;
  description?: string;
  location?: string;
  vendorName?: string;
  vendorId?: number;
  modelName?: string;
  firmwareRevision?: string;
  applicationSoftwareVersion?: string;
  protocolRevision?: number;
  maxApdu?: number;
  segmentation?: string;
  /** Services the device says it executes ('read-property-multiple', ...). */
  servicesSupported?: string[];
  errors?: Record<string, string>;
}

const PROFILE = [
  P.objectIdentifier, P.objectName, P.description, P.location, P.vendorName, P.vendorIdentifier, P.modelName, P.firmwareRevision,
  P.applicationSoftwareVersion, P.protocolRevision, P.maxApduLengthAccepted, P.segmentationSupported, P.protocolServicesSupported,
];

/** The Device object's identity and limits; teaches the client what the device executes. */
export async function deviceProfile(client: BacnetClient, ref: DeviceRef | ResolvedDevice, opts: CallOptions = {}): Promise<DeviceProfile> {
  const dev = isResolved(ref) ? ref : await client.resolve(ref);
  const devId = deviceObject(dev);
  const results = await client.readMany(dev, PROFILE.map((propertyId) => ({ objectId: devId, propertyId })), { lane: 'discovery', ...opts });
  const out: DeviceProfile = { address: formatAddress(dev.address) };
  if (dev.instance !== undefined) out.instance = dev.instance;
  const st = client.devices.get(dev.key);
  for (const r of results) {
    const pid = r.ref.propertyId;
    if (r.error) {
      if (isOffline(r.error)) throw r.error;
      (out.errors ??= {})[P.label(pid)] = r.error.message;
      continue;
    }
    const values = r.value ?? [];
    const v0 = values[0];
    switch (pid) {
      case P.objectIdentifier:
        if (v0?.type === 'object-identifier') {
          out.instance = v0.value.instance;
          st.instance = v0.value.instance;
        }
        break;
      case P.objectName: out.name = String(renderValue(ObjectType.device, pid, values)); break;
      case P.description: out.description = String(renderValue(ObjectType.device, pid, values)); break;
      case P.location: out.location = String(renderValue(ObjectType.device, pid, values)); break;
      case P.vendorName: out.vendorName = String(renderValue(ObjectType.device, pid, values)); break;
      case P.modelName: out.modelName = String(renderValue(ObjectType.device, pid, values)); break;
      case P.firmwareRevision: out.firmwareRevision = String(renderValue(ObjectType.device, pid, values)); break;
      case P.applicationSoftwareVersion: out.applicationSoftwareVersion = String(renderValue(ObjectType.device, pid, values)); break;
      case P.vendorIdentifier: if (v0?.type === 'unsigned') out.vendorId = Number(v0.value); break;
      case P.protocolRevision: if (v0?.type === 'unsigned') out.protocolRevision = Number(v0.value); break;
      case P.maxApduLengthAccepted:
        if (v0?.type === 'unsigned') {
          out.maxApdu = Number(v0.value);
          st.maxApdu = out.maxApdu;
        }
        break;
      case P.segmentationSupported:
        if (v0?.type === 'enumerated') {
          out.segmentation = Segmentation.label(v0.value);
          st.segmentation = v0.value;
        }
        break;
      case P.protocolServicesSupported:
        if (v0?.type === 'bit-string') {
          const bits = v0.value;
          st.servicesSupported = bits;
          out.servicesSupported = bits.flatMap((b, i) => (b ? [ServicesSupported.label(i)] : []));
          const rpmBit = ServicesSupported.require('read-property-multiple');
          const wpmBit = ServicesSupported.require('write-property-multiple');
          if (bits.length > rpmBit && st.rpm === undefined) st.rpm = bits[rpmBit] === true;
          if (bits.length > wpmBit && st.wpm === undefined) st.wpm = bits[wpmBit] === true;
        }
        break;
      default:
        break;
    }
  }
  client.devices.remember(st);
  return out;
}

/** A point of a device as the point browser and the dump list it. */
export type PointSummary = Pick<PointInfo, 'id' | 'type' | 'instance' | 'name' | 'description' | 'units' | 'unitSymbol' | 'presentValue'>;

/** The device's profile and a summary of every object (deviceProfile, then dumpPoints). */
export async function browseDevice(client: BacnetClient, ref: DeviceRef | ResolvedDevice, opts: CallOptions = {}): Promise<{ device: ResolvedDevice; profile: DeviceProfile; points: PointSummary[] }> {
  const device = isResolved(ref) ? ref : await client.resolve(ref);
  const profile = await deviceProfile(client, device, opts);
  const list = await dumpPoints(client, device, opts);
  return {
    device,
    profile,
    points: list.map((p) => ({ id: p.id, type: p.type, instance: p.instance, name: p.name, description: p.description, units: p.units, unitSymbol: p.unitSymbol, presentValue: p.presentValue })),
  };
}

export interface DiscoveredDevice {
  instance: number;
  /** 'host:port' of the device (or of the router in front of it). */
  address?: string;
  /** Text of the full address ('network 5 MAC 07 via 192.168.1.1:47808'). */
  where: string;
  /** Remote network number and MAC (hex) for devices behind a router. */
  dnet?: number;
  mac?: string;
  maxApdu: number;
  segmentation: string;
  vendorId: number;
  name?: string;
  vendorName?: string;
  modelName?: string;
  /** Other addresses answering for the same instance (duplicates). */
  conflicts?: string[];
  /** Why the names could not be read. */
  error?: string;
}

/** Who-Is, then each answering device's name, vendor and model from its Device object. */
export async function discoverDevices(client: BacnetClient, opts: Parameters<BacnetClient['whoIs']>[0] = {}): Promise<DiscoveredDevice[]> {
  const found = await client.whoIs(opts);
  return Promise.all(found.map(async (d) => {
    const entry: DiscoveredDevice = {
      instance: d.instance, where: formatAddress(d.address), maxApdu: d.maxApdu, segmentation: Segmentation.label(d.segmentation), vendorId: d.vendorId,
    };
    if (d.address.host !== undefined) entry.address = `${d.address.host}:${d.address.port ?? client.endpoint.destinationPort}`;
    if (d.address.network !== undefined && d.address.network !== 0 && d.address.mac) {
      entry.dnet = d.address.network;
      entry.mac = [...d.address.mac].map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    if (d.conflicts?.length) entry.conflicts = d.conflicts.map((c) => formatAddress(c));
    try {
      const oid = { type: ObjectType.device, instance: d.instance };
      const res = await client.readMany({ instance: d.instance, address: d.address }, [P.objectName, P.vendorName, P.modelName].map((propertyId) => ({ objectId: oid, propertyId })), { lane: 'discovery', timeout: 1500, retries: 0 });
      const text = (i: number): string | undefined => {
        const r = res[i]!;
        const v = r.value ? renderValue(ObjectType.device, r.ref.propertyId, r.value) : undefined;
        return typeof v === 'string' ? v : undefined;
      };
      const [name, vendorName, modelName] = [text(0), text(1), text(2)];
      if (name !== undefined) entry.name = name;
      if (vendorName !== undefined) entry.vendorName = vendorName;
      if (modelName !== undefined) entry.modelName = modelName;
      const failed = res.find((r) => r.error && isOffline(r.error));
      if (failed?.error) entry.error = failed.error.message;
    } catch (e) {
      entry.error = e instanceof Error ? e.message : String(e);
    }
    return entry;
  }));
}
