/**
 * Calendar matching (12.9, 20.2.12 wildcards, WeekNDay) and the Schedule engine on fake time
 * (12.24): weekly schedule, exception schedule with priorities and calendar references,
 * Schedule_Default, Effective_Period, writes to the referenced properties at
 * Priority_For_Writing, NULL relinquish, midnight roll-over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { Value, type BacnetValue, bytesToValues } from '../../../../src/lib/bacnet/codec/values';
import { Writer } from '../../../../src/lib/wire/writer';
import {
  type CalendarEntry, type SpecialEvent, writeCalendarEntry, writeDeviceObjectPropertyReference, writeSpecialEvent,
} from '../../../../src/lib/bacnet/codec/constructed';
import { calendarEntryMatches, dateMatches, weekNDayMatches } from '../../../../src/lib/bacnet/server/calendar';
import { FakeClock, call, makeServer } from './helpers';

const D = (y: number, m: number, d: number) => new Date(y, m - 1, d, 12);
const any = 255;

test('dates with wildcards, odd/even, last day; week-n-day; ranges', () => {
  assert.ok(dateMatches({ year: any, month: 12, day: 25, weekday: any }, D(2024, 12, 25)));
  assert.ok(!dateMatches({ year: 2023, month: 12, day: 25, weekday: any }, D(2024, 12, 25)));
  assert.ok(dateMatches({ year: any, month: 13, day: any, weekday: any }, D(2024, 3, 1)));
  assert.ok(!dateMatches({ year: any, month: 14, day: any, weekday: any }, D(2024, 3, 1)));
  assert.ok(dateMatches({ year: any, month: any, day: 32, weekday: any }, D(2024, 2, 29)));
  assert.ok(!dateMatches({ year: any, month: any, day: 32, weekday: any }, D(2023, 2, 28 - 1)));
  assert.ok(dateMatches({ year: any, month: any, day: 33, weekday: 1 }, D(2024, 1, 15)), 'the 15th of January 2024 is an odd Monday');
  assert.ok(weekNDayMatches({ month: any, weekOfMonth: 3, dayOfWeek: 1 }, D(2024, 1, 15)));
  assert.ok(!weekNDayMatches({ month: any, weekOfMonth: 2, dayOfWeek: 1 }, D(2024, 1, 15)));
  assert.ok(weekNDayMatches({ month: 1, weekOfMonth: 6, dayOfWeek: 3 }, D(2024, 1, 31)), 'the last Wednesday of January 2024');
  assert.ok(weekNDayMatches({ month: 1, weekOfMonth: 7, dayOfWeek: 3 }, D(2024, 1, 24)));
  const range: CalendarEntry = { dateRange: { startDate: { year: 2024, month: 7, day: 1, weekday: any }, endDate: { year: 2024, month: 7, day: 31, weekday: any } } };
  assert.ok(calendarEntryMatches(range, D(2024, 7, 31)));
  assert.ok(!calendarEntryMatches(range, D(2024, 8, 1)));
});

function encode(fn: (w: Writer) => void): BacnetValue[] {
  const w = new Writer(64);
  fn(w);
  return bytesToValues(w.finish());
}

const t = (hour: number, minute = 0) => ({ hour, minute, second: 0, hundredths: 0 });
const day = (...tvs: Array<[number, BacnetValue]>) => Value.constructed(0, tvs.flatMap(([h, v]) => [Value.time(t(h)), v]));

test('weekly schedule, exceptions with priority and calendar, writes at the right times', () => {
  // Monday 15 January 2024, 07:00 local time
  const clock = new FakeClock(new Date(2024, 0, 15, 7, 0, 0));
  const { server } = makeServer({}, clock);
  const sp = server.addObject(O.analogValue, { instance: 1, name: 'zone-setpoint', commandable: true, values: [[P.presentValue, [Value.real(15)]]] });
  const holidays = server.addObject(O.calendar, {
    instance: 1, name: 'holidays', writable: true,
    values: [[P.dateList, encode((w) => writeCalendarEntry(w, { date: { year: 2024, month: 1, day: 17, weekday: any } }))]],
  });
  const workday = day([8, Value.real(21)], [18, Value.null()]);
  const weekend = day();
  const exceptions: SpecialEvent[] = [
    { period: { calendarReference: holidays.id }, timeValues: [{ time: t(0), value: Value.real(16) }], priority: 10 },
    // Tuesday 16 January: a meeting 09:00-11:00 at a higher priority than the holiday rule
    { period: { calendarEntry: { date: { year: 2024, month: 1, day: 16, weekday: any } } }, timeValues: [{ time: t(9), value: Value.real(23) }, { time: t(11), value: Value.null() }], priority: 5 },
  ];
  const sched = server.addObject(O.schedule, {
    instance: 1, name: 'heating', writable: true,
    values: [
      [P.weeklySchedule, [workday, workday, workday, workday, workday, weekend, weekend]],
      [P.exceptionSchedule, encode((w) => exceptions.forEach((e) => writeSpecialEvent(w, e)))],
      [P.scheduleDefault, [Value.real(17)]],
      [P.priorityForWriting, [Value.unsigned(12)]],
      [P.listOfObjectPropertyReferences, encode((w) => writeDeviceObjectPropertyReference(w, { objectId: sp.id, propertyId: P.presentValue }))],
    ],
  });
  server.start();
  const pv = () => (sched.read(P.presentValue)[0] as { value: number }).value;
  const target = () => (sp.read(P.presentValue)[0] as { value: number }).value;
  assert.equal(pv(), 17, 'before 08:00 on a workday: Schedule_Default');
  assert.equal(target(), 17);
  assert.deepEqual(sp.read(P.currentCommandPriority), [Value.unsigned(12)]);
  clock.advance(60 * 60_000); // 08:00
  assert.equal(pv(), 21);
  assert.equal(target(), 21);
  clock.advance(10 * 60 * 60_000); // 18:00: NULL -> default
  assert.equal(pv(), 17);
  clock.advance(6 * 60 * 60_000); // Tuesday 00:00
  assert.equal(pv(), 17);
  clock.advance(9 * 60 * 60_000); // Tuesday 09:00: the meeting (priority 5)
  assert.equal(pv(), 23);
  clock.advance(2 * 60 * 60_000); // 11:00: the meeting's NULL relinquishes to the weekly value
  assert.equal(pv(), 21);
  clock.advance(13 * 60 * 60_000); // Wednesday 00:00: holiday from the calendar
  assert.deepEqual(holidays.read(P.presentValue), [Value.boolean(true)]);
  assert.equal(pv(), 16);
  clock.advance(10 * 60 * 60_000); // Wednesday 10:00: still the holiday value, not the weekly 21
  assert.equal(pv(), 16);
  clock.advance(14 * 60 * 60_000); // Thursday 00:00
  assert.deepEqual(holidays.read(P.presentValue), [Value.boolean(false)]);
  assert.equal(pv(), 17);
  clock.advance(8 * 60 * 60_000);
  assert.equal(pv(), 21);
  // a higher-priority command on the target wins over the schedule's writes
  call(server, 'write-property', { objectId: sp.id, propertyId: P.presentValue, value: [Value.real(30)], priority: 8 });
  assert.equal(target(), 30);
  // Saturday: empty daily schedule -> default
  clock.advance((2 * 24 + 4) * 60 * 60_000);
  assert.equal(pv(), 17);
  assert.equal(server.schedules.stats.writeFailures, 0);
});

test('effective period and out of service; writing the weekly schedule re-evaluates', () => {
  const clock = new FakeClock(new Date(2024, 0, 15, 10, 0, 0));
  const { server } = makeServer({}, clock);
  const bv = server.addObject(O.binaryValue, { instance: 1, name: 'fan', commandable: true });
  const sched = server.addObject(O.schedule, {
    instance: 2, name: 'fan-schedule', writable: true,
    values: [
      [P.scheduleDefault, [Value.enumerated(0)]],
      [P.effectivePeriod, [Value.date({ year: 2024, month: 2, day: 1, weekday: any }), Value.date({ year: 2024, month: 12, day: 31, weekday: any })]],
      [P.weeklySchedule, Array.from({ length: 7 }, () => day([6, Value.enumerated(1)]))],
      [P.listOfObjectPropertyReferences, encode((w) => writeDeviceObjectPropertyReference(w, { objectId: bv.id, propertyId: P.presentValue }))],
    ],
  });
  server.start();
  assert.deepEqual(sched.read(P.presentValue), [Value.enumerated(0)], 'outside the effective period');
  call(server, 'write-property', { objectId: sched.id, propertyId: P.effectivePeriod, value: [Value.date({ year: 2024, month: 1, day: 1, weekday: any }), Value.date({ year: 2024, month: 12, day: 31, weekday: any })] });
  assert.deepEqual(sched.read(P.presentValue), [Value.enumerated(1)]);
  assert.deepEqual(bv.read(P.presentValue), [Value.enumerated(1)]);
  call(server, 'write-property', { objectId: sched.id, propertyId: P.outOfService, value: [Value.boolean(true)] });
  call(server, 'write-property', { objectId: sched.id, propertyId: P.weeklySchedule, arrayIndex: 1, value: [day([6, Value.enumerated(0)])] });
  assert.deepEqual(sched.read(P.presentValue), [Value.enumerated(1)], 'out of service: not evaluated');
  call(server, 'write-property', { objectId: sched.id, propertyId: P.outOfService, value: [Value.boolean(false)] });
  assert.deepEqual(sched.read(P.presentValue), [Value.enumerated(0)], 'Monday now reads inactive');
  assert.deepEqual(bv.read(P.presentValue), [Value.enumerated(0)]);
});
