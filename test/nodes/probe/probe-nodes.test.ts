/**
 * probe-ping, probe-http and probe-dns inside the Node-RED runtime (node-red-node-test-helper):
 * plain msgs and natrix commands, bad input reaching Catch nodes, close/redeploy killing running
 * pings (no orphan `ping` process) and leaving no sockets, timers or children behind.
 */
import { test, afterEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFlow, unload, getNode, nextMessage, waitForCall, helper, nodeModule, type NodeModuleFn, type FlowNode } from '../../helpers/nodered';
import { haveCommand, peerSkip, repoRoot } from '../../helpers/env';
import { startDnsServer, type TestDnsServer } from '../../helpers/dns-server';
import type { NodeMessage } from '../../../nodes/shared/red';

const catchModule = require('@node-red/nodes/core/common/25-catch.js') as NodeModuleFn;
const tlsModule = require('@node-red/nodes/core/network/05-tls.js') as NodeModuleFn;
const pingModule = nodeModule('probe-ping');
const httpModule = nodeModule('probe-http');
const dnsModule = nodeModule('probe-dns');
const mods = [pingModule, httpModule, dnsModule, catchModule, tlsModule];
const tlsDir = join(repoRoot, 'test', 'fixtures', 'probe', 'tls');

function pingWorks(): boolean {
  try {
    execFileSync('ping', ['-n', '-c', '1', '-W', '1', '127.0.0.1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const pingSkip = peerSkip('iputils-ping (a permitted ping)', haveCommand('ping') && pingWorks());

let web: Server;
let webPort: number;
let dns: TestDnsServer;
before(async () => {
  web = createServer((q, s) => {
    if (q.url === '/auth') return void s.end(String(q.headers.authorization ?? ''));
    if (q.url === '/missing') {
      s.statusCode = 404;
      return void s.end('no');
    }
    s.end('demo ok');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as { port: number }).port;
  dns = await startDnsServer();
});
after(async () => {
  web.close();
  await dns.close();
});
afterEach(() => unload());

type Payload = { status: number; data: Record<string, unknown>; command?: { uuid: string; terminal: string }; stamp?: Record<string, number | null> };

function flow(probe: Record<string, unknown>): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'p', z: 'tab', type: String(probe.type), wires: [['out']], ...probe },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

async function roundTrip(msg: NodeMessage, timeoutMs = 8000): Promise<NodeMessage> {
  const p = nextMessage(getNode('out'), timeoutMs);
  getNode('p').receive(msg);
  return p;
}

function pingChildren(): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out.split('\n').filter((l) => /\bping\b/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
}

test('probe-ping: a plain msg pings 127.0.0.1; status text; topic = destination', { skip: pingSkip }, async () => {
  await loadFlow(mods, flow({ type: 'probe-ping', destination: '127.0.0.1', destinationType: 'str', mode: 'icmp', count: 2, interval: 0.2, timeout: 1 }));
  const m = await roundTrip({ payload: 'go' });
  const pl = m.payload as Payload;
  assert.equal(pl.status, 0);
  assert.equal(pl.stamp, undefined);
  assert.equal(pl.data.packet_receive, 2);
  assert.equal(m.topic, '127.0.0.1');
  await waitForCall(getNode('p'), 'status', (a) => /^\d+\.\d+ ms · 0% loss$/.test(String((a[0] as { text?: string }).text)));
});

test('probe-ping: a natrix PING command answers with command, status, data and the five stamps', { skip: pingSkip }, async () => {
  await loadFlow(mods, flow({ type: 'probe-ping', destination: '10.99.99.99', destinationType: 'str', count: 5, interval: 0.2, timeout: 1 }));
  const gen = Date.now() / 1000 - 1;
  const m = await roundTrip({ payload: { uuid: 'c1', terminal: 'aabbccddeeff', protocol: 'PING', destination: '::1', parameters: { count: 2, timeout: 1, interval: 0.2, packet_size: 24 }, generate_timestamp: gen } });
  const pl = m.payload as Payload;
  assert.deepEqual(pl.command, { uuid: 'c1', terminal: 'aabbccddeeff' });
  assert.equal(pl.status, 0, JSON.stringify(pl.data));
  assert.equal(pl.data.destination, '::1');
  assert.equal(pl.data.packet_send, 2);
  assert.equal(pl.data.packet_size, 24);
  const s = pl.stamp!;
  assert.equal(s.server_request_generate_time, gen);
  assert.ok(s.terminal_request_receive_time! <= s.terminal_request_send_time! && s.terminal_request_send_time! <= s.terminal_response_receive_time!);
  assert.ok(s.terminal_response_receive_time! <= s.terminal_response_return_time!);
  assert.equal(m.topic, '::1');
});

test('probe-ping TCP mode: open and closed loopback ports', async () => {
  await loadFlow(mods, flow({ type: 'probe-ping', destination: '127.0.0.1', mode: 'tcp', port: String(webPort), count: 2, interval: 0.05, timeout: 1 }));
  const m = await roundTrip({ payload: 1 });
  const pl = m.payload as Payload;
  assert.equal(pl.status, 0);
  assert.equal(pl.data.method, 'tcp');
  assert.equal(pl.data.port, webPort);
  // natrix command switching to a closed port
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  closed.close();
  const m2 = await roundTrip({ payload: { uuid: 'c2', protocol: 'ping', destination: '127.0.0.1', parameters: { port, count: 1 } } });
  const p2 = m2.payload as Payload;
  assert.equal(p2.status, 1);
  assert.equal(p2.data.errorcode, 140);
  assert.equal(p2.data.reason, 'refused');
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === 'port closed');
});

test('bad input: a bad target and a malformed natrix command reach Catch and still get a result', async () => {
  await loadFlow(mods, flow({ type: 'probe-ping', destination: 'payload', destinationType: 'msg', count: 1 }));
  const caught = nextMessage(getNode('caught'));
  const m = await roundTrip({ payload: 'no host here!' });
  assert.equal((m.payload as Payload).status, 1);
  assert.match(String((m.payload as Payload).data.errorinfo), /not a valid host/);
  const c = await caught;
  assert.match(String((c.error as { message: string }).message), /not a valid host/);
  for (const [payload, re] of [
    [{ uuid: 'x', protocol: 'PING', destination: 42 }, /destination must be a non-empty string/],
    [{ uuid: 'x', protocol: 'PING', destination: '127.0.0.1', parameters: { count: 'lots' } }, /parameters\.count must be a number/],
    [{ uuid: 'x', protocol: 'HTTP', destination: 'http://127.0.0.1/' }, /runs PING commands, not HTTP/],
    [{ uuid: { a: 1 }, protocol: 'PING', destination: '127.0.0.1' }, /uuid/],
  ] as const) {
    const caughtP = nextMessage(getNode('caught'));
    const r = await roundTrip({ payload });
    const pl = r.payload as Payload;
    assert.equal(pl.status, 1);
    assert.equal(pl.data.errorcode, 122);
    assert.match(String(pl.data.errorinfo), re);
    assert.ok(pl.stamp && pl.command);
    assert.match(String(((await caughtP).error as { message: string }).message), re);
  }
});

test('close kills running pings: no orphan ping process, no handles left', { skip: pingSkip }, async () => {
  const before = pingChildren().length;
  const resources = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
    return out;
  };
  const base = resources();
  await loadFlow(mods, flow({ type: 'probe-ping', destination: '127.0.0.1', count: 100, interval: 0.2, timeout: 1 }));
  const out = getNode('out');
  let sent = 0;
  out.on('input', () => sent++);
  getNode('p').receive({ payload: 1 });
  getNode('p').receive({ payload: 2 });
  for (let i = 0; i < 50 && pingChildren().length < before + 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(pingChildren().length, before + 2, 'two pings running');
  await helper.setFlows(flow({ type: 'probe-ping', destination: '127.0.0.1', count: 1, name: 'redeployed' }), 'nodes');
  for (let i = 0; i < 50 && pingChildren().length > before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(pingChildren().length, before, 'no ping process survives a redeploy');
  await unload();
  await new Promise((r) => setTimeout(r, 100));
  const now = resources();
  for (const k of ['ProcessWrap', 'TCPSocketWrap', 'UDPWrap']) assert.ok((now[k] ?? 0) <= (base[k] ?? 0), `${k}: ${now[k]} after vs ${base[k]} before`);
  assert.equal(sent, 0, 'nothing is sent after close');
});

test('probe-http: plain msg, basic auth from credentials, assertion failure, natrix HTTP command', async () => {
  await loadFlow(mods, flow({ type: 'probe-http', url: `http://127.0.0.1:${webPort}/auth`, urlType: 'str', method: 'GET', authType: 'basic', expectStatus: '200-299', saveBody: true, timeout: 5, connectTimeout: 2 }), { p: { user: 'op', password: 's3cret' } });
  const m = await roundTrip({ payload: 'go' });
  const pl = m.payload as Payload;
  assert.equal(pl.status, 0, JSON.stringify(pl.data));
  assert.equal(pl.data.response_body, `Basic ${Buffer.from('op:s3cret').toString('base64')}`);
  assert.equal(m.topic, `http://127.0.0.1:${webPort}/auth`);
  assert.ok(typeof pl.data.period_response === 'number');
  await waitForCall(getNode('p'), 'status', (a) => /^200 · /.test(String((a[0] as { text?: string }).text)));
  const n = await roundTrip({ payload: { uuid: 'h1', terminal: 't', protocol: 'HTTP', destination: `http://127.0.0.1:${webPort}/missing`, parameters: { operation: 'get', timeout: 2, save_response_header: true } } });
  const np = n.payload as Payload;
  assert.equal(np.command!.uuid, 'h1');
  assert.equal(np.status, 1);
  assert.equal(np.data.errorcode, 22);
  assert.equal(np.data.status_code, 404);
  assert.match(String(np.data.response_header), /^HTTP\/1\.1 404/);
});

test('probe-http: custom CA through a core tls-config node; refused port with errorsToCatch', async () => {
  const srv = createHttpsServer({ key: readFileSync(join(tlsDir, 'server.key')), cert: readFileSync(join(tlsDir, 'server.crt')) }, (_q, s) => s.end('tls ok'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    const f = flow({ type: 'probe-http', url: `https://127.0.0.1:${port}/`, urlType: 'str', method: 'GET', tls: 'tlsconf', expectStatus: '2xx', errorsToCatch: true });
    f.push({ id: 'tlsconf', type: 'tls-config', cert: '', key: '', ca: join(tlsDir, 'ca.crt'), certname: '', keyname: '', caname: '', servername: '', verifyservercert: true, name: '' });
    await loadFlow(mods, f);
    const m = await roundTrip({ payload: 1 });
    const pl = m.payload as Payload;
    assert.equal(pl.status, 0, JSON.stringify(pl.data));
    assert.equal((pl.data.tls as { authorized: boolean }).authorized, true);
    const caught = nextMessage(getNode('caught'));
    const r = await roundTrip({ payload: { uuid: 'h2', protocol: 'http', destination: 'http://127.0.0.1:1/' } });
    assert.equal((r.payload as Payload).data.errorcode, 7);
    assert.match(String(((await caught).error as { message: string }).message), /ECONNREFUSED/);
  } finally {
    srv.close();
  }
});

test('probe-dns: server query with TTLs, NXDOMAIN result, natrix DNS command', async () => {
  await loadFlow(mods, flow({ type: 'probe-dns', query: 'host.test', queryType: 'str', rrtype: 'A', server: `127.0.0.1:${dns.port}`, timeout: 2 }));
  const m = await roundTrip({ payload: 1 });
  const pl = m.payload as Payload;
  assert.equal(pl.status, 0, JSON.stringify(pl.data));
  assert.deepEqual(pl.data.ips, [{ ip: '127.0.0.1', ttl: 300 }, { ip: '127.0.0.2', ttl: 300 }]);
  assert.equal(m.topic, 'host.test');
  const n = await roundTrip({ payload: { uuid: 'd1', protocol: 'DNS', destination: 'host.test', parameters: { dns_method: 'mx', dns_server: `127.0.0.1:${dns.port}`, dns_timeout: 2 } } });
  const np = n.payload as Payload;
  assert.equal(np.status, 0, JSON.stringify(np.data));
  assert.deepEqual((np.data.answers as Array<{ data: unknown }>)[0]!.data, { preference: 10, exchange: 'mail.host.test' });
  const x = await roundTrip({ payload: { uuid: 'd2', protocol: 'DNS', destination: 'nowhere.test', parameters: { dns_server: `127.0.0.1:${dns.port}` } } });
  assert.equal((x.payload as Payload).data.errorcode, 6);
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === 'NXDOMAIN');
});

test('bad configuration leaves an inert node with a red status, no crash', async () => {
  await loadFlow(mods, flow({ type: 'probe-dns', query: 'x', rrtype: 'A', server: 'not-an-ip' }));
  await waitForCall(getNode('p'), 'status', (a) => (a[0] as { text?: string }).text === 'bad configuration');
  await unload();
  await loadFlow(mods, flow({ type: 'probe-ping', destination: '127.0.0.1', mode: 'tcp', port: '' }));
  await waitForCall(getNode('p'), 'error', (a) => /TCP mode needs a port/.test(String(a[0])));
});
