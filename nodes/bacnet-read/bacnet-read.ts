/**
 * bacnet-read: points of a remote BACnet device into the flow. Modes: read on input, poll every
 * N seconds (shared poll groups: ReadPropertyMultiple sized to the device), COV subscription
 * (renewed, falling back to polling when the device refuses or stays silent), and discovery
 * (Who-Is list with names, or a device's full point dump). Output one msg per point (topic =
 * point name, payload = value, msg.bacnet = {device, address, objectId, property, units,
 * statusFlags, reliability, timestamp}) or one msg per device read keyed by point name.
 * Logic lives in src/lib/bacnet/client; this file maps config and msgs to it.
 */
import type { Node, NodeDef, NodeMessage, RED } from '../shared/red';
import {
  type BacnetDeviceNode, NetworkUse, deviceNode, deviceStatus, msgDevice, networkNode, networkProblem, resolveDevice, statusSetter,
} from '../shared/bacnet';
import type { BacnetNetworkNode } from '../config/bacnet-network';
import type { BacnetClient, DeviceRef, ReadResult, ResolvedDevice } from '../../src/lib/bacnet/client/client';
import {
  type PointMeta, type PointReading, type PointSpec, absorbReadings, formatPoint, needsMeta, parsePoint, pointRefs, refKey, renderValue,
} from '../../src/lib/bacnet/client/points';
import type { PropertyRef } from '../../src/lib/bacnet/client/rpm-budget';
import { type CovSubscription, processIdFor } from '../../src/lib/bacnet/client/cov-manager';
import type { PollHandle } from '../../src/lib/bacnet/client/poll-manager';
import { browseDevice, discoverDevices } from '../../src/lib/bacnet/client/discovery';
import { isOffline, shortFailure } from '../../src/lib/bacnet/client/failures';
import type { PropertyValue } from '../../src/lib/bacnet/codec/constructed';
import { formatObjectId } from '../../src/lib/bacnet/codec/js';
import { formatAddress } from '../../src/lib/bacnet/address';
import { PropertyIdentifier as P } from '../../src/lib/bacnet/enums/property-identifier';
import { errorText } from '../../src/lib/wire/errors';

type Mode = 'read' | 'poll' | 'cov' | 'whois' | 'dump';

/** A point's metadata at one device, and the last value and flags sent (for "only changes"). */
interface Meta extends PointMeta {
  last?: string;
}

interface Latest {
  value: unknown;
  bacnet: Record<string, unknown>;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T): T {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? v as T : dflt;
}

function num(v: unknown, dflt: number, min: number, what: string): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`${what} must be a number >= ${min}, not '${String(v)}'`);
  return n;
}

/** Points from the editor list (array, or its JSON text) or a msg (one or many, any spelling). */
export function parsePoints(x: unknown): PointSpec[] {
  if (x === undefined || x === null || x === '') return [];
  const v: unknown = typeof x === 'string' && x.trim().startsWith('[') ? JSON.parse(x) as unknown : x;
  const pair = Array.isArray(v) && v.length === 2 && typeof v[1] === 'number' && typeof v[0] !== 'object';
  const list: unknown[] = Array.isArray(v) && !pair ? v : [v];
  return list.map((p, i) => {
    try {
      return parsePoint(p);
    } catch (e) {
      throw new Error(`point ${i + 1}: ${errorText(e)}`);
    }
  });
}

export default function (RED: RED): void {
  function BacnetRead(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = statusSetter(node);
    let mode: Mode;
    let output: 'point' | 'device';
    let onlyChanges: boolean;
    let intervalMs: number;
    let points: PointSpec[];
    let dev: BacnetDeviceNode | undefined;
    let net: BacnetNetworkNode | undefined;
    let cov: { lifetime: number; confirmed: boolean; increment?: number };
    let whoisTimeout: number;
    let whoisRange: { low?: number; high?: number };
    try {
      mode = oneOf(config.mode, ['read', 'poll', 'cov', 'whois', 'dump'] as const, 'read');
      output = oneOf(config.output, ['point', 'device'] as const, 'point');
      onlyChanges = config.emit === 'change';
      intervalMs = num(config.interval, 10, 0.1, 'poll interval') * 1000;
      points = parsePoints(config.points);
      cov = { lifetime: Math.round(num(config.covLifetime, 300, 10, 'COV lifetime')), confirmed: config.covConfirmed === true || config.covConfirmed === 'true' };
      if (config.covIncrement !== undefined && config.covIncrement !== '') cov.increment = num(config.covIncrement, 0, 0, 'COV increment');
      whoisTimeout = num(config.whoisTimeout, 3, 0.1, 'Who-Is wait') * 1000;
      whoisRange = {};
      if (config.low !== undefined && config.low !== '') whoisRange.low = num(config.low, 0, 0, 'low limit');
      if (config.high !== undefined && config.high !== '') whoisRange.high = num(config.high, 4194303, 0, 'high limit');
      dev = deviceNode(RED, config.device);
      net = dev?.network ?? networkNode(RED, config.network);
      if (mode !== 'whois') {
        if (!dev) throw new Error('choose a bacnet-device');
        if (dev.configError || !dev.target) throw new Error(dev.configError ?? 'the bacnet-device is not usable');
      }
      if (!net) throw new Error('choose a bacnet-device (or, for a Who-Is scan, a bacnet-network)');
      if ((mode === 'poll' || mode === 'cov') && !points.length) throw new Error(`${mode === 'poll' ? 'polling' : 'COV'} needs at least one point`);
    } catch (e) {
      node.error(`bacnet-read configuration: ${errorText(e)}`);
      node.status({ fill: 'red', shape: 'ring', text: 'bad configuration' });
      return;
    }
    const network = net;
    const device = dev;
    const use = new NetworkUse(node, network, () => refresh());
    // Point metadata and latest values per device (d.key): msg.device reads other devices too.
    const meta = new Map<string, Meta>();
    const latest = new Map<string, Map<string, Latest>>();
    let resolved: ResolvedDevice | undefined;
    let poll: PollHandle | undefined;
    const subs: CovSubscription[] = [];
    let closing = false;
    let lastErrorText = '';
    let cycleNote = '';

    const metaOf = (d: ResolvedDevice, p: PointSpec): Meta => {
      const k = `${d.key}|${refKey(p)}`;
      let m = meta.get(k);
      if (!m) {
        m = {};
        if (meta.size > 10_000) meta.clear();
        meta.set(k, m);
      }
      return m;
    };
    const latestOf = (d: ResolvedDevice): Map<string, Latest> => {
      let m = latest.get(d.key);
      if (!m) {
        m = new Map();
        if (latest.size > 100) latest.clear();
        latest.set(d.key, m);
      }
      return m;
    };

    function covNote(): string {
      if (!subs.length) return '';
      const polling = subs.filter((s) => s.mode === 'polling');
      if (!polling.length) return `COV · ${subs.length} point${subs.length === 1 ? '' : 's'}`;
      return `polling ${polling.length}/${subs.length}: ${polling[0]!.reason ?? 'no COV'}`;
    }

    function refresh(): void {
      if (closing) return;
      const problem = networkProblem(use.networkState);
      if (problem) {
        status.set(problem);
        return;
      }
      if (mode === 'whois' || mode === 'dump') return;
      const st = resolved && clientRef ? clientRef.state(resolved) : undefined;
      const s = deviceStatus(st, mode === 'cov' ? covNote() : cycleNote);
      if (mode === 'cov' && st?.online && subs.some((x) => x.mode === 'polling')) s.fill = 'yellow';
      status.set(s);
    }

    let clientRef: BacnetClient | undefined;
    async function ready(): Promise<{ client: BacnetClient; d: ResolvedDevice }> {
      const client = await use.client();
      clientRef = client;
      if (!resolved || client.closed) resolved = await resolveDevice(client, device!);
      return { client, d: resolved };
    }

    // ---------------------------------------------------------------------------------------
    // Building msgs

    const refsFor = (d: ResolvedDevice, list: PointSpec[], withMeta: boolean): PropertyRef[] => pointRefs(list, (p) => metaOf(d, p), withMeta);
    const absorb = (d: ResolvedDevice, list: PointSpec[], results: Map<string, ReadResult>, markLoaded: boolean): PointReading[] =>
      absorbReadings(list, results, (p) => metaOf(d, p), markLoaded);

    function labelOf(d: ResolvedDevice, p: PointSpec): string {
      return p.name ?? metaOf(d, p).name ?? formatPoint(p);
    }

    function bacnetOf(p: PointSpec, d: ResolvedDevice, source: string, ts: number): Record<string, unknown> {
      const m = metaOf(d, p);
      const b: Record<string, unknown> = {
        device: d.instance ?? clientRef?.state(d).instance,
        address: formatAddress(d.address),
        objectId: formatObjectId(p.objectId),
        property: P.label(p.propertyId),
        units: m.units,
        unitSymbol: m.unitSymbol,
        statusFlags: m.statusFlags,
        reliability: m.reliability,
        timestamp: ts,
        source,
      };
      if (p.arrayIndex !== undefined) b.arrayIndex = p.arrayIndex;
      for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
      return b;
    }

    /** Msgs for one read of `list` (per point, or one per device); failures as text. */
    function emitRead(items: PointReading[], d: ResolvedDevice, source: string, base: NodeMessage | undefined, send: (m: NodeMessage[]) => void): string[] {
      const ts = Date.now();
      const last = latestOf(d);
      const failures: string[] = [];
      const out: NodeMessage[] = [];
      const perDevice: Record<string, unknown> = {};
      const perDeviceMeta: Record<string, unknown> = {};
      let changed = false;
      for (const it of items) {
        const label = labelOf(d, it.p);
        if (it.error) {
          failures.push(`${formatPoint(it.p)}: ${it.error.message}`);
          if (output === 'device') perDeviceMeta[label] = { ...bacnetOf(it.p, d, source, ts), error: it.error.message };
          continue;
        }
        const value = renderValue(it.p.objectId.type, it.p.propertyId, it.value!, it.p.arrayIndex);
        const bacnet = bacnetOf(it.p, d, source, ts);
        const m = metaOf(d, it.p);
        const fingerprint = JSON.stringify([value, bacnet.statusFlags]);
        const isNew = m.last !== fingerprint;
        m.last = fingerprint;
        last.set(label, { value, bacnet });
        if (isNew) changed = true;
        if (output === 'point') {
          if (onlyChanges && !isNew && source !== 'read') continue;
          const msg: NodeMessage = base ? RED.util.cloneMessage(base) : {};
          msg.topic = label;
          msg.payload = value;
          msg.bacnet = bacnet;
          out.push(msg);
        }
      }
      if (output === 'device') {
        if (!onlyChanges || changed || source === 'read') {
          for (const [k, v] of last) {
            if (!(k in perDeviceMeta) || items.some((i) => labelOf(d, i.p) === k && !i.error)) {
              perDevice[k] = v.value;
              perDeviceMeta[k] = v.bacnet;
            }
          }
          const msg: NodeMessage = base ? RED.util.cloneMessage(base) : {};
          msg.topic = d.label;
          msg.payload = perDevice;
          msg.bacnet = { device: d.instance ?? clientRef?.state(d).instance, address: formatAddress(d.address), timestamp: ts, source, points: perDeviceMeta };
          out.push(msg);
        }
      }
      if (out.length) send(out);
      return failures;
    }

    function sendOut(m: NodeMessage[]): void {
      node.send([m]);
    }

    function reportCycleError(text: string): void {
      if (text && text !== lastErrorText) node.error(`bacnet-read: ${text}`);
      lastErrorText = text;
    }

    // ---------------------------------------------------------------------------------------
    // Reading on demand

    async function readNow(list: PointSpec[], target: DeviceRef | undefined, base: NodeMessage, send: (m: NodeMessage[]) => void): Promise<string[]> {
      let { client, d } = await ready();
      if (target !== undefined) d = await client.resolve(target);
      const refs = refsFor(d, list, true);
      const res = await client.readMany(d, refs, { lane: 'poll' });
      const byKey = new Map(res.map((r) => [refKey(r.ref), r]));
      const items = absorb(d, list, byKey, true);
      refresh();
      const allOffline = items.length > 0 && items.every((i) => i.error && isOffline(i.error));
      if (allOffline) throw items[0]!.error!;
      return emitRead(items, d, 'read', base, send);
    }

    function pointsFromMsg(msg: NodeMessage): PointSpec[] | undefined {
      const b = (msg.bacnet && typeof msg.bacnet === 'object' ? msg.bacnet : {}) as Record<string, unknown>;
      if (msg.points !== undefined) return parsePoints(msg.points);
      if (b.points !== undefined) return parsePoints(b.points);
      if (b.object !== undefined || b.objectId !== undefined) return [parsePoint({ object: b.object ?? b.objectId, property: b.property, arrayIndex: b.arrayIndex })];
      return undefined;
    }

    // ---------------------------------------------------------------------------------------
    // Modes

    async function startPolling(): Promise<void> {
      const { client, d } = await ready();
      if (closing) return;
      const list = points;
      poll = client.polls.add(d, refsFor(d, list, false), intervalMs, (results, cycle) => {
        if (closing) return;
        const byKey = new Map(results.map((r) => [refKey(r.ref), r]));
        const items = absorb(d, list, byKey, false);
        cycleNote = cycle.duration > intervalMs ? `cycle ${(cycle.duration / 1000).toFixed(1)} s > interval` : '';
        const failures = emitRead(items, d, 'poll', undefined, sendOut);
        reportCycleError(failures.length ? `${failures.length} of ${list.length} point(s) failed at ${d.label}: ${failures.slice(0, 3).join('; ')}${failures.length > 3 ? '; ...' : ''}` : '');
        refresh();
        // names, units and reliability: once, and again for points in fault
        const needMeta = list.filter((p) => needsMeta(p, metaOf(d, p)));
        if (needMeta.length && !closing) {
          const extra = refsFor(d, needMeta, true).filter((r) => r.propertyId !== P.presentValue && r.propertyId !== P.statusFlags);
          if (extra.length) {
            client.readMany(d, extra, { lane: 'discovery' }).then((res) => {
              absorb(d, needMeta, new Map(res.map((r) => [refKey(r.ref), r])), true);
            }, () => undefined);
          }
        }
      });
      refresh();
    }

    async function startCov(): Promise<void> {
      const { client, d } = await ready();
      if (closing) return;
      const processId = processIdFor(node.id);
      // names and units first (best effort), then subscribe
      try {
        const res = await client.readMany(d, refsFor(d, points, true), { lane: 'cov' });
        absorb(d, points, new Map(res.map((r) => [refKey(r.ref), r])), true);
      } catch {
        // the subscriptions report their own failures
      }
      if (closing) return;
      for (const p of points) {
        const req: Parameters<BacnetClient['cov']['subscribe']>[0] = { device: d, objectId: p.objectId, processId, lifetime: cov.lifetime, confirmed: cov.confirmed, pollInterval: intervalMs };
        if (p.propertyId !== P.presentValue || cov.increment !== undefined) req.propertyId = p.propertyId;
        if (cov.increment !== undefined && p.propertyId === P.presentValue) req.covIncrement = cov.increment;
        const sub = client.cov.subscribe(req, {
          values: (vs: PropertyValue[], source) => {
            if (closing) return;
            const byKey = new Map<string, ReadResult>();
            for (const v of vs) {
              const ref: PropertyRef = v.arrayIndex !== undefined ? { objectId: p.objectId, propertyId: v.propertyId, arrayIndex: v.arrayIndex } : { objectId: p.objectId, propertyId: v.propertyId };
              byKey.set(refKey(ref), { ref, value: v.value });
            }
            if (!byKey.has(refKey(p))) return; // a notification without our property (status flags only)
            emitRead(absorb(d, [p], byKey, false), d, source, undefined, sendOut);
            refresh();
          },
          status: (s) => {
            if (s.mode === 'polling' && s.reason) node.warn(`bacnet-read: ${formatPoint(p)} at ${d.label}: ${s.reason}; polling every ${intervalMs / 1000} s instead`);
            refresh();
          },
        });
        subs.push(sub);
      }
      refresh();
    }

    function start(): void {
      const run = mode === 'poll' ? startPolling : mode === 'cov' ? startCov : undefined;
      if (!run) {
        refresh();
        return;
      }
      run().catch((e: unknown) => {
        if (closing) return;
        status.set({ fill: 'red', shape: 'ring', text: shortFailure(e) });
        node.error(`bacnet-read: ${errorText(e)}`);
        // try again later (the network or the device may come back)
        retry = setTimeout(() => {
          retry = undefined;
          resolved = undefined;
          start();
        }, Math.max(5000, intervalMs));
        retry.unref?.();
      });
    }
    let retry: ReturnType<typeof setTimeout> | undefined;

    node.on('input', (msg, send, done) => {
      const finish = (p: Promise<string[] | void>): void => {
        p.then((failures) => {
          if (failures && failures.length) done(new Error(`bacnet-read: ${failures.length} point(s) could not be read: ${failures.join('; ')}`));
          else done();
        }, (e: unknown) => {
          refresh();
          done(new Error(`bacnet-read: ${errorText(e)}`));
        });
      };
      try {
        const b = (msg.bacnet && typeof msg.bacnet === 'object' ? msg.bacnet : {}) as Record<string, unknown>;
        if (mode === 'whois') {
          const o = (msg.payload && typeof msg.payload === 'object' ? msg.payload : {}) as Record<string, unknown>;
          const opts: Parameters<BacnetClient['whoIs']>[0] = { timeout: o.timeout !== undefined ? num(o.timeout, 3, 0.1, 'timeout') * 1000 : whoisTimeout };
          const low = o.low ?? whoisRange.low;
          const high = o.high ?? whoisRange.high;
          if (low !== undefined || high !== undefined) {
            opts.low = num(low, 0, 0, 'low');
            opts.high = num(high, 4194303, 0, 'high');
          }
          if (typeof o.address === 'string' && o.address) opts.address = o.address;
          if (o.network !== undefined) opts.network = num(o.network, 0, 1, 'network');
          finish(use.client().then(async (client) => {
            clientRef = client;
            const list = await discoverDevices(client, opts);
            for (const d of list) if (d.conflicts) node.warn(`bacnet-read: duplicate device instance ${d.instance}: ${d.where} and ${d.conflicts.join(', ')}`);
            msg.topic = 'who-is';
            msg.payload = list;
            send(msg);
            status.set({ fill: 'green', shape: 'dot', text: `${list.length} device${list.length === 1 ? '' : 's'}` });
          }));
          return;
        }
        const target = msgDevice(b.device ?? msg.device);
        if (mode === 'dump') {
          finish(ready().then(async ({ client, d: own }) => {
            status.set({ fill: 'blue', shape: 'ring', text: 'reading the point list' });
            const { device: d, profile, points: list } = await browseDevice(client, target ?? own);
            msg.topic = profile.name ?? d.label;
            msg.payload = list;
            msg.bacnet = { device: profile.instance, address: formatAddress(d.address), profile, timestamp: Date.now() };
            send(msg);
            status.set({ fill: 'green', shape: 'dot', text: `${list.length} objects` });
          }));
          return;
        }
        const list = pointsFromMsg(msg) ?? points;
        if (!list.length) throw new Error('no points: configure them, or give msg.points (e.g. ["analog-input:1", "bv:2"])');
        finish(readNow(list, target, msg, (m) => send([m])));
      } catch (e) {
        done(new Error(`bacnet-read: ${errorText(e)}`));
      }
    });

    node.on('close', (_removed, done) => {
      closing = true;
      if (retry) clearTimeout(retry);
      poll?.stop();
      poll = undefined;
      status.stop();
      // Cancel the COV subscriptions on the device, best effort and briefly: a device that does
      // not answer (gone, or closing in the same deploy) must not hold up a redeploy; its lease
      // runs out by itself.
      const cancel = Promise.all(subs.splice(0).map((s) => s.cancel(true)));
      let guard: ReturnType<typeof setTimeout> | undefined;
      const bounded = Promise.race([cancel, new Promise<void>((r) => {
        guard = setTimeout(r, 600);
      })]);
      bounded.then(() => {
        if (guard) clearTimeout(guard);
        return use.close();
      }).then(() => {
        node.status({});
        done();
      }, () => done());
    });

    start();
  }
  RED.nodes.registerType('bacnet-read', BacnetRead);
}
