/**
 * The stream framer fed every captured CA stream split at every byte position (and byte by
 * byte): it must deliver exactly the frames of the unsplit stream, ask for the right number of
 * bytes, and never throw on partial input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { CaFramer, DBR, encodeReadNotifyResponse, type CaFrame } from '../../../../src/lib/epics/ca';
import { vectorsDir } from '../../../helpers/env';
import { decodeCapture } from './capture';
import { concat } from './hex';

function sig(frames: CaFrame[]): string[] {
  return frames.map((f) => `${JSON.stringify(f.header)}:${Buffer.from(f.payload).toString('hex')}`);
}

function frameAll(chunks: Uint8Array[]): CaFrame[] {
  const f = new CaFramer();
  const out: CaFrame[] = [];
  for (const c of chunks) {
    f.push(c);
    for (;;) {
      const r = f.next();
      if ('need' in r) {
        assert.ok(r.need > 0);
        break;
      }
      // Copy: later pushes must not be able to change a delivered frame's bytes.
      out.push({ ...r.frame, payload: r.frame.payload.slice() });
    }
  }
  assert.equal(f.buffered, 0, 'no bytes left over');
  return out;
}

const files = readdirSync(vectorsDir).filter((f) => f.startsWith('ca-') && f.endsWith('.pcap'));

test('every CA capture stream frames identically when split at every byte position', () => {
  assert.ok(files.length >= 10);
  let checked = 0;
  for (const file of files) {
    for (const s of decodeCapture(file).streams) {
      const whole = sig(frameAll([s.data]));
      assert.ok(whole.length > 0);
      for (let cut = 1; cut < s.data.length; cut++) {
        const got = sig(frameAll([s.data.subarray(0, cut), s.data.subarray(cut)]));
        if (got.length !== whole.length || got.some((g, i) => g !== whole[i])) assert.fail(`${file}: split at ${cut} changed the frames`);
        checked++;
      }
    }
  }
  assert.ok(checked > 10_000);
});

test('byte-by-byte feeding: need counts are exact', () => {
  const s = decodeCapture('ca-get-ctrl-enum.pcap').streams.find((x) => x.fromServer)!;
  const f = new CaFramer();
  let frames = 0;
  let expectNeed: number | undefined;
  for (let i = 0; i < s.data.length; i++) {
    if (expectNeed !== undefined) assert.ok(expectNeed >= 1);
    f.push(s.data.subarray(i, i + 1));
    for (;;) {
      const r = f.next();
      if ('need' in r) {
        expectNeed = r.need;
        break;
      }
      frames++;
    }
  }
  assert.equal(frames, 5); // VERSION, ACCESS_RIGHTS, CREATE_CHAN, READ_NOTIFY, CLEAR_CHANNEL
});

test('a frame spanning chunks is one owned copy; the next frame is untouched', () => {
  const n = 20_000;
  const value = Float64Array.from({ length: n }, (_, i) => i);
  const big = encodeReadNotifyResponse({ ioid: 1, dataType: DBR.DOUBLE, count: n, data: { value } });
  const small = encodeReadNotifyResponse({ ioid: 2, dataType: DBR.DOUBLE, count: 1, data: { value: [7] } });
  const stream = concat(big, small);
  const f = new CaFramer();
  for (let o = 0; o < stream.length; o += 4096) f.push(stream.subarray(o, o + 4096));
  const a = f.next();
  assert.ok('frame' in a);
  assert.equal(a.frame.owned, true);
  assert.equal(a.frame.payload.length, n * 8);
  const b = f.next();
  assert.ok('frame' in b);
  assert.equal(b.frame.header.param2, 2);
  assert.deepEqual(f.next(), { need: 16 });
  // One chunk holding the whole frame: a view, not owned.
  const g = new CaFramer();
  g.push(small);
  const c = g.next();
  assert.ok('frame' in c);
  assert.equal(c.frame.owned, false);
  assert.equal(c.frame.payload.buffer, small.buffer);
});

test('extended header split across chunks asks for the 8 extra header bytes', () => {
  const m = encodeReadNotifyResponse({ ioid: 1, dataType: DBR.CHAR, count: 70_000, data: { value: new Uint8Array(70_000) } });
  const f = new CaFramer();
  f.push(m.subarray(0, 18));
  assert.deepEqual(f.next(), { need: 6 });
  f.push(m.subarray(18, 24));
  assert.deepEqual(f.next(), { need: 70_000 });
  f.push(m.subarray(24));
  const r = f.next();
  assert.ok('frame' in r);
  assert.equal(r.frame.header.count, 70_000);
});
