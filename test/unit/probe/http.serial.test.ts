/**
 * The HTTP probe against loopback HTTP/HTTPS servers started here, with a delay injected in one
 * phase at a time: each period must show the delay (within a tolerance that allows for a busy
 * 2-core machine) and the others must not. Plus TLS details, redirects hop by hop, auth,
 * assertions, and every failure mapped to its curl number.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LookupFunction } from 'node:net';
import { repoRoot } from '../../helpers/env';
import { httpProbe, parseStatusList, type HttpOutcome, type HttpData } from '../../../src/lib/probe/http';

const tlsDir = join(repoRoot, 'test', 'fixtures', 'probe', 'tls');
const key = readFileSync(join(tlsDir, 'server.key'));
const cert = readFileSync(join(tlsDir, 'server.crt'));
const ca = readFileSync(join(tlsDir, 'ca.crt'));

const DELAY = 150;
/** Allowed excess over an injected delay, and the most a phase without delay may take. */
const SLACK = 100;
const SMALL = 75;

const closers: Array<() => void> = [];
after(() => closers.forEach((c) => c()));

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: Server | ReturnType<typeof createNetServer>, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, r));
  closers.push(() => server.close());
  return (server.address() as { port: number }).port;
}

async function httpServer(handler: Handler, host = '127.0.0.1'): Promise<number> {
  const s = createHttpServer(handler);
  return listen(s, host);
}

function ok(r: HttpOutcome): HttpData {
  assert.equal(r.status, 0, JSON.stringify(r.data));
  return r.data as HttpData;
}
const f = (r: HttpOutcome): { errorcode?: number; errorinfo?: string; phase?: string; status_code?: number } => r.data as never;

/**
 * `early`: how much shorter than DELAY the phase may measure. A delay the server injects before it
 * answers cannot look shorter (early 1 ms, rounding); a trickled body can, by however late the
 * client saw its first chunk while the server's timers were already running.
 */
function assertDelayed(d: HttpData, phase: keyof HttpData, label: string, early = 1): void {
  const v = d[phase] as number;
  assert.ok(v >= DELAY - early && v <= DELAY + SLACK, `${label}: ${String(phase)} = ${v} ms, expected ${DELAY - early}..${DELAY + SLACK}`);
  for (const p of ['period_nslookup', 'period_tcp_connect', 'period_ssl_connect', 'period_request', 'period_response', 'period_transfer'] as const) {
    if (p === phase) continue;
    if (p === 'period_ssl_connect' && d.url.startsWith('https')) continue; // a real handshake takes a few ms
    assert.ok(d[p] <= SMALL, `${label}: ${p} = ${d[p]} ms should be small`);
  }
  const sum = d.period_nslookup + d.period_tcp_connect + d.period_ssl_connect + d.period_request + d.period_response + d.period_transfer;
  assert.ok(Math.abs(sum - d.total_time) < 1, `${label}: periods add up to total_time (${sum} vs ${d.total_time})`);
}

test('delay in name lookup shows in period_nslookup only', async () => {
  const port = await httpServer((_q, s) => s.end('ok'));
  const lookup = ((_h: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
    setTimeout(() => (opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)), DELAY);
  }) as unknown as LookupFunction;
  const d = ok(await httpProbe({ url: `http://probe.test:${port}/`, lookup, family: 4 }));
  assertDelayed(d, 'period_nslookup', 'lookup');
  assert.equal(d.remote_ip, '127.0.0.1');
});

test('IP literal: no lookup, period_nslookup 0', async () => {
  const port = await httpServer((_q, s) => s.end('ok'));
  const d = ok(await httpProbe({ url: `http://127.0.0.1:${port}/` }));
  assert.equal(d.period_nslookup, 0);
  assert.equal(d.remote_port, port);
  assert.equal(d.local_ip, '127.0.0.1');
  assert.ok(d.local_port > 0);
});

test('delay before the TLS handshake shows in period_ssl_connect', async () => {
  const net = createNetServer((raw: Socket) => {
    raw.pause();
    setTimeout(() => {
      const tls = new TLSSocket(raw, { isServer: true, key, cert });
      tls.on('error', () => undefined);
      tls.once('data', () => tls.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
      raw.resume();
    }, DELAY);
  });
  const port = await listen(net);
  const d = ok(await httpProbe({ url: `https://127.0.0.1:${port}/`, tls: { ca } }));
  assert.ok(d.period_ssl_connect >= DELAY - 1 && d.period_ssl_connect <= DELAY + SLACK + 20, `ssl_connect ${d.period_ssl_connect}`);
  assert.ok(d.period_tcp_connect <= SMALL && d.period_response <= SMALL);
});

test('a slow reader makes the upload show in period_request', async () => {
  const body = Buffer.alloc(32 * 1024 * 1024, 0x61);
  const net = createNetServer({ pauseOnConnect: true }, (s: Socket) => {
    let got = 0;
    let headerEnd = -1;
    let need = Infinity;
    let head = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (headerEnd < 0) {
        head = Buffer.concat([head, c]);
        headerEnd = head.indexOf('\r\n\r\n');
        if (headerEnd >= 0) need = headerEnd + 4 + Number(/content-length: (\d+)/i.exec(head.toString('latin1'))![1]);
      }
      if (got >= need) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
    setTimeout(() => s.resume(), DELAY);
  });
  const port = await listen(net);
  const d = ok(await httpProbe({ url: `http://127.0.0.1:${port}/up`, method: 'POST', body, timeout: 20_000 }));
  assert.equal(d.size_upload, body.length);
  assert.ok(d.period_request >= DELAY - 1, `period_request ${d.period_request} includes the stalled upload`);
  assert.ok(d.period_response <= SMALL, `period_response ${d.period_response}`);
  assert.ok(d.speed_upload > 0);
});

test('server think time shows in period_response, a trickled body in period_transfer', async () => {
  const port = await httpServer((_q, s) => {
    setTimeout(() => s.end('ok'), DELAY);
  });
  assertDelayed(ok(await httpProbe({ url: `http://127.0.0.1:${port}/` })), 'period_response', 'response');
  const port2 = await httpServer((_q, s) => {
    s.writeHead(200, { 'content-type': 'text/plain' });
    s.write('0123456789');
    let n = 0;
    const t = setInterval(() => {
      s.write('0123456789');
      if (++n === 4) {
        clearInterval(t);
        s.end();
      }
    }, DELAY / 4);
  });
  const d = ok(await httpProbe({ url: `http://127.0.0.1:${port2}/` }));
  assertDelayed(d, 'period_transfer', 'transfer', 40);
  assert.equal(d.size_download, 50);
  assert.ok(d.header_size > 40);
  assert.ok(d.speed_download > 0);
});

test('HTTPS with the test CA: TLS details; untrusted → 60; verification off still reports', async () => {
  const srv = createHttpsServer({ key, cert }, (_q, s) => s.end('secure'));
  const port = await listen(srv);
  const d = ok(await httpProbe({ url: `https://127.0.0.1:${port}/`, tls: { ca }, saveBody: true }));
  assert.ok(d.tls);
  assert.equal(d.tls.authorized, true);
  assert.match(d.tls.subject, /CN=localhost/);
  assert.match(d.tls.issuer, /CN=Fieldlink Test CA/);
  assert.match(d.tls.san, /IP Address:127\.0\.0\.1/);
  assert.ok(d.tls.days_to_expiry > 30_000);
  assert.match(d.tls.not_after, /^21\d\d-/);
  assert.match(String(d.tls.protocol), /TLSv1\.[23]/);
  assert.ok(d.tls.cipher);
  assert.ok(d.period_ssl_connect > 0);
  assert.equal(d.response_body, 'secure');
  const bad = await httpProbe({ url: `https://127.0.0.1:${port}/` });
  assert.equal(bad.status, 1);
  assert.equal(f(bad).errorcode, 60);
  assert.equal(f(bad).phase, 'tls');
  const lax = ok(await httpProbe({ url: `https://127.0.0.1:${port}/`, tls: { rejectUnauthorized: false } }));
  assert.equal(lax.tls!.authorized, false);
  assert.match(String(lax.tls!.authorization_error), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i);
  // A fresh handshake every time: no session resumption makes the second as slow as the first.
  const again = ok(await httpProbe({ url: `https://127.0.0.1:${port}/`, tls: { ca } }));
  assert.ok(again.period_ssl_connect > 0);
});

test('redirects: each hop timed, redirect_time before the final hop, 303 turns POST into GET', async () => {
  const seen: string[] = [];
  const port = await httpServer((q, s) => {
    seen.push(`${q.method} ${q.url} ${q.headers.authorization ?? ''}`);
    const m = /^\/r(\d)$/.exec(q.url ?? '');
    if (m && Number(m[1]) > 0) {
      setTimeout(() => {
        s.writeHead(Number(m[1]) === 1 ? 303 : 302, { location: `/r${Number(m[1]) - 1}` });
        s.end();
      }, 10);
    } else s.end('final');
  });
  const d = ok(await httpProbe({ url: `http://127.0.0.1:${port}/r3`, method: 'POST', body: 'x', auth: { type: 'basic', user: 'u', password: 'p' } }));
  assert.equal(d.redirect_count, 3);
  assert.equal(d.hops.length, 4);
  assert.deepEqual(d.hops.map((h) => h.status_code), [302, 302, 303, 200]);
  assert.equal(d.last_url, `http://127.0.0.1:${port}/r0`);
  assert.equal(d.url, `http://127.0.0.1:${port}/r3`);
  const before = d.hops.slice(0, 3).reduce((a, h) => a + h.total_time, 0);
  assert.ok(d.redirect_time >= before && d.redirect_time < before + 20, `redirect_time ${d.redirect_time} vs hops ${before}`);
  assert.ok(d.total_time >= d.redirect_time + d.hops[3]!.total_time - 0.01);
  assert.equal(seen[3], `GET /r0 Basic ${Buffer.from('u:p').toString('base64')}`);
  assert.ok(new Set(d.hops.map((h) => h.local_port)).size === 4, 'a new connection per hop');
  const capped = await httpProbe({ url: `http://127.0.0.1:${port}/r3`, maxRedirects: 2 });
  assert.equal(f(capped).errorcode, 47);
  const kept = ok(await httpProbe({ url: `http://127.0.0.1:${port}/r3`, followRedirects: false }));
  assert.equal(kept.status_code, 302);
  assert.equal(kept.redirect_count, 0);
});

test('bearer auth, headers, HEAD, IPv6', async () => {
  let auth = '';
  let custom = '';
  const port = await httpServer((q, s) => {
    auth = q.headers.authorization ?? '';
    custom = String(q.headers['x-probe'] ?? '');
    s.end('hello');
  }, '::1');
  const d = ok(await httpProbe({ url: `http://[::1]:${port}/`, family: 6, auth: { type: 'bearer', token: 't0k' }, headers: { 'X-Probe': 'yes' } }));
  assert.equal(auth, 'Bearer t0k');
  assert.equal(custom, 'yes');
  assert.equal(d.remote_ip, '::1');
  const h = ok(await httpProbe({ url: `http://[::1]:${port}/`, method: 'HEAD' }));
  assert.equal(h.size_download, 0);
});

test('assertions: expected status and body regex fail with 22 and keep the measurements', async () => {
  const port = await httpServer((q, s) => {
    s.statusCode = q.url === '/missing' ? 404 : 200;
    s.end('temperature=21.5');
  });
  const miss = await httpProbe({ url: `http://127.0.0.1:${port}/missing`, expectStatus: '200-299' });
  assert.equal(miss.status, 1);
  assert.equal(f(miss).errorcode, 22);
  assert.equal(f(miss).status_code, 404);
  assert.ok((miss.data as HttpData).total_time > 0);
  ok(await httpProbe({ url: `http://127.0.0.1:${port}/missing`, expectStatus: '2xx,404' }));
  ok(await httpProbe({ url: `http://127.0.0.1:${port}/`, bodyRegex: 'temperature=\\d+' }));
  const nomatch = await httpProbe({ url: `http://127.0.0.1:${port}/`, bodyRegex: 'pressure' });
  assert.equal(f(nomatch).errorcode, 22);
  assert.match(f(nomatch).errorinfo!, /does not match/);
  assert.deepEqual(parseStatusList('200-299, 3xx,404'), [[200, 299], [300, 399], [404, 404]]);
  assert.throws(() => parseStatusList('ok'), /not a code/);
});

test('failures carry curl numbers: 1, 3, 6, 7, 18, 28 (response and connect), 52', async () => {
  assert.equal(f(await httpProbe({ url: 'ftp://127.0.0.1/' })).errorcode, 1);
  assert.equal(f(await httpProbe({ url: 'http://' })).errorcode, 3);
  assert.equal(f(await httpProbe({ url: 42 as unknown as string })).errorcode, 3);
  assert.equal(f(await httpProbe({ url: 'http://127.0.0.1:1/', method: 'FETCH' })).errorcode, 3);
  assert.equal(f(await httpProbe({ url: 'http://127.0.0.1/', expectStatus: 'fine' })).errorcode, 3);
  const nx = ((_h: string, _o: unknown, cb: (e: Error) => void) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' }))) as unknown as LookupFunction;
  assert.equal(f(await httpProbe({ url: 'http://nowhere.test/', lookup: nx })).errorcode, 6);
  const closed = createNetServer();
  const cport = await listen(closed);
  closed.close();
  const refused = await httpProbe({ url: `http://127.0.0.1:${cport}/` });
  assert.equal(f(refused).errorcode, 7);
  assert.equal(f(refused).phase, 'connect');
  const port = await httpServer((q, s) => {
    if (q.url === '/hang') return; // never answers
    if (q.url === '/cut') {
      s.writeHead(200, { 'content-length': '100' });
      s.write('0123456789');
      setTimeout(() => s.destroy(), 5);
      return;
    }
    q.socket.destroy();
  });
  const slow = await httpProbe({ url: `http://127.0.0.1:${port}/hang`, timeout: 200 });
  assert.equal(f(slow).errorcode, 28);
  assert.equal(f(slow).phase, 'response');
  assert.equal(f(await httpProbe({ url: `http://127.0.0.1:${port}/cut` })).errorcode, 18);
  assert.equal(f(await httpProbe({ url: `http://127.0.0.1:${port}/reset` })).errorcode, 52);
  // A TLS server that never completes the handshake: the connect timeout covers TLS.
  const mute = createNetServer((s) => s.on('error', () => undefined));
  const mport = await listen(mute);
  const hs = await httpProbe({ url: `https://127.0.0.1:${mport}/`, connectTimeout: 150 });
  assert.equal(f(hs).errorcode, 28);
  assert.equal(f(hs).phase, 'tls');
  const tlsOnly = createTlsServer({ key, cert }, (s) => s.end());
  const tport = await listen(tlsOnly);
  assert.equal(f(await httpProbe({ url: `http://127.0.0.1:${tport}/`, timeout: 2000 })).errorcode !== 0, true);
});

test('cancellation through the AbortSignal', async () => {
  const port = await httpServer(() => undefined);
  const ac = new AbortController();
  const p = httpProbe({ url: `http://127.0.0.1:${port}/`, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const r = await p;
  assert.equal(f(r).errorcode, 42);
});
