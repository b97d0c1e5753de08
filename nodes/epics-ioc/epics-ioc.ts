/**
 * epics-ioc: serves PVs over EPICS Channel Access from a flow. PVs come from the editor table
 * and/or from msgs; msg.topic = PV, msg.payload = value (monitors fire); a remote put comes out
 * as a msg. The CA server is src/lib/epics/ca/server.ts; this file is glue.
 */
import type { Node, NodeDef, NodeMessage, NodeStatus, RED } from '../shared/red';
import { CaServer, type ServerWriteEvent } from '../../src/lib/epics/ca/server';
import type { PvDefinition, PvLimits, PvUpdate, ServerPv } from '../../src/lib/epics/ca/server-pv';
import { parseNativeType, dbrName, nativeTypeNames, type Range } from '../../src/lib/epics/ca/dbr';
import { parseAddressList } from '../../src/lib/epics/ca/server-udp';
import { alarmSeverityNames, alarmStatusNames, CA_REPEATER_PORT, CA_SERVER_PORT } from '../../src/lib/epics/ca/constants';
import { epicsTimeToDate } from '../../src/lib/epics/ca/time';
import { errorText } from '../../src/lib/wire/errors';

/** One row of the editor's PV table, as saved in the flow. */
export interface PvRow {
  name?: string;
  type?: string;
  count?: number | string;
  value?: string;
  units?: string;
  precision?: number | string;
  enums?: string;
  writable?: boolean;
  displayLow?: number | string;
  displayHigh?: number | string;
  alarmLow?: number | string;
  alarmHigh?: number | string;
  warningLow?: number | string;
  warningHigh?: number | string;
  controlLow?: number | string;
  controlHigh?: number | string;
}

function str(v: unknown, dflt = ''): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? dflt : String(v);
}

function optNumber(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) throw new Error(`${what}: '${String(v)}' is not a number`);
  return n;
}

function optRange(lo: unknown, hi: unknown, what: string): Range | undefined {
  const l = optNumber(lo, `${what} low`);
  const h = optNumber(hi, `${what} high`);
  if (l === undefined && h === undefined) return undefined;
  return { low: l ?? 0, high: h ?? 0 };
}

/**
 * Initial value text of an editor row: JSON (`[1,2,3]`, `"text"`, `2.5`) or, for arrays, comma-
 * separated numbers; for ENUM a state name or index; for STRING the text as it is.
 */
export function parseValueText(text: string, type: number, count: number): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (type === 0 && count === 1) return text;
  if (type === 4 && count > 1 && !t.startsWith('[')) return text; // CHAR array: text
  if (t.startsWith('[') || t.startsWith('"')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      throw new Error(`value '${text}' is not valid JSON`);
    }
  }
  if (count > 1) return t.split(',').map((x) => (type === 0 ? x.trim() : Number(x.trim())));
  if (type === 3 && !/^\d+$/.test(t)) return t; // enum by state name
  return type === 0 ? text : Number(t);
}

/** A PvDefinition from an editor row (throws with a readable message). */
export function rowToDefinition(row: PvRow, prefix: string): PvDefinition {
  const base = str(row.name).trim();
  if (!base) throw new Error('a PV row has no name');
  const name = prefix + base;
  const type = parseNativeType(str(row.type, 'DOUBLE'));
  if (type === undefined) throw new Error(`${name}: unknown type '${str(row.type)}'`);
  const count = optNumber(row.count, `${name} elements`) ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`${name}: elements must be a whole number >= 1`);
  const def: PvDefinition = { name, type, count, writable: row.writable !== false };
  const value = parseValueText(str(row.value), type, count);
  if (value !== undefined) def.value = value;
  const units = str(row.units).trim();
  if (units) def.units = units;
  const precision = optNumber(row.precision, `${name} precision`);
  if (precision !== undefined) def.precision = precision;
  const enums = str(row.enums).split(/[,;|]/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (enums.length) def.enumStrings = enums;
  const limits: PvLimits = {};
  const d = optRange(row.displayLow, row.displayHigh, `${name} display limits`);
  const a = optRange(row.alarmLow, row.alarmHigh, `${name} alarm limits`);
  const w = optRange(row.warningLow, row.warningHigh, `${name} warning limits`);
  const c = optRange(row.controlLow, row.controlHigh, `${name} control limits`);
  if (d) limits.display = d;
  if (a) limits.alarm = a;
  if (w) limits.warning = w;
  if (c) limits.control = c;
  if (d || a || w || c) def.limits = limits;
  return def;
}

/** msg.epics fields that change a PV. */
interface EpicsIn {
  severity?: unknown;
  status?: unknown;
  units?: unknown;
  precision?: unknown;
  limits?: unknown;
  enumStrings?: unknown;
  timestamp?: unknown;
  writable?: unknown;
  type?: unknown;
  count?: unknown;
}

function pick(obj: unknown): EpicsIn {
  return obj && typeof obj === 'object' ? (obj as EpicsIn) : {};
}

function toUpdate(payload: unknown, hasPayload: boolean, e: EpicsIn): PvUpdate {
  const u: PvUpdate = {};
  if (hasPayload) u.value = payload;
  if (e.severity !== undefined) u.severity = e.severity as number | string;
  if (e.status !== undefined) u.status = e.status as number | string;
  if (e.units !== undefined) u.units = str(e.units);
  if (e.precision !== undefined) {
    const p = optNumber(e.precision, 'precision');
    if (p !== undefined) u.precision = p;
  }
  if (e.limits !== undefined) {
    if (!e.limits || typeof e.limits !== 'object') throw new Error('msg.epics.limits must be an object {display, alarm, warning, control}');
    u.limits = e.limits as PvLimits;
  }
  if (e.enumStrings !== undefined) {
    if (!Array.isArray(e.enumStrings)) throw new Error('msg.epics.enumStrings must be an array of strings');
    u.enumStrings = e.enumStrings.map((s) => str(s));
  }
  if (e.timestamp !== undefined) {
    const t = e.timestamp;
    if (t instanceof Date) u.timestamp = t;
    else if (typeof t === 'number' && Number.isFinite(t)) u.timestamp = t;
    else if (typeof t === 'string' && !Number.isNaN(Date.parse(t))) u.timestamp = new Date(t);
    else throw new Error('msg.epics.timestamp must be a Date, ms since 1970 or an ISO date text');
  }
  if (e.writable !== undefined) u.writable = e.writable === true || e.writable === 'true';
  return u;
}

/** What msg.epics says about a PV on the way out. */
function describe(pv: ServerPv): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: nativeTypeNames[pv.nativeType],
    count: pv.maxCount,
    severity: alarmSeverityNames[pv.severity] ?? pv.severity,
    status: alarmStatusNames[pv.status] ?? pv.status,
    timestamp: epicsTimeToDate(pv.stamp),
    writable: pv.writable,
  };
  if (pv.nativeType !== 0 && pv.nativeType !== 3) {
    out.units = pv.units;
    out.precision = pv.precision;
    out.limits = pv.limits;
  }
  if (pv.nativeType === 3) out.enumStrings = pv.enumStrings.slice();
  return out;
}

/** A plain-JS payload: typed arrays become arrays; enums become their state string. */
function payloadOf(pv: ServerPv, value: unknown): unknown {
  if (pv.nativeType === 3 && pv.maxCount === 1) return pv.enumString();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

export default function (RED: RED): void {
  function EpicsIoc(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let server: CaServer;
    let prefix: string;
    let allowCreate: boolean;
    let port: number;
    let bind: string;
    try {
      prefix = str(config.prefix).trim();
      // settings.js may override every epics-ioc's port and beacons (test harnesses: port 0, no beacons).
      const portSetting = RED.settings.epicsIocPort;
      const beaconSetting = RED.settings.epicsIocBeacons;
      port = (portSetting !== undefined && portSetting !== '' ? optNumber(portSetting, 'settings.epicsIocPort') : undefined) ?? optNumber(config.port, 'port') ?? CA_SERVER_PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${port} is not 0..65535`);
      bind = str(config.bind, '127.0.0.1').trim() || '127.0.0.1';
      const beaconsText = (typeof beaconSetting === 'string' ? beaconSetting : str(config.beaconAddresses, '127.0.0.1')).trim();
      const beaconPort = optNumber(config.beaconPort, 'beacon port') ?? CA_REPEATER_PORT;
      parseAddressList(beaconsText, beaconPort); // validate
      const beaconPeriod = optNumber(config.beaconPeriod, 'beacon period') ?? 15;
      if (!(beaconPeriod >= 0.1)) throw new Error('beacon period must be at least 0.1 s');
      allowCreate = config.allowCreate !== false;
      const rows = Array.isArray(config.pvs) ? (config.pvs as PvRow[]) : [];
      const defs = rows.map((r) => rowToDefinition(r, prefix));
      server = new CaServer({
        port,
        host: bind,
        beacons: beaconsText.length > 0,
        beaconAddresses: beaconsText,
        beaconPort,
        beaconPeriodMs: beaconPeriod * 1000,
        replyNotFound: config.replyNotFound !== false,
      });
      for (const d of defs) server.addPv(d);
    } catch (err) {
      node.error(`epics-ioc configuration: ${errorText(err)}`);
      node.status({ fill: 'red', shape: 'ring', text: 'bad configuration' });
      return;
    }

    let listenError = '';
    let closed = false;
    const showStatus = (): void => {
      if (closed) return; // the close handler clears the status; nothing may set it again
      let s: NodeStatus;
      if (listenError) s = { fill: 'red', shape: 'ring', text: listenError };
      else if (!server.listening) s = { fill: 'yellow', shape: 'ring', text: 'starting' };
      else s = { fill: 'green', shape: server.clientCount ? 'dot' : 'ring', text: `${server.pvCount} PVs · ${server.clientCount} client${server.clientCount === 1 ? '' : 's'} · :${server.tcpPort}` };
      node.status(s);
    };

    server.on('client', () => showStatus());
    server.on('warning', (e) => node.debug(`epics-ioc: ${e.message}`));
    server.on('malformed', (m) => node.debug(`epics-ioc: malformed input from ${m.from}: ${m.reason}`));
    server.on('write', (w: ServerWriteEvent) => {
      // Hand the put to the flow on a later turn: flow code never runs on the I/O path.
      setImmediate(() => {
        if (closed) return;
        const pv = server.getPv(w.name);
        const epics: Record<string, unknown> = {
          ...(pv ? describe(pv) : {}),
          host: w.client.host,
          user: w.client.user,
          address: w.client.address,
          port: w.client.port,
          written: dbrName(w.dataType),
          writtenCount: w.count,
          callback: w.notify,
          previous: w.previous,
        };
        if (pv && pv.nativeType === 3) epics.index = Array.isArray(w.value) ? w.value[0] : w.value;
        node.send({ topic: w.name, payload: pv ? payloadOf(pv, w.value) : w.value, epics });
      });
    });

    showStatus();
    // A close meanwhile makes listen() reject after releasing the port (and close() waits for that).
    server.listen().then(() => showStatus(), (err: unknown) => {
      if (closed) return;
      const code = (err as { code?: string }).code;
      listenError = code === 'EADDRINUSE' ? `port ${port} in use` : errorText(err);
      node.error(`epics-ioc: cannot serve on ${bind}:${port}: ${errorText(err)}`);
      showStatus();
    });

    const resolveName = (topic: string): string => {
      if (server.getPv(topic) || !prefix || topic.startsWith(prefix)) return topic;
      return prefix + topic;
    };

    node.on('input', (msg: NodeMessage, send, done) => {
      try {
        const action = str(msg.action, 'update').toLowerCase();
        const e = pick(msg.epics);
        const topic = str(msg.topic).trim();
        const hasPayload = Object.prototype.hasOwnProperty.call(msg, 'payload') && msg.payload !== undefined;
        if (action === 'update' && !topic && msg.payload && typeof msg.payload === 'object' && !Array.isArray(msg.payload) && !ArrayBuffer.isView(msg.payload)) {
          // {PV: value, ...}: several PVs at once (all checked before any changes).
          const entries = Object.entries(msg.payload as Record<string, unknown>).map(([k, v]) => {
            const n = resolveName(k);
            if (!server.getPv(n)) throw new Error(`no PV named ${n}`);
            return [n, v] as const;
          });
          for (const [n, v] of entries) server.getPv(n)!.convertInput(v);
          for (const [n, v] of entries) server.update(n, { value: v });
          return done();
        }
        if (!topic) throw new Error('msg.topic must name the PV');
        const name = resolveName(topic);
        switch (action) {
          case 'update': {
            if (!server.getPv(name)) throw new Error(`no PV named ${name}${allowCreate ? ' (msg.action "create" makes one)' : ''}`);
            server.update(name, toUpdate(msg.payload, hasPayload, e));
            return done();
          }
          case 'create': {
            if (!allowCreate) throw new Error('this epics-ioc does not create PVs from msgs');
            const type = e.type === undefined ? (typeof msg.payload === 'string' ? 'STRING' : 'DOUBLE') : e.type;
            const def: PvDefinition = { name, type: type as string };
            if (e.count !== undefined) def.count = optNumber(e.count, 'count') ?? 1;
            if (hasPayload) def.value = msg.payload;
            const u = toUpdate(undefined, false, e);
            if (u.units !== undefined) def.units = u.units;
            if (u.precision !== undefined) def.precision = u.precision;
            if (u.limits !== undefined) def.limits = u.limits;
            if (u.enumStrings !== undefined) def.enumStrings = u.enumStrings;
            if (u.writable !== undefined) def.writable = u.writable;
            if (u.severity !== undefined) def.severity = u.severity;
            if (u.status !== undefined) def.status = u.status;
            if (u.timestamp !== undefined) def.timestamp = u.timestamp;
            server.replacePv(def); // checks the definition before the old PV goes
            showStatus();
            return done();
          }
          case 'remove':
          case 'delete': {
            if (!allowCreate) throw new Error('this epics-ioc does not remove PVs on msgs');
            if (!server.removePv(name)) throw new Error(`no PV named ${name}`);
            showStatus();
            return done();
          }
          case 'get': {
            const pv = server.getPv(name);
            if (!pv) throw new Error(`no PV named ${name}`);
            send({ ...msg, topic: name, payload: payloadOf(pv, pv.jsValue()), epics: describe(pv) });
            return done();
          }
          default:
            throw new Error(`unknown msg.action '${action}' (update, create, remove, get)`);
        }
      } catch (err) {
        done(err instanceof Error ? err : new Error(errorText(err)));
      }
    });

    node.on('close', (_removed, done) => {
      closed = true;
      server.close().then(() => {
        node.status({});
        done();
      }, () => done());
    });
  }
  RED.nodes.registerType('epics-ioc', EpicsIoc, {
    // settings.js: epicsIocPort: 0 and epicsIocBeacons: '' make every epics-ioc take a free port and
    // send no beacons (for test harnesses that deploy the example flows).
    settings: {
      epicsIocPort: { value: '', exportable: false },
      epicsIocBeacons: { value: undefined, exportable: false },
    },
  });
}
