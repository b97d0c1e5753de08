/**
 * The commands every CA benchmark driver (Fieldlink, epics-tca, libca through Python) answers,
 * and a small client for them. Drivers time their own calls (microseconds / milliseconds), so
 * that the IPC between the benchmark and the driver is never inside a measurement.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type DriverCommand =
  | { op: 'connect'; names: string[] } // search + create, no read; -> {ms, failed, repeats?}
  | { op: 'clear'; names: string[] } // clear those channels
  | { op: 'fresh' } // for drivers that need a reset; all three keep their context (channels are cleared by 'clear')
  | { op: 'bulk'; names: string[]; samples: number } // -> {us[], values[]} (DBR_TIME_DOUBLE values)
  | { op: 'single'; name: string; samples: number } // -> {us[], value}
  | { op: 'memory'; names: string[] } // connect in a fresh context -> {failed, bytesPerChannel, rssPerChannel}
  | { op: 'monitor'; name: string } // subscribe, wait for the first value
  | { op: 'monitorCount'; name: string } // -> {received} updates after the first; unsubscribe
  | { op: 'quit' };

export class Driver {
  readonly name: string;
  readonly child: ChildProcess;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #ready: Promise<void>;
  stderr = '';

  private constructor(name: string, child: ChildProcess, lines: boolean) {
    this.name = name;
    this.child = child;
    let readyResolve: () => void = () => {};
    let readyReject: (e: Error) => void = () => {};
    this.#ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    const onMsg = (m: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string }): void => {
      if (m.ready) return readyResolve();
      const p = this.#pending.get(m.id ?? -1);
      if (!p) return;
      this.#pending.delete(m.id!);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error}`));
    };
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    if (lines) {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        try {
          onMsg(JSON.parse(l) as Parameters<typeof onMsg>[0]);
        } catch {
          // not a protocol line
        }
      });
    } else {
      child.on('message', (m) => onMsg(m as Parameters<typeof onMsg>[0]));
    }
    child.on('exit', (code) => {
      const e = new Error(`${name} driver exited (${code}): ${this.stderr.slice(-800)}`);
      readyReject(e);
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    });
  }

  static node(name: string, script: string, env: Record<string, string>, execArgv: string[] = []): Driver {
    return new Driver(name, fork(script, [], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }), false);
  }

  static python(name: string, script: string, env: Record<string, string>): Driver {
    return new Driver(name, spawn('/usr/bin/python3', [script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONUNBUFFERED: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] }), true);
  }

  ready(timeoutMs = 20_000): Promise<void> {
    return Promise.race([this.#ready, new Promise<void>((_, rej) => setTimeout(() => rej(new Error(`${this.name} did not start: ${this.stderr}`)), timeoutMs).unref())]);
  }

  call<T>(command: DriverCommand, timeoutMs = 300_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${command.op} timed out`));
      }, timeoutMs);
      t.unref();
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
      const msg = { id, command };
      if (this.child.stdin && !this.child.send) this.child.stdin.write(JSON.stringify(msg) + '\n');
      else if (this.child.send) this.child.send(msg);
      else this.child.stdin!.write(JSON.stringify(msg) + '\n');
    });
  }

  async quit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    try {
      if (this.child.send) this.child.send({ id: 0, command: { op: 'quit' } });
      else this.child.stdin!.write(JSON.stringify({ id: 0, command: { op: 'quit' } }) + '\n');
    } catch {
      this.child.kill('SIGTERM');
    }
    await gone;
    clearTimeout(kill);
  }
}
