/**
 * The client's UDP side: one search socket (searches out, search replies and forwarded beacons
 * in), and beacons through the repeater port.
 *
 * Beacons go to the repeater port (EPICS_CA_REPEATER_PORT, 5065) of each client host, where one
 * repeater process hands them to every registered client. A context attaches to this process's
 * repeater (client-repeater.ts), which binds that port if it is free; if another process holds
 * it (caRepeater, another Node-RED), the context registers with that repeater from its search
 * socket and receives the forwarded beacons there. Registrations are repeated: quickly until
 * confirmed, then every 10 s, because a repeater may restart; a client whose repeater went away
 * takes the port over.
 *
 * Only the destinations the caller gives are ever sent to; the broadcast flag is set only when
 * one of them is a broadcast address.
 */
import * as dgram from 'node:dgram';
import { Command, HEADER_SIZE } from './constants';
import { encodeRepeaterRegister, ipv4ToU32 } from './messages';
import { LocalRepeater } from './client-repeater';

export interface ClientUdpOptions {
  bindAddress: string;
  repeaterPort: number;
  /** How long this process's repeater stays bound after its last context closed, ms (default 0). */
  repeaterLingerMs?: number;
  /** Whether some destination is a broadcast address (sets SO_BROADCAST). */
  broadcast: boolean;
  /** A datagram for the context (search replies, beacons). */
  onDatagram(msg: Buffer, from: { address: string; port: number }): void;
  onError(e: Error): void;
}

export type RepeaterRole = 'none' | 'repeater' | 'registering' | 'registered';

export class ClientUdp {
  readonly #o: ClientUdpOptions;
  #search: dgram.Socket | undefined;
  #detach: ((lingerMs: number) => Promise<void>) | undefined;
  #role: RepeaterRole = 'none';
  #regTimer: NodeJS.Timeout | undefined;
  #regTries = 0;
  /** A REPEATER_CONFIRM came in since the last REPEATER_REGISTER went out. */
  #confirmed = false;
  #closed = false;
  sent = 0;
  sendErrors = 0;
  /** Datagrams whose handling raised a fault (counted and dropped). */
  receiveFaults = 0;

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
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind({ port: 0, address: this.#o.bindAddress }, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      try {
        s.close();
      } catch {
        // never bound
      }
      throw e;
    }
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
    const rep = await LocalRepeater.acquire(this.#o.bindAddress, this.#o.repeaterPort);
    if (this.#closed) {
      // Closed while the repeater was being bound: let go of it as close() would have, so that
      // it lingers and closes rather than staying bound for good.
      if (rep) await rep.attach(() => {}, this.port)(this.#o.repeaterLingerMs ?? 0);
      return;
    }
    if (!rep) {
      this.#register();
      return;
    }
    this.#detach = rep.attach((msg, rinfo) => this.#guard(() => this.#o.onDatagram(msg, rinfo)), this.port);
    this.#role = 'repeater';
    if (this.#regTimer) clearTimeout(this.#regTimer);
    this.#regTimer = undefined;
  }

  #register(): void {
    if (this.#closed || !this.#search) return;
    if (this.#role !== 'registered') this.#role = 'registering';
    this.#regTries++;
    this.#confirmed = false;
    this.#sendRaw(encodeRepeaterRegister({ clientIp: ipv4ToU32('127.0.0.1') }), this.#o.repeaterPort, '127.0.0.1');
    // Retry quickly until confirmed, then re-register now and then (the repeater may restart).
    const delay = this.#role === 'registered' ? 10_000 : Math.min(5000, 200 * this.#regTries);
    if (this.#regTimer) clearTimeout(this.#regTimer);
    this.#regTimer = setTimeout(() => {
      this.#regTimer = undefined;
      if (this.#closed) return;
      if (this.#role === 'registered' && !this.#confirmed) {
        // The repeater did not confirm the re-registration: it may be gone. Try to take the port
        // over now; while another repeater holds it, registering starts again from the first try.
        this.#role = 'registering';
        this.#regTries = 0;
      }
      // Unconfirmed for a while: the repeater may be gone; try to become it.
      if (this.#role === 'registering' && this.#regTries % 5 === 0) void this.#takeRepeater().catch((e: unknown) => this.#o.onError(e as Error));
      else this.#register();
    }, delay);
    this.#regTimer.unref();
  }

  #fromSearch(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length >= HEADER_SIZE && ((msg[0]! << 8) | msg[1]!) === Command.REPEATER_CONFIRM) {
      this.#confirmed = true;
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

  /** Last line of defence of the receive path: a datagram that trips a fault is counted, never thrown into Node-RED. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch {
      this.receiveFaults++;
    }
  }

  #sendRaw(b: Uint8Array, port: number, host: string): void {
    const sock = this.#search;
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
    const s = this.#search;
    if (s) {
      waits.push(new Promise<void>((r) => {
        try {
          s.close(() => r());
        } catch {
          r();
        }
      }));
    }
    if (this.#detach) waits.push(this.#detach(this.#o.repeaterLingerMs ?? 0));
    this.#search = undefined;
    this.#detach = undefined;
    this.#role = 'none';
    await Promise.all(waits);
  }
}
