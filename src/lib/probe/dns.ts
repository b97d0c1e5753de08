/**
 * DNS probe: one query, timed, with real rcodes and TTLs.
 *
 * With a server (`ip[:port]`, `[v6]:port`) the query goes over UDP through our own codec
 * (dns-wire.ts), retried over TCP when the answer is truncated; node:dns's Resolver cannot return
 * TTLs for most types nor the rcode. Without a server, the system resolver is used: A/AAAA through
 * getaddrinfo (`dns.lookup`: hosts file and nsswitch, as applications see names; no TTLs), other
 * types through our codec against the first system name server.
 *
 * Result `data`: destination, type, ips[] ({ip, ttl}), ptime (ms from sending the query to the
 * answer), dns_server {ip, port}, rcode, answers[] ({name, type, ttl, data}), transport.
 * Failures: 6 NXDOMAIN or no record of that type, 7 server unreachable, 8 malformed answer,
 * 28 timeout, 122 other rcodes (SERVFAIL, REFUSED, ...) with the rcode named.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { lookup, getServers } from 'node:dns';
import { randomInt } from 'node:crypto';
import { encodeQuery, decodeMessage, decodeHeader, reverseName, checkName, rcodeName, RR_TYPES, QUERY_TYPES, type DnsMessage, type QueryType, type ResourceRecord } from './dns-wire';
import { now, ms3, type Family } from './common';

export interface DnsProbeOptions {
  /** Name to query (for PTR an IP address is turned into its reverse name). */
  name: string;
  type?: QueryType | string;
  /** `ip`, `ip:port`, `[v6]:port`; empty or undefined = system resolver. */
  server?: string;
  /** ms per try (default 5000). */
  timeout?: number;
  /** UDP tries (default 1). */
  tries?: number;
  /** For the system resolver's A/AAAA path: family filter (A → 4, AAAA → 6 anyway). */
  family?: Family;
  recursion?: boolean;
  signal?: AbortSignal;
}

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number | null;
  data: ResourceRecord['data'];
}

export interface DnsData {
  destination: string;
  type: string;
  ips: Array<{ ip: string; ttl: number | null }>;
  ptime: number;
  dns_server: { ip: string; port: number };
  rcode: string;
  answers: DnsAnswer[];
  transport: 'udp' | 'tcp' | 'system';
  ok: boolean;
}

export interface DnsFailureData extends Partial<DnsData> {
  errorcode: number;
  errorinfo: string;
  destination: string;
}

export type DnsOutcome = { status: 0; data: DnsData } | { status: 1; data: DnsFailureData };

/** Parse "ip", "ip:port", "[v6]:port" (port default 53). */
export function parseServer(s: string): { ip: string; port: number } {
  const t = s.trim();
  let ip = t;
  let port = 53;
  let m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (m) {
    ip = m[1]!;
    if (m[2]) port = Number(m[2]);
  } else if ((m = /^([^:]+):(\d+)$/.exec(t))) {
    ip = m[1]!;
    port = Number(m[2]);
  }
  if (!isIP(ip)) throw new Error(`DNS server must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53 (got ${JSON.stringify(s)})`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`DNS server port must be 1..65535 (got ${port})`);
  return { ip, port };
}

class DnsError extends Error {
  constructor(readonly errorcode: number, message: string, readonly rcode?: string) {
    super(message);
  }
}

function udpQuery(server: { ip: string; port: number }, query: Uint8Array, id: number, timeout: number, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DnsError(42, 'DNS probe cancelled'));
    let sock: UdpSocket;
    let done = false;
    const finish = (err: Error | undefined, buf?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      if (err) reject(err);
      else resolve(buf!);
    };
    const onAbort = (): void => finish(new DnsError(42, 'DNS probe cancelled'));
    const timer = setTimeout(() => finish(new DnsError(28, `no answer from ${server.ip}:${server.port} within ${timeout} ms`)), timeout);
    try {
      sock = createSocket(isIP(server.ip) === 6 ? 'udp6' : 'udp4');
    } catch (err) {
      clearTimeout(timer);
      reject(new DnsError(7, (err as Error).message));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      finish(new DnsError(7, `DNS server ${server.ip}:${server.port} unreachable (${err.code ?? err.message})`));
    });
    sock.on('message', (msg: Buffer, rinfo) => {
      // Accept only the server's answer to our id (anything else is ignored, as resolvers do).
      if (rinfo.port !== server.port) return;
      try {
        const h = decodeHeader(msg);
        if (h.id !== id || !h.qr) return;
      } catch {
        return;
      }
      finish(undefined, msg);
    });
    // Connected UDP: ICMP port-unreachable comes back as ECONNREFUSED.
    sock.connect(server.port, server.ip, (err?: Error) => {
      if (done) return;
      // Node hands a failed connect to this callback; sending on the unconnected socket would throw.
      if (err) return finish(new DnsError(7, `cannot connect to ${server.ip}:${server.port}: ${err.message}`));
      sock.send(query, (err) => {
        if (err) finish(new DnsError(7, `cannot send to ${server.ip}:${server.port}: ${err.message}`));
      });
    });
  });
}

function tcpQuery(server: { ip: string; port: number }, query: Uint8Array, id: number, timeout: number, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DnsError(42, 'DNS probe cancelled'));
    let done = false;
    const chunks: Buffer[] = [];
    let have = 0;
    const s: Socket = tcpConnect({ host: server.ip, port: server.port });
    const finish = (err: Error | undefined, buf?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      s.destroy();
      if (err) reject(err);
      else resolve(buf!);
    };
    const onAbort = (): void => finish(new DnsError(42, 'DNS probe cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(new DnsError(28, `no TCP answer from ${server.ip}:${server.port} within ${timeout} ms`)), timeout);
    s.on('error', (err: NodeJS.ErrnoException) => finish(new DnsError(7, `DNS server ${server.ip}:${server.port} unreachable over TCP (${err.code ?? err.message})`)));
    s.on('connect', () => {
      const frame = Buffer.alloc(2 + query.length);
      frame.writeUInt16BE(query.length, 0);
      frame.set(query, 2);
      s.write(frame);
    });
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have > 70_000) return finish(new DnsError(8, 'TCP answer too large'));
      const all = Buffer.concat(chunks);
      if (all.length < 2) return;
      const len = all.readUInt16BE(0);
      if (all.length < 2 + len) return;
      const msg = all.subarray(2, 2 + len);
      try {
        if (decodeHeader(msg).id !== id) return finish(new DnsError(8, 'TCP answer with a foreign id'));
      } catch {
        return finish(new DnsError(8, 'malformed TCP answer'));
      }
      finish(undefined, msg);
    });
    s.on('end', () => finish(new DnsError(8, 'server closed the TCP connection without a full answer')));
  });
}

function systemLookup(name: string, family: 4 | 6): Promise<Array<{ address: string; family: number }>> {
  return new Promise((resolve, reject) => {
    lookup(name, { all: true, family, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });
}

/** Run one DNS probe. Never throws: every failure is a `status: 1` result. */
export async function dnsProbe(o: DnsProbeOptions): Promise<DnsOutcome> {
  const destination = typeof o.name === 'string' ? o.name : String(o.name);
  const fail = (errorcode: number, errorinfo: string, extra?: Partial<DnsData>): DnsOutcome => ({ status: 1, data: { ...extra, destination, errorcode, errorinfo } });
  let type: QueryType;
  let qname: string;
  let server: { ip: string; port: number } | undefined;
  let timeout: number;
  let tries: number;
  const id = randomInt(0, 0x10000);
  let query: Uint8Array;
  try {
    const t = (o.type ?? 'A').toString().toUpperCase();
    if (!(QUERY_TYPES as readonly string[]).includes(t)) throw new Error(`record type must be one of ${QUERY_TYPES.join(', ')} (got ${JSON.stringify(o.type)})`);
    type = t as QueryType;
    if (typeof o.name !== 'string') throw new Error(`name must be a string (got ${typeof o.name})`);
    const n = o.name.trim();
    qname = type === 'PTR' && isIP(n) ? reverseName(n) : checkName(n);
    if (o.server !== undefined && o.server !== null && typeof o.server !== 'string') throw new Error('server must be a string "ip[:port]"');
    server = o.server && o.server.trim() ? parseServer(o.server) : undefined;
    timeout = o.timeout ?? 5000;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > 3_600_000) throw new Error(`timeout must be a positive number of ms (got ${JSON.stringify(o.timeout)})`);
    tries = o.tries ?? 1;
    if (!Number.isInteger(tries) || tries < 1 || tries > 10) throw new Error(`tries must be 1..10 (got ${JSON.stringify(o.tries)})`);
    query = encodeQuery(id, qname, RR_TYPES[type], o.recursion ?? true);
  } catch (err) {
    return fail(3, (err as Error).message);
  }
  if (o.signal?.aborted) return fail(42, 'DNS probe cancelled', { type });

  // System resolver, address records: getaddrinfo.
  if (!server && (type === 'A' || type === 'AAAA')) {
    const t0 = now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const addrs = await Promise.race([
        systemLookup(qname, type === 'A' ? 4 : 6),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DnsError(28, `system resolver gave no answer within ${timeout} ms`)), timeout);
          onAbort = () => reject(new DnsError(42, 'DNS probe cancelled'));
          o.signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      const ptime = ms3(now() - t0);
      const ips = addrs.map((a) => ({ ip: a.address, ttl: null }));
      return {
        status: 0,
        data: {
          destination, type, ips, ptime, dns_server: { ip: 'system', port: 0 }, rcode: 'NOERROR',
          answers: addrs.map((a) => ({ name: qname, type, ttl: null, data: a.address })), transport: 'system', ok: true,
        },
      };
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { errorcode?: number };
      const ptime = ms3(now() - t0);
      if (err instanceof DnsError) return fail(err.errorcode, err.message, { type, ptime, transport: 'system' });
      const code = e.code ?? '';
      const nx = ['ENOTFOUND', 'EAI_NONAME', 'ENODATA', 'EAI_NODATA'].includes(code);
      return fail(nx ? 6 : code === 'EAI_AGAIN' ? 28 : 122, `${nx ? 'name not found' : 'system resolver failed'}: ${qname} (${code || e.message})`, { type, ptime, transport: 'system', rcode: nx ? 'NXDOMAIN' : code });
    } finally {
      clearTimeout(timer);
      if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    }
  }
  if (!server) {
    const first = getServers()[0];
    if (!first) return fail(7, 'no system DNS server is configured');
    try {
      server = parseServer(first.includes(':') && !first.startsWith('[') && isIP(first) === 6 ? `[${first}]` : first);
    } catch (err) {
      return fail(7, (err as Error).message);
    }
  }

  const dns_server = { ip: server.ip, port: server.port };
  let msg: DnsMessage;
  let transport: 'udp' | 'tcp' = 'udp';
  const t0 = now();
  try {
    let raw: Uint8Array | undefined;
    let lastErr: Error | undefined;
    for (let i = 0; i < tries && !raw; i++) {
      try {
        raw = await udpQuery(server, query, id, timeout, o.signal);
      } catch (err) {
        lastErr = err as Error;
        if (!(err instanceof DnsError) || err.errorcode !== 28) break;
      }
    }
    if (!raw) throw lastErr ?? new DnsError(28, 'no answer');
    if (decodeHeader(raw).tc) {
      transport = 'tcp';
      raw = await tcpQuery(server, query, id, timeout, o.signal);
    }
    try {
      msg = decodeMessage(raw);
    } catch (err) {
      throw new DnsError(8, `malformed answer from ${server.ip}:${server.port}: ${(err as Error).message}`);
    }
  } catch (err) {
    const e = err instanceof DnsError ? err : new DnsError(122, (err as Error).message);
    return fail(e.errorcode, e.message, { type, ptime: ms3(now() - t0), dns_server, transport });
  }
  const ptime = ms3(now() - t0);
  const q = msg.questions[0];
  if (q && (q.name.toLowerCase() !== qname.toLowerCase() || q.type !== type)) {
    return fail(8, `answer is for ${q.name} ${q.type}, not ${qname} ${type}`, { type, ptime, dns_server, transport });
  }
  const rcode = rcodeName(msg.rcode);
  const answers: DnsAnswer[] = msg.answers.map((a) => ({ name: a.name, type: a.type, ttl: a.ttl, data: a.data }));
  const ips = msg.answers.filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => ({ ip: a.data as string, ttl: a.ttl }));
  const data: DnsData = { destination, type, ips, ptime, dns_server, rcode, answers, transport, ok: false };
  if (msg.rcode === 3) return fail(6, `${qname}: no such name (NXDOMAIN) at ${server.ip}:${server.port}`, data);
  if (msg.rcode !== 0) return fail(122, `${qname}: server ${server.ip}:${server.port} answered ${rcode}`, data);
  if (!answers.some((a) => a.type === type)) return fail(6, `${qname}: no ${type} record (NOERROR, empty answer) at ${server.ip}:${server.port}`, data);
  data.ok = true;
  return { status: 0, data };
}
