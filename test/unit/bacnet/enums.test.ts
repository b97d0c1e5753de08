import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ObjectType, PropertyIdentifier, EngineeringUnits, unitSymbol, ErrorClass, ErrorCode, RejectReason, AbortReason,
  ConfirmedServiceChoice, UnconfirmedServiceChoice, ServicesSupported, confirmedServiceBit, unconfirmedServiceBit,
  Segmentation, EventState, EventType, StatusFlags, BinaryPV, Reliability, CharacterSet, LifeSafetyState, DeviceStatus,
  bitsToFlags, flagsToBits, BacnetNameError, EventTransitionBits, NotifyType, Polarity,
} from '../../../src/lib/bacnet/enums';

test('object types: names both ways, common spellings and short forms', () => {
  assert.equal(ObjectType.analogInput, 0);
  assert.equal(ObjectType.nameOf(8), 'device');
  assert.equal(ObjectType.nameOf(61), 'audit-log');
  assert.equal(ObjectType.nameOf(62), 'audit-reporter');
  for (const s of ['analog-input', 'analogInput', 'ANALOG_INPUT', 'analog input', 'Analog-Input', 'ai', 'AI', '0', 0]) {
    assert.equal(ObjectType.lookup(s), 0, String(s));
  }
  assert.equal(ObjectType.lookup('msv'), 19);
  assert.equal(ObjectType.lookup('multistate-value'), 19);
  assert.equal(ObjectType.lookup('character-string-value'), 40);
  assert.equal(ObjectType.lookup('proprietary-600'), 600);
  assert.equal(ObjectType.lookup(1024), undefined);
  assert.equal(ObjectType.lookup('no-such-type'), undefined);
  // vendor values have no name but are valid numbers
  assert.equal(ObjectType.nameOf(600), undefined);
  assert.equal(ObjectType.label(600), '600');
  assert.throws(() => ObjectType.require('bogus'), (e: unknown) => e instanceof BacnetNameError && /object type "bogus"/.test(e.message));
  assert.ok(ObjectType.size >= 63);
});

test('property identifiers: standard spelling, aliases, vendor range', () => {
  assert.equal(PropertyIdentifier.presentValue, 85);
  for (const s of ['present-value', 'presentValue', 'PRESENT_VALUE', 'pv', 'PV', '85']) assert.equal(PropertyIdentifier.lookup(s), 85, s);
  assert.equal(PropertyIdentifier.nameOf(77), 'object-name');
  assert.equal(PropertyIdentifier.nameOf(87), 'priority-array');
  assert.equal(PropertyIdentifier.nameOf(104), 'relinquish-default');
  assert.equal(PropertyIdentifier.nameOf(51), 'issue-confirmed-notifications');
  assert.equal(PropertyIdentifier.nameOf(73), 'number-of-apdu-retries');
  assert.equal(PropertyIdentifier.lookup('log-enable'), 133);
  assert.equal(PropertyIdentifier.nameOf(4194304), 'max-bvlc-length-accepted');
  assert.equal(PropertyIdentifier.nameOf(5000), undefined);
  assert.equal(PropertyIdentifier.lookup(5000), 5000);
  assert.ok(PropertyIdentifier.size > 500);
});

test('engineering units with symbols', () => {
  assert.equal(EngineeringUnits.degreesCelsius, 62);
  assert.equal(EngineeringUnits.nameOf(62), 'degrees-celsius');
  assert.equal(unitSymbol(62), '°C');
  assert.equal(unitSymbol('degrees-fahrenheit'), '°F');
  assert.equal(unitSymbol('percent'), '%');
  assert.equal(EngineeringUnits.nameOf(98), 'percent');
  assert.equal(unitSymbol('kilowatt-hours'), 'kWh');
  assert.equal(unitSymbol('cubic-feet-per-minute'), 'ft³/min');
  assert.equal(unitSymbol('no-units'), '');
  assert.equal(unitSymbol('currency1'), undefined);
  assert.equal(EngineeringUnits.lookup('degrees-kelvin'), 63);
  assert.equal(EngineeringUnits.lookup(60000), 60000);
  // every named unit either has a symbol or is one of the site-defined placeholders
  for (const [name, v] of EngineeringUnits.entries()) {
    if (/^(currency|volume|volumetric-flow|site-unit)\d+$/.test(name)) continue;
    assert.notEqual(unitSymbol(v), undefined, name);
  }
});

test('errors, rejects, aborts', () => {
  assert.equal(ErrorClass.nameOf(1), 'object');
  assert.equal(ErrorCode.nameOf(31), 'unknown-object');
  assert.equal(ErrorCode.nameOf(32), 'unknown-property');
  assert.equal(ErrorCode.nameOf(40), 'write-access-denied');
  assert.equal(ErrorCode.nameOf(26), 'password-failure');
  assert.equal(ErrorCode.nameOf(83), 'communication-disabled');
  assert.equal(ErrorCode.label(9999), '9999');
  assert.equal(RejectReason.nameOf(9), 'unrecognized-service');
  assert.equal(AbortReason.nameOf(4), 'segmentation-not-supported');
  assert.equal(AbortReason.nameOf(11), 'apdu-too-long');
});

test('services and their Protocol_Services_Supported bits', () => {
  assert.equal(ConfirmedServiceChoice.readProperty, 12);
  assert.equal(ConfirmedServiceChoice.lookup('ReadPropertyMultiple'), 14);
  assert.equal(ConfirmedServiceChoice.lookup('rpm'), 14);
  assert.equal(UnconfirmedServiceChoice.whoIs, 8);
  assert.equal(UnconfirmedServiceChoice.lookup('I-Am'), 0);
  assert.equal(confirmedServiceBit(ConfirmedServiceChoice.readRange), 35);
  assert.equal(confirmedServiceBit(ConfirmedServiceChoice.subscribeCovProperty), 38);
  assert.equal(unconfirmedServiceBit(UnconfirmedServiceChoice.whoIs), 34);
  assert.equal(unconfirmedServiceBit(UnconfirmedServiceChoice.iAm), 26);
  assert.equal(ServicesSupported.nameOf(36), 'utc-time-synchronization');
});

test('small enumerations and bit strings', () => {
  assert.equal(Segmentation.nameOf(3), 'no-segmentation');
  assert.equal(Segmentation.lookup('none'), 3);
  assert.equal(EventState.nameOf(3), 'high-limit');
  assert.equal(EventType.nameOf(5), 'out-of-range');
  assert.equal(NotifyType.nameOf(2), 'ack-notification');
  assert.equal(BinaryPV.lookup('on'), 1);
  assert.equal(BinaryPV.lookup(true as unknown as string), undefined);
  assert.equal(BinaryPV.lookup('true'), 1);
  assert.equal(Reliability.nameOf(0), 'no-fault-detected');
  assert.equal(CharacterSet.nameOf(0), 'utf-8');
  assert.equal(LifeSafetyState.nameOf(2), 'alarm');
  assert.equal(DeviceStatus.nameOf(0), 'operational');
  assert.equal(Polarity.nameOf(1), 'reverse');
  assert.deepEqual(bitsToFlags(StatusFlags, [false, false, false, true]), { inAlarm: false, fault: false, overridden: false, outOfService: true });
  assert.deepEqual(flagsToBits(StatusFlags, { fault: true }), [false, true, false, false]);
  assert.deepEqual(flagsToBits(EventTransitionBits, ['to-normal']), [false, false, true]);
  assert.deepEqual(flagsToBits(StatusFlags, ['out-of-service']), [false, false, false, true]);
});
