/**
 * The ping output parser against recorded outputs (test/fixtures/probe/ping: iputils and BusyBox
 * recorded on Linux, see record.sh; macOS, Windows, old iputils and minimal BusyBox written from
 * their documented formats) and the outcome built from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/env';
import { parsePingOutput, PingOutputParser, classifyPingError } from '../../../src/lib/probe/ping-parse';
import { pingOutcome, pingArgs, resolvePingOptions, watchdogMs } from '../../../src/lib/probe/ping';

const dir = join(repoRoot, 'test', 'fixtures', 'probe', 'ping');
const fx = (name: string): string => readFileSync(join(dir, name), 'utf8');

test('iputils IPv4: every reply line, seq, ttl, destination, transmitted', () => {
  const p = parsePingOutput(fx('iputils-v4.txt'));
  assert.deepEqual(p.replies.map((r) => r.time), [0.123, 0.038, 0.048, 0.046]);
  assert.deepEqual(p.replies.map((r) => r.seq), [1, 2, 3, 4]);
  assert.ok(p.replies.every((r) => r.ttl === 64 && r.bytes === 64 && r.from === '127.0.0.1'));
  assert.equal(p.destinationIp, '127.0.0.1');
  assert.equal(p.transmitted, 4);
  assert.deepEqual(p.other, []);
});

test('iputils IPv6 and host names: destination address from the header', () => {
  const v6 = parsePingOutput(fx('iputils-v6.txt'));
  assert.equal(v6.destinationIp, '::1');
  assert.equal(v6.replies.length, 3);
  assert.equal(v6.replies[2]!.time, 0.051);
  const named = parsePingOutput(fx('iputils-name.txt'));
  assert.equal(named.destinationIp, '127.0.0.1');
  assert.equal(named.replies.length, 2);
  const p = new PingOutputParser();
  p.line('PING localhost(ip6-localhost (::1)) 56 data bytes');
  assert.equal(p.result.destinationIp, '::1');
});

test('old iputils icmp_req= lines', () => {
  const p = parsePingOutput(fx('iputils-old-icmp_req.txt'));
  assert.deepEqual(p.replies.map((r) => r.seq), [1, 2, 3]);
  assert.deepEqual(p.replies.map((r) => r.time), [0.04, 0.045, 0.047]);
});

test('duplicates are not counted as received', () => {
  const p = parsePingOutput(fx('iputils-dup.txt'));
  assert.equal(p.replies.length, 3);
  assert.equal(p.duplicates, 2);
  const o = pingOutcome(resolvePingOptions({ host: '127.0.0.1', count: 3 }), p, { exitCode: 0, stderr: '' });
  assert.equal(o.status, 0);
  assert.equal(o.data.packet_receive, 3);
  assert.equal(o.data.packet_loss, 0);
  assert.equal(o.status === 0 && o.data.duplicates, 2);
});

test('partial loss: statistics from the reply lines', () => {
  for (const f of ['iputils-partial-loss.txt', 'busybox-partial-loss.txt']) {
    const p = parsePingOutput(fx(f));
    const o = pingOutcome(resolvePingOptions({ host: '127.0.0.1', count: 8, interval: 0.2 }), p, { exitCode: 0, stderr: '' });
    assert.equal(o.status, 0, f);
    const d = o.data;
    assert.equal(d.packet_send, 8, f);
    assert.equal(d.packet_receive, 5, f);
    assert.equal(d.packet_loss, 3, f);
    assert.equal(d.loss_percent, 37.5, f);
    assert.equal(d.rtts!.length, 5, f);
    assert.equal(d.min_time, Math.min(...d.rtts!), f);
    assert.equal(d.max_time, Math.max(...d.rtts!), f);
  }
});

test('all lost: a failure result that still carries the statistics', () => {
  for (const f of ['iputils-all-lost.txt', 'busybox-all-lost.txt', 'iputils-unreachable.txt']) {
    const p = parsePingOutput(fx(f));
    const o = resolvePingOptions({ host: '127.0.0.1', count: 3 });
    const r = pingOutcome(o, p, { exitCode: 1, stderr: '' });
    assert.equal(r.status, 1, f);
    assert.equal(r.data.errorcode, 140);
    assert.equal((r.data as { reason: string }).reason, 'no-reply', f);
    assert.equal(r.data.packet_receive, 0, f);
    assert.equal(r.data.loss_percent, 100, f);
    assert.equal(r.data.avg_time, -1, f);
    assert.match(r.data.errorinfo, /no reply from 127\.0\.0\.1/);
  }
});

test('BusyBox fancy output, IPv4 and IPv6, seq from 0', () => {
  const p = parsePingOutput(fx('busybox-v4.txt'));
  assert.deepEqual(p.replies.map((r) => r.seq), [0, 1, 2]);
  assert.deepEqual(p.replies.map((r) => r.time), [0.049, 0.071, 0.052]);
  assert.equal(p.transmitted, 3);
  const v6 = parsePingOutput(fx('busybox-v6.txt'));
  assert.equal(v6.destinationIp, '::1');
  assert.equal(v6.replies.length, 2);
});

test('BusyBox minimal: "is alive!" is one reply without a time; "No response" is a loss', () => {
  const o = resolvePingOptions({ host: '127.0.0.1', count: 1 });
  const alive = pingOutcome(o, parsePingOutput(fx('busybox-minimal.txt')), { exitCode: 0, stderr: '' });
  assert.equal(alive.status, 0);
  assert.equal(alive.data.packet_receive, 1);
  assert.equal(alive.data.packet_loss, 0);
  assert.equal(alive.data.avg_time, -1);
  const none = pingOutcome(o, parsePingOutput(fx('busybox-minimal-no-response.txt')), { exitCode: 1, stderr: '' });
  assert.equal(none.status, 1);
  assert.equal(none.data.packet_send, 1);
  assert.equal(none.data.packet_loss, 1);
});

test('macOS ping and ping6 with a timeout line', () => {
  const p = parsePingOutput(fx('macos-v4.txt'));
  assert.deepEqual(p.replies.map((r) => r.seq), [0, 2, 3]);
  assert.equal(p.timeouts, 1);
  assert.equal(p.transmitted, 4);
  const v6 = parsePingOutput(fx('macos-v6.txt'));
  assert.equal(v6.destinationIp, '::1');
  assert.deepEqual(v6.replies.map((r) => [r.seq, r.ttl, r.time]), [[0, 64, 0.071], [1, 64, 0.123]]);
});

test('Windows, English and German, IPv4 and IPv6: time<1ms counts as 0.5 ms', () => {
  const en = parsePingOutput(fx('windows-en.txt'));
  assert.deepEqual(en.replies.map((r) => r.time), [0.5, 2, 0.5]);
  assert.deepEqual(en.replies.map((r) => r.ttl), [128, 128, 128]);
  assert.equal(en.replies[0]!.bytes, 32);
  assert.equal(en.transmitted, 4);
  assert.equal(en.timeouts, 1);
  assert.equal(en.destinationIp, '127.0.0.1');
  const de = parsePingOutput(fx('windows-de.txt'));
  assert.deepEqual(de.replies.map((r) => r.time), [0.5, 3, 1]);
  assert.equal(de.transmitted, 4);
  assert.equal(de.timeouts, 1);
  const v6 = parsePingOutput(fx('windows-v6-en.txt'));
  assert.equal(v6.replies.length, 2);
  assert.equal(v6.replies[0]!.from, '::1');
  assert.equal(v6.transmitted, 2);
  // "Destination host unreachable" replies are not echo replies.
  const un = parsePingOutput(fx('windows-unreachable-en.txt'));
  assert.equal(un.replies.length, 0);
  assert.equal(un.transmitted, 2);
});

test('failures are put in words', () => {
  const o = resolvePingOptions({ host: 'no-such-host.invalid' });
  for (const [f, reason] of [
    ['iputils-unknown-host.txt', 'unknown-host'],
    ['busybox-unknown-host.txt', 'unknown-host'],
    ['macos-unknown-host.txt', 'unknown-host'],
    ['windows-unknown-host.txt', 'unknown-host'],
    ['iputils-permission.txt', 'permission'],
    ['iputils-interval-too-small.txt', 'interval'],
  ] as const) {
    const text = fx(f);
    const r = pingOutcome(o, parsePingOutput(''), { exitCode: 2, stderr: text });
    assert.equal(r.status, 1, f);
    assert.equal((r.data as { reason: string }).reason, reason, f);
  }
  const perm = classifyPingError(fx('iputils-permission.txt'))!;
  assert.match(perm.info, /TCP mode/);
  const enoent = Object.assign(new Error('spawn ping ENOENT'), { code: 'ENOENT' });
  const missing = pingOutcome(o, parsePingOutput(''), { exitCode: null, stderr: '', spawnError: enoent });
  assert.equal((missing.data as { reason: string }).reason, 'no-binary');
  assert.match((missing.data as { errorinfo: string }).errorinfo, /no ping binary.*TCP mode/);
  const garbage = pingOutcome(o, parsePingOutput('hello\nworld\n'), { exitCode: 3, stderr: '' });
  assert.equal((garbage.data as { reason: string }).reason, 'unparseable');
  assert.match((garbage.data as { errorinfo: string }).errorinfo, /hello/);
});

test('every fixture parses without throwing, in chunks of any size', () => {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt'))) {
    const text = fx(f);
    const whole = parsePingOutput(text);
    for (const size of [1, 3, 17]) {
      const p = new PingOutputParser();
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      assert.deepEqual(p.end(), whole, `${f} split every ${size}`);
    }
  }
});

test('arguments: host last, flavour-specific options, -w only on request', () => {
  const o = resolvePingOptions({ host: '::1', family: 6, count: 5, interval: 0.2, timeout: 1.5, size: 100, ttl: 9, iface: 'lo' });
  const a = pingArgs('iputils', o);
  assert.deepEqual(a, ['-n', '-c', '5', '-i', '0.2', '-W', '2', '-s', '100', '-6', '-t', '9', '-I', 'lo', '::1']);
  assert.ok(!a.includes('-w'));
  assert.ok(pingArgs('iputils', resolvePingOptions({ host: 'h', deadline: 7 })).join(' ').includes('-w 7 h'));
  assert.deepEqual(pingArgs('busybox', resolvePingOptions({ host: 'h' })), ['-c', '3', '-s', '56', '-W', '2', 'h']);
  assert.deepEqual(pingArgs('bsd', resolvePingOptions({ host: 'h', ttl: 3 })).slice(-3), ['-m', '3', 'h']);
  assert.deepEqual(pingArgs('windows', resolvePingOptions({ host: 'h', count: 2, timeout: 1 })), ['-n', '2', '-w', '1000', '-l', '56', 'h']);
  assert.equal(watchdogMs(resolvePingOptions({ host: 'h', count: 3, interval: 1, timeout: 2 })), 6000);
});

test('bad options are refused with the option named', () => {
  for (const [opts, re] of [
    [{ host: '-f' }, /not a valid host/],
    [{ host: '127.0.0.1; rm -rf /' }, /not a valid host/],
    [{ host: '' }, /empty/],
    [{ host: 42 }, /must be a host name/],
    [{ host: '127.0.0.1', family: 6 }, /IPv4 address but IPv6/],
    [{ host: 'h', count: 0 }, /count must be between/],
    [{ host: 'h', count: 1.5 }, /whole number/],
    [{ host: 'h', count: '3' }, /count must be a number/],
    [{ host: 'h', ttl: 300 }, /ttl/],
    [{ host: 'h', iface: '-x' }, /interface/],
  ] as const) {
    assert.throws(() => resolvePingOptions(opts as never), re as RegExp);
  }
});
