/**
 * TCP-connect "ping": the time from connect() to the established connection, repeated `count`
 * times with `interval` between starts, with the same statistics as ICMP. Works without any
 * privilege, where ICMP is blocked, and for industrial services (502, 102, 4840, 44818, ...).
 *
 * The name is resolved once (not timed in the RTTs), like ping does; every attempt then
 * connects to that address with a fresh socket, closed at once after connecting.
 * A refused connection (RST) proves the host is up but the port is closed: it counts as lost
 * unless `acceptRefused` is set.
 */
import { connect, isIP, type Socket, type NetConnectOpts, type LookupFunction } from 'node:net';
import { lookup } from 'node:dns';
import { rttStats, type RttStats } from './stats';
import { validateHost, checkNumber, now, type Family } from './common';
import { PING_ERRORCODE } from './ping';
import type { PingFailureReason } from './ping-parse';

export interface TcpPingOptions {
  host: string;
  port: number;
  family?: Family;
  count?: number;
  /** Seconds between attempt starts (default 1). */
  interval?: number;
  /** Seconds to wait for each connection (default 2). */
  timeout?: number;
  /** Count a refused connection as a reply (the host answered). Default false. */
  acceptRefused?: boolean;
  /** Local IP address to connect from (optional; not an interface name). */
  localAddress?: string;
  /** Custom name resolution (tests inject delays here). */
  lookup?: LookupFunction;
  signal?: AbortSignal;
}

export interface TcpPingData extends RttStats {
  destination: string;
  destination_ip: string;
  port: number;
  packet_size: number;
  method: 'tcp';
  ok: boolean;
  refused: number;
  timeouts: number;
}

export interface TcpPingFailureData extends Partial<TcpPingData> {
  errorcode: number;
  errorinfo: string;
  reason: PingFailureReason;
  destination: string;
}

export type TcpPingOutcome = { status: 0; data: TcpPingData } | { status: 1; data: TcpPingFailureData };

function resolveHost(host: string, family: Family, lookupFn: LookupFunction = lookup): Promise<{ address: string; family: number }> {
  const v = isIP(host);
  if (v) return Promise.resolve({ address: host, family: v });
  return new Promise((resolve, reject) => {
    lookupFn(host, { family, verbatim: true }, (err, address, fam) => {
      if (err) return reject(err);
      const a = typeof address === 'string' ? { address, family: fam ?? isIP(address) } : address[0];
      if (a) resolve(a);
      else reject(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }));
    });
  });
}

type Attempt = { ok: true; rtt: number } | { ok: false; kind: 'refused' | 'timeout' | 'error'; message: string };

function attempt(ip: string, port: number, family: number, timeoutMs: number, localAddress: string | undefined, sockets: Set<Socket>): Promise<Attempt> {
  return new Promise((resolve) => {
    let done = false;
    const t0 = now();
    const copts: NetConnectOpts = { host: ip, port, family, autoSelectFamily: false, ...(localAddress ? { localAddress } : {}) };
    const s = connect(copts);
    sockets.add(s);
    const end = (a: Attempt): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sockets.delete(s);
      s.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => end({ ok: false, kind: 'timeout', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
    s.once('connect', () => end({ ok: true, rtt: now() - t0 }));
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') end({ ok: false, kind: 'refused', message: 'connection refused' });
      else end({ ok: false, kind: 'error', message: err.code ? `${err.code} ${err.message}` : err.message });
    });
    s.once('close', () => end({ ok: false, kind: 'error', message: 'cancelled' }));
  });
}

export async function tcpPing(opts: TcpPingOptions): Promise<TcpPingOutcome> {
  const destination = typeof opts.host === 'string' ? opts.host : String(opts.host);
  const fail = (reason: PingFailureReason, info: string, data?: Partial<TcpPingData>): TcpPingOutcome => ({
    status: 1,
    data: { ...data, destination, errorcode: PING_ERRORCODE, errorinfo: info, reason },
  });
  let host: string;
  let port: number;
  let count: number;
  let interval: number;
  let timeout: number;
  let family: Family;
  let localAddress: string | undefined;
  try {
    host = validateHost(opts.host, 'host');
    port = checkNumber(opts.port, 'port', NaN, 1, 65535, true);
    if (Number.isNaN(port)) throw new Error('port is required in TCP mode (1..65535)');
    count = checkNumber(opts.count, 'count', 3, 1, 10_000, true);
    interval = checkNumber(opts.interval, 'interval', 1, 0.001, 3600, false);
    timeout = checkNumber(opts.timeout, 'timeout', 2, 0.001, 3600, false);
    family = opts.family ?? 0;
    const v = isIP(host);
    if (family && v && v !== family) throw new Error(`host ${host} is an IPv${v} address but IPv${family} was asked for`);
    // net.connect throws at once on anything but an IP here (an interface name such as eth0 too).
    localAddress = opts.localAddress || undefined;
    if (localAddress !== undefined && !isIP(localAddress)) {
      throw new Error(`local address must be an IP address in TCP mode (got ${JSON.stringify(localAddress)}; interface names work for ICMP only)`);
    }
  } catch (err) {
    return fail('bad-input', (err as Error).message);
  }
  let target: { address: string; family: number };
  try {
    target = await resolveHost(host, family, opts.lookup);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail('unknown-host', `unknown host: ${host} (${e.code ?? e.message})`);
  }
  const sockets = new Set<Socket>();
  const signal = opts.signal;
  const onAbort = (): void => {
    for (const s of sockets) s.destroy();
  };
  signal?.addEventListener('abort', onAbort);
  const rtts: number[] = [];
  let refused = 0;
  let timeouts = 0;
  let lastError = '';
  let sent = 0;
  try {
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      if (signal?.aborted) break;
      const start = now();
      sent++;
      pending.push(
        attempt(target.address, port, target.family, timeout * 1000, localAddress, sockets).then((a) => {
          if (a.ok) rtts.push(a.rtt);
          else if (a.kind === 'refused') {
            refused++;
            if (opts.acceptRefused) rtts.push(now() - start);
          } else if (a.kind === 'timeout') timeouts++;
          else lastError = a.message;
        }),
      );
      if (i < count - 1) {
        // Wait for the attempt or the interval, whichever is longer, so attempts do not overlap
        // more than ping's would.
        const wait = sleep(timeout * 1000, signal);
        await Promise.race([pending[pending.length - 1], wait.done]);
        wait.cancel();
        const left = interval * 1000 - (now() - start);
        if (left > 0) await sleep(left, signal).done;
      }
    }
    await Promise.all(pending);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) return fail('cancelled', 'TCP probe cancelled (node closed)');
  const stats = rttStats(rtts, sent);
  const data: TcpPingData = {
    destination,
    destination_ip: target.address,
    port,
    packet_size: 0,
    method: 'tcp',
    ok: stats.packet_receive > 0,
    refused,
    timeouts,
    ...stats,
  };
  if (stats.packet_receive > 0) return { status: 0, data };
  if (refused === sent) return fail('refused', `connection refused by ${target.address} port ${port} (the host is up, the port is closed)`, data);
  if (timeouts > 0 && refused === 0 && !lastError) return fail('timeout', `no TCP answer from ${target.address} port ${port} within ${timeout} s`, data);
  return fail('unreachable', `TCP connect to ${target.address} port ${port} failed: ${lastError || `${refused} refused, ${timeouts} timed out`}`, data);
}

/** A wait that ends after `ms`, on abort, or on `cancel()` (which also frees its timer and listener). */
function sleep(ms: number, signal?: AbortSignal): { done: Promise<void>; cancel(): void } {
  let cancel = (): void => {};
  const done = new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(end, ms);
    function end(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', end);
      resolve();
    }
    signal?.addEventListener('abort', end, { once: true });
    cancel = end;
  });
  return { done, cancel };
}
