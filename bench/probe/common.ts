/**
 * Start bench/probe/server.js in its own process, listening on `ports` ports; resolve with the
 * first port, all of them, and a stop function.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';

export async function startServer(mode: 'fast' | 'slow', ports = 1): Promise<{ port: number; ports: number[]; stop(): void }> {
  const child = fork(join(__dirname, 'server.js'), [mode, String(ports)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const all = await new Promise<number[]>((resolve, reject) => {
    child.once('message', (m: { ports: number[] }) => resolve(m.ports));
    child.once('exit', (code) => reject(new Error(`benchmark server exited (${code})`)));
  });
  return {
    port: all[0]!,
    ports: all,
    stop: () => {
      child.disconnect();
      setTimeout(() => child.kill(), 1000).unref();
    },
  };
}
