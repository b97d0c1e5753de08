/**
 * The Device object (ASHRAE 135-2020 Clause 12.11): identity and vendor data given at start,
 * and the properties that must agree with what the server really does, computed on every read:
 * Object_List (12.11), Protocol_Services_Supported (12.11) and
 * Protocol_Object_Types_Supported (12.11) from the handlers and object types implemented,
 * Max_APDU_Length_Accepted / Segmentation_Supported / Max_Segments_Accepted from the
 * transport (12.11), Database_Revision (12.11), Local_Date / Local_Time /
 * UTC_Offset / Daylight_Savings_Status from the device clock (12.11), and
 * Active_COV_Subscriptions (12.11) from the COV engine.
 */
import { type ObjectId } from '../codec/primitives';
import { dateFromJs, timeFromJs } from '../codec/primitives';
import { type BacnetValue, Value, valuesToBytes } from '../codec/values';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { ObjectType } from '../enums/object-type';
import { DeviceStatus, RestartReason, Segmentation } from '../enums/states';
import { BacnetObject, type ObjectInit } from './object';
import { objectTypeDef } from './types';

/** Protocol_Version (12.11) and the Protocol_Revision of ASHRAE 135-2020 (12.11). */
export const PROTOCOL_VERSION = 1;
export const PROTOCOL_REVISION = 22;

export interface DeviceIdentity {
  instance: number;
  name: string;
  description?: string;
  location?: string;
  vendorName?: string;
  vendorId?: number;
  modelName?: string;
  firmwareRevision?: string;
  applicationSoftwareVersion?: string;
  serialNumber?: string;
}

/** Communication parameters the transport gives the Device object. */
export interface DeviceCommunication {
  maxApdu: number;
  /** BACnetSegmentation value (segmented-both, ..., no-segmentation). */
  segmentation: number;
  maxSegments: number;
  apduTimeout: number;
  apduSegmentTimeout: number;
  retries: number;
}

/** What the server computes for the Device object. */
export interface DeviceRuntime {
  objectList(): ObjectId[];
  servicesSupported(): boolean[];
  objectTypesSupported(): boolean[];
  databaseRevision(): number;
  covSubscriptions(): BacnetValue[];
  communication(): DeviceCommunication;
}

export const DEFAULT_COMMUNICATION: DeviceCommunication = {
  maxApdu: 1476, segmentation: Segmentation.segmentedBoth, maxSegments: 64, apduTimeout: 3000, apduSegmentTimeout: 2000, retries: 3,
};

const noRuntime: DeviceRuntime = {
  objectList: () => [],
  servicesSupported: () => [],
  objectTypesSupported: () => [],
  databaseRevision: () => 0,
  covSubscriptions: () => [],
  communication: () => DEFAULT_COMMUNICATION,
};

/** Minutes west of UTC of local standard time (UTC_Offset sign convention, 12.11). */
function standardOffsetMinutes(d: Date): number {
  const jan = new Date(d.getFullYear(), 0, 1).getTimezoneOffset();
  const jul = new Date(d.getFullYear(), 6, 1).getTimezoneOffset();
  return Math.max(jan, jul);
}

export class DeviceObject extends BacnetObject {
  runtime: DeviceRuntime = noRuntime;
  #systemStatus: number = DeviceStatus.operational;
  readonly #startedAt: number;

  constructor(identity: DeviceIdentity, startedAt = Date.now()) {
    const def = objectTypeDef(ObjectType.device)!;
    const s = (x: string): BacnetValue[] => [Value.characterString(x)];
    const values: Array<[number, BacnetValue[]]> = [
      [P.vendorName, s(identity.vendorName ?? 'Fieldlink')],
      [P.vendorIdentifier, [Value.unsigned(identity.vendorId ?? 0)]],
      [P.modelName, s(identity.modelName ?? 'Node-RED bacnet-server')],
      [P.firmwareRevision, s(identity.firmwareRevision ?? '0.1.0')],
      [P.applicationSoftwareVersion, s(identity.applicationSoftwareVersion ?? '0.1.0')],
      [P.location, s(identity.location ?? '')],
      [P.deviceAddressBinding, []],
    ];
    if (identity.serialNumber !== undefined) values.push([P.serialNumber, s(identity.serialNumber)]);
    const init: ObjectInit = { instance: identity.instance, name: identity.name, values };
    if (identity.description !== undefined) init.description = identity.description;
    super(def, init);
    this.#startedAt = startedAt;
  }

  get systemStatus(): number {
    return this.#systemStatus;
  }

  set systemStatus(v: number) {
    if (v === this.#systemStatus) return;
    this.#systemStatus = v;
    this.host.changed(this, [P.systemStatus], 'local');
  }

  protected override compute(propertyId: number): BacnetValue[] | undefined {
    const rt = this.runtime;
    switch (propertyId) {
      case P.systemStatus: return [Value.enumerated(this.#systemStatus)];
      case P.protocolVersion: return [Value.unsigned(PROTOCOL_VERSION)];
      case P.protocolRevision: return [Value.unsigned(PROTOCOL_REVISION)];
      case P.protocolServicesSupported: return [Value.bitString(rt.servicesSupported())];
      case P.protocolObjectTypesSupported: return [Value.bitString(rt.objectTypesSupported())];
      case P.objectList: return rt.objectList().map((id) => Value.objectId(id.type, id.instance));
      case P.maxApduLengthAccepted: return [Value.unsigned(rt.communication().maxApdu)];
      case P.segmentationSupported: return [Value.enumerated(rt.communication().segmentation)];
      case P.maxSegmentsAccepted: return [Value.unsigned(rt.communication().maxSegments)];
      case P.apduTimeout: return [Value.unsigned(rt.communication().apduTimeout)];
      case P.apduSegmentTimeout: return [Value.unsigned(rt.communication().apduSegmentTimeout)];
      case P.numberOfApduRetries: return [Value.unsigned(rt.communication().retries)];
      case P.databaseRevision: return [Value.unsigned(rt.databaseRevision())];
      case P.activeCovSubscriptions: return rt.covSubscriptions();
      case P.localDate: return [Value.date(dateFromJs(new Date(this.host.now())))];
      case P.localTime: return [Value.time(timeFromJs(new Date(this.host.now())))];
      case P.utcOffset: return [Value.signed(standardOffsetMinutes(new Date(this.host.now())))];
      case P.daylightSavingsStatus: {
        const d = new Date(this.host.now());
        return [Value.boolean(d.getTimezoneOffset() < standardOffsetMinutes(d))];
      }
      case P.lastRestartReason: return [Value.enumerated(RestartReason.coldstart)];
      case P.timeOfDeviceRestart: {
        const d = new Date(this.#startedAt);
        return [Value.constructed(2, [Value.date(dateFromJs(d)), Value.time(timeFromJs(d))])];
      }
      default: return super.compute(propertyId);
    }
  }
}

/** Size in octets of a property value once encoded (for response budgets). */
export function encodedSize(values: readonly BacnetValue[]): number {
  return valuesToBytes(values).length;
}
