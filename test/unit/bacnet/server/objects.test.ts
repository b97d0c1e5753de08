/**
 * The object model: type registry, required/optional properties, reads with array indexes,
 * writes with access, datatype and range checks, the priority array (19.2), minimum on/off
 * time (19.2.3), input objects out of service, and the NULL-to-non-commandable rule (15.9.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { Value, type BacnetValue } from '../../../../src/lib/bacnet/codec/values';
import { OBJECT_TYPES, objectTypeDef } from '../../../../src/lib/bacnet/objects/types';
import { createLocalObject } from '../../../../src/lib/bacnet/objects/factory';
import { PropertyAccessError } from '../../../../src/lib/bacnet/objects/errors';
import { PriorityArray } from '../../../../src/lib/bacnet/objects/command';
import { checkConforms, splitElements } from '../../../../src/lib/bacnet/objects/conform';
import { propertyDatatype } from '../../../../src/lib/bacnet/codec/datatypes';
import { makeServer } from './helpers';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof PropertyAccessError) return e.message.replace(/ \(.*$/, '');
    throw e;
  }
  return 'ok';
}

test('every registered type builds an object whose required properties read', () => {
  for (const def of OBJECT_TYPES.values()) {
    if (def.type === O.device) continue;
    const o = createLocalObject(def.type, { instance: 1, name: `x-${def.name}` });
    for (const d of def.properties) {
      if (!d.required) continue;
      if ((d.id === P.priorityArray || d.id === P.relinquishDefault || d.id === P.currentCommandPriority) && !o.commandable) continue;
      if (d.id === P.logBuffer) continue;
      assert.doesNotThrow(() => o.read(d.id), `${def.name} ${P.label(d.id)}`);
      assert.ok(d.datatype, `${def.name} ${P.label(d.id)} has a datatype`);
    }
    // Property_List omits the four identity properties (12.1.1.4)
    const list = o.read(P.propertyList).map((v) => (v as { value: number }).value);
    for (const id of [P.objectIdentifier, P.objectName, P.objectType, P.propertyList]) assert.ok(!list.includes(id));
    assert.deepEqual(o.read(P.objectIdentifier), [Value.objectId(def.type, 1)]);
  }
});

test('datatypes of the present value follow the codec table', () => {
  const cases: Array<[number, BacnetValue['type']]> = [
    [O.analogInput, 'real'], [O.binaryValue, 'enumerated'], [O.multiStateOutput, 'unsigned'], [O.integerValue, 'signed'],
    [O.positiveIntegerValue, 'unsigned'], [O.largeAnalogValue, 'double'], [O.characterstringValue, 'character-string'],
    [O.dateValue, 'date'], [O.timeValue, 'time'], [O.octetstringValue, 'octet-string'], [O.bitstringValue, 'bit-string'],
  ];
  for (const [t, kind] of cases) {
    const o = createLocalObject(t, { instance: 3, name: 'pv' });
    assert.equal(o.read(P.presentValue)[0]!.type, kind, O.label(t));
    assert.equal(propertyDatatype(t, P.presentValue)?.kind, kind);
  }
  const dt = createLocalObject(O.datetimeValue, { instance: 1, name: 'dt' });
  assert.deepEqual(dt.read(P.presentValue).map((v) => v.type), ['date', 'time']);
});

test('priority array: highest slot wins, NULL relinquishes, relinquish default at the end', () => {
  const { server } = makeServer();
  const ao = server.addObject(O.analogOutput, { instance: 1, name: 'ao1', values: [[P.presentValue, [Value.real(5)]]] });
  assert.ok(ao.commandable);
  assert.deepEqual(ao.read(P.presentValue), [Value.real(5)]);
  assert.deepEqual(ao.read(P.relinquishDefault), [Value.real(5)]);
  assert.deepEqual(ao.read(P.currentCommandPriority), [Value.null()]);
  ao.write({ propertyId: P.presentValue, value: [Value.real(30)], priority: 10 });
  ao.write({ propertyId: P.presentValue, value: [Value.real(20)], priority: 8 });
  ao.write({ propertyId: P.presentValue, value: [Value.real(40)] }); // default priority 16
  assert.deepEqual(ao.read(P.presentValue), [Value.real(20)]);
  assert.deepEqual(ao.read(P.currentCommandPriority), [Value.unsigned(8)]);
  const pa = ao.read(P.priorityArray);
  assert.equal(pa.length, 16);
  assert.deepEqual(pa[7], Value.real(20));
  assert.deepEqual(pa[9], Value.real(30));
  assert.deepEqual(pa[15], Value.real(40));
  assert.deepEqual(ao.read(P.priorityArray, 0), [Value.unsigned(16)]);
  assert.deepEqual(ao.read(P.priorityArray, 8), [Value.real(20)]);
  assert.deepEqual(ao.read(P.priorityArray, 1), [Value.null()]);
  assert.equal(code(() => ao.read(P.priorityArray, 17)), 'property: invalid-array-index');
  ao.write({ propertyId: P.presentValue, value: [Value.null()], priority: 8 });
  assert.deepEqual(ao.read(P.presentValue), [Value.real(30)]);
  ao.write({ propertyId: P.presentValue, value: [Value.null()], priority: 10 });
  ao.write({ propertyId: P.presentValue, value: [Value.null()], priority: 16 });
  assert.deepEqual(ao.read(P.presentValue), [Value.real(5)]);
  assert.equal(code(() => ao.write({ propertyId: P.priorityArray, value: pa })), 'property: write-access-denied');
  assert.equal(code(() => ao.write({ propertyId: P.presentValue, value: [Value.characterString('x')], priority: 9 })), 'property: invalid-data-type');
});

test('PriorityArray on its own', () => {
  const pa = new PriorityArray(Value.enumerated(0));
  assert.equal(pa.command(3, Value.enumerated(1)), true);
  assert.equal(pa.command(3, Value.enumerated(1)), false);
  assert.deepEqual(pa.effective(), { value: Value.enumerated(1), priority: 3 });
  assert.deepEqual(pa.commanded(), [[3, Value.enumerated(1)]]);
  assert.throws(() => pa.command(0, null), RangeError);
  assert.throws(() => pa.command(17, null), RangeError);
});

test('write access: read-only objects, computed properties, inputs only out of service', () => {
  const { server } = makeServer();
  const ro = server.addObject(O.analogValue, { instance: 1, name: 'ro' });
  assert.equal(code(() => ro.write({ propertyId: P.presentValue, value: [Value.real(1)] })), 'property: write-access-denied');
  const rw = server.addObject(O.analogValue, { instance: 2, name: 'rw', writable: true });
  rw.write({ propertyId: P.presentValue, value: [Value.real(7)] });
  assert.deepEqual(rw.read(P.presentValue), [Value.real(7)]);
  assert.ok(!rw.has(P.priorityArray), 'a writable but not commandable value has no priority array');
  assert.equal(code(() => rw.write({ propertyId: P.statusFlags, value: [Value.bitString([false, false, false, false])] })), 'property: write-access-denied');
  assert.equal(code(() => rw.write({ propertyId: P.units, value: [Value.enumerated(62)] })), 'property: write-access-denied');
  assert.equal(code(() => rw.write({ propertyId: P.presentValue, value: [Value.enumerated(1)] })), 'property: invalid-data-type');
  assert.equal(code(() => rw.write({ propertyId: 9999, value: [Value.real(1)] })), 'property: unknown-property');
  // Revision 21+: NULL to a non-commandable property succeeds and changes nothing.
  assert.deepEqual(rw.write({ propertyId: P.presentValue, value: [Value.null()] }), { changed: false, ignored: true });
  assert.deepEqual(rw.read(P.presentValue), [Value.real(7)]);

  const ai = server.addObject(O.analogInput, { instance: 1, name: 'ai', writable: true });
  assert.equal(code(() => ai.write({ propertyId: P.presentValue, value: [Value.real(1)] })), 'property: write-access-denied');
  ai.write({ propertyId: P.outOfService, value: [Value.boolean(true)] });
  assert.deepEqual(ai.read(P.statusFlags), [Value.bitString([false, false, false, true])]);
  ai.write({ propertyId: P.presentValue, value: [Value.real(99)] });
  // the flow's value is held while out of service and applied when back in service
  ai.setLocal(P.presentValue, [Value.real(21.5)]);
  assert.deepEqual(ai.read(P.presentValue), [Value.real(99)]);
  ai.write({ propertyId: P.outOfService, value: [Value.boolean(false)] });
  assert.deepEqual(ai.read(P.presentValue), [Value.real(21.5)]);
});

test('range checks: binary 0/1, multi-state 1..Number_Of_States, min/max present value', () => {
  const { server } = makeServer();
  const bv = server.addObject(O.binaryValue, { instance: 1, name: 'bv', writable: true });
  assert.equal(code(() => bv.write({ propertyId: P.presentValue, value: [Value.enumerated(2)] })), 'property: value-out-of-range');
  bv.write({ propertyId: P.presentValue, value: [Value.enumerated(1)] });
  const msv = server.addObject(O.multiStateValue, {
    instance: 1, name: 'msv', commandable: true,
    values: [[P.numberOfStates, [Value.unsigned(3)]], [P.stateText, ['a', 'b', 'c'].map((s) => Value.characterString(s))]],
  });
  assert.equal(code(() => msv.write({ propertyId: P.presentValue, value: [Value.unsigned(4)], priority: 5 })), 'property: value-out-of-range');
  assert.equal(code(() => msv.write({ propertyId: P.presentValue, value: [Value.unsigned(0)], priority: 5 })), 'property: value-out-of-range');
  msv.write({ propertyId: P.presentValue, value: [Value.unsigned(3)], priority: 5 });
  assert.deepEqual(msv.read(P.stateText, 2), [Value.characterString('b')]);
  assert.deepEqual(msv.read(P.stateText, 0), [Value.unsigned(3)]);
  assert.equal(code(() => msv.read(P.numberOfStates, 1)), 'property: property-is-not-an-array');
  const av = server.addObject(O.analogValue, {
    instance: 9, name: 'limited', writable: true, optional: [P.minPresValue, P.maxPresValue],
    values: [[P.minPresValue, [Value.real(0)]], [P.maxPresValue, [Value.real(10)]]],
  });
  assert.equal(code(() => av.write({ propertyId: P.presentValue, value: [Value.real(11)] })), 'property: value-out-of-range');
  av.write({ propertyId: P.presentValue, value: [Value.real(10)] });
});

test('minimum on/off time holds a new binary output state in slot 6 (19.2.3)', () => {
  const { server, clock } = makeServer();
  const bo = server.addObject(O.binaryOutput, { instance: 1, name: 'bo', values: [[P.minimumOnTime, [Value.unsigned(60)]], [P.minimumOffTime, [Value.unsigned(30)]]] });
  bo.write({ propertyId: P.presentValue, value: [Value.enumerated(1)], priority: 8 });
  assert.deepEqual(bo.read(P.priorityArray, 6), [Value.enumerated(1)]);
  bo.write({ propertyId: P.presentValue, value: [Value.null()], priority: 8 });
  assert.deepEqual(bo.read(P.presentValue), [Value.enumerated(1)], 'held on for the minimum on time');
  assert.equal(code(() => bo.write({ propertyId: P.presentValue, value: [Value.enumerated(0)], priority: 6 })), 'property: write-access-denied');
  clock.advance(59_000);
  assert.deepEqual(bo.read(P.presentValue), [Value.enumerated(1)]);
  clock.advance(1_000);
  // released: relinquish default (inactive) takes over and the off time starts
  assert.deepEqual(bo.read(P.presentValue), [Value.enumerated(0)]);
  assert.deepEqual(bo.read(P.priorityArray, 6), [Value.enumerated(0)]);
  bo.write({ propertyId: P.presentValue, value: [Value.enumerated(1)], priority: 3 });
  assert.deepEqual(bo.read(P.presentValue), [Value.enumerated(1)], 'a higher priority overrides the hold');
  clock.advance(120_000);
  assert.equal(clock.pending >= 0, true);
});

test('object names are unique and renames bump the database revision', () => {
  const { server } = makeServer();
  const rev = server.db.revision;
  server.addObject(O.analogValue, { instance: 1, name: 'a' });
  assert.throws(() => server.addObject(O.analogValue, { instance: 2, name: 'a' }), /duplicate-name/);
  assert.throws(() => server.addObject(O.analogValue, { instance: 1, name: 'b' }), /object-identifier-already-exists/);
  const b = server.addObject(O.analogValue, { instance: 2, name: 'b' });
  assert.equal(server.db.revision, rev + 2);
  assert.throws(() => b.setLocal(P.objectName, [Value.characterString('a')]), /duplicate-name/);
  b.setLocal(P.objectName, [Value.characterString('c')]);
  assert.equal(server.find('c'), b);
  assert.equal(server.find('b'), undefined);
  assert.equal(server.find('analog-value:2'), b);
  assert.equal(server.db.revision, rev + 3);
  server.removeObject(b.id);
  assert.equal(server.db.revision, rev + 4);
  assert.equal(server.find('c'), undefined);
});

test('conformance checks of constructed values', () => {
  const dest = objectTypeDef(O.notificationClass)!.properties.find((d) => d.id === P.recipientList)!.datatype!;
  const good: BacnetValue[] = [
    Value.bitString([true, true, true, true, true, true, true]), Value.time({ hour: 0, minute: 0, second: 0, hundredths: 0 }),
    Value.time({ hour: 23, minute: 59, second: 59, hundredths: 99 }), Value.constructed(1, [Value.unsigned(0), Value.octetString(Uint8Array.of(127, 0, 0, 1, 0xba, 0xc0))]),
    Value.unsigned(7), Value.boolean(false), Value.bitString([true, true, true]),
  ];
  assert.doesNotThrow(() => checkConforms([...good, ...good], dest));
  assert.equal(splitElements([...good, ...good], (dest as { of: typeof dest }).of).length, 2);
  assert.throws(() => checkConforms(good.slice(0, 6), dest), /invalid-data-type/);
  assert.throws(() => checkConforms([Value.real(1)], { kind: 'array', of: { kind: 'real' }, size: 3 }), /invalid-data-type/);
});
