/**
 * TimeSynchronization and UTCTimeSynchronization (ASHRAE 135-2020 Clauses 16.7, 16.8).
 *
 *   TimeSynchronization-Request ::= SEQUENCE { time BACnetDateTime }
 *   UTCTimeSynchronization-Request ::= SEQUENCE { time BACnetDateTime }
 */
import type { Reader } from '../../wire/reader';
import type { Writer } from '../../wire/writer';
import { type DateTime, readDateTime, writeDateTime } from '../codec/constructed';
import { dateFromJs, timeFromJs } from '../codec/primitives';

export interface TimeSynchronizationRequest {
  time: DateTime;
}

export function encodeTimeSynchronization(w: Writer, x: TimeSynchronizationRequest): void {
  writeDateTime(w, x.time);
}

export function decodeTimeSynchronization(r: Reader): TimeSynchronizationRequest {
  return { time: readDateTime(r) };
}

/** The request for a JS Date: local time, or UTC fields when `utc` is true. */
export function timeSynchronizationFor(d: Date, utc = false): TimeSynchronizationRequest {
  if (!utc) return { time: { date: dateFromJs(d), time: timeFromJs(d) } };
  const wd = d.getUTCDay();
  return {
    time: {
      date: { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: wd === 0 ? 7 : wd },
      time: { hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), hundredths: Math.floor(d.getUTCMilliseconds() / 10) },
    },
  };
}
