/**
 * Channel Access wire constants (protocol 4.13).
 *
 * Values come from the CA protocol specification ("Channel Access Protocol Specification",
 * epics-docs `internal/ca_protocol.rst`) and, where the document and the C implementation that
 * interoperates differ, from the C headers of EPICS base (`caProto.h`, `caerr.h`,
 * `caeventmask.h`, `alarm.h`). Nothing here is read from the environment: tunables belong in
 * the client/server option objects.
 */

/** Protocol major version (fixed at 4 since the ports were registered). */
export const CA_MAJOR_VERSION = 4;
/** The minor version we speak: 13 = dynamic array size (count 0) in gets and monitors. */
export const CA_MINOR_VERSION = 13;

/** Default server port: TCP virtual circuits and UDP name searches (`EPICS_CA_SERVER_PORT`). */
export const CA_SERVER_PORT = 5064;
/** Default repeater port: beacons go here (`EPICS_CA_REPEATER_PORT`). */
export const CA_REPEATER_PORT = 5065;

/** Largest UDP datagram libca sends (`MAX_UDP_SEND`); searches are packed up to this size. */
export const MAX_UDP_SEND = 1024;
/** Largest datagram a peer may send us that we still parse (`MAX_UDP_RECV` in libca). */
export const MAX_UDP_RECV = 0xffff + 16;

/** Size of a fixed DBR string (`MAX_STRING_SIZE`), including the terminating NUL. */
export const MAX_STRING_SIZE = 40;
/** Size of the units field of GR/CTRL types (`MAX_UNITS_SIZE`). */
export const MAX_UNITS_SIZE = 8;
/** Size of one enum state string in GR/CTRL_ENUM (`MAX_ENUM_STRING_SIZE`). */
export const MAX_ENUM_STRING_SIZE = 26;
/** Number of enum state strings carried by GR/CTRL_ENUM (`MAX_ENUM_STATES`). */
export const MAX_ENUM_STATES = 16;

/** Standard header size; the extended header adds two u32 (payload size, count). */
export const HEADER_SIZE = 16;
export const EXTENDED_HEADER_SIZE = 24;
/** Payload size / count values from which the extended header is required. */
export const EXTENDED_THRESHOLD = 0xffff;

/** Seconds from the POSIX epoch (1970-01-01) to the EPICS epoch (1990-01-01 UTC). */
export const EPICS_EPOCH_OFFSET = 631_152_000;

/** Command identifiers (`CA_PROTO_*`, `caProto.h`). */
export const Command = {
  VERSION: 0,
  EVENT_ADD: 1,
  EVENT_CANCEL: 2,
  READ: 3,
  WRITE: 4,
  SNAPSHOT: 5,
  SEARCH: 6,
  BUILD: 7,
  EVENTS_OFF: 8,
  EVENTS_ON: 9,
  READ_SYNC: 10,
  ERROR: 11,
  CLEAR_CHANNEL: 12,
  RSRV_IS_UP: 13,
  NOT_FOUND: 14,
  READ_NOTIFY: 15,
  READ_BUILD: 16,
  REPEATER_CONFIRM: 17,
  CREATE_CHAN: 18,
  WRITE_NOTIFY: 19,
  CLIENT_NAME: 20,
  HOST_NAME: 21,
  ACCESS_RIGHTS: 22,
  ECHO: 23,
  REPEATER_REGISTER: 24,
  SIGNAL: 25,
  CREATE_CH_FAIL: 26,
  SERVER_DISCONN: 27,
} as const;
export type CommandName = keyof typeof Command;
export type CommandCode = (typeof Command)[CommandName];

const commandNames: string[] = [];
for (const [k, v] of Object.entries(Command)) commandNames[v] = k;
/** Name of a command code, or `CMD_<n>` for codes the protocol does not define. */
export function commandName(code: number): string {
  return commandNames[code] ?? `CMD_${code}`;
}

/** SEARCH dataType: reply flag. DOREPLY asks for NOT_FOUND when the name is unknown. */
export const SearchReply = { DONT_REPLY: 5, DO_REPLY: 10 } as const;
/** VERSION dataType in a UDP datagram: the `cid` field carries a valid sequence number. */
export const SEQUENCE_NUMBER_VALID = 1;

/** Monitor event masks (`caeventmask.h`). */
export const DBE = { VALUE: 1, LOG: 2, ALARM: 4, PROPERTY: 8 } as const;
export const DBE_ALL = DBE.VALUE | DBE.LOG | DBE.ALARM | DBE.PROPERTY;

/** ACCESS_RIGHTS bits. */
export const AccessRights = { NONE: 0, READ: 1, WRITE: 2, READ_WRITE: 3 } as const;

/** Alarm severities (`alarm.h` epicsAlarmSeverity). */
export const AlarmSeverity = { NO_ALARM: 0, MINOR: 1, MAJOR: 2, INVALID: 3 } as const;
export const alarmSeverityNames = ['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'] as const;

/** Alarm conditions (`alarm.h` epicsAlarmCondition), the "status" of STS and richer DBR types. */
export const alarmStatusNames = [
  'NO_ALARM', 'READ', 'WRITE', 'HIHI', 'HIGH', 'LOLO', 'LOW', 'STATE', 'COS', 'COMM', 'TIMEOUT',
  'HWLIMIT', 'CALC', 'SCAN', 'LINK', 'SOFT', 'BAD_SUB', 'UDF', 'DISABLE', 'SIMM', 'READ_ACCESS',
  'WRITE_ACCESS',
] as const;
export type AlarmStatusName = (typeof alarmStatusNames)[number];
export const AlarmStatus = Object.fromEntries(alarmStatusNames.map((n, i) => [n, i])) as { [K in AlarmStatusName]: number };

/** Name of a severity (number shown when unknown). */
export function severityName(sev: number): string {
  return alarmSeverityNames[sev] ?? String(sev);
}
/** Name of an alarm status (number shown when unknown). */
export function statusName(status: number): string {
  return alarmStatusNames[status] ?? String(status);
}
/** Parse a severity given as number or name ('MAJOR', 'major'); undefined when unknown. */
export function parseSeverity(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 3) return v;
  if (typeof v === 'string') {
    const i = alarmSeverityNames.indexOf(v.trim().toUpperCase() as (typeof alarmSeverityNames)[number]);
    if (i >= 0) return i;
    if (/^\d+$/.test(v.trim())) return parseSeverity(Number(v));
  }
  return undefined;
}
/** Parse an alarm status given as number or name ('HIHI', 'state'); undefined when unknown. */
export function parseAlarmStatus(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 0xffff) return v;
  if (typeof v === 'string') {
    const i = alarmStatusNames.indexOf(v.trim().toUpperCase() as AlarmStatusName);
    if (i >= 0) return i;
    if (/^\d+$/.test(v.trim())) return parseAlarmStatus(Number(v));
  }
  return undefined;
}

/** Severity field of an ECA code (the low 3 bits), `caerr.h` CA_K_*. */
export const EcaSeverity = { WARNING: 0, SUCCESS: 1, ERROR: 2, INFO: 3, SEVERE: 4, FATAL: 6 } as const;

interface EcaDef {
  name: string;
  severity: number;
  text: string;
}
/** ECA status codes by message number: (number << 3) | severity. */
const ecaDefs: Array<[number, string, number, string]> = [
  [0, 'ECA_NORMAL', EcaSeverity.SUCCESS, 'Completed normally'],
  [1, 'ECA_MAXIOC', EcaSeverity.ERROR, 'Too many simultaneous server connections (obsolete)'],
  [2, 'ECA_UKNHOST', EcaSeverity.ERROR, 'Unknown host (obsolete)'],
  [3, 'ECA_UKNSERV', EcaSeverity.ERROR, 'Unknown service (obsolete)'],
  [4, 'ECA_SOCK', EcaSeverity.ERROR, 'Could not allocate a socket (obsolete)'],
  [5, 'ECA_CONN', EcaSeverity.WARNING, 'Could not connect to the host or service (obsolete)'],
  [6, 'ECA_ALLOCMEM', EcaSeverity.WARNING, 'Out of memory'],
  [7, 'ECA_UKNCHAN', EcaSeverity.WARNING, 'Unknown channel (obsolete)'],
  [8, 'ECA_UKNFIELD', EcaSeverity.WARNING, 'Field not valid for this channel (obsolete)'],
  [9, 'ECA_TOLARGE', EcaSeverity.WARNING, 'Transfer larger than the buffer or EPICS_CA_MAX_ARRAY_BYTES allows'],
  [10, 'ECA_TIMEOUT', EcaSeverity.WARNING, 'Operation timed out'],
  [11, 'ECA_NOSUPPORT', EcaSeverity.WARNING, 'Feature not supported (obsolete)'],
  [12, 'ECA_STRTOBIG', EcaSeverity.WARNING, 'String too long (obsolete)'],
  [13, 'ECA_DISCONNCHID', EcaSeverity.ERROR, 'Channel is disconnected (obsolete)'],
  [14, 'ECA_BADTYPE', EcaSeverity.ERROR, 'Invalid DBR type'],
  [15, 'ECA_CHIDNOTFND', EcaSeverity.INFO, 'Channel not found (obsolete)'],
  [16, 'ECA_CHIDRETRY', EcaSeverity.INFO, 'Some channels could not be located (obsolete)'],
  [17, 'ECA_INTERNAL', EcaSeverity.FATAL, 'Internal Channel Access failure'],
  [18, 'ECA_DBLCLFAIL', EcaSeverity.WARNING, 'Local database operation failed'],
  [19, 'ECA_GETFAIL', EcaSeverity.WARNING, 'Read failed'],
  [20, 'ECA_PUTFAIL', EcaSeverity.WARNING, 'Write failed'],
  [21, 'ECA_ADDFAIL', EcaSeverity.WARNING, 'Subscription failed (obsolete)'],
  [22, 'ECA_BADCOUNT', EcaSeverity.WARNING, 'Invalid element count'],
  [23, 'ECA_BADSTR', EcaSeverity.ERROR, 'Invalid string'],
  [24, 'ECA_DISCONN', EcaSeverity.WARNING, 'Virtual circuit disconnected'],
  [25, 'ECA_DBLCHNL', EcaSeverity.WARNING, 'Same PV name on several servers (obsolete)'],
  [26, 'ECA_EVDISALLOW', EcaSeverity.ERROR, 'Request not allowed inside a monitor callback'],
  [27, 'ECA_BUILDGET', EcaSeverity.WARNING, 'Read during search failed (obsolete)'],
  [28, 'ECA_NEEDSFP', EcaSeverity.WARNING, 'Floating point task option required (obsolete)'],
  [29, 'ECA_OVEVFAIL', EcaSeverity.WARNING, 'Event queue overflow prevented the first update (obsolete)'],
  [30, 'ECA_BADMONID', EcaSeverity.ERROR, 'Invalid subscription identifier'],
  [31, 'ECA_NEWADDR', EcaSeverity.WARNING, 'Channel moved to a new address (obsolete)'],
  [32, 'ECA_NEWCONN', EcaSeverity.INFO, 'New or resumed connection (obsolete)'],
  [33, 'ECA_NOCACTX', EcaSeverity.WARNING, 'Task has no CA context (obsolete)'],
  [34, 'ECA_DEFUNCT', EcaSeverity.FATAL, 'Defunct feature (obsolete)'],
  [35, 'ECA_EMPTYSTR', EcaSeverity.WARNING, 'Empty string (obsolete)'],
  [36, 'ECA_NOREPEATER', EcaSeverity.WARNING, 'Could not start the CA repeater (obsolete)'],
  [37, 'ECA_NOCHANMSG', EcaSeverity.WARNING, 'Search reply matched no channel (obsolete)'],
  [38, 'ECA_DLCKREST', EcaSeverity.WARNING, 'Resetting a dead connection (obsolete)'],
  [39, 'ECA_SERVBEHIND', EcaSeverity.WARNING, 'Server is behind or not responding (obsolete)'],
  [40, 'ECA_NOCAST', EcaSeverity.WARNING, 'No broadcast-capable interface (obsolete)'],
  [41, 'ECA_BADMASK', EcaSeverity.ERROR, 'Invalid event mask'],
  [42, 'ECA_IODONE', EcaSeverity.INFO, 'I/O operations completed'],
  [43, 'ECA_IOINPROGRESS', EcaSeverity.INFO, 'I/O operations in progress'],
  [44, 'ECA_BADSYNCGRP', EcaSeverity.ERROR, 'Invalid synchronous group'],
  [45, 'ECA_PUTCBINPROG', EcaSeverity.ERROR, 'Put callback already in progress'],
  [46, 'ECA_NORDACCESS', EcaSeverity.WARNING, 'No read access'],
  [47, 'ECA_NOWTACCESS', EcaSeverity.WARNING, 'No write access'],
  [48, 'ECA_ANACHRONISM', EcaSeverity.ERROR, 'Feature no longer supported'],
  [49, 'ECA_NOSEARCHADDR', EcaSeverity.WARNING, 'Search address list is empty'],
  [50, 'ECA_NOCONVERT', EcaSeverity.WARNING, 'No sensible conversion between the client and server types'],
  [51, 'ECA_BADCHID', EcaSeverity.ERROR, 'Invalid channel identifier'],
  [52, 'ECA_BADFUNCPTR', EcaSeverity.ERROR, 'Invalid callback'],
  [53, 'ECA_ISATTACHED', EcaSeverity.WARNING, 'Thread already attached to a client context'],
  [54, 'ECA_UNAVAILINSERV', EcaSeverity.WARNING, 'Not supported by this service'],
  [55, 'ECA_CHANDESTROY', EcaSeverity.WARNING, 'Channel destroyed by the user'],
  [56, 'ECA_BADPRIORITY', EcaSeverity.ERROR, 'Invalid channel priority'],
  [57, 'ECA_NOTTHREADED', EcaSeverity.ERROR, 'Preemptive callbacks not enabled'],
  [58, 'ECA_16KARRAYCLIENT', EcaSeverity.WARNING, 'Client protocol version cannot transfer more than 16 KiB'],
  [59, 'ECA_CONNSEQTMO', EcaSeverity.WARNING, 'Virtual circuit connection sequence aborted'],
  [60, 'ECA_UNRESPTMO', EcaSeverity.WARNING, 'Virtual circuit unresponsive'],
];

/** ECA code value for a message number and severity. */
export function ecaCode(msgNo: number, severity: number): number {
  return (msgNo << 3) | severity;
}

const ecaByCode = new Map<number, EcaDef>();
const ecaByNo = new Map<number, EcaDef>();
/** ECA codes by name, e.g. `ECA.NORMAL === 1`, `ECA.PUTFAIL === 0xa0`. */
export const ECA = {} as Record<
  | 'NORMAL' | 'MAXIOC' | 'UKNHOST' | 'UKNSERV' | 'SOCK' | 'CONN' | 'ALLOCMEM' | 'UKNCHAN' | 'UKNFIELD'
  | 'TOLARGE' | 'TIMEOUT' | 'NOSUPPORT' | 'STRTOBIG' | 'DISCONNCHID' | 'BADTYPE' | 'CHIDNOTFND'
  | 'CHIDRETRY' | 'INTERNAL' | 'DBLCLFAIL' | 'GETFAIL' | 'PUTFAIL' | 'ADDFAIL' | 'BADCOUNT' | 'BADSTR'
  | 'DISCONN' | 'DBLCHNL' | 'EVDISALLOW' | 'BUILDGET' | 'NEEDSFP' | 'OVEVFAIL' | 'BADMONID' | 'NEWADDR'
  | 'NEWCONN' | 'NOCACTX' | 'DEFUNCT' | 'EMPTYSTR' | 'NOREPEATER' | 'NOCHANMSG' | 'DLCKREST'
  | 'SERVBEHIND' | 'NOCAST' | 'BADMASK' | 'IODONE' | 'IOINPROGRESS' | 'BADSYNCGRP' | 'PUTCBINPROG'
  | 'NORDACCESS' | 'NOWTACCESS' | 'ANACHRONISM' | 'NOSEARCHADDR' | 'NOCONVERT' | 'BADCHID'
  | 'BADFUNCPTR' | 'ISATTACHED' | 'UNAVAILINSERV' | 'CHANDESTROY' | 'BADPRIORITY' | 'NOTTHREADED'
  | '16KARRAYCLIENT' | 'CONNSEQTMO' | 'UNRESPTMO',
  number
>;
for (const [no, name, sev, text] of ecaDefs) {
  const def = { name, severity: sev, text };
  ecaByCode.set(ecaCode(no, sev), def);
  ecaByNo.set(no, def);
  (ECA as Record<string, number>)[name.slice(4)] = ecaCode(no, sev);
}

/** Look up an ECA code: name ('ECA_PUTFAIL'), severity and text; tolerant of a wrong severity field. */
export function ecaInfo(code: number): { code: number; name: string; severity: number; text: string } {
  const exact = ecaByCode.get(code);
  if (exact) return { code, ...exact };
  const byNo = ecaByNo.get(code >>> 3);
  if (byNo) return { code, name: byNo.name, severity: code & 7, text: byNo.text };
  return { code, name: `ECA_${code}`, severity: code & 7, text: `Unknown CA status ${code}` };
}

/** True for codes whose severity means success (ECA_NORMAL and informational codes). */
export function ecaIsSuccess(code: number): boolean {
  return (code & 1) === 1;
}
