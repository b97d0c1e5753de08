/**
 * epics-context (config node): one EPICS Channel Access client context (src/lib/epics/ca/client.ts)
 * shared by every epics-pv node that names it. The context opens when the first node registers
 * and closes when the last one leaves or on redeploy (every channel, socket and timer released).
 *
 * Settings left empty take the EPICS_CA_* environment variables of the Node-RED process, and
 * libca's defaults where those are unset; the dialog shows the effective values.
 *
 * API for nodes:
 *   const cfg = RED.nodes.getNode(config.epicsContext) as EpicsContextNode;
 *   const ctx = cfg.register(node);        // CaClientContext (also cfg.client) (throws on a bad configuration)
 *   await cfg.deregister(node);            // from close(removed, done)
 *
 * Admin endpoint (GET, permission epics-context.read): epics-context/defaults returns the
 * environment's values, for the dialog's placeholders.
 */
import type { AdminRequest, AdminResponse, Node, NodeDef, RED } from '../shared/red';
import { CaClientContext, environmentDefaults, resolveClientOptions, type CaClientOptions } from '../../src/lib/epics/ca';
import { errorText } from '../../src/lib/wire/errors';

export interface EpicsContextSettings {
  addrList: string;
  /** 'env' = EPICS_CA_AUTO_ADDR_LIST (YES when unset), or forced on / off. */
  autoAddrList: 'env' | 'yes' | 'no';
  serverPort: number | undefined;
  repeaterPort: number | undefined;
  nameServers: string;
  /** Seconds an operation waits for its PVs to connect and answer. */
  timeout: number;
  /** Largest array payload, bytes; undefined = the environment's (automatic by default). */
  maxArrayBytes: number | undefined;
}

export interface EpicsContextNode extends Node {
  readonly settings: EpicsContextSettings;
  readonly configError: string | undefined;
  /** The open client context (undefined until a node registers, and after the last leaves). */
  readonly client: CaClientContext | undefined;
  register(user: Node): CaClientContext;
  deregister(user: Node): Promise<void>;
}

function optInt(v: unknown, min: number, max: number, what: string): number | undefined {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number ${min}..${max}, not '${String(v)}'`);
  return n;
}

/** Settings from the saved configuration (throws with a readable message). */
export function parseContextConfig(config: NodeDef): EpicsContextSettings {
  const str = (k: string): string => (typeof config[k] === 'string' ? (config[k] as string).trim() : '');
  const auto = str('autoAddrList').toLowerCase();
  const timeoutRaw = config.timeout;
  const timeout = timeoutRaw === undefined || timeoutRaw === '' ? 5 : Number(timeoutRaw);
  if (!(timeout > 0) || timeout > 3600) throw new Error(`connection timeout must be 0 < s <= 3600, not '${String(timeoutRaw)}'`);
  return {
    addrList: str('addrList'),
    autoAddrList: auto === 'yes' || auto === 'true' ? 'yes' : auto === 'no' || auto === 'false' ? 'no' : 'env',
    serverPort: optInt(config.serverPort, 1, 65535, 'server port'),
    repeaterPort: optInt(config.repeaterPort, 1, 65535, 'repeater port'),
    nameServers: str('nameServers'),
    timeout,
    maxArrayBytes: optInt(config.maxArrayBytes, 0, 2 ** 31 - 1, 'max array bytes'),
  };
}

/** Client options for the settings: empty fields fall through to the environment. */
export const REPEATER_LINGER_MS = 5000;

export function contextOptions(s: EpicsContextSettings): CaClientOptions {
  // The beacon repeater outlives a redeploy by a few seconds (see client-repeater.ts), so CA
  // clients on this host that registered with it keep receiving beacons.
  const o: CaClientOptions = { timeoutMs: s.timeout * 1000, repeaterLingerMs: REPEATER_LINGER_MS };
  if (s.addrList) o.addrList = s.addrList;
  if (s.autoAddrList !== 'env') o.autoAddrList = s.autoAddrList === 'yes';
  if (s.serverPort !== undefined) o.serverPort = s.serverPort;
  if (s.repeaterPort !== undefined) o.repeaterPort = s.repeaterPort;
  if (s.nameServers) o.nameServers = s.nameServers;
  if (s.maxArrayBytes !== undefined) o.maxArrayBytes = s.maxArrayBytes;
  return o;
}

export default function (RED: RED): void {
  RED.httpAdmin.get('/epics-context/defaults', RED.auth.needsPermission('epics-context.read'), (_req: AdminRequest, res: AdminResponse) => {
    try {
      res.json(environmentDefaults(process.env));
    } catch (e) {
      res.status(500).json({ error: errorText(e) });
    }
  });

  function EpicsContext(this: EpicsContextNode, config: NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as EpicsContextNode & { settings: EpicsContextSettings; configError: string | undefined; client: CaClientContext | undefined };
    const users = new Set<string>();
    let closing: Promise<void> | undefined;
    node.client = undefined;
    node.configError = undefined;
    let options: CaClientOptions = {};
    try {
      node.settings = parseContextConfig(config);
      options = contextOptions(node.settings);
      resolveClientOptions(options); // validate now: a bad address list is a configuration error
    } catch (err) {
      node.settings = { addrList: '', autoAddrList: 'env', serverPort: undefined, repeaterPort: undefined, nameServers: '', timeout: 5, maxArrayBytes: undefined };
      node.configError = `epics-context configuration: ${errorText(err)}`;
      node.error(node.configError);
    }

    // At most 5 log lines per warning code a minute (a lost server with 10,000 channels must not
    // flood the log); the number left out is reported with the next one.
    const warned = new Map<string, { since: number; count: number; dropped: number }>();
    const warn = (code: string, text: string): void => {
      const now = Date.now();
      let w = warned.get(code);
      if (!w || now - w.since > 60_000) {
        const dropped = w?.dropped ?? 0;
        w = { since: now, count: 0, dropped: 0 };
        warned.set(code, w);
        if (dropped) node.warn(`EPICS CA: ${dropped} more '${code}' warning(s) were not logged`);
      }
      if (++w.count > 5) {
        w.dropped++;
        return;
      }
      node.warn(`EPICS CA: ${text}`);
    };

    node.register = (user) => {
      if (node.configError) throw new Error(node.configError);
      users.add(user.id);
      if (!node.client || node.client.closed) {
        const ctx = new CaClientContext(options);
        ctx.on('warning', (w) => warn(w.code, w.message));
        node.client = ctx;
      }
      return node.client;
    };

    node.deregister = async (user) => {
      users.delete(user.id);
      if (users.size > 0 || !node.client) return;
      const ctx = node.client;
      node.client = undefined;
      closing = ctx.close();
      await closing;
    };

    node.on('close', (_removed, done) => {
      users.clear();
      const ctx = node.client;
      node.client = undefined;
      const wait = ctx ? ctx.close() : closing ?? Promise.resolve();
      const timer = setTimeout(done, 5000);
      wait.then(() => {
        clearTimeout(timer);
        done();
      }, () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  RED.nodes.registerType('epics-context', EpicsContext);
}
