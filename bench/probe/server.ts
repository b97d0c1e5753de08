/**
 * Loopback HTTP server for the probe benchmarks, run in its own process (child_process.fork):
 *   fast  answers "ok" at once
 *   slow  delays the first byte 20 ms, then trickles a 4-chunk body over 30 ms
 * A third argument N listens on N ports with the same handler (a benchmark that opens tens of
 * thousands of connections gives each round a port of its own: connections to one port from
 * 127.0.0.1 run out of ephemeral source ports while the earlier ones sit in TIME_WAIT, and the
 * kernel's search for a free one then dominates the figures).
 * Sends {port, ports} to the parent once listening; exits when the parent disconnects.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';

const mode = process.argv[2] ?? 'fast';
const count = Math.max(1, Number(process.argv[3] ?? 1) || 1);
const handler = (_req: IncomingMessage, res: ServerResponse): void => {
  if (mode === 'fast') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
    return;
  }
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('a'.repeat(256));
    let n = 0;
    const t = setInterval(() => {
      res.write('b'.repeat(256));
      if (++n === 3) {
        clearInterval(t);
        res.end();
      }
    }, 10);
  }, 20);
};
const servers: Server[] = [];
void Promise.all(Array.from({ length: count }, () => new Promise<number>((resolve) => {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
}))).then((ports) => process.send?.({ port: ports[0], ports }));
process.on('disconnect', () => {
  for (const s of servers) s.close();
  process.exit(0);
});
