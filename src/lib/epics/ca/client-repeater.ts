/**
 * The beacon repeater a client context runs when it finds the host's repeater port free
 * (EPICS_CA_REPEATER_PORT, 5065), shared by every context of this process.
 *
 * Servers send beacons (RSRV_IS_UP) to the repeater port of each client host; the one process
 * bound there hands each beacon to every client that registered (REPEATER_REGISTER →
 * REPEATER_CONFIRM), as libca's caRepeater does. Libca clients register once and do not check on
 * the repeater again, so a repeater that comes and goes strands them without beacons. In Node-RED
 * the contexts are recreated on every redeploy; hence the repeater here belongs to the process,
 * not to one context: contexts attach to it, and when the last one detaches it stays bound for a
 * short linger (long enough for a redeploy to attach the next context), then closes.
 */
import * as dgram from 'node:dgram';
import { Command, HEADER_SIZE } from './constants';
import { encodeRepeaterConfirm, ipv4ToU32 } from './messages';

/** Most clients a repeater forwards to (oldest registrations are dropped beyond this). */
const MAX_REPEATER_CLIENTS = 256;

export type RepeaterListener = (msg: Buffer, from: dgram.RemoteInfo) => void;

const running = new Map<string, LocalRepeater>();

export class LocalRepeater {
  readonly key: string;
  readonly #socket: dgram.Socket;
  readonly #listeners = new Set<RepeaterListener>();
  readonly #clients = new Map<string, { address: string; port: number }>();
  /** Ports of this process's own search sockets: they get beacons in-process, not as datagrams. */
  readonly #ownPorts = new Set<number>();
  #linger: NodeJS.Timeout | undefined;
  #closed = false;
  forwarded = 0;
  faults = 0;

  private constructor(key: string, socket: dgram.Socket) {
    this.key = key;
    this.#socket = socket;
    socket.on('error', () => void this.faults++);
    socket.on('message', (msg, rinfo) => {
      try {
        this.#receive(msg, rinfo);
      } catch {
        this.faults++;
      }
    });
  }

  /**
   * The process's repeater on `address:port`: the running one, or a new one if the port is free.
   * Undefined when another process holds the port (then register with it).
   */
  static async acquire(address: string, port: number): Promise<LocalRepeater | undefined> {
    const key = `${address}:${port}`;
    const cur = running.get(key);
    if (cur && !cur.#closed) return cur;
    const s = dgram.createSocket({ type: 'udp4' });
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind({ port, address, exclusive: true }, () => resolve(true));
    });
    if (!ok) {
      try {
        s.close();
      } catch {
        // never bound
      }
      // Another context of this process may have bound it meanwhile.
      const again = running.get(key);
      return again && !again.#closed ? again : undefined;
    }
    const raced = running.get(key);
    if (raced && !raced.#closed) {
      s.close();
      return raced;
    }
    const r = new LocalRepeater(key, s);
    running.set(key, r);
    return r;
  }

  /** Running repeaters of this process (diagnostics, tests). */
  static running(): LocalRepeater[] {
    return [...running.values()];
  }

  /**
   * Receive every beacon here; `searchPort` is the context's own search socket, which then gets
   * nothing twice. Returns the detach function; `lingerMs` is how long the repeater stays bound
   * after the last context detached.
   */
  attach(listener: RepeaterListener, searchPort: number): (lingerMs: number) => Promise<void> {
    if (this.#linger) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
      this.#socket.ref();
    }
    this.#listeners.add(listener);
    this.#ownPorts.add(searchPort);
    let attached = true;
    return async (lingerMs: number) => {
      if (!attached) return;
      attached = false;
      this.#listeners.delete(listener);
      this.#ownPorts.delete(searchPort);
      if (this.#listeners.size > 0) return;
      if (lingerMs <= 0) return this.#close();
      this.#linger = setTimeout(() => {
        this.#linger = undefined;
        if (this.#listeners.size === 0) void this.#close();
      }, lingerMs);
      // Lingering is for a context that may come next; it must not keep an exiting process alive.
      this.#linger.unref();
      this.#socket.unref();
    };
  }

  #close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#linger) clearTimeout(this.#linger);
    this.#linger = undefined;
    if (running.get(this.key) === this) running.delete(this.key);
    return new Promise<void>((r) => {
      try {
        this.#socket.close(() => r());
      } catch {
        r();
      }
    });
  }

  #send(b: Uint8Array, port: number, host: string): void {
    if (this.#closed) return;
    try {
      this.#socket.send(b, port, host, (err) => {
        if (err) this.faults++;
      });
    } catch {
      this.faults++;
    }
  }

  #receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const cmd = msg.length >= HEADER_SIZE ? (msg[0]! << 8) | msg[1]! : -1;
    const key = `${rinfo.address}:${rinfo.port}`;
    if (cmd === Command.REPEATER_REGISTER) {
      // A client on this host registers (libca accepts registrations from local addresses only).
      if (!rinfo.address.startsWith('127.') && rinfo.address !== '::1') return;
      const self = (this.#socket.address() as { port: number }).port;
      if (rinfo.port === self) return;
      this.#clients.delete(key);
      if (!this.#ownPorts.has(rinfo.port)) this.#clients.set(key, { address: rinfo.address, port: rinfo.port });
      if (this.#clients.size > MAX_REPEATER_CLIENTS) this.#clients.delete(this.#clients.keys().next().value as string);
      this.#send(encodeRepeaterConfirm({ repeaterIp: ipv4ToU32(rinfo.address) }), rinfo.port, rinfo.address);
      return;
    }
    if (this.#clients.has(key)) return; // clients do not talk to each other through us
    // A beacon (or anything else a server sends here): to every registered client and to this
    // process's contexts. A beacon without its server address gets the sender's.
    let out: Buffer = msg;
    if (cmd === Command.RSRV_IS_UP && msg.length >= HEADER_SIZE && msg.readUInt32BE(12) === 0) {
      out = Buffer.from(msg);
      out.writeUInt32BE(ipv4ToU32(rinfo.address), 12);
    }
    for (const c of this.#clients.values()) {
      if (this.#ownPorts.has(c.port)) continue;
      this.forwarded++;
      this.#send(out, c.port, c.address);
    }
    for (const l of [...this.#listeners]) {
      try {
        l(out, rinfo);
      } catch {
        this.faults++;
      }
    }
  }
}
