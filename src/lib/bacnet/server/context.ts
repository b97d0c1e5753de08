/**
 * What a service handler sees (ASHRAE 135-2020 Clause 5.4.5: the responding BACnet-user acts on
 * an indication and answers with a response or an error): the device's object database and
 * engines, the server's rules (password, write allow-list, dynamic creation), the event sink,
 * and facts about the request (its source, and how large a response the requester accepts).
 */
import type { ObjectDatabase } from './database';
import type { CovEngine } from './cov';
import type { IntrinsicReporting } from './intrinsic-reporting';
import type { ScheduleEngine } from './schedule-engine';
import type { TrendLogEngine } from './trend-log-engine';
import type { CommunicationControl } from './communication-control';
import type { EventSink } from './events';
import type { PeerAddress, ServerNetwork } from './network';

export interface ServerRules {
  /** DeviceCommunicationControl and ReinitializeDevice password; empty = none required. */
  password?: string;
  /** May this peer write, create, delete or write files? */
  mayWrite: (peer: PeerAddress) => boolean;
  /** CreateObject / DeleteObject from the network. */
  allowCreateDelete: boolean;
  /** Accept TimeSynchronization / UTCTimeSynchronization (sets the device clock). */
  acceptTimeSync: boolean;
}

export interface ServiceContext {
  db: ObjectDatabase;
  cov: CovEngine;
  reporting: IntrinsicReporting;
  schedules: ScheduleEngine;
  trendLogs: TrendLogEngine;
  dcc: CommunicationControl;
  rules: ServerRules;
  events: EventSink;
  network(): ServerNetwork;
}

export interface RequestInfo {
  source: PeerAddress;
  /**
   * Largest service-data size (octets after the APDU header) the requester accepts in one
   * response, segmented if it allows: handlers that can shorten an answer (ReadRange,
   * AtomicReadFile, GetEventInformation) fit it to this.
   */
  maxResponse: number;
}
