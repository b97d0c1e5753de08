/** The DNS probe against a DNS server this test runs on 127.0.0.1 (test/helpers/dns-server.ts). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { dnsProbe, parseServer } from '../../../src/lib/probe/dns';
import { startDnsServer, type TestDnsServer } from '../../helpers/dns-server';
/** The failure fields of a result (absent on success). */
const f = (r: { data: object }): { errorcode?: number; errorinfo?: string; reason?: string; rcode?: string; refused?: number; loss_percent?: number } => r.data as never;

let srv: TestDnsServer;
let server: string;
before(async () => {
  srv = await startDnsServer();
  server = `127.0.0.1:${srv.port}`;
});
after(() => srv.close());

test('A: every address with its TTL, ptime, server, rcode', async () => {
  const r = await dnsProbe({ name: 'host.test', type: 'A', server });
  assert.equal(r.status, 0);
  const d = r.data;
  assert.deepEqual(d.ips, [{ ip: '127.0.0.1', ttl: 300 }, { ip: '127.0.0.2', ttl: 300 }]);
  assert.deepEqual(d.dns_server, { ip: '127.0.0.1', port: srv.port });
  assert.equal(d.rcode, 'NOERROR');
  assert.equal(d.transport, 'udp');
  assert.ok(d.ptime! > 0 && d.ptime! < 1000);
});

test('AAAA, MX, NS, TXT, SRV, CNAME, PTR (from an IP address)', async () => {
  const one = async (name: string, type: string): Promise<unknown> => {
    const r = await dnsProbe({ name, type, server });
    assert.equal(r.status, 0, `${type} ${name}: ${JSON.stringify(r.data)}`);
    return r.data.answers![0];
  };
  assert.deepEqual(await one('host.test', 'AAAA'), { name: 'host.test', type: 'AAAA', ttl: 120, data: '::1' });
  assert.deepEqual(await one('host.test', 'MX'), { name: 'host.test', type: 'MX', ttl: 600, data: { preference: 10, exchange: 'mail.host.test' } });
  assert.deepEqual(await one('host.test', 'NS'), { name: 'host.test', type: 'NS', ttl: 3600, data: 'ns1.host.test' });
  assert.deepEqual(await one('host.test', 'TXT'), { name: 'host.test', type: 'TXT', ttl: 60, data: { strings: ['v=fieldlink'], text: 'v=fieldlink' } });
  assert.deepEqual(await one('_modbus._tcp.host.test', 'SRV'), { name: '_modbus._tcp.host.test', type: 'SRV', ttl: 90, data: { priority: 1, weight: 5, port: 502, target: 'plc.host.test' } });
  assert.deepEqual(await one('alias.test', 'CNAME'), { name: 'alias.test', type: 'CNAME', ttl: 30, data: 'host.test' });
  assert.deepEqual(await one('127.0.0.1', 'ptr'), { name: '1.0.0.127.in-addr.arpa', type: 'PTR', ttl: 86400, data: 'localhost' });
});

test('truncated UDP answer is retried over TCP', async () => {
  const r = await dnsProbe({ name: 'big.test', type: 'TXT', server });
  assert.equal(r.status, 0);
  assert.equal(r.data.transport, 'tcp');
  assert.equal(r.data.answers!.length, 40);
});

test('NXDOMAIN, empty answer, SERVFAIL, REFUSED, timeout, unreachable: failure results', async () => {
  const nx = await dnsProbe({ name: 'nowhere.test', server });
  assert.equal(nx.status, 1);
  assert.equal(f(nx).errorcode, 6);
  assert.equal(f(nx).rcode, 'NXDOMAIN');
  assert.match((nx.data as { errorinfo: string }).errorinfo, /NXDOMAIN/);
  const empty = await dnsProbe({ name: 'alias.test', type: 'MX', server });
  assert.equal(f(empty).errorcode, 6);
  const sf = await dnsProbe({ name: 'servfail.test', server });
  assert.deepEqual([sf.status, f(sf).errorcode, f(sf).rcode], [1, 122, 'SERVFAIL']);
  const rf = await dnsProbe({ name: 'refused.test', server });
  assert.equal(f(rf).rcode, 'REFUSED');
  const t0 = Date.now();
  const to = await dnsProbe({ name: 'silent.test', server, timeout: 300 });
  assert.equal(f(to).errorcode, 28);
  assert.ok(Date.now() - t0 >= 280);
  // A closed UDP port on loopback: ICMP port unreachable → ECONNREFUSED on the connected socket.
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const closedPort = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const un = await dnsProbe({ name: 'host.test', server: `127.0.0.1:${closedPort}`, timeout: 2000 });
  assert.equal(un.status, 1);
  assert.ok([7, 28].includes(f(un).errorcode!), `unreachable → 7 (or 28 if ICMP is filtered): ${JSON.stringify(un.data)}`);
});

test('system resolver: localhost A through getaddrinfo (hosts file), no network', async () => {
  const r = await dnsProbe({ name: 'localhost', type: 'A' });
  assert.equal(r.status, 0, JSON.stringify(r.data));
  assert.ok(r.data.ips!.some((i) => i.ip === '127.0.0.1'));
  assert.equal(r.data.transport, 'system');
  assert.equal(r.data.ips![0]!.ttl, null);
});

test('bad input is a failure result naming the problem', async () => {
  for (const [o, re] of [
    [{ name: 'host.test', type: 'HINFO', server }, /record type/],
    [{ name: '', server }, /invalid DNS name/],
    [{ name: 'a..b', server }, /invalid DNS name/],
    [{ name: 5, server }, /name must be a string/],
    [{ name: 'host.test', server: 'dns.example' }, /DNS server must be an IP/],
    [{ name: 'host.test', server, timeout: -1 }, /timeout/],
  ] as const) {
    const r = await dnsProbe(o as never);
    assert.equal(r.status, 1);
    assert.equal(f(r).errorcode, 3);
    assert.match((r.data as { errorinfo: string }).errorinfo, re as RegExp);
  }
  assert.deepEqual(parseServer('[::1]:5353'), { ip: '::1', port: 5353 });
  assert.deepEqual(parseServer('::1'), { ip: '::1', port: 53 });
  assert.deepEqual(parseServer('127.0.0.1'), { ip: '127.0.0.1', port: 53 });
});

test('a name the encoder refuses and an IPv4-mapped PTR are results, never exceptions', async () => {
  const long = await dnsProbe({ name: 'é'.repeat(40), type: 'MX', server });
  assert.equal(long.status, 1);
  assert.equal(f(long).errorcode, 3);
  assert.match(f(long).errorinfo!, /invalid DNS name/);
  const mapped = await dnsProbe({ name: '::ffff:127.0.0.1', type: 'PTR', server });
  assert.equal(f(mapped).errorcode, 6, JSON.stringify(mapped.data));
  assert.match(f(mapped).errorinfo!, /^1\.0\.0\.0\.0\.0\.f\.7\.f\.f\.f\.f\.0(\.0){19}\.ip6\.arpa: no such name/);
});

test('a failed UDP connect ends in 7 with the socket closed, not an uncaught exception', async () => {
  // Node passes a failed connect (lookup or bind error) to the callback; simulate one.
  const connect = UdpSocket.prototype.connect;
  UdpSocket.prototype.connect = function (_port: number, _address?: string, cb?: (err?: Error) => void): void {
    process.nextTick(() => cb?.(Object.assign(new Error('connect EINVAL'), { code: 'EINVAL' })));
  } as typeof connect;
  const udp = (): number => process.getActiveResourcesInfo().filter((t) => t === 'UDPWrap').length;
  const settle = (): Promise<unknown> => new Promise((res) => setTimeout(res, 20)); // closed handles go at the loop's close phase
  await settle();
  const before = udp();
  let r;
  try {
    r = await dnsProbe({ name: 'host.test', server, timeout: 2000 });
  } finally {
    UdpSocket.prototype.connect = connect;
  }
  assert.equal(f(r).errorcode, 7, JSON.stringify(r.data));
  assert.match(f(r).errorinfo!, /cannot connect to 127\.0\.0\.1:\d+: connect EINVAL/);
  await settle();
  assert.equal(udp(), before);
});

test('an already aborted signal ends the probe at once (UDP and system resolver)', async () => {
  const ac = new AbortController();
  ac.abort();
  const t0 = Date.now();
  const udp = await dnsProbe({ name: 'silent.test', server, timeout: 3000, signal: ac.signal });
  assert.equal(f(udp).errorcode, 42, JSON.stringify(udp.data));
  const sys = await dnsProbe({ name: 'localhost', type: 'A', signal: ac.signal });
  assert.equal(sys.status, 1);
  assert.equal(f(sys).errorcode, 42, JSON.stringify(sys.data));
  assert.ok(Date.now() - t0 < 2000);
});
