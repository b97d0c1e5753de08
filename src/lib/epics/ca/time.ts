/**
 * EPICS timestamps: u32 seconds since the EPICS epoch (1990-01-01 00:00:00 UTC, which is POSIX
 * 631152000) and u32 nanoseconds within the second.
 */
import { EPICS_EPOCH_OFFSET } from './constants';


export interface EpicsTime {
  /** Seconds since 1990-01-01 UTC (u32). */
  secondsPastEpoch: number;
  /** Nanoseconds within the second (0..999,999,999). */
  nanoseconds: number;
}

/** The EPICS timestamp of a POSIX time in milliseconds (fractions of a ms kept to the ns). */
export function epicsTimeFromMs(ms: number): EpicsTime {
  const sec = Math.floor(ms / 1000);
  let ns = Math.round((ms - sec * 1000) * 1e6);
  let s = sec - EPICS_EPOCH_OFFSET;
  if (ns >= 1e9) {
    ns -= 1e9;
    s += 1;
  }
  if (s < 0) return { secondsPastEpoch: 0, nanoseconds: 0 };
  return { secondsPastEpoch: s >>> 0, nanoseconds: ns };
}

/** The EPICS timestamp of a Date. */
export function epicsTimeFromDate(d: Date): EpicsTime {
  return epicsTimeFromMs(d.getTime());
}

/** POSIX milliseconds of an EPICS timestamp (sub-millisecond part kept as a fraction). */
export function epicsTimeToMs(t: EpicsTime): number {
  return (t.secondsPastEpoch + EPICS_EPOCH_OFFSET) * 1000 + t.nanoseconds / 1e6;
}

/** A Date for an EPICS timestamp (millisecond resolution). */
export function epicsTimeToDate(t: EpicsTime): Date {
  return new Date(Math.floor(epicsTimeToMs(t)));
}

/** Now, with sub-millisecond resolution where the platform offers it. */
export function epicsTimeNow(): EpicsTime {
  return epicsTimeFromMs(performance.timeOrigin + performance.now());
}
