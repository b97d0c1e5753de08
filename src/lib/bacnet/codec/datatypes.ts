/**
 * Property datatypes (ASHRAE 135-2020 Clause 12, the "Property Datatype" column of each object
 * type's table): what a property of an object type holds, so that a plain JavaScript value can
 * be encoded with the right application tag (present-value of a binary object -> ENUMERATED,
 * multi-state -> Unsigned, analog -> REAL, priority-array of commandable objects -> 16 NULL or
 * value slots) and a decoded value rendered back as plain JavaScript.
 *
 * The table has one datatype per property identifier that is the same in every object type,
 * and overrides per object type for the properties whose type follows the object (present-value,
 * relinquish-default, priority-array, feedback-value, alarm-value(s), limits, deadband,
 * cov-increment, ...). Properties not listed are `any`: decoded generically and encoded from
 * tagged values only (or by guess, see `jsToValue`).
 */
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier } from '../enums/property-identifier';
import { EngineeringUnits } from '../enums/engineering-units';
import { ServicesSupported } from '../enums/services';
import type { BacnetEnum } from '../enums/enum';
import {
  Action, BackupState, BinaryLightingPV, BinaryPV, DeviceStatus, DoorStatus, DoorValue, EventState, EventTransitionBits,
  EventType, FileAccessMethod, IPMode, LifeSafetyMode, LifeSafetyOperation, LifeSafetyState, LightingInProgress,
  LightingTransition, LimitEnable, LockStatus, LoggingType, Maintenance, NetworkNumberQuality, NetworkType, NodeType,
  NotifyType, Polarity, ProgramError, ProgramRequest, ProgramState, ProtocolLevel, Reliability, RestartReason,
  Segmentation, ShedState, SilencedState, StatusFlags, TimerState, TimerTransition, WriteStatus,
} from '../enums/states';

/** Named constructed types with typed codecs (constructed.ts). */
export type ConstructedName =
  | 'log-record' | 'date-range' | 'daily-schedule' | 'special-event' | 'calendar-entry' | 'destination'
  | 'cov-subscription' | 'address-binding' | 'device-object-property-reference' | 'object-property-reference'
  | 'timestamp' | 'recipient';

export type Datatype =
  | { kind: 'null' | 'boolean' | 'unsigned' | 'signed' | 'real' | 'double' | 'octet-string' | 'character-string' | 'date' | 'time' | 'object-identifier' | 'date-time' | 'any' }
  | { kind: 'enumerated'; enum?: BacnetEnum }
  | { kind: 'bit-string'; bits?: BacnetEnum }
  | { kind: 'array'; of: Datatype; size?: number }
  | { kind: 'list'; of: Datatype }
  /** One slot of a priority array, or BACnetOptional*: NULL or the value. */
  | { kind: 'optional'; of: Datatype }
  | { kind: 'constructed'; name: ConstructedName };

const T = {
  null: { kind: 'null' },
  boolean: { kind: 'boolean' },
  unsigned: { kind: 'unsigned' },
  signed: { kind: 'signed' },
  real: { kind: 'real' },
  double: { kind: 'double' },
  octets: { kind: 'octet-string' },
  string: { kind: 'character-string' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  oid: { kind: 'object-identifier' },
  dateTime: { kind: 'date-time' },
  any: { kind: 'any' },
} as const satisfies Record<string, Datatype>;

const en = (e?: BacnetEnum): Datatype => (e ? { kind: 'enumerated', enum: e } : { kind: 'enumerated' });
const bits = (e?: BacnetEnum): Datatype => (e ? { kind: 'bit-string', bits: e } : { kind: 'bit-string' });
const array = (of: Datatype, size?: number): Datatype => (size === undefined ? { kind: 'array', of } : { kind: 'array', of, size });
const list = (of: Datatype): Datatype => ({ kind: 'list', of });
const optional = (of: Datatype): Datatype => ({ kind: 'optional', of });
const c = (name: ConstructedName): Datatype => ({ kind: 'constructed', name });

/** Datatype by property name, where it is the same for every object type. */
const COMMON: Record<string, Datatype> = {
  'object-identifier': T.oid,
  'object-name': T.string,
  'object-type': en(ObjectType),
  description: T.string,
  'device-type': T.string,
  location: T.string,
  'vendor-name': T.string,
  'vendor-identifier': T.unsigned,
  'model-name': T.string,
  'firmware-revision': T.string,
  'application-software-version': T.string,
  'profile-name': T.string,
  'profile-location': T.string,
  'serial-number': T.string,
  'inactive-text': T.string,
  'active-text': T.string,
  'state-text': array(T.string),
  'number-of-states': T.unsigned,
  'event-message-texts': array(T.string, 3),
  'event-message-texts-config': array(T.string, 3),
  units: en(EngineeringUnits),
  'output-units': en(EngineeringUnits),
  'controlled-variable-units': en(EngineeringUnits),
  'proportional-constant-units': en(EngineeringUnits),
  'integral-constant-units': en(EngineeringUnits),
  'derivative-constant-units': en(EngineeringUnits),
  'status-flags': bits(StatusFlags),
  'event-state': en(EventState),
  reliability: en(Reliability),
  'out-of-service': T.boolean,
  polarity: en(Polarity),
  'event-enable': bits(EventTransitionBits),
  'acked-transitions': bits(EventTransitionBits),
  'ack-required': bits(EventTransitionBits),
  'limit-enable': bits(LimitEnable),
  'notify-type': en(NotifyType),
  'notification-class': T.unsigned,
  'time-delay': T.unsigned,
  'time-delay-normal': T.unsigned,
  'event-time-stamps': array(c('timestamp'), 3),
  'event-detection-enable': T.boolean,
  'event-algorithm-inhibit': T.boolean,
  'reliability-evaluation-inhibit': T.boolean,
  'event-type': en(EventType),
  'current-command-priority': optional(T.unsigned),
  'minimum-on-time': T.unsigned,
  'minimum-off-time': T.unsigned,
  'elapsed-active-time': T.unsigned,
  'change-of-state-count': T.unsigned,
  'change-of-state-time': T.dateTime,
  'time-of-active-time-reset': T.dateTime,
  'time-of-state-count-reset': T.dateTime,
  'update-interval': T.unsigned,
  'cov-period': T.unsigned,
  'cov-resubscription-interval': T.unsigned,
  // Device
  'system-status': en(DeviceStatus),
  'protocol-version': T.unsigned,
  'protocol-revision': T.unsigned,
  'protocol-services-supported': bits(ServicesSupported),
  'protocol-object-types-supported': bits(ObjectType),
  'object-list': array(T.oid),
  'structured-object-list': array(T.oid),
  'configuration-files': array(T.oid),
  'max-apdu-length-accepted': T.unsigned,
  'segmentation-supported': en(Segmentation),
  'max-segments-accepted': T.unsigned,
  'apdu-timeout': T.unsigned,
  'apdu-segment-timeout': T.unsigned,
  'number-of-apdu-retries': T.unsigned,
  'database-revision': T.unsigned,
  'local-date': T.date,
  'local-time': T.time,
  'utc-offset': T.signed,
  'daylight-savings-status': T.boolean,
  'device-address-binding': list(c('address-binding')),
  'active-cov-subscriptions': list(c('cov-subscription')),
  'time-synchronization-recipients': list(c('recipient')),
  'utc-time-synchronization-recipients': list(c('recipient')),
  'restart-notification-recipients': list(c('recipient')),
  'time-synchronization-interval': T.unsigned,
  'align-intervals': T.boolean,
  'interval-offset': T.unsigned,
  'last-restart-reason': en(RestartReason),
  'time-of-device-restart': c('timestamp'),
  'last-restore-time': c('timestamp'),
  'backup-failure-timeout': T.unsigned,
  'backup-preparation-time': T.unsigned,
  'restore-preparation-time': T.unsigned,
  'restore-completion-time': T.unsigned,
  'backup-and-restore-state': en(BackupState),
  'max-master': T.unsigned,
  'max-info-frames': T.unsigned,
  'property-list': array(en(PropertyIdentifier)),
  'deployed-profile-location': T.string,
  // Notification class
  priority: array(T.unsigned, 3),
  'recipient-list': list(c('destination')),
  // Trend log
  'log-buffer': list(c('log-record')),
  'log-device-object-property': c('device-object-property-reference'),
  'log-interval': T.unsigned,
  enable: T.boolean,
  'start-time': T.dateTime,
  'stop-time': T.dateTime,
  'stop-when-full': T.boolean,
  'buffer-size': T.unsigned,
  'record-count': T.unsigned,
  'total-record-count': T.unsigned,
  'logging-type': en(LoggingType),
  'notification-threshold': T.unsigned,
  'records-since-notification': T.unsigned,
  'last-notify-record': T.unsigned,
  trigger: T.boolean,
  // Schedule and calendar
  'effective-period': c('date-range'),
  'weekly-schedule': array(c('daily-schedule'), 7),
  'exception-schedule': array(c('special-event')),
  'schedule-default': T.any,
  'list-of-object-property-references': list(c('device-object-property-reference')),
  'priority-for-writing': T.unsigned,
  'date-list': list(c('calendar-entry')),
  // File
  'file-type': T.string,
  'file-size': T.unsigned,
  'modification-date': T.dateTime,
  archive: T.boolean,
  'read-only': T.boolean,
  'file-access-method': en(FileAccessMethod),
  // Loop
  'manipulated-variable-reference': c('object-property-reference'),
  'controlled-variable-reference': c('object-property-reference'),
  'controlled-variable-value': T.real,
  setpoint: T.real,
  action: en(Action),
  'proportional-constant': T.real,
  'integral-constant': T.real,
  'derivative-constant': T.real,
  bias: T.real,
  'maximum-output': T.real,
  'minimum-output': T.real,
  // Program
  'program-state': en(ProgramState),
  'program-change': en(ProgramRequest),
  'reason-for-halt': en(ProgramError),
  'description-of-halt': T.string,
  'program-location': T.string,
  'instance-of': T.string,
  // Life safety
  mode: en(LifeSafetyMode),
  'accepted-modes': list(en(LifeSafetyMode)),
  'operation-expected': en(LifeSafetyOperation),
  silenced: en(SilencedState),
  'maintenance-required': en(Maintenance),
  'life-safety-alarm-values': list(en(LifeSafetyState)),
  'zone-members': list(T.oid),
  // Load control, timer, lighting, access, network port, structured view
  'shed-duration': T.unsigned,
  'timer-state': en(TimerState),
  'last-state-change': en(TimerTransition),
  'in-progress': en(LightingInProgress),
  transition: en(LightingTransition),
  'write-status': en(WriteStatus),
  'door-status': en(DoorStatus),
  'lock-status': en(LockStatus),
  'network-type': en(NetworkType),
  'network-number': T.unsigned,
  'network-number-quality': en(NetworkNumberQuality),
  'protocol-level': en(ProtocolLevel),
  'bacnet-ip-mode': en(IPMode),
  'mac-address': T.octets,
  'bacnet-ip-udp-port': T.unsigned,
  'ip-address': T.octets,
  'ip-subnet-mask': T.octets,
  'ip-default-gateway': T.octets,
  'fd-bbmd-address': T.any,
  'fd-subscription-lifetime': T.unsigned,
  'node-type': en(NodeType),
  'node-subtype': T.string,
  // Accumulator, pulse converter
  'pulse-rate': T.unsigned,
  'value-before-change': T.unsigned,
  'value-set': T.unsigned,
  'value-change-time': T.dateTime,
  'adjust-value': T.real,
  count: T.unsigned,
  'update-time': T.dateTime,
  'count-change-time': T.dateTime,
  'count-before-change': T.unsigned,
  'input-reference': c('object-property-reference'),
};

/** Present-value datatype of each object type. */
const PV: Record<string, Datatype> = {
  'analog-input': T.real,
  'analog-output': T.real,
  'analog-value': T.real,
  'binary-input': en(BinaryPV),
  'binary-output': en(BinaryPV),
  'binary-value': en(BinaryPV),
  calendar: T.boolean,
  command: T.unsigned,
  loop: T.real,
  'multi-state-input': T.unsigned,
  'multi-state-output': T.unsigned,
  'multi-state-value': T.unsigned,
  'life-safety-point': en(LifeSafetyState),
  'life-safety-zone': en(LifeSafetyState),
  accumulator: T.unsigned,
  'pulse-converter': T.real,
  'load-control': en(ShedState),
  'access-door': en(DoorValue),
  timer: T.unsigned,
  'bitstring-value': bits(),
  'characterstring-value': T.string,
  'datepattern-value': T.date,
  'date-value': T.date,
  'datetimepattern-value': T.dateTime,
  'datetime-value': T.dateTime,
  'integer-value': T.signed,
  'large-analog-value': T.double,
  'octetstring-value': T.octets,
  'positive-integer-value': T.unsigned,
  'time-pattern-value': T.time,
  'time-value': T.time,
  'lighting-output': T.real,
  'binary-lighting-output': en(BinaryLightingPV),
  'alert-enrollment': T.oid,
  'color-temperature': T.unsigned,
};

/** Types whose numeric limits, deadband and COV increment follow the present value. */
const NUMERIC_PV = new Set([
  'analog-input', 'analog-output', 'analog-value', 'large-analog-value', 'integer-value', 'positive-integer-value',
  'pulse-converter', 'lighting-output', 'loop', 'accumulator',
]);

/** Object types whose present value is always commanded through a priority array (19.2). */
const ALWAYS_COMMANDABLE = new Set<string>([
  'analog-output', 'binary-output', 'multi-state-output', 'lighting-output', 'binary-lighting-output', 'access-door',
]);
/** Value object types that may be commandable (then they carry Priority_Array and Relinquish_Default). */
const OPTIONALLY_COMMANDABLE = new Set<string>([
  'analog-value', 'binary-value', 'multi-state-value', 'bitstring-value', 'characterstring-value', 'datepattern-value',
  'date-value', 'datetimepattern-value', 'datetime-value', 'integer-value', 'large-analog-value', 'octetstring-value',
  'positive-integer-value', 'time-pattern-value', 'time-value', 'color-temperature',
]);

function build(): Map<number, Map<number, Datatype>> {
  const byType = new Map<number, Map<number, Datatype>>();
  for (const [typeName, pv] of Object.entries(PV)) {
    const m = new Map<number, Datatype>();
    const set = (prop: string, d: Datatype): void => void m.set(PropertyIdentifier.require(prop), d);
    set('present-value', pv);
    if (ALWAYS_COMMANDABLE.has(typeName) || OPTIONALLY_COMMANDABLE.has(typeName)) {
      set('relinquish-default', pv);
      set('priority-array', array(optional(pv), 16));
    }
    if (typeName === 'binary-output' || typeName === 'multi-state-output') set('feedback-value', pv);
    if (typeName === 'binary-input' || typeName === 'binary-value') set('alarm-value', pv);
    if (typeName.startsWith('multi-state')) {
      set('alarm-values', list(T.unsigned));
      set('fault-values', list(T.unsigned));
    }
    if (typeName === 'characterstring-value') {
      set('alarm-values', list(T.string));
      set('fault-values', list(T.string));
    }
    if (typeName.startsWith('life-safety')) {
      set('tracking-value', pv);
      set('alarm-values', list(pv));
      set('fault-values', list(pv));
    }
    if (NUMERIC_PV.has(typeName)) {
      const increment = typeName === 'integer-value' ? T.unsigned : pv;
      for (const p of ['min-pres-value', 'max-pres-value', 'high-limit', 'low-limit', 'resolution']) set(p, pv);
      set('deadband', typeName === 'integer-value' || typeName === 'positive-integer-value' ? T.unsigned : pv);
      set('cov-increment', increment);
    }
    byType.set(ObjectType.require(typeName), m);
  }
  // Command.action is a BACnetARRAY of BACnetActionList, not the Loop's Action enumeration.
  const cmd = byType.get(ObjectType.command)!;
  cmd.set(PropertyIdentifier.action, array(T.any));
  cmd.set(PropertyIdentifier.actionText, array(T.string));
  const sched = new Map<number, Datatype>([[PropertyIdentifier.presentValue, T.any]]);
  byType.set(ObjectType.schedule, sched);
  return byType;
}

const BY_TYPE = build();
const COMMON_BY_ID = new Map<number, Datatype>(
  Object.entries(COMMON).map(([name, d]) => [PropertyIdentifier.require(name), d]),
);

/** The datatype of (object type, property), or undefined when it is not in the table. */
export function propertyDatatype(objectType: number, propertyId: number): Datatype | undefined {
  return BY_TYPE.get(objectType)?.get(propertyId) ?? COMMON_BY_ID.get(propertyId);
}

/**
 * The datatype of one element read or written with a property array index: index 0 is the
 * array length (Unsigned); other indexes give the element type of a BACnetARRAY.
 */
export function elementDatatype(d: Datatype | undefined, arrayIndex: number | undefined): Datatype | undefined {
  if (arrayIndex === undefined || !d) return d;
  if (arrayIndex === 0) return T.unsigned;
  return d.kind === 'array' ? d.of : d;
}

/** Whether an object type's present value is commandable: always, optionally (values), or never. */
export function commandability(objectType: number): 'always' | 'optional' | 'never' {
  const name = ObjectType.nameOf(objectType);
  if (name === undefined) return 'never';
  if (ALWAYS_COMMANDABLE.has(name)) return 'always';
  return OPTIONALLY_COMMANDABLE.has(name) ? 'optional' : 'never';
}
