/**
 * The natrix command/result envelope (creditease-natrix server ↔ natrixclient terminal).
 *
 * Command: `{uuid, terminal, protocol, destination, parameters, generate_timestamp}` with float
 * epoch seconds. Result: `{command: {uuid, terminal}, status, data, stamp}` where `stamp` holds the
 * five terminal/server times, also float epoch seconds. A failure is `{status: 1, data:
 * {errorcode, errorinfo}}`. Parameters are accepted in the spellings of both the natrix server
 * (`timeout`, `operation`, `dns_server`, `is_default`) and natrixclient (`dns_timeout`,
 * `dns_method`, `method`, `connect_timeout`), and checked for type: a wrong type is an error with
 * the parameter named, never a silent default.
 */
import { describe, parseFamily, type Family } from './common';

export type NatrixProtocol = 'ping' | 'http' | 'dns' | 'traceroute';

export interface NatrixCommand {
  uuid: string;
  terminal: string;
  protocol: NatrixProtocol;
  destination: string;
  parameters: Record<string, unknown>;
  /** Epoch seconds, or null when the command carried none. */
  generate_timestamp: number | null;
}

export interface NatrixStamp {
  server_request_generate_time: number | null;
  terminal_request_receive_time: number;
  terminal_request_send_time: number;
  terminal_response_receive_time: number;
  terminal_response_return_time: number;
}

export interface NatrixFailure {
  errorcode: number;
  errorinfo: string;
}

export interface NatrixResult<D = Record<string, unknown>> {
  command?: { uuid: string; terminal: string };
  status: 0 | 1;
  data: D | (NatrixFailure & Record<string, unknown>);
  stamp?: NatrixStamp;
}

/** natrix generic-exception error code. */
export const NATRIX_GENERIC_ERROR = 122;

/**
 * True when a payload is meant as a natrix command: an object carrying at least two of `uuid`,
 * `protocol` and `destination`. Such a payload is then validated strictly (a malformed command
 * is an error, not a plain trigger).
 */
export function looksLikeNatrixCommand(p: unknown): p is Record<string, unknown> {
  if (!p || typeof p !== 'object' || Array.isArray(p) || Buffer.isBuffer(p)) return false;
  const o = p as Record<string, unknown>;
  return ['uuid', 'protocol', 'destination'].filter((k) => k in o).length >= 2;
}

export type ParsedCommand = { ok: true; command: NatrixCommand } | { ok: false; error: string; command: { uuid: string; terminal: string } };

/** Validate a natrix command. */
export function parseNatrixCommand(p: Record<string, unknown>): ParsedCommand {
  const uuid = typeof p.uuid === 'string' || typeof p.uuid === 'number' ? String(p.uuid) : '';
  const terminal = typeof p.terminal === 'string' ? p.terminal : '';
  const head = { uuid, terminal };
  const bad = (error: string): ParsedCommand => ({ ok: false, error: `malformed natrix command: ${error}`, command: head });
  if (!uuid) return bad(`uuid must be a string (got ${describe(p.uuid)})`);
  if (p.terminal !== undefined && p.terminal !== null && typeof p.terminal !== 'string') return bad(`terminal must be a string (got ${describe(p.terminal)})`);
  if (typeof p.protocol !== 'string') return bad(`protocol must be a string (got ${describe(p.protocol)})`);
  const protocol = p.protocol.trim().toLowerCase();
  if (!['ping', 'http', 'https', 'dns', 'traceroute'].includes(protocol)) return bad(`unknown protocol ${JSON.stringify(p.protocol)}`);
  if (typeof p.destination !== 'string' || !p.destination.trim()) return bad(`destination must be a non-empty string (got ${describe(p.destination)})`);
  let parameters: Record<string, unknown> = {};
  if (typeof p.parameters === 'string' && p.parameters.trim()) {
    try {
      const v = JSON.parse(p.parameters) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('parameters must be an object');
      parameters = v as Record<string, unknown>;
    } catch {
      return bad('parameters is a string but not JSON');
    }
  } else if (p.parameters !== undefined && p.parameters !== null && p.parameters !== '') {
    if (typeof p.parameters !== 'object' || Array.isArray(p.parameters)) return bad(`parameters must be an object (got ${describe(p.parameters)})`);
    parameters = p.parameters as Record<string, unknown>;
  }
  let generate: number | null = null;
  if (p.generate_timestamp !== undefined && p.generate_timestamp !== null && p.generate_timestamp !== '') {
    const n = typeof p.generate_timestamp === 'string' ? Number(p.generate_timestamp) : p.generate_timestamp;
    if (typeof n !== 'number' || !Number.isFinite(n)) return bad(`generate_timestamp must be epoch seconds (got ${describe(p.generate_timestamp)})`);
    generate = n;
  }
  return {
    ok: true,
    command: {
      uuid,
      terminal,
      protocol: (protocol === 'https' ? 'http' : protocol) as NatrixProtocol,
      destination: p.destination.trim(),
      parameters,
      generate_timestamp: generate,
    },
  };
}

// ---------------------------------------------------------------- parameter readers

/** First present key among spellings. */
function pick(params: Record<string, unknown>, keys: string[]): [string, unknown] | undefined {
  for (const k of keys) {
    const v = params[k];
    if (v !== undefined && v !== null && v !== '') return [k, v];
  }
  return undefined;
}

function num(params: Record<string, unknown>, keys: string[], min: number, max: number, integer = false): number | undefined {
  const hit = pick(params, keys);
  if (!hit) return undefined;
  const [k, raw] = hit;
  const v = typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`parameters.${k} must be a number (got ${describe(raw)})`);
  if (integer && !Number.isInteger(v)) throw new Error(`parameters.${k} must be a whole number (got ${v})`);
  if (v < min || v > max) throw new Error(`parameters.${k} must be between ${min} and ${max} (got ${v})`);
  return v;
}

function bool(params: Record<string, unknown>, keys: string[]): boolean | undefined {
  const hit = pick(params, keys);
  if (!hit) return undefined;
  const [k, v] = hit;
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string' && /^(true|false|1|0|yes|no)$/i.test(v)) return /^(true|1|yes)$/i.test(v);
  throw new Error(`parameters.${k} must be true or false (got ${describe(v)})`);
}

function str(params: Record<string, unknown>, keys: string[]): string | undefined {
  const hit = pick(params, keys);
  if (!hit) return undefined;
  const [k, v] = hit;
  if (typeof v !== 'string') throw new Error(`parameters.${k} must be a string (got ${describe(v)})`);
  return v;
}

export interface NatrixPingParams {
  /** 'tcp' when a port or mode "tcp" is given, 'icmp' when mode "icmp"; undefined = the node's own. */
  mode?: 'icmp' | 'tcp';
  count?: number;
  /** seconds per reply */
  timeout?: number;
  interval?: number;
  deadline?: number;
  size?: number;
  ttl?: number;
  iface?: string;
  family?: Family;
  port?: number;
}

/** Ping parameters: count, timeout (s), packet_size, interface; plus interval, ttl, deadline, family, port/mode for TCP. */
export function natrixPingParams(p: Record<string, unknown>): NatrixPingParams {
  const port = num(p, ['port', 'tcp_port'], 1, 65535, true);
  const modeRaw = str(p, ['mode', 'method', 'ping_method']);
  let mode: 'icmp' | 'tcp' | undefined = port !== undefined ? 'tcp' : undefined;
  if (modeRaw !== undefined) {
    const m = modeRaw.toLowerCase();
    if (m !== 'icmp' && m !== 'tcp') throw new Error(`parameters.mode must be "icmp" or "tcp" (got ${JSON.stringify(modeRaw)})`);
    mode = m;
  }
  const famRaw = pick(p, ['family', 'ip_version', 'ip_protocol']);
  return {
    mode,
    count: num(p, ['count'], 1, 10_000, true),
    timeout: num(p, ['timeout', 'ping_timeout'], 0.001, 3600),
    interval: num(p, ['interval'], 0.002, 3600),
    deadline: num(p, ['deadline'], 1, 86_400),
    size: num(p, ['packet_size', 'size'], 0, 65_500, true),
    ttl: num(p, ['ttl'], 1, 255, true),
    iface: str(p, ['interface', 'iface']),
    family: famRaw ? parseFamily(famRaw[1], `parameters.${famRaw[0]}`) : undefined,
    port,
  };
}

export interface NatrixHttpParams {
  method?: string;
  /** ms */
  timeout?: number;
  /** ms */
  connectTimeout?: number;
  followRedirects?: boolean;
  maxRedirects?: number;
  saveBody?: boolean;
  saveHeaders?: boolean;
  auth?: { type: 'basic'; user: string; password: string };
  headers?: Record<string, string>;
  body?: string;
  localAddress?: string;
  family?: Family;
}

/** Parse natrix `http_header`: an object, a JSON string, or "Name: value" lines (";"/newline separated). */
export function parseHeaderParam(v: unknown, name = 'parameters.http_header'): Record<string, string> {
  if (v === undefined || v === null || v === '') return {};
  let obj: unknown = v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('{')) {
      try {
        obj = JSON.parse(t) as unknown;
      } catch {
        throw new Error(`${name} looks like JSON but does not parse`);
      }
    } else {
      const out: Record<string, string> = {};
      for (const part of t.split(/\r?\n|;(?=\s*[A-Za-z0-9-]+\s*:)/)) {
        if (!part.trim()) continue;
        const i = part.indexOf(':');
        if (i <= 0) throw new Error(`${name}: "${part.trim()}" is not "Name: value"`);
        out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
      }
      obj = out;
    }
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${name} must be an object of header names to values (got ${describe(v)})`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new Error(`${name}: invalid header name ${JSON.stringify(k)}`);
    if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') throw new Error(`${name}: header ${k} must be a string`);
    out[k] = String(val);
  }
  return out;
}

export function natrixHttpParams(p: Record<string, unknown>): NatrixHttpParams {
  const method = str(p, ['operation', 'method']);
  if (method !== undefined && !/^(get|post|put|delete|head|patch|options)$/i.test(method)) {
    throw new Error(`parameters.operation must be get, post, put, delete, head, patch or options (got ${JSON.stringify(method)})`);
  }
  const version = pick(p, ['prototol', 'protocol', 'http_version']);
  if (version && !/^(HTTPS?)?(1(\.[01]|1|0)?)?$/.test(String(version[1]).toUpperCase().replace(/[^0-9.A-Z]/g, ''))) {
    throw new Error(`parameters.${version[0]}: only HTTP/1.x is supported (got ${describe(version[1])})`);
  }
  const authType = str(p, ['auth_type', 'authentication_type']);
  const authUser = str(p, ['auth_user', 'authentication_content']);
  let auth: NatrixHttpParams['auth'];
  if (authUser !== undefined) {
    if (authType !== undefined && !/^basic(_auth)?$/i.test(authType)) throw new Error(`parameters.auth_type: only basic is supported (got ${JSON.stringify(authType)})`);
    const i = authUser.indexOf(':');
    if (i < 0) throw new Error('parameters.auth_user must be "user:password"');
    auth = { type: 'basic', user: authUser.slice(0, i), password: authUser.slice(i + 1) };
  }
  const bodyHit = pick(p, ['http_body', 'body']);
  let body: string | undefined;
  if (bodyHit) {
    const b = bodyHit[1];
    if (typeof b === 'string') body = b;
    else if (typeof b === 'object') body = JSON.stringify(b);
    else throw new Error(`parameters.${bodyHit[0]} must be a string or an object (got ${describe(b)})`);
  }
  const timeout = num(p, ['timeout'], 0.001, 86_400);
  const connectTimeout = num(p, ['connect_timeout'], 0.001, 86_400);
  const famRaw = pick(p, ['family', 'ip_version']);
  const headersHit = pick(p, ['http_header', 'headers']);
  return {
    method: method?.toUpperCase(),
    timeout: timeout !== undefined ? timeout * 1000 : undefined,
    connectTimeout: connectTimeout !== undefined ? connectTimeout * 1000 : undefined,
    followRedirects: bool(p, ['allow_redirects']),
    maxRedirects: num(p, ['max_redirects'], 0, 100, true),
    saveBody: bool(p, ['save_response_body']),
    saveHeaders: bool(p, ['save_response_header']),
    auth,
    headers: headersHit ? parseHeaderParam(headersHit[1], `parameters.${headersHit[0]}`) : undefined,
    body,
    localAddress: str(p, ['interface']),
    family: famRaw ? parseFamily(famRaw[1], `parameters.${famRaw[0]}`) : undefined,
  };
}

export interface NatrixDnsParams {
  type?: string;
  /** ip[:port]; '' = system resolver */
  server?: string;
  /** ms */
  timeout?: number;
}

export function natrixDnsParams(p: Record<string, unknown>): NatrixDnsParams {
  const isDefault = bool(p, ['is_default']);
  const server = str(p, ['dns_server', 'server']);
  const type = str(p, ['dns_method', 'dns_type', 'type', 'method']);
  const timeout = num(p, ['dns_timeout', 'timeout'], 0.001, 3600);
  return {
    type: type?.toUpperCase(),
    server: isDefault ? '' : server,
    timeout: timeout !== undefined ? timeout * 1000 : undefined,
  };
}

// ---------------------------------------------------------------- results

export interface StampTimes {
  received: number;
  sent: number;
  answered: number;
}

/** The natrix result for a command; `returned` is the time the result leaves the node. */
export function natrixEnvelope<D>(
  command: { uuid: string; terminal: string; generate_timestamp?: number | null },
  outcome: { status: 0 | 1; data: D },
  times: StampTimes,
  returned: number,
): Required<Pick<NatrixResult<D>, 'command' | 'stamp'>> & NatrixResult<D> {
  return {
    command: { uuid: command.uuid, terminal: command.terminal },
    status: outcome.status,
    data: outcome.data,
    stamp: {
      server_request_generate_time: command.generate_timestamp ?? null,
      terminal_request_receive_time: times.received,
      terminal_request_send_time: times.sent,
      terminal_response_receive_time: times.answered,
      terminal_response_return_time: returned,
    },
  };
}
