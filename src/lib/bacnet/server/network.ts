/**
 * What the server needs from the network, kept small so the server core runs without sockets:
 * the address of a peer (a B/IP address, plus SNET/SADR when the peer sits behind a router,
 * ASHRAE 135-2020 Clause 6.2.2 and Annex J.1.2), and the sends the server initiates (I-Am,
 * I-Have, COV and event notifications). The endpoint binding (server/endpoint-binding.ts)
 * implements it on the stack's application layer; tests implement it with arrays.
 */
import type { AddressValue } from '../codec/constructed';
import { ipEndpointToMac, macToIpEndpoint } from '../bvlc';
import type { ConfirmedServiceName, UnconfirmedServiceName } from '../services/registry';

/** A peer as the server sees it: where its datagrams come from, and its network address if routed. */
export interface PeerAddress {
  host: string;
  port: number;
  /** SNET/DNET of a peer behind a router. */
  network?: number;
  /** SADR/DADR of a peer behind a router. */
  mac?: Uint8Array;
}

/** 'host:port' or 'host:port/net:mac-hex' (map keys, allow lists, logs). */
export function peerKey(p: PeerAddress): string {
  const base = `${p.host}:${p.port}`;
  if (p.network === undefined) return base;
  return `${base}/${p.network}:${Buffer.from(p.mac ?? new Uint8Array(0)).toString('hex')}`;
}

/** The BACnetAddress of a peer (network 0 and the 6-octet B/IP MAC for a direct peer). */
export function peerToAddressValue(p: PeerAddress): AddressValue {
  if (p.network !== undefined && p.mac) return { network: p.network, mac: p.mac };
  return { network: 0, mac: ipEndpointToMac({ host: p.host, port: p.port }) };
}

/** A peer from a BACnetAddress (a recipient list entry); undefined when it is not a direct B/IP address. */
export function addressValueToPeer(a: AddressValue): PeerAddress | undefined {
  if (a.network !== 0) return undefined;
  const e = macToIpEndpoint(a.mac);
  return e ? { host: e.host, port: e.port } : undefined;
}

/** Sends the server initiates. */
export interface ServerNetwork {
  /** Send an unconfirmed request to a peer, or broadcast it on the local network. */
  sendUnconfirmed(to: PeerAddress | 'broadcast', service: UnconfirmedServiceName, request: unknown): void;
  /** Send a confirmed request; resolves on the ACK, rejects on error, reject, abort or timeout. */
  sendConfirmed(to: PeerAddress, service: ConfirmedServiceName, request: unknown): Promise<unknown>;
  /**
   * Where the answer to an unconfirmed request goes (I-Am for Who-Is, I-Have for Who-Has):
   * the transport's rule; without one, back to the requester.
   */
  answerTo?(source: PeerAddress, broadcastRequest: boolean): PeerAddress | 'broadcast';
  /** The address of a device by instance (Who-Is), for recipients named by device. */
  resolveDevice?(instance: number): Promise<PeerAddress | undefined>;
}

/** A network that sends nothing (a server not bound yet). */
export const detachedNetwork: ServerNetwork = {
  sendUnconfirmed: () => undefined,
  sendConfirmed: () => Promise.reject(new Error('the server is not attached to a network')),
};
