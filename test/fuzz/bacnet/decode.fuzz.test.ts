/**
 * Random and mutated datagrams through the whole receive-side decode path (BVLL -> NPDU ->
 * APDU / network message -> service parameters -> plain JS rendering): the only exception
 * allowed is DecodeError. Seeds are the sample frames of every service and the capture vectors.
 * 10^6 cases under `npm run fuzz`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/lib/wire/errors';
import { fuzzIterations } from '../../helpers/env';
import { mutate, rng, seeds } from '../../helpers/bacnet-fuzz';
import { decodeFrame } from '../../../src/lib/bacnet/frame';
import { bytesToValues } from '../../../src/lib/bacnet/codec/values';
import { decodeProperty } from '../../../src/lib/bacnet/codec/js';

function decodeAll(b: Uint8Array): void {
  const f = decodeFrame(b);
  const svc = f.service as { objectId?: { type: number }; propertyId?: number; value?: unknown } | undefined;
  if (svc && svc.objectId && svc.propertyId !== undefined && Array.isArray(svc.value)) {
    decodeProperty(svc.objectId.type, svc.propertyId, svc.value as never, undefined, { enumNames: true, flags: true });
  }
}

function check(b: Uint8Array, what: string): void {
  try {
    decodeAll(b);
  } catch (e) {
    if (e instanceof DecodeError) return;
    assert.fail(`${what}: ${String(e)} on ${Buffer.from(b).toString('hex')}\n${(e as Error).stack}`);
  }
}

test('random and mutated datagrams: only DecodeError escapes the decode path', () => {
  const seed = Number(process.env.FIELDLINK_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const rnd = rng(seed);
  const base = seeds();
  const n = fuzzIterations(30_000);
  let decoded = 0;
  for (let i = 0; i < n; i++) {
    let b: Uint8Array;
    if (i % 5 === 0) {
      b = Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
      if (b.length >= 4 && rnd() < 0.7) {
        b[0] = 0x81;
        b[1] = Math.floor(rnd() * 13);
        b[2] = b.length >> 8;
        b[3] = b.length & 0xff;
      }
    } else {
      b = mutate(base[Math.floor(rnd() * base.length)]!, rnd);
    }
    try {
      decodeAll(b);
      decoded++;
    } catch (e) {
      if (!(e instanceof DecodeError)) assert.fail(`seed ${seed} case ${i}: ${String(e)} on ${Buffer.from(b).toString('hex')}\n${(e as Error).stack}`);
    }
  }
  // the mutations must exercise both outcomes, or the fuzzer is not reaching the decoders
  assert.ok(decoded > n / 20 && decoded < n, `seed ${seed}: ${decoded} of ${n} decoded`);
});

test('random tag soup through the generic value decoder', () => {
  const rnd = rng(12345);
  for (let i = 0; i < fuzzIterations(20_000); i++) {
    const b = Uint8Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
    try {
      bytesToValues(b);
    } catch (e) {
      if (!(e instanceof DecodeError)) assert.fail(`${String(e)} on ${Buffer.from(b).toString('hex')}`);
    }
  }
  check(Uint8Array.of(0x81, 0x0a, 0x00, 0x04), 'empty NPDU');
});
