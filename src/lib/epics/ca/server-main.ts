/**
 * Run a CaServer with a PV set in its own process, for tests and benchmarks (so that a client
 * under test and the server do not share one event loop).
 *
 * From code:
 *
 *   const srv = await spawnCaServer({ server: { port: 0, beacons: false }, pvs: [...],
 *     generate: [{ prefix: 'BENCH:', count: 100, type: 'DOUBLE' }] });
 *   srv.tcpPort;                                    // EPICS_CA_SERVER_PORT for clients
 *   await srv.request({ cmd: 'update', name: 'X', update: { value: 3 } });
 *   await srv.request({ cmd: 'burst', name: 'X', n: 10000 });   // n updates in one turn
 *   await srv.close();
 *
 * From a shell: `node dist/src/lib/epics/ca/server-main.js config.json` (or the JSON as the
 * argument); prints `{"event":"listening","tcpPort":...}` and serves until SIGINT/SIGTERM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CaServer, type CaServerOptions } from './server';
import type { PvDefinition, PvUpdate } from './server-pv';

/** Server options that survive serialisation (no hooks). */
export type ServerProcessOptions = Omit<CaServerOptions, 'writeHook' | 'accessRights' | 'pvs'>;

export interface ServerProcessConfig {
  server?: ServerProcessOptions;
  pvs?: PvDefinition[];
  /** Many similar PVs: `${prefix}${index padded to width}` for index 0..count-1. */
  generate?: Array<{ prefix: string; count: number; width?: number; type?: string; value?: number; units?: string; precision?: number; elements?: number }>;
  /** PVs updated periodically: value += step every periodMs (a ramping counter). */
  tickers?: Array<{ name: string; periodMs: number; step?: number }>;
  /** Forward client writes to the parent as `{event: 'write', ...}` messages. */
  forwardWrites?: boolean;
}

export type ServerCommand =
  | { cmd: 'update'; name: string; update: PvUpdate }
  | { cmd: 'burst'; name: string; n: number; start?: number }
  | { cmd: 'add'; pv: PvDefinition }
  | { cmd: 'remove'; name: string }
  | { cmd: 'stats' }
  | { cmd: 'close' };

interface Envelope {
  id: number;
  command: ServerCommand;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

function buildPvs(cfg: ServerProcessConfig): PvDefinition[] {
  const out = [...(cfg.pvs ?? [])];
  for (const g of cfg.generate ?? []) {
    const width = g.width ?? String(Math.max(0, g.count - 1)).length;
    for (let i = 0; i < g.count; i++) {
      const d: PvDefinition = { name: `${g.prefix}${String(i).padStart(width, '0')}`, type: g.type ?? 'DOUBLE', value: g.value ?? i };
      if (g.elements !== undefined) {
        d.count = g.elements;
        d.value = Float64Array.from({ length: g.elements }, (_, k) => k + i);
      }
      if (g.units !== undefined) d.units = g.units;
      if (g.precision !== undefined) d.precision = g.precision;
      out.push(d);
    }
  }
  return out;
}

/** Start a server in this process from a config (what the child runs). */
export async function runServer(cfg: ServerProcessConfig): Promise<{ server: CaServer; stop: () => Promise<void> }> {
  const server = new CaServer({ ...(cfg.server ?? {}), pvs: buildPvs(cfg) });
  await server.listen();
  const timers: NodeJS.Timeout[] = [];
  for (const t of cfg.tickers ?? []) {
    timers.push(setInterval(() => {
      const pv = server.getPv(t.name);
      if (!pv) return;
      server.update(t.name, { value: Number(pv.value[0] ?? 0) + (t.step ?? 1) });
    }, t.periodMs));
  }
  const stop = async (): Promise<void> => {
    for (const t of timers) clearInterval(t);
    await server.close();
  };
  return { server, stop };
}

function execute(server: CaServer, c: ServerCommand): unknown {
  switch (c.cmd) {
    case 'update':
      return server.update(c.name, c.update);
    case 'burst': {
      const start = c.start ?? 0;
      for (let i = 0; i < c.n; i++) server.update(c.name, { value: start + i });
      return c.n;
    }
    case 'add':
      server.addPv(c.pv);
      return true;
    case 'remove':
      return server.removePv(c.name);
    case 'stats':
      return { ...server.stats, clients: server.clientCount, pvs: server.pvCount };
    case 'close':
      return true;
  }
}

async function childMain(): Promise<void> {
  const arg = process.argv[2];
  let cfg: ServerProcessConfig = {};
  if (arg) cfg = JSON.parse(arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8')) as ServerProcessConfig;
  else if (process.env.FIELDLINK_CA_SERVER_CONFIG) cfg = JSON.parse(process.env.FIELDLINK_CA_SERVER_CONFIG) as ServerProcessConfig;
  const { server, stop } = await runServer(cfg);
  const ready = { event: 'listening', tcpPort: server.tcpPort, udpPort: server.udpPort };
  const send = process.send?.bind(process);
  if (send) {
    if (cfg.forwardWrites) server.on('write', (w) => send({ event: 'write', write: w }));
    process.on('message', (m: Envelope) => {
      let reply: Reply;
      try {
        reply = { id: m.id, ok: true, result: execute(server, m.command) };
      } catch (e) {
        reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      send(reply);
      if (m.command.cmd === 'close') void stop().then(() => process.exit(0));
    });
    process.on('disconnect', () => void stop().then(() => process.exit(0)));
    send(ready);
  } else {
    console.log(JSON.stringify(ready));
  }
  const quit = (): void => void stop().then(() => process.exit(0));
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
}

export interface CaServerProcess {
  tcpPort: number;
  udpPort: number;
  child: ChildProcess;
  request(command: ServerCommand): Promise<unknown>;
  /** Writes forwarded by the child (with `forwardWrites`). */
  onWrite(fn: (w: unknown) => void): void;
  close(): Promise<void>;
}

/** Fork a server process with `cfg`; resolves once it listens. */
export function spawnCaServer(cfg: ServerProcessConfig, timeoutMs = 10_000): Promise<CaServerProcess> {
  const child = fork(__filename, [], {
    env: { ...process.env, FIELDLINK_CA_SERVER_CONFIG: JSON.stringify(cfg) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const writeFns: Array<(w: unknown) => void> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('CA server process did not start in time'));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      for (const p of pending.values()) p.reject(new Error(`CA server process exited (${code})`));
      pending.clear();
      reject(new Error(`CA server process exited with ${code} before listening`));
    });
    child.on('message', (m: { event?: string; tcpPort?: number; udpPort?: number; write?: unknown } & Partial<Reply>) => {
      if (m.event === 'listening') {
        clearTimeout(timer);
        resolve({
          tcpPort: m.tcpPort!,
          udpPort: m.udpPort!,
          child,
          request(command) {
            return new Promise((res, rej) => {
              const id = nextId++;
              pending.set(id, { resolve: res, reject: rej });
              child.send({ id, command } satisfies Envelope);
            });
          },
          onWrite(fn) {
            writeFns.push(fn);
          },
          close() {
            return new Promise<void>((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res();
              const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
              child.once('exit', () => {
                clearTimeout(kill);
                res();
              });
              try {
                child.send({ id: 0, command: { cmd: 'close' } } satisfies Envelope);
              } catch {
                child.kill('SIGTERM');
              }
            });
          },
        });
      } else if (m.event === 'write') {
        for (const f of writeFns) f(m.write);
      } else if (typeof m.id === 'number') {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error ?? 'failed'));
      }
    });
  });
}

if (require.main === module) {
  childMain().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
