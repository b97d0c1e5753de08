/**
 * A BACnet server: one local device, its objects and engines, and the service handlers, with no
 * socket of its own (ASHRAE 135-2020 Clause 5.4.5 responding BACnet-user; the services of
 * Clauses 13..16 listed in `CONFIRMED_HANDLERS` and `UNCONFIRMED_HANDLERS`).
 *
 * The transport hands it the service data of confirmed requests (`handleConfirmed`) and the
 * decoded unconfirmed requests (`unconfirmed`), and sends what it returns: a SimpleACK, a ComplexACK with service data, an Error, a Reject or an
 * Abort, or nothing at all while DeviceCommunicationControl has disabled the device (16.1).
 * Undecodable requests are rejected with the reason that fits (18.8); a confirmed service
 * without a handler is rejected with unrecognized-service (18.8, 20.1.8). Nothing
 * thrown by a handler escapes: unexpected failures answer device / operational-problem and are
 * counted.
 *
 * Protocol_Services_Supported and Protocol_Object_Types_Supported of the Device object are computed
 * from these tables and from the object-type registry, so the device announces exactly what it does.
 */
import { Writer } from '../../wire/writer';
import {
  CONFIRMED_SERVICES, type ConfirmedAckOf, type ConfirmedRequestOf, type ConfirmedServiceName, type ServiceCodec,
  type UnconfirmedRequestOf, type UnconfirmedServiceName, decodeRequestOrReject,
} from '../services/registry';
import { encodeServiceError } from '../services/errors';
import { ConfirmedServiceChoice, SERVICES_SUPPORTED_BITS, ServicesSupported } from '../enums/services';
import { ObjectType } from '../enums/object-type';
import { RejectReason } from '../enums/errors';
import type { ObjectId } from '../codec/primitives';
import type { ObjectPropertyReference } from '../codec/constructed';
import { parseObjectId } from '../codec/js';
import { PropertyAccessError, ServiceAbort, ServiceReject } from '../objects/errors';
import { type BacnetObject, type ObjectInit } from '../objects/object';
import { DEFAULT_COMMUNICATION, type DeviceCommunication, type DeviceIdentity, DeviceObject } from '../objects/device';
import { type FileInit } from '../objects/file';
import { createLocalObject } from '../objects/factory';
import { OBJECT_TYPES } from '../objects/types';
import { type Clock, ObjectDatabase, systemClock } from './database';
import { CovEngine } from './cov';
import { IntrinsicReporting } from './intrinsic-reporting';
import { ScheduleEngine } from './schedule-engine';
import { TrendLogEngine } from './trend-log-engine';
import { CommunicationControl } from './communication-control';
import { allowListPredicate } from './allow-list';
import type { EventSink, ServerEvent } from './events';
import { type PeerAddress, type ServerNetwork, detachedNetwork } from './network';
import type { RequestInfo, ServiceContext } from './context';
import { readProperty, readPropertyMultiple } from './handlers/read-property';
import { writeProperty, writePropertyMultiple } from './handlers/write-property';
import { subscribeCov, subscribeCovProperty } from './handlers/subscribe-cov';
import { readRange } from './handlers/read-range';
import {
  deviceCommunicationControl, iAmOf, reinitializeDevice, timeSynchronization, whoHas, whoIs,
} from './handlers/device-management';
import { createObject, deleteObject } from './handlers/object-management';
import { atomicReadFile, atomicWriteFile } from './handlers/file-access';
import { acknowledgeAlarm, getEventInformation } from './handlers/alarm-event';

type ConfirmedHandler<N extends ConfirmedServiceName> = (ctx: ServiceContext, req: ConfirmedRequestOf<N>, info: RequestInfo) => ConfirmedAckOf<N> | void;
type UnconfirmedHandler<N extends UnconfirmedServiceName> = (ctx: ServiceContext, req: UnconfirmedRequestOf<N>, source: PeerAddress, broadcast: boolean) => void;

/** Confirmed services this server executes. */
export const CONFIRMED_HANDLERS: { [N in ConfirmedServiceName]?: ConfirmedHandler<N> } = {
  'read-property': readProperty,
  'read-property-multiple': readPropertyMultiple,
  'write-property': writeProperty,
  'write-property-multiple': writePropertyMultiple,
  'subscribe-cov': subscribeCov,
  'subscribe-cov-property': subscribeCovProperty,
  'read-range': readRange,
  'device-communication-control': deviceCommunicationControl,
  'reinitialize-device': reinitializeDevice,
  'create-object': createObject,
  'delete-object': deleteObject,
  'atomic-read-file': atomicReadFile,
  'atomic-write-file': atomicWriteFile,
  'acknowledge-alarm': acknowledgeAlarm,
  'get-event-information': getEventInformation,
};

/** Unconfirmed services this server executes. */
export const UNCONFIRMED_HANDLERS: { [N in UnconfirmedServiceName]?: UnconfirmedHandler<N> } = {
  'who-is': whoIs,
  'who-has': whoHas,
  'time-synchronization': (ctx, req, source) => timeSynchronization(ctx, req, source, false),
  'utc-time-synchronization': (ctx, req, source) => timeSynchronization(ctx, req, source, true),
};

/** What to send back for a confirmed request. */
export type ConfirmedOutcome =
  | { kind: 'simple-ack' }
  | { kind: 'complex-ack'; data: Uint8Array }
  | {
      kind: 'error';
      errorClass: number;
      errorCode: number;
      /** The Error PDU content (the extended forms of WritePropertyMultiple and CreateObject included). */
      data: Uint8Array;
      firstFailedWriteAttempt?: ObjectPropertyReference;
      firstFailedElementNumber?: number;
    }
  | { kind: 'reject'; reason: number }
  | { kind: 'abort'; reason: number }
  /** No answer (DeviceCommunicationControl disable, 16.1). */
  | { kind: 'none' };

export interface ServerOptions {
  device: DeviceIdentity;
  clock?: Clock;
  /** DCC / ReinitializeDevice password (empty: none). */
  password?: string;
  /** Write allow-list entries (IPv4, IPv4:port, IPv4/prefix); empty: every peer may write. */
  writeAllowList?: readonly string[];
  /** Serve CreateObject and DeleteObject. Default false. */
  allowCreateDelete?: boolean;
  /** Set the device clock from TimeSynchronization. Default true. */
  acceptTimeSync?: boolean;
  maxCovSubscriptions?: number;
  communication?: Partial<DeviceCommunication>;
  onEvent?: EventSink;
}

export interface ServerStats {
  confirmed: number;
  unconfirmed: number;
  errors: number;
  rejects: number;
  internalErrors: number;
  lastInternalError?: string;
}

const DCC_CHOICE = ConfirmedServiceChoice.deviceCommunicationControl;
const REINIT_CHOICE = ConfirmedServiceChoice.reinitializeDevice;

export class BacnetServer {
  readonly db: ObjectDatabase;
  readonly cov: CovEngine;
  readonly reporting: IntrinsicReporting;
  readonly schedules: ScheduleEngine;
  readonly trendLogs: TrendLogEngine;
  readonly dcc: CommunicationControl;
  readonly stats: ServerStats = { confirmed: 0, unconfirmed: 0, errors: 0, rejects: 0, internalErrors: 0 };
  readonly #ctx: ServiceContext;
  #network: ServerNetwork = detachedNetwork;
  #communication: DeviceCommunication;
  #listeners: EventSink[] = [];
  #started = false;

  constructor(opts: ServerOptions) {
    const clock = opts.clock ?? systemClock;
    this.#communication = { ...DEFAULT_COMMUNICATION, ...opts.communication };
    const device = new DeviceObject(opts.device, clock.now());
    this.db = new ObjectDatabase(device, clock);
    if (opts.onEvent) this.#listeners.push(opts.onEvent);
    const events: EventSink = (e) => this.#emit(e);
    const network = (): ServerNetwork => this.#network;
    this.dcc = new CommunicationControl(clock, () => events({ type: 'dcc', state: 'enable' }));
    const canInitiate = (): boolean => this.dcc.canInitiate();
    this.cov = new CovEngine(this.db, {
      network, canInitiate, ...(opts.maxCovSubscriptions !== undefined ? { maxSubscriptions: opts.maxCovSubscriptions } : {}),
    });
    this.reporting = new IntrinsicReporting(this.db, { network, canInitiate, events });
    this.schedules = new ScheduleEngine(this.db);
    this.trendLogs = new TrendLogEngine(this.db);
    const mayWrite = allowListPredicate(opts.writeAllowList ?? []);
    this.#ctx = {
      db: this.db,
      cov: this.cov,
      reporting: this.reporting,
      schedules: this.schedules,
      trendLogs: this.trendLogs,
      dcc: this.dcc,
      rules: {
        ...(opts.password ? { password: opts.password } : {}),
        mayWrite,
        allowCreateDelete: opts.allowCreateDelete === true,
        acceptTimeSync: opts.acceptTimeSync !== false,
      },
      events,
      network,
    };
    device.runtime = {
      objectList: () => this.db.objectIds(),
      servicesSupported: () => this.servicesSupported(),
      objectTypesSupported: () => {
        let max = 0;
        for (const [, v] of ObjectType.entries()) max = Math.max(max, v);
        const bits = new Array<boolean>(max + 1).fill(false);
        for (const t of OBJECT_TYPES.keys()) bits[t] = true;
        return bits;
      },
      databaseRevision: () => this.db.revision,
      covSubscriptions: () => this.cov.activeSubscriptionValues(),
      communication: () => this.#communication,
    };
  }

  get device(): DeviceObject {
    return this.db.device;
  }

  get context(): ServiceContext {
    return this.#ctx;
  }

  /** Attach to (or detach from) the network that carries requests and notifications. */
  setNetwork(network: ServerNetwork | undefined): void {
    this.#network = network ?? detachedNetwork;
  }

  /** Communication parameters announced by the Device object and I-Am. */
  setCommunication(c: Partial<DeviceCommunication>): void {
    this.#communication = { ...this.#communication, ...c };
  }

  get communication(): DeviceCommunication {
    return this.#communication;
  }

  onEvent(l: EventSink): () => void {
    this.#listeners.push(l);
    return () => {
      this.#listeners = this.#listeners.filter((x) => x !== l);
    };
  }

  #emit(e: ServerEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.#internal(err);
      }
    }
  }

  #internal(err: unknown): void {
    this.stats.internalErrors++;
    this.stats.lastInternalError = err instanceof Error ? err.stack ?? err.message : String(err);
  }

  /** Protocol_Services_Supported: the services with a handler here (12.11). */
  servicesSupported(): boolean[] {
    const bits = new Array<boolean>(SERVICES_SUPPORTED_BITS).fill(false);
    for (const name of Object.keys(CONFIRMED_HANDLERS)) bits[ServicesSupported.require(name)] = true;
    for (const name of Object.keys(UNCONFIRMED_HANDLERS)) bits[ServicesSupported.require(name)] = true;
    return bits;
  }

  /** Start the engines (schedules, trend logs, reporting). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.schedules.evaluateAll();
    this.trendLogs.configureAll();
    for (const o of this.db.objects()) this.reporting.evaluate(o);
  }

  /** Broadcast I-Am (at start-up, 16.10), unless initiation is disabled. */
  announce(): void {
    if (!this.dcc.canInitiate()) return;
    try {
      this.#network.sendUnconfirmed('broadcast', 'i-am', iAmOf(this.#ctx));
    } catch (e) {
      this.#internal(e);
    }
  }

  /** Stop every engine and timer. */
  stop(): void {
    this.#started = false;
    this.cov.dispose();
    this.reporting.dispose();
    this.schedules.dispose();
    this.trendLogs.dispose();
    this.dcc.dispose();
    this.db.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  /** Serve a confirmed request (service choice and its parameters). Never throws. */
  handleConfirmed(choice: number, data: Uint8Array, info: RequestInfo): ConfirmedOutcome {
    this.stats.confirmed++;
    if (!this.dcc.canRespond() && choice !== DCC_CHOICE && choice !== REINIT_CHOICE) return { kind: 'none' };
    const name = ConfirmedServiceChoice.nameOf(choice) as ConfirmedServiceName | undefined;
    const handler = name ? (CONFIRMED_HANDLERS[name] as ConfirmedHandler<ConfirmedServiceName> | undefined) : undefined;
    const codec = name ? (CONFIRMED_SERVICES[name] as unknown as ServiceCodec<unknown, unknown> | undefined) : undefined;
    if (!handler || !codec) {
      this.stats.rejects++;
      return { kind: 'reject', reason: RejectReason.unrecognizedService };
    }
    let req: unknown;
    try {
      const decoded = decodeRequestOrReject(data, codec.decodeRequest, codec.name);
      if ('reject' in decoded) {
        this.stats.rejects++;
        return { kind: 'reject', reason: decoded.reject };
      }
      req = decoded.value;
    } catch (e) {
      this.stats.rejects++;
      this.#internal(e);
      return { kind: 'reject', reason: RejectReason.other };
    }
    try {
      const ack = handler(this.#ctx, req as never, info);
      if (!codec.encodeAck) return { kind: 'simple-ack' };
      const w = new Writer(128);
      codec.encodeAck(w, ack);
      return { kind: 'complex-ack', data: w.finish() };
    } catch (e) {
      return this.#failure(choice, e);
    }
  }

  #failure(choice: number, e: unknown): ConfirmedOutcome {
    if (e instanceof PropertyAccessError) {
      this.stats.errors++;
      const w = new Writer(16);
      const err: Parameters<typeof encodeServiceError>[2] = { errorClass: e.errorClass, errorCode: e.errorCode };
      if (e.firstFailedWriteAttempt) err.firstFailedWriteAttempt = e.firstFailedWriteAttempt;
      if (e.firstFailedElementNumber !== undefined) err.firstFailedElementNumber = e.firstFailedElementNumber;
      if (choice === ConfirmedServiceChoice.writePropertyMultiple && !err.firstFailedWriteAttempt) {
        // refused before any write was tried: name the first write of the request
        err.firstFailedWriteAttempt = { objectId: { type: 0, instance: 0 }, propertyId: 85 };
      }
      encodeServiceError(w, choice, err);
      return { kind: 'error', data: w.finish(), ...err };
    }
    if (e instanceof ServiceReject) {
      this.stats.rejects++;
      return { kind: 'reject', reason: e.reason };
    }
    if (e instanceof ServiceAbort) return { kind: 'abort', reason: e.reason };
    this.#internal(e);
    return this.#failure(choice, new PropertyAccessError('device', 'operational-problem'));
  }

  /** Serve a decoded unconfirmed request (the endpoint decodes them). Never throws. */
  unconfirmed<N extends UnconfirmedServiceName>(name: N, req: UnconfirmedRequestOf<N>, source: PeerAddress, broadcast = false): void {
    this.stats.unconfirmed++;
    if (!this.dcc.canRespond()) return;
    const handler = UNCONFIRMED_HANDLERS[name] as UnconfirmedHandler<N> | undefined;
    if (!handler) return;
    try {
      handler(this.#ctx, req, source, broadcast);
    } catch (e) {
      this.#internal(e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Local API (the node, scripts)

  /** Create and add an object; throws PropertyAccessError (duplicate identifier or name, bad values). */
  addObject(type: number, init: ObjectInit | FileInit): BacnetObject {
    const o = createLocalObject(type, init);
    this.db.add(o);
    this.reporting.evaluate(o);
    return o;
  }

  removeObject(id: ObjectId): BacnetObject | undefined {
    return this.db.remove(id);
  }

  /** An object by name, or by identifier ('analog-value:1', {type, instance}). */
  find(ref: string | ObjectId): BacnetObject | undefined {
    if (typeof ref === 'string') {
      const byName = this.db.getByName(ref);
      if (byName) return byName;
      try {
        return this.db.get(parseObjectId(ref));
      } catch {
        return undefined;
      }
    }
    return this.db.get(ref);
  }
}
