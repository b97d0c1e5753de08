/**
 * A minimal BACnet device for benchmarks, on our endpoint, in its own process: answers
 * ReadProperty of any object with REAL instance / 2 (so clients can check every value), and
 * ReadPropertyMultiple likewise. Started by `startResponder()` (child_process.fork); prints
 * nothing, reports its UDP port over IPC, exits when the parent disconnects.
 */
import { fork } from 'node:child_process';
import { BacnetEndpoint } from '../../src/lib/bacnet/endpoint';
import { Value } from '../../src/lib/bacnet/codec/values';

export interface Responder {
  port: number;
  stop(): Promise<void>;
}

/** Fork this module as a responder process on 127.0.0.1 and wait for its port. */
export function startResponder(): Promise<Responder> {
  const child = fork(__filename, ['--responder'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`responder exited with ${code}`)));
    child.once('message', (m) => {
      const port = (m as { port: number }).port;
      resolve({
        port,
        stop: () => new Promise<void>((r) => {
          child.removeAllListeners('exit');
          child.once('exit', () => r());
          child.disconnect();
          setTimeout(() => child.kill('SIGKILL'), 2000).unref();
        }),
      });
    });
  });
}

async function serve(): Promise<void> {
  const ep = await BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', device: { instance: 4000 }, receiveBufferSize: 1 << 21 });
  ep.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(req.objectId.instance / 2)] }));
  ep.onConfirmed('read-property-multiple', (req) => ({
    results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(s.objectId.instance / 2)] })) })),
  }));
  process.send!({ port: ep.transport.local.port });
  process.on('disconnect', () => void ep.close().then(() => process.exit(0)));
}

if (process.argv.includes('--responder')) void serve();
