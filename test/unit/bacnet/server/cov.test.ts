/**
 * The COV server on fake time: initial notification after subscribing (13.14.2), COV increment
 * crossings for analog values (13.1.4), any change for binary and multi-state values, status flag
 * changes, confirmed notifications, lifetime expiry, cancellation, SubscribeCOVProperty with an
 * increment override (13.15), Active_COV_Subscriptions, and the subscription cap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { Value } from '../../../../src/lib/bacnet/codec/values';
import type { CovNotificationRequest } from '../../../../src/lib/bacnet/services/cov-notification';
import { readCovSubscription } from '../../../../src/lib/bacnet/codec/constructed';
import { Reader } from '../../../../src/lib/wire/reader';
import { valuesToBytes } from '../../../../src/lib/bacnet/codec/values';
import { OTHER, ack, call, errorOf, makeServer } from './helpers';

const ai1 = { type: O.analogInput, instance: 1 };

function setup(max?: number) {
  const env = makeServer(max === undefined ? {} : { maxCovSubscriptions: max });
  const ai = env.server.addObject(O.analogInput, { instance: 1, name: 'temp', values: [[P.presentValue, [Value.real(20)]], [P.covIncrement, [Value.real(0.5)]]] });
  const bi = env.server.addObject(O.binaryInput, { instance: 1, name: 'door' });
  const msv = env.server.addObject(O.multiStateValue, { instance: 1, name: 'mode', values: [[P.numberOfStates, [Value.unsigned(4)]]] });
  return { ...env, ai, bi, msv };
}

const notes = (net: { take(s?: string): Array<{ request: unknown; to: unknown; confirmed: boolean }> }, service = 'unconfirmed-cov-notification') =>
  net.take(service).map((s) => s.request as CovNotificationRequest);

test('initial notification, increment crossing, status flags', () => {
  const { server, net, clock, ai } = setup();
  assert.equal(call(server, 'subscribe-cov', { subscriberProcessId: 7, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 300 }).kind, 'simple-ack');
  assert.equal(net.sent.length, 0, 'nothing before the SimpleACK has gone out');
  clock.flush();
  let n = notes(net);
  assert.equal(n.length, 1);
  assert.equal(n[0]!.subscriberProcessId, 7);
  assert.deepEqual(n[0]!.initiatingDeviceId, { type: O.device, instance: 1234 });
  assert.equal(n[0]!.timeRemaining, 300);
  assert.deepEqual(n[0]!.values, [
    { propertyId: P.presentValue, value: [Value.real(20)] },
    { propertyId: P.statusFlags, value: [Value.bitString([false, false, false, false])] },
  ]);
  ai.setLocal(P.presentValue, [Value.real(20.3)]);
  ai.setLocal(P.presentValue, [Value.real(20.49)]);
  assert.equal(notes(net).length, 0, 'below the increment from the last notified value');
  ai.setLocal(P.presentValue, [Value.real(20.5)]);
  n = notes(net);
  assert.equal(n.length, 1);
  assert.deepEqual(n[0]!.values[0]!.value, [Value.real(20.5)]);
  ai.setLocal(P.presentValue, [Value.real(20.2)]);
  assert.equal(notes(net).length, 0);
  ai.setLocal(P.reliability, [Value.enumerated(7)]);
  n = notes(net);
  assert.equal(n.length, 1, 'a fault flag change notifies at once');
  assert.deepEqual(n[0]!.values[1]!.value, [Value.bitString([false, true, false, false])]);
  clock.advance(100_000);
  ai.setLocal(P.presentValue, [Value.real(30)]);
  assert.equal(notes(net)[0]!.timeRemaining, 200);
});

test('binary and multi-state: any change; confirmed notifications', () => {
  const { server, net, clock, bi, msv } = setup();
  call(server, 'subscribe-cov', { subscriberProcessId: 1, monitoredObjectId: bi.id, issueConfirmedNotifications: true, lifetime: 60 });
  call(server, 'subscribe-cov', { subscriberProcessId: 1, monitoredObjectId: msv.id, issueConfirmedNotifications: false, lifetime: 60 });
  clock.flush();
  assert.equal(notes(net, 'confirmed-cov-notification').length, 1);
  assert.equal(notes(net).length, 1);
  bi.setLocal(P.presentValue, [Value.enumerated(1)]);
  msv.setLocal(P.presentValue, [Value.unsigned(2)]);
  msv.setLocal(P.presentValue, [Value.unsigned(2)]);
  assert.deepEqual(notes(net, 'confirmed-cov-notification').map((r) => r.values[0]!.value), [[Value.enumerated(1)]]);
  assert.deepEqual(notes(net).map((r) => r.values[0]!.value), [[Value.unsigned(2)]]);
});

test('lifetime expiry, replacement, cancellation, Active_COV_Subscriptions', () => {
  const { server, net, clock, ai } = setup();
  call(server, 'subscribe-cov', { subscriberProcessId: 1, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 10 });
  call(server, 'subscribe-cov', { subscriberProcessId: 2, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 0 }, OTHER);
  call(server, 'subscribe-cov', { subscriberProcessId: 1, monitoredObjectId: ai1, issueConfirmedNotifications: true, lifetime: 20 });
  assert.equal(server.cov.size, 2, 'same subscriber, process and object replaces');
  const active = ack(call(server, 'read-property', { objectId: { type: O.device, instance: 1234 }, propertyId: P.activeCovSubscriptions })).value;
  const r = new Reader(valuesToBytes(active));
  const subs = [readCovSubscription(r), readCovSubscription(r)];
  assert.deepEqual(subs.map((s) => [s.recipient.processId, s.issueConfirmedNotifications, s.timeRemaining]).sort(), [[1, true, 20], [2, false, 0]]);
  assert.deepEqual((subs.find((s) => s.recipient.processId === 2)!.recipient.recipient as { address: { mac: Uint8Array } }).address.mac, Uint8Array.of(127, 0, 0, 2, 0xc3, 0x52));
  clock.advance(21_000);
  assert.equal(server.cov.size, 1, 'the finite subscription expired');
  net.take();
  ai.setLocal(P.presentValue, [Value.real(50)]);
  assert.deepEqual(net.take().map((s) => s.to), [OTHER]);
  assert.equal(call(server, 'subscribe-cov', { subscriberProcessId: 2, monitoredObjectId: ai1 }, OTHER).kind, 'simple-ack');
  assert.equal(server.cov.size, 0);
  assert.equal(call(server, 'subscribe-cov', { subscriberProcessId: 99, monitoredObjectId: ai1 }).kind, 'simple-ack', 'cancelling nothing succeeds');
  // removing the object drops its subscriptions
  call(server, 'subscribe-cov', { subscriberProcessId: 3, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 0 });
  server.removeObject(ai1);
  assert.equal(server.cov.size, 0);
});

test('SubscribeCOVProperty with increment override, errors, cap', () => {
  const { server, net, clock, ai } = setup(2);
  call(server, 'subscribe-cov-property', {
    subscriberProcessId: 5, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 100,
    monitoredProperty: { propertyId: P.presentValue }, covIncrement: 5,
  });
  clock.flush();
  assert.equal(notes(net).length, 1);
  ai.setLocal(P.presentValue, [Value.real(24)]);
  assert.equal(notes(net).length, 0, 'the override (5) applies, not COV_Increment (0.5)');
  ai.setLocal(P.presentValue, [Value.real(25.5)]);
  assert.equal(notes(net).length, 1);
  call(server, 'subscribe-cov-property', {
    subscriberProcessId: 5, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 100, monitoredProperty: { propertyId: P.description },
  });
  clock.flush();
  notes(net);
  ai.setLocal(P.description, [Value.characterString('new text')]);
  const n = notes(net);
  assert.deepEqual(n.map((x) => x.values.map((v) => v.propertyId)), [[P.description, P.statusFlags]]);
  assert.equal(errorOf(call(server, 'subscribe-cov-property', {
    subscriberProcessId: 5, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 100, monitoredProperty: { propertyId: P.stateText },
  })), 'property/unknown-property');
  assert.equal(errorOf(call(server, 'subscribe-cov', { subscriberProcessId: 9, monitoredObjectId: ai1, issueConfirmedNotifications: false, lifetime: 100 })), 'resources/no-space-to-add-list-element');
  assert.equal(errorOf(call(server, 'subscribe-cov', { subscriberProcessId: 9, monitoredObjectId: { type: O.analogValue, instance: 8 }, issueConfirmedNotifications: false, lifetime: 100 })), 'object/unknown-object');
  server.addObject(O.notificationClass, { instance: 1, name: 'nc' });
  assert.equal(errorOf(call(server, 'subscribe-cov', { subscriberProcessId: 9, monitoredObjectId: { type: O.notificationClass, instance: 1 }, issueConfirmedNotifications: false, lifetime: 1 })), 'object/optional-functionality-not-supported');
});

test('commanded values notify subscribers; DCC disable-initiation suppresses notifications', () => {
  const { server, net, clock } = setup();
  const ao = server.addObject(O.analogOutput, { instance: 1, name: 'valve', values: [[P.covIncrement, [Value.real(1)]]] });
  call(server, 'subscribe-cov', { subscriberProcessId: 1, monitoredObjectId: ao.id, issueConfirmedNotifications: false, lifetime: 0 });
  clock.flush();
  notes(net);
  call(server, 'write-property', { objectId: ao.id, propertyId: P.presentValue, value: [Value.real(40)], priority: 8 });
  assert.deepEqual(notes(net).map((n) => n.values[0]!.value), [[Value.real(40)]]);
  call(server, 'device-communication-control', { enableDisable: 2 });
  call(server, 'write-property', { objectId: ao.id, propertyId: P.presentValue, value: [Value.real(60)], priority: 8 });
  assert.equal(notes(net).length, 0);
  assert.equal(server.cov.stats.suppressed, 1);
});
