/**
 * What every probe node does around its library call: tell a natrix command from a plain msg,
 * validate, run the probe with an AbortSignal that `close` fires, build `{status, data}` (plain)
 * or `{command, status, data, stamp}` (natrix), set msg.topic, show the status, and end every
 * input with exactly one done()/done(err). Nothing in here throws out of a callback.
 */
import type { Node, NodeDef, NodeMessage, NodeStatus, RED } from './red';
import { looksLikeNatrixCommand, parseNatrixCommand, natrixEnvelope, NATRIX_GENERIC_ERROR, type NatrixCommand, type NatrixProtocol } from '../../src/lib/probe/natrix';
import { epochSeconds } from '../../src/lib/probe/common';

export interface ProbeOutcome {
  status: 0 | 1;
  data: object;
}

/** A prepared probe: what it targets and how to run it. */
export interface PreparedProbe {
  destination: string;
  run(signal: AbortSignal): Promise<ProbeOutcome>;
}

export interface ProbeNodeSpec {
  protocol: NatrixProtocol;
  /** Label used in texts ("probe-ping"). */
  type: string;
  /** Also pass failed probes to done(err), so Catch nodes see them. */
  errorsToCatch: boolean;
  /** Property holding the configured destination (typedInput) and its type. */
  destination: { value: string; type: string };
  /** Prepare from the configured destination; throws Error on bad input. */
  plain(destination: unknown, msg: NodeMessage): PreparedProbe;
  /** Prepare from a natrix command; throws Error on bad parameters. */
  natrix(command: NatrixCommand, msg: NodeMessage): PreparedProbe;
  /** Status for a finished probe. */
  status(outcome: ProbeOutcome): NodeStatus;
  /** Extra cleanup on close (kill children). */
  close?(): void;
}

export function fmtMs(v: number): string {
  if (!Number.isFinite(v) || v < 0) return '–';
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return String(Math.round(v));
}

function errorInfo(o: ProbeOutcome): string {
  const d = o.data as { errorinfo?: unknown };
  return typeof d.errorinfo === 'string' ? d.errorinfo : 'probe failed';
}

function evaluate(RED: RED, node: Node, value: string, type: string, msg: NodeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    try {
      RED.util.evaluateNodeProperty(value, type || 'str', node, msg, (err, v) => (err ? reject(err) : resolve(v)));
    } catch (err) {
      reject(err as Error);
    }
  });
}

/** Wire input and close handlers for a probe node. */
export function attachProbe(RED: RED, node: Node, spec: ProbeNodeSpec): void {
  const abort = new AbortController();
  let inflight = 0;
  let closed = false;

  node.on('input', (msg, send, done) => {
    const received = epochSeconds();
    let finished = false;
    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      if (err) done(err);
      else done();
    };
    const reply = (payload: unknown): void => {
      if (closed) return;
      msg.payload = payload;
      send(msg);
    };
    const payload = msg.payload;
    let command: NatrixCommand | undefined;

    const start = async (): Promise<void> => {
      let prepared: PreparedProbe;
      if (looksLikeNatrixCommand(payload)) {
        const parsed = parseNatrixCommand(payload);
        const head = parsed.command;
        const refuse = (text: string): void => {
          reply(natrixEnvelope(head, { status: 1 as const, data: { errorcode: NATRIX_GENERIC_ERROR, errorinfo: text } }, { received, sent: received, answered: received }, epochSeconds()));
          node.status({ fill: 'red', shape: 'ring', text: 'bad command' });
          finish(new Error(text));
        };
        if (!parsed.ok) return refuse(parsed.error);
        command = parsed.command;
        if (command.protocol !== spec.protocol) {
          return refuse(`${spec.type} runs ${spec.protocol.toUpperCase()} commands, not ${command.protocol.toUpperCase()}`);
        }
        try {
          prepared = spec.natrix(command, msg);
        } catch (err) {
          return refuse(`bad natrix parameters: ${(err as Error).message}`);
        }
      } else {
        let dest: unknown;
        try {
          dest = await evaluate(RED, node, spec.destination.value, spec.destination.type, msg);
          prepared = spec.plain(dest, msg);
        } catch (err) {
          const text = (err as Error).message || String(err);
          reply({ status: 1, data: { errorcode: NATRIX_GENERIC_ERROR, errorinfo: text } });
          node.status({ fill: 'red', shape: 'ring', text: 'bad input' });
          return finish(new Error(text));
        }
      }
      const sent = epochSeconds();
      inflight++;
      if (inflight === 1) node.status({ fill: 'blue', shape: 'ring', text: `probing ${prepared.destination}`.slice(0, 40) });
      let outcome: ProbeOutcome;
      try {
        outcome = await prepared.run(abort.signal);
      } catch (err) {
        outcome = { status: 1, data: { errorcode: NATRIX_GENERIC_ERROR, errorinfo: `probe failed: ${(err as Error).message}` } };
      } finally {
        inflight--;
      }
      const answered = epochSeconds();
      if (closed) return finish();
      msg.topic = prepared.destination;
      reply(command ? natrixEnvelope(command, outcome, { received, sent, answered }, epochSeconds()) : { status: outcome.status, data: outcome.data });
      node.status(spec.status(outcome));
      finish(outcome.status !== 0 && spec.errorsToCatch ? new Error(errorInfo(outcome)) : undefined);
    };
    start().catch((err: unknown) => {
      // Defensive: a bug above must not escape into Node-RED.
      finish(err instanceof Error ? err : new Error(String(err)));
    });
  });

  node.on('close', (_removed, done) => {
    closed = true;
    abort.abort();
    try {
      spec.close?.();
    } catch {
      /* nothing to do */
    }
    node.status({});
    done();
  });
}

/** Read a number from the editor config ('' or missing → default; text → NaN is refused). */
export function configNumber(config: NodeDef, key: string, def: number | undefined): number | undefined {
  const v = config[key];
  if (v === undefined || v === null || v === '') return def;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`${key} must be a number (got ${JSON.stringify(v)})`);
  return n;
}

export function configString(config: NodeDef, key: string, def = ''): string {
  const v = config[key];
  return typeof v === 'string' ? v : v === undefined || v === null ? def : String(v);
}

export function configBool(config: NodeDef, key: string, def: boolean): boolean {
  const v = config[key];
  if (v === undefined || v === null || v === '') return def;
  return v === true || v === 'true';
}

/**
 * Where this Node-RED's own HTTP server listens, for targets written relative to it: a probe-http
 * URL that starts with "/" (e.g. "/fieldlink-demo", served by an `http in` node) and a probe-ping
 * TCP port of "self". Lets loopback demos and self-checks work whatever port Node-RED runs on.
 */
export function selfTarget(RED: RED): { scheme: 'http' | 'https'; host: string; port: number; root: string } {
  const s = RED.settings as Record<string, unknown>;
  const port = typeof s.uiPort === 'number' ? s.uiPort : Number(s.uiPort) || 1880;
  const uiHost = typeof s.uiHost === 'string' ? s.uiHost : '';
  // A wildcard listen address is reached through loopback.
  const host = !uiHost || uiHost === '0.0.0.0' || uiHost === '::' ? '127.0.0.1' : uiHost;
  const root = typeof s.httpNodeRoot === 'string' && s.httpNodeRoot !== '/' ? s.httpNodeRoot.replace(/\/$/, '') : '';
  return { scheme: s.https ? 'https' : 'http', host, port, root };
}
