/**
 * ICMP echo through the system `ping` (Node's dgram cannot open ICMP sockets).
 *
 * The child runs with LC_ALL=C, the host as the last argument (some builds read anything after
 * it as another host), output parsed line by line as it arrives; statistics are computed from
 * the reply lines (stats.ts). A watchdog interrupts the child after the expected duration plus a
 * margin (SIGINT, so it still prints its summary) and kills it one second later. Every child is
 * tracked by the PingRunner that started it; `killAll()` ends them all (node close/redeploy).
 * Nothing here throws out of a child-process callback: every outcome is a result object.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { isIP } from 'node:net';
import { PingOutputParser, classifyPingError, type PingFailureReason, type PingParse } from './ping-parse';
import { rttStats, type RttStats } from './stats';
import { validateHost, checkNumber, type Family } from './common';

export type PingFlavour = 'iputils' | 'busybox' | 'bsd' | 'windows';

export interface PingOptions {
  host: string;
  /** 0 = let ping choose, 4 or 6 = force the family. */
  family?: Family;
  /** Echo requests to send (default 3). */
  count?: number;
  /** Seconds between requests (default 1). */
  interval?: number;
  /** Seconds to wait for each reply (default 2). */
  timeout?: number;
  /** Seconds after which ping stops whatever happened (optional; see the help about iputils -w). */
  deadline?: number;
  /** ICMP payload bytes (default 56). */
  size?: number;
  /** IP time-to-live / hop limit of the requests (optional). */
  ttl?: number;
  /** Source interface name or address (optional). */
  iface?: string;
  /** The command to run, default ['ping'] (e.g. ['busybox', 'ping']). */
  command?: string[];
  /** Output flavour; detected from the platform and `ping -V` when omitted. */
  flavour?: PingFlavour;
}

export interface PingData extends RttStats {
  destination: string;
  destination_ip: string;
  packet_size: number;
  method: 'icmp';
  ok: boolean;
  duplicates: number;
  /** TTL (hop limit) of the first reply, null when not printed. */
  ttl: number | null;
}

export interface PingFailureData extends Partial<PingData> {
  errorcode: number;
  errorinfo: string;
  reason: PingFailureReason;
  destination: string;
}

export type PingOutcome = { status: 0; data: PingData } | { status: 1; data: PingFailureData };

/** natrix: 140 = ping failure. */
export const PING_ERRORCODE = 140;

const DEFAULTS = { count: 3, interval: 1, timeout: 2, size: 56 };

export interface ResolvedPingOptions {
  host: string;
  family: Family;
  count: number;
  interval: number;
  timeout: number;
  deadline: number | undefined;
  size: number;
  ttl: number | undefined;
  iface: string | undefined;
}

/** Check and complete the options; throws an Error with a user-readable message. */
export function resolvePingOptions(o: PingOptions): ResolvedPingOptions {
  const host = validateHost(o.host, 'host');
  const family = o.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) throw new Error(`family must be 0, 4 or 6 (got ${String(family)})`);
  const ipv = isIP(host);
  if (family && ipv && ipv !== family) throw new Error(`host ${host} is an IPv${ipv} address but IPv${family} was asked for`);
  let iface: string | undefined;
  if (o.iface !== undefined && o.iface !== '') {
    if (typeof o.iface !== 'string' || !/^[A-Za-z0-9_.:%@-]{1,64}$/.test(o.iface) || o.iface.startsWith('-')) {
      throw new Error(`interface must be an interface name or address (got ${JSON.stringify(o.iface)})`);
    }
    iface = o.iface;
  }
  return {
    host,
    family,
    count: checkNumber(o.count, 'count', DEFAULTS.count, 1, 10_000, true),
    interval: checkNumber(o.interval, 'interval', DEFAULTS.interval, 0.002, 3600, false),
    timeout: checkNumber(o.timeout, 'timeout', DEFAULTS.timeout, 0.001, 3600, false),
    deadline: checkNumber(o.deadline, 'deadline', undefined, 1, 86_400, false),
    size: checkNumber(o.size, 'size', DEFAULTS.size, 0, 65_500, true),
    ttl: checkNumber(o.ttl, 'ttl', undefined, 1, 255, true),
    iface,
  };
}

/** Command-line arguments for one flavour (host last). */
export function pingArgs(flavour: PingFlavour, o: ResolvedPingOptions): string[] {
  const a: string[] = [];
  const secs = (s: number): string => String(Math.max(1, Math.ceil(s)));
  switch (flavour) {
    case 'iputils':
      a.push('-n', '-c', String(o.count), '-i', String(o.interval), '-W', secs(o.timeout), '-s', String(o.size));
      if (o.family) a.push(`-${o.family}`);
      if (o.ttl !== undefined) a.push('-t', String(o.ttl));
      if (o.iface) a.push('-I', o.iface);
      // -w changes iputils' stopping rule (it keeps sending until COUNT replies), so only on request.
      if (o.deadline !== undefined) a.push('-w', secs(o.deadline));
      break;
    case 'busybox':
      a.push('-c', String(o.count), '-s', String(o.size), '-W', secs(o.timeout));
      // Many BusyBox builds have no -i: pass it only when the interval is not the default 1 s.
      if (o.interval !== 1) a.push('-i', String(o.interval));
      if (o.family) a.push(`-${o.family}`);
      if (o.ttl !== undefined) a.push('-t', String(o.ttl));
      if (o.iface) a.push('-I', o.iface);
      if (o.deadline !== undefined) a.push('-w', secs(o.deadline));
      break;
    case 'bsd':
      // macOS/BSD: -W is the per-reply wait in ms, -m the TTL, -t the overall timeout.
      a.push('-n', '-c', String(o.count), '-i', String(o.interval), '-W', String(Math.round(o.timeout * 1000)), '-s', String(o.size));
      if (o.ttl !== undefined) a.push(o.family === 6 ? '-h' : '-m', String(o.ttl));
      if (o.iface) a.push(o.family === 6 ? '-I' : '-S', o.iface);
      if (o.deadline !== undefined) a.push('-t', secs(o.deadline));
      break;
    case 'windows':
      a.push('-n', String(o.count), '-w', String(Math.round(o.timeout * 1000)), '-l', String(o.size));
      if (o.family) a.push(`-${o.family}`);
      if (o.ttl !== undefined) a.push('-i', String(o.ttl));
      if (o.iface) a.push('-S', o.iface);
      break;
  }
  a.push(o.host);
  return a;
}

/** The longest delay setTimeout keeps (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long the child may run before the watchdog interrupts it (ms; may exceed MAX_TIMER_MS). */
export function watchdogMs(o: ResolvedPingOptions): number {
  if (o.deadline !== undefined) return (o.deadline + 1) * 1000;
  return ((o.count - 1) * o.interval + Math.max(1, Math.ceil(o.timeout)) + 2) * 1000;
}

const flavourCache = new Map<string, Promise<PingFlavour>>();

/** Detect the output flavour of a ping command (cached per command). */
export function detectFlavour(command: string[] = ['ping']): Promise<PingFlavour> {
  if (process.platform === 'win32') return Promise.resolve('windows');
  if (process.platform !== 'linux') return Promise.resolve('bsd');
  const key = command.join('\0');
  let p = flavourCache.get(key);
  if (!p) {
    p = new Promise<PingFlavour>((resolve) => {
      try {
        execFile(command[0]!, [...command.slice(1), '-V'], { env: cEnv(), timeout: 3000 }, (_err, stdout, stderr) => {
          const text = `${String(stdout)}\n${String(stderr)}`;
          if (/busybox/i.test(text)) resolve('busybox');
          else resolve('iputils');
        });
      } catch {
        resolve('iputils');
      }
    });
    flavourCache.set(key, p);
  }
  return p;
}

function cEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C', LANG: 'C', LANGUAGE: 'C' };
}

/** Build the outcome from parsed output and the way the child ended. */
export function pingOutcome(
  o: ResolvedPingOptions,
  parse: PingParse,
  ended: { exitCode: number | null; stderr: string; spawnError?: NodeJS.ErrnoException; watchdog?: boolean; cancelled?: boolean },
): PingOutcome {
  const destination = o.host;
  const fail = (reason: PingFailureReason, info: string, extra?: Partial<PingData>): PingOutcome => ({
    status: 1,
    data: { ...extra, destination, errorcode: PING_ERRORCODE, errorinfo: info, reason },
  });
  if (ended.spawnError) {
    const code = ended.spawnError.code;
    if (code === 'ENOENT') return fail('no-binary', 'no ping binary found on this system (install iputils-ping, or use TCP mode)');
    if (code === 'EACCES' || code === 'EPERM') return fail('permission', 'ping cannot be executed here (permission denied); use TCP mode');
    return fail('unparseable', `ping could not be started: ${ended.spawnError.message}`);
  }
  if (ended.cancelled) return fail('cancelled', 'ping cancelled (node closed)');
  const received = parse.replies.length;
  const sent = parse.transmitted ?? (ended.watchdog ? Math.max(received + parse.timeouts, 1) : o.count);
  const stats = rttStats(parse.replies.filter((r) => r.time !== null).map((r) => r.time!), sent);
  if (received > 0 && stats.packet_receive < received) {
    // Minimal BusyBox: a reply without a time.
    stats.packet_receive = received;
    stats.packet_loss = Math.max(0, stats.packet_send - received);
    stats.loss_percent = stats.packet_send ? Math.round((stats.packet_loss / stats.packet_send) * 100_000) / 1000 : 0;
  }
  const data: PingData = {
    destination,
    destination_ip: parse.destinationIp ?? (isIP(o.host) ? o.host : ''),
    packet_size: o.size,
    method: 'icmp',
    ok: received > 0,
    duplicates: parse.duplicates,
    ttl: parse.replies[0]?.ttl ?? null,
    ...stats,
  };
  if (received > 0) return { status: 0, data };
  const text = `${ended.stderr}\n${parse.other.join('\n')}`;
  const known = classifyPingError(text);
  if (known) return fail(known.reason, known.info, parse.transmitted !== undefined ? data : undefined);
  if (parse.transmitted !== undefined || parse.timeouts > 0) {
    return fail('no-reply', `no reply from ${destination} (${data.packet_send} sent, 100% loss)`, data);
  }
  if (ended.watchdog) return fail('timeout', `ping did not finish in time and printed no reply for ${destination}`, data);
  const first = text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' / ');
  return fail('unparseable', `ping exited with code ${ended.exitCode ?? 'none'} and no output Fieldlink understands${first ? `: ${first}` : ''}`);
}

/**
 * Runs pings as child processes, at most `maxConcurrent` at once (others wait their turn), and
 * kills every child it started on `killAll()`.
 */
export class PingRunner {
  readonly children = new Set<ChildProcess>();
  private readonly queue: Array<() => void> = [];
  private running = 0;
  private closed = false;
  constructor(private readonly maxConcurrent = 16) {}

  /** Number of ping children alive now. */
  get active(): number {
    return this.children.size;
  }

  /** Pids of the ping children alive now. */
  pids(): number[] {
    return [...this.children].map((c) => c.pid).filter((p): p is number => typeof p === 'number');
  }

  async run(opts: PingOptions): Promise<PingOutcome> {
    let o: ResolvedPingOptions;
    try {
      o = resolvePingOptions(opts);
    } catch (err) {
      return { status: 1, data: { destination: String(opts.host), errorcode: PING_ERRORCODE, errorinfo: (err as Error).message, reason: 'bad-input' } };
    }
    if (this.closed) return cancelled(o.host);
    if (this.running >= this.maxConcurrent) {
      await new Promise<void>((resolve) => this.queue.push(resolve));
      if (this.closed) return cancelled(o.host);
    }
    this.running++;
    try {
      const command = opts.command && opts.command.length ? opts.command : ['ping'];
      const flavour = opts.flavour ?? (await detectFlavour(command));
      if (this.closed) return cancelled(o.host);
      return await this.spawnOne(command, flavour, o);
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  private spawnOne(command: string[], flavour: PingFlavour, o: ResolvedPingOptions): Promise<PingOutcome> {
    return new Promise<PingOutcome>((resolve) => {
      const parser = new PingOutputParser();
      let stderr = '';
      let settled = false;
      let watchdog = false;
      let spawnError: NodeJS.ErrnoException | undefined;
      let child: ChildProcess;
      const timers: NodeJS.Timeout[] = [];
      const finish = (exitCode: number | null): void => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        this.children.delete(child);
        const ended = { exitCode, stderr, watchdog, cancelled: this.closed && !spawnError, ...(spawnError ? { spawnError } : {}) };
        let outcome: PingOutcome;
        try {
          outcome = pingOutcome(o, parser.end(), ended);
        } catch (err) {
          outcome = { status: 1, data: { destination: o.host, errorcode: PING_ERRORCODE, errorinfo: `ping output could not be read: ${(err as Error).message}`, reason: 'unparseable' } };
        }
        resolve(outcome);
      };
      try {
        child = spawn(command[0]!, [...command.slice(1), ...pingArgs(flavour, o)], {
          env: cEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        });
      } catch (err) {
        spawnError = err as NodeJS.ErrnoException;
        child = undefined as unknown as ChildProcess; // never added to the set
        finish(null);
        return;
      }
      this.children.add(child);
      child.stdout?.setEncoding('utf8');
      child.stderr?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        try {
          parser.push(chunk);
        } catch {
          /* the parser does not throw; guard anyway */
        }
      });
      child.stderr?.on('data', (chunk: string) => {
        if (stderr.length < 8192) stderr += chunk;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
        finish(null);
      });
      child.on('close', (code) => finish(code));
      // count × interval can pass setTimeout's limit (about 24.8 days): wait in steps.
      const arm = (left: number): void => {
        timers.push(
          setTimeout(() => {
            if (left > MAX_TIMER_MS) return arm(left - MAX_TIMER_MS);
            watchdog = true;
            child.kill('SIGINT');
            timers.push(setTimeout(() => child.kill('SIGKILL'), 1000));
          }, Math.min(left, MAX_TIMER_MS)),
        );
      };
      arm(watchdogMs(o));
    });
  }

  /** Kill every child and refuse new runs; pending runs resolve as cancelled. */
  killAll(): void {
    this.closed = true;
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const wake of this.queue.splice(0)) wake();
  }
}

function cancelled(host: string): PingOutcome {
  return { status: 1, data: { destination: host, errorcode: PING_ERRORCODE, errorinfo: 'ping cancelled (node closed)', reason: 'cancelled' } };
}
