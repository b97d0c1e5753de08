/**
 * Points as users spell them and values as msgs carry them (points.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPoint, parsePoint, renderValue, shortestFloat32 } from '../../../../src/lib/bacnet/client/points';
import { Value } from '../../../../src/lib/bacnet/codec/values';

test('the usual spellings of a point', () => {
  const ai1 = { objectId: { type: 0, instance: 1 }, propertyId: 85 };
  for (const x of ['analog-input:1', 'analogInput:1', 'ai:1', 'AI 1', { type: 'ai', instance: 1 }, { type: 0, instance: 1 }, [0, 1], { object: 'ai:1', property: 'presentValue' }, { object: 'ai:1', property: 'pv' }, { object: 'ai:1', property: 85 }, 'ai:1.present-value']) {
    assert.deepEqual(parsePoint(x), ai1, JSON.stringify(x));
  }
  assert.deepEqual(parsePoint('av:2.priority-array[8]'), { objectId: { type: 2, instance: 2 }, propertyId: 87, arrayIndex: 8 });
  assert.deepEqual(parsePoint({ object: 'bo:3', name: ' Fan ' }), { objectId: { type: 4, instance: 3 }, propertyId: 85, name: 'Fan' });
  assert.equal(formatPoint(parsePoint('av:2.priority-array[8]')), 'analog-value:2.priority-array[8]');
  assert.equal(formatPoint(parsePoint('msv:1')), 'multi-state-value:1');
  assert.throws(() => parsePoint('nonsense'), /is not a point/);
  assert.throws(() => parsePoint('ai:1.bogus'), /unknown property "bogus"/);
  assert.throws(() => parsePoint({ property: 'pv' }), /names no object/);
});

test('binary values render as booleans, enumerations by name, status flags as an object', () => {
  assert.equal(renderValue(3, 85, [Value.enumerated(1)]), true);
  assert.deepEqual(renderValue(4, 87, [Value.null(), Value.enumerated(0)]), [null, false]);
  assert.equal(renderValue(0, 117, [Value.enumerated(62)]), 'degrees-celsius');
  assert.deepEqual(renderValue(0, 111, [Value.bitString([false, true, false, false])]), { inAlarm: false, fault: true, overridden: false, outOfService: false });
  assert.equal(renderValue(13, 85, [Value.unsigned(3)]), 3);
});

test('REAL values render as the shortest decimal of the same single-precision number', () => {
  assert.equal(shortestFloat32(Math.fround(20.65)), 20.65);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(21.5), 21.5);
  assert.equal(shortestFloat32(Math.fround(1e-7)), 1e-7);
  assert.equal(Math.fround(shortestFloat32(Math.fround(123.456789))), Math.fround(123.456789));
  assert.equal(renderValue(0, 85, [Value.real(Math.fround(20.65))]), 20.65);
  assert.deepEqual(renderValue(2, 87, [Value.null(), Value.real(Math.fround(23.1))]), [null, 23.1]);
  assert.equal(renderValue(2, 85, [{ type: 'double', value: 20.649999618530273 }]), 20.649999618530273, 'Double stays exact');
});
