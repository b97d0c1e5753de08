/**
 * bacnet-server: Node-RED hosts a BACnet device. Objects come from the editor table and/or msgs;
 * msg.topic / msg.payload update present values (COV subscribers and trend logs follow); every
 * write or command from the network comes out of output 1; alarms, DCC and reinitialize requests
 * out of output 2 (optional). The server is src/lib/bacnet/server (this file is glue); the socket
 * belongs to the bacnet-network config node.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, writeFile, rename } from 'node:fs';
import { join } from 'node:path';
import { type AdminRequest, type AdminResponse, type Node, type NodeDef, type NodeMessage, type NodeStatus, type RED, int, str } from '../shared/red';
import { networkStatus } from '../config/bacnet-network';
import { networkNode, optPriority } from '../shared/bacnet';
import { BacnetServer } from '../../src/lib/bacnet/server/server';
import { bindServer, type BindingStats } from '../../src/lib/bacnet/server/endpoint-binding';
import type { ServerEvent } from '../../src/lib/bacnet/server/events';
import {
  type ObjectAccess, type ObjectSpec, describeObject, objectPropertiesJs, presentValueJs, propertyJs, setPropertyJs, specToInit,
} from '../../src/lib/bacnet/server/object-spec';
import { restoreSnapshot, takeSnapshot, type ServerSnapshot } from '../../src/lib/bacnet/server/persistence';
import { peerKey } from '../../src/lib/bacnet/server/network';
import type { BacnetObject } from '../../src/lib/bacnet/objects/object';
import { PropertyIdentifier as P } from '../../src/lib/bacnet/enums/property-identifier';
import { EventState, EventType, NotifyType } from '../../src/lib/bacnet/enums/states';
import { EngineeringUnits } from '../../src/lib/bacnet/enums/engineering-units';
import { formatObjectId } from '../../src/lib/bacnet/codec/js';
import { errorText } from '../../src/lib/wire/errors';

/** One row of the editor's object table, as saved in the flow. */
export interface ObjectRow {
  type?: string;
  instance?: number | string;
  name?: string;
  description?: string;
  units?: string;
  value?: string;
  access?: string;
  covIncrement?: number | string;
  states?: string;
}

interface Credentials {
  password?: string;
}

/** An ObjectSpec from an editor row. */
export function rowToSpec(row: ObjectRow): ObjectSpec {
  const spec: ObjectSpec = { type: str(row.type, 'analog-value'), name: str(row.name).trim() };
  if (row.instance !== undefined && row.instance !== '') spec.instance = row.instance;
  if (str(row.description)) spec.description = str(row.description);
  if (str(row.units)) spec.units = str(row.units);
  if (str(row.value).trim() !== '') spec.value = str(row.value).trim();
  const access = str(row.access, 'read-only');
  spec.access = (['read-only', 'writable', 'commandable'].includes(access) ? access : 'read-only') as ObjectAccess;
  if (row.covIncrement !== undefined && row.covIncrement !== '') spec.covIncrement = row.covIncrement;
  if (str(row.states).trim()) spec.states = str(row.states);
  return spec;
}

const EVENT_STATE_NAMES = (s: number): string => EventState.label(s);

/** msg.payload of output 2 for a server event. */
function eventPayload(e: ServerEvent): Record<string, unknown> | undefined {
  switch (e.type) {
    case 'event':
      return {
        object: e.object.name, objectId: formatObjectId(e.object.id), fromState: EVENT_STATE_NAMES(e.fromState), toState: EVENT_STATE_NAMES(e.toState),
        eventType: EventType.label(e.eventType), notificationClass: e.notificationClass, priority: e.priority, ackRequired: e.ackRequired,
        recipients: e.recipients, presentValue: presentValueJs(e.object), ...(e.message ? { message: e.message } : {}),
      };
    case 'acknowledge':
      return { object: e.object.name, objectId: formatObjectId(e.object.id), state: EVENT_STATE_NAMES(e.state), source: peerKey(e.source), by: e.acknowledgmentSource, notifyType: NotifyType.label(2) };
    case 'dcc':
      return { state: e.state, ...(e.durationMinutes !== undefined ? { durationMinutes: e.durationMinutes } : {}), ...(e.source ? { source: peerKey(e.source) } : {}) };
    case 'reinitialize':
      return { state: e.state, source: peerKey(e.source) };
    case 'time-sync':
      return { time: e.time.toISOString(), utc: e.utc, source: peerKey(e.source) };
    case 'object-created':
    case 'object-deleted':
      return { object: e.object.name, objectId: formatObjectId(e.object.id), ...(e.source ? { source: peerKey(e.source) } : {}) };
    case 'file-written':
      return { object: e.object.name, objectId: formatObjectId(e.object.id), source: peerKey(e.source) };
    default:
      return undefined;
  }
}

export default function (RED: RED): void {
  function BacnetServerNode(this: Node<Credentials>, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const network = networkNode(RED, config.network);
    const eventsOutput = config.eventsOutput === true;
    const allowMsgCreate = config.allowMsgCreate !== false;
    const persist = config.persist !== false;
    let server: BacnetServer;
    const created = new Set<BacnetObject>();

    const inert = (text: string, status: string): void => {
      node.error(text);
      node.status({ fill: 'red', shape: 'ring', text: status });
      node.on('input', (_msg, _send, done) => done(new Error(text)));
    };
    if (!network) return inert('bacnet-server: choose a bacnet-network', 'no network');
    try {
      const instance = int(config.deviceInstance, 260001, 0, 4194302, 'device instance');
      server = new BacnetServer({
        device: {
          instance,
          name: str(config.deviceName).trim() || str(config.name).trim() || `Node-RED ${instance}`,
          vendorName: str(config.vendorName).trim() || 'Fieldlink',
          vendorId: int(config.vendorId, 0, 0, 65535, 'vendor identifier'),
          modelName: 'Node-RED bacnet-server',
          ...(str(config.location) ? { location: str(config.location) } : {}),
          ...(str(config.description) ? { description: str(config.description) } : {}),
        },
        ...(node.credentials.password ? { password: node.credentials.password } : {}),
        writeAllowList: str(config.allowList).split(/[\s,;]+/).filter((s) => s.length > 0),
        allowCreateDelete: config.allowCreateDelete === true,
        communication: { apduTimeout: network.settings.apduTimeout, retries: network.settings.retries },
      });
      const rows = Array.isArray(config.objects) ? (config.objects as ObjectRow[]) : [];
      for (const row of rows) {
        const { type, init } = specToInit(rowToSpec(row), (t) => server.db.nextInstance(t));
        server.addObject(type, init);
      }
    } catch (err) {
      return inert(`bacnet-server configuration: ${errorText(err)}`, 'bad configuration');
    }

    // ----- persistence: a file in the user directory ---------------------------------------------
    const userDir = RED.settings.userDir;
    const file = persist && userDir ? join(userDir, 'fieldlink-bacnet', `bacnet-server-${node.id}.json`) : undefined;
    let dirty = false;
    let closed = false;
    let saveTimer: ReturnType<typeof setTimeout> | undefined;
    /** The timed save under way (close waits for it: both write `${file}.tmp`). */
    let saving: Promise<void> | undefined;
    const snapshotText = (): string => JSON.stringify(takeSnapshot(server, (o) => created.has(o)));
    const saveNow = (): void => {
      if (!file || !dirty) return;
      dirty = false;
      try {
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(`${file}.tmp`, snapshotText());
        renameSync(`${file}.tmp`, file);
      } catch (e) {
        node.warn(`bacnet-server: could not save values to ${file}: ${errorText(e)}`);
      }
    };
    const saveSoon = (): void => {
      if (!file || closed) return;
      dirty = true;
      if (saveTimer || saving) return;
      saveTimer = setTimeout(() => {
        saveTimer = undefined;
        if (!dirty) return;
        dirty = false;
        let text: string;
        try {
          mkdirSync(join(file, '..'), { recursive: true });
          text = snapshotText();
        } catch (e) {
          node.warn(`bacnet-server: could not save values: ${errorText(e)}`);
          return;
        }
        saving = new Promise<void>((resolve) => {
          const finish = (e?: Error | null): void => {
            saving = undefined;
            if (e) node.warn(`bacnet-server: could not save values to ${file}: ${errorText(e)}`);
            resolve();
            if (dirty) saveSoon();
          };
          writeFile(`${file}.tmp`, text, (err) => (err ? finish(err) : rename(`${file}.tmp`, file, finish)));
        });
      }, 200);
    };
    if (file) {
      try {
        const snap = JSON.parse(readFileSync(file, 'utf8')) as ServerSnapshot;
        const report = restoreSnapshot(server, snap, (o) => created.add(o));
        for (const s of report.skipped) node.debug(`bacnet-server: saved value not restored: ${s}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') node.warn(`bacnet-server: could not read saved values from ${file}: ${errorText(e)}`);
      }
    }

    // ----- status ---------------------------------------------------------------------------------
    let netStatus: NodeStatus = { fill: 'yellow', shape: 'ring', text: 'opening' };
    let open = false;
    const stats: BindingStats = { sendFailures: 0 };
    const showStatus = (): void => {
      if (closed) return;
      if (!open) return node.status(netStatus);
      const addr = network.endpoint ? `${network.endpoint.transport.local.host}:${network.endpoint.transport.local.port}` : '';
      const dcc = server.dcc.state === 'enable' ? '' : ` · ${server.dcc.state}`;
      node.status({ fill: dcc ? 'yellow' : 'green', shape: 'dot', text: `device ${server.device.id.instance} · ${server.db.size - 1} objects · ${addr}${dcc}` });
    };

    let unbind: (() => void) | undefined;
    const sendLater = (out: Array<NodeMessage | null>): void => {
      // Flow code never runs on the socket's I/O path.
      setImmediate(() => {
        if (!closed) node.send(out);
      });
    };

    server.onEvent((e) => {
      if (e.type === 'write') {
        if (e.object.writable) saveSoon();
        const o = e.object;
        const written = e.value.length === 1 && e.value[0]!.type === 'null' ? null : propertyJs(o, e.propertyId, e.value);
        const bacnet: Record<string, unknown> = {
          ...describeObject(o),
          property: P.label(e.propertyId),
          value: written,
          source: peerKey(e.source),
          service: e.service,
        };
        if (e.priority !== undefined) bacnet.priority = e.priority;
        if (e.arrayIndex !== undefined) bacnet.arrayIndex = e.arrayIndex;
        sendLater([{ topic: o.name, payload: presentValueJs(o), bacnet }, null]);
        return;
      }
      if (e.type === 'object-created' && e.source) {
        created.add(e.object);
        saveSoon();
      }
      if (e.type === 'object-deleted') {
        created.delete(e.object);
        saveSoon();
      }
      if (e.type === 'file-written') saveSoon();
      if (e.type === 'dcc') setImmediate(showStatus);
      if (eventsOutput) {
        const payload = eventPayload(e);
        if (payload) sendLater([null, { topic: e.type === 'event' ? 'alarm' : e.type, payload }]);
      }
    });

    // ----- network --------------------------------------------------------------------------------
    // Engines (schedules, trend logs, reporting) run whether or not the socket opens.
    server.start();
    if (!network.claimServer(node)) {
      node.status({ fill: 'yellow', shape: 'ring', text: `another bacnet-server (${network.serverNodeId ?? '?'}) already uses this network` });
      node.warn('bacnet-server: only one bacnet-server can use a bacnet-network; this one stays off the network');
    } else {
      network.register(node, (s) => {
        netStatus = networkStatus(s);
        open = s.state === 'open';
        if (s.state !== 'open' && unbind) {
          unbind();
          unbind = undefined;
        }
        showStatus();
      }).then((ep) => {
        if (closed) return;
        unbind = bindServer(server, ep, { apduTimeout: network.settings.apduTimeout, retries: network.settings.retries }, stats);
        server.announce();
        showStatus();
      }, () => {
        // the status listener shows why (port in use, bad interface); the network node logs it
      });
    }

    // ----- input ----------------------------------------------------------------------------------
    const find = (ref: unknown): BacnetObject => {
      const key = str(ref).trim();
      if (!key) throw new Error('msg.topic must name an object (its name, or type:instance such as analog-value:1)');
      const o = server.find(key);
      if (!o || o === server.device) throw new Error(`no object '${key}' in this device`);
      return o;
    };

    node.on('input', (msg, send, done) => {
      try {
        const action = str(msg.action, 'update').toLowerCase();
        switch (action) {
          case 'update': {
            const priority = optPriority(msg.priority, 'msg.priority');
            if (msg.topic === undefined || msg.topic === '') {
              const batch = msg.payload;
              if (!batch || typeof batch !== 'object' || Array.isArray(batch)) throw new Error('msg.topic must name an object, or msg.payload be {objectName: value, ...}');
              // check every name first: nothing changes unless all exist
              const targets = Object.keys(batch).map((k) => [find(k), (batch as Record<string, unknown>)[k]] as const);
              for (const [o, v] of targets) setPropertyJs(o, 'present-value', v, priority);
              if (targets.some(([o]) => o.writable)) saveSoon();
              return done();
            }
            const o = find(msg.topic);
            const props = msg.properties;
            if (props !== undefined) {
              if (!props || typeof props !== 'object' || Array.isArray(props)) throw new Error('msg.properties must be an object {property: value}');
              for (const [k, v] of Object.entries(props as Record<string, unknown>)) setPropertyJs(o, k, v, priority);
            }
            if ('payload' in msg && msg.payload !== undefined) setPropertyJs(o, str(msg.property), msg.payload, priority);
            if (o.writable) saveSoon();
            return done();
          }
          case 'create': {
            if (!allowMsgCreate) throw new Error('creating objects by msg is switched off in this node');
            const raw = (msg.object ?? msg.payload) as Partial<ObjectSpec> | undefined;
            if (!raw || typeof raw !== 'object') throw new Error('msg.object (or msg.payload) must describe the object: {type, name, ...}');
            const spec = { deletable: true, ...raw, name: str(raw.name ?? msg.topic) } as ObjectSpec;
            const { type, init } = specToInit(spec, (t) => server.db.nextInstance(t));
            const o = server.addObject(type, init);
            created.add(o);
            saveSoon();
            showStatus();
            send([{ topic: o.name, payload: presentValueJs(o), bacnet: { ...describeObject(o), service: 'create' } }, null]);
            return done();
          }
          case 'delete': {
            if (!allowMsgCreate) throw new Error('deleting objects by msg is switched off in this node');
            const o = find(msg.topic);
            server.removeObject(o.id);
            created.delete(o);
            saveSoon();
            showStatus();
            return done();
          }
          case 'get': {
            const o = find(msg.topic);
            send([{ ...msg, topic: o.name, payload: presentValueJs(o), bacnet: { ...describeObject(o), service: 'get', properties: objectPropertiesJs(o) } }, null]);
            return done();
          }
          default:
            throw new Error(`unknown msg.action '${action}' (update, create, delete, get)`);
        }
      } catch (err) {
        done(err instanceof Error ? err : new Error(errorText(err)));
      }
    });

    node.on('close', (_removed, done) => {
      closed = true;
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      try {
        unbind?.();
      } catch {
        // the endpoint may already be closed
      }
      unbind = undefined;
      server.stop();
      node.status({});
      const timer = setTimeout(done, 5000);
      const finish = (): void => {
        clearTimeout(timer);
        done();
      };
      // The final save after the timed one under way: its rename must not put an older snapshot
      // over this one, nor its write interleave with ours in the same temporary file.
      const saved = (saving ?? Promise.resolve()).then(() => {
        if (file) {
          dirty = true;
          saveNow();
        }
      });
      Promise.all([saved, network.deregister(node)]).then(finish, finish);
    });
  }
  RED.nodes.registerType('bacnet-server', BacnetServerNode, { credentials: { password: { type: 'password' } } });
  // Unit names for the editor's units field (no numeric codes in the dialog).
  RED.httpAdmin.get('/bacnet-server/units', RED.auth.needsPermission('bacnet-server.read'), (_req: AdminRequest, res: AdminResponse) => {
    res.json(EngineeringUnits.names());
  });
}

