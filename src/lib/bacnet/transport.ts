/**
 * The BACnet/IP datagram transport (ASHRAE 135-2020 Annex J.1, J.4: B/IP addresses and local
 * broadcasts) on node:dgram. The only module of the stack that touches sockets.
 *
 * - One socket per endpoint, bound WITHOUT SO_REUSEADDR: a port held by another program is
 *   reported (`PortInUseError`, in words, with the fix) instead of being shared silently.
 * - The local port and the port devices listen on are separate settings (the endpoint's
 *   `destinationPort`): run on 47809, talk to devices on 47808.
 * - The broadcast address is the directed broadcast of the chosen interface (address | ~mask),
 *   never the all-ones limited broadcast unless asked for.
 * - Linux delivers a subnet broadcast only to sockets bound to the wildcard address or to the
 *   broadcast address itself: when bound to one interface address, a second socket is bound to
 *   the broadcast address and port to receive broadcasts (both without address sharing).
 * - The receive path never throws into node:dgram; every send reports its own failure.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { FieldlinkError } from '../wire/errors';
import { broadcastAddress } from './address';
import { PortInUseError, SendFailedError } from './errors';

/** What the endpoint needs from a datagram transport (node:dgram here, memory in tests). */
export interface DatagramTransport {
  /** The bound local address and port. */
  readonly local: { host: string; port: number };
  /** The directed broadcast address local broadcasts are sent to. */
  readonly broadcastAddress: string;
  /** Set by the endpoint; called for every datagram received. */
  onMessage: ((data: Uint8Array, host: string, port: number) => void) | undefined;
  /** Send one datagram; `cb` reports the outcome (err undefined = handed to the kernel). */
  send(data: Uint8Array, host: string, port: number, cb: (err?: Error) => void): void;
  /** True for datagrams we sent ourselves (a broadcast coming back). */
  isSelf(host: string, port: number): boolean;
  close(): Promise<void>;
}

export interface NetworkInterfaceInfo {
  name: string;
  address: string;
  netmask: string;
  broadcast: string;
  internal: boolean;
}

/** IPv4 interfaces of this machine with their directed broadcast addresses (for the editor). */
export function listInterfaces(): NetworkInterfaceInfo[] {
  const out: NetworkInterfaceInfo[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      out.push({ name, address: a.address, netmask: a.netmask, broadcast: broadcastAddress(a.address, a.netmask), internal: a.internal });
    }
  }
  return out;
}

export interface UdpTransportOptions {
  /** Local UDP port (default 47808; 0 = any free port). */
  port?: number;
  /** Address to bind (default 0.0.0.0, every interface). */
  localAddress?: string;
  /** OS interface name ('eth0'): its address gives the broadcast address (and the bind address if `bindInterface`). */
  interface?: string;
  /** Bind to the interface's own address instead of the wildcard (a broadcast socket is added). */
  bindInterface?: boolean;
  /** Directed broadcast address; computed from the interface when omitted. */
  broadcastAddress?: string;
  /**
   * Kernel receive buffer in octets (default 1 MiB; the OS caps it at net.core.rmem_max). Many
   * replies in flight arrive in bursts: the usual 208 KiB default drops some of 200.
   */
  receiveBufferSize?: number;
}

function bind(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      sock.removeListener('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      sock.removeListener('error', onError);
      resolve();
    };
    sock.once('error', onError);
    sock.once('listening', onListening);
    sock.bind({ port, address, exclusive: true });
  });
}

function closeSocket(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

export class UdpTransport implements DatagramTransport {
  readonly local: { host: string; port: number };
  readonly broadcastAddress: string;
  /** Why broadcasts cannot be received, when they cannot (shown in node status). */
  readonly broadcastWarning?: string;
  onMessage: ((data: Uint8Array, host: string, port: number) => void) | undefined;
  /** Socket-level errors after binding (counted; they never throw). */
  socketErrors = 0;
  private readonly selfHosts: Set<string>;
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    private readonly bcastSock: Socket | undefined,
    local: { host: string; port: number },
    broadcast: string,
    warning: string | undefined,
  ) {
    this.local = local;
    this.broadcastAddress = broadcast;
    if (warning) this.broadcastWarning = warning;
    this.selfHosts = new Set(local.host === '0.0.0.0' ? listInterfaces().map((i) => i.address) : [local.host]);
    const deliver = (msg: Buffer, rinfo: { address: string; port: number }): void => {
      const h = this.onMessage;
      if (!h || this.closed) return;
      try {
        h(msg, rinfo.address, rinfo.port);
      } catch {
        // the endpoint's receive path catches its own faults; this is the last line of defence
        this.socketErrors++;
      }
    };
    sock.on('message', deliver);
    sock.on('error', () => void this.socketErrors++);
    if (bcastSock) {
      bcastSock.on('message', deliver);
      bcastSock.on('error', () => void this.socketErrors++);
    }
  }

  /** Bind the socket(s). Rejects with PortInUseError when the port is taken. */
  static async open(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
    const port = opts.port ?? 47808;
    let bindAddress = opts.localAddress ?? '0.0.0.0';
    let ifAddr: NetworkInterfaceInfo | undefined;
    if (opts.interface) {
      ifAddr = listInterfaces().find((i) => i.name === opts.interface);
      if (!ifAddr) throw new FieldlinkError('ENOIFACE', `network interface '${opts.interface}' has no IPv4 address on this machine`);
      if (opts.bindInterface) bindAddress = ifAddr.address;
    } else if (bindAddress !== '0.0.0.0') {
      ifAddr = listInterfaces().find((i) => i.address === bindAddress);
    } else {
      ifAddr = listInterfaces().find((i) => !i.internal);
    }
    const bcast = opts.broadcastAddress ?? (ifAddr ? ifAddr.broadcast : '255.255.255.255');

    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    try {
      await bind(sock, port, bindAddress);
    } catch (e) {
      await closeSocket(sock);
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new PortInUseError(bindAddress, port);
      if (err.code === 'EADDRNOTAVAIL') throw new FieldlinkError('EADDRNOTAVAIL', `address ${bindAddress} is not an address of this machine`, { cause: err });
      if (err.code === 'EACCES') throw new FieldlinkError('EACCES', `not allowed to bind UDP ${bindAddress}:${port}`, { cause: err });
      throw err;
    }
    sock.setBroadcast(true);
    if (opts.receiveBufferSize !== 0) {
      try {
        sock.setRecvBufferSize(opts.receiveBufferSize ?? 1 << 20);
      } catch {
        // capped by the OS: keep the default
      }
    }
    const boundPort = sock.address().port;
    let bcastSock: Socket | undefined;
    let warning: string | undefined;
    if (bindAddress !== '0.0.0.0' && bcast !== bindAddress && bcast !== '255.255.255.255') {
      const s = createSocket({ type: 'udp4', reuseAddr: false });
      try {
        await bind(s, boundPort, bcast);
        bcastSock = s;
      } catch (e) {
        await closeSocket(s);
        warning = `broadcasts to ${bcast}:${boundPort} cannot be received (${(e as NodeJS.ErrnoException).code ?? String(e)}): ` +
          `Who-Is and I-Am from other devices will not arrive; bind to all interfaces (0.0.0.0) or free the port`;
      }
    }
    return new UdpTransport(sock, bcastSock, { host: bindAddress, port: boundPort }, bcast, warning);
  }

  send(data: Uint8Array, host: string, port: number, cb: (err?: Error) => void): void {
    if (this.closed) {
      cb(new SendFailedError('the BACnet socket is closed'));
      return;
    }
    try {
      this.sock.send(data, port, host, (err) => {
        if (err) cb(new SendFailedError(`sending to ${host}:${port} failed: ${err.message}`, { cause: err }));
        else cb();
      });
    } catch (e) {
      cb(new SendFailedError(`sending to ${host}:${port} failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  isSelf(host: string, port: number): boolean {
    return port === this.local.port && this.selfHosts.has(host);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onMessage = undefined;
    await Promise.all([closeSocket(this.sock), this.bcastSock ? closeSocket(this.bcastSock) : Promise.resolve()]);
  }
}
