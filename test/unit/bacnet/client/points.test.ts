/**
 * Points as users spell them and values as msgs carry them, and what a reader reads beside a
 * point and keeps of it (points.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type PointMeta, absorbReadings, formatPoint, needsMeta, parsePoint, pointRefs, refKey, renderValue, shortestFloat32, unitsOf } from '../../../../src/lib/bacnet/client/points';
import type { ReadResult } from '../../../../src/lib/bacnet/client/client';
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

test('metadata beside a point: status flags always; name, units and reliability once; reliability again in fault', () => {
  const meta = new Map<string, PointMeta>();
  const metaOf = (p: { objectId: { type: number; instance: number }; propertyId: number }): PointMeta => {
    const k = refKey(p);
    if (!meta.has(k)) meta.set(k, {});
    return meta.get(k)!;
  };
  const list = [parsePoint('ai:1'), parsePoint({ object: 'bv:2', name: 'Fan' }), parsePoint('ai:1.description'), parsePoint('calendar:1')];
  const names = (refs: ReturnType<typeof pointRefs>): string[] => refs.map((r) => formatPoint(r));
  assert.deepEqual(names(pointRefs(list, metaOf, false)), ['analog-input:1', 'analog-input:1.status-flags', 'binary-value:2', 'binary-value:2.status-flags', 'analog-input:1.description', 'calendar:1']);
  const first = pointRefs(list, metaOf, true);
  assert.deepEqual(names(first), [
    'analog-input:1', 'analog-input:1.status-flags', 'analog-input:1.object-name', 'analog-input:1.units', 'analog-input:1.reliability',
    'binary-value:2', 'binary-value:2.status-flags', 'binary-value:2.reliability', 'analog-input:1.description', 'calendar:1',
  ]);
  const answers: Record<string, ReadResult['value']> = {
    'analog-input:1': [Value.real(21.5)], 'analog-input:1.status-flags': [Value.bitString([false, false, false, false])], 'analog-input:1.object-name': [Value.characterString('Zone')],
    'analog-input:1.units': [Value.enumerated(62)], 'analog-input:1.reliability': [Value.enumerated(0)], 'binary-value:2': [Value.enumerated(1)],
    'binary-value:2.status-flags': [Value.bitString([false, true, false, false])], 'binary-value:2.reliability': [Value.enumerated(7)], 'analog-input:1.description': [Value.characterString('room')],
  };
  const results = new Map(first.map((ref) => {
    const value = answers[formatPoint(ref)];
    return [refKey(ref), value ? { ref, value } : { ref, error: new Error('unknown-object') }] as const;
  }));
  const got = absorbReadings(list, results, metaOf, true);
  assert.deepEqual(got.map((g) => g.value ?? g.error!.message), [[Value.real(21.5)], [Value.enumerated(1)], [Value.characterString('room')], 'unknown-object']);
  assert.deepEqual(metaOf(list[0]!), { statusFlags: { inAlarm: false, fault: false, overridden: false, outOfService: false }, name: 'Zone', units: 'degrees-celsius', unitSymbol: '°C', reliability: 'no-fault-detected', loaded: true });
  assert.equal(metaOf(list[1]!).reliability, 'unreliable-other');
  assert.equal(needsMeta(list[0]!, metaOf(list[0]!)), false);
  assert.equal(needsMeta(list[1]!, metaOf(list[1]!)), true, 'in fault');
  assert.deepEqual(names(pointRefs(list.slice(0, 2), metaOf, true)), ['analog-input:1', 'analog-input:1.status-flags', 'binary-value:2', 'binary-value:2.status-flags', 'binary-value:2.reliability']);
  assert.deepEqual(unitsOf([Value.enumerated(98)]), { units: 'percent', unitSymbol: '%' });
  assert.equal(unitsOf([Value.real(1)]), undefined);
});
