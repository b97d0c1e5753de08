import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rttStats } from '../../../src/lib/probe/stats';

test('min/avg/max, iputils mdev, jitter as mean absolute consecutive difference', () => {
  const s = rttStats([1, 3, 2, 6], 5);
  assert.equal(s.packet_send, 5);
  assert.equal(s.packet_receive, 4);
  assert.equal(s.packet_loss, 1);
  assert.equal(s.loss_percent, 20);
  assert.equal(s.min_time, 1);
  assert.equal(s.max_time, 6);
  assert.equal(s.avg_time, 3);
  // population standard deviation: sqrt((4+0+1+9)/4) = sqrt(3.5)
  assert.equal(s.mdev, Math.round(Math.sqrt(3.5) * 1000) / 1000);
  // |3-1| + |2-3| + |6-2| = 7, over 3 differences
  assert.equal(s.jitter, Math.round((7 / 3) * 1000) / 1000);
});

test('matches iputils summary for a recorded run', () => {
  // iputils-v4.txt: rtt min/avg/max/mdev = 0.038/0.063/0.123/0.034 ms
  const s = rttStats([0.123, 0.038, 0.048, 0.046], 4);
  assert.equal(s.min_time, 0.038);
  assert.ok(Math.abs(s.avg_time - 0.063) <= 0.0011);
  assert.equal(s.max_time, 0.123);
  assert.ok(Math.abs(s.mdev - 0.034) <= 0.0011);
});

test('no replies: −1 times, 100 % loss; one reply: zero jitter; nothing sent: 0 %', () => {
  const none = rttStats([], 3);
  assert.deepEqual([none.min_time, none.avg_time, none.max_time, none.loss_percent, none.packet_loss], [-1, -1, -1, 100, 3]);
  const one = rttStats([0.5], 1);
  assert.equal(one.jitter, 0);
  assert.equal(one.mdev, 0);
  assert.equal(rttStats([], 0).loss_percent, 0);
  // received can never exceed sent
  assert.equal(rttStats([1, 2], 1).packet_send, 2);
});
