/**
 * BacnetEndpoint: one BACnet/IP node on one UDP socket, serving both roles (ASHRAE 135-2020
 * Clause 5 application layer, Clause 6 network layer, Annex J BACnet/IP).
 *
 * It owns the transport, the network layer (router table), the client transaction state machine
 * (requests we send), the server transaction state machine (requests we answer), foreign-device
 * registration and the device cache, and drives them all from one timer.
 *
 *   const ep = await BacnetEndpoint.open({ port: 47809, broadcastAddress: '192.168.1.255' });
 *   const ack = await ep.confirmedRequest('192.168.1.20', 'read-property',
 *     { objectId: { type: 0, instance: 1 }, propertyId: 85 });          // ack.value: BacnetValue[]
 *   const devices = await ep.whoIs({ timeout: 2000 });
 *   ep.onConfirmed('read-property', (req, ctx) => ({ ...req, value: [Value.real(21.5)] }));
 *   await ep.close();
 *
 * Requests to a device by instance number (`ep.confirmedRequest(1234, ...)`) find its address
 * through the device cache or a Who-Is. Handlers answer with their return value (SimpleACK when
 * the service has no ACK) or throw BacnetError / BacnetRejectError / BacnetAbortError.
 */
import { EventEmitter } from 'node:events';
import { Reader } from '../wire/reader';
import { Writer } from '../wire/writer';
import { DecodeError, FieldlinkError, LocalProtocolError } from '../wire/errors';
import { type Apdu, PduType, decodeApdu, writeApdu } from './apdu';
import { BvlcFunction, beginBvlc, decodeBvlc, endBvlc, ipv4Octets, type IpEndpoint } from './bvlc';
import { type NetworkMessage, type Npdu, GLOBAL_NETWORK, decodeNpdu, decodeNetworkMessage, writeNetworkMessageBody, writeNpduHeader } from './npdu';
import { type BacnetAddress, type ResolvedAddress, DEFAULT_PORT, addressKey, formatAddress, parseAddress } from './address';
import { ClientTsm, type ClientOutcome, type ClientTransaction, type ClientTsmOptions, type PeerLimits } from './client-tsm';
import { ServerTsm, type IncomingRequest, type ServerResponse, type ServerTsmOptions } from './server-tsm';
import { NetworkLayer, type NetworkEvent, type RouterEntry } from './network';
import { ForeignDeviceRegistration, type RegistrationStatus } from './foreign-device';
import { DeviceCache, type DeviceInfo, type DuplicateDevice } from './device-cache';
import { type DatagramTransport, UdpTransport, type UdpTransportOptions } from './transport';
import {
  BacnetAbortError, BacnetError, BacnetRejectError, BacnetTimeoutError, BackPressureError, CancelledError,
  DeviceUnknownError, NoRouteError, SendFailedError, TooLargeError,
} from './errors';
import {
  CONFIRMED_SERVICES, UNCONFIRMED_SERVICES, type ConfirmedAckOf, type ConfirmedRequestOf, type ConfirmedServiceName,
  type ServiceCodec, type UnconfirmedRequestOf, type UnconfirmedServiceName, decodeRequestOrReject, decodeWhole,
} from './services/registry';
import { decodeServiceError, encodeServiceError } from './services/errors';
import { type IAmRequest, type WhoIsRequest, whoIsMatches } from './services/who-is';
import type { CovNotificationRequest } from './services/cov-notification';
import type { EventNotificationRequest } from './services/alarms-events';
import type { IHaveRequest } from './services/who-has';
import { ConfirmedServiceChoice, UnconfirmedServiceChoice } from './enums/services';
import { ObjectType } from './enums/object-type';
import { RejectReason } from './enums/errors';
import { type LongTimer, setLongTimeout } from './timer';

/** Injected time source (tests use a fake clock). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // setTimeout alone would run a delay beyond 24.8 days (a DCC duration) after 1 ms
  setTimeout: (fn, ms) => setLongTimeout(fn, ms),
  clearTimeout: (h) => (h as LongTimer).cancel(),
};

export type CommunicationState = 'enable' | 'disable' | 'disable-initiation';

/** Who holds the DeviceCommunicationControl state when it is not the endpoint (a bound server's CommunicationControl). */
export interface CommunicationSource {
  readonly state: CommunicationState;
}

export interface BacnetEndpointOptions extends UdpTransportOptions {
  /** A ready transport (tests, custom links); the UDP options are then ignored. */
  transport?: DatagramTransport;
  /** Port of devices given without one, and of local broadcasts (default 47808). */
  destinationPort?: number;
  /** APDU timeout ms (default 3000), retries (default 3), segment timeout ms (default 2000). */
  apduTimeout?: number;
  retries?: number;
  segmentTimeout?: number;
  /** Largest APDU we accept (default 1476). */
  maxApdu?: number;
  /** Segments we accept (default 64) and the window we propose (default 16). */
  maxSegments?: number;
  windowSize?: number;
  /** What we support (default segmented-both). */
  segmentation?: 'segmented-both' | 'segmented-transmit' | 'segmented-receive' | 'no-segmentation';
  /** Client budget: in flight overall (1024) and per device (255), queued before refusing (65536). */
  maxInFlight?: number;
  maxInFlightPerPeer?: number;
  maxQueued?: number;
  /** Our device: answers Who-Is with I-Am (unless `answerWhoIs` is false) and names us in I-Am. */
  device?: { instance: number; vendorId?: number; answerWhoIs?: boolean };
  /** Register as a foreign device with this BBMD (TTL seconds, default 300). */
  bbmd?: { host: string; port?: number; ttl?: number };
  /** Our network number, if configured. */
  localNetwork?: number;
  /** Wait for I-Am-Router-To-Network, ms (default 1000). */
  routeTimeout?: number;
  /** Cache of known devices (default 65536 entries). */
  deviceCacheSize?: number;
  clock?: Clock;
}

export interface RequestOptions {
  /** APDU timeout for this request, ms. */
  timeout?: number;
  retries?: number;
  /** Network priority 0..3 (normal, urgent, critical equipment, life safety). */
  priority?: number;
  signal?: AbortSignal;
  /** Override what is known of the peer. */
  maxApdu?: number;
  segmentation?: number;
}

/** Where a request goes: an address, 'host[:port]', or a device instance number. */
export type Target = BacnetAddress | string | number;

export interface RequestContext {
  source: ResolvedAddress;
  invokeId: number;
  service: number;
  /** The client's max-APDU (octets) and whether it accepts segmented responses. */
  maxApdu: number;
  segmentedResponseAccepted: boolean;
  endpoint: BacnetEndpoint;
}

export interface UnconfirmedContext {
  source: ResolvedAddress;
  service: number;
  /** True when the request came as a broadcast (local, global or remote). */
  broadcast: boolean;
  endpoint: BacnetEndpoint;
}

export type ConfirmedHandler<N extends ConfirmedServiceName> =
  (request: ConfirmedRequestOf<N>, ctx: RequestContext) => ConfirmedAckOf<N> | Promise<ConfirmedAckOf<N>>;
export type UnconfirmedHandler<N extends UnconfirmedServiceName> =
  (request: UnconfirmedRequestOf<N>, ctx: UnconfirmedContext) => void;
/** For services without a codec: service data in, ACK data out (undefined = SimpleACK). */
export type RawConfirmedHandler = (data: Uint8Array, ctx: RequestContext) => Uint8Array | void | Promise<Uint8Array | void>;

export interface BacnetEndpointEvents {
  'i-am': [device: DeviceInfo, source: ResolvedAddress];
  'i-have': [request: IHaveRequest, source: ResolvedAddress];
  'cov-notification': [notification: CovNotificationRequest, source: ResolvedAddress, confirmed: boolean];
  'event-notification': [notification: EventNotificationRequest, source: ResolvedAddress, confirmed: boolean];
  'duplicate-device': [duplicate: DuplicateDevice];
  malformed: [info: { error: Error; source: ResolvedAddress; count: number }];
  registration: [status: RegistrationStatus];
  network: [event: NetworkEvent];
  /** A handler threw something other than a BACnet error, or another local fault worth a log line. */
  warning: [text: string, error?: unknown];
}

export interface EndpointStats {
  received: number;
  sent: number;
  malformed: number;
  sendErrors: number;
  inFlight: number;
  queued: number;
  client: ClientTsm['counters'];
  server: ServerTsm['counters'];
}

interface TxnContext {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  codec: ServiceCodec<unknown, unknown>;
  request: unknown;
  address: BacnetAddress;
  priority: number;
  ack?: unknown;
  ackError?: Error;
  cleanup?: () => void;
}

const SEGMENTATION: Record<string, number> = { 'segmented-both': 0, 'segmented-transmit': 1, 'segmented-receive': 2, 'no-segmentation': 3 };


export class BacnetEndpoint extends EventEmitter<BacnetEndpointEvents> {
  readonly transport: DatagramTransport;
  readonly devices: DeviceCache;
  readonly network: NetworkLayer;
  readonly client: ClientTsm<BacnetAddress>;
  readonly server: ServerTsm<ResolvedAddress>;
  readonly registration?: ForeignDeviceRegistration;
  readonly destinationPort: number;
  readonly clock: Clock;
  /** 0 segmented-both .. 3 no-segmentation. */
  readonly segmentation: number;
  readonly maxApdu: number;
  readonly device?: { instance: number; vendorId: number; answerWhoIs: boolean };
  private readonly confirmedHandlers = new Map<number, (data: Uint8Array, ctx: RequestContext) => Promise<ServerResponse> | ServerResponse>();
  private readonly unconfirmedHandlers = new Map<number, (data: Uint8Array, ctx: UnconfirmedContext) => void>();
  private readonly addressCache = new Map<string, BacnetAddress>();
  private readonly bvlcWaiters = new Map<string, Array<(b: { function: number; resultCode?: number; entries?: unknown[] }) => void>>();
  private timer: unknown;
  private timerAt: number | undefined;
  private closed = false;
  private communication: CommunicationState = 'enable';
  private communicationTimer: unknown;
  /** When set, the DCC state is read from here (one state for a bound server and this endpoint). */
  private communicationSource: CommunicationSource | undefined;
  private readonly counters = { received: 0, sent: 0, malformed: 0, sendErrors: 0 };
  /** Reused encoders: frames are copied out into a pooled Buffer, service data into an exact copy. */
  private readonly frameScratch = new Writer(2048);
  private readonly dataScratch = new Writer(2048);

  /** Bind a UDP socket and start. Rejects with PortInUseError when the port is taken. */
  static async open(opts: BacnetEndpointOptions = {}): Promise<BacnetEndpoint> {
    const transport = opts.transport ?? await UdpTransport.open(opts);
    return new BacnetEndpoint(transport, opts);
  }

  constructor(transport: DatagramTransport, opts: BacnetEndpointOptions = {}) {
    super();
    this.transport = transport;
    this.clock = opts.clock ?? systemClock;
    this.destinationPort = opts.destinationPort ?? DEFAULT_PORT;
    this.segmentation = SEGMENTATION[opts.segmentation ?? 'segmented-both'] ?? 0;
    this.maxApdu = Math.min(1476, opts.maxApdu ?? 1476);
    if (opts.device) {
      this.device = { instance: opts.device.instance, vendorId: opts.device.vendorId ?? 0, answerWhoIs: opts.device.answerWhoIs ?? true };
    }
    const receive = this.segmentation === 0 || this.segmentation === 2;
    const transmit = this.segmentation === 0 || this.segmentation === 1;
    const clientOpts: Partial<ClientTsmOptions> = {
      apduTimeout: opts.apduTimeout ?? 3000,
      retries: opts.retries ?? 3,
      segmentTimeout: opts.segmentTimeout ?? 2000,
      maxApdu: this.maxApdu,
      maxSegments: opts.maxSegments ?? 64,
      windowSize: opts.windowSize ?? 16,
      segmentedResponseAccepted: receive,
      maxInFlight: opts.maxInFlight ?? 1024,
      maxInFlightPerPeer: opts.maxInFlightPerPeer ?? 255,
      maxQueued: opts.maxQueued ?? 65536,
    };
    const serverOpts: Partial<ServerTsmOptions> = {
      maxApdu: this.maxApdu,
      segmentTimeout: opts.segmentTimeout ?? 2000,
      retries: opts.retries ?? 3,
      windowSize: opts.windowSize ?? 16,
      segmentedTransmit: transmit,
      segmentedReceive: receive,
      maxSegments: opts.maxSegments ?? 64,
      duplicateWindow: (opts.apduTimeout ?? 3000) * ((opts.retries ?? 3) + 1),
    };
    this.devices = new DeviceCache(opts.deviceCacheSize);
    this.client = new ClientTsm<BacnetAddress>({
      send: (txn, apdu) => this.sendClientApdu(txn, apdu),
      finish: (txn, outcome) => this.finish(txn, outcome),
      acceptAck: (txn, data) => this.acceptAck(txn, data),
    }, clientOpts);
    this.server = new ServerTsm<ResolvedAddress>({
      send: (peer, apdu) => this.sendApdu(peer, apdu, false, 0),
      dispatch: (req) => this.dispatch(req),
    }, serverOpts);
    const netOpts: { localNetwork?: number; routeTimeout: number } = { routeTimeout: opts.routeTimeout ?? 1000 };
    if (opts.localNetwork !== undefined) netOpts.localNetwork = opts.localNetwork;
    this.network = new NetworkLayer({
      sendNetworkMessage: (to, msg) => this.sendNetworkMessage(to, msg),
      event: (e) => {
        if (e.type === 'route-rejected') {
          // a router refused the route: fail the requests waiting on that network now
          this.client.failWhere((t) => t.peer.network === e.network && (t.peer.host === undefined || t.peer.host === e.router.host),
            { kind: 'no-route', network: e.network, text: `router ${e.router.host}:${e.router.port} rejected the message to network ${e.network} (${e.reasonName})` }, this.clock.now());
        }
        this.emitSafe('network', e);
      },
    }, netOpts);
    if (opts.bbmd) {
      // dotted quad in canonical form: BVLC-Results are accepted from this address only
      const bbmd = { host: ipv4Octets(opts.bbmd.host).join('.'), port: opts.bbmd.port ?? DEFAULT_PORT };
      this.registration = new ForeignDeviceRegistration({
        sendRegister: (to, ttl) => this.sendBvlc(to, BvlcFunction.REGISTER_FOREIGN_DEVICE, (w) => w.u16(ttl)),
        status: (s) => this.emitSafe('registration', s),
      }, bbmd, opts.bbmd.ttl ?? 300);
    }
    this.installDefaultHandlers();
    transport.onMessage = (data, host, port) => this.onDatagram(data, host, port);
    if (this.registration) {
      this.registration.start(this.clock.now());
      this.schedule();
    }
  }

  // ===========================================================================================
  // Client side

  /**
   * Send a confirmed request and resolve with its decoded ACK (undefined for SimpleACK
   * services). Rejects with BacnetError (Error PDU), BacnetRejectError, BacnetAbortError,
   * BacnetTimeoutError, BackPressureError, SendFailedError, TooLargeError, NoRouteError,
   * DeviceUnknownError, CancelledError, or DecodeError for a malformed ACK.
   */
  async confirmedRequest<N extends ConfirmedServiceName>(
    target: Target,
    service: N,
    request: ConfirmedRequestOf<N>,
    options: RequestOptions = {},
  ): Promise<ConfirmedAckOf<N>> {
    const codec = CONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown> | undefined;
    if (!codec) throw new LocalProtocolError(`no codec for confirmed service '${String(service)}'`);
    const data = this.encodeData(codec.encodeRequest, request);
    const address = typeof target === 'number' ? await this.resolveDevice(target, options.timeout) : this.toAddress(target);
    return this.sendConfirmed(address, codec, request, data, options) as Promise<ConfirmedAckOf<N>>;
  }

  /** Confirmed request of any service choice with raw service data; resolves with the ACK data (undefined for SimpleACK). */
  async confirmedRequestRaw(target: Target, service: number, data: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array | undefined> {
    const address = typeof target === 'number' ? await this.resolveDevice(target, options.timeout) : this.toAddress(target);
    const raw: ServiceCodec<unknown, unknown> = {
      choice: service,
      name: ConfirmedServiceChoice.label(service),
      encodeRequest: () => undefined,
      decodeRequest: () => undefined,
      encodeAck: () => undefined,
      decodeAck: (r: Reader) => r.copy(r.remaining),
    };
    return this.sendConfirmed(address, raw, undefined, data, options) as Promise<Uint8Array | undefined>;
  }

  private sendConfirmed(address: BacnetAddress, codec: ServiceCodec<unknown, unknown>, request: unknown, data: Uint8Array, options: RequestOptions): Promise<unknown> {
    if (this.closed) return Promise.reject(new CancelledError('the BACnet endpoint is closed'));
    const dcc = this.communicationState;
    if (dcc !== 'enable') {
      return Promise.reject(new FieldlinkError('ECOMMDISABLED', `communication is disabled by DeviceCommunicationControl (${dcc})`));
    }
    const limits = this.limitsFor(address, options);
    return new Promise((resolve, reject) => {
      const ctx: TxnContext = { resolve, reject, codec, request, address, priority: options.priority ?? 0 };
      const txnOpts: { timeout?: number; retries?: number; context: TxnContext } = { context: ctx };
      if (options.timeout !== undefined) txnOpts.timeout = options.timeout;
      if (options.retries !== undefined) txnOpts.retries = options.retries;
      const txn = this.client.request(address, addressKey(address, this.destinationPort), limits, codec.choice, data, this.clock.now(), txnOpts);
      if (options.signal && txn.state !== 'done') {
        const signal = options.signal;
        const onAbort = (): void => {
          this.client.cancel(txn, this.clock.now());
          this.schedule();
        };
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          ctx.cleanup = () => signal.removeEventListener('abort', onAbort);
        }
      }
      this.schedule();
    });
  }

  /** Send an unconfirmed request to one device (or router address). */
  unconfirmedRequest<N extends UnconfirmedServiceName>(target: BacnetAddress | string, service: N, request: UnconfirmedRequestOf<N>, options: { priority?: number } = {}): Promise<void> {
    const codec = UNCONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
    return this.sendUnconfirmed(this.toAddress(target), codec.choice, this.encodeData(codec.encodeRequest, request), options.priority ?? 0);
  }

  /**
   * Broadcast an unconfirmed request: on the local network (default), globally
   * (`network: 0xFFFF`), or on one remote network. As a registered foreign device, local and
   * global broadcasts go to the BBMD as Distribute-Broadcast-To-Network.
   */
  broadcast<N extends UnconfirmedServiceName>(service: N, request: UnconfirmedRequestOf<N>, options: { network?: number; priority?: number } = {}): Promise<void> {
    const codec = UNCONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
    const data = this.encodeData(codec.encodeRequest, request);
    const dcc = this.communicationState;
    if (dcc === 'disable' || (dcc === 'disable-initiation' && service !== 'i-am')) {
      return Promise.reject(new FieldlinkError('ECOMMDISABLED', `communication is disabled by DeviceCommunicationControl (${dcc})`));
    }
    const apdu: Apdu = { type: PduType.UNCONFIRMED_REQUEST, service: codec.choice, data };
    return this.sendBroadcastApdu(apdu, options.network, options.priority ?? 0);
  }

  /**
   * Who-Is, collecting I-Am answers for `timeout` ms (default 3000): all devices, a range, one
   * device (resolves as soon as it answers), a remote network, or one address (unicast).
   */
  whoIs(opts: { low?: number; high?: number; network?: number; address?: BacnetAddress | string; timeout?: number } = {}): Promise<DeviceInfo[]> {
    const req: WhoIsRequest = {};
    if (opts.low !== undefined || opts.high !== undefined) {
      req.lowLimit = opts.low ?? 0;
      req.highLimit = opts.high ?? 0x3fffff;
    }
    const single = req.lowLimit !== undefined && req.lowLimit === req.highLimit;
    return new Promise((resolve, reject) => {
      const found = new Map<number, DeviceInfo>();
      const done = (): void => {
        this.clock.clearTimeout(t);
        this.off('i-am', onIAm);
        resolve([...found.values()].sort((a, b) => a.instance - b.instance));
      };
      const onIAm = (d: DeviceInfo): void => {
        if (!whoIsMatches(req, d.instance)) return;
        found.set(d.instance, d);
        if (single) done();
      };
      this.on('i-am', onIAm);
      const t = this.clock.setTimeout(done, opts.timeout ?? 3000);
      const sent = opts.address !== undefined
        ? this.unconfirmedRequest(opts.address, 'who-is', req)
        : this.broadcast('who-is', req, opts.network !== undefined ? { network: opts.network } : {});
      sent.catch((e: unknown) => {
        this.clock.clearTimeout(t);
        this.off('i-am', onIAm);
        reject(e as Error);
      });
    });
  }

  /** The address of device `instance`: from the cache, else by Who-Is (DeviceUnknownError when nobody answers). */
  async resolveDevice(instance: number, timeout = 3000): Promise<BacnetAddress> {
    const known = this.devices.get(instance);
    if (known) return known.address;
    const found = await this.whoIs({ low: instance, high: instance, timeout });
    const d = found.find((x) => x.instance === instance) ?? this.devices.get(instance);
    if (!d) throw new DeviceUnknownError(instance);
    return d.address;
  }

  /** Broadcast our I-Am (needs `device` in the options). */
  iAm(options: { network?: number } = {}): Promise<void> {
    if (!this.device) return Promise.reject(new LocalProtocolError('no device instance configured for I-Am'));
    return this.broadcast('i-am', this.iAmRecord(), options);
  }

  /** Read a BBMD's Broadcast Distribution Table (J.2.2): entries, or an Error when it answers NAK. */
  readBroadcastDistributionTable(bbmd: BacnetAddress | string, timeout = 3000): Promise<unknown[]> {
    return this.bvlcQuery(bbmd, BvlcFunction.READ_BDT, BvlcFunction.READ_BDT_ACK, timeout);
  }

  /** Read a BBMD's Foreign Device Table (J.2.6). */
  readForeignDeviceTable(bbmd: BacnetAddress | string, timeout = 3000): Promise<unknown[]> {
    return this.bvlcQuery(bbmd, BvlcFunction.READ_FDT, BvlcFunction.READ_FDT_ACK, timeout);
  }

  // ===========================================================================================
  // Server side

  /** Answer a confirmed service. Returns a function that removes the handler. */
  onConfirmed<N extends ConfirmedServiceName>(service: N, handler: ConfirmedHandler<N>): () => void {
    const codec = CONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
    const h = (data: Uint8Array, ctx: RequestContext): Promise<ServerResponse> | ServerResponse => {
      const req = decodeRequestOrReject(data, codec.decodeRequest, codec.name);
      if ('reject' in req) return { kind: 'reject', reason: req.reject };
      const run = (result: unknown): ServerResponse => {
        if (!codec.encodeAck) return { kind: 'simple-ack' };
        return { kind: 'complex-ack', data: this.encodeData(codec.encodeAck, result) };
      };
      const out = (handler as (r: unknown, c: RequestContext) => unknown)(req.value, ctx);
      return out instanceof Promise ? out.then(run) : run(out);
    };
    this.confirmedHandlers.set(codec.choice, h);
    return () => {
      if (this.confirmedHandlers.get(codec.choice) === h) this.confirmedHandlers.delete(codec.choice);
    };
  }

  /** Answer a confirmed service by choice number with raw service data. */
  onConfirmedRaw(service: number, handler: RawConfirmedHandler): () => void {
    const h = (data: Uint8Array, ctx: RequestContext): Promise<ServerResponse> | ServerResponse => {
      const run = (out: Uint8Array | void): ServerResponse => (out ? { kind: 'complex-ack', data: out } : { kind: 'simple-ack' });
      const out = handler(data, ctx);
      return out instanceof Promise ? out.then(run) : run(out);
    };
    this.confirmedHandlers.set(service, h);
    return () => {
      if (this.confirmedHandlers.get(service) === h) this.confirmedHandlers.delete(service);
    };
  }

  /** Handle an unconfirmed service (replaces the built-in handling of who-is and notifications). */
  onUnconfirmed<N extends UnconfirmedServiceName>(service: N, handler: UnconfirmedHandler<N>): () => void {
    const codec = UNCONFIRMED_SERVICES[service] as unknown as ServiceCodec<unknown, unknown>;
    const previous = this.unconfirmedHandlers.get(codec.choice);
    const h = (data: Uint8Array, ctx: UnconfirmedContext): void => {
      const req = decodeWhole(data, codec.decodeRequest, codec.name);
      if (codec.choice === UnconfirmedServiceChoice.iAm) this.learnIAm(req as IAmRequest, ctx.source);
      (handler as (r: unknown, c: UnconfirmedContext) => void)(req, ctx);
    };
    this.unconfirmedHandlers.set(codec.choice, h);
    return () => {
      if (this.unconfirmedHandlers.get(codec.choice) !== h) return;
      if (previous) this.unconfirmedHandlers.set(codec.choice, previous);
      else this.unconfirmedHandlers.delete(codec.choice);
    };
  }

  /**
   * DeviceCommunicationControl state (16.1): 'disable' answers only DeviceCommunicationControl
   * and ReinitializeDevice and initiates nothing; 'disable-initiation' answers everything but
   * initiates only I-Am for Who-Is. With `durationMs` it returns to 'enable' by itself.
   * While a communication source is attached (`useCommunicationSource`), that source decides
   * and the state set here applies again once it is detached.
   */
  setCommunication(state: CommunicationState, durationMs?: number): void {
    this.communication = state;
    if (this.communicationTimer !== undefined) this.clock.clearTimeout(this.communicationTimer);
    this.communicationTimer = undefined;
    if (state !== 'enable' && durationMs !== undefined && durationMs > 0) {
      this.communicationTimer = this.clock.setTimeout(() => {
        this.communicationTimer = undefined;
        this.communication = 'enable';
      }, durationMs);
    }
  }

  /**
   * Take the DeviceCommunicationControl state from `source` (a bound BacnetServer's
   * CommunicationControl) until the returned function detaches it: the device and its endpoint
   * then share one state, so a DCC request, its expiry and a ReinitializeDevice take effect
   * here at once with nothing to keep in step.
   */
  useCommunicationSource(source: CommunicationSource): () => void {
    this.communicationSource = source;
    return () => {
      if (this.communicationSource === source) this.communicationSource = undefined;
    };
  }

  get communicationState(): CommunicationState {
    return this.communicationSource?.state ?? this.communication;
  }

  // ===========================================================================================
  // Diagnostics and life cycle

  stats(): EndpointStats {
    return {
      ...this.counters,
      inFlight: this.client.inFlight,
      queued: this.client.queued,
      client: { ...this.client.counters },
      server: { ...this.server.counters },
    };
  }

  routes(): RouterEntry[] {
    return this.network.entries();
  }

  /** Stop everything: pending requests reject with CancelledError, timers stop, the socket closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.communicationTimer !== undefined) this.clock.clearTimeout(this.communicationTimer);
    this.timer = undefined;
    this.registration?.stop();
    this.network.clear();
    this.client.cancelAll(this.clock.now());
    this.server.clear(); // handlers still at work answer into nothing
    for (const ws of this.bvlcWaiters.values()) for (const w of ws) w({ function: -1 });
    this.bvlcWaiters.clear();
    this.transport.onMessage = undefined;
    await this.transport.close();
    this.removeAllListeners();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ===========================================================================================
  // Internals: addressing

  private toAddress(t: BacnetAddress | string): BacnetAddress {
    if (typeof t === 'string') {
      let a = this.addressCache.get(t);
      if (!a) {
        a = parseAddress(t, this.destinationPort);
        if (this.addressCache.size > 1024) this.addressCache.clear();
        this.addressCache.set(t, a);
      }
      return a;
    }
    if (t.host !== undefined && t.port === undefined) return { ...t, port: this.destinationPort };
    return t;
  }

  private limitsFor(address: BacnetAddress, options: RequestOptions): PeerLimits {
    const d = this.devices.atAddress(address);
    const seg = options.segmentation ?? d?.segmentation;
    const limits: PeerLimits = { maxApdu: options.maxApdu ?? d?.maxApdu ?? this.maxApdu, maxSegments: Infinity };
    if (seg !== undefined) limits.segmentedReceive = seg === 0 || seg === 2;
    return limits;
  }

  // ===========================================================================================
  // Internals: sending

  private writeFrame(w: Writer, fn: number, npdu: Omit<Npdu, 'payload'>, body: (w: Writer) => void): void {
    const at = beginBvlc(w, fn);
    writeNpduHeader(w, npdu);
    body(w);
    endBvlc(w, at);
  }

  /** Encode service data with the reused writer and return an exact copy. */
  private encodeData<T>(encode: (w: Writer, x: T) => void, x: T): Uint8Array {
    const w = this.dataScratch;
    w.reset();
    encode(w, x);
    return w.finish().slice();
  }

  /** A fresh frame writer (the reused one, emptied); take the bytes with `takeFrame`. */
  private frame(): Writer {
    const w = this.frameScratch;
    w.reset();
    return w;
  }

  /** Copy the frame out of the reused writer into a pooled Buffer (the socket keeps it until sent). */
  private takeFrame(w: Writer): Uint8Array {
    const out = Buffer.allocUnsafe(w.length);
    out.set(w.finish());
    return out;
  }

  private transmit(bytes: Uint8Array, host: string, port: number, onError?: (e: Error) => void): void {
    this.counters.sent++;
    this.transport.send(bytes, host, port, (err) => {
      if (!err) return;
      this.counters.sendErrors++;
      if (onError) onError(err);
      else this.emitSafe('warning', err.message, err);
    });
  }

  /** Send an APDU to a device address (resolving the router for remote networks). */
  private sendApdu(to: BacnetAddress, apdu: Apdu, expectingReply: boolean, priority: number, onError?: (e: Error) => void): void {
    const remote = to.network !== undefined && to.network !== 0 && to.mac !== undefined;
    const npdu: Omit<Npdu, 'payload'> = { expectingReply, priority };
    if (remote) npdu.destination = { network: to.network!, mac: to.mac! };
    if (!remote || to.host !== undefined) {
      const w = this.frame();
      const at = beginBvlc(w, BvlcFunction.ORIGINAL_UNICAST_NPDU);
      writeNpduHeader(w, npdu);
      writeApdu(w, apdu);
      endBvlc(w, at);
      this.transmit(this.takeFrame(w), to.host!, to.port ?? this.destinationPort, onError);
      return;
    }
    this.network.whenRouted(to.network!, this.clock.now(), (router) => {
      if (this.closed) return;
      if (router) {
        const w = this.frame();
        this.writeFrame(w, BvlcFunction.ORIGINAL_UNICAST_NPDU, npdu, (x) => writeApdu(x, apdu));
        this.transmit(this.takeFrame(w), router.host, router.port, onError);
      } else {
        // 6.5.3: no router answered; broadcast with DNET so a router that knows the network forwards it
        this.sendLocalBroadcast((x, fn) => this.writeFrame(x, fn, npdu, (y) => writeApdu(y, apdu)), onError);
      }
      this.schedule();
    });
    this.schedule();
  }

  private sendClientApdu(txn: ClientTransaction<BacnetAddress>, apdu: Apdu): void {
    const ctx = txn.context as TxnContext;
    const expectingReply = apdu.type === PduType.CONFIRMED_REQUEST;
    this.sendApdu(txn.peer, apdu, expectingReply, ctx.priority, expectingReply ? (err) => {
      this.client.sendFailed(txn, err, this.clock.now());
      this.schedule();
    } : undefined);
  }

  private sendUnconfirmed(to: BacnetAddress, service: number, data: Uint8Array, priority: number): Promise<void> {
    const dcc = this.communicationState;
    if (dcc !== 'enable' && !(dcc === 'disable-initiation' && service === UnconfirmedServiceChoice.iAm)) {
      return Promise.reject(new FieldlinkError('ECOMMDISABLED', `communication is disabled by DeviceCommunicationControl (${dcc})`));
    }
    return new Promise((resolve, reject) => {
      this.sendApdu(to, { type: PduType.UNCONFIRMED_REQUEST, service, data }, false, priority, reject);
      // datagrams are handed to the kernel asynchronously; a failure rejects before this resolves
      setImmediate(resolve);
    });
  }

  /** Write a frame for a local broadcast: to the BBMD as a foreign device, else to the broadcast address. */
  private sendLocalBroadcast(write: (w: Writer, bvlcFunction: number) => void, onError?: (e: Error) => void): void {
    const w = this.frame();
    if (this.registration?.active) {
      write(w, BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK);
      this.transmit(this.takeFrame(w), this.registration.bbmd.host, this.registration.bbmd.port, onError);
    } else {
      write(w, BvlcFunction.ORIGINAL_BROADCAST_NPDU);
      this.transmit(this.takeFrame(w), this.transport.broadcastAddress, this.destinationPort, onError);
    }
  }

  private sendBroadcastApdu(apdu: Apdu, network: number | undefined, priority: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const npdu: Omit<Npdu, 'payload'> = { expectingReply: false, priority };
      if (network === undefined || network === 0 || network === this.network.network) {
        this.sendLocalBroadcast((w, fn) => this.writeFrame(w, fn, npdu, (x) => writeApdu(x, apdu)), reject);
      } else if (network === GLOBAL_NETWORK) {
        npdu.destination = { network: GLOBAL_NETWORK, mac: new Uint8Array(0) };
        this.sendLocalBroadcast((w, fn) => this.writeFrame(w, fn, npdu, (x) => writeApdu(x, apdu)), reject);
      } else {
        this.sendApdu({ network, mac: new Uint8Array(0) }, apdu, false, priority, reject);
      }
      setImmediate(resolve);
    });
  }

  private sendNetworkMessage(to: ResolvedAddress | 'broadcast', msg: NetworkMessage): void {
    const npdu: Omit<Npdu, 'payload'> = { expectingReply: false, priority: 0, messageType: msg.type };
    const write = (w: Writer, fn: number): void => this.writeFrame(w, fn, npdu, (x) => writeNetworkMessageBody(x, msg));
    if (to === 'broadcast') this.sendLocalBroadcast(write);
    else {
      const w = this.frame();
      write(w, BvlcFunction.ORIGINAL_UNICAST_NPDU);
      this.transmit(this.takeFrame(w), to.host, to.port);
    }
  }

  private sendBvlc(to: IpEndpoint, fn: number, body: (w: Writer) => void): void {
    const w = this.frame();
    const at = beginBvlc(w, fn);
    body(w);
    endBvlc(w, at);
    this.transmit(this.takeFrame(w), to.host, to.port);
  }

  private bvlcQuery(target: BacnetAddress | string, fn: number, ackFn: number, timeout: number): Promise<unknown[]> {
    const a = this.toAddress(target);
    if (a.host === undefined) return Promise.reject(new LocalProtocolError('a BBMD needs an IP address'));
    const to = { host: a.host, port: a.port ?? this.destinationPort };
    const key = `${to.host}:${to.port}`;
    return new Promise((resolve, reject) => {
      const t = this.clock.setTimeout(() => {
        const list = this.bvlcWaiters.get(key);
        const i = list?.indexOf(waiter) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
        reject(new BacnetTimeoutError(`no answer from ${key} to ${fn === BvlcFunction.READ_BDT ? 'Read-Broadcast-Distribution-Table' : 'Read-Foreign-Device-Table'}`, 1));
      }, timeout);
      const waiter = (b: { function: number; resultCode?: number; entries?: unknown[] }): void => {
        this.clock.clearTimeout(t);
        if (b.function === ackFn) resolve(b.entries ?? []);
        else if (b.function === -1) reject(new CancelledError('the BACnet endpoint is closed'));
        else reject(new FieldlinkError('EBVLCNAK', `${key} answered with BVLC-Result 0x${(b.resultCode ?? 0).toString(16).padStart(4, '0')} (not a BBMD, or refused)`));
      };
      const list = this.bvlcWaiters.get(key) ?? [];
      list.push(waiter);
      this.bvlcWaiters.set(key, list);
      this.sendBvlc(to, fn, () => undefined);
    });
  }

  // ===========================================================================================
  // Internals: receiving

  private onDatagram(data: Uint8Array, host: string, port: number): void {
    if (this.closed) return;
    this.counters.received++;
    if (this.transport.isSelf(host, port)) return;
    let source: ResolvedAddress = { host, port };
    try {
      const bvlc = decodeBvlc(data);
      switch (bvlc.function) {
        case BvlcFunction.ORIGINAL_UNICAST_NPDU:
          this.onNpdu(bvlc.npdu, source, false);
          break;
        case BvlcFunction.ORIGINAL_BROADCAST_NPDU:
          this.onNpdu(bvlc.npdu, source, true);
          break;
        case BvlcFunction.FORWARDED_NPDU:
          source = { host: bvlc.origin.host, port: bvlc.origin.port };
          if (this.transport.isSelf(source.host, source.port)) break;
          this.onNpdu(bvlc.npdu, source, true);
          break;
        case BvlcFunction.RESULT:
          // only the BBMD we register with speaks for our registration
          if (this.registration && host === this.registration.bbmd.host && port === this.registration.bbmd.port) {
            this.registration.result(bvlc.resultCode, this.clock.now());
          }
          this.wakeBvlc(`${host}:${port}`, { function: BvlcFunction.RESULT, resultCode: bvlc.resultCode });
          break;
        case BvlcFunction.READ_BDT_ACK:
        case BvlcFunction.READ_FDT_ACK:
          this.wakeBvlc(`${host}:${port}`, { function: bvlc.function, entries: bvlc.entries });
          break;
        case BvlcFunction.WRITE_BDT:
        case BvlcFunction.READ_BDT:
        case BvlcFunction.REGISTER_FOREIGN_DEVICE:
        case BvlcFunction.READ_FDT:
        case BvlcFunction.DELETE_FDT_ENTRY:
        case BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK:
          // We are not a BBMD: refuse with the matching NAK (J.2.1.1).
          this.sendBvlc(source, BvlcFunction.RESULT, (w) => w.u16(NAK_FOR[bvlc.function] ?? 0x0060));
          break;
        default:
          break;
      }
    } catch (e) {
      this.malformed(e, source);
    }
    this.schedule();
  }

  private malformed(e: unknown, source: ResolvedAddress): void {
    this.counters.malformed++;
    if (e instanceof DecodeError) {
      if (this.listenerCount('malformed')) this.emitSafe('malformed', { error: e, source, count: this.counters.malformed });
    } else {
      this.emitSafe('warning', `internal error handling a datagram from ${source.host}:${source.port}: ${String(e)}`, e);
    }
  }

  private onNpdu(bytes: Uint8Array, from: ResolvedAddress, broadcast: boolean): void {
    const npdu = decodeNpdu(bytes);
    const now = this.clock.now();
    this.network.observe(from, npdu, now);
    if (npdu.destination) {
      // Not a router: only global broadcasts and messages for our own network are ours.
      const d = npdu.destination.network;
      if (d !== GLOBAL_NETWORK && d !== this.network.network) return;
      if (d === GLOBAL_NETWORK || npdu.destination.mac.length === 0) broadcast = true;
    }
    const peer: ResolvedAddress = npdu.source
      ? { host: from.host, port: from.port, network: npdu.source.network, mac: npdu.source.mac }
      : from;
    if (npdu.messageType !== undefined) {
      this.network.receive(from, npdu, decodeNetworkMessage(npdu.messageType, npdu.payload), now);
      return;
    }
    const apdu = decodeApdu(npdu.payload);
    switch (apdu.type) {
      case PduType.CONFIRMED_REQUEST:
        if (this.communicationState === 'disable' && apdu.service !== ConfirmedServiceChoice.deviceCommunicationControl
          && apdu.service !== ConfirmedServiceChoice.reinitializeDevice) return;
        this.server.receive(peer, addressKey(peer), apdu, now);
        return;
      case PduType.UNCONFIRMED_REQUEST:
        if (this.communicationState === 'disable') return;
        this.handleUnconfirmed(apdu.service, apdu.data, peer, broadcast);
        return;
      case PduType.SEGMENT_ACK:
      case PduType.ABORT:
        if (apdu.server) this.client.receive(addressKey(peer), apdu, now);
        else this.server.receive(peer, addressKey(peer), apdu, now);
        return;
      default:
        this.client.receive(addressKey(peer), apdu, now);
    }
  }

  private handleUnconfirmed(service: number, data: Uint8Array, source: ResolvedAddress, broadcast: boolean): void {
    const h = this.unconfirmedHandlers.get(service);
    if (!h) return; // unknown unconfirmed services are ignored (5.4.2)
    try {
      h(data, { source, service, broadcast, endpoint: this });
    } catch (e) {
      if (e instanceof DecodeError) this.malformed(e, source);
      else this.emitSafe('warning', `handler of ${UnconfirmedServiceChoice.label(service)} failed: ${String(e)}`, e);
    }
  }

  private wakeBvlc(key: string, b: { function: number; resultCode?: number; entries?: unknown[] }): void {
    const list = this.bvlcWaiters.get(key);
    if (!list?.length) return;
    const w = list.shift()!;
    if (!list.length) this.bvlcWaiters.delete(key);
    w(b);
  }

  // ===========================================================================================
  // Internals: client outcomes

  private acceptAck(txn: ClientTransaction<BacnetAddress>, data: Uint8Array): boolean {
    const ctx = txn.context as TxnContext;
    if (!ctx.codec.decodeAck) return true;
    let ack: unknown;
    try {
      ack = decodeWhole(data, ctx.codec.decodeAck, `${ctx.codec.name} ACK`);
    } catch (e) {
      ctx.ackError = e as Error;
      return true; // ours, but malformed: the request fails with the DecodeError
    }
    if (!ackMatchesRequest(ctx.codec.name, ctx.request, ack)) return false;
    ctx.ack = ack;
    return true;
  }

  private finish(txn: ClientTransaction<BacnetAddress>, outcome: ClientOutcome): void {
    const ctx = txn.context as TxnContext;
    ctx.cleanup?.();
    const name = ctx.codec.name;
    const where = formatAddress(ctx.address);
    switch (outcome.kind) {
      case 'simple-ack':
        ctx.resolve(undefined);
        return;
      case 'complex-ack':
        if (ctx.ackError) ctx.reject(ctx.ackError);
        else ctx.resolve(ctx.codec.decodeAck ? ctx.ack : outcome.data);
        return;
      case 'error': {
        try {
          const r = new Reader(outcome.data);
          const info = decodeServiceError(outcome.service, r);
          const extra: { firstFailedWriteAttempt?: typeof info.firstFailedWriteAttempt; firstFailedElementNumber?: number } = {};
          if (info.firstFailedWriteAttempt) extra.firstFailedWriteAttempt = info.firstFailedWriteAttempt;
          if (info.firstFailedElementNumber !== undefined) extra.firstFailedElementNumber = info.firstFailedElementNumber;
          ctx.reject(new BacnetError(info.errorClass, info.errorCode, extra));
        } catch (e) {
          ctx.reject(e instanceof Error ? e : new Error(String(e)));
        }
        return;
      }
      case 'reject':
        ctx.reject(new BacnetRejectError(outcome.reason));
        return;
      case 'abort':
        ctx.reject(new BacnetAbortError(outcome.reason, outcome.server));
        return;
      case 'timeout':
        ctx.reject(new BacnetTimeoutError(
          `no ${outcome.phase === 'segment' ? 'segment' : 'reply'} from ${where} to ${name} after ${outcome.attempts} attempt(s) of ${txn.timeout} ms`,
          outcome.attempts,
        ));
        return;
      case 'send-failed':
        ctx.reject(outcome.error instanceof SendFailedError ? outcome.error
          : new SendFailedError(`${name} to ${where} could not be sent: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`, { cause: outcome.error }));
        return;
      case 'back-pressure':
        ctx.reject(new BackPressureError(`${name} to ${where} refused: ${outcome.queued} requests are already waiting (local back-pressure)`));
        return;
      case 'too-large':
        ctx.reject(new TooLargeError(`${name} to ${where}: ${outcome.message}`));
        return;
      case 'cancelled':
        ctx.reject(new CancelledError(this.closed ? 'the BACnet endpoint is closed' : `${name} to ${where} cancelled`));
        return;
      case 'no-route':
        ctx.reject(new NoRouteError(outcome.network, `${name} to ${where}: ${outcome.text}`));
        return;
    }
  }

  // ===========================================================================================
  // Internals: serving


  private dispatch(req: IncomingRequest<ResolvedAddress>): void {
    const h = this.confirmedHandlers.get(req.service);
    const respond = (res: ServerResponse): void => {
      this.server.respond(req, res, this.clock.now());
      this.schedule();
    };
    if (!h) {
      respond({ kind: 'reject', reason: RejectReason.unrecognizedService });
      return;
    }
    const ctx: RequestContext = {
      source: req.peer, invokeId: req.invokeId, service: req.service, maxApdu: req.maxApdu,
      segmentedResponseAccepted: req.segmentedResponseAccepted, endpoint: this,
    };
    let out: Promise<ServerResponse> | ServerResponse;
    try {
      out = h(req.data, ctx);
    } catch (e) {
      respond(this.errorResponse(req.service, e));
      return;
    }
    if (out instanceof Promise) {
      out.then(respond, (e: unknown) => respond(this.errorResponse(req.service, e)))
        .catch((e: unknown) => this.emitSafe('warning', `answering ${ConfirmedServiceChoice.label(req.service)} failed: ${String(e)}`, e));
    } else respond(out);
  }

  private errorResponse(service: number, e: unknown): ServerResponse {
    if (e instanceof BacnetError) {
      const w = new Writer(16);
      try {
        const info: Parameters<typeof encodeServiceError>[2] = { errorClass: e.errorClass, errorCode: e.errorCode };
        if (e.firstFailedWriteAttempt) info.firstFailedWriteAttempt = e.firstFailedWriteAttempt;
        if (e.firstFailedElementNumber !== undefined) info.firstFailedElementNumber = e.firstFailedElementNumber;
        encodeServiceError(w, service, info);
        return { kind: 'error', data: w.finish() };
      } catch (x) {
        this.emitSafe('warning', `cannot encode the error of ${ConfirmedServiceChoice.label(service)}: ${String(x)}`, x);
        return { kind: 'abort', reason: 0 };
      }
    }
    if (e instanceof BacnetRejectError) return { kind: 'reject', reason: e.reason };
    if (e instanceof BacnetAbortError) return { kind: 'abort', reason: e.reason };
    this.emitSafe('warning', `handler of ${ConfirmedServiceChoice.label(service)} failed: ${e instanceof Error ? e.message : String(e)}`, e);
    const w = new Writer(8);
    encodeServiceError(w, service, { errorClass: 0, errorCode: 25, ...(service === 16 ? { firstFailedWriteAttempt: { objectId: { type: 0, instance: 0 }, propertyId: 0 } } : {}) }); // device, operational-problem
    return { kind: 'error', data: w.finish() };
  }

  private iAmRecord(): IAmRequest {
    const d = this.device!;
    return { deviceId: { type: ObjectType.device, instance: d.instance }, maxApdu: this.maxApdu, segmentation: this.segmentation, vendorId: d.vendorId };
  }

  private learnIAm(iAm: IAmRequest, source: ResolvedAddress): void {
    if (iAm.deviceId.type !== ObjectType.device) return;
    const { device, duplicate } = this.devices.update(iAm, source, this.clock.now());
    if (duplicate) this.emitSafe('duplicate-device', duplicate);
    else this.emitSafe('i-am', device, source);
  }

  private installDefaultHandlers(): void {
    const decode = <T>(codec: ServiceCodec<unknown, unknown>, data: Uint8Array): T => decodeWhole(data, codec.decodeRequest, codec.name) as T;
    this.unconfirmedHandlers.set(UnconfirmedServiceChoice.iAm, (data, ctx) => {
      this.learnIAm(decode<IAmRequest>(UNCONFIRMED_SERVICES['i-am'] as unknown as ServiceCodec<unknown, unknown>, data), ctx.source);
    });
    this.unconfirmedHandlers.set(UnconfirmedServiceChoice.iHave, (data, ctx) => {
      this.emitSafe('i-have', decode<IHaveRequest>(UNCONFIRMED_SERVICES['i-have'] as unknown as ServiceCodec<unknown, unknown>, data), ctx.source);
    });
    this.unconfirmedHandlers.set(UnconfirmedServiceChoice.whoIs, (data, ctx) => {
      const req = decode<WhoIsRequest>(UNCONFIRMED_SERVICES['who-is'] as unknown as ServiceCodec<unknown, unknown>, data);
      if (!this.device || !this.device.answerWhoIs || !whoIsMatches(req, this.device.instance)) return;
      this.answerWhoIs(ctx);
    });
    this.unconfirmedHandlers.set(UnconfirmedServiceChoice.unconfirmedCovNotification, (data, ctx) => {
      this.emitSafe('cov-notification', decode<CovNotificationRequest>(UNCONFIRMED_SERVICES['unconfirmed-cov-notification'] as unknown as ServiceCodec<unknown, unknown>, data), ctx.source, false);
    });
    this.unconfirmedHandlers.set(UnconfirmedServiceChoice.unconfirmedEventNotification, (data, ctx) => {
      this.emitSafe('event-notification', decode<EventNotificationRequest>(UNCONFIRMED_SERVICES['unconfirmed-event-notification'] as unknown as ServiceCodec<unknown, unknown>, data), ctx.source, false);
    });
    this.onConfirmed('confirmed-cov-notification', (req, ctx) => {
      this.emitSafe('cov-notification', req, ctx.source, true);
    });
    this.onConfirmed('confirmed-event-notification', (req, ctx) => {
      this.emitSafe('event-notification', req, ctx.source, true);
    });
  }

  /**
   * Answer a Who-Is with our I-Am: broadcast when the Who-Is was a local broadcast from the
   * BACnet port (everyone learns us); unicast to the asker otherwise (directed, remote, via a
   * BBMD, or from a client on another port, which would not hear a broadcast on ours).
   */
  answerWhoIs(ctx: UnconfirmedContext): void {
    if (!this.device || this.communicationState === 'disable') return;
    const data = this.encodeData((UNCONFIRMED_SERVICES['i-am'] as unknown as ServiceCodec<unknown, unknown>).encodeRequest, this.iAmRecord());
    const apdu: Apdu = { type: PduType.UNCONFIRMED_REQUEST, service: UnconfirmedServiceChoice.iAm, data };
    const local = ctx.broadcast && ctx.source.network === undefined && ctx.source.port === this.destinationPort && !this.registration?.active;
    if (local) void this.sendBroadcastApdu(apdu, undefined, 0).catch(() => undefined);
    else this.sendApdu(ctx.source, apdu, false, 0);
  }

  private emitSafe<K extends keyof BacnetEndpointEvents>(event: K, ...args: BacnetEndpointEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: BacnetEndpointEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      if (event !== 'warning') {
        try {
          (this.emit as (e: 'warning', t: string, x: unknown) => boolean)('warning', `a '${event}' listener threw: ${String(e)}`, e);
        } catch {
          // a throwing warning listener is ignored
        }
      }
    }
  }

  // ===========================================================================================
  // Internals: one timer for everything

  private schedule(): void {
    if (this.closed) return;
    let t = this.client.takeWakeHint();
    let h = this.server.takeWakeHint();
    if (h !== undefined && (t === undefined || h < t)) t = h;
    h = this.network.takeWakeHint();
    if (h !== undefined && (t === undefined || h < t)) t = h;
    if (this.registration) {
      h = this.registration.takeWakeHint();
      if (h !== undefined && (t === undefined || h < t)) t = h;
    }
    if (t === undefined) return;
    if (this.timerAt !== undefined && this.timerAt <= t) return;
    this.arm(t);
  }

  private arm(t: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = t;
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(0, t - this.clock.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = undefined;
    if (this.closed) return;
    const now = this.clock.now();
    try {
      this.client.tick(now);
      this.server.tick(now);
      this.network.tick(now);
      this.registration?.tick(now);
    } catch (e) {
      this.emitSafe('warning', `internal error in the BACnet timer: ${String(e)}`, e);
    }
    // discard hints: recompute the earliest deadline from scratch
    this.client.takeWakeHint();
    this.server.takeWakeHint();
    this.network.takeWakeHint();
    this.registration?.takeWakeHint();
    let t: number | undefined;
    for (const d of [this.client.nextDeadline(), this.server.nextDeadline(), this.network.nextDeadline(), this.registration?.nextDeadline()]) {
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    if (t !== undefined) this.arm(Math.max(t, now + 1));
  }
}

const NAK_FOR: Record<number, number> = {
  [BvlcFunction.WRITE_BDT]: 0x0010,
  [BvlcFunction.READ_BDT]: 0x0020,
  [BvlcFunction.REGISTER_FOREIGN_DEVICE]: 0x0030,
  [BvlcFunction.READ_FDT]: 0x0040,
  [BvlcFunction.DELETE_FDT_ENTRY]: 0x0050,
  [BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK]: 0x0060,
};

const sameId = (a: { type: number; instance: number }, b: { type: number; instance: number }): boolean =>
  a.type === b.type && a.instance === b.instance;

/**
 * Guard against a late reply of an earlier transaction that reused the invoke ID: the ACKs that
 * echo their request (ReadProperty, ReadRange, ReadPropertyMultiple) must echo this one.
 */
function ackMatchesRequest(service: string, request: unknown, ack: unknown): boolean {
  switch (service) {
    case 'read-property':
    case 'read-range': {
      const q = request as { objectId: { type: number; instance: number }; propertyId: number; arrayIndex?: number };
      const a = ack as typeof q;
      if (q.objectId.instance === 0x3fffff && q.objectId.type === ObjectType.device) return a.propertyId === q.propertyId;
      return sameId(q.objectId, a.objectId) && q.propertyId === a.propertyId && q.arrayIndex === a.arrayIndex;
    }
    case 'read-property-multiple': {
      const q = request as { specs: Array<{ objectId: { type: number; instance: number } }> };
      const a = ack as { results: Array<{ objectId: { type: number; instance: number } }> };
      if (q.specs.length !== a.results.length) return false;
      return q.specs.every((s, i) => s.objectId.instance === 0x3fffff || sameId(s.objectId, a.results[i]!.objectId));
    }
    default:
      return true;
  }
}

