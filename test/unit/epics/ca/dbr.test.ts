/**
 * DBR codec: the layout table, golden bytes of the metadata structs (db_access.h layouts), round
 * trips of every type with arrays, string edge cases and timestamps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DBR, LAST_DBR_TYPE, dbrLayout, dbrName, dbrSize, dbrType, parseDbrType, parseNativeType, encodeDbr, decodeDbr,
  epicsTimeFromMs, epicsTimeToMs, epicsTimeToDate, epicsTimeFromDate, EPICS_EPOCH_OFFSET,
  type DbrInput, type NativeType,
} from '../../../../src/lib/epics/ca';
import { hex, toHex, ascii } from './hex';

test('layout table: value offsets (metadata + padding) and element sizes per type', () => {
  const expected: Array<[number, number, number]> = [
    // [type, valueOffset, elementSize]
    [0, 0, 40], [1, 0, 2], [2, 0, 4], [3, 0, 2], [4, 0, 1], [5, 0, 4], [6, 0, 8],
    [7, 4, 40], [8, 4, 2], [9, 4, 4], [10, 4, 2], [11, 5, 1], [12, 4, 4], [13, 8, 8],
    [14, 12, 40], [15, 14, 2], [16, 12, 4], [17, 14, 2], [18, 15, 1], [19, 12, 4], [20, 16, 8],
    [21, 4, 40], [22, 24, 2], [23, 40, 4], [24, 422, 2], [25, 19, 1], [26, 36, 4], [27, 64, 8],
    [28, 4, 40], [29, 28, 2], [30, 48, 4], [31, 422, 2], [32, 21, 1], [33, 44, 4], [34, 80, 8],
    [35, 0, 2], [36, 0, 2], [37, 8, 40], [38, 0, 40],
  ];
  assert.equal(expected.length, LAST_DBR_TYPE + 1);
  for (const [t, off, size] of expected) {
    const l = dbrLayout(t)!;
    assert.equal(l.valueOffset, off, `${l.name} value offset`);
    assert.equal(l.elementSize, size, `${l.name} element size`);
    // Elements stay aligned to their size from the message start (headers are 16 or 24 bytes).
    if (size <= 8) assert.equal(off % size, 0, `${l.name} alignment`);
  }
  assert.equal(dbrLayout(39), undefined);
  assert.equal(dbrName(20), 'DBR_TIME_DOUBLE');
  assert.equal(dbrName(31), 'DBR_CTRL_ENUM');
  assert.equal(dbrName(37), 'DBR_STSACK_STRING');
  assert.equal(dbrType('ctrl', DBR.ENUM as NativeType), 31);
  assert.equal(parseDbrType('DBR_TIME_DOUBLE'), 20);
  assert.equal(parseDbrType('ctrl_long'), 33);
  assert.equal(parseDbrType('INT'), 1);
  assert.equal(parseDbrType('nonsense'), undefined);
  assert.equal(parseNativeType('double'), 6);
  assert.equal(parseNativeType('TIME_DOUBLE'), undefined);
  assert.equal(dbrSize(DBR.TIME_DOUBLE, 1000), 16 + 8000);
});

test('golden bytes: CTRL_DOUBLE as softIoc sends TEST:ai (capture ca-get-ctrl-double.pcap)', () => {
  const data: DbrInput = {
    value: [12.5], status: 0, severity: 0, precision: 3, units: 'degC',
    limits: { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } },
  };
  const expected = '00 00 00 00 00 03 00 00 64 65 67 43 00 00 00 00 ' +
    '40 59 00 00 00 00 00 00 c0 34 00 00 00 00 00 00 40 56 80 00 00 00 00 00 40 54 00 00 00 00 00 00 ' +
    '00 00 00 00 00 00 00 00 c0 24 00 00 00 00 00 00 40 59 00 00 00 00 00 00 c0 34 00 00 00 00 00 00 ' +
    '40 29 00 00 00 00 00 00';
  assert.equal(toHex(encodeDbr(DBR.CTRL_DOUBLE, 1, data)), toHex(hex(expected)));
  const back = decodeDbr(DBR.CTRL_DOUBLE, 1, hex(expected));
  assert.equal(back.precision, 3);
  assert.equal(back.units, 'degC');
  assert.deepEqual(back.limits, data.limits);
  assert.deepEqual(Array.from(back.value as Float64Array), [12.5]);
});

test('golden bytes: GR_SHORT, CTRL_LONG, STS_CHAR, TIME_CHAR, TIME_SHORT, GR_FLOAT, STSACK_STRING', () => {
  const lim = { display: { low: 0, high: 10 }, alarm: { low: 2, high: 8 }, warning: { low: 4, high: 6 }, control: { low: 1, high: 9 } };
  // GR_SHORT: status, severity, units[8], 6 x i16 (hi disp, lo disp, hi alarm, hi warn, lo warn, lo alarm), value.
  assert.equal(toHex(encodeDbr(DBR.GR_SHORT, 2, { value: [7, -1], status: 5, severity: 2, units: 'Counts', limits: lim })),
    toHex(hex('00 05 00 02 ' + ascii('Counts', 8) + ' 00 0a 00 00 00 08 00 06 00 04 00 02 00 07 ff ff 00 00 00 00')));
  // CTRL_LONG adds hi ctrl, lo ctrl.
  assert.equal(toHex(encodeDbr(DBR.CTRL_LONG, 1, { value: [100000], units: 'mm', limits: lim })),
    toHex(hex('00 00 00 00 ' + ascii('mm', 8) + ' 00 00 00 0a 00 00 00 00 00 00 00 08 00 00 00 06 00 00 00 04 00 00 00 02 00 00 00 09 00 00 00 01 00 01 86 a0')));
  // STS_CHAR: status, severity, 1 pad byte, then the chars.
  assert.equal(toHex(encodeDbr(DBR.STS_CHAR, 3, { value: [1, 2, 255], status: 3, severity: 2 })), toHex(hex('00 03 00 02 00 01 02 ff')));
  // TIME_CHAR: 12 bytes of status/severity/stamp, 3 pad bytes.
  const stamp = { secondsPastEpoch: 1, nanoseconds: 2 };
  assert.equal(toHex(encodeDbr(DBR.TIME_CHAR, 1, { value: [65], stamp })), toHex(hex('00 00 00 00 00 00 00 01 00 00 00 02 00 00 00 41')));
  // TIME_SHORT: 2 pad bytes.
  assert.equal(toHex(encodeDbr(DBR.TIME_SHORT, 1, { value: [-2], stamp })), toHex(hex('00 00 00 00 00 00 00 01 00 00 00 02 00 00 ff fe')));
  // GR_FLOAT: status, severity, precision, pad, units, 6 x f32, value.
  assert.equal(toHex(encodeDbr(DBR.GR_FLOAT, 1, { value: [1.5], precision: 2, units: 'V', limits: lim })),
    toHex(hex('00 00 00 00 00 02 00 00 ' + ascii('V', 8) + ' 41 20 00 00 00 00 00 00 41 00 00 00 40 c0 00 00 40 80 00 00 40 00 00 00 3f c0 00 00 00 00 00 00')));
  // STSACK_STRING: status, severity, ackt, acks, string.
  assert.equal(toHex(encodeDbr(DBR.STSACK_STRING, 1, { value: ['x'], status: 7, severity: 2, ackt: 1, acks: 2 })),
    toHex(hex('00 07 00 02 00 01 00 02 ' + ascii('x', 40))));
});

test('CTRL_ENUM: no_str + 16 x 26-byte strings, value after 422 bytes', () => {
  const states = ['Idle', 'Running', 'Paused', 'Fault'];
  const b = encodeDbr(DBR.CTRL_ENUM, 1, { value: [1], enumStrings: states });
  assert.equal(b.length, 424);
  assert.equal(toHex(b.subarray(0, 6)), '00 00 00 00 00 04');
  assert.equal(Buffer.from(b.subarray(6 + 26, 6 + 26 + 7)).toString(), 'Running');
  assert.equal(toHex(b.subarray(422, 424)), '00 01');
  const d = decodeDbr(DBR.CTRL_ENUM, 1, b);
  assert.deepEqual(d.enumStrings, states);
  assert.deepEqual(Array.from(d.value as Uint16Array), [1]);
  // More than 16 states are cut to 16; a state string longer than 25 bytes is cut to 25.
  const many = Array.from({ length: 20 }, (_, i) => `state-${i}-${'x'.repeat(30)}`);
  const d2 = decodeDbr(DBR.GR_ENUM, 1, encodeDbr(DBR.GR_ENUM, 1, { value: [0], enumStrings: many }));
  assert.equal(d2.enumStrings!.length, 16);
  assert.equal(d2.enumStrings![0], many[0]!.slice(0, 25));
});

const samples: Record<NativeType, number[] | string[]> = {
  0: ['alpha', '', 'γειά σου', 'x'.repeat(39)],
  1: [0, 1, -1, 32767, -32768],
  2: [0, 1.5, -2.25, 3.0e38],
  3: [0, 1, 15, 65535],
  4: [0, 1, 127, 255],
  5: [0, 1, -1, 2147483647, -2147483648],
  6: [0, 0.5, -1e300, Math.PI],
};

test('every type round-trips scalars and arrays with its metadata', () => {
  for (let t = 0; t <= LAST_DBR_TYPE; t++) {
    const l = dbrLayout(t)!;
    const vals = t === DBR.PUT_ACKT || t === DBR.PUT_ACKS ? [0, 1] : samples[l.native];
    const input: DbrInput = {
      value: vals,
      status: l.family === 'plain' ? undefined : 3,
      severity: l.family === 'plain' ? undefined : 2,
      stamp: { secondsPastEpoch: 1_000_000_000, nanoseconds: 123_456_789 },
      units: 'mm/s',
      precision: 4,
      limits: { display: { low: 0, high: 100 }, alarm: { low: 1, high: 99 }, warning: { low: 2, high: 98 }, control: { low: 3, high: 97 } },
      enumStrings: ['Off', 'On'],
      ackt: 1,
      acks: 3,
    };
    for (const count of [1, vals.length, 100]) {
      const bytes = encodeDbr(t, count, input);
      assert.equal(bytes.length % 8, 0);
      const d = decodeDbr(t, count, bytes);
      assert.equal(d.count, count);
      assert.equal(d.value.length, count, l.name);
      const got = Array.from(d.value as ArrayLike<number | string>);
      for (let i = 0; i < count; i++) {
        const want = i < vals.length ? vals[i] : l.elem === 'string' ? '' : 0;
        if (l.elem === 'f32') assert.equal(got[i], Math.fround(want as number), `${l.name}[${i}]`);
        else assert.equal(got[i], want, `${l.name}[${i}]`);
      }
      if (['sts', 'time', 'gr', 'ctrl', 'stsack'].includes(l.family)) {
        assert.equal(d.status, 3);
        assert.equal(d.severity, 2);
      }
      if (l.family === 'time') assert.deepEqual(d.stamp, input.stamp);
      if ((l.family === 'gr' || l.family === 'ctrl') && l.native !== 0 && l.native !== 3) {
        assert.equal(d.units, 'mm/s');
        assert.deepEqual(d.limits!.display, { low: 0, high: 100 });
        assert.deepEqual(d.limits!.alarm, { low: 1, high: 99 });
        assert.deepEqual(d.limits!.warning, { low: 2, high: 98 });
        if (l.family === 'ctrl') assert.deepEqual(d.limits!.control, { low: 3, high: 97 });
        else assert.equal(d.limits!.control, undefined);
        if (l.native === 2 || l.native === 6) assert.equal(d.precision, 4);
      }
      if ((l.family === 'gr' || l.family === 'ctrl') && l.native === 3) assert.deepEqual(d.enumStrings, ['Off', 'On']);
      if (l.family === 'stsack') assert.deepEqual([d.ackt, d.acks], [1, 3]);
    }
  }
});

test('large arrays: typed arrays, one copy, or none when the caller owns the bytes', () => {
  const n = 100_000;
  const src = Float64Array.from({ length: n }, (_, i) => i * 0.5);
  const payload = encodeDbr(DBR.TIME_DOUBLE, n, { value: src, stamp: { secondsPastEpoch: 5, nanoseconds: 6 } });
  const copy = decodeDbr(DBR.TIME_DOUBLE, n, payload);
  assert.ok(copy.value instanceof Float64Array);
  assert.notEqual((copy.value as Float64Array).buffer, payload.buffer, 'not owned: a fresh buffer');
  assert.deepEqual(copy.value, src);
  // The payload is unchanged (it is still big-endian and decodes the same again).
  assert.deepEqual(decodeDbr(DBR.TIME_DOUBLE, n, payload).value, src);
  // Owned and aligned: swapped in place, the typed array is a view of the payload's buffer.
  const owned = decodeDbr(DBR.TIME_DOUBLE, n, payload, 0, payload.length, { owned: true });
  assert.equal((owned.value as Float64Array).buffer, payload.buffer, 'owned: no copy');
  assert.deepEqual(owned.value, src);
  // Misaligned owned bytes fall back to one copy.
  const shifted = new Uint8Array(payload.length + 1);
  shifted.set(encodeDbr(DBR.TIME_DOUBLE, n, { value: src }), 1);
  const mis = decodeDbr(DBR.TIME_DOUBLE, n, shifted, 1, shifted.length, { owned: true });
  assert.deepEqual(mis.value, src);
  for (const [t, Ctor] of [[DBR.SHORT, Int16Array], [DBR.FLOAT, Float32Array], [DBR.ENUM, Uint16Array], [DBR.CHAR, Uint8Array], [DBR.LONG, Int32Array]] as const) {
    const a = new Ctor(5000).map((_, i) => i % 200);
    const d = decodeDbr(t, 5000, encodeDbr(t, 5000, { value: a }));
    assert.ok(d.value instanceof Ctor);
    assert.deepEqual(d.value, a);
  }
});

test('strings: UTF-8, cut at 39 bytes on a character boundary, short last element accepted', () => {
  const long = 'é'.repeat(30); // 60 bytes of UTF-8
  const d = decodeDbr(DBR.STRING, 1, encodeDbr(DBR.STRING, 1, { value: [long] }));
  assert.equal(d.value[0], 'é'.repeat(19));
  // libca writes one DBR_STRING as text + NUL padded to 8, not 40 bytes.
  assert.deepEqual(decodeDbr(DBR.STRING, 1, hex('32 2e 35 00 00 00 00 00')).value, ['2.5']);
  // A string array whose first element is cut short is malformed.
  assert.throws(() => decodeDbr(DBR.STRING, 2, new Uint8Array(16)), { code: 'EDECODE' });
  // Numeric payloads must be complete.
  assert.throws(() => decodeDbr(DBR.DOUBLE, 2, new Uint8Array(8)), { code: 'EDECODE' });
  assert.throws(() => decodeDbr(DBR.CTRL_DOUBLE, 1, new Uint8Array(80)), { code: 'EDECODE' });
  assert.throws(() => decodeDbr(99, 1, new Uint8Array(8)), { code: 'EDECODE' });
});

test('EPICS epoch timestamps', () => {
  assert.equal(EPICS_EPOCH_OFFSET, Date.UTC(1990, 0, 1) / 1000);
  const t = epicsTimeFromMs(Date.UTC(2026, 10, 21, 12, 0, 0, 250) + 0.5);
  assert.equal(t.secondsPastEpoch, Date.UTC(2026, 10, 21, 12) / 1000 - 631152000);
  assert.equal(t.nanoseconds, 250_500_000);
  assert.equal(epicsTimeToMs(t), Date.UTC(2026, 10, 21, 12, 0, 0) + 250.5);
  assert.equal(epicsTimeToDate({ secondsPastEpoch: 0, nanoseconds: 0 }).toISOString(), '1990-01-01T00:00:00.000Z');
  assert.deepEqual(epicsTimeFromDate(new Date('1990-01-01T00:00:01.500Z')), { secondsPastEpoch: 1, nanoseconds: 500_000_000 });
  assert.deepEqual(epicsTimeFromMs(0), { secondsPastEpoch: 0, nanoseconds: 0 }, 'before the EPICS epoch clamps to zero');
});
