/**
 * DNS codec: a query byte for byte, responses built by hand (with compression pointers) for
 * every supported type, malformed input refused with DecodeError, random/mutated bytes fuzzed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQuery, decodeMessage, reverseName, checkName } from '../../../src/lib/probe/dns-wire';
import { DecodeError } from '../../../src/lib/wire/errors';
import { fuzzIterations } from '../../helpers/env';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('query encoding (RFC 1035 4.1)', () => {
  const q = encodeQuery(0x1234, 'example.test', 1);
  assert.equal(Buffer.from(q).toString('hex'), '12340100000100000000000007' + Buffer.from('example').toString('hex') + '04' + Buffer.from('test').toString('hex') + '0000010001');
  assert.equal(Buffer.from(encodeQuery(1, 'a', 28, false)).subarray(2, 4).toString('hex'), '0000');
});

/** A response for `example.test` with the given answer records (name = pointer to offset 12). */
function response(type: number, records: Array<{ type: number; ttl: number; rdata: Buffer }>, rcode = 0): Buffer {
  const question = Buffer.concat([hex('076578616d706c65047465737400'), Buffer.from([0, type, 0, 1])]);
  const header = Buffer.from([0xab, 0xcd, 0x81, 0x80 | rcode, 0, 1, 0, records.length, 0, 0, 0, 0]);
  const rrs = records.map((r) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0);
    fixed.writeUInt16BE(r.type, 2);
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(r.ttl, 6);
    fixed.writeUInt16BE(r.rdata.length, 10);
    return Buffer.concat([fixed, r.rdata]);
  });
  return Buffer.concat([header, question, ...rrs]);
}

test('answers of every type with TTLs; names through pointers', () => {
  const mxName = Buffer.concat([Buffer.from([0, 10]), hex('026d78c00c')]); // mx.example.test
  const srv = Buffer.concat([Buffer.from([0, 1, 0, 5, 0x13, 0xc4]), hex('03737276c00c')]); // srv.example.test
  const m = decodeMessage(response(255, [
    { type: 1, ttl: 300, rdata: Buffer.from([127, 0, 0, 1]) },
    { type: 28, ttl: 60, rdata: Buffer.from('00000000000000000000000000000001', 'hex') },
    { type: 5, ttl: 5, rdata: hex('05616c696173c00c') },
    { type: 15, ttl: 7, rdata: mxName },
    { type: 16, ttl: 8, rdata: Buffer.concat([Buffer.from([5]), Buffer.from('hello'), Buffer.from([6]), Buffer.from(' world')]) },
    { type: 33, ttl: 9, rdata: srv },
    { type: 12, ttl: 10, rdata: hex('c00c') },
    { type: 99, ttl: 11, rdata: Buffer.from([1, 2]) },
  ]));
  assert.equal(m.id, 0xabcd);
  assert.ok(m.qr && m.rd && m.ra);
  assert.equal(m.rcode, 0);
  assert.deepEqual(m.questions, [{ name: 'example.test', type: 'ANY', class: 1 }]);
  assert.deepEqual(m.answers.map((a) => [a.type, a.ttl, a.data]), [
    ['A', 300, '127.0.0.1'],
    ['AAAA', 60, '::1'],
    ['CNAME', 5, 'alias.example.test'],
    ['MX', 7, { preference: 10, exchange: 'mx.example.test' }],
    ['TXT', 8, { strings: ['hello', ' world'], text: 'hello world' }],
    ['SRV', 9, { priority: 1, weight: 5, port: 5060, target: 'srv.example.test' }],
    ['PTR', 10, 'example.test'],
    ['TYPE99', 11, '0102'],
  ]);
});

test('rcode and flags', () => {
  const m = decodeMessage(response(1, [], 3));
  assert.equal(m.rcode, 3);
  assert.equal(m.answers.length, 0);
});

test('malformed input: DecodeError, never another exception', () => {
  const good = response(1, [{ type: 1, ttl: 1, rdata: Buffer.from([127, 0, 0, 1]) }]);
  assert.throws(() => decodeMessage(good.subarray(0, 5)), DecodeError);
  assert.throws(() => decodeMessage(good.subarray(0, good.length - 1)), DecodeError);
  // A record with a 3-byte address
  assert.throws(() => decodeMessage(response(1, [{ type: 1, ttl: 1, rdata: Buffer.from([1, 2, 3]) }])), /expected 4/);
  // Pointer loop: question name points at itself
  const loop = Buffer.concat([Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]), hex('c00c00010001')]);
  assert.throws(() => decodeMessage(loop), /pointer loop/);
  // Forward pointer
  const fwd = Buffer.concat([Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]), hex('c01000010001')]);
  assert.throws(() => decodeMessage(fwd), DecodeError);
});

test('fuzz: random and mutated messages only ever raise DecodeError', () => {
  const seeds = [
    response(1, [{ type: 1, ttl: 1, rdata: Buffer.from([127, 0, 0, 1]) }]),
    response(15, [{ type: 15, ttl: 7, rdata: Buffer.concat([Buffer.from([0, 10]), hex('026d78c00c')]) }]),
    response(16, [{ type: 16, ttl: 8, rdata: Buffer.from([2, 104, 105]) }]),
  ];
  let x = 0x9e3779b9;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const n = fuzzIterations(20_000);
  for (let i = 0; i < n; i++) {
    let buf: Buffer;
    if (i % 3 === 0) {
      buf = Buffer.alloc(Math.floor(rnd() * 80));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256);
    } else {
      buf = Buffer.from(seeds[i % seeds.length]!);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.2) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    }
    try {
      decodeMessage(buf);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError on ${buf.toString('hex')}: ${String(err)}`);
    }
  }
});

test('reverse names and name checks', () => {
  assert.equal(reverseName('127.0.0.1'), '1.0.0.127.in-addr.arpa');
  assert.equal(reverseName('::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa');
  assert.equal(reverseName('2001:db8::2'), '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(checkName('example.test.'), 'example.test');
  assert.throws(() => checkName('a..b'), /invalid DNS name/);
  assert.throws(() => checkName('x'.repeat(64)), /invalid DNS name/);
  assert.throws(() => checkName(''), /invalid DNS name/);
});

test('names are checked in bytes, as they are sent; embedded IPv4 and zones in reverse names', () => {
  // 40 × "é" is 40 characters but 80 bytes: refused by the check, not by the encoder later.
  assert.throws(() => checkName('é'.repeat(40)), /invalid DNS name/);
  assert.equal(checkName('é'.repeat(31)), 'é'.repeat(31));
  assert.throws(() => checkName(`${'é'.repeat(30)}.`.repeat(5)), /invalid DNS name/); // 305 bytes
  // Expected values from Python's ipaddress.ip_address(...).reverse_pointer.
  assert.equal(reverseName('::ffff:127.0.0.1'), '1.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa');
  assert.equal(reverseName('64:ff9b::127.0.0.1'), '1.0.0.0.0.0.f.7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa');
  assert.equal(reverseName('fe80::1%lo'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa');
  for (const ip of ['::ffff:127.0.0.1', '64:ff9b::127.0.0.1', 'fe80::1%lo']) assert.doesNotThrow(() => encodeQuery(1, reverseName(ip), 12));
});
