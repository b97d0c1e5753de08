/**
 * Protocol rules as data: which side may send which command over which transport, and the life
 * cycles of circuits and channels as transition tables. Pure; the client and server consult
 * them, tests check them.
 */
import { LocalProtocolError } from '../../wire/errors';
import { Command, type CommandName } from './constants';


type Via = 'tcp' | 'udp';
interface CommandRule {
  /** Transports on which a client sends it. */
  client: readonly Via[];
  /** Transports on which a server (or repeater) sends it. */
  server: readonly Via[];
}

/** Who sends what (CA 4.13). Obsolete commands (SNAPSHOT, BUILD, READ_BUILD, SIGNAL) appear with no sender. */
export const commandRules: Record<CommandName, CommandRule> = {
  VERSION: { client: ['tcp', 'udp'], server: ['tcp', 'udp'] },
  EVENT_ADD: { client: ['tcp'], server: ['tcp'] },
  EVENT_CANCEL: { client: ['tcp'], server: [] },
  READ: { client: ['tcp'], server: ['tcp'] },
  WRITE: { client: ['tcp'], server: [] },
  SNAPSHOT: { client: [], server: [] },
  SEARCH: { client: ['tcp', 'udp'], server: ['tcp', 'udp'] },
  BUILD: { client: [], server: [] },
  EVENTS_OFF: { client: ['tcp'], server: [] },
  EVENTS_ON: { client: ['tcp'], server: [] },
  READ_SYNC: { client: ['tcp'], server: ['tcp'] },
  ERROR: { client: [], server: ['tcp', 'udp'] },
  CLEAR_CHANNEL: { client: ['tcp'], server: ['tcp'] },
  RSRV_IS_UP: { client: [], server: ['udp'] },
  NOT_FOUND: { client: [], server: ['tcp', 'udp'] },
  READ_NOTIFY: { client: ['tcp'], server: ['tcp'] },
  READ_BUILD: { client: [], server: [] },
  REPEATER_CONFIRM: { client: [], server: ['udp'] },
  CREATE_CHAN: { client: ['tcp'], server: ['tcp'] },
  WRITE_NOTIFY: { client: ['tcp'], server: ['tcp'] },
  CLIENT_NAME: { client: ['tcp'], server: [] },
  HOST_NAME: { client: ['tcp'], server: [] },
  ACCESS_RIGHTS: { client: [], server: ['tcp'] },
  ECHO: { client: ['tcp'], server: ['tcp'] },
  REPEATER_REGISTER: { client: ['udp'], server: [] },
  SIGNAL: { client: [], server: [] },
  CREATE_CH_FAIL: { client: [], server: ['tcp'] },
  SERVER_DISCONN: { client: [], server: ['tcp'] },
};

const byCode = new Map<number, CommandRule>();
for (const [name, rule] of Object.entries(commandRules)) byCode.set(Command[name as CommandName], rule);

/** True when a client may send `command` over `via` (what a server accepts). */
export function clientMaySend(command: number, via: Via): boolean {
  return byCode.get(command)?.client.includes(via) ?? false;
}

/** True when a server may send `command` over `via` (what a client accepts). */
export function serverMaySend(command: number, via: Via): boolean {
  return byCode.get(command)?.server.includes(via) ?? false;
}

/** A transition table: state → event → next state. */
export type TransitionTable<S extends string, E extends string> = Record<S, Partial<Record<E, S>>>;

/** Next state, or a LocalProtocolError naming the illegal move. */
export function transition<S extends string, E extends string>(table: TransitionTable<S, E>, what: string, from: S, event: E): S {
  const to = table[from][event];
  if (to === undefined) throw new LocalProtocolError(`${what}: event '${event}' is not allowed in state '${from}'`);
  return to;
}

/**
 * Client side of a virtual circuit. `connected` once TCP is up and VERSION / HOST_NAME /
 * CLIENT_NAME are queued; `unresponsive` when an ECHO went unanswered (channels are reported
 * disconnected but kept); any traffic brings it back; a second miss or a socket error closes it.
 */
export type ClientCircuitState = 'connecting' | 'connected' | 'unresponsive' | 'closed';
export type ClientCircuitEvent = 'tcpUp' | 'echoTimeout' | 'traffic' | 'socketClosed' | 'close';
export const clientCircuitTable: TransitionTable<ClientCircuitState, ClientCircuitEvent> = {
  connecting: { tcpUp: 'connected', socketClosed: 'closed', close: 'closed' },
  connected: { echoTimeout: 'unresponsive', traffic: 'connected', socketClosed: 'closed', close: 'closed' },
  unresponsive: { traffic: 'connected', echoTimeout: 'closed', socketClosed: 'closed', close: 'closed' },
  closed: {},
};

/**
 * Client side of a channel. A channel searches until a reply names a server, is created on that
 * server's circuit, and is connected when the CREATE_CHAN reply arrives. SERVER_DISCONN, a lost
 * circuit or CREATE_CH_FAIL send it back to searching; only the user's clear closes it.
 */
export type ClientChannelState = 'searching' | 'creating' | 'connected' | 'closed';
export type ClientChannelEvent = 'searchReply' | 'createReply' | 'createFail' | 'serverDisconn' | 'circuitLost' | 'clear';
export const clientChannelTable: TransitionTable<ClientChannelState, ClientChannelEvent> = {
  searching: { searchReply: 'creating', clear: 'closed' },
  creating: { createReply: 'connected', createFail: 'searching', circuitLost: 'searching', clear: 'closed' },
  connected: { serverDisconn: 'searching', circuitLost: 'searching', clear: 'closed' },
  closed: {},
};

/**
 * Server side of a channel: open from the CREATE_CHAN reply until the client clears it, the PV is
 * removed (SERVER_DISCONN sent) or the circuit closes. No message may name a closed channel.
 */
export type ServerChannelState = 'open' | 'closed';
export type ServerChannelEvent = 'clear' | 'pvRemoved' | 'circuitClosed';
export const serverChannelTable: TransitionTable<ServerChannelState, ServerChannelEvent> = {
  open: { clear: 'closed', pvRemoved: 'closed', circuitClosed: 'closed' },
  closed: {},
};
