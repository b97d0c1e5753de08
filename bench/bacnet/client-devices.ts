/**
 * Simulated BACnet devices for the client benchmark, in a process of their own: `count` devices
 * (one endpoint and UDP port each, on 127.0.0.1), each answering ReadProperty and
 * ReadPropertyMultiple of any object with REAL instance / 2 after `delay` ms (a round-trip time
 * like a real controller's), one answer at a time per device unless `parallel` is set.
 * Reports the ports over IPC; exits when the parent disconnects.
 */
import { fork } from 'node:child_process';
import { BacnetEndpoint } from '../../src/lib/bacnet/endpoint';
import { Value } from '../../src/lib/bacnet/codec/values';

export interface SimulatedDevices {
  ports: number[];
  stop(): Promise<void>;
}

export function startDevices(count: number, delay: number): Promise<SimulatedDevices> {
  const child = fork(__filename, ['--devices', String(count), String(delay)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`simulated devices exited with ${code}`)));
    child.once('message', (m) => {
      resolve({
        ports: (m as { ports: number[] }).ports,
        stop: () => new Promise<void>((r) => {
          child.removeAllListeners('exit');
          child.once('exit', () => r());
          child.disconnect();
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        }),
      });
    });
  });
}

const later = <T>(ms: number, f: () => T): Promise<T> => new Promise((r) => setTimeout(() => r(f()), ms));

async function serve(count: number, delay: number): Promise<void> {
  const eps: BacnetEndpoint[] = [];
  for (let i = 0; i < count; i++) {
    const ep = await BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', destinationPort: 9, device: { instance: 10_000 + i }, receiveBufferSize: 1 << 20 });
    ep.onConfirmed('read-property', (req) => later(delay, () => ({ ...req, value: [Value.real(req.objectId.instance / 2)] })));
    ep.onConfirmed('read-property-multiple', (req) => later(delay, () => ({
      results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(s.objectId.instance / 2)] })) })),
    })));
    eps.push(ep);
  }
  process.send!({ ports: eps.map((e) => e.transport.local.port) });
  process.on('disconnect', () => void Promise.all(eps.map((e) => e.close())).then(() => process.exit(0)));
}

const at = process.argv.indexOf('--devices');
if (at >= 0) void serve(Number(process.argv[at + 1]), Number(process.argv[at + 2]));
