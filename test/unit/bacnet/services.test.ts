import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/lib/wire/reader';
import { Writer } from '../../../src/lib/wire/writer';
import { DecodeError, LocalProtocolError } from '../../../src/lib/wire/errors';
import { Value } from '../../../src/lib/bacnet/codec/values';
import { CONFIRMED, UNCONFIRMED, ai1, dt } from '../../helpers/bacnet-samples';
import {
  CONFIRMED_SERVICES, UNCONFIRMED_SERVICES, type ServiceCodec, confirmedServiceName, unconfirmedServiceName,
} from '../../../src/lib/bacnet/services/registry';
import { decodeServiceError, encodeServiceError, type ServiceErrorInfo } from '../../../src/lib/bacnet/services/errors';
import { whoIsMatches } from '../../../src/lib/bacnet/services/who-is';
import { isCancellation } from '../../../src/lib/bacnet/services/subscribe-cov';
import { readLogRecords } from '../../../src/lib/bacnet/services/read-range';
import { timeSynchronizationFor } from '../../../src/lib/bacnet/services/time-synchronization';

function rt<T>(codec: (w: Writer, x: T) => void, dec: (r: Reader) => unknown, x: T, what: string): Uint8Array {
  const w = new Writer();
  codec(w, x);
  const bytes = w.finish().slice();
  const r = new Reader(bytes);
  assert.deepEqual(dec(r), x, what);
  r.expectEnd(what);
  // every strict prefix fails to decode with DecodeError (or decodes to something shorter without throwing otherwise)
  for (let n = 0; n < bytes.length; n++) {
    const p = new Reader(bytes.subarray(0, n));
    try {
      dec(p);
      p.expectEnd(what);
    } catch (e) {
      assert.ok(e instanceof DecodeError, `${what} prefix ${n}: ${String(e)}`);
    }
  }
  return bytes;
}

test('every confirmed service: request and ACK round trip, truncation is a DecodeError', () => {
  for (const [name, codec] of Object.entries(CONFIRMED_SERVICES) as Array<[string, ServiceCodec<unknown, unknown>]>) {
    const samples = CONFIRMED[name];
    assert.ok(samples, `no samples for ${name}`);
    for (const req of samples.requests) rt(codec.encodeRequest, codec.decodeRequest, req, `${name} request`);
    if (codec.decodeAck) {
      assert.ok(samples.acks?.length, `no ACK samples for ${name}`);
      for (const ack of samples.acks!) rt(codec.encodeAck!, codec.decodeAck, ack, `${name} ACK`);
    } else {
      assert.equal(samples.acks, undefined, `${name} is answered with a SimpleACK`);
    }
  }
});

test('every unconfirmed service round trips', () => {
  for (const [name, codec] of Object.entries(UNCONFIRMED_SERVICES) as unknown as Array<[string, ServiceCodec<unknown, unknown>]>) {
    const samples = UNCONFIRMED[name];
    assert.ok(samples?.length, `no samples for ${name}`);
    for (const req of samples) rt(codec.encodeRequest, codec.decodeRequest, req, name);
  }
});

test('golden bytes: ReadProperty AI1 PV and its ACK (as bacnet-stack sends them)', () => {
  const w = new Writer();
  CONFIRMED_SERVICES['read-property'].encodeRequest(w, { objectId: ai1, propertyId: 85 });
  assert.equal(Buffer.from(w.finish()).toString('hex'), '0c000000011955');
  const a = new Writer();
  CONFIRMED_SERVICES['read-property'].encodeAck!(a, { objectId: ai1, propertyId: 85, value: [Value.real(21.5)] });
  assert.equal(Buffer.from(a.finish()).toString('hex'), '0c0000000119553e4441ac00003f');
});

test('Error payloads: plain, WritePropertyMultiple-Error, CreateObject-Error', () => {
  const cases: Array<[number, ServiceErrorInfo]> = [
    [12, { errorClass: 1, errorCode: 31 }],
    [16, { errorClass: 2, errorCode: 40, firstFailedWriteAttempt: { objectId: ai1, propertyId: 85 } }],
    [10, { errorClass: 1, errorCode: 25, firstFailedElementNumber: 2 }],
    [8, { errorClass: 2, errorCode: 37, firstFailedElementNumber: 0 }],
  ];
  for (const [svc, e] of cases) {
    const w = new Writer();
    encodeServiceError(w, svc, e);
    const r = new Reader(w.finish());
    assert.deepEqual(decodeServiceError(svc, r), e);
    r.expectEnd();
  }
  assert.throws(() => encodeServiceError(new Writer(), 16, { errorClass: 2, errorCode: 40 }), LocalProtocolError);
});

test('service helpers', () => {
  assert.equal(whoIsMatches({}, 5), true);
  assert.equal(whoIsMatches({ lowLimit: 1, highLimit: 4 }, 5), false);
  assert.equal(whoIsMatches({ lowLimit: 5, highLimit: 5 }, 5), true);
  assert.equal(isCancellation({ subscriberProcessId: 1, monitoredObjectId: ai1 }), true);
  assert.equal(confirmedServiceName('ReadProperty'), 'read-property');
  assert.equal(confirmedServiceName(14), 'read-property-multiple');
  assert.equal(unconfirmedServiceName('WhoIs'), 'who-is');
  assert.throws(() => confirmedServiceName('vt-open'), /no codec/);
  const recs = readLogRecords([Value.constructed(0, [Value.date(dt.date), Value.time(dt.time)]), Value.constructed(1, [Value.context(2, Uint8Array.of(0x3f, 0x80, 0, 0))])]);
  assert.deepEqual(recs, [{ timestamp: dt, datum: { kind: 'real', value: 1 } }]);
  const ts = timeSynchronizationFor(new Date(Date.UTC(2024, 4, 6, 12, 0, 0)), true);
  assert.deepEqual(ts.time, dt);
  // encoders refuse requests the standard forbids
  assert.throws(() => CONFIRMED_SERVICES['write-property'].encodeRequest(new Writer(), { objectId: ai1, propertyId: 85, value: [Value.real(1)], priority: 17 }), /outside 1\.\.16/);
  assert.throws(() => UNCONFIRMED_SERVICES['who-is'].encodeRequest(new Writer(), { lowLimit: 1 }), /both/);
  assert.throws(() => CONFIRMED_SERVICES['subscribe-cov'].encodeRequest(new Writer(), { subscriberProcessId: 1, monitoredObjectId: ai1, lifetime: 5 }), /both/);
  assert.throws(() => CONFIRMED_SERVICES['device-communication-control'].encodeRequest(new Writer(), { enableDisable: 1, password: 'x'.repeat(21) }), /1\.\.20/);
});
