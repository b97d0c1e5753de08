/**
 * Client configuration: the `EPICS_CA_*` environment variables are the defaults, an options
 * object overrides each of them. Pure functions (the environment and the interface list are
 * arguments), so the config node can show the effective values and tests can check them without
 * touching the network.
 *
 * | option            | variable                    | default                           |
 * |-------------------|-----------------------------|-----------------------------------|
 * | addrList          | EPICS_CA_ADDR_LIST          | empty                             |
 * | autoAddrList      | EPICS_CA_AUTO_ADDR_LIST     | YES (broadcast address of every IPv4 interface) |
 * | serverPort        | EPICS_CA_SERVER_PORT        | 5064                              |
 * | repeaterPort      | EPICS_CA_REPEATER_PORT      | 5065                              |
 * | nameServers       | EPICS_CA_NAME_SERVERS       | empty (TCP search)                |
 * | connTimeoutMs     | EPICS_CA_CONN_TMO (s)       | 30 s of silence before an ECHO    |
 * | beaconPeriodMs    | EPICS_CA_BEACON_PERIOD (s)  | 15 s                              |
 * | maxSearchPeriodMs | EPICS_CA_MAX_SEARCH_PERIOD  | 300 s (not below 60 s)            |
 * | maxArrayBytes     | EPICS_CA_MAX_ARRAY_BYTES    | unlimited while EPICS_CA_AUTO_ARRAY_BYTES is YES (the default) |
 */
import { networkInterfaces, hostname, userInfo, type NetworkInterfaceInfo } from 'node:os';
import { CA_REPEATER_PORT, CA_SERVER_PORT } from './constants';
import { LocalProtocolError } from './errors';
import { parseAddressList, type Endpoint } from './server-udp';

export type { Endpoint };

export interface CaClientOptions {
  /** Search destinations, `host[:port]` separated by blanks or commas (EPICS_CA_ADDR_LIST). */
  addrList?: string | readonly string[];
  /** Add the broadcast address of every IPv4 interface (EPICS_CA_AUTO_ADDR_LIST). */
  autoAddrList?: boolean;
  /** Server port for searches and circuits, the default port of list entries (EPICS_CA_SERVER_PORT). */
  serverPort?: number;
  /** Beacon repeater port (EPICS_CA_REPEATER_PORT). */
  repeaterPort?: number;
  /** TCP name servers, `host[:port]` (EPICS_CA_NAME_SERVERS). */
  nameServers?: string | readonly string[];
  /** Silence on a circuit before an ECHO is sent, ms (EPICS_CA_CONN_TMO x 1000). */
  connTimeoutMs?: number;
  /** Wait for an ECHO reply before a circuit counts as unresponsive (and again before it is closed), ms. Default 5000. */
  echoTimeoutMs?: number;
  /** Servers' beacon period, ms (EPICS_CA_BEACON_PERIOD x 1000). */
  beaconPeriodMs?: number;
  /** Longest interval between searches for a missing PV, ms (EPICS_CA_MAX_SEARCH_PERIOD x 1000). */
  maxSearchPeriodMs?: number;
  /** Largest array payload accepted, bytes; 0 = no limit (EPICS_CA_MAX_ARRAY_BYTES when EPICS_CA_AUTO_ARRAY_BYTES=NO). */
  maxArrayBytes?: number;
  /** Default time an operation waits for its PVs to connect and answer, ms. Default 5000. */
  timeoutMs?: number;
  /** Address the UDP sockets bind to. Default '0.0.0.0'. */
  bindAddress?: string;
  /** Names we announce on circuits (HOST_NAME, CLIENT_NAME). */
  hostName?: string;
  userName?: string;
  /** Unreferenced, unused channels are cleared after this long, ms (default 300000; 0 = at once). */
  channelCacheMs?: number;
  /**
   * When this context was the one holding the process's beacon repeater, how long the repeater
   * stays bound after the last context closed, ms (default 0: closed with the context). A
   * Node-RED config node sets a few seconds, so a redeploy does not strand the host's other CA
   * clients without beacons.
   */
  repeaterLingerMs?: number;
  /** Environment to read the defaults from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Interface list for the auto address list (default os.networkInterfaces()). */
  interfaces?: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>;
}

export type OptionSource = 'option' | 'env' | 'default';

export interface ResolvedCaClientOptions {
  addrList: Endpoint[];
  autoAddrList: boolean;
  /** Broadcast addresses the auto address list adds (empty when it is off). */
  autoAddresses: Endpoint[];
  /** Every UDP search destination: addrList then autoAddresses, duplicates removed. */
  searchDestinations: Endpoint[];
  serverPort: number;
  repeaterPort: number;
  nameServers: Endpoint[];
  connTimeoutMs: number;
  echoTimeoutMs: number;
  beaconPeriodMs: number;
  maxSearchPeriodMs: number;
  maxArrayBytes: number;
  timeoutMs: number;
  bindAddress: string;
  hostName: string;
  userName: string;
  channelCacheMs: number;
  repeaterLingerMs: number;
  /** Where each value came from, for the config dialog. */
  sources: Record<'addrList' | 'autoAddrList' | 'serverPort' | 'repeaterPort' | 'nameServers' | 'connTimeoutMs' | 'beaconPeriodMs' | 'maxSearchPeriodMs' | 'maxArrayBytes', OptionSource>;
}

/** Parse an EPICS yes/no variable ('YES', 'no', 'true', '1'); undefined when unset or unreadable. */
export function parseYesNo(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (['yes', 'y', 'true', '1', 'on'].includes(s)) return true;
  if (['no', 'n', 'false', '0', 'off'].includes(s)) return false;
  return undefined;
}

function envNumber(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : undefined;
}

function checkPort(p: number, what: string): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new LocalProtocolError(`${what} must be a port number 1..65535 (got ${p})`);
  return p;
}

function checkPositive(v: number, what: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new LocalProtocolError(`${what} must be a positive number (got ${v})`);
  return v;
}

/** IPv4 broadcast address of an address and netmask ('192.168.1.7', '255.255.255.0' → '192.168.1.255'). */
export function broadcastAddress(address: string, netmask: string): string | undefined {
  const a = address.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  if (a.length !== 4 || m.length !== 4 || a.some((x) => !(x >= 0 && x <= 255)) || m.some((x) => !(x >= 0 && x <= 255))) return undefined;
  return a.map((x, i) => (x & m[i]!) | (~m[i]! & 255)).join('.');
}

/**
 * The auto address list: the broadcast address of every up, non-loopback IPv4 interface (as
 * libca builds it), each at `port`. Computed only; nothing is sent here.
 */
export function autoAddressList(port: number, interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>> = networkInterfaces()): Endpoint[] {
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) {
      if (i.family !== 'IPv4' || i.internal) continue;
      const b = broadcastAddress(i.address, i.netmask);
      if (!b || seen.has(b)) continue;
      seen.add(b);
      out.push({ host: b, port });
    }
  }
  return out;
}

function dedupe(list: Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = `${e.host}:${e.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'fieldlink';
  }
}

/** Merge options over the environment over the defaults. Throws LocalProtocolError on bad values. */
export function resolveClientOptions(o: CaClientOptions = {}): ResolvedCaClientOptions {
  const env = o.env ?? process.env;
  const sources = {} as ResolvedCaClientOptions['sources'];
  function pick<T>(key: keyof ResolvedCaClientOptions['sources'], opt: T | undefined, fromEnv: T | undefined, dflt: T): T {
    if (opt !== undefined) {
      sources[key] = 'option';
      return opt;
    }
    if (fromEnv !== undefined) {
      sources[key] = 'env';
      return fromEnv;
    }
    sources[key] = 'default';
    return dflt;
  }
  const serverPort = checkPort(pick('serverPort', o.serverPort, envNumber(env.EPICS_CA_SERVER_PORT), CA_SERVER_PORT), 'serverPort');
  const repeaterPort = checkPort(pick('repeaterPort', o.repeaterPort, envNumber(env.EPICS_CA_REPEATER_PORT), CA_REPEATER_PORT), 'repeaterPort');
  const addrText = pick<string | readonly string[]>('addrList', o.addrList, env.EPICS_CA_ADDR_LIST, '');
  const addrList = parseAddressList(addrText, serverPort);
  const autoAddrList = pick('autoAddrList', o.autoAddrList, parseYesNo(env.EPICS_CA_AUTO_ADDR_LIST), true);
  const autoAddresses = autoAddrList ? autoAddressList(serverPort, o.interfaces) : [];
  const nsText = pick<string | readonly string[]>('nameServers', o.nameServers, env.EPICS_CA_NAME_SERVERS, '');
  const nameServers = parseAddressList(nsText, serverPort);
  const connTmoEnv = envNumber(env.EPICS_CA_CONN_TMO);
  const connTimeoutMs = checkPositive(pick('connTimeoutMs', o.connTimeoutMs, connTmoEnv === undefined ? undefined : connTmoEnv * 1000, 30_000), 'connTimeoutMs');
  const beaconEnv = envNumber(env.EPICS_CA_BEACON_PERIOD);
  const beaconPeriodMs = checkPositive(pick('beaconPeriodMs', o.beaconPeriodMs, beaconEnv === undefined ? undefined : beaconEnv * 1000, 15_000), 'beaconPeriodMs');
  const maxSearchEnv = envNumber(env.EPICS_CA_MAX_SEARCH_PERIOD);
  // libca enforces a floor of 60 s on the variable; an explicit option (tests) may go lower.
  const maxSearchPeriodMs = checkPositive(
    pick('maxSearchPeriodMs', o.maxSearchPeriodMs, maxSearchEnv === undefined ? undefined : Math.max(60, maxSearchEnv) * 1000, 300_000),
    'maxSearchPeriodMs',
  );
  const autoArray = parseYesNo(env.EPICS_CA_AUTO_ARRAY_BYTES) ?? true;
  const maxArrayEnv = autoArray ? undefined : envNumber(env.EPICS_CA_MAX_ARRAY_BYTES);
  const maxArrayBytes = pick('maxArrayBytes', o.maxArrayBytes, maxArrayEnv, 0);
  if (!Number.isFinite(maxArrayBytes) || maxArrayBytes < 0) throw new LocalProtocolError(`maxArrayBytes must be 0 (no limit) or a positive byte count (got ${maxArrayBytes})`);
  return {
    addrList,
    autoAddrList,
    autoAddresses,
    searchDestinations: dedupe([...addrList, ...autoAddresses]),
    serverPort,
    repeaterPort,
    nameServers,
    connTimeoutMs,
    echoTimeoutMs: checkPositive(o.echoTimeoutMs ?? 5000, 'echoTimeoutMs'),
    beaconPeriodMs,
    maxSearchPeriodMs,
    maxArrayBytes,
    timeoutMs: checkPositive(o.timeoutMs ?? 5000, 'timeoutMs'),
    bindAddress: o.bindAddress ?? '0.0.0.0',
    hostName: o.hostName ?? hostname(),
    userName: o.userName ?? safeUser(),
    channelCacheMs: o.channelCacheMs ?? 300_000,
    repeaterLingerMs: o.repeaterLingerMs ?? 0,
    sources,
  };
}

/** The environment's CA settings as text, for a config dialog's placeholders. */
export function environmentDefaults(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const r = resolveClientOptions({ env, interfaces: {} });
  return {
    addrList: r.addrList.map((e) => (e.port === r.serverPort ? e.host : `${e.host}:${e.port}`)).join(' '),
    autoAddrList: r.autoAddrList ? 'YES' : 'NO',
    serverPort: String(r.serverPort),
    repeaterPort: String(r.repeaterPort),
    nameServers: r.nameServers.map((e) => `${e.host}:${e.port}`).join(' '),
    connTimeout: String(r.connTimeoutMs / 1000),
    maxArrayBytes: r.maxArrayBytes ? String(r.maxArrayBytes) : 'automatic',
  };
}
