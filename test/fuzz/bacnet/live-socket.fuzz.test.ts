/**
 * Random and mutated datagrams into live endpoint sockets on loopback: a serving endpoint and a
 * client endpoint with requests in flight keep working, count what they drop, and never throw
 * (no uncaught exception, no unhandled rejection). 10^6 datagrams under `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BacnetEndpoint } from '../../../src/lib/bacnet/endpoint';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { fuzzIterations } from '../../helpers/env';
import { mutate, rng, seeds } from '../../helpers/bacnet-fuzz';

const local = { localAddress: '127.0.0.1', port: 0, broadcastAddress: '127.255.255.255' };

test('a serving endpoint and a requesting endpoint survive random and mutated datagrams', async () => {
  const faults: unknown[] = [];
  const onFault = (e: unknown): void => void faults.push(e);
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  const server = await BacnetEndpoint.open({ ...local, device: { instance: 1234 }, receiveBufferSize: 1 << 21 });
  const client = await BacnetEndpoint.open({ ...local, apduTimeout: 500, retries: 0, receiveBufferSize: 1 << 21 });
  server.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(21.5)] }));
  server.onConfirmed('write-property', () => undefined);
  const warnings: string[] = [];
  server.on('warning', (t) => warnings.push(t));
  client.on('warning', (t) => warnings.push(t));
  const raw = createSocket('udp4');
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
  const seed = Number(process.env.FIELDLINK_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const rnd = rng(seed);
  const base = seeds();
  const n = fuzzIterations(5_000);
  // keep some client requests in flight to the raw socket so forged replies can meet transactions
  const pendingToRaw: Array<Promise<unknown>> = [];
  const rawTarget = `127.0.0.1:${raw.address().port}`;
  for (let i = 0; i < 32; i++) pendingToRaw.push(client.confirmedRequest(rawTarget, 'read-property', { objectId: { type: 0, instance: i }, propertyId: 85 }).catch(() => undefined));
  let sent = 0;
  const targets = [server.transport.local.port, client.transport.local.port];
  while (sent < n) {
    const batch = Math.min(200, n - sent);
    await Promise.all(Array.from({ length: batch }, () => {
      const b = rnd() < 0.2
        ? Uint8Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256))
        : mutate(base[Math.floor(rnd() * base.length)]!, rnd);
      const port = targets[Math.floor(rnd() * 2)]!;
      return new Promise<void>((r) => raw.send(b, port, '127.0.0.1', () => r()));
    }));
    sent += batch;
    await new Promise((r) => setImmediate(r));
    if (sent % 20_000 === 0) {
      for (let i = 0; i < 16; i++) pendingToRaw.push(client.confirmedRequest(rawTarget, 'read-property', { objectId: { type: 0, instance: i }, propertyId: 85 }).catch(() => undefined));
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  // both still work
  const ack = await client.confirmedRequest(`127.0.0.1:${server.transport.local.port}`, 'read-property', { objectId: { type: 0, instance: 1 }, propertyId: 85 });
  assert.deepEqual(ack.value, [Value.real(21.5)]);
  await Promise.all(pendingToRaw);
  const s = server.stats();
  const c = client.stats();
  assert.ok(s.received + c.received > n / 4, `seed ${seed}: ${s.received + c.received} of ${n} datagrams arrived`);
  assert.ok(s.malformed + c.malformed > 0, 'malformed datagrams were counted');
  assert.deepEqual(warnings.filter((w) => /internal error/.test(w)), [], `seed ${seed}`);
  raw.close();
  await client.close();
  await server.close();
  process.off('uncaughtException', onFault);
  process.off('unhandledRejection', onFault);
  assert.deepEqual(faults, [], `seed ${seed}`);
});
