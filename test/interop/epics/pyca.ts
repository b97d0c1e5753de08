/**
 * Runs test/interop/epics/ca_driver.py (libca through Debian python3-pyepics) as a child process
 * and talks JSON lines with it. Environment: EPICS_CA_ADDR_LIST=127.0.0.1:<port>,
 * EPICS_CA_AUTO_ADDR_LIST=NO, EPICS_CA_SERVER_PORT=<port>, a private repeater port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot, haveCommand } from '../../helpers/env';

export const PYTHON = '/usr/bin/python3';

let available: boolean | undefined;
/** True when /usr/bin/python3 can import epics and load libca. */
export function havePyepics(): boolean {
  if (available === undefined) {
    available = haveCommand(PYTHON) && spawnSync(PYTHON, ['-c', 'import epics.ca as c; c.initialize_libca()'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  }
  return available;
}

export interface PyEvent {
  event: number;
  [k: string]: unknown;
}

export class PyCa {
  readonly child: ChildProcess;
  readonly events: PyEvent[] = [];
  stderr = '';
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #eventWaiters: Array<() => void> = [];

  constructor(port: number, extraEnv: Record<string, string> = {}) {
    const repeater = String(20000 + Math.floor(Math.random() * 20000));
    this.child = spawn(PYTHON, [join(repoRoot, 'test', 'interop', 'epics', 'ca_driver.py')], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        EPICS_CA_ADDR_LIST: `127.0.0.1:${port}`,
        EPICS_CA_AUTO_ADDR_LIST: 'NO',
        EPICS_CA_SERVER_PORT: String(port),
        EPICS_CA_REPEATER_PORT: repeater,
        EPICS_CA_MAX_ARRAY_BYTES: '100000000',
        PYTHONUNBUFFERED: '1',
        ...extraEnv,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let m: { id?: number; ok?: boolean; result?: unknown; error?: string; event?: number };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        return;
      }
      if (typeof m.event === 'number') {
        this.events.push(m as PyEvent);
        const w = this.#eventWaiters;
        this.#eventWaiters = [];
        for (const f of w) f();
      } else if (typeof m.id === 'number') {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`python: ${m.error}`));
      }
    });
    this.child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`python driver exited (${code}): ${this.stderr.slice(-500)}`));
      this.#pending.clear();
    });
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`python ${op} timed out; stderr: ${this.stderr.slice(-500)}`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.child.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  /** Wait until at least `n` events with id `sub` have arrived; returns them. */
  async waitEvents(sub: number, n: number, timeoutMs = 5000): Promise<PyEvent[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const got = this.events.filter((e) => e.event === sub);
      if (got.length >= n) return got;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`got ${got.length}/${n} events for ${sub}: ${JSON.stringify(got)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#eventWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      this.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      this.child.stdin!.write(JSON.stringify({ op: 'quit' }) + '\n');
      this.child.stdin!.end();
    });
  }
}
