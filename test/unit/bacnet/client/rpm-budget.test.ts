/**
 * ReadPropertyMultiple sizing: estimates per datatype and packing of property references into
 * requests that fit a device's max APDU (and the estimates hold for what our server answers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBatches, answerSize, ACK_HEADER, type PropertyRef } from '../../../../src/lib/bacnet/client/rpm-budget';
import { encodeReadPropertyMultipleAck } from '../../../../src/lib/bacnet/services/read-property-multiple';
import { Writer } from '../../../../src/lib/wire/writer';
import { Value } from '../../../../src/lib/bacnet/codec/values';

const pv = (instance: number, type = 0): PropertyRef => ({ objectId: { type, instance }, propertyId: 85 });

test('consecutive properties of one object share a read access specification', () => {
  const refs: PropertyRef[] = [pv(1), { objectId: { type: 0, instance: 1 }, propertyId: 111 }, pv(2)];
  const b = planBatches(refs, 1000, 1000);
  assert.equal(b.length, 1);
  assert.deepEqual(b[0]!.specs, [
    { objectId: { type: 0, instance: 1 }, properties: [{ propertyId: 85 }, { propertyId: 111 }] },
    { objectId: { type: 0, instance: 2 }, properties: [{ propertyId: 85 }] },
  ]);
  assert.deepEqual(b[0]!.items, [0, 1, 2]);
});

test('batches fit the answer budget and the real encoded answer fits the device max APDU', () => {
  const refs = Array.from({ length: 1000 }, (_, i) => pv(i));
  for (const maxApdu of [50, 128, 206, 480, 1024, 1476]) {
    const batches = planBatches(refs, maxApdu - ACK_HEADER, maxApdu - 4);
    assert.deepEqual(batches.flatMap((b) => b.items), refs.map((_, i) => i), 'every ref once, in order');
    for (const b of batches) {
      assert.ok(b.estimate <= maxApdu - ACK_HEADER || b.items.length === 1);
      const w = new Writer(2048);
      encodeReadPropertyMultipleAck(w, { results: b.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(1.5)] })) })) });
      assert.ok(w.finish().length + 3 <= maxApdu, `answer of ${b.items.length} values fits ${maxApdu}`);
    }
    if (maxApdu === 1476) assert.ok(batches[0]!.items.length >= 80, `a 1476-octet APDU carries ${batches[0]!.items.length} present values`);
  }
});

test('estimates: strings and arrays are larger than reals; an oversize property gets a batch of its own', () => {
  assert.ok(answerSize({ objectId: { type: 0, instance: 1 }, propertyId: 77 }) > answerSize(pv(1)));
  const refs: PropertyRef[] = [pv(1), { objectId: { type: 8, instance: 1 }, propertyId: 76 }, pv(2)];
  const b = planBatches(refs, 100, 1000);
  assert.equal(b.length, 3);
});
