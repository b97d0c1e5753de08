/**
 * The server's request path on a live socket: mutated requests of every served service (and
 * the stack's sample frames and capture vectors) sent to a populated server bound to an
 * endpoint on loopback. The server keeps answering valid requests between batches, no handler
 * fails unexpectedly (internal errors stay 0), and nothing throws (no uncaught exception or
 * unhandled rejection). 10^6 datagrams under `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { ObjectType as O } from '../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../src/lib/bacnet/enums/property-identifier';
import { BacnetServer } from '../../../src/lib/bacnet/server/server';
import { bindServer } from '../../../src/lib/bacnet/server/endpoint-binding';
import { fuzzIterations } from '../../helpers/env';
import { mutate, rng, seeds } from '../../helpers/bacnet-fuzz';
import { populate, serverSeeds } from '../../helpers/bacnet-server-fixture';

test('a populated server keeps answering under mutated requests', async () => {
  const faults: unknown[] = [];
  const onFault = (e: unknown): void => void faults.push(e);
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  const local = { localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255', destinationPort: 9 };
  const ep = await BacnetEndpoint.open({ ...local, receiveBufferSize: 1 << 21, apduTimeout: 300, retries: 0 });
  const client = await BacnetEndpoint.open({ ...local, apduTimeout: 2000, retries: 2 });
  const server = new BacnetServer({ device: { instance: 2024, name: 'fuzz' }, password: 'fuzz-password', allowCreateDelete: true });
  const unbind = bindServer(server, ep);
  populate(server);
  server.start();
  const raw = createSocket('udp4');
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
  const seed = Number(process.env.FIELDLINK_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const rnd = rng(seed);
  const mine = serverSeeds(2024);
  const base = [...mine, ...mine, ...seeds()];
  const n = fuzzIterations(6_000);
  const port = ep.transport.local.port;
  const target = `127.0.0.1:${port}`;
  let sent = 0;
  let checks = 0;
  try {
    while (sent < n) {
      const batch = Math.min(200, n - sent);
      await Promise.all(Array.from({ length: batch }, () => {
        const b = rnd() < 0.1
          ? Uint8Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256))
          : mutate(base[Math.floor(rnd() * base.length)]!, rnd);
        return new Promise<void>((r) => raw.send(b, port, '127.0.0.1', () => r()));
      }));
      sent += batch;
      await new Promise((r) => setImmediate(r));
      if (sent % 2000 < 200 || sent === n) {
        // a mutated DCC cannot pass the password; a mutated TimeSynchronization may move the clock: both harmless
        const rp = await client.confirmedRequest(target, 'read-property', { objectId: { type: O.device, instance: 2024 }, propertyId: P.objectName });
        assert.equal(rp.value[0]!.type, 'character-string');
        checks++;
      }
    }
  } finally {
    raw.close();
    unbind();
    server.stop();
    await Promise.all([ep.close(), client.close()]);
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
  }
  assert.ok(checks >= 2);
  assert.equal(server.stats.internalErrors, 0, `seed ${seed}: ${server.stats.lastInternalError ?? ''}`);
  assert.deepEqual(faults, [], `seed ${seed}`);
  assert.ok(server.stats.confirmed > n / 20, `requests reached the handlers (${server.stats.confirmed})`);
  assert.equal(server.db.listenerErrors, 0, String(server.db.lastListenerError));
});
