/** Live ICMP through the system ping to 127.0.0.1 and ::1 (and BusyBox's ping when installed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { haveCommand, peerSkip } from '../../helpers/env';
import { PingRunner, detectFlavour, type PingData } from '../../../src/lib/probe/ping';

function iputilsPingWorks(): boolean {
  if (!haveCommand('ping')) return false;
  try {
    execFileSync('ping', ['-n', '-c', '1', '-W', '1', '127.0.0.1'], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
    return true;
  } catch {
    return false;
  }
}
const skip = peerSkip('iputils-ping (a permitted ping)', iputilsPingWorks());

test('ping 127.0.0.1 and ::1: every reply parsed, statistics computed', { skip }, async () => {
  assert.equal(await detectFlavour(), 'iputils');
  const runner = new PingRunner();
  for (const [host, family] of [['127.0.0.1', 4], ['::1', 6]] as const) {
    const r = await runner.run({ host, family, count: 3, interval: 0.2, timeout: 1 });
    assert.equal(r.status, 0, JSON.stringify(r.data));
    const d = r.data as PingData;
    assert.equal(d.destination_ip, host);
    assert.equal(d.packet_send, 3);
    assert.equal(d.packet_receive, 3);
    assert.equal(d.packet_loss, 0);
    assert.equal(d.rtts.length, 3);
    assert.ok(d.min_time > 0 && d.max_time < 100 && d.min_time <= d.avg_time && d.avg_time <= d.max_time);
    assert.equal(d.ttl, 64);
  }
  const named = await runner.run({ host: 'localhost', family: 4, count: 1, size: 200, ttl: 3 });
  assert.equal(named.status, 0, JSON.stringify(named.data));
  assert.equal((named.data as PingData).destination_ip, '127.0.0.1');
  assert.equal(runner.active, 0);
});

test('killAll ends running children at once', { skip }, async () => {
  const runner = new PingRunner();
  const p = runner.run({ host: '127.0.0.1', count: 50, interval: 0.2 });
  await new Promise((r) => setTimeout(r, 300));
  const pids = runner.pids();
  assert.equal(pids.length, 1);
  runner.killAll();
  const r = await p;
  assert.equal((r.data as { reason?: string }).reason, 'cancelled');
  assert.equal(runner.active, 0);
  assert.throws(() => process.kill(pids[0]!, 0), /ESRCH/);
});

test('a missing binary is reported in words, suggesting TCP mode', async () => {
  const r = await new PingRunner().run({ host: '127.0.0.1', command: ['/nonexistent/ping'], flavour: 'iputils' });
  assert.equal(r.status, 1);
  assert.equal((r.data as { reason?: string }).reason, 'no-binary');
  assert.match((r.data as { errorinfo: string }).errorinfo, /TCP mode/);
});

test('BusyBox ping: fancy output parsed live', { skip: peerSkip('busybox', haveCommand('busybox')) }, async () => {
  const runner = new PingRunner();
  assert.equal(await detectFlavour(['busybox', 'ping']), 'busybox');
  const r = await runner.run({ host: '127.0.0.1', count: 2, interval: 0.2, command: ['busybox', 'ping'] });
  assert.equal(r.status, 0, JSON.stringify(r.data));
  assert.equal((r.data as PingData).packet_receive, 2);
});
