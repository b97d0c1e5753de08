/**
 * BACnet servers for bench/bacnet/server.bench.ts, each in a process of its own (fork):
 *   --fieldlink          our BacnetServer on our endpoint: 200 Analog Values (present value =
 *                        instance / 2) and 100 Analog Inputs for COV fan-out ("cov-<k>")
 *   --peer <npm name>    a responder built on node-bacnet or @bacnet-js/client answering
 *                        ReadProperty and ReadPropertyMultiple with the same values
 * Reports {port} over IPC; the fieldlink server also runs COV change bursts on request
 * ({cmd:'cov', rate, count}) and answers with the wall-clock time of every change.
 */
import { fork } from 'node:child_process';
import { BacnetEndpoint } from '../../src/lib/bacnet/endpoint';
import { BacnetServer } from '../../src/lib/bacnet/server/server';
import { bindServer } from '../../src/lib/bacnet/server/endpoint-binding';
import { ObjectType as O } from '../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../src/lib/bacnet/enums/property-identifier';
import { Value } from '../../src/lib/bacnet/codec/values';
import type { BacnetObject } from '../../src/lib/bacnet/objects/object';
import { startPeer, type PeerContent, type PeerName } from '../../test/helpers/bacnet-peers';

export const AV_COUNT = 200;
export const COV_OBJECTS = 100;

export interface ServerProcess {
  port: number;
  request<T>(msg: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** Wall clock with sub-millisecond resolution, comparable across processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
    child.once('message', (m) => {
      resolve({
        port: (m as { port: number }).port,
        request: <T>(msg: Record<string, unknown>) => new Promise<T>((res) => {
          child.once('message', (r) => res(r as T));
          child.send(msg);
        }),
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

async function fieldlink(): Promise<void> {
  const ep = await BacnetEndpoint.open({ localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', destinationPort: 9, receiveBufferSize: 1 << 22 });
  const server = new BacnetServer({ device: { instance: 5000, name: 'bench-server' }, maxCovSubscriptions: 10_000 });
  bindServer(server, ep);
  for (let i = 1; i <= AV_COUNT; i++) server.addObject(O.analogValue, { instance: i, name: `av-${i}`, values: [[P.presentValue, [Value.real(i / 2)]]] });
  const cov: BacnetObject[] = [];
  for (let k = 0; k < COV_OBJECTS; k++) cov.push(server.addObject(O.analogInput, { instance: k, name: `cov-${k}`, values: [[P.presentValue, [Value.real(0)]], [P.covIncrement, [Value.real(0.5)]]] }));
  server.start();
  process.on('message', (m: { cmd: string; rate: number; count: number }) => {
    if (m.cmd !== 'cov') return;
    // `count` changes at `rate` per second, round robin over the objects; the value is the change number
    const times: number[] = [];
    const t0 = wallMs();
    let n = 0;
    const step = (): void => {
      const due = Math.min(m.count, Math.floor(((wallMs() - t0) / 1000) * m.rate) + 1);
      while (n < due) {
        n++;
        times[n] = wallMs();
        cov[n % COV_OBJECTS]!.setLocal(P.presentValue, [Value.real(n)]);
      }
      if (n < m.count) setTimeout(step, 1);
      else process.send!({ times, sent: server.cov.stats.notificationsSent, subscriptions: server.cov.size });
    };
    step();
  });
  process.send!({ port: ep.transport.local.port });
  process.on('disconnect', () => void ep.close().then(() => process.exit(0)));
}

async function peer(name: PeerName): Promise<void> {
  const p = await startPeer(name);
  const REAL = 4;
  const value = (o: { type: number; instance: number }) => [{ type: REAL, value: o.instance / 2 }];
  p.api.on('readProperty', (c: PeerContent) => {
    const q = c.payload as { objectId: { type: number; instance: number }; property: { id: number; index?: number } };
    p.api.readPropertyResponse(c.header!.sender, c.invokeId!, q.objectId, q.property, value(q.objectId));
  });
  p.api.on('readPropertyMultiple', (c: PeerContent) => {
    const q = c.payload as { properties: Array<{ objectId: { type: number; instance: number }; properties: Array<{ id: number; index: number }> }> };
    p.api.readPropertyMultipleResponse(c.header!.sender, c.invokeId!, q.properties.map((s) => ({
      objectId: s.objectId, values: s.properties.map((pr) => ({ property: pr, value: value(s.objectId) })),
    })));
  });
  process.send!({ port: p.port });
  process.on('disconnect', () => {
    p.close();
    process.exit(0);
  });
}

if (process.argv.includes('--fieldlink')) void fieldlink();
const i = process.argv.indexOf('--peer');
if (i >= 0) void peer(process.argv[i + 1] as PeerName);
