/**
 * bacnet-write: commands a property of a remote BACnet device. msg.payload is the value, typed
 * from the object type and property (analog -> REAL, binary -> ENUMERATED from true/false/
 * 'active'/'on', multi-state -> Unsigned, strings, dates); null or msg.relinquish writes the
 * NULL tag at the priority (a relinquish, 19.2); msg.priority 1..16 (default from the dialog,
 * 16). An array of {object, property, value, priority} writes them in one
 * WritePropertyMultiple. Optional read-back of present value and priority array. Failures reach
 * Catch nodes with the BACnet error class/code or the reject/abort reason in words.
 */
import type { Node, NodeDef, NodeMessage, RED } from '../shared/red';
import { type BacnetDeviceNode, NetworkUse, deviceNode, fmtRtt, msgDevice, networkProblem, optPriority, resolveDevice, statusSetter } from '../shared/bacnet';
import type { BacnetClient, ResolvedDevice, WriteSpec } from '../../src/lib/bacnet/client/client';
import { type PointSpec, formatPoint, parsePoint, renderValue } from '../../src/lib/bacnet/client/points';
import { describeFailure } from '../../src/lib/bacnet/client/failures';
import { type BacnetValue, valueToJs } from '../../src/lib/bacnet/codec/values';
import { type Datatype } from '../../src/lib/bacnet/codec/datatypes';
import { formatObjectId, jsToValues, parsePropertyId } from '../../src/lib/bacnet/codec/js';
import { formatAddress } from '../../src/lib/bacnet/address';
import { PropertyIdentifier as P } from '../../src/lib/bacnet/enums/property-identifier';
import { errorText } from '../../src/lib/wire/errors';

const PRIMITIVE_TYPES = ['null', 'boolean', 'unsigned', 'signed', 'real', 'double', 'octet-string', 'character-string', 'enumerated', 'bit-string', 'date', 'time', 'object-identifier'] as const;

/** An explicit application type for msg.bacnet.type ('real', 'unsigned', 'enumerated', ...). */
function typed(value: unknown, type: unknown): unknown {
  if (type === undefined || type === null || type === '') return value;
  if (typeof type !== 'string' || !(PRIMITIVE_TYPES as readonly string[]).includes(type)) {
    throw new Error(`msg.bacnet.type ${JSON.stringify(type)} is not one of ${PRIMITIVE_TYPES.join(', ')}`);
  }
  if (value === null) return null;
  return jsToValues(value, { kind: type } as Datatype, 'the value');
}

function looksLikeWrites(x: unknown): x is Array<Record<string, unknown>> {
  return Array.isArray(x) && x.length > 0 && x.every((w) => w && typeof w === 'object' && !Array.isArray(w) && 'value' in w && ('object' in w || 'objectId' in w));
}

export default function (RED: RED): void {
  function BacnetWrite(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = statusSetter(node);
    let point: PointSpec | undefined;
    let priority: number | undefined;
    let readBack: boolean;
    let dev: BacnetDeviceNode | undefined;
    try {
      dev = deviceNode(RED, config.device);
      if (!dev) throw new Error('choose a bacnet-device');
      if (dev.configError || !dev.target || !dev.network) throw new Error(dev.configError ?? 'the bacnet-device is not usable');
      const obj = typeof config.object === 'string' ? config.object.trim() : '';
      if (obj) point = parsePoint({ object: obj, property: config.property || 'present-value', arrayIndex: config.arrayIndex });
      priority = optPriority(config.priority === undefined ? 16 : config.priority, 'priority');
      readBack = config.readBack === true || config.readBack === 'true';
    } catch (e) {
      node.error(`bacnet-write configuration: ${errorText(e)}`);
      node.status({ fill: 'red', shape: 'ring', text: 'bad configuration' });
      return;
    }
    const device = dev;
    let resolved: ResolvedDevice | undefined;
    const use = new NetworkUse(node, device.network!, () => {
      const p = networkProblem(use.networkState);
      if (p) status.set(p);
    });
    async function ready(): Promise<{ client: BacnetClient; d: ResolvedDevice }> {
      const client = await use.client();
      if (!resolved) resolved = await resolveDevice(client, device);
      return { client, d: resolved };
    }

    async function readBackOf(client: BacnetClient, d: ResolvedDevice, p: PointSpec): Promise<Record<string, unknown>> {
      const props = [P.presentValue, P.priorityArray, P.relinquishDefault];
      const res = await client.readMany(d, props.map((propertyId) => ({ objectId: p.objectId, propertyId })), { lane: 'write' });
      const out: Record<string, unknown> = {};
      const names = ['presentValue', 'priorityArray', 'relinquishDefault'];
      res.forEach((r, i) => {
        if (r.value) out[names[i]!] = renderValue(p.objectId.type, r.ref.propertyId, r.value);
      });
      return out;
    }

    const js = (vs: BacnetValue[]): unknown => (vs.length === 1 ? valueToJs(vs[0]!) : vs.map(valueToJs));

    node.on('input', (msg: NodeMessage, send, done) => {
      let what = 'writing';
      const fail = (e: unknown): void => {
        const where = resolved?.label ?? device.label;
        status.set({ fill: 'red', shape: 'ring', text: errorText(e).replace(/^BACnet (error|reject|abort)[^:]*: /, '').slice(0, 40) });
        done(new Error(`bacnet-write: ${describeFailure(what, where, e)}`));
      };
      try {
        const b = (msg.bacnet && typeof msg.bacnet === 'object' ? msg.bacnet : {}) as Record<string, unknown>;
        const target = msgDevice(b.device ?? msg.device);
        const prio = msg.priority !== undefined ? optPriority(msg.priority, 'msg.priority') : b.priority !== undefined ? optPriority(b.priority, 'msg.bacnet.priority') : priority;
        if (looksLikeWrites(msg.payload)) {
          const writes: WriteSpec[] = msg.payload.map((w, i) => {
            const p = parsePoint({ object: w.object ?? w.objectId, property: w.property ?? w.propertyId, arrayIndex: w.arrayIndex });
            const wp = w.priority !== undefined ? optPriority(w.priority, `write ${i + 1} priority`) : prio;
            const value = w.relinquish === true ? null : typed(w.value, w.type);
            const spec: WriteSpec = { objectId: p.objectId, propertyId: p.propertyId, value };
            if (p.arrayIndex !== undefined) spec.arrayIndex = p.arrayIndex;
            if (wp !== undefined) spec.priority = wp;
            return spec;
          });
          what = `writing ${writes.length} properties (WritePropertyMultiple)`;
          ready().then(async ({ client, d: own }) => {
            const d = target !== undefined ? await client.resolve(target) : own;
            const t0 = performance.now();
            const done_ = await client.writePropertyMultiple(d, writes);
            msg.bacnet = {
              device: d.instance ?? client.state(d).instance, address: formatAddress(d.address), service: 'write-property-multiple',
              writes: done_.map((w, i) => ({ objectId: formatObjectId(w.objectId), property: P.label(w.propertyId), value: js(w.value), priority: writes[i]!.priority })),
              rtt: performance.now() - t0, timestamp: Date.now(),
            };
            status.set({ fill: 'green', shape: 'dot', text: `wrote ${writes.length} · ${fmtRtt(client.state(d).lastRtt)}` });
            send(msg);
            done();
          }).catch(fail);
          return;
        }
        const objSrc = b.object ?? b.objectId;
        let p: PointSpec | undefined;
        if (objSrc !== undefined) p = parsePoint({ object: objSrc, property: b.property, arrayIndex: b.arrayIndex });
        else if (point) {
          p = { ...point };
          if (b.property !== undefined) p.propertyId = parsePropertyId(b.property as string | number);
          if (b.arrayIndex !== undefined) p.arrayIndex = parsePoint({ object: point.objectId, arrayIndex: b.arrayIndex }).arrayIndex!;
        }
        if (!p) throw new Error('no object to write: set it in the node, or give msg.bacnet.object (e.g. "analog-value:1")');
        const relinquish = msg.relinquish === true || msg.payload === null;
        if (!relinquish && msg.payload === undefined) throw new Error('msg.payload holds no value to write (use null or msg.relinquish to relinquish)');
        const value = relinquish ? null : typed(msg.payload, b.type);
        what = relinquish ? `relinquishing ${formatPoint(p)} at priority ${prio ?? '(none)'}` : `writing ${formatPoint(p)}`;
        ready().then(async ({ client, d: own }) => {
          const d = target !== undefined ? await client.resolve(target) : own;
          const opts: { priority?: number; arrayIndex?: number } = {};
          if (prio !== undefined) opts.priority = prio;
          if (p.arrayIndex !== undefined) opts.arrayIndex = p.arrayIndex;
          const t0 = performance.now();
          const sent = await client.writeProperty(d, p.objectId, p.propertyId, value, opts);
          const rtt = performance.now() - t0;
          const out: Record<string, unknown> = {
            device: d.instance ?? client.state(d).instance, address: formatAddress(d.address), objectId: formatObjectId(p.objectId),
            property: P.label(p.propertyId), value: relinquish ? null : js(sent), valueType: sent[0]?.type, priority: prio,
            relinquished: relinquish, service: 'write-property', rtt, timestamp: Date.now(),
          };
          if (p.arrayIndex !== undefined) out.arrayIndex = p.arrayIndex;
          if (readBack && p.propertyId === P.presentValue) {
            what = `reading back ${formatPoint(p)}`;
            out.readBack = await readBackOf(client, d, p);
          }
          msg.bacnet = out;
          const shown = relinquish ? `relinquished @${prio ?? '-'}` : `wrote ${String(js(sent)).slice(0, 16)}${prio !== undefined ? ` @${prio}` : ''}`;
          status.set({ fill: 'green', shape: 'dot', text: `${shown} · ${fmtRtt(rtt)}` });
          send(msg);
          done();
        }).catch(fail);
      } catch (e) {
        what = 'preparing the write';
        status.set({ fill: 'red', shape: 'ring', text: 'bad input' });
        done(new Error(`bacnet-write: ${errorText(e)}`));
      }
    });

    node.on('close', (_removed, done) => {
      status.stop();
      use.close().then(() => {
        node.status({});
        done();
      }, () => done());
    });

    // show the network's state until the first write
    use.client().then(() => {
      const p = networkProblem(use.networkState);
      status.set(p ?? { fill: 'grey', shape: 'dot', text: 'ready' });
    }, () => undefined);
  }
  RED.nodes.registerType('bacnet-write', BacnetWrite);
}
