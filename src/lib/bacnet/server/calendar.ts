/**
 * Date matching for calendars and schedules (ASHRAE 135-2020 Clause 12.9 Calendar, Date_List of
 * BACnetCalendarEntry; 20.2.12 Date with unspecified fields, odd/even months 13/14, last day 32,
 * odd/even days 33/34; BACnetWeekNDay with week-of-month 1..5 = days 1-7..29-31, 6 = the last 7
 * days, 7..9 = the 7 days before the last 7, 14 or 21; BACnetDateRange inclusive, open ends
 * unspecified).
 */
import type { CalendarEntry, DateRange } from '../codec/constructed';
import type { BacnetDate } from '../codec/primitives';

const ANY = 255;

function daysInMonth(year: number, month: number): number {
  return new Date(year, month, 0).getDate();
}

/** Does the (possibly wildcarded) BACnet date `p` match the calendar day `d`? */
export function dateMatches(p: BacnetDate, d: Date): boolean {
  const year = d.getFullYear();
  const month = d.getMonth() + 1;
  const day = d.getDate();
  const weekday = d.getDay() === 0 ? 7 : d.getDay();
  if (p.year !== ANY && p.year !== year) return false;
  if (p.month !== ANY) {
    if (p.month === 13 ? month % 2 !== 1 : p.month === 14 ? month % 2 !== 0 : p.month !== month) return false;
  }
  if (p.day !== ANY) {
    if (p.day === 32) {
      if (day !== daysInMonth(year, month)) return false;
    } else if (p.day === 33) {
      if (day % 2 !== 1) return false;
    } else if (p.day === 34) {
      if (day % 2 !== 0) return false;
    } else if (p.day !== day) return false;
  }
  return p.weekday === ANY || p.weekday === weekday;
}

/** Day number for comparisons of fully specified dates; undefined when a field is unspecified or special. */
function dayNumber(p: BacnetDate): number | undefined {
  if (p.year === ANY || p.month < 1 || p.month > 12 || p.day < 1 || p.day > 31) return undefined;
  return Date.UTC(p.year, p.month - 1, p.day) / 86_400_000;
}

/** Is `d` within the inclusive range (an unspecified start or end is open)? */
export function inDateRange(r: DateRange, d: Date): boolean {
  const today = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86_400_000;
  const start = dayNumber(r.startDate);
  const end = dayNumber(r.endDate);
  return (start === undefined || today >= start) && (end === undefined || today <= end);
}

/** BACnetWeekNDay match (month, week of month, day of week). */
export function weekNDayMatches(w: { month: number; weekOfMonth: number; dayOfWeek: number }, d: Date): boolean {
  const month = d.getMonth() + 1;
  const day = d.getDate();
  const weekday = d.getDay() === 0 ? 7 : d.getDay();
  if (w.month !== ANY && (w.month === 13 ? month % 2 !== 1 : w.month === 14 ? month % 2 !== 0 : w.month !== month)) return false;
  if (w.dayOfWeek !== ANY && w.dayOfWeek !== weekday) return false;
  if (w.weekOfMonth === ANY) return true;
  if (w.weekOfMonth >= 1 && w.weekOfMonth <= 5) return Math.floor((day - 1) / 7) + 1 === w.weekOfMonth;
  if (w.weekOfMonth >= 6 && w.weekOfMonth <= 9) {
    const last = daysInMonth(d.getFullYear(), month);
    const fromEnd = last - day; // 0 on the last day
    const block = w.weekOfMonth - 6; // 0: last 7 days, 1: the 7 before, ...
    return fromEnd >= block * 7 && fromEnd < block * 7 + 7;
  }
  return false;
}

export function calendarEntryMatches(e: CalendarEntry, d: Date): boolean {
  if ('date' in e) return dateMatches(e.date, d);
  if ('dateRange' in e) return inDateRange(e.dateRange, d);
  return weekNDayMatches(e.weekNDay, d);
}
