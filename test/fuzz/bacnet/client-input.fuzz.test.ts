/**
 * The client's own input paths under random and mutated input: point specifications as users and
 * msgs give them (only BacnetValueError in words, never a TypeError), value rendering of random
 * values for every object type and property (never throws), and a client with COV subscriptions,
 * a poll group and requests in flight receiving random and mutated datagrams (notifications,
 * ACKs, I-Am) on a live socket: no uncaught exception, and it still reads correctly afterwards.
 * 10^6 iterations under `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BacnetClient } from '../../../src/lib/bacnet/client/client';
import { parsePoint, renderValue } from '../../../src/lib/bacnet/client/points';
import { BacnetValueError } from '../../../src/lib/bacnet/codec/js';
import { Value, type BacnetValue } from '../../../src/lib/bacnet/codec/values';
import { BacnetNameError } from '../../../src/lib/bacnet/enums/enum';
import { encodeFrame } from '../../../src/lib/bacnet/frame';
import { PduType } from '../../../src/lib/bacnet/apdu';
import { Writer } from '../../../src/lib/wire/writer';
import { encodeCovNotification } from '../../../src/lib/bacnet/services/cov-notification';
import { fuzzIterations } from '../../helpers/env';
import { mutate, rng, seeds } from '../../helpers/bacnet-fuzz';
import { openEndpoint } from '../../helpers/bacnet-client-fixture';

const seed = Number(process.env.FIELDLINK_FUZZ_SEED ?? Date.now() % 2 ** 31);

function randomText(rnd: () => number): string {
  const alphabet = 'aAiIvVbBoOmsStTeE-_:,/ .[]0123456789#$%\u00e9\u2603';
  const words = ['analog-input', 'ai', 'analogValue', 'bo', 'msv', 'device', 'present-value', 'pv', 'units', 'priority-array', '4194303', '4194304', '-1', '99999999999'];
  let s = '';
  const n = Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) s += rnd() < 0.5 ? words[Math.floor(rnd() * words.length)] : alphabet[Math.floor(rnd() * alphabet.length)];
  return s;
}

function randomThing(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * 9);
  switch (k) {
    case 0: return randomText(rnd);
    case 1: return Math.floor(rnd() * 2 ** 33) - 2 ** 31;
    case 2: return rnd() < 0.5 ? null : undefined;
    case 3: return [randomThing(rnd, depth + 1), randomThing(rnd, depth + 1)];
    case 4: return { type: randomThing(rnd, depth + 1), instance: randomThing(rnd, depth + 1) };
    case 5: return { object: randomText(rnd), property: randomThing(rnd, depth + 1), arrayIndex: randomThing(rnd, depth + 1), name: randomThing(rnd, depth + 1) };
    case 6: return rnd() < 0.5;
    case 7: return depth < 2 ? { objectId: randomThing(rnd, depth + 1), index: randomText(rnd) } : 1.5;
    default: return NaN;
  }
}

test('point specifications: random input fails only with words', () => {
  const rnd = rng(seed);
  const n = fuzzIterations(20_000);
  // Valid spellings, given as they are every 8th input (they must parse) and with one character
  // changed otherwise (near misses: parse or fail in words), so the valid paths are exercised
  // whatever the seed; the rest is random.
  const valid = ['analog-input:1', 'ai:1.units', 'av:2.priority-array[8]', 'analogValue:3', 'bo:4.pv', 'msv:5.present-value'];
  const validObjects: unknown[] = [{ type: 'ai', instance: 1 }, [0, 1], { object: 'ai:7', property: 'units', name: 'Zone' }];
  let ok = 0;
  let validOk = 0;
  let validGiven = 0;
  for (let i = 0; i < n; i++) {
    let x: unknown;
    if (i % 8 === 0) {
      const all = [...valid, ...validObjects];
      x = all[Math.floor(rnd() * all.length)];
      validGiven++;
      parsePoint(x); // throws (and fails the test) if a valid spelling is refused
      validOk++;
      continue;
    }
    if (i % 8 === 1) {
      const v = valid[Math.floor(rnd() * valid.length)]!;
      const at = Math.floor(rnd() * v.length);
      x = v.slice(0, at) + randomText(rnd).slice(0, 1) + v.slice(at + 1);
    } else {
      x = randomThing(rnd);
    }
    try {
      parsePoint(x);
      ok++;
    } catch (e) {
      if (!(e instanceof BacnetValueError) && !(e instanceof BacnetNameError)) {
        assert.fail(`seed ${seed}: parsePoint(${JSON.stringify(x)}) threw ${String(e)}`);
      }
      assert.ok((e as Error).message.length > 5);
    }
  }
  assert.equal(validOk, validGiven, 'every valid spelling parses');
  assert.ok(validGiven > 0 && ok > 0, `seed ${seed}: some near misses parse (${ok})`);
});

test('rendering random values for random object types and properties never throws', () => {
  const rnd = rng(seed ^ 0x5a5a);
  const n = fuzzIterations(20_000);
  const make = (): BacnetValue => {
    switch (Math.floor(rnd() * 8)) {
      case 0: return Value.null();
      case 1: return Value.real(rnd() * 100);
      case 2: return Value.enumerated(Math.floor(rnd() * 300));
      case 3: return Value.unsigned(Math.floor(rnd() * 1e6));
      case 4: return Value.bitString(Array.from({ length: Math.floor(rnd() * 10) }, () => rnd() < 0.5));
      case 5: return Value.characterString(randomText(rnd));
      case 6: return Value.objectId(Math.floor(rnd() * 60), Math.floor(rnd() * 100));
      default: return Value.constructed(Math.floor(rnd() * 4), [Value.real(1)]);
    }
  };
  for (let i = 0; i < n; i++) {
    const vs = Array.from({ length: Math.floor(rnd() * 4) }, make);
    renderValue(Math.floor(rnd() * 70), Math.floor(rnd() * 600), vs, rnd() < 0.2 ? Math.floor(rnd() * 20) : undefined);
  }
});

test('a client with COV subscriptions, a poll group and requests in flight survives random datagrams', async () => {
  const faults: unknown[] = [];
  const onFault = (e: unknown): void => void faults.push(e);
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
  const dev = await openEndpoint({ device: { instance: 55 }, receiveBufferSize: 1 << 21 });
  dev.onConfirmed('read-property', (req) => ({ ...req, value: [Value.real(req.objectId.instance / 2)] }));
  dev.onConfirmed('read-property-multiple', (req) => ({ results: req.specs.map((s) => ({ objectId: s.objectId, results: s.properties.map((p) => ({ propertyId: p.propertyId, value: [Value.real(s.objectId.instance / 2)] })) })) }));
  dev.onConfirmed('subscribe-cov', () => undefined);
  const ep = await openEndpoint({ apduTimeout: 300, retries: 0, receiveBufferSize: 1 << 21 });
  const client = new BacnetClient(ep, { cov: { pollInterval: 100, notifyTimeout: 200 } });
  const addr = `127.0.0.1:${dev.transport.local.port}`;
  let delivered = 0;
  const subs = [1, 2, 3].map((i) => client.cov.subscribe({ device: addr, objectId: { type: 0, instance: i }, processId: 7 }, { values: () => void delivered++ }));
  const poll = client.polls.add(addr, [{ objectId: { type: 2, instance: 1 }, propertyId: 85 }], 50, () => void delivered++);
  const raw = createSocket('udp4');
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
  const rnd = rng(seed ^ 0x33);
  // seeds: the usual frames plus COV notifications for the live subscriptions
  const base = seeds();
  for (let i = 1; i <= 3; i++) {
    const w = new Writer(64);
    encodeCovNotification(w, { subscriberProcessId: 7, initiatingDeviceId: { type: 8, instance: 55 }, monitoredObjectId: { type: 0, instance: i }, timeRemaining: 100, values: [{ propertyId: 85, value: [Value.real(i)] }] });
    base.push(encodeFrame({ apdu: { type: PduType.UNCONFIRMED_REQUEST, service: 2, data: w.finish() } }));
  }
  const n = fuzzIterations(4_000);
  const inflight: Array<Promise<unknown>> = [];
  for (let sent = 0; sent < n;) {
    const batch = Math.min(200, n - sent);
    await Promise.all(Array.from({ length: batch }, () => {
      const b = rnd() < 0.15 ? Uint8Array.from({ length: Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 256)) : mutate(base[Math.floor(rnd() * base.length)]!, rnd);
      return new Promise<void>((r) => raw.send(b, ep.transport.local.port, '127.0.0.1', () => r()));
    }));
    if (inflight.length < 50) inflight.push(client.readProperty(addr, { type: 2, instance: sent % 100 }, 85).catch(() => undefined));
    sent += batch;
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inflight);
  const v = await client.readMany(addr, Array.from({ length: 50 }, (_, i) => ({ objectId: { type: 2, instance: i }, propertyId: 85 })));
  assert.deepEqual(v.map((r) => r.value), Array.from({ length: 50 }, (_, i) => [Value.real(i / 2)]), `seed ${seed}: still reads correctly`);
  poll.stop();
  await Promise.all(subs.map((s) => s.cancel()));
  client.close();
  raw.close();
  await ep.close();
  await dev.close();
  process.off('uncaughtException', onFault);
  process.off('unhandledRejection', onFault);
  assert.deepEqual(faults, [], `seed ${seed}`);
  assert.ok(delivered > 0);
});
