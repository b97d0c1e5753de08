/**
 * DeviceCommunicationControl state and the device password (ASHRAE 135-2020 Clause 16.1 and
 * 16.4 / 16.1 password-failure).
 *
 *  - enable: normal operation;
 *  - disable: the device answers nothing but DeviceCommunicationControl and ReinitializeDevice
 *    and initiates nothing (16.1);
 *  - disable-initiation: the device answers requests but initiates nothing except I-Am in
 *    answer to Who-Is.
 * A duration in minutes returns the device to enable when it runs out.
 *
 * Passwords are compared in constant time: both sides are hashed (SHA-256) first so that their
 * lengths are equal, then compared with crypto.timingSafeEqual.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from './database';
import type { CommunicationState } from '../endpoint';

export type { CommunicationState };
export const COMMUNICATION_STATES: readonly CommunicationState[] = ['enable', 'disable', 'disable-initiation'];

/** Constant-time check of a request's password against the configured one (no password configured: anything passes). */
export function passwordMatches(configured: string | undefined, given: string | undefined): boolean {
  if (!configured) return true;
  const a = createHash('sha256').update(configured, 'utf8').digest();
  const b = createHash('sha256').update(given ?? '', 'utf8').digest();
  // Evaluate both so that a missing password costs the same as a wrong one.
  const same = timingSafeEqual(a, b);
  return same && given !== undefined;
}

export class CommunicationControl {
  #state: CommunicationState = 'enable';
  #until: number | undefined;
  #cancel: (() => void) | undefined;
  readonly #clock: Clock;
  readonly #onExpire: () => void;

  constructor(clock: Clock, onExpire: () => void) {
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  get state(): CommunicationState {
    return this.#state;
  }

  /** ms (system clock) when a timed disable ends. */
  get until(): number | undefined {
    return this.#until;
  }

  /** Apply a DCC request: state and optional duration in minutes (absent or 0: until changed). */
  set(state: CommunicationState, minutes?: number): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#until = undefined;
    this.#state = state;
    if (state !== 'enable' && minutes !== undefined && minutes > 0) {
      const ms = minutes * 60_000;
      this.#until = this.#clock.now() + ms;
      this.#cancel = this.#clock.setTimer(ms, () => {
        this.#cancel = undefined;
        this.#until = undefined;
        this.#state = 'enable';
        this.#onExpire();
      });
    }
  }

  /** May the device initiate services (notifications, I-Have, I-Am at start)? */
  canInitiate(): boolean {
    return this.#state === 'enable';
  }

  /** Does the device answer requests other than DCC and ReinitializeDevice? */
  canRespond(): boolean {
    return this.#state !== 'disable';
  }

  dispose(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
