/**
 * A loopback HTTP(S) server in its own process (child_process.fork), so that a timing comparison
 * between our probe and curl is not skewed by the server sharing the probe's event loop (a TLS
 * handshake's server half costs CPU there). It delays the first byte 20 ms and trickles a
 * 400-byte body over 30 ms.
 *   fork(slow-http-server.js, ['http'])            or ['https', keyPath, certPath]
 * Sends {port} once listening; exits when the parent disconnects.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';

export function slowHandler(_q: IncomingMessage, res: ServerResponse): void {
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('x'.repeat(100));
    let n = 0;
    const t = setInterval(() => {
      res.write('y'.repeat(100));
      if (++n === 3) {
        clearInterval(t);
        res.end();
      }
    }, 10);
  }, 20);
}

/** Start the server in a child process; resolves with its port and a stop function. */
export function startSlowServer(args: string[]): Promise<{ port: number; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`test server exited (${code})`)));
    child.once('message', (m) => {
      const port = (m as { port: number }).port;
      resolve({ port, stop: () => child.connected && child.disconnect() });
    });
  });
}

if (require.main === module) {
  const [mode, key, cert] = process.argv.slice(2);
  const server = mode === 'https' ? createHttpsServer({ key: readFileSync(key!), cert: readFileSync(cert!) }, slowHandler) : createServer(slowHandler);
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
  process.on('disconnect', () => {
    server.close();
    process.exit(0);
  });
}
