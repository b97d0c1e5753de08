import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/lib/wire/reader';
import { Writer } from '../../../src/lib/wire/writer';
import { ChunkQueue } from '../../../src/lib/wire/chunks';
import { DecodeError } from '../../../src/lib/wire/errors';

test('writer and reader round-trip every width, both byte orders', () => {
  for (const le of [false, true]) {
    const w = new Writer(4, le);
    w.u8(0xfe).i8(-2).u16(0xbac0).i16(-300).u24(0x123456).u32(0xdeadbeef).i32(-123456789)
      .u64(0x0102030405060708n).i64(-5n).f32(1.5).f64(Math.PI).uintN(0x010203040506, 6).intN(-129, 2);
    const r = new Reader(w.finish(), 0, w.length, le);
    assert.equal(r.u8(), 0xfe);
    assert.equal(r.i8(), -2);
    assert.equal(r.u16(), 0xbac0);
    assert.equal(r.i16(), -300);
    assert.equal(r.u24(), 0x123456);
    assert.equal(r.u32(), 0xdeadbeef);
    assert.equal(r.i32(), -123456789);
    assert.equal(r.u64(), 0x0102030405060708n);
    assert.equal(r.i64(), -5n);
    assert.equal(r.f32(), 1.5);
    assert.equal(r.f64(), Math.PI);
    assert.equal(r.uintN(6), 0x010203040506);
    assert.equal(r.intN(2), -129);
    r.expectEnd();
  }
});

test('big-endian layout is what the wire expects', () => {
  const w = new Writer();
  w.u16(0x0102).u32(0x03040506);
  assert.deepEqual([...w.finish()], [1, 2, 3, 4, 5, 6]);
});

test('reader refuses to read past the end and names the field', () => {
  const r = new Reader(Uint8Array.of(1, 2, 3));
  r.u16('first');
  assert.throws(() => r.u16('second'), (e: unknown) => e instanceof DecodeError && e.field === 'second' && e.offset === 2);
  assert.throws(() => r.bytes(5), DecodeError);
  assert.throws(() => r.sub(-1), DecodeError);
  assert.equal(r.u8(), 3);
  assert.throws(() => r.u8(), DecodeError);
});

test('sub-readers are windows that cannot see beyond their length', () => {
  const r = new Reader(Uint8Array.of(9, 1, 2, 3, 4));
  r.u8();
  const s = r.sub(2);
  assert.equal(s.u16(), 0x0102);
  assert.throws(() => s.u8(), DecodeError);
  assert.equal(r.u16(), 0x0304);
});

test('cString stops at NUL, patching fills reserved bytes', () => {
  const w = new Writer();
  const at = w.reserve(2);
  w.utf8('abc');
  w.zeros(5);
  w.patchU16(at, 3);
  const r = new Reader(w.finish());
  assert.equal(r.u16(), 3);
  assert.equal(r.cString(8), 'abc');
  assert.throws(() => w.patchU32(w.length - 2, 1));
});

test('uintN rejects values that do not fit', () => {
  assert.throws(() => new Writer().uintN(256, 1));
  assert.throws(() => new Writer().intN(128, 1));
  assert.throws(() => new Writer().uintN(-1, 2));
});

test('chunk queue yields identical messages however the stream is split', () => {
  const msg = Uint8Array.from({ length: 100 }, (_, i) => i);
  for (let split = 1; split < 100; split++) {
    const q = new ChunkQueue();
    q.push(msg.subarray(0, split));
    assert.equal(q.take(101), undefined);
    q.push(msg.subarray(split));
    assert.equal(q.length, 100);
    assert.equal(q.byteAt(split), split);
    assert.deepEqual([...q.peek(3)!], [0, 1, 2]);
    const a = q.take(40)!;
    const b = q.take(60)!;
    assert.deepEqual([...a, ...b], [...msg]);
    assert.equal(q.length, 0);
  }
});

test('chunk queue returns views for in-chunk takes', () => {
  const big = new Uint8Array(1000);
  const q = new ChunkQueue();
  q.push(big);
  const v = q.take(500)!;
  assert.equal(v.buffer, big.buffer);
  q.skip(100);
  assert.equal(q.length, 400);
});
