/**
 * Intrinsic reporting on fake time (13.2, 13.3.6 OUT_OF_RANGE, 13.3.2 CHANGE_OF_STATE, faults
 * through Reliability), routed through Notification Class recipients (12.21: transitions, valid
 * days and times, confirmed and unconfirmed, device and address recipients), acknowledgement
 * (13.5) and GetEventInformation (13.12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { EventState, EventType } from '../../../../src/lib/bacnet/enums/states';
import { Value, bytesToValues } from '../../../../src/lib/bacnet/codec/values';
import { Writer } from '../../../../src/lib/wire/writer';
import { type Destination, writeDestination } from '../../../../src/lib/bacnet/codec/constructed';
import type { EventNotificationRequest } from '../../../../src/lib/bacnet/services/alarms-events';
import type { ServerEvent } from '../../../../src/lib/bacnet/server/events';
import { FakeClock, ack, call, errorOf, makeServer } from './helpers';

const all7 = [true, true, true, true, true, true, true];
const allDay = { from: { hour: 0, minute: 0, second: 0, hundredths: 0 }, to: { hour: 23, minute: 59, second: 59, hundredths: 99 } };

function recipients(list: Destination[]) {
  const w = new Writer(64);
  for (const d of list) writeDestination(w, d);
  return bytesToValues(w.finish());
}

function setup() {
  const clock = new FakeClock(new Date(2024, 0, 15, 9, 0, 0));
  const env = makeServer({}, clock);
  const events: ServerEvent[] = [];
  env.server.onEvent((e) => events.push(e));
  env.net.devices.set(77, { host: '127.0.0.9', port: 47809 });
  env.server.addObject(O.notificationClass, {
    instance: 5, name: 'alarms', writable: true,
    values: [
      [P.priority, [Value.unsigned(100), Value.unsigned(50), Value.unsigned(200)]],
      [P.ackRequired, [Value.bitString([true, true, false])]],
      [P.recipientList, recipients([
        { validDays: all7, fromTime: allDay.from, toTime: allDay.to, recipient: { address: { network: 0, mac: Uint8Array.of(127, 0, 0, 1, 0xc3, 0x51) } }, processId: 11, issueConfirmedNotifications: false, transitions: [true, true, true] },
        { validDays: all7, fromTime: allDay.from, toTime: allDay.to, recipient: { device: { type: O.device, instance: 77 } }, processId: 12, issueConfirmedNotifications: true, transitions: [true, false, false] },
        // Saturdays only: never today (a Monday)
        { validDays: [false, false, false, false, false, true, false], fromTime: allDay.from, toTime: allDay.to, recipient: { address: { network: 0, mac: Uint8Array.of(127, 0, 0, 3, 0xc3, 0x51) } }, processId: 13, issueConfirmedNotifications: false, transitions: [true, true, true] },
      ])],
    ],
  });
  const ai = env.server.addObject(O.analogInput, {
    instance: 1, name: 'supply-temp', reporting: true,
    values: [
      [P.presentValue, [Value.real(20)]], [P.notificationClass, [Value.unsigned(5)]], [P.highLimit, [Value.real(30)]], [P.lowLimit, [Value.real(10)]],
      [P.deadband, [Value.real(2)]], [P.limitEnable, [Value.bitString([true, true])]], [P.timeDelay, [Value.unsigned(10)]],
    ],
  });
  const bi = env.server.addObject(O.binaryInput, {
    instance: 1, name: 'smoke', reporting: true,
    values: [[P.notificationClass, [Value.unsigned(5)]], [P.alarmValue, [Value.enumerated(1)]]],
  });
  env.server.start();
  return { ...env, events, ai, bi, clock };
}

const sent = async (net: { take(s?: string): Array<{ request: unknown; to: unknown }> }) => {
  await new Promise((r) => setImmediate(r)); // device recipients are resolved asynchronously
  return net.take().map((s) => ({ ...(s.request as EventNotificationRequest), to: s.to }));
};

test('out-of-range with time delay, deadband, notifications through the class', async () => {
  const { server, net, ai, clock, events } = setup();
  ai.setLocal(P.presentValue, [Value.real(31)]);
  clock.advance(5_000);
  assert.equal(ai.eventState, EventState.normal, 'the time delay has not run out');
  ai.setLocal(P.presentValue, [Value.real(29)]);
  clock.advance(20_000);
  assert.equal(ai.eventState, EventState.normal, 'the condition went away before the delay ended');
  ai.setLocal(P.presentValue, [Value.real(35)]);
  clock.advance(10_000);
  assert.equal(ai.eventState, EventState.highLimit);
  assert.deepEqual(ai.read(P.statusFlags), [Value.bitString([true, false, false, false])]);
  assert.deepEqual(ai.read(P.ackedTransitions), [Value.bitString([false, true, true])]);
  const n = await sent(net);
  assert.equal(n.length, 2, 'the address recipient and the device recipient; not the Saturday one');
  const u = n.find((x) => x.processId === 11)!;
  assert.deepEqual(u.to, { host: '127.0.0.1', port: 50001 });
  assert.equal(u.eventType, EventType.outOfRange);
  assert.equal(u.fromState, EventState.normal);
  assert.equal(u.toState, EventState.highLimit);
  assert.equal(u.priority, 100);
  assert.equal(u.ackRequired, true);
  assert.equal(u.notificationClass, 5);
  assert.deepEqual(u.eventValues?.parameters, { exceedingValue: 35, statusFlags: [true, false, false, false], deadband: 2, exceededLimit: 30 });
  assert.deepEqual(n.find((x) => x.processId === 12)!.to, { host: '127.0.0.9', port: 47809 });
  // inside the deadband: stays high
  ai.setLocal(P.presentValue, [Value.real(29)]);
  clock.advance(60_000);
  assert.equal(ai.eventState, EventState.highLimit);
  ai.setLocal(P.presentValue, [Value.real(27)]);
  clock.advance(10_000);
  assert.equal(ai.eventState, EventState.normal);
  const back = await sent(net);
  assert.deepEqual(back.map((x) => [x.processId, x.toState, x.priority, x.ackRequired]), [[11, EventState.normal, 200, false]], 'to-normal goes only to recipients that take it');
  // GetEventInformation lists the object while its to-offnormal transition is unacknowledged
  const info = ack(call(server, 'get-event-information', {}));
  assert.deepEqual(info.summaries.map((s) => s.objectId), [ai.id]);
  assert.deepEqual(info.summaries[0]!.acknowledgedTransitions, [false, true, true]);
  assert.deepEqual(info.summaries[0]!.eventPriorities, [100, 50, 200]);
  assert.equal(info.moreEvents, false);
  // acknowledge with a wrong time stamp, then the right one
  const stamp = info.summaries[0]!.eventTimeStamps[0];
  assert.equal(errorOf(call(server, 'acknowledge-alarm', {
    acknowledgingProcessId: 1, eventObjectId: ai.id, eventStateAcknowledged: EventState.highLimit,
    timeStamp: { sequenceNumber: 3 }, acknowledgmentSource: 'operator', timeOfAcknowledgment: { sequenceNumber: 1 },
  })), 'services/invalid-time-stamp');
  assert.equal(call(server, 'acknowledge-alarm', {
    acknowledgingProcessId: 1, eventObjectId: ai.id, eventStateAcknowledged: EventState.highLimit,
    timeStamp: stamp, acknowledgmentSource: 'operator', timeOfAcknowledgment: { sequenceNumber: 1 },
  }).kind, 'simple-ack');
  assert.deepEqual(ai.read(P.ackedTransitions), [Value.bitString([true, true, true])]);
  const acks = await sent(net);
  assert.ok(acks.length >= 1 && acks.every((a) => a.notifyType === 2), 'ack notifications went out');
  assert.equal(ack(call(server, 'get-event-information', {})).summaries.length, 0);
  assert.deepEqual(events.filter((e) => e.type === 'event').map((e) => e.type === 'event' && e.toState), [EventState.highLimit, EventState.normal]);
  assert.equal(events.filter((e) => e.type === 'acknowledge').length, 1);
  assert.equal(errorOf(call(server, 'acknowledge-alarm', {
    acknowledgingProcessId: 1, eventObjectId: { type: O.analogValue, instance: 3 }, eventStateAcknowledged: 0,
    timeStamp: stamp, acknowledgmentSource: 'x', timeOfAcknowledgment: { sequenceNumber: 1 },
  })), 'object/unknown-object');
});

test('low limit, direct high-to-low, disabled limits', () => {
  const { ai, clock } = setup();
  ai.setLocal(P.presentValue, [Value.real(5)]);
  clock.advance(10_000);
  assert.equal(ai.eventState, EventState.lowLimit);
  ai.setLocal(P.presentValue, [Value.real(40)]);
  clock.advance(10_000);
  assert.equal(ai.eventState, EventState.highLimit);
  ai.setLocal(P.limitEnable, [Value.bitString([true, false])]);
  assert.equal(ai.eventState, EventState.normal, 'disabling the high limit returns to normal at once');
});

test('change of state for binary inputs, and faults', async () => {
  const { net, bi, ai, clock } = setup();
  bi.setLocal(P.presentValue, [Value.enumerated(1)]);
  assert.equal(bi.eventState, EventState.offnormal, 'no time delay configured');
  const n = await sent(net);
  assert.equal(n[0]!.eventType, EventType.changeOfState);
  assert.deepEqual(n[0]!.eventValues?.parameters.newState, { kind: 1, value: 1 });
  bi.setLocal(P.presentValue, [Value.enumerated(0)]);
  assert.equal(bi.eventState, EventState.normal);
  await sent(net);
  ai.setLocal(P.reliability, [Value.enumerated(1)]); // no-sensor
  assert.equal(ai.eventState, EventState.fault);
  const f = await sent(net);
  assert.equal(f[0]!.eventType, EventType.changeOfReliability);
  assert.equal(f[0]!.priority, 50);
  ai.setLocal(P.reliability, [Value.enumerated(0)]);
  clock.advance(1);
  assert.equal(ai.eventState, EventState.normal);
});
