/**
 * What the server tells its owner (the bacnet-server node, a script): remote writes and
 * commands (15.9, 15.10, 19.2), object creation and deletion (15.3, 15.4), file writes (14.2),
 * event-state transitions and acknowledgements (13.2, 13.5), DeviceCommunicationControl (16.1),
 * ReinitializeDevice (16.4) and time synchronization (16.7, 16.8) requests.
 */
import type { BacnetValue } from '../codec/values';
import type { BacnetObject } from '../objects/object';
import type { PeerAddress } from './network';

export type WriteService = 'write-property' | 'write-property-multiple' | 'create-object';

export type ServerEvent =
  | {
      type: 'write';
      object: BacnetObject;
      propertyId: number;
      arrayIndex?: number;
      /** The value as written (a NULL relinquishes a command slot). */
      value: BacnetValue[];
      /** Priority the write used (commandable present value) or gave. */
      priority?: number;
      source: PeerAddress;
      service: WriteService;
    }
  | { type: 'object-created' | 'object-deleted'; object: BacnetObject; source?: PeerAddress }
  | { type: 'file-written'; object: BacnetObject; source: PeerAddress }
  | {
      type: 'event';
      object: BacnetObject;
      fromState: number;
      toState: number;
      eventType: number;
      notificationClass: number;
      priority: number;
      ackRequired: boolean;
      /** Recipients the notification went to. */
      recipients: number;
      message?: string;
    }
  | { type: 'acknowledge'; object: BacnetObject; state: number; source: PeerAddress; acknowledgmentSource: string }
  | { type: 'dcc'; state: 'enable' | 'disable' | 'disable-initiation'; durationMinutes?: number; source?: PeerAddress }
  | { type: 'reinitialize'; state: string; source: PeerAddress }
  | { type: 'time-sync'; time: Date; utc: boolean; source: PeerAddress };

export type EventSink = (e: ServerEvent) => void;
