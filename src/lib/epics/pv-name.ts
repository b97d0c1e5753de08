/**
 * PV names as users write them: `NAME` or `ca://NAME` for Channel Access, `pva://NAME` for
 * pvAccess. Shared by the CA client, the (later) PVA client and the nodes, so that one name
 * syntax selects the protocol everywhere. The user's original text is kept for `msg.topic`.
 */
import { FieldlinkError } from '../wire/errors';

export type PvProtocol = 'ca' | 'pva';

export interface PvName {
  protocol: PvProtocol;
  /** The name on the wire (scheme removed). */
  name: string;
  /** Exactly what the user wrote. */
  original: string;
}

/** A PV name that cannot be used: empty, blanks inside, an unknown scheme, too long. */
export class PvNameError extends FieldlinkError {
  constructor(message: string, code = 'EPVNAME') {
    super(code, message);
  }
}

/** Longest name accepted, in UTF-8 bytes (what our server and RSRV accept comfortably). */
export const MAX_PV_NAME_BYTES = 1000;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Split a user's PV name into protocol and wire name. Throws PvNameError for an unusable name;
 * `pva://` names parse (protocol 'pva'); refusing them is up to the caller (see `requireCa`).
 */
export function parsePvName(text: unknown): PvName {
  if (typeof text !== 'string') throw new PvNameError(`a PV name must be a string, not ${text === null ? 'null' : typeof text}`);
  const original = text;
  const trimmed = text.trim();
  if (trimmed === '') throw new PvNameError('the PV name is empty');
  let protocol: PvProtocol = 'ca';
  let name = trimmed;
  const m = SCHEME.exec(trimmed);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    if (scheme === 'ca') protocol = 'ca';
    else if (scheme === 'pva') protocol = 'pva';
    else throw new PvNameError(`unknown protocol '${m[1]}://' in '${original}' (use ca://NAME, pva://NAME or a bare name)`);
    name = trimmed.slice(m[0].length);
    if (name === '') throw new PvNameError(`'${original}' names no PV after ${m[0]}`);
  }
  if (/[\s\0]/.test(name)) throw new PvNameError(`PV name '${original}' contains blanks or control characters`);
  if (Buffer.byteLength(name) > MAX_PV_NAME_BYTES) throw new PvNameError(`PV name '${name.slice(0, 40)}...' is longer than ${MAX_PV_NAME_BYTES} bytes`);
  return { protocol, name, original };
}

/** The message used when a `pva://` name reaches a part of Fieldlink that speaks CA only. */
export function pvaUnavailableText(original: string): string {
  return `'${original}': pvAccess (pva://) is not available in Fieldlink yet; use ca://NAME or the bare name for Channel Access`;
}

/** Parse and insist on Channel Access: a `pva://` name throws PvNameError (code EPVAUNAVAILABLE). */
export function requireCa(text: unknown): PvName {
  const p = parsePvName(text);
  if (p.protocol !== 'ca') throw new PvNameError(pvaUnavailableText(p.original), 'EPVAUNAVAILABLE');
  return p;
}
