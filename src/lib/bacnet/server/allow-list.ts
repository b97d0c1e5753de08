/**
 * Which peers may change the device (the bacnet-server write protection): an allow-list of
 * IPv4 hosts ('192.0.2.7'), host and port ('192.0.2.7:47809') or prefixes ('192.0.2.0/24').
 * An empty list allows every peer. BACnet itself has no such list; a refused write is answered
 * with property / write-access-denied (ASHRAE 135-2020 Clause 15.9).
 */
import { ipv4Octets } from '../bvlc';
import type { PeerAddress } from './network';

interface Rule {
  net: number;
  mask: number;
  port?: number;
}

function toInt(host: string): number {
  const o = ipv4Octets(host);
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

/** Parse allow-list entries; throws on an entry that is not an address, address:port or prefix. */
export function parseAllowList(entries: readonly string[]): Rule[] {
  const rules: Rule[] = [];
  for (const raw of entries) {
    const e = raw.trim();
    if (!e) continue;
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2})|:(\d{1,5}))?$/.exec(e);
    if (!m) throw new Error(`'${e}' is not an IPv4 address, address:port or address/prefix`);
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    if (bits > 32) throw new Error(`'${e}': prefix length above 32`);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const rule: Rule = { net: (toInt(m[1]!) & mask) >>> 0, mask };
    if (m[3] !== undefined) {
      const port = Number(m[3]);
      if (port < 1 || port > 65535) throw new Error(`'${e}': port outside 1..65535`);
      rule.port = port;
    }
    rules.push(rule);
  }
  return rules;
}

/** A predicate over peers from allow-list entries (empty: everyone). */
export function allowListPredicate(entries: readonly string[]): (peer: PeerAddress) => boolean {
  const rules = parseAllowList(entries);
  if (!rules.length) return () => true;
  return (peer) => {
    let ip: number;
    try {
      ip = toInt(peer.host);
    } catch {
      return false;
    }
    return rules.some((r) => ((ip & r.mask) >>> 0) === r.net && (r.port === undefined || r.port === peer.port));
  };
}
