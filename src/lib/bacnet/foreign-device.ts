/**
 * Foreign-device registration with a BBMD (ASHRAE 135-2020 Annex J.5.2): Register-Foreign-
 * Device with a time-to-live, BVLC-Result, re-registration before the TTL runs out (the BBMD
 * keeps an entry TTL + 30 s, J.5.2.3), retries with back-off when the BBMD does not answer or
 * refuses. While registered, broadcasts go to the BBMD as Distribute-Broadcast-To-Network.
 *
 * Sans-I/O: the host sends what `start`/`tick` ask for and passes BVLC-Results in.
 */
import type { IpEndpoint } from './bvlc';

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'failed';

export interface RegistrationStatus {
  state: RegistrationState;
  bbmd: IpEndpoint;
  ttl: number;
  /** Words for node status ('registered with 10.0.0.1:47808, renews in 225 s', 'BBMD refused registration (NAK)'). */
  text: string;
  /** When the registration was last confirmed (ms). */
  since?: number;
}

export interface ForeignDeviceHost {
  sendRegister(bbmd: IpEndpoint, ttl: number): void;
  status(s: RegistrationStatus): void;
}

export class ForeignDeviceRegistration {
  state: RegistrationState = 'unregistered';
  private deadline = 0;
  private attempts = 0;
  private confirmedAt: number | undefined;
  private wakeHint: number | undefined;

  /**
   * @param ttl seconds (1..65535)
   * @param answerTimeout ms to wait for the BVLC-Result (default 3000)
   */
  constructor(
    private readonly host: ForeignDeviceHost,
    readonly bbmd: IpEndpoint,
    readonly ttl: number,
    private readonly answerTimeout = 3000,
  ) {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 0xffff) throw new RangeError(`foreign-device TTL ${ttl} s outside 1..65535`);
  }

  /** Seconds after a confirmation at which we register again: before the TTL runs out. */
  get renewAfter(): number {
    return Math.max(1, Math.min(this.ttl * 0.75, this.ttl - 5));
  }

  start(now: number): void {
    this.attempts = 0;
    this.send(now);
  }

  /** A BVLC-Result from the BBMD (0 = success, 0x0030 = NAK). */
  result(code: number, now: number): void {
    if (this.state !== 'registering') return;
    if (code === 0) {
      this.state = 'registered';
      this.attempts = 0;
      this.confirmedAt = now;
      this.setDeadline(now + this.renewAfter * 1000);
      this.report(`registered with BBMD ${this.bbmd.host}:${this.bbmd.port} (TTL ${this.ttl} s, renewing every ${Math.round(this.renewAfter)} s)`);
    } else {
      this.state = 'failed';
      this.setDeadline(now + this.backoff());
      this.report(`BBMD ${this.bbmd.host}:${this.bbmd.port} refused the foreign-device registration (result 0x${code.toString(16).padStart(4, '0')}); retrying`);
    }
  }

  /** True while broadcasts should go to the BBMD. */
  get active(): boolean {
    return this.state === 'registered' || (this.state === 'registering' && this.confirmedAt !== undefined);
  }

  takeWakeHint(): number | undefined {
    const h = this.wakeHint;
    this.wakeHint = undefined;
    return h;
  }

  nextDeadline(): number | undefined {
    return this.state === 'unregistered' ? undefined : this.deadline;
  }

  tick(now: number): void {
    if (this.state === 'unregistered' || now < this.deadline) return;
    if (this.state === 'registering') {
      // no answer: the BBMD may be down. After the TTL plus grace we are no longer registered.
      if (this.confirmedAt !== undefined && now > this.confirmedAt + (this.ttl + 30) * 1000) this.confirmedAt = undefined;
      this.state = 'failed';
      this.report(`no answer from BBMD ${this.bbmd.host}:${this.bbmd.port} to the foreign-device registration; retrying`);
      this.setDeadline(now + this.backoff());
      return;
    }
    this.send(now);
  }

  stop(): void {
    this.state = 'unregistered';
    this.confirmedAt = undefined;
  }

  private backoff(): number {
    this.attempts++;
    return Math.min(60_000, 1000 * 2 ** Math.min(6, this.attempts - 1));
  }

  private send(now: number): void {
    this.state = 'registering';
    this.setDeadline(now + this.answerTimeout);
    this.host.sendRegister(this.bbmd, this.ttl);
    if (this.confirmedAt === undefined) this.report(`registering with BBMD ${this.bbmd.host}:${this.bbmd.port}`);
  }

  private setDeadline(t: number): void {
    this.deadline = t;
    if (this.wakeHint === undefined || t < this.wakeHint) this.wakeHint = t;
  }

  private report(text: string): void {
    const s: RegistrationStatus = { state: this.state, bbmd: this.bbmd, ttl: this.ttl, text };
    if (this.confirmedAt !== undefined) s.since = this.confirmedAt;
    this.host.status(s);
  }
}
