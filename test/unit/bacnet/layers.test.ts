import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer } from '../../../src/lib/wire/writer';
import { DecodeError } from '../../../src/lib/wire/errors';
import { decodeBvlc, encodeBvlc, ipEndpointToMac, macToIpEndpoint, bvlcResultText } from '../../../src/lib/bacnet/bvlc';
import { decodeNpdu, writeNpduHeader, decodeNetworkMessage } from '../../../src/lib/bacnet/npdu';
import {
  decodeApdu, writeApdu, type Apdu, maxApduFromCode, maxApduToCode, maxSegmentsFromCode, maxSegmentsToCode,
} from '../../../src/lib/bacnet/apdu';
import { decodeFrame } from '../../../src/lib/bacnet/frame';
import { sampleFrames } from '../../helpers/bacnet-samples';

test('every sample frame decodes through every layer', () => {
  for (const s of sampleFrames()) {
    const f = decodeFrame(s.bytes);
    assert.ok(f.bvlc, s.label);
    if (f.apdu && 'data' in f.apdu && f.apdu.type !== 0 && f.apdu.type !== 3) assert.ok(f.service !== undefined || f.error !== undefined || f.apdu.data.length === 0 || f.apdu.type === 1, s.label);
  }
});

test('BVLC: every function round trips; length checked against the datagram', () => {
  for (const s of sampleFrames()) {
    const b = decodeBvlc(s.bytes);
    if ('npdu' in b || 'payload' in b) continue;
    assert.deepEqual(encodeBvlc(b), s.bytes, s.label);
  }
  const reg = encodeBvlc({ function: 5, ttl: 60000 });
  assert.equal(Buffer.from(reg).toString('hex'), '81050006ea60');
  assert.throws(() => decodeBvlc(reg.subarray(0, 5)), DecodeError);
  assert.throws(() => decodeBvlc(Uint8Array.of(0x82, 0x0a, 0x00, 0x04)), /BACnet\/IP/);
  assert.throws(() => decodeBvlc(Uint8Array.of(0x81, 0x03, 0x00, 0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 9)), /10-octet/);
  assert.throws(() => decodeBvlc(Uint8Array.of(0x81, 0x0d, 0x00, 0x04)), /unknown function/);
  // a datagram longer than the declared length: the NPDU is cut at the declared length
  const u = decodeBvlc(Uint8Array.of(0x81, 0x0a, 0x00, 0x06, 0x01, 0x00, 0xee));
  assert.ok('npdu' in u && u.npdu.length === 2);
  assert.deepEqual(macToIpEndpoint(ipEndpointToMac({ host: '127.1.2.3', port: 47809 })), { host: '127.1.2.3', port: 47809 });
  assert.equal(bvlcResultText(0x30), 'Register-Foreign-Device NAK');
});

test('NPDU: DNET/DADR/SNET/SADR, hop count, priority, expecting reply; broadcast DLEN 0', () => {
  const w = new Writer();
  const h = { destination: { network: 0xffff, mac: new Uint8Array() }, source: { network: 9, mac: Uint8Array.of(1, 2) }, hopCount: 7, expectingReply: true, priority: 3 };
  writeNpduHeader(w, h);
  w.u8(0x10).u8(0x08);
  const n = decodeNpdu(w.finish());
  assert.deepEqual({ ...n, payload: [...n.payload] }, { ...h, payload: [0x10, 0x08] });
  assert.equal(Buffer.from(w.finish()).toString('hex'), '012fffff0000090201020710' + '08');
  for (const bad of ['02', '0120', '0120ffff', '01080000', '0108000900', '0140', '0180']) {
    assert.throws(() => decodeNpdu(Buffer.from(bad, 'hex')), DecodeError, bad);
  }
  assert.deepEqual(decodeNetworkMessage(0x01, Uint8Array.of(0, 5, 0, 6)), { type: 1, networks: [5, 6] });
  assert.throws(() => decodeNetworkMessage(0x01, Uint8Array.of(0, 5, 0)), DecodeError);
  assert.deepEqual(decodeNetworkMessage(0x90, Uint8Array.of(1)), { type: 0x90, body: Uint8Array.of(1) });
});

test('APDU: all eight PDU types round trip with their segmentation fields', () => {
  const data = Uint8Array.of(1, 2, 3);
  const pdus: Apdu[] = [
    { type: 0, segmented: false, moreFollows: false, segmentedResponseAccepted: true, maxSegments: 64, maxApdu: 1476, invokeId: 200, service: 12, data },
    { type: 0, segmented: true, moreFollows: true, segmentedResponseAccepted: false, maxSegments: Infinity, maxApdu: 480, invokeId: 1, sequenceNumber: 5, proposedWindowSize: 16, service: 14, data },
    { type: 1, service: 8, data },
    { type: 2, invokeId: 7, service: 15 },
    { type: 3, segmented: false, moreFollows: false, invokeId: 7, service: 12, data },
    { type: 3, segmented: true, moreFollows: false, invokeId: 7, sequenceNumber: 255, proposedWindowSize: 127, service: 12, data },
    { type: 4, negative: true, server: true, invokeId: 9, sequenceNumber: 3, actualWindowSize: 2 },
    { type: 5, invokeId: 9, service: 12, data },
    { type: 6, invokeId: 9, reason: 9 },
    { type: 7, server: false, invokeId: 9, reason: 4 },
  ];
  for (const p of pdus) {
    const w = new Writer();
    writeApdu(w, p);
    const back = decodeApdu(w.finish());
    assert.deepEqual(JSON.parse(JSON.stringify({ ...back, data: 'data' in back ? [...back.data] : undefined })), JSON.parse(JSON.stringify({ ...p, data: 'data' in p ? [...p.data] : undefined })));
  }
  assert.throws(() => decodeApdu(Uint8Array.of(0x80)), /reserved PDU type/);
  assert.throws(() => decodeApdu(Uint8Array.of(0x20, 1, 15, 0)), DecodeError);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(maxApduFromCode), [50, 128, 206, 480, 1024, 1476]);
  assert.equal(maxApduToCode(1476), 5);
  assert.equal(maxApduToCode(1000), 3);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(maxSegmentsFromCode), [0, 2, 4, 8, 16, 32, 64, Infinity]);
  assert.deepEqual([0, 2, 3, 4, 64, 65, 256].map(maxSegmentsToCode), [0, 1, 1, 2, 6, 7, 7]);
});
