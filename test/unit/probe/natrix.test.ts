import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  looksLikeNatrixCommand, parseNatrixCommand, natrixPingParams, natrixHttpParams, natrixDnsParams, natrixEnvelope, parseHeaderParam,
} from '../../../src/lib/probe/natrix';

const cmd = { uuid: 'u-1', terminal: 'b827eb000001', protocol: 'PING', destination: '127.0.0.1', parameters: { count: 2, timeout: 1, packet_size: 32 }, generate_timestamp: 1700000000.25 };

test('detection: two of uuid/protocol/destination make a command', () => {
  assert.ok(looksLikeNatrixCommand(cmd));
  assert.ok(looksLikeNatrixCommand({ protocol: 'http', destination: 'x' }));
  assert.ok(!looksLikeNatrixCommand({ destination: 'x' }));
  assert.ok(!looksLikeNatrixCommand('PING'));
  assert.ok(!looksLikeNatrixCommand(null));
  assert.ok(!looksLikeNatrixCommand([1, 2]));
  assert.ok(!looksLikeNatrixCommand(Buffer.from('uuid protocol')));
});

test('a valid command parses; protocol case-insensitive; parameters may be JSON text', () => {
  const r = parseNatrixCommand(cmd);
  assert.ok(r.ok);
  assert.equal(r.command.protocol, 'ping');
  assert.equal(r.command.generate_timestamp, 1700000000.25);
  const j = parseNatrixCommand({ ...cmd, parameters: '{"count":5}', generate_timestamp: '1700000001' });
  assert.ok(j.ok);
  assert.equal(j.command.parameters.count, 5);
  assert.equal(j.command.generate_timestamp, 1700000001);
});

test('malformed commands are refused with the field named', () => {
  for (const [bad, re] of [
    [{ ...cmd, uuid: undefined }, /uuid/],
    [{ ...cmd, protocol: 7 }, /protocol must be a string/],
    [{ ...cmd, protocol: 'smtp' }, /unknown protocol/],
    [{ ...cmd, destination: '' }, /destination/],
    [{ ...cmd, destination: { host: 'x' } }, /destination/],
    [{ ...cmd, parameters: [1] }, /parameters must be an object/],
    [{ ...cmd, parameters: '{nope' }, /not JSON/],
    [{ ...cmd, generate_timestamp: 'yesterday' }, /generate_timestamp/],
    [{ ...cmd, terminal: 5 }, /terminal/],
  ] as const) {
    const r = parseNatrixCommand(bad as Record<string, unknown>);
    assert.equal(r.ok, false);
    assert.match((r as { error: string }).error, re);
  }
  const r = parseNatrixCommand({ ...cmd, protocol: 'smtp' });
  assert.deepEqual(r.command, { uuid: 'u-1', terminal: 'b827eb000001' });
});

test('ping parameters: natrix spellings, TCP by port, wrong types named', () => {
  assert.deepEqual(natrixPingParams({ count: 2, timeout: 1, packet_size: 32, interface: 'lo' }), {
    mode: undefined, count: 2, timeout: 1, interval: undefined, deadline: undefined, size: 32, ttl: undefined, iface: 'lo', family: undefined, port: undefined,
  });
  assert.equal(natrixPingParams({ port: 502 }).mode, 'tcp');
  assert.equal(natrixPingParams({ count: '4' }).count, 4);
  assert.equal(natrixPingParams({ family: 'ipv6' }).family, 6);
  assert.throws(() => natrixPingParams({ count: 'many' }), /parameters\.count must be a number/);
  assert.throws(() => natrixPingParams({ count: 0 }), /parameters\.count must be between/);
  assert.throws(() => natrixPingParams({ mode: 'udp' }), /parameters\.mode/);
  assert.throws(() => natrixPingParams({ interface: 3 }), /parameters\.interface must be a string/);
});

test('http parameters: operation, seconds to ms, basic auth from auth_user, headers in three spellings', () => {
  const p = natrixHttpParams({
    operation: 'post', timeout: 3, connect_timeout: 1, allow_redirects: 'false', max_redirects: 2, save_response_body: true,
    auth_type: 'basic', auth_user: 'guest:gu:est', http_header: 'content-type:application/json', http_body: { a: 1 }, prototol: 'HTTP1.1',
  });
  assert.equal(p.method, 'POST');
  assert.equal(p.timeout, 3000);
  assert.equal(p.connectTimeout, 1000);
  assert.equal(p.followRedirects, false);
  assert.equal(p.maxRedirects, 2);
  assert.deepEqual(p.auth, { type: 'basic', user: 'guest', password: 'gu:est' });
  assert.deepEqual(p.headers, { 'content-type': 'application/json' });
  assert.equal(p.body, '{"a":1}');
  assert.deepEqual(parseHeaderParam('{"Accept":"text/plain"}'), { Accept: 'text/plain' });
  assert.deepEqual(parseHeaderParam('A: 1\nB: 2'), { A: '1', B: '2' });
  assert.deepEqual(parseHeaderParam({ X: 1 }), { X: '1' });
  assert.throws(() => parseHeaderParam('no colon'), /Name: value/);
  assert.throws(() => natrixHttpParams({ operation: 'fetch' }), /operation/);
  assert.throws(() => natrixHttpParams({ prototol: 'HTTP2.0' }), /only HTTP\/1/);
  assert.throws(() => natrixHttpParams({ auth_user: 'nocolon' }), /user:password/);
  assert.throws(() => natrixHttpParams({ auth_user: 'a:b', auth_type: 'digest' }), /only basic/);
  assert.throws(() => natrixHttpParams({ timeout: 'soon' }), /parameters\.timeout/);
  assert.throws(() => natrixHttpParams({ allow_redirects: 'maybe' }), /allow_redirects/);
});

test('dns parameters: dns_method/dns_timeout (client) and timeout/is_default (server)', () => {
  assert.deepEqual(natrixDnsParams({ dns_method: 'mx', dns_timeout: 2, dns_server: '127.0.0.1:5353' }), { type: 'MX', server: '127.0.0.1:5353', timeout: 2000 });
  assert.deepEqual(natrixDnsParams({ is_default: true, dns_server: '127.0.0.1', timeout: 1 }), { type: undefined, server: '', timeout: 1000 });
  assert.throws(() => natrixDnsParams({ dns_timeout: [] }), /dns_timeout/);
});

test('envelope: command head, status, data and the five stamp times', () => {
  const r = parseNatrixCommand(cmd);
  assert.ok(r.ok);
  const env = natrixEnvelope(r.command, { status: 0, data: { x: 1 } }, { received: 10, sent: 11, answered: 12 }, 13);
  assert.deepEqual(env, {
    command: { uuid: 'u-1', terminal: 'b827eb000001' },
    status: 0,
    data: { x: 1 },
    stamp: {
      server_request_generate_time: 1700000000.25,
      terminal_request_receive_time: 10,
      terminal_request_send_time: 11,
      terminal_response_receive_time: 12,
      terminal_response_return_time: 13,
    },
  });
});
