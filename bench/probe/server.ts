/**
 * Loopback HTTP server for the probe benchmarks, run in its own process (child_process.fork):
 *   fast  answers "ok" at once
 *   slow  delays the first byte 20 ms, then trickles a 4-chunk body over 30 ms
 * Sends {port} to the parent once listening; exits when the parent disconnects.
 */
import { createServer } from 'node:http';

const mode = process.argv[2] ?? 'fast';
const server = createServer((_req, res) => {
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
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as { port: number }).port });
});
process.on('disconnect', () => {
  server.close();
  process.exit(0);
});
