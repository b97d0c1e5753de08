/**
 * The object types this server implements, as data (ASHRAE 135-2020 Clause 12: 12.2 Analog
 * Input, 12.3 Analog Output, 12.4 Analog Value, 12.6..12.8 Binary Input/Output/Value, 12.9
 * Calendar, 12.11 Device, 12.13 File, 12.18..12.20 Multi-state Input/Output/Value, 12.21
 * Notification Class, 12.24 Schedule, 12.25 Trend Log, and the value objects of 12.36..12.48:
 * BitString, CharacterString, Date, DateTime, Integer, Large Analog, OctetString, Positive
 * Integer and Time Value).
 *
 * For each type: the properties it can carry (required and optional, see properties.ts), whether
 * its present value is commandable (19.2), how COV is detected (13.1: COV_Increment for analog
 * values, any change otherwise), which intrinsic reporting algorithm applies (13.3), and the
 * default values of a fresh object. `OBJECT_TYPES` is the registry; Protocol_Object_Types_Supported
 * is computed from it.
 */
import { ObjectType } from '../enums/object-type';
import { PropertyIdentifier as P } from '../enums/property-identifier';
import { EngineeringUnits } from '../enums/engineering-units';
import { FileAccessMethod, LoggingType, NotifyType, Polarity, Reliability } from '../enums/states';
import { type BacnetValue, Value } from '../codec/values';
import { commandability } from '../codec/datatypes';
import {
  ANALOG_RANGE, BINARY_STATE_REPORTING, COMMANDABLE, EXTRA_DATATYPES, IDENTITY, MULTI_STATE_REPORTING,
  OUT_OF_RANGE_REPORTING, type PropertyDef, type PropertyTemplate, STATUS, STATUS_OPTIONAL, bind, opt, req,
} from './properties';

/** How a change of value is recognised for COV reporting (13.1). */
export type CovCriterion = 'increment' | 'any-change' | 'none';
/** Intrinsic reporting algorithm (13.3.6 OUT_OF_RANGE, 13.3.2 CHANGE_OF_STATE). */
export type ReportingAlgorithm = 'out-of-range' | 'change-of-state' | 'none';
/** Present value family: decides conversion, defaults and range checks. */
export type ValueFamily = 'analog' | 'binary' | 'multi-state' | 'other';

export interface ObjectTypeDef {
  type: number;
  name: string;
  /** Every property this type can carry, in Clause 12 table order. */
  properties: PropertyDef[];
  /** Optional properties present on a fresh object (besides the required ones). */
  defaultOptional: number[];
  /** Properties added together when the object reports intrinsically. */
  reporting: number[];
  commandable: 'always' | 'optional' | 'never';
  /** Input objects: present value writable from the network only while out of service. */
  input: boolean;
  family: ValueFamily;
  cov: CovCriterion;
  algorithm: ReportingAlgorithm;
  /** Default values of a fresh object (property id -> tagged value). */
  defaults: ReadonlyMap<number, BacnetValue[]>;
}

const STATUS_DEFAULTS: Array<[number, BacnetValue[]]> = [
  [P.eventState, [Value.enumerated(0)]],
  [P.reliability, [Value.enumerated(Reliability.noFaultDetected)]],
  [P.outOfService, [Value.boolean(false)]],
];

/** A BACnetTimeStamp date-time with every field unspecified: a transition that has not happened. */
export const UNSPECIFIED_STAMP: BacnetValue = Value.constructed(2, [
  Value.date({ year: 255, month: 255, day: 255, weekday: 255 }),
  Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 }),
]);

const REPORTING_DEFAULTS: Array<[number, BacnetValue[]]> = [
  [P.timeDelay, [Value.unsigned(0)]],
  [P.timeDelayNormal, [Value.unsigned(0)]],
  [P.notificationClass, [Value.unsigned(0)]],
  [P.eventEnable, [Value.bitString([true, true, true])]],
  [P.ackedTransitions, [Value.bitString([true, true, true])]],
  [P.notifyType, [Value.enumerated(NotifyType.alarm)]],
  [P.eventDetectionEnable, [Value.boolean(true)]],
  [P.eventMessageTexts, [Value.characterString(''), Value.characterString(''), Value.characterString('')]],
  [P.eventTimeStamps, [UNSPECIFIED_STAMP, UNSPECIFIED_STAMP, UNSPECIFIED_STAMP]],
];

interface Spec {
  name: string;
  props: PropertyTemplate[];
  defaultOptional?: string[];
  reporting?: PropertyTemplate[];
  input?: boolean;
  family?: ValueFamily;
  cov?: CovCriterion;
  algorithm?: ReportingAlgorithm;
  defaults?: Array<[number, BacnetValue[]]>;
}

const pv = req('present-value', 'present-value');
const units = req('units');
const DEFAULT_UNITS: [number, BacnetValue[]] = [P.units, [Value.enumerated(EngineeringUnits.noUnits)]];

const ANALOG_DEFAULTS: Array<[number, BacnetValue[]]> = [
  [P.presentValue, [Value.real(0)]], DEFAULT_UNITS, [P.covIncrement, [Value.real(0.1)]], ...STATUS_DEFAULTS,
  [P.highLimit, [Value.real(100)]], [P.lowLimit, [Value.real(0)]], [P.deadband, [Value.real(0)]],
  [P.limitEnable, [Value.bitString([false, false])]],
];
const BINARY_DEFAULTS: Array<[number, BacnetValue[]]> = [
  [P.presentValue, [Value.enumerated(0)]], [P.polarity, [Value.enumerated(Polarity.normal)]],
  [P.inactiveText, [Value.characterString('inactive')]], [P.activeText, [Value.characterString('active')]],
  [P.alarmValue, [Value.enumerated(1)]], ...STATUS_DEFAULTS,
];
const MULTI_STATE_DEFAULTS: Array<[number, BacnetValue[]]> = [
  [P.presentValue, [Value.unsigned(1)]], [P.numberOfStates, [Value.unsigned(2)]],
  [P.stateText, [Value.characterString('state 1'), Value.characterString('state 2')]],
  [P.alarmValues, []], ...STATUS_DEFAULTS,
];

const SPECS: Spec[] = [
  {
    name: 'analog-input', family: 'analog', input: true, cov: 'increment', algorithm: 'out-of-range',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, units, ...ANALOG_RANGE, IDENTITY[4]!],
    reporting: OUT_OF_RANGE_REPORTING, defaultOptional: ['description', 'reliability', 'cov-increment'], defaults: ANALOG_DEFAULTS,
  },
  {
    name: 'analog-output', family: 'analog', cov: 'increment', algorithm: 'out-of-range',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, units, ...ANALOG_RANGE, ...COMMANDABLE, IDENTITY[4]!],
    reporting: OUT_OF_RANGE_REPORTING, defaultOptional: ['description', 'reliability', 'cov-increment'],
    defaults: [...ANALOG_DEFAULTS, [P.relinquishDefault, [Value.real(0)]]],
  },
  {
    name: 'analog-value', family: 'analog', cov: 'increment', algorithm: 'out-of-range',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, units, ...ANALOG_RANGE, ...COMMANDABLE, IDENTITY[4]!],
    reporting: OUT_OF_RANGE_REPORTING, defaultOptional: ['description', 'reliability', 'cov-increment'],
    defaults: [...ANALOG_DEFAULTS, [P.relinquishDefault, [Value.real(0)]]],
  },
  {
    name: 'binary-input', family: 'binary', input: true, cov: 'any-change', algorithm: 'change-of-state',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, req('polarity'), opt('inactive-text'), opt('active-text'), IDENTITY[4]!],
    reporting: BINARY_STATE_REPORTING, defaultOptional: ['description', 'reliability', 'inactive-text', 'active-text'], defaults: BINARY_DEFAULTS,
  },
  {
    name: 'binary-output', family: 'binary', cov: 'any-change',
    props: [
      ...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, req('polarity'), opt('inactive-text'), opt('active-text'),
      opt('minimum-off-time', 'write'), opt('minimum-on-time', 'write'), ...COMMANDABLE, IDENTITY[4]!,
    ],
    defaultOptional: ['description', 'reliability', 'inactive-text', 'active-text'],
    defaults: [...BINARY_DEFAULTS, [P.relinquishDefault, [Value.enumerated(0)]], [P.minimumOnTime, [Value.unsigned(0)]], [P.minimumOffTime, [Value.unsigned(0)]]],
  },
  {
    name: 'binary-value', family: 'binary', cov: 'any-change', algorithm: 'change-of-state',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, opt('inactive-text'), opt('active-text'), ...COMMANDABLE, IDENTITY[4]!],
    reporting: BINARY_STATE_REPORTING, defaultOptional: ['description', 'reliability', 'inactive-text', 'active-text'],
    defaults: [...BINARY_DEFAULTS, [P.relinquishDefault, [Value.enumerated(0)]]],
  },
  {
    name: 'multi-state-input', family: 'multi-state', input: true, cov: 'any-change', algorithm: 'change-of-state',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, req('number-of-states'), opt('state-text'), IDENTITY[4]!],
    reporting: MULTI_STATE_REPORTING, defaultOptional: ['description', 'reliability', 'state-text'], defaults: MULTI_STATE_DEFAULTS,
  },
  {
    name: 'multi-state-output', family: 'multi-state', cov: 'any-change',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, req('number-of-states'), opt('state-text'), ...COMMANDABLE, IDENTITY[4]!],
    defaultOptional: ['description', 'reliability', 'state-text'],
    defaults: [...MULTI_STATE_DEFAULTS, [P.relinquishDefault, [Value.unsigned(1)]]],
  },
  {
    name: 'multi-state-value', family: 'multi-state', cov: 'any-change', algorithm: 'change-of-state',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS, req('number-of-states'), opt('state-text'), ...COMMANDABLE, IDENTITY[4]!],
    reporting: MULTI_STATE_REPORTING, defaultOptional: ['description', 'reliability', 'state-text'],
    defaults: [...MULTI_STATE_DEFAULTS, [P.relinquishDefault, [Value.unsigned(1)]]],
  },
  ...numericValue('integer-value', Value.signed(0), Value.unsigned(1)),
  ...numericValue('positive-integer-value', Value.unsigned(0), Value.unsigned(1)),
  ...numericValue('large-analog-value', Value.double(0), Value.double(0.1)),
  plainValue('characterstring-value', Value.characterString('')),
  plainValue('date-value', Value.date({ year: 255, month: 255, day: 255, weekday: 255 })),
  plainValue('time-value', Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 })),
  plainValue('octetstring-value', Value.octetString(new Uint8Array(0))),
  {
    ...plainValue('bitstring-value', Value.bitString([])),
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, opt('bit-text', 'read', EXTRA_DATATYPES.bitText), ...STATUS_OPTIONAL, ...COMMANDABLE, IDENTITY[4]!],
  },
  {
    name: 'datetime-value', cov: 'any-change',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS_OPTIONAL, ...COMMANDABLE, IDENTITY[4]!],
    defaultOptional: ['description'],
    defaults: [[P.presentValue, [Value.date({ year: 255, month: 255, day: 255, weekday: 255 }), Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 })]], ...STATUS_DEFAULTS,
      [P.relinquishDefault, [Value.date({ year: 255, month: 255, day: 255, weekday: 255 }), Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 })]]],
  },
  {
    name: 'file', cov: 'none',
    props: [
      ...IDENTITY.slice(0, 4), req('file-type'), req('file-size'), req('modification-date'), req('archive', 'write'),
      req('read-only'), req('file-access-method'), opt('record-count'), IDENTITY[4]!,
    ],
    defaultOptional: ['description'],
    defaults: [
      [P.fileType, [Value.characterString('application/octet-stream')]], [P.archive, [Value.boolean(false)]],
      [P.readOnly, [Value.boolean(false)]], [P.fileAccessMethod, [Value.enumerated(FileAccessMethod.streamAccess)]],
    ],
  },
  {
    name: 'notification-class', cov: 'none',
    props: [...IDENTITY.slice(0, 4), req('notification-class'), req('priority', 'write'), req('ack-required', 'write'), req('recipient-list', 'write'), IDENTITY[4]!],
    defaultOptional: ['description'],
    defaults: [
      [P.priority, [Value.unsigned(255), Value.unsigned(255), Value.unsigned(255)]],
      [P.ackRequired, [Value.bitString([false, false, false])]], [P.recipientList, []],
    ],
  },
  {
    name: 'calendar', cov: 'any-change',
    props: [...IDENTITY.slice(0, 3), IDENTITY[3]!, req('present-value'), req('date-list', 'write'), IDENTITY[4]!],
    defaultOptional: ['description'],
    defaults: [[P.presentValue, [Value.boolean(false)]], [P.dateList, []]],
  },
  {
    name: 'schedule', cov: 'any-change',
    props: [
      ...IDENTITY.slice(0, 3), req('present-value'), IDENTITY[3]!, req('effective-period', 'write'), opt('weekly-schedule', 'write'),
      opt('exception-schedule', 'write'), req('schedule-default', 'write'), req('list-of-object-property-references', 'write'),
      req('priority-for-writing', 'write'), req('status-flags'), req('reliability'), req('out-of-service', 'write'), IDENTITY[4]!,
    ],
    defaultOptional: ['description', 'weekly-schedule', 'exception-schedule'],
    defaults: [
      [P.presentValue, [Value.null()]],
      [P.effectivePeriod, [Value.date({ year: 255, month: 255, day: 255, weekday: 255 }), Value.date({ year: 255, month: 255, day: 255, weekday: 255 })]],
      [P.weeklySchedule, Array.from({ length: 7 }, () => Value.constructed(0, []))],
      [P.exceptionSchedule, []], [P.scheduleDefault, [Value.null()]], [P.listOfObjectPropertyReferences, []],
      [P.priorityForWriting, [Value.unsigned(16)]], [P.reliability, [Value.enumerated(Reliability.noFaultDetected)]],
      [P.outOfService, [Value.boolean(false)]], [P.eventState, [Value.enumerated(0)]],
    ],
  },
  {
    name: 'trend-log', cov: 'none',
    props: [
      ...IDENTITY.slice(0, 4), req('status-flags'), req('event-state'), opt('reliability'), req('enable', 'write'),
      opt('start-time', 'write'), opt('stop-time', 'write'), opt('log-device-object-property', 'write'), opt('log-interval', 'write'),
      opt('client-cov-increment', 'write', EXTRA_DATATYPES.clientCovIncrement), req('stop-when-full', 'write'), req('buffer-size', 'write'),
      req('log-buffer'), req('record-count', 'write'), req('total-record-count'), req('logging-type', 'write'),
      opt('align-intervals', 'write'), opt('interval-offset', 'write'), opt('trigger', 'write'), IDENTITY[4]!,
    ],
    defaultOptional: ['description', 'reliability', 'log-device-object-property', 'log-interval', 'client-cov-increment', 'align-intervals', 'interval-offset', 'trigger'],
    defaults: [
      [P.eventState, [Value.enumerated(0)]], [P.reliability, [Value.enumerated(Reliability.noFaultDetected)]],
      [P.enable, [Value.boolean(true)]], [P.logInterval, [Value.unsigned(6000)]], [P.clientCovIncrement, [Value.null()]],
      [P.stopWhenFull, [Value.boolean(false)]], [P.bufferSize, [Value.unsigned(1000)]], [P.recordCount, [Value.unsigned(0)]],
      [P.totalRecordCount, [Value.unsigned(0)]], [P.loggingType, [Value.enumerated(LoggingType.polled)]],
      [P.alignIntervals, [Value.boolean(false)]], [P.intervalOffset, [Value.unsigned(0)]], [P.trigger, [Value.boolean(false)]],
      [P.startTime, [Value.date({ year: 255, month: 255, day: 255, weekday: 255 }), Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 })]],
      [P.stopTime, [Value.date({ year: 255, month: 255, day: 255, weekday: 255 }), Value.time({ hour: 255, minute: 255, second: 255, hundredths: 255 })]],
    ],
  },
  {
    name: 'device', cov: 'none',
    props: [
      ...IDENTITY.slice(0, 3), req('system-status'), req('vendor-name'), req('vendor-identifier'), req('model-name'),
      req('firmware-revision'), req('application-software-version'), opt('location'), IDENTITY[3]!, req('protocol-version'),
      req('protocol-revision'), req('protocol-services-supported'), req('protocol-object-types-supported'), req('object-list'),
      req('max-apdu-length-accepted'), req('segmentation-supported'), opt('max-segments-accepted'), opt('local-date'),
      opt('local-time'), opt('utc-offset'), opt('daylight-savings-status'), opt('apdu-segment-timeout'), req('apdu-timeout'),
      req('number-of-apdu-retries'), req('device-address-binding'), req('database-revision'), opt('active-cov-subscriptions'),
      opt('last-restart-reason'), opt('time-of-device-restart'), opt('serial-number'), IDENTITY[4]!,
    ],
    defaultOptional: [
      'description', 'location', 'max-segments-accepted', 'local-date', 'local-time', 'utc-offset', 'daylight-savings-status',
      'apdu-segment-timeout', 'active-cov-subscriptions', 'last-restart-reason', 'time-of-device-restart',
    ],
    defaults: [],
  },
];

function numericValue(name: string, zero: BacnetValue, increment: BacnetValue): Spec[] {
  return [{
    name, family: 'analog', cov: 'increment',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS_OPTIONAL, units, ...ANALOG_RANGE, ...COMMANDABLE, IDENTITY[4]!],
    defaultOptional: ['description', 'cov-increment'],
    defaults: [[P.presentValue, [zero]], DEFAULT_UNITS, [P.covIncrement, [increment]], ...STATUS_DEFAULTS, [P.relinquishDefault, [zero]]],
  }];
}

function plainValue(name: string, zero: BacnetValue): Spec {
  return {
    name, cov: 'any-change',
    props: [...IDENTITY.slice(0, 3), pv, IDENTITY[3]!, ...STATUS_OPTIONAL, ...COMMANDABLE, IDENTITY[4]!],
    defaultOptional: ['description'],
    defaults: [[P.presentValue, [zero]], ...STATUS_DEFAULTS, [P.relinquishDefault, [zero]]],
  };
}

function build(spec: Spec): ObjectTypeDef {
  const type = ObjectType.require(spec.name);
  const reporting = spec.reporting ?? [];
  const templates = [...spec.props];
  // Reporting properties go before Property_List, which stays last.
  if (reporting.length) templates.splice(templates.length - 1, 0, ...reporting);
  const defaults = new Map<number, BacnetValue[]>(spec.defaults ?? []);
  if (reporting.length) for (const [id, v] of REPORTING_DEFAULTS) if (!defaults.has(id)) defaults.set(id, v);
  return {
    type,
    name: spec.name,
    properties: bind(type, templates),
    defaultOptional: (spec.defaultOptional ?? []).map((n) => P.require(n)),
    reporting: reporting.map((t) => t.id),
    commandable: spec.name === 'device' ? 'never' : commandability(type),
    input: spec.input ?? false,
    family: spec.family ?? 'other',
    cov: spec.cov ?? 'none',
    algorithm: spec.algorithm ?? 'none',
    defaults,
  };
}

/** The registry: every object type this server can host, by object type number. */
export const OBJECT_TYPES: ReadonlyMap<number, ObjectTypeDef> = new Map(SPECS.map((s) => {
  const d = build(s);
  return [d.type, d];
}));

/** The definition of an object type, or undefined when this server does not implement it. */
export function objectTypeDef(type: number): ObjectTypeDef | undefined {
  return OBJECT_TYPES.get(type);
}
