/**
 * HTTP(S) probe with phase timings from node:http / node:https socket events and
 * performance.now().
 *
 * Each probe opens a fresh connection (`agent: false`: no keep-alive, no TLS session reuse).
 * Per hop (redirects are followed by hand, each hop timed on its own):
 *
 *   period_nslookup    socket 'lookup' − start              (0 for IP literals: no lookup happens)
 *   period_tcp_connect socket 'connect' − ('lookup' or start)
 *   period_ssl_connect 'secureConnect' − 'connect'          (0 for plain HTTP)
 *   period_request     request written ('finish', not before the connection is ready) − ready
 *   period_response    first response byte on the socket − request written
 *   period_transfer    response 'end' − first byte
 *   total_time         response 'end' − start
 *
 * The top-level periods are those of the final hop; `redirect_time` is the time from the probe's
 * start to the final hop's start (all redirect hops), `total_time` from the probe's start to the
 * end of the final response. Failures are results with curl's error numbers: 1 unsupported
 * protocol, 3 malformed URL, 6 cannot resolve, 7 cannot connect, 8 weird reply, 18 partial body,
 * 22 assertion failed (status or body), 28 timeout, 35 TLS handshake, 47 too many redirects,
 * 52 empty reply, 56 receive error, 60 certificate, 42 cancelled.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type Socket, type LookupFunction } from 'node:net';
import type { TLSSocket, ConnectionOptions, DetailedPeerCertificate } from 'node:tls';
import { now, ms3, type Family } from './common';

export interface HttpAuth {
  type: 'basic' | 'bearer';
  user?: string;
  password?: string;
  token?: string;
}

export interface HttpProbeOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  auth?: HttpAuth;
  /** Follow redirects (default true). */
  followRedirects?: boolean;
  /** Most redirects to follow (default 5). */
  maxRedirects?: number;
  /** Whole probe, all hops, in ms (default 30000). */
  timeout?: number;
  /** DNS + TCP + TLS of each hop, in ms (default 10000). */
  connectTimeout?: number;
  family?: Family;
  /** TLS options (ca, cert, key, rejectUnauthorized, servername, ...), e.g. from a tls-config node. */
  tls?: ConnectionOptions;
  /** Keep the response headers as text in `response_header`. */
  saveHeaders?: boolean;
  /** Keep the response body (up to bodyLimit bytes) as text in `response_body`. */
  saveBody?: boolean;
  /** Most body bytes kept for saveBody / bodyRegex (default 1 MiB). */
  bodyLimit?: number;
  /** Accepted status codes, e.g. "200-299,301" or "2xx,3xx"; empty = any. */
  expectStatus?: string;
  /** The body must match this regular expression. */
  bodyRegex?: string | RegExp;
  /** Local address to connect from. */
  localAddress?: string;
  /** Custom name resolution (tests inject delays here). */
  lookup?: LookupFunction;
  signal?: AbortSignal;
}

export interface TlsDetails {
  protocol: string | null;
  cipher: string | null;
  authorized: boolean;
  authorization_error: string | null;
  subject: string;
  issuer: string;
  san: string;
  serial: string;
  fingerprint256: string;
  not_before: string;
  not_after: string;
  days_to_expiry: number;
  /** Earliest not_after over the presented chain. */
  chain_not_after: string;
}

export interface HttpHop {
  url: string;
  status_code: number;
  remote_ip: string;
  remote_port: number;
  local_ip: string;
  local_port: number;
  period_nslookup: number;
  period_tcp_connect: number;
  period_ssl_connect: number;
  period_request: number;
  period_response: number;
  period_transfer: number;
  total_time: number;
  header_size: number;
  size_upload: number;
  size_download: number;
  location?: string;
}

export interface HttpData {
  url: string;
  last_url: string;
  status_code: number;
  http_version: string;
  redirect_count: number;
  redirect_time: number;
  remote_ip: string;
  remote_port: number;
  local_ip: string;
  local_port: number;
  total_time: number;
  period_nslookup: number;
  period_tcp_connect: number;
  period_ssl_connect: number;
  period_request: number;
  period_response: number;
  period_transfer: number;
  header_size: number;
  size_upload: number;
  size_download: number;
  speed_upload: number;
  speed_download: number;
  ok: boolean;
  hops: HttpHop[];
  tls?: TlsDetails;
  response_header?: string;
  response_body?: string;
}

export interface HttpFailureData extends Partial<HttpData> {
  errorcode: number;
  errorinfo: string;
  url: string;
  /** Where it failed: input, resolve, connect, tls, request, response, transfer, redirect, assertion. */
  phase: string;
}

export type HttpOutcome = { status: 0; data: HttpData } | { status: 1; data: HttpFailureData };

class ProbeError extends Error {
  constructor(readonly errorcode: number, message: string, readonly phase: string) {
    super(message);
  }
}

const CERT_CODES = new Set([
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'HOSTNAME_MISMATCH', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
]);

/** curl error number for a Node error raised during phase `phase`. */
export function curlCode(err: NodeJS.ErrnoException, phase: string): number {
  const code = err.code ?? '';
  if (err instanceof ProbeError) return err.errorcode;
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA'].includes(code)) return 6;
  if (CERT_CODES.has(code)) return 60;
  if (code === 'ETIMEDOUT') return 28;
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EADDRINUSE', 'EACCES', 'EPERM'].includes(code)) return 7;
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS')) return 35;
  if (code.startsWith('HPE_')) return 8;
  if (phase === 'connect' || phase === 'resolve') return 7;
  if (phase === 'tls') return 35;
  if (phase === 'response' || phase === 'request') return code === 'ECONNRESET' || /socket hang up/.test(err.message) ? 52 : 56;
  if (phase === 'transfer') return 56;
  return 56;
}

/** Parse "200-299,301,4xx" into ranges; throws on a malformed list. */
export function parseStatusList(s: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const part of s.split(/[,\s]+/).filter(Boolean)) {
    let m = /^([1-5])xx$/i.exec(part);
    if (m) {
      const b = Number(m[1]) * 100;
      out.push([b, b + 99]);
      continue;
    }
    m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (!m) throw new Error(`expected status "${part}" is not a code (200), a range (200-299) or a class (2xx)`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (hi < lo) throw new Error(`expected status range "${part}" is backwards`);
    out.push([lo, hi]);
  }
  return out;
}

interface Resolved {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  follow: boolean;
  maxRedirects: number;
  timeout: number;
  connectTimeout: number;
  family: Family;
  tls: ConnectionOptions;
  saveHeaders: boolean;
  saveBody: boolean;
  bodyLimit: number;
  expect: Array<[number, number]> | undefined;
  bodyRegex: RegExp | undefined;
  localAddress: string | undefined;
  lookup: LookupFunction | undefined;
  signal: AbortSignal | undefined;
}

function resolveOptions(o: HttpProbeOptions): Resolved {
  if (typeof o.url !== 'string' || !o.url.trim()) throw new ProbeError(3, `url must be a non-empty string (got ${typeof o.url})`, 'input');
  let url: URL;
  try {
    url = new URL(o.url.trim());
  } catch {
    throw new ProbeError(3, `malformed URL ${JSON.stringify(o.url)}`, 'input');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProbeError(1, `unsupported protocol ${url.protocol} (http: and https: only)`, 'input');
  const method = (o.method ?? 'GET').toUpperCase();
  if (!['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'].includes(method)) throw new ProbeError(3, `unsupported method ${JSON.stringify(o.method)}`, 'input');
  const positive = (v: unknown, name: string, def: number, max: number): number => {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new ProbeError(3, `${name} must be a positive number of ms up to ${max} (got ${JSON.stringify(v)})`, 'input');
    return v;
  };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new ProbeError(3, `invalid header name ${JSON.stringify(k)}`, 'input');
    if (typeof v !== 'string' || /[\r\n]/.test(v)) throw new ProbeError(3, `header ${k} must be a one-line string`, 'input');
    headers[k.toLowerCase()] = v;
  }
  if (!headers['user-agent']) headers['user-agent'] = 'fieldlink-probe';
  if (o.auth && !headers.authorization) {
    if (o.auth.type === 'basic') headers.authorization = 'Basic ' + Buffer.from(`${o.auth.user ?? ''}:${o.auth.password ?? ''}`).toString('base64');
    else if (o.auth.type === 'bearer') {
      if (!o.auth.token) throw new ProbeError(3, 'bearer authentication needs a token', 'input');
      headers.authorization = `Bearer ${o.auth.token}`;
    }
  }
  let body: Buffer | undefined;
  if (o.body !== undefined && o.body !== null) {
    if (typeof o.body === 'string') body = Buffer.from(o.body);
    else if (Buffer.isBuffer(o.body)) body = o.body;
    else throw new ProbeError(3, 'body must be a string or a Buffer', 'input');
  }
  let expect: Array<[number, number]> | undefined;
  if (o.expectStatus && o.expectStatus.trim()) {
    try {
      expect = parseStatusList(o.expectStatus);
    } catch (err) {
      throw new ProbeError(3, (err as Error).message, 'input');
    }
  }
  let bodyRegex: RegExp | undefined;
  if (o.bodyRegex instanceof RegExp) bodyRegex = o.bodyRegex;
  else if (typeof o.bodyRegex === 'string' && o.bodyRegex) {
    try {
      bodyRegex = new RegExp(o.bodyRegex);
    } catch (err) {
      throw new ProbeError(3, `body regular expression does not compile: ${(err as Error).message}`, 'input');
    }
  }
  const maxRedirects = o.maxRedirects ?? 5;
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0 || maxRedirects > 100) throw new ProbeError(3, `maxRedirects must be 0..100 (got ${JSON.stringify(o.maxRedirects)})`, 'input');
  return {
    url,
    method,
    headers,
    body,
    follow: o.followRedirects ?? true,
    maxRedirects,
    timeout: positive(o.timeout, 'timeout', 30_000, 86_400_000),
    connectTimeout: positive(o.connectTimeout, 'connectTimeout', 10_000, 86_400_000),
    family: o.family ?? 0,
    tls: o.tls ?? {},
    saveHeaders: !!o.saveHeaders,
    saveBody: !!o.saveBody,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    expect,
    bodyRegex,
    localAddress: o.localAddress || undefined,
    lookup: o.lookup,
    signal: o.signal,
  };
}

interface HopResult {
  hop: HttpHop;
  start: number;
  end: number;
  httpVersion: string;
  headerText: string;
  body: Buffer | undefined;
  tls: TlsDetails | undefined;
}

function dn(x: unknown): string {
  if (!x || typeof x !== 'object') return '';
  return Object.entries(x as Record<string, string | string[]>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}

function iso(d: string | undefined): string {
  const t = d ? Date.parse(d) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

export function tlsDetails(s: TLSSocket): TlsDetails {
  const cert = s.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  const c = cert as Partial<DetailedPeerCertificate>;
  let earliest = c.valid_to ? Date.parse(c.valid_to) : NaN;
  let cur: Partial<DetailedPeerCertificate> | undefined = c.issuerCertificate;
  for (let i = 0; cur && i < 10; i++) {
    const t = cur.valid_to ? Date.parse(cur.valid_to) : NaN;
    if (Number.isFinite(t) && !(t >= earliest)) earliest = t;
    if (cur.issuerCertificate === cur) break;
    cur = cur.issuerCertificate;
  }
  const notAfter = c.valid_to ? Date.parse(c.valid_to) : NaN;
  return {
    protocol: s.getProtocol() ?? null,
    cipher: s.getCipher()?.name ?? null,
    authorized: s.authorized,
    authorization_error: s.authorizationError ? String(s.authorizationError) : null,
    subject: dn(c.subject),
    issuer: dn(c.issuer),
    san: c.subjectaltname ?? '',
    serial: c.serialNumber ?? '',
    fingerprint256: c.fingerprint256 ?? '',
    not_before: iso(c.valid_from),
    not_after: iso(c.valid_to),
    days_to_expiry: Number.isFinite(notAfter) ? Math.round(((notAfter - Date.now()) / 86_400_000) * 100) / 100 : NaN,
    chain_not_after: Number.isFinite(earliest) ? new Date(earliest).toISOString() : '',
  };
}

function phaseOf(t: { connect?: number; secure?: number; lookup?: number; firstByte?: number; finish?: number; literal?: boolean }, isHttps: boolean): string {
  if (t.connect === undefined) return t.lookup === undefined && !t.literal ? 'resolve' : 'connect';
  if (isHttps && t.secure === undefined) return 'tls';
  if (t.finish === undefined) return 'request';
  if (t.firstByte === undefined) return 'response';
  return 'transfer';
}

function oneHop(u: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, o: Resolved, timeLeft: number): Promise<HopResult> {
  return new Promise<HopResult>((resolve, reject) => {
    const isHttps = u.protocol === 'https:';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const t: { start: number; literal: boolean; lookup?: number; connect?: number; secure?: number; finish?: number; firstByte?: number; headers?: number; end?: number } = { start: now(), literal: isIP(host) !== 0 };
    let settled = false;
    let socket: Socket | undefined;
    let tls: TlsDetails | undefined;
    const opts: https.RequestOptions = {
      host,
      port: u.port ? Number(u.port) : isHttps ? 443 : 80,
      path: `${u.pathname}${u.search}`,
      method,
      headers,
      agent: false,
      ...(o.family ? { family: o.family, autoSelectFamily: false } : {}),
      ...(o.lookup ? { lookup: o.lookup } : {}),
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      ...(isHttps ? o.tls : {}),
    };
    let req: http.ClientRequest | undefined;
    const settle = (err: Error | undefined, r?: HopResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req?.destroy();
        reject(err);
      } else resolve(r!);
    };
    const fail = (err: NodeJS.ErrnoException): void => {
      if (settled) return;
      const phase = phaseOf(t, isHttps);
      if (err instanceof ProbeError) return settle(err);
      const code = curlCode(err, phase);
      const text = err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
      settle(new ProbeError(code, `${text} (${phase} phase, ${u.host})`, phase));
    };
    // One timer per hop: it fires at the connect deadline (unless connected by then) and at the
    // overall deadline, rescheduling itself in between.
    const connectDeadline = t.start + o.connectTimeout;
    const overallDeadline = t.start + timeLeft;
    const onTimer = (): void => {
      const n = now();
      const ready = isHttps ? t.secure !== undefined : t.connect !== undefined;
      const phase = phaseOf(t, isHttps);
      if (!ready && n >= connectDeadline - 1) {
        fail(new ProbeError(28, `connection timed out after ${Math.round(o.connectTimeout)} ms in the ${phase} phase (${u.host})`, phase));
      } else if (n >= overallDeadline - 1) {
        fail(new ProbeError(28, `timed out after ${Math.round(o.timeout)} ms in the ${phase} phase (${u.host})`, phase));
      } else {
        timer = setTimeout(onTimer, Math.max(1, (ready ? overallDeadline : Math.min(connectDeadline, overallDeadline)) - n));
      }
    };
    let timer = setTimeout(onTimer, Math.max(1, Math.min(o.connectTimeout, timeLeft)));
    const onAbort = (): void => fail(new ProbeError(42, 'probe cancelled', phaseOf(t, isHttps)));
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      req = (isHttps ? https : http).request(opts);
    } catch (err) {
      return fail(err as NodeJS.ErrnoException);
    }
    req.on('socket', (s: Socket) => {
      socket = s;
      s.once('lookup', (err: Error | null) => {
        if (!err) t.lookup = now();
      });
      s.once('connect', () => {
        t.connect = now();
      });
      if (isHttps) {
        s.once('secureConnect', () => {
          t.secure = now();
          try {
            tls = tlsDetails(s as TLSSocket);
          } catch {
            tls = undefined;
          }
        });
      }
      s.prependOnceListener('data', () => {
        if (t.firstByte === undefined) t.firstByte = now();
      });
    });
    req.on('finish', () => {
      t.finish = now();
    });
    req.on('error', fail);
    req.on('response', (res: http.IncomingMessage) => {
      t.headers = now();
      const keep = o.saveBody || o.bodyRegex ? ([] as Buffer[]) : undefined;
      let kept = 0;
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (keep && kept < o.bodyLimit) {
          const part = c.length > o.bodyLimit - kept ? c.subarray(0, o.bodyLimit - kept) : c;
          keep.push(part);
          kept += part.length;
        }
      });
      res.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNRESET') fail(new ProbeError(18, `connection closed before the response body was complete (${size} bytes received)`, 'transfer'));
        else fail(err);
      });
      res.on('close', () => {
        if (!res.complete) fail(new ProbeError(18, `connection closed before the response body was complete (${size} bytes received)`, 'transfer'));
      });
      res.on('end', () => {
        t.end = now();
        const s = socket;
        const ready = isHttps ? (t.secure ?? t.connect ?? t.start) : (t.connect ?? t.start);
        const tcpStart = t.lookup ?? t.start;
        const sent = Math.max(t.finish ?? ready, ready);
        const fb = Math.max(t.firstByte ?? t.headers!, sent);
        const raw = res.rawHeaders;
        // Wire size of the status line and headers, as received ("Name: value\r\n" each).
        let headerSize = `HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.length + 4;
        for (let i = 0; i + 1 < raw.length; i += 2) headerSize += raw[i]!.length + raw[i + 1]!.length + 4;
        const headerText = o.saveHeaders ? responseHeaderText(res) : '';
        const loc = res.headers.location;
        const hop: HttpHop = {
          url: u.href,
          status_code: res.statusCode ?? 0,
          // For an IP literal the peer is known; asking the socket costs a getpeername() call.
          remote_ip: t.literal ? host : (s?.remoteAddress ?? ''),
          remote_port: t.literal ? Number(opts.port) : (s?.remotePort ?? 0),
          local_ip: s?.localAddress ?? '',
          local_port: s?.localPort ?? 0,
          period_nslookup: ms3(t.lookup !== undefined ? t.lookup - t.start : 0),
          period_tcp_connect: ms3((t.connect ?? tcpStart) - tcpStart),
          period_ssl_connect: ms3(isHttps && t.secure !== undefined && t.connect !== undefined ? t.secure - t.connect : 0),
          period_request: ms3(sent - ready),
          period_response: ms3(fb - sent),
          period_transfer: ms3(t.end - fb),
          total_time: ms3(t.end - t.start),
          header_size: headerSize,
          size_upload: body ? body.length : 0,
          size_download: size,
          ...(typeof loc === 'string' ? { location: loc } : {}),
        };
        settle(undefined, {
          hop,
          start: t.start,
          end: t.end,
          httpVersion: res.httpVersion,
          headerText,
          body: keep ? Buffer.concat(keep) : undefined,
          tls,
        });
      });
    });
    req.end(body);
  });
}

function responseHeaderText(res: http.IncomingMessage): string {
  let text = `HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return `${text}\r\n`;
}

function failure(errorcode: number, errorinfo: string, phase: string, url: string, extra?: Partial<HttpData>): HttpOutcome {
  return { status: 1, data: { ...extra, url, errorcode, errorinfo, phase } };
}

/** Probe a URL. Never throws: every failure is a `status: 1` result. */
export async function httpProbe(options: HttpProbeOptions): Promise<HttpOutcome> {
  const url0 = typeof options.url === 'string' ? options.url : String(options.url);
  let o: Resolved;
  try {
    o = resolveOptions(options);
  } catch (err) {
    const e = err as ProbeError;
    return failure(e.errorcode ?? 3, e.message, 'input', url0);
  }
  const start = now();
  const deadline = start + o.timeout;
  const hops: HttpHop[] = [];
  let url = o.url;
  let method = o.method;
  let body = o.body;
  const headers = { ...o.headers };
  let last: HopResult;
  for (;;) {
    const left = deadline - now();
    if (left <= 0) return failure(28, `timed out after ${Math.round(o.timeout)} ms (${hops.length} redirect(s) followed)`, 'redirect', o.url.href, { hops, redirect_count: hops.length });
    try {
      last = await oneHop(url, method, headers, body, o, left);
    } catch (err) {
      const e = err instanceof ProbeError ? err : new ProbeError(56, (err as Error).message, 'transfer');
      return failure(e.errorcode, e.message, e.phase, o.url.href, { last_url: url.href, hops, redirect_count: hops.length });
    }
    hops.push(last.hop);
    const sc = last.hop.status_code;
    if (o.follow && [301, 302, 303, 307, 308].includes(sc) && last.hop.location) {
      if (hops.length - 1 >= o.maxRedirects) {
        return failure(47, `maximum (${o.maxRedirects}) redirects followed`, 'redirect', o.url.href, { last_url: url.href, hops, redirect_count: hops.length - 1 });
      }
      let next: URL;
      try {
        next = new URL(last.hop.location, url);
      } catch {
        return failure(3, `redirect to a malformed location ${JSON.stringify(last.hop.location)}`, 'redirect', o.url.href, { last_url: url.href, hops, redirect_count: hops.length - 1 });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        return failure(1, `redirect to unsupported protocol ${next.protocol}`, 'redirect', o.url.href, { last_url: url.href, hops, redirect_count: hops.length - 1 });
      }
      if (sc === 303 || ((sc === 301 || sc === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      if (next.origin !== url.origin) delete headers.authorization;
      url = next;
      continue;
    }
    break;
  }
  const h = last.hop;
  const total = last.end - start;
  const redirectCount = hops.length - 1;
  const data: HttpData = {
    url: o.url.href,
    last_url: h.url,
    status_code: h.status_code,
    http_version: last.httpVersion,
    redirect_count: redirectCount,
    redirect_time: ms3(redirectCount ? last.start - start : 0),
    remote_ip: h.remote_ip,
    remote_port: h.remote_port,
    local_ip: h.local_ip,
    local_port: h.local_port,
    total_time: ms3(total),
    period_nslookup: h.period_nslookup,
    period_tcp_connect: h.period_tcp_connect,
    period_ssl_connect: h.period_ssl_connect,
    period_request: h.period_request,
    period_response: h.period_response,
    period_transfer: h.period_transfer,
    header_size: h.header_size,
    size_upload: h.size_upload,
    size_download: h.size_download,
    speed_upload: total > 0 ? Math.round(h.size_upload / (total / 1000)) : 0,
    speed_download: total > 0 ? Math.round(h.size_download / (total / 1000)) : 0,
    ok: true,
    hops,
    ...(last.tls ? { tls: last.tls } : {}),
    ...(o.saveHeaders ? { response_header: last.headerText } : {}),
    ...(o.saveBody && last.body ? { response_body: last.body.toString('utf8') } : {}),
  };
  if (o.expect && !o.expect.some(([lo, hi]) => h.status_code >= lo && h.status_code <= hi)) {
    return { status: 1, data: { ...data, ok: false, errorcode: 22, errorinfo: `status ${h.status_code} is not one of the expected ${options.expectStatus}`, phase: 'assertion' } };
  }
  if (o.bodyRegex) {
    o.bodyRegex.lastIndex = 0;
    if (!o.bodyRegex.test(last.body ? last.body.toString('utf8') : '')) {
      return { status: 1, data: { ...data, ok: false, errorcode: 22, errorinfo: `response body does not match /${o.bodyRegex.source}/`, phase: 'assertion' } };
    }
  }
  return { status: 0, data };
}
