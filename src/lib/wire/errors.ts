/**
 * Error types shared by every Fieldlink protocol stack.
 *
 * `FieldlinkError` carries a stable `code` that nodes and users can switch on. Decode faults
 * (malformed bytes from a peer) are `DecodeError`s; misuse of an API by our own code is a
 * `LocalProtocolError`; a peer that breaks the protocol rules (well-formed bytes in the wrong
 * state) is a `RemoteProtocolError`. Keeping the three apart lets a receive loop count and drop
 * what a peer sent without hiding our own bugs.
 */
export class FieldlinkError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Malformed input: a declared length, count or tag that the bytes do not support. */
export class DecodeError extends FieldlinkError {
  /** Name of the field being read when the fault was found. */
  readonly field: string;
  /** Byte offset (within the buffer handed to the decoder) where the fault was found. */
  readonly offset: number;
  constructor(field: string, offset: number, message: string) {
    super('EDECODE', `${field} at offset ${offset}: ${message}`);
    this.field = field;
    this.offset = offset;
  }
}

/** Our own code asked for something the protocol does not allow (a bug, not peer input). */
export class LocalProtocolError extends FieldlinkError {
  constructor(message: string) {
    super('ELOCALPROTO', message);
  }
}

/** The peer sent well-formed bytes that break the protocol's rules for the current state. */
export class RemoteProtocolError extends FieldlinkError {
  constructor(message: string) {
    super('EREMOTEPROTO', message);
  }
}

/** An operation did not complete in time. */
export class TimeoutError extends FieldlinkError {
  constructor(message: string) {
    super('ETIMEOUT', message);
  }
}

/** Turn anything thrown into a one-line human-readable text (for node.error / status). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
