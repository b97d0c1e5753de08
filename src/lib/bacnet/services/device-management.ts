/**
 * DeviceCommunicationControl (ASHRAE 135-2020 Clause 16.1) and ReinitializeDevice (Clause 16.4).
 *
 *   DeviceCommunicationControl-Request ::= SEQUENCE {
 *     timeDuration [0] Unsigned16 OPTIONAL,            -- minutes
 *     enable-disable [1] ENUMERATED { enable (0), disable (1), disable-initiation (2) },
 *     password [2] CharacterString (SIZE(1..20)) OPTIONAL }
 *   ReinitializeDevice-Request ::= SEQUENCE {
 *     reinitializedStateOfDevice [0] ENUMERATED { coldstart (0), warmstart (1), start-backup (2),
 *       end-backup (3), start-restore (4), end-restore (5), abort-restore (6), activate-changes (7) },
 *     password [1] CharacterString (SIZE(1..20)) OPTIONAL }
 *
 * Both are answered with a SimpleACK (or Error security/password-failure).
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { LocalProtocolError } from '../../wire/errors';
import { putCharacterString, putEnumerated, putUnsigned } from '../codec/primitives';
import { ctxCharacterString, ctxEnumerated, ctxUnsigned, optional } from '../codec/fields';

export interface DeviceCommunicationControlRequest {
  /** Minutes; omitted = until changed. */
  timeDuration?: number;
  /** EnableDisable: 0 enable, 1 disable, 2 disable-initiation. */
  enableDisable: number;
  password?: string;
}

export interface ReinitializeDeviceRequest {
  /** ReinitializedState: 0 coldstart, 1 warmstart, ... */
  state: number;
  password?: string;
}

function checkPassword(p: string | undefined): void {
  if (p !== undefined && (p.length < 1 || p.length > 20)) throw new LocalProtocolError('a BACnet password has 1..20 characters');
}

export function encodeDeviceCommunicationControl(w: Writer, x: DeviceCommunicationControlRequest): void {
  checkPassword(x.password);
  if (x.timeDuration !== undefined) {
    if (!Number.isInteger(x.timeDuration) || x.timeDuration < 0 || x.timeDuration > 0xffff) {
      throw new LocalProtocolError(`time duration ${x.timeDuration} outside 0..65535 minutes`);
    }
    putUnsigned(w, x.timeDuration, 0);
  }
  putEnumerated(w, x.enableDisable, 1);
  if (x.password !== undefined) putCharacterString(w, x.password, 2);
}

export function decodeDeviceCommunicationControl(r: Reader): DeviceCommunicationControlRequest {
  const timeDuration = optional(r, 0, ctxUnsigned, 'time duration');
  const out: DeviceCommunicationControlRequest = { enableDisable: ctxEnumerated(r, 1, 'enable-disable') };
  if (timeDuration !== undefined) out.timeDuration = timeDuration;
  const password = optional(r, 2, ctxCharacterString, 'password');
  if (password !== undefined) out.password = password;
  return out;
}

export function encodeReinitializeDevice(w: Writer, x: ReinitializeDeviceRequest): void {
  checkPassword(x.password);
  putEnumerated(w, x.state, 0);
  if (x.password !== undefined) putCharacterString(w, x.password, 1);
}

export function decodeReinitializeDevice(r: Reader): ReinitializeDeviceRequest {
  const out: ReinitializeDeviceRequest = { state: ctxEnumerated(r, 0, 'reinitialized state') };
  const password = optional(r, 1, ctxCharacterString, 'password');
  if (password !== undefined) out.password = password;
  return out;
}
