/**
 * BACnet/IP device addresses (ASHRAE 135-2020 Clause 6.2.2 network addresses, Annex J.1.2 B/IP
 * addresses): where a datagram goes (IP and UDP port of the device, or of the router in front of
 * it) and, for devices on remote networks, the network number and MAC address behind the router.
 *
 *   { host: '192.168.1.20', port: 47808 }                                  a device on this network
 *   { host: '192.168.1.1', port: 47808, network: 5, mac: Uint8Array.of(7) } MS/TP MAC 7 on network 5 via a router
 *   { network: 5, mac: Uint8Array.of(7) }                                   the same, router found by Who-Is-Router-To-Network
 *
 * The transaction key of an address is its logical device address: 'host:port' for local
 * devices, 'network:mac' for remote ones (replies come from the router with SNET/SADR).
 */
import { LocalProtocolError } from '../wire/errors';
import { ipv4Octets } from './bvlc';

export const DEFAULT_PORT = 47808;

export interface BacnetAddress {
  /** IPv4 address of the device, or of the router for remote networks. */
  host?: string;
  /** UDP port (default 47808, or the endpoint's destination port). */
  port?: number;
  /** Remote network number (DNET), 1..65534. */
  network?: number;
  /** MAC address on the remote network (DADR). */
  mac?: Uint8Array;
}

/** An address with host and port resolved (what a received datagram carries). */
export interface ResolvedAddress extends BacnetAddress {
  host: string;
  port: number;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** Transaction / cache key: the logical device address. */
export function addressKey(a: BacnetAddress, defaultPort = DEFAULT_PORT): string {
  if (a.network !== undefined && a.network !== 0 && a.mac) return `${a.network}:${hex(a.mac)}`;
  return `${a.host ?? '?'}:${a.port ?? defaultPort}`;
}

/** Human text: '192.168.1.20:47808' or 'network 5 MAC 07 via 192.168.1.1:47808'. */
export function formatAddress(a: BacnetAddress): string {
  const ip = a.host !== undefined ? `${a.host}:${a.port ?? DEFAULT_PORT}` : undefined;
  if (a.network !== undefined && a.network !== 0 && a.mac) {
    return `network ${a.network} MAC ${hex(a.mac) || '(broadcast)'}${ip ? ` via ${ip}` : ''}`;
  }
  return ip ?? '(no address)';
}

/** Parse a MAC given as bytes, hex text ('0a', '0a:1b'), a small number (MS/TP), or 'ip:port' (B/IP). */
export function parseMac(x: Uint8Array | string | number | number[]): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (Array.isArray(x)) return Uint8Array.from(x);
  if (typeof x === 'number') {
    if (!Number.isInteger(x) || x < 0 || x > 255) throw new LocalProtocolError(`MAC ${x} is not 0..255`);
    return Uint8Array.of(x);
  }
  const ipPort = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(x.trim());
  if (ipPort) {
    const o = ipv4Octets(ipPort[1]!);
    const port = Number(ipPort[2] ?? DEFAULT_PORT);
    return Uint8Array.of(o[0], o[1], o[2], o[3], port >> 8, port & 0xff);
  }
  const h = x.replace(/[\s:.-]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(h)) throw new LocalProtocolError(`'${x}' is not a MAC address (hex octets)`);
  return Uint8Array.from(h.match(/../g)!, (p) => parseInt(p, 16));
}

/**
 * An address from 'host', 'host:port', { host, port?, network?, mac? } (mac as bytes, hex text
 * or number). Checks the parts; the port defaults to `defaultPort`.
 */
export function parseAddress(x: string | BacnetAddress | { host?: string; port?: number; network?: number; mac?: Uint8Array | string | number | number[] }, defaultPort = DEFAULT_PORT): BacnetAddress {
  if (typeof x === 'string') {
    const m = /^\s*(\d+\.\d+\.\d+\.\d+)(?::(\d+))?\s*$/.exec(x);
    if (!m) throw new LocalProtocolError(`'${x}' is not an IPv4 address with optional port (e.g. 192.168.1.20:47808)`);
    ipv4Octets(m[1]!);
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (port < 1 || port > 65535) throw new LocalProtocolError(`port ${port} is outside 1..65535`);
    return { host: m[1]!, port };
  }
  const out: BacnetAddress = {};
  if (x.host !== undefined) {
    ipv4Octets(x.host);
    out.host = x.host;
    out.port = x.port ?? defaultPort;
    if (!Number.isInteger(out.port) || out.port < 1 || out.port > 65535) throw new LocalProtocolError(`port ${out.port} is outside 1..65535`);
  }
  if (x.network !== undefined && x.network !== 0) {
    if (!Number.isInteger(x.network) || x.network < 1 || x.network > 65534) throw new LocalProtocolError(`network ${x.network} is outside 1..65534`);
    if (x.mac === undefined) throw new LocalProtocolError('a device on a remote network needs its MAC address');
    out.network = x.network;
    out.mac = parseMac(x.mac);
  }
  if (out.host === undefined && out.network === undefined) throw new LocalProtocolError('an address needs a host or a network and MAC');
  return out;
}

/** True when two addresses name the same device (same logical address). */
export function sameDevice(a: BacnetAddress, b: BacnetAddress): boolean {
  return addressKey(a) === addressKey(b);
}

/** Compute the directed broadcast address of an IPv4 address and netmask ('192.168.1.20', '255.255.255.0' -> '192.168.1.255'). */
export function broadcastAddress(address: string, netmask: string): string {
  const a = ipv4Octets(address);
  const m = ipv4Octets(netmask);
  return a.map((o, i) => (o | (~m[i]! & 0xff)) & 0xff).join('.');
}
