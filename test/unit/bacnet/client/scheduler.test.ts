/**
 * RequestScheduler: per-device and per-network limits, round robin across devices, the global
 * cap, priority lanes, write coalescing, cancellation and back-pressure, with jobs the test
 * completes by hand (no network, no clock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestScheduler, SchedulerFullError } from '../../../../src/lib/bacnet/client/scheduler';
import { CancelledError } from '../../../../src/lib/bacnet/errors';

/** Jobs that record when they start and finish when the test says so. */
function harness() {
  const started: string[] = [];
  const pending = new Map<string, (v: string) => void>();
  const job = (name: string) => () => {
    started.push(name);
    return new Promise<string>((resolve) => pending.set(name, resolve));
  };
  const finish = async (name: string): Promise<void> => {
    const f = pending.get(name);
    assert.ok(f, `${name} is not running`);
    pending.delete(name);
    f(`${name}-done`);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  };
  return { started, pending, job, finish };
}

const tick = () => new Promise((r) => setImmediate(r));

test('one request per device by default; the next starts when the first completes', async () => {
  const s = new RequestScheduler();
  const h = harness();
  const a1 = s.submit('A', h.job('a1'));
  const a2 = s.submit('A', h.job('a2'));
  await tick();
  assert.deepEqual(h.started, ['a1']);
  await h.finish('a1');
  assert.equal(await a1, 'a1-done');
  assert.deepEqual(h.started, ['a1', 'a2']);
  await h.finish('a2');
  assert.equal(await a2, 'a2-done');
  assert.deepEqual(s.stats(), { running: 0, queued: 0, devices: 0, completed: 2, coalesced: 0, cancelled: 0, refused: 0 });
});

test('devices are served round robin within the global cap', async () => {
  const s = new RequestScheduler({ maxInFlight: 1 });
  const h = harness();
  for (let i = 1; i <= 3; i++) for (const d of ['A', 'B', 'C']) void s.submit(d, h.job(`${d}${i}`));
  await tick();
  for (let k = 0; k < 8; k++) await h.finish(h.started[h.started.length - 1]!);
  assert.deepEqual(h.started, ['A1', 'B1', 'C1', 'A2', 'B2', 'C2', 'A3', 'B3', 'C3']);
});

test('lanes: a write overtakes queued polls and discovery, COV comes before polls', async () => {
  const s = new RequestScheduler({ maxInFlight: 1 });
  const h = harness();
  void s.submit('A', h.job('poll1'), { lane: 'poll' });
  void s.submit('A', h.job('disc'), { lane: 'discovery' });
  void s.submit('B', h.job('poll2'), { lane: 'poll' });
  void s.submit('B', h.job('cov'), { lane: 'cov' });
  void s.submit('C', h.job('write'), { lane: 'write' });
  await tick();
  for (let k = 0; k < 4; k++) await h.finish(h.started[h.started.length - 1]!);
  assert.deepEqual(h.started, ['poll1', 'write', 'cov', 'poll2', 'disc']);
});

test('repeated writes to one point coalesce while queued: the latest runs, every caller gets its outcome', async () => {
  const s = new RequestScheduler();
  const h = harness();
  const first = s.submit('A', h.job('busy'));
  const w1 = s.submit('A', h.job('w=1'), { lane: 'write', coalesce: 'av:1|pv|8' });
  const w2 = s.submit('A', h.job('w=2'), { lane: 'write', coalesce: 'av:1|pv|8' });
  const w3 = s.submit('A', h.job('w=3'), { lane: 'write', coalesce: 'av:1|pv|8' });
  const other = s.submit('A', h.job('other'), { lane: 'write', coalesce: 'av:2|pv|8' });
  await h.finish('busy');
  await first;
  assert.deepEqual(h.started, ['busy', 'w=3']);
  await h.finish('w=3');
  assert.deepEqual(await Promise.all([w1, w2, w3]), ['w=3-done', 'w=3-done', 'w=3-done']);
  await h.finish('other');
  assert.equal(await other, 'other-done');
  assert.equal(s.stats().coalesced, 2);
});

test('per-device and per-remote-network limits are configurable', async () => {
  const s = new RequestScheduler({ perDevice: 2, perRemoteNetwork: 1 });
  const h = harness();
  void s.submit('A', h.job('a1'));
  void s.submit('A', h.job('a2'));
  void s.submit('A', h.job('a3'));
  void s.submit('net5:01', h.job('m1'), { networkKey: 'r|5' });
  void s.submit('net5:02', h.job('m2'), { networkKey: 'r|5' });
  await tick();
  assert.deepEqual(h.started.sort(), ['a1', 'a2', 'm1']);
  await h.finish('m1');
  assert.ok(h.started.includes('m2'));
  await h.finish('a1');
  assert.ok(h.started.includes('a3'));
});

test('a queued job leaves on abort; a full queue refuses at once; close cancels what waits', async () => {
  const s = new RequestScheduler({ maxQueued: 2 });
  const h = harness();
  void s.submit('A', h.job('run'));
  const ac = new AbortController();
  const q1 = s.submit('A', h.job('q1'), { signal: ac.signal });
  const q2 = s.submit('A', h.job('q2'));
  await assert.rejects(s.submit('A', h.job('q3')), SchedulerFullError);
  ac.abort();
  await assert.rejects(q1, CancelledError);
  assert.equal(s.stats().queued, 1);
  s.close();
  await assert.rejects(q2, CancelledError);
  await assert.rejects(s.submit('A', h.job('late')), CancelledError);
  assert.deepEqual(h.started, ['run']);
});

test('a job that throws synchronously rejects its caller and frees its slot', async () => {
  const s = new RequestScheduler();
  await assert.rejects(s.submit('A', () => { throw new Error('boom'); }), /boom/);
  assert.equal(await s.submit('A', async () => 7), 7);
});
