/** Start bench/probe/server.js in its own process; resolve with its port and a stop function. */
import { fork } from 'node:child_process';
import { join } from 'node:path';

export async function startServer(mode: 'fast' | 'slow'): Promise<{ port: number; stop(): void }> {
  const child = fork(join(__dirname, 'server.js'), [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`benchmark server exited (${code})`)));
  });
  return {
    port,
    stop: () => {
      child.disconnect();
      setTimeout(() => child.kill(), 1000).unref();
    },
  };
}
