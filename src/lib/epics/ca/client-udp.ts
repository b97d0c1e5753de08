/**
 * The client's UDP side: one search socket (searches out, search replies and forwarded beacons
 * in), and beacons through the repeater port.
 *
 * Beacons go to the repeater port (EPICS_CA_REPEATER_PORT, 5065) of each client host, where one
 * repeater process hands them to every registered client. A context first tries to bind that
 * port itself: if it can, it is the host's repeater (it answers REPEATER_REGISTER with
 * REPEATER_CONFIRM and forwards every other datagram to the registered clients, as libca's
 * caRepeater does); if the port is taken (caRepeater, another context), it registers with that
 * repeater from its search socket and receives the forwarded beacons there. Unconfirmed
 * registrations are retried, and a client whose repeater went away takes the port over.
 *
 * Only the destinations the caller gives are ever sent to; the broadcast flag is set only when
 * one of them is a broadcast address.
 */
import * as dgram from 'node:dgram';
import { Command, HEADER_SIZE } from './constants';
import { encodeRepeaterConfirm, encodeRepeaterRegister, ipv4ToU32 } from './messages';

export interface ClientUdpOptions {
  bindAddress: string;
  repeaterPort: number;
  /** Whether some destination is a broadcast address (sets SO_BROADCAST). */
  broadcast: boolean;
  /** A datagram for the context (search replies, beacons). */
  onDatagram(msg: Buffer, from: { address: string; port: number }): void;
  onError(e: Error): void;
}

export type RepeaterRole = 'none' | 'repeater' | 'registering' | 'registered';

/** Most clients a repeater forwards to (oldest registrations are dropped beyond this). */
const MAX_REPEATER_CLIENTS = 256;

export class ClientUdp {
  readonly #o: ClientUdpOptions;
  #search: dgram.Socket | undefined;
  #repeater: dgram.Socket | undefined;
  #role: RepeaterRole = 'none';
  #clients = new Map<string, { address: string; port: number }>();
  #regTimer: NodeJS.Timeout | undefined;
  #regTries = 0;
  #closed = false;
  sent = 0;
  sendErrors = 0;
  /** Datagrams whose handling raised a fault (counted and dropped). */
  receiveFaults = 0;
  forwarded = 0;

  constructor(o: ClientUdpOptions) {
    this.#o = o;
  }

  get role(): RepeaterRole {
    return this.#role;
  }

  /** Local port of the search socket. */
  get port(): number {
    try {
      return this.#search?.address().port ?? 0;
    } catch {
      return 0;
    }
  }

  /** Bind the search socket, then take or register with the repeater. */
  async open(): Promise<void> {
    const s = dgram.createSocket({ type: 'udp4' });
    s.on('error', (e) => this.#o.onError(e));
    s.on('message', (msg, rinfo) => this.#guard(() => this.#fromSearch(msg, rinfo)));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port: 0, address: this.#o.bindAddress }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    if (this.#closed) {
      s.close();
      return;
    }
    this.#search = s;
    try {
      s.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // the kernel may refuse; the send window keeps us within the default buffer anyway
    }
    if (this.#o.broadcast) {
      try {
        s.setBroadcast(true);
      } catch (e) {
        this.#o.onError(e as Error);
      }
    }
    await this.#takeRepeater();
  }

  async #takeRepeater(): Promise<void> {
    if (this.#closed) return;
    const r = dgram.createSocket({ type: 'udp4' });
    const ok = await new Promise<boolean>((resolve) => {
      r.once('error', () => resolve(false));
      r.bind({ port: this.#o.repeaterPort, address: this.#o.bindAddress, exclusive: true }, () => resolve(true));
    });
    if (!ok || this.#closed) {
      try {
        r.close();
      } catch {
        // never bound
      }
      if (!this.#closed) this.#register();
      return;
    }
    r.on('error', (e) => this.#o.onError(e));
    r.on('message', (msg, rinfo) => this.#guard(() => this.#fromRepeaterPort(msg, rinfo)));
    this.#repeater = r;
    this.#role = 'repeater';
    if (this.#regTimer) clearTimeout(this.#regTimer);
    this.#regTimer = undefined;
  }

  #register(): void {
    if (this.#closed || !this.#search) return;
    if (this.#role !== 'registered') this.#role = 'registering';
    this.#regTries++;
    this.#sendRaw(encodeRepeaterRegister({ clientIp: ipv4ToU32('127.0.0.1') }), this.#o.repeaterPort, '127.0.0.1');
    // Retry quickly until confirmed, then re-register now and then (the repeater may restart).
    const delay = this.#role === 'registered' ? 60_000 : Math.min(5000, 200 * this.#regTries);
    if (this.#regTimer) clearTimeout(this.#regTimer);
    this.#regTimer = setTimeout(() => {
      this.#regTimer = undefined;
      if (this.#closed) return;
      // Unconfirmed for a while: the repeater may be gone; try to become it.
      if (this.#role === 'registering' && this.#regTries % 5 === 0) void this.#takeRepeater().catch((e: unknown) => this.#o.onError(e as Error));
      else this.#register();
    }, delay);
    this.#regTimer.unref();
  }

  #fromSearch(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length >= HEADER_SIZE && ((msg[0]! << 8) | msg[1]!) === Command.REPEATER_CONFIRM) {
      if (this.#role === 'registering') {
        this.#role = 'registered';
        this.#regTries = 0;
        if (this.#regTimer) clearTimeout(this.#regTimer);
        this.#regTimer = setTimeout(() => {
          this.#regTimer = undefined;
          this.#register();
        }, 60_000);
        this.#regTimer.unref();
      }
      return;
    }
    this.#o.onDatagram(msg, rinfo);
  }

  #fromRepeaterPort(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const cmd = msg.length >= HEADER_SIZE ? (msg[0]! << 8) | msg[1]! : -1;
    const key = `${rinfo.address}:${rinfo.port}`;
    if (cmd === Command.REPEATER_REGISTER) {
      // A client on this host registers (libca accepts registrations from local addresses only).
      if (!rinfo.address.startsWith('127.') && rinfo.address !== '::1') return;
      if (rinfo.port === this.port) return;
      this.#clients.delete(key);
      this.#clients.set(key, { address: rinfo.address, port: rinfo.port });
      if (this.#clients.size > MAX_REPEATER_CLIENTS) this.#clients.delete(this.#clients.keys().next().value as string);
      this.#sendRaw(encodeRepeaterConfirm({ repeaterIp: ipv4ToU32(rinfo.address) }), rinfo.port, rinfo.address, this.#repeater);
      return;
    }
    if (this.#clients.has(key)) return; // clients do not talk to each other through us
    // A beacon (or anything else a server sends here): ours, and forwarded to every client.
    // A beacon without its server address gets the sender's, so clients see who sent it.
    let out: Buffer = msg;
    if (cmd === Command.RSRV_IS_UP && msg.length >= HEADER_SIZE && msg.readUInt32BE(12) === 0) {
      out = Buffer.from(msg);
      out.writeUInt32BE(ipv4ToU32(rinfo.address), 12);
    }
    for (const c of this.#clients.values()) {
      this.forwarded++;
      this.#sendRaw(out, c.port, c.address, this.#repeater);
    }
    this.#o.onDatagram(out, rinfo);
  }

  /** Last line of defence of the receive path: a datagram that trips a fault is counted, never thrown into Node-RED. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.receiveFaults++;
    }
  }

  #sendRaw(b: Uint8Array, port: number, host: string, sock = this.#search): void {
    if (!sock || this.#closed) return;
    try {
      sock.send(b, port, host, (err) => {
        if (err) this.sendErrors++;
      });
    } catch {
      this.sendErrors++;
    }
  }

  /** Send one datagram to one destination from the search socket. */
  send(b: Uint8Array, port: number, host: string): void {
    this.sent++;
    this.#sendRaw(b, port, host);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#regTimer) clearTimeout(this.#regTimer);
    this.#regTimer = undefined;
    const waits: Array<Promise<void>> = [];
    for (const s of [this.#search, this.#repeater]) {
      if (!s) continue;
      waits.push(new Promise<void>((r) => {
        try {
          s.close(() => r());
        } catch {
          r();
        }
      }));
    }
    this.#search = undefined;
    this.#repeater = undefined;
    this.#role = 'none';
    await Promise.all(waits);
  }
}
