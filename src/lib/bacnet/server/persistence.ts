/**
 * What a server keeps across restarts: the values the network (or the flow) can change on
 * writable objects (present values, priority array slots and Relinquish_Default of commandable
 * objects, and every writable configuration property; ASHRAE 135-2020 Clause 19.2 command
 * prioritization survives a restart so a building-management command is not lost), the content
 * of writable files, and objects created at runtime, so they come back.
 *
 * The snapshot is plain JSON (values as the hex of their encoding), written by the owner (the
 * bacnet-server node puts it in a file in the Node-RED user directory).
 */
import { type BacnetValue, bytesToValues, valuesToBytes } from '../codec/values';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import { formatObjectId } from '../codec/js';
import type { BacnetObject } from '../objects/object';
import { FileObject } from '../objects/file';
import type { BacnetServer } from './server';

export const SNAPSHOT_VERSION = 1;
/** Files larger than this are not kept in the snapshot. */
export const MAX_PERSISTED_FILE = 1 << 20;

export interface PersistedObject {
  /** Stored property values by property id (hex of the encoding). */
  values: Record<string, string>;
  /** Commanded priority slots (1..16) -> hex. */
  priority?: Record<string, string>;
  /** Runtime-created objects: what is needed to create them again. */
  created?: { type: number; instance: number; name: string; writable: boolean; commandable: boolean; deletable: boolean; optional: number[] };
  /** File content: hex of the stream, or of each record. */
  file?: string | string[];
}

export interface ServerSnapshot {
  version: number;
  device: number;
  objects: Record<string, PersistedObject>;
}

const hex = (vs: readonly BacnetValue[]): string => Buffer.from(valuesToBytes(vs)).toString('hex');
const unhex = (s: string): BacnetValue[] => bytesToValues(Uint8Array.from(Buffer.from(s, 'hex')));

/** Take the snapshot. `created` tells which objects were created at runtime. */
export function takeSnapshot(server: BacnetServer, created: (o: BacnetObject) => boolean): ServerSnapshot {
  const objects: Record<string, PersistedObject> = {};
  for (const o of server.db.objects()) {
    if (o === server.device) continue;
    const isCreated = created(o);
    if (!o.writable && !isCreated) continue;
    const p: PersistedObject = { values: {} };
    for (const id of o.propertyIds()) {
      const d = o.propertyDef(id);
      if (!d) continue;
      if (id === P.presentValue && o.priorityArray) continue; // the priority array holds it
      if (!isCreated && d.access === 'read') continue;
      if (id === P.objectName) continue;
      const v = id === P.relinquishDefault && o.priorityArray ? [o.priorityArray.relinquishDefault] : o.stored(id);
      if (v) p.values[String(id)] = hex(v);
    }
    if (o.priorityArray) {
      p.priority = {};
      for (const [slot, v] of o.priorityArray.commanded()) if (slot !== 6) p.priority[String(slot)] = hex([v]);
    }
    if (isCreated) {
      p.created = {
        type: o.id.type, instance: o.id.instance, name: o.name, writable: o.writable, commandable: o.commandable,
        deletable: o.deletable, optional: o.propertyIds().filter((id) => o.def.properties.find((d) => d.id === id)?.required === false),
      };
    }
    if (o instanceof FileObject && o.writable) {
      const c = o.content();
      const size = c instanceof Uint8Array ? c.length : c.reduce((n, r) => n + r.length, 0);
      if (size <= MAX_PERSISTED_FILE) p.file = c instanceof Uint8Array ? Buffer.from(c).toString('hex') : c.map((r) => Buffer.from(r).toString('hex'));
    }
    objects[formatObjectId(o.id)] = p;
  }
  return { version: SNAPSHOT_VERSION, device: server.device.id.instance, objects };
}

export interface RestoreReport {
  restored: number;
  created: number;
  /** Entries that no longer fit (object gone, type changed, invalid values): skipped, in words. */
  skipped: string[];
}

/**
 * Apply a snapshot: values onto existing writable objects, runtime-created objects made again
 * (their creation reported through `onCreated`). Nothing is sent to the network.
 */
export function restoreSnapshot(server: BacnetServer, snap: ServerSnapshot, onCreated: (o: BacnetObject) => void = () => undefined): RestoreReport {
  const report: RestoreReport = { restored: 0, created: 0, skipped: [] };
  if (!snap || snap.version !== SNAPSHOT_VERSION || typeof snap.objects !== 'object') {
    report.skipped.push('snapshot of another version');
    return report;
  }
  for (const [key, p] of Object.entries(snap.objects)) {
    try {
      let o = server.find(key);
      if (!o && p.created) {
        const c = p.created;
        o = server.addObject(c.type, {
          instance: c.instance, name: c.name, writable: c.writable, commandable: c.commandable, deletable: c.deletable, optional: c.optional,
          ...(c.type === ObjectType.file ? { access: Array.isArray(p.file) ? 'record' : 'stream' } : {}),
        } as Parameters<BacnetServer['addObject']>[1]);
        onCreated(o);
        report.created++;
      }
      if (!o) {
        report.skipped.push(`${key}: no such object any more`);
        continue;
      }
      if (!o.writable && !p.created) {
        report.skipped.push(`${key}: not writable any more`);
        continue;
      }
      for (const [id, h] of Object.entries(p.values ?? {})) {
        const pid = Number(id);
        if (!o.has(pid)) continue;
        try {
          o.setLocal(pid, unhex(h), { silent: true });
        } catch (e) {
          report.skipped.push(`${key} ${P.label(pid)}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (p.priority && o.priorityArray) {
        for (const [slot, h] of Object.entries(p.priority)) o.setLocal(P.presentValue, unhex(h), { priority: Number(slot), silent: true });
      }
      if (p.file !== undefined && o instanceof FileObject) {
        o.setContent(Array.isArray(p.file) ? p.file.map((r) => Uint8Array.from(Buffer.from(r, 'hex'))) : Uint8Array.from(Buffer.from(p.file, 'hex')));
      }
      report.restored++;
    } catch (e) {
      report.skipped.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return report;
}
