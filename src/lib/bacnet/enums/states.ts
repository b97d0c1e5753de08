/**
 * The smaller enumerations and bit-string positions of ASHRAE 135-2020 Clause 21 that property
 * values and service parameters use: segmentation, event states and types, transitions, notify
 * type, status flags, reliability, binary present value, polarity, device status, character sets,
 * life safety, DCC and reinitialize choices, logging, and the rest listed below. Vendor and future
 * values decode to numbers.
 */
import { defineEnum } from './enum';

/** BACnetSegmentation (12.11.21, I-Am). */
export const Segmentation = defineEnum('segmentation', {
  'segmented-both': 0,
  'segmented-transmit': 1,
  'segmented-receive': 2,
  'no-segmentation': 3,
}, { both: 'segmented-both', transmit: 'segmented-transmit', receive: 'segmented-receive', none: 'no-segmentation' }, 255);

/** BACnetEventState. */
export const EventState = defineEnum('event state', {
  normal: 0,
  fault: 1,
  offnormal: 2,
  'high-limit': 3,
  'low-limit': 4,
  'life-safety-alarm': 5,
}, {}, 65535);

/** BACnetEventType. */
export const EventType = defineEnum('event type', {
  'change-of-bitstring': 0,
  'change-of-state': 1,
  'change-of-value': 2,
  'command-failure': 3,
  'floating-limit': 4,
  'out-of-range': 5,
  'complex-event-type': 6,
  'change-of-life-safety': 8,
  extended: 9,
  'buffer-ready': 10,
  'unsigned-range': 11,
  'access-event': 13,
  'double-out-of-range': 14,
  'signed-out-of-range': 15,
  'unsigned-out-of-range': 16,
  'change-of-characterstring': 17,
  'change-of-status-flags': 18,
  'change-of-reliability': 19,
  none: 20,
  'change-of-discrete-value': 21,
  'change-of-timer': 22,
}, {}, 65535);

/** BACnetEventTransitionBits (bit positions of Event_Enable, Acked_Transitions, ...). */
export const EventTransitionBits = defineEnum('event transition bit', {
  'to-offnormal': 0,
  'to-fault': 1,
  'to-normal': 2,
});

/** BACnetNotifyType. */
export const NotifyType = defineEnum('notify type', { alarm: 0, event: 1, 'ack-notification': 2 }, {}, 255);

/** BACnetStatusFlags bit positions. */
export const StatusFlags = defineEnum('status flag', {
  'in-alarm': 0,
  fault: 1,
  overridden: 2,
  'out-of-service': 3,
});

/** BACnetLimitEnable bit positions. */
export const LimitEnable = defineEnum('limit enable bit', { 'low-limit-enable': 0, 'high-limit-enable': 1 });

/** BACnetResultFlags bit positions (ReadRange-ACK). */
export const ResultFlags = defineEnum('result flag', { 'first-item': 0, 'last-item': 1, 'more-items': 2 });

/** BACnetLogStatus bit positions. */
export const LogStatus = defineEnum('log status bit', { 'log-disabled': 0, 'buffer-purged': 1, 'log-interrupted': 2 });

/** BACnetDaysOfWeek bit positions. */
export const DaysOfWeek = defineEnum('day-of-week bit', {
  monday: 0, tuesday: 1, wednesday: 2, thursday: 3, friday: 4, saturday: 5, sunday: 6,
});

/** BACnetReliability. */
export const Reliability = defineEnum('reliability', {
  'no-fault-detected': 0,
  'no-sensor': 1,
  'over-range': 2,
  'under-range': 3,
  'open-loop': 4,
  'shorted-loop': 5,
  'no-output': 6,
  'unreliable-other': 7,
  'process-error': 8,
  'multi-state-fault': 9,
  'configuration-error': 10,
  'communication-failure': 12,
  'member-fault': 13,
  'monitored-object-fault': 14,
  tripped: 15,
  'lamp-failure': 16,
  'activation-failure': 17,
  'renew-dhcp-failure': 18,
  'renew-fd-registration-failure': 19,
  'restart-auto-negotiation-failure': 20,
  'restart-failure': 21,
  'proprietary-command-failure': 22,
  'faults-listed': 23,
  'referenced-object-fault': 24,
  'multi-state-out-of-range': 25,
}, {}, 65535);

/** BACnetBinaryPV. 'on'/'off', 'true'/'false' and '1'/'0' are accepted on input. */
export const BinaryPV = defineEnum('binary value', { inactive: 0, active: 1 }, {
  off: 'inactive', on: 'active', false: 'inactive', true: 'active',
}, 1);

/** BACnetPolarity. */
export const Polarity = defineEnum('polarity', { normal: 0, reverse: 1 }, {}, 1);

/** BACnetAction (Loop). */
export const Action = defineEnum('action', { direct: 0, reverse: 1 }, {}, 1);

/** BACnetDeviceStatus. */
export const DeviceStatus = defineEnum('device status', {
  operational: 0,
  'operational-read-only': 1,
  'download-required': 2,
  'download-in-progress': 3,
  'non-operational': 4,
  'backup-in-progress': 5,
}, {}, 65535);

/** Character sets of a CharacterString (20.2.9). */
export const CharacterSet = defineEnum('character set', {
  'utf-8': 0,
  'ibm-microsoft-dbcs': 1,
  'jis-x-0208': 2,
  'ucs-4': 3,
  'ucs-2': 4,
  'iso-8859-1': 5,
}, { 'ansi-x3.4': 'utf-8', utf8: 'utf-8', dbcs: 'ibm-microsoft-dbcs', 'jis-c-6226': 'jis-x-0208', latin1: 'iso-8859-1' }, 255);

/** BACnetLifeSafetyState. */
export const LifeSafetyState = defineEnum('life safety state', {
  quiet: 0, 'pre-alarm': 1, alarm: 2, fault: 3, 'fault-pre-alarm': 4, 'fault-alarm': 5, 'not-ready': 6,
  active: 7, tamper: 8, 'test-alarm': 9, 'test-active': 10, 'test-fault': 11, 'test-fault-alarm': 12,
  holdup: 13, duress: 14, 'tamper-alarm': 15, abnormal: 16, 'emergency-power': 17, delayed: 18,
  blocked: 19, 'local-alarm': 20, 'general-alarm': 21, supervisory: 22, 'test-supervisory': 23,
  'non-default-mode': 24, 'oeo-unavailable': 25, 'oeo-alarm': 26, 'oeo-phase1-recall': 27,
  'oeo-evacuate': 28, 'oeo-unaffected': 29, 'test-oeo-unavailable': 30, 'test-oeo-alarm': 31,
  'test-oeo-phase1-recall': 32, 'test-oeo-evacuate': 33, 'test-oeo-unaffected': 34,
}, {}, 65535);

/** BACnetLifeSafetyMode. */
export const LifeSafetyMode = defineEnum('life safety mode', {
  off: 0, on: 1, test: 2, manned: 3, unmanned: 4, armed: 5, disarmed: 6, prearmed: 7, slow: 8,
  fast: 9, disconnected: 10, enabled: 11, disabled: 12, 'automatic-release-disabled': 13,
  default: 14, 'activated-oeo-alarm': 15, 'activated-oeo-evacuate': 16,
  'activated-oeo-phase1-recall': 17, 'activated-oeo-unavailable': 18, deactivated: 19,
}, {}, 65535);

/** BACnetLifeSafetyOperation. */
export const LifeSafetyOperation = defineEnum('life safety operation', {
  none: 0, silence: 1, 'silence-audible': 2, 'silence-visual': 3, reset: 4, 'reset-alarm': 5,
  'reset-fault': 6, unsilence: 7, 'unsilence-audible': 8, 'unsilence-visual': 9,
}, {}, 65535);

/** BACnetSilencedState. */
export const SilencedState = defineEnum('silenced state', {
  unsilenced: 0, 'audible-silenced': 1, 'visibly-silenced': 2, 'all-silenced': 3,
}, {}, 65535);

/** BACnetMaintenance. */
export const Maintenance = defineEnum('maintenance', {
  none: 0, 'periodic-test': 1, 'need-service-operational': 2, 'need-service-inoperative': 3,
}, {}, 65535);

/** DeviceCommunicationControl enable-disable (16.1.1.1.2). */
export const EnableDisable = defineEnum('enable-disable', {
  enable: 0, disable: 1, 'disable-initiation': 2,
}, {}, 255);

/** ReinitializeDevice reinitialized-state-of-device (16.4.1.1.1). */
export const ReinitializedState = defineEnum('reinitialized state', {
  coldstart: 0, warmstart: 1, 'start-backup': 2, 'end-backup': 3, 'start-restore': 4,
  'end-restore': 5, 'abort-restore': 6, 'activate-changes': 7,
}, {}, 255);

/** BACnetRestartReason. */
export const RestartReason = defineEnum('restart reason', {
  unknown: 0, coldstart: 1, warmstart: 2, 'detected-power-lost': 3, 'detected-powered-off': 4,
  'hardware-watchdog': 5, 'software-watchdog': 6, suspended: 7, 'activate-changes': 8,
}, {}, 255);

/** BACnetBackupState. */
export const BackupState = defineEnum('backup state', {
  idle: 0, 'preparing-for-backup': 1, 'preparing-for-restore': 2, 'performing-a-backup': 3,
  'performing-a-restore': 4, 'backup-failure': 5, 'restore-failure': 6,
}, {}, 255);

/** BACnetFileAccessMethod. */
export const FileAccessMethod = defineEnum('file access method', {
  'record-access': 0, 'stream-access': 1,
}, {}, 255);

/** BACnetLoggingType. */
export const LoggingType = defineEnum('logging type', { polled: 0, cov: 1, triggered: 2 }, {}, 255);

/** Choice tags of BACnetLogRecord log-datum (and BACnetLogData). */
export const LogDatumChoice = defineEnum('log datum', {
  'log-status': 0, 'boolean-value': 1, 'real-value': 2, 'enumerated-value': 3, 'unsigned-value': 4,
  'integer-value': 5, 'bitstring-value': 6, 'null-value': 7, failure: 8, 'time-change': 9, 'any-value': 10,
}, {}, 255);

/** BACnetProgramState / BACnetProgramRequest / BACnetProgramError. */
export const ProgramState = defineEnum('program state', {
  idle: 0, loading: 1, running: 2, waiting: 3, halted: 4, unloading: 5,
}, {}, 255);
export const ProgramRequest = defineEnum('program request', {
  ready: 0, load: 1, run: 2, halt: 3, restart: 4, unload: 5,
}, {}, 255);
export const ProgramError = defineEnum('program error', {
  normal: 0, 'load-failed': 1, internal: 2, program: 3, other: 4,
}, {}, 65535);

/** BACnetShedState (Load Control). */
export const ShedState = defineEnum('shed state', {
  'shed-inactive': 0, 'shed-request-pending': 1, 'shed-compliant': 2, 'shed-non-compliant': 3,
}, {}, 255);

/** GetEventInformation / GetEnrollmentSummary acknowledgment filter. */
export const AcknowledgmentFilter = defineEnum('acknowledgment filter', { all: 0, acked: 1, 'not-acked': 2 }, {}, 255);

/** BACnetMessagePriority (text messages). */
export const MessagePriority = defineEnum('message priority', { normal: 0, urgent: 1 }, {}, 255);

/** BACnetLightingOperation. */
export const LightingOperation = defineEnum('lighting operation', {
  none: 0, 'fade-to': 1, 'ramp-to': 2, 'step-up': 3, 'step-down': 4, 'step-on': 5, 'step-off': 6,
  warn: 7, 'warn-off': 8, 'warn-relinquish': 9, stop: 10, 'restore-on': 11, 'default-on': 12,
  'toggle-restore': 13, 'toggle-default': 14,
}, {}, 65535);

/** BACnetLightingInProgress. */
export const LightingInProgress = defineEnum('lighting in progress', {
  idle: 0, fade: 1, ramp: 2, 'not-controlled': 3, other: 4, 'trim-active': 5,
}, {}, 255);

/** BACnetLightingTransition. */
export const LightingTransition = defineEnum('lighting transition', { none: 0, fade: 1, ramp: 2 }, {}, 255);

/** BACnetBinaryLightingPV. */
export const BinaryLightingPV = defineEnum('binary lighting value', {
  off: 0, on: 1, warn: 2, 'warn-off': 3, 'warn-relinquish': 4, stop: 5, toggle: 6,
}, {}, 255);

/** BACnetTimerState / BACnetTimerTransition. */
export const TimerState = defineEnum('timer state', { idle: 0, running: 1, expired: 2 }, {}, 255);
export const TimerTransition = defineEnum('timer transition', {
  none: 0, 'idle-to-running': 1, 'running-to-idle': 2, 'running-to-running': 3,
  'running-to-expired': 4, 'forced-to-expired': 5, 'expired-to-idle': 6, 'expired-to-running': 7,
}, {}, 255);

/** BACnetWriteStatus (Channel). */
export const WriteStatus = defineEnum('write status', { idle: 0, 'in-progress': 1, successful: 2, failed: 3 }, {}, 255);

/** BACnetDoorValue / BACnetDoorStatus / BACnetLockStatus (Access Door). */
export const DoorValue = defineEnum('door value', { lock: 0, unlock: 1, 'pulse-unlock': 2, 'extended-pulse-unlock': 3 }, {}, 255);
export const DoorStatus = defineEnum('door status', {
  closed: 0, opened: 1, unknown: 2, 'door-fault': 3, unused: 4, none: 5, closing: 6, opening: 7,
  'safety-locked': 8, 'limited-opened': 9,
}, {}, 65535);
export const LockStatus = defineEnum('lock status', { locked: 0, unlocked: 1, 'lock-fault': 2, unused: 3, unknown: 4 }, {}, 255);

/** BACnetNetworkType (Network Port), BACnetIPMode, BACnetNetworkNumberQuality, BACnetProtocolLevel. */
export const NetworkType = defineEnum('network type', {
  ethernet: 0, arcnet: 1, mstp: 2, ptp: 3, lontalk: 4, ipv4: 5, zigbee: 6, virtual: 7,
  'non-bacnet': 8, ipv6: 9, serial: 10, 'secure-connect': 11,
}, {}, 255);
export const IPMode = defineEnum('IP mode', { normal: 0, foreign: 1, bbmd: 2 }, {}, 255);
export const NetworkNumberQuality = defineEnum('network number quality', {
  unknown: 0, learned: 1, 'learned-configured': 2, configured: 3,
}, {}, 255);
export const ProtocolLevel = defineEnum('protocol level', {
  physical: 0, protocol: 1, 'bacnet-application': 2, 'non-bacnet-application': 3,
}, {}, 255);

/** BACnetNodeType (Structured View). */
export const NodeType = defineEnum('node type', {
  unknown: 0, system: 1, network: 2, device: 3, organizational: 4, area: 5, equipment: 6, point: 7,
  collection: 8, property: 9, functional: 10, other: 11, subsystem: 12, building: 13, floor: 14,
  section: 15, module: 16, tree: 17, member: 18, protocol: 19, room: 20, zone: 21,
}, {}, 255);

/** BACnetTimeStamp / BACnetPropertyStates choice helpers live in codec/constructed.ts. */
