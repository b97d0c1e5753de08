/**
 * Search scheduling on a fake clock: packing into full datagrams, the back-off, the send window,
 * reset on a beacon anomaly, stale entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SearchScheduler, searchMessageSize, MAX_UDP_SEND, HEADER_SIZE, type Searchable } from '../../../../src/lib/epics/ca';

class Ch implements Searchable {
  searchLane = -1;
  searchToken = 0;
  searchCount = 0;
  constructor(readonly name: string, readonly cid: number) {}
}

const noJitter = (): number => 0;

test('first searches go out at once, packed into datagrams of at most 1024 bytes', () => {
  const s = new SearchScheduler<Ch>({ random: noJitter, initialWindow: 1000, maxWindow: 1000 });
  const chans = Array.from({ length: 1000 }, (_, i) => new Ch(`BENCH:PV:${String(i).padStart(5, '0')}`, i + 1));
  for (const c of chans) s.add(c, 0);
  assert.equal(s.scheduled, 1000);
  const batches = s.tick(0);
  const per = Math.floor((MAX_UDP_SEND - HEADER_SIZE) / searchMessageSize(chans[0]!.name));
  assert.equal(batches.length, Math.ceil(1000 / per));
  const seen = batches.flatMap((b) => b.items.map((c) => c.cid));
  assert.deepEqual(seen, chans.map((c) => c.cid), 'every channel once, in order');
  for (const b of batches) {
    const size = HEADER_SIZE + b.items.reduce((n, c) => n + searchMessageSize(c.name), 0);
    assert.ok(size <= MAX_UDP_SEND);
  }
  assert.deepEqual(batches.map((b) => b.sequence), batches.map((_, i) => i), 'sequence numbers count up');
  assert.equal(s.stats.searches, 1000);
  assert.equal(s.stats.repeats, 0);
});

test('back-off: 32 ms after the first search, doubling, capped at the maximum period', () => {
  const s = new SearchScheduler<Ch>({ random: noJitter, maxPeriodMs: 1000, windowed: false });
  const c = new Ch('MISSING', 1);
  s.add(c, 0);
  const times: number[] = [];
  let now = 0;
  for (let k = 0; k < 10; k++) {
    const b = s.tick(now);
    if (b.length) times.push(now);
    const w = s.nextWake(now);
    assert.ok(w !== undefined);
    now += w;
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.deepEqual(gaps, [32, 64, 128, 256, 512, 1000, 1000, 1000, 1000]);
  assert.equal(s.stats.repeats, 9);
});

test('the send window holds datagrams back until replies (or slot timeouts) free slots', () => {
  const s = new SearchScheduler<Ch>({ random: noJitter, initialWindow: 4, maxWindow: 8 });
  const chans = Array.from({ length: 400 }, (_, i) => new Ch(`NAME${String(i).padStart(4, '0')}`, i + 1));
  for (const c of chans) s.add(c, 0);
  let b = s.tick(0);
  assert.equal(b.length, 4);
  assert.equal(s.inFlight, 4);
  assert.equal(s.tick(0).length, 0, 'window full');
  // Two replies: two slots free, and the window grows by one per reply.
  s.reply(b[0]!.sequence, 1);
  s.reply(b[1]!.sequence, 1);
  assert.equal(s.window, 6);
  b = s.tick(1);
  assert.equal(b.length, 4);
  // A reply for a sequence we never sent (or already expired) changes nothing.
  s.reply(9999, 2);
  assert.equal(s.window, 6);
  // Nothing answers: slots expire after slotTimeout; the window halves (no reply meanwhile).
  const wake = s.nextWake(3)!;
  assert.ok(wake >= 10, `waits for the slot timeout, not busy (${wake} ms)`);
  const t = 1 + s.slotTimeout() + 1;
  s.tick(t);
  assert.ok(s.stats.slotTimeouts >= 4);
  assert.ok(s.window <= 6);
  assert.ok(s.window >= 2);
});

test('remove() and re-add(): stale lane entries are skipped', () => {
  const s = new SearchScheduler<Ch>({ random: noJitter, windowed: false });
  const a = new Ch('A', 1);
  const b = new Ch('B', 2);
  s.add(a, 0);
  s.add(b, 0);
  s.remove(a);
  assert.equal(s.scheduled, 1);
  assert.deepEqual(s.tick(0).flatMap((x) => x.items.map((c) => c.name)), ['B']);
  s.add(a, 0, 100);
  s.add(a, 0, 5); // rescheduled: only the newest entry counts
  assert.equal(s.scheduled, 2);
  assert.equal(s.nextWake(0), 5);
  assert.deepEqual(s.tick(5).flatMap((x) => x.items.map((c) => c.name)), ['A']);
  s.remove(b);
  s.remove(a);
  assert.equal(s.scheduled, 0);
  assert.equal(s.nextWake(5), undefined);
});

test('reset() (beacon anomaly) brings every waiting channel back to an immediate search', () => {
  const s = new SearchScheduler<Ch>({ random: () => 0.5, windowed: false, maxPeriodMs: 60_000 });
  const chans = Array.from({ length: 10 }, (_, i) => new Ch(`X${i}`, i + 1));
  for (const c of chans) s.add(c, 0);
  let now = 0;
  for (let k = 0; k < 8; k++) {
    s.tick(now);
    now += s.nextWake(now)!;
  }
  assert.ok(s.nextWake(now)! > 1000 || s.nextWake(now) === 0);
  assert.equal(s.reset(now, 50), 10);
  assert.equal(s.nextWake(now), 25, 'spread by the jitter (0.5 x 50 ms)');
  const b = s.tick(now + 25);
  assert.equal(b.flatMap((x) => x.items).length, 10);
  assert.ok(chans.every((c) => c.searchCount === 1), 'back-off started over');
});

test('datagrams that do not go out over UDP (name servers only) take no window slot', () => {
  const s = new SearchScheduler<Ch>({ random: noJitter, initialWindow: 2, maxWindow: 2, minWindow: 2 });
  const chans = Array.from({ length: 500 }, (_, i) => new Ch(`NS:PV:${String(i).padStart(5, '0')}`, i + 1));
  for (const c of chans) s.add(c, 0);
  const batches = s.tick(0, false);
  assert.equal(batches.flatMap((b) => b.items).length, 500, 'every name in one tick: no window');
  assert.ok(batches.length > 2);
  assert.equal(s.inFlight, 0, 'nothing counted in flight');
  assert.equal(s.window, 2);
  // Once UDP is back, the window applies again.
  for (const c of chans) s.add(c, 1000);
  assert.equal(s.tick(1000).length, 2);
  assert.equal(s.inFlight, 2);
});
