/**
 * epics-pv: read, write, monitor and bulk-read EPICS PVs over Channel Access, through the client
 * context of an epics-context config node. Logic lives in src/lib/epics/ca/client.ts; this file
 * maps config and msg to library calls and results to msg and status.
 *
 * Modes: get (each input msg reads the PVs), put (msg.payload is written, optionally waiting for
 * completion), monitor (a msg per update), bulk (one msg with every value, errors per PV).
 * Names: bare or ca:// = Channel Access; pva:// is refused until pvAccess lands. msg.topic names
 * the PV when the node has none.
 */
import type { Node, NodeDef, NodeMessage, NodeStatus, RED, SendFn, DoneFn } from '../shared/red';
import type { EpicsContextNode } from '../config/epics-context';
import {
  CaClientError, DBE, alarmSeverityNames, alarmStatusNames, type CaChannel, type CaClientContext, type CaMonitor,
  type CaReading, type ChannelEvent, type DbrSpec, type GetOptions, type MonitorOptions,
} from '../../src/lib/epics/ca';
import { requireCa, PvNameError } from '../../src/lib/epics/pv-name';
import { errorText } from '../../src/lib/wire/errors';

type Mode = 'get' | 'put' | 'monitor' | 'bulk';

interface PvSettings {
  names: string[];
  mode: Mode;
  /** undefined = TIME form merged with metadata. */
  type: DbrSpec | undefined;
  count: number;
  wait: boolean;
  timeoutMs: number | undefined;
  mask: number;
  arrays: 'plain' | 'typed';
}

const MASKS: Record<string, number> = {
  'value-alarm': DBE.VALUE | DBE.ALARM,
  value: DBE.VALUE,
  log: DBE.LOG,
  alarm: DBE.ALARM,
  property: DBE.PROPERTY,
  all: DBE.VALUE | DBE.LOG | DBE.ALARM | DBE.PROPERTY,
};

/** PV names in a text: separated by blanks, commas or new lines. */
export function splitNames(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

function parseSettings(config: NodeDef): PvSettings {
  const str = (k: string, d = ''): string => (typeof config[k] === 'string' ? (config[k] as string).trim() : d);
  const names = splitNames(str('pvs'));
  for (const n of names) requireCa(n); // throws PvNameError (pva:// is refused for now)
  const mode = str('mode', 'get') as Mode;
  if (!['get', 'put', 'monitor', 'bulk'].includes(mode)) throw new Error(`unknown mode '${mode}'`);
  const t = str('dbrType', 'default');
  const countRaw = config.count;
  const count = countRaw === undefined || countRaw === '' ? 0 : Number(countRaw);
  if (!Number.isInteger(count) || count < 0) throw new Error(`element count must be a whole number >= 0, not '${String(countRaw)}'`);
  const tRaw = config.timeout;
  const timeout = tRaw === undefined || tRaw === '' ? undefined : Number(tRaw);
  if (timeout !== undefined && !(timeout > 0 && timeout <= 3600)) throw new Error(`timeout must be 0 < s <= 3600, not '${String(tRaw)}'`);
  const maskName = str('mask', 'value-alarm');
  const mask = MASKS[maskName];
  if (mask === undefined) throw new Error(`unknown monitor mask '${maskName}'`);
  if (mode === 'put' && names.length === 0 && config.pvs !== undefined && str('pvs') !== '') throw new Error('no PV name');
  return {
    names,
    mode,
    type: t === 'default' || t === '' ? undefined : t,
    count,
    wait: config.wait === true || config.wait === 'true',
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    mask,
    arrays: str('arrays', 'plain') === 'typed' ? 'typed' : 'plain',
  };
}

/** msg.payload for a reading: scalars as they are, arrays plain (JSON-friendly) or typed. */
export function payloadOf(r: CaReading, arrays: 'plain' | 'typed'): unknown {
  const v = r.value;
  if (arrays === 'plain' && ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>);
  if (Array.isArray(v)) return v.slice();
  return v;
}

/** msg.epics for a reading. */
export function epicsOf(r: CaReading, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const e: Record<string, unknown> = { protocol: 'ca', pv: r.name };
  if (r.severity !== undefined) {
    e.severity = alarmSeverityNames[r.severity] ?? String(r.severity);
    e.severityCode = r.severity;
  }
  if (r.status !== undefined) {
    e.status = alarmStatusNames[r.status] ?? String(r.status);
    e.statusCode = r.status;
  }
  if (r.timestamp !== undefined) {
    e.timestamp = r.timestamp;
    e.stamp = r.stamp;
  }
  if (r.units !== undefined) e.units = r.units;
  if (r.precision !== undefined) e.precision = r.precision;
  if (r.limits !== undefined) e.limits = r.limits;
  if (r.enumStrings !== undefined) e.enumStrings = r.enumStrings;
  if (r.enumIndex !== undefined) e.enumIndex = r.enumIndex;
  e.dataType = r.dataTypeName;
  e.nativeType = r.nativeType;
  e.count = r.count;
  return Object.assign(e, extra);
}

/** Names from a msg: msg.topic (string or array); for bulk also an array msg.payload. */
function namesFromMsg(msg: NodeMessage, mode: Mode): string[] {
  const fromList = (v: unknown): string[] | undefined => {
    if (typeof v === 'string' && v.trim()) return splitNames(v);
    if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) return v as string[];
    return undefined;
  };
  const t = fromList(msg.topic);
  if (t) return t;
  if (mode === 'bulk') {
    const p = Array.isArray(msg.payload) ? fromList(msg.payload) : undefined;
    if (p) return p;
  }
  return [];
}

function msgTimeout(msg: NodeMessage, dflt: number | undefined): number | undefined {
  const t = msg.timeout;
  if (typeof t === 'number' && t > 0) return t * 1000;
  return dflt;
}

export default function (RED: RED): void {
  function EpicsPv(this: Node, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let s: PvSettings;
    let cfg: EpicsContextNode | undefined;
    let ctx: CaClientContext | undefined;
    let configError: string | undefined;
    const handles: CaChannel[] = [];
    const monitors: CaMonitor[] = [];
    let dynamicMonitors: CaMonitor[] = [];
    let statusPending: NodeJS.Immediate | undefined;
    let closed = false;
    let lastError = '';

    try {
      s = parseSettings(config);
      cfg = (RED.nodes.getNode(String(config.epicsContext ?? '')) as EpicsContextNode | null) ?? undefined;
      if (!cfg) throw new Error('no epics-context is configured: add one in the node settings');
      ctx = cfg.register(node);
    } catch (err) {
      s = { names: [], mode: 'get', type: undefined, count: 0, wait: false, timeoutMs: undefined, mask: DBE.VALUE, arrays: 'plain' };
      configError = `epics-pv configuration: ${errorText(err)}`;
      node.error(configError);
      node.status({ fill: 'red', shape: 'ring', text: err instanceof PvNameError && err.code === 'EPVAUNAVAILABLE' ? 'pva:// not available yet' : 'bad configuration' });
    }

    const showStatus = (): void => {
      statusPending = undefined;
      if (closed) return;
      const all = [...handles.map((h) => h.state), ...dynamicMonitors.map((m) => m.state)];
      if (all.length === 0) {
        node.status(lastError ? { fill: 'red', shape: 'ring', text: lastError } : {});
        return;
      }
      const n = { connected: 0, searching: 0, disconnected: 0, closed: 0 };
      for (const st of all) n[st]++;
      const parts: string[] = [];
      if (n.connected) parts.push(`${n.connected} connected`);
      if (n.searching) parts.push(`${n.searching} searching`);
      if (n.disconnected) parts.push(`${n.disconnected} disconnected`);
      const st: NodeStatus = {
        fill: n.disconnected ? 'red' : n.searching ? 'yellow' : 'green',
        shape: n.connected === all.length ? 'dot' : 'ring',
        text: all.length === 1 ? (n.connected ? 'connected' : n.searching ? 'searching' : 'disconnected') : parts.join(', '),
      };
      if (lastError && n.connected === all.length) st.text = `${st.text} · ${lastError}`;
      node.status(st);
    };
    const refreshStatus = (): void => {
      if (!statusPending && !closed) statusPending = setImmediate(showStatus);
    };
    const onState = (_e: ChannelEvent): void => refreshStatus();

    const getOpts = (msg: NodeMessage): GetOptions => {
      const o: GetOptions = {};
      if (s.type !== undefined) o.type = s.type;
      if (s.count) o.count = s.count;
      const t = msgTimeout(msg, s.timeoutMs);
      if (t !== undefined) o.timeout = t;
      return o;
    };

    const startMonitor = (name: string): CaMonitor => {
      const opts: MonitorOptions = { mask: s.mask, onError: (e: CaClientError) => node.error(`${name}: ${e.message}`), onState };
      if (s.type !== undefined) opts.type = s.type;
      if (s.count) opts.count = s.count;
      return ctx!.monitor(name, (r, m) => {
        if (closed) return;
        node.send({ topic: name, payload: payloadOf(r, s.arrays), epics: epicsOf(r, { dropped: m.dropped }) });
      }, opts);
    };

    if (ctx && !configError) {
      try {
        for (const n of s.names) {
          if (s.mode === 'monitor') monitors.push(startMonitor(n));
          handles.push(ctx.channel(n, onState));
        }
      } catch (err) {
        node.error(`epics-pv: ${errorText(err)}`);
      }
      refreshStatus();
    }

    const fail = (done: DoneFn, err: unknown): void => {
      const text = errorText(err);
      lastError = err instanceof CaClientError ? err.code.replace(/^E/, '').toLowerCase() : 'error';
      refreshStatus();
      done(err instanceof Error ? err : new Error(text));
    };

    const input = async (msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> => {
      if (configError || !ctx) return done(new Error(configError ?? 'epics-pv is not configured'));
      const names = s.names.length ? s.names : namesFromMsg(msg, s.mode);
      if (s.mode === 'monitor') {
        if (s.names.length) return done(); // fixed subscriptions: nothing to do
        // Without configured PVs, msg.topic chooses what to monitor; payload false/"stop" stops.
        for (const m of dynamicMonitors) m.cancel();
        dynamicMonitors = [];
        if (msg.payload === false || msg.payload === 'stop' || names.length === 0) {
          refreshStatus();
          return done();
        }
        try {
          for (const n of names) dynamicMonitors.push(startMonitor(n));
        } catch (err) {
          return fail(done, err);
        }
        refreshStatus();
        return done();
      }
      if (names.length === 0) return done(new Error(`no PV name: configure one in the node or set msg.topic${s.mode === 'bulk' ? ' (or an array of names in msg.payload)' : ''}`));
      if (s.mode === 'get') {
        const res = await ctx.bulkGet(names, getOpts(msg));
        const errors: string[] = [];
        const out: NodeMessage[] = [];
        for (const n of names) {
          const r = res.get(n)!;
          if (r instanceof Error) {
            errors.push(r.message);
            continue;
          }
          const m = names.length === 1 ? msg : RED.util.cloneMessage(msg);
          m.topic = n;
          m.payload = payloadOf(r, s.arrays);
          m.epics = epicsOf(r);
          out.push(m);
        }
        for (const m of out) send(m);
        if (errors.length) {
          const first = res.get(names.find((n) => res.get(n) instanceof Error)!) as Error;
          const err = names.length === 1 ? first : Object.assign(new Error(errors.join('; ')), { code: (first as { code?: string }).code });
          return fail(done, err);
        }
        lastError = '';
        refreshStatus();
        return done();
      }
      if (s.mode === 'put') {
        const t = msgTimeout(msg, s.timeoutMs);
        const wait = typeof msg.wait === 'boolean' ? msg.wait : s.wait;
        const payload = msg.payload;
        const perName = names.length > 1 && payload !== null && typeof payload === 'object' && !Array.isArray(payload) && !ArrayBuffer.isView(payload);
        const results = await Promise.allSettled(names.map((n) => {
          const value = perName ? (payload as Record<string, unknown>)[n] : payload;
          if (perName && value === undefined) return Promise.resolve();
          return ctx!.put(n, value, t === undefined ? { wait } : { wait, timeout: t });
        }));
        const errs = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
        if (errs.length) return fail(done, errs.length === 1 ? errs[0] : new Error(errs.map((e) => errorText(e)).join('; ')));
        msg.epics = { protocol: 'ca', pv: names.length === 1 ? requireCa(names[0]!).name : names.map((n) => requireCa(n).name), put: wait ? 'completed' : 'sent' };
        lastError = '';
        refreshStatus();
        send(msg);
        return done();
      }
      // bulk
      const res = await ctx.bulkGet(names, getOpts(msg));
      const payload: Record<string, unknown> = {};
      const epics: Record<string, unknown> = {};
      const errors: Record<string, string> = {};
      for (const n of names) {
        const r = res.get(n)!;
        if (r instanceof Error) {
          payload[n] = null;
          errors[n] = r.message;
        } else {
          payload[n] = payloadOf(r, s.arrays);
          epics[n] = epicsOf(r);
        }
      }
      msg.payload = payload;
      msg.epics = epics;
      if (Object.keys(errors).length) msg.errors = errors;
      else delete msg.errors;
      lastError = Object.keys(errors).length ? `${Object.keys(errors).length} failed` : '';
      refreshStatus();
      send(msg);
      done();
    };

    node.on('input', (msg, send, done) => {
      input(msg, send, done).catch((err: unknown) => fail(done, err));
    });

    node.on('close', (_removed, done) => {
      closed = true;
      if (statusPending) clearImmediate(statusPending);
      for (const m of [...monitors, ...dynamicMonitors]) m.cancel();
      for (const h of handles) h.release();
      monitors.length = 0;
      dynamicMonitors = [];
      handles.length = 0;
      node.status({});
      if (!cfg || configError) return done();
      const timer = setTimeout(done, 5000);
      cfg.deregister(node).then(() => {
        clearTimeout(timer);
        done();
      }, () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  RED.nodes.registerType('epics-pv', EpicsPv);
}
