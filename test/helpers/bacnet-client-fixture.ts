/**
 * Fixtures for the BACnet client tests: our BacnetServer (the server engineer's object model)
 * on its own loopback endpoint as the remote device, raw responders on an endpoint for
 * behaviours a real server would not show on demand (aborts, refusals, silence), and client
 * endpoints. Everything binds 127.0.0.1 port 0; broadcasts go to 127.255.255.255 on port 9
 * (discard), never to 47808.
 */
import { BacnetEndpoint, type BacnetEndpointOptions } from '../../src/lib/bacnet/endpoint';
import { BacnetServer, type ServerOptions } from '../../src/lib/bacnet/server/server';
import { bindServer } from '../../src/lib/bacnet/server/endpoint-binding';
import { type DatagramTransport, UdpTransport } from '../../src/lib/bacnet/transport';
import type { UdpFrame } from './pcap';

export const LOOPBACK = { localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', destinationPort: 9 } as const;

export interface DeviceFixture {
  server: BacnetServer;
  endpoint: BacnetEndpoint;
  /** '127.0.0.1:port' */
  addr: string;
  port: number;
  close(): Promise<void>;
}

/** Our server as a remote device on loopback. */
export async function startDevice(opts: Partial<ServerOptions> & { instance?: number; endpoint?: BacnetEndpointOptions } = {}): Promise<DeviceFixture> {
  const endpoint = await BacnetEndpoint.open({ ...LOOPBACK, apduTimeout: 1000, retries: 1, ...opts.endpoint });
  const server = new BacnetServer({ device: { instance: opts.instance ?? 4711, name: 'fixture device', vendorId: 555, vendorName: 'Fieldlink tests', modelName: 'fixture' }, ...opts });
  const unbind = bindServer(server, endpoint, { apduTimeout: 1000, retries: 1 });
  server.start();
  const port = endpoint.transport.local.port;
  return {
    server, endpoint, port, addr: `127.0.0.1:${port}`,
    close: async () => {
      unbind();
      server.stop();
      await endpoint.close();
    },
  };
}

/** A bare endpoint (client side, or a raw responder with handlers of the test's own). */
export function openEndpoint(opts: BacnetEndpointOptions = {}): Promise<BacnetEndpoint> {
  return BacnetEndpoint.open({ ...LOOPBACK, apduTimeout: 1000, retries: 1, ...opts });
}

/** A UDP transport that keeps a copy of every datagram it sends (for tshark). */
export class RecordingTransport implements DatagramTransport {
  readonly frames: UdpFrame[] = [];
  constructor(private readonly inner: DatagramTransport) {}
  get local(): { host: string; port: number } {
    return this.inner.local;
  }
  get broadcastAddress(): string {
    return this.inner.broadcastAddress;
  }
  get onMessage(): DatagramTransport['onMessage'] {
    return this.inner.onMessage;
  }
  set onMessage(f: DatagramTransport['onMessage']) {
    this.inner.onMessage = f;
  }
  send(data: Uint8Array, host: string, port: number, cb: (err?: Error) => void): void {
    this.frames.push({ srcPort: this.inner.local.port, dst: host, dstPort: port, payload: data.slice() });
    this.inner.send(data, host, port, cb);
  }
  isSelf(host: string, port: number): boolean {
    return this.inner.isSelf(host, port);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A client-side endpoint whose sends are recorded. */
export async function openRecordingEndpoint(opts: BacnetEndpointOptions = {}): Promise<{ endpoint: BacnetEndpoint; recording: RecordingTransport }> {
  const recording = new RecordingTransport(await UdpTransport.open({ ...LOOPBACK, ...opts }));
  return { endpoint: new BacnetEndpoint(recording, { ...LOOPBACK, apduTimeout: 1000, retries: 1, ...opts }), recording };
}
