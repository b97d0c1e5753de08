/**
 * Golden bytes for every CA message, built by hand from the CA protocol specification's header
 * tables and its example conversation (internal/ca_protocol.rst, "Example conversation"), then
 * decoded back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Command, DBR, ECA, SearchReply, DBE,
  encodeVersion, encodeUdpVersion, encodeSearchRequest, encodeSearchResponse, encodeNotFound,
  encodeCreateChanRequest, encodeCreateChanResponse, encodeAccessRights, encodeCreateChFail,
  encodeServerDisconn, encodeReadNotifyRequest, encodeReadNotifyResponse, encodeReadRequest, encodeReadResponse,
  encodeWriteRequest, encodeWriteNotifyRequest, encodeWriteNotifyResponse, encodeEventAddRequest,
  encodeEventAddResponse, encodeEventCancelRequest, encodeEventCancelResponse, encodeEventsOff,
  encodeEventsOn, encodeReadSync, encodeClearChannel, encodeEcho, encodeHostName, encodeClientName,
  encodeError, encodeBeacon, encodeRepeaterRegister, encodeRepeaterConfirm,
  decodeRequest, decodeResponse, peekHeader, ipv4ToU32, ipv4FromU32, CaFramer,
  type CaFrame, type CaRequest, type CaResponse,
} from '../../../../src/lib/epics/ca';
import { hex, toHex, ascii } from './hex';

function frame(bytes: Uint8Array): CaFrame {
  const p = peekHeader(bytes);
  assert.ok(!('need' in p), 'complete header');
  assert.equal(bytes.length, p.size + p.header.payloadSize, 'message length = header + payloadSize');
  assert.equal(p.header.payloadSize % 8, 0, 'payload padded to 8');
  return { header: p.header, headerSize: p.size, payload: bytes.subarray(p.size), owned: false };
}
function req(bytes: Uint8Array, udp = false): CaRequest {
  return decodeRequest(frame(bytes), udp);
}
function rsp(bytes: Uint8Array, udp = false): CaResponse {
  return decodeResponse(frame(bytes), udp);
}
function golden(bytes: Uint8Array, expected: string): void {
  assert.equal(toHex(bytes), toHex(hex(expected)));
}

test('spec example conversation: client side', () => {
  golden(encodeVersion({ minorVersion: 11 }), '00 00 00 00 00 00 00 0b 00 00 00 00 00 00 00 00');
  golden(encodeClientName('apucelj'), '00 14 00 08 00 00 00 00 00 00 00 00 00 00 00 00 61 70 75 63 65 6c 6a 00');
  golden(encodeHostName('csl06'), '00 15 00 08 00 00 00 00 00 00 00 00 00 00 00 00 63 73 6c 30 36 00 00 00');
  golden(
    encodeCreateChanRequest({ cid: 1, name: 'apucelj:aiExample1', minorVersion: 11 }),
    '00 12 00 18 00 00 00 00 00 00 00 01 00 00 00 0b' + ascii('apucelj:aiExample1', 24),
  );
  golden(encodeReadNotifyRequest({ sid: 4, ioid: 1, dataType: DBR.STRING, count: 1 }), '00 0f 00 00 00 00 00 01 00 00 00 04 00 00 00 01');
  golden(encodeReadNotifyRequest({ sid: 4, ioid: 2, dataType: DBR.GR_SHORT, count: 1 }), '00 0f 00 00 00 16 00 01 00 00 00 04 00 00 00 02');
  golden(encodeClearChannel({ sid: 4, cid: 1 }), '00 0c 00 00 00 00 00 00 00 00 00 04 00 00 00 01');

  assert.deepEqual(req(encodeVersion({ minorVersion: 11, priority: 5 })), { kind: 'Version', priority: 5, minorVersion: 11 });
  assert.deepEqual(req(encodeClientName('apucelj')), { kind: 'ClientNameRequest', name: 'apucelj' });
  assert.deepEqual(req(encodeHostName('csl06')), { kind: 'HostNameRequest', name: 'csl06' });
  assert.deepEqual(req(encodeCreateChanRequest({ cid: 1, name: 'apucelj:aiExample1', minorVersion: 11 })), {
    kind: 'CreateChanRequest', cid: 1, minorVersion: 11, name: 'apucelj:aiExample1',
  });
  assert.deepEqual(req(encodeReadNotifyRequest({ sid: 4, ioid: 2, dataType: DBR.GR_SHORT, count: 1 })), {
    kind: 'ReadNotifyRequest', sid: 4, ioid: 2, dataType: 22, count: 1,
  });
  assert.deepEqual(req(encodeClearChannel({ sid: 4, cid: 1 })), { kind: 'ClearChannelRequest', sid: 4, cid: 1 });
});

test('spec example conversation: server side', () => {
  golden(encodeAccessRights({ cid: 1, rights: 3 }), '00 16 00 00 00 00 00 00 00 00 00 01 00 00 00 03');
  golden(encodeCreateChanResponse({ cid: 1, sid: 4, dataType: DBR.DOUBLE, count: 1 }), '00 12 00 00 00 06 00 01 00 00 00 01 00 00 00 04');
  assert.deepEqual(rsp(encodeAccessRights({ cid: 1, rights: 3 })), { kind: 'AccessRightsResponse', cid: 1, rights: 3 });
  assert.deepEqual(rsp(encodeCreateChanResponse({ cid: 1, sid: 4, dataType: 6, count: 1 })), {
    kind: 'CreateChanResponse', cid: 1, sid: 4, dataType: 6, count: 1,
  });
  // The example's DBR_STRING reply is 8 bytes (RSRV-style short string, garbage after the NUL).
  const r = rsp(hex('00 0f 00 08 00 00 00 01 00 00 00 01 00 00 00 01 30 00 00 00 00 06 00 01'));
  assert.equal(r.kind, 'ReadNotifyResponse');
  if (r.kind === 'ReadNotifyResponse') {
    assert.equal(r.status, ECA.NORMAL);
    assert.equal(r.ioid, 1);
    assert.deepEqual(r.data?.value, ['0']);
  }
  assert.deepEqual(rsp(encodeClearChannel({ sid: 4, cid: 1 })), { kind: 'ClearChannelResponse', sid: 4, cid: 1 });
});

test('UDP VERSION with sequence number, SEARCH, search reply, NOT_FOUND', () => {
  golden(encodeUdpVersion({ sequence: 7 }), '00 00 00 00 00 01 00 0d 00 00 00 07 00 00 00 00');
  golden(encodeUdpVersion(), '00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00');
  assert.deepEqual(req(encodeUdpVersion({ sequence: 7 }), true), { kind: 'Version', priority: 0, minorVersion: 13, sequence: 7 });
  assert.deepEqual(req(encodeUdpVersion(), true), { kind: 'Version', priority: 0, minorVersion: 13 });

  golden(encodeSearchRequest({ name: 'TEST:ai', cid: 1 }), '00 06 00 08 00 05 00 0d 00 00 00 01 00 00 00 01' + ascii('TEST:ai', 8));
  golden(encodeSearchRequest({ name: 'TEST:mbbo', cid: 0x10203, reply: SearchReply.DO_REPLY }),
    '00 06 00 10 00 0a 00 0d 00 01 02 03 00 01 02 03' + ascii('TEST:mbbo', 16));
  assert.deepEqual(req(encodeSearchRequest({ name: 'TEST:mbbo', cid: 9, reply: 10 }), true), {
    kind: 'SearchRequest', name: 'TEST:mbbo', cid: 9, reply: 10, minorVersion: 13,
  });

  golden(encodeSearchResponse({ port: 5064, cid: 1 }), '00 06 00 08 13 c8 00 00 ff ff ff ff 00 00 00 01 00 0d 00 00 00 00 00 00');
  golden(encodeSearchResponse({ port: 5064, cid: 1, udp: false, serverIp: ipv4ToU32('10.0.0.2') }), '00 06 00 00 13 c8 00 00 0a 00 00 02 00 00 00 01');
  assert.deepEqual(rsp(encodeSearchResponse({ port: 40000, cid: 77 }), true), {
    kind: 'SearchResponse', port: 40000, cid: 77, serverIp: 0xffffffff, minorVersion: 13,
  });
  golden(encodeNotFound({ cid: 5 }), '00 0e 00 00 00 0a 00 0d 00 00 00 05 00 00 00 05');
  assert.deepEqual(rsp(encodeNotFound({ cid: 5, minorVersion: 12 }), true), { kind: 'NotFoundResponse', cid: 5, reply: 10, minorVersion: 12 });
});

test('channel life cycle messages: CREATE_CH_FAIL, SERVER_DISCONN', () => {
  golden(encodeCreateChFail({ cid: 42 }), '00 1a 00 00 00 00 00 00 00 00 00 2a 00 00 00 00');
  golden(encodeServerDisconn({ cid: 42 }), '00 1b 00 00 00 00 00 00 00 00 00 2a 00 00 00 00');
  assert.deepEqual(rsp(encodeCreateChFail({ cid: 42 })), { kind: 'CreateChFailResponse', cid: 42 });
  assert.deepEqual(rsp(encodeServerDisconn({ cid: 42 })), { kind: 'ServerDisconnResponse', cid: 42 });
});

test('READ_NOTIFY reply, READ (deprecated), READ_SYNC', () => {
  // DBR_DOUBLE 12.5: payload 8 bytes.
  golden(encodeReadNotifyResponse({ ioid: 3, dataType: DBR.DOUBLE, count: 1, data: { value: [12.5] } }),
    '00 0f 00 08 00 06 00 01 00 00 00 01 00 00 00 03 40 29 00 00 00 00 00 00');
  // A failed read: status in p1, a zero payload of the requested size.
  golden(encodeReadNotifyResponse({ ioid: 3, dataType: DBR.DOUBLE, count: 1, status: ECA.NORDACCESS }),
    '00 0f 00 08 00 06 00 01 00 00 01 70 00 00 00 03 00 00 00 00 00 00 00 00');
  const failed = rsp(encodeReadNotifyResponse({ ioid: 3, dataType: DBR.DOUBLE, count: 1, status: ECA.NORDACCESS }));
  assert.deepEqual(failed, { kind: 'ReadNotifyResponse', ioid: 3, status: ECA.NORDACCESS, dataType: 6, count: 1 });
  golden(encodeReadRequest({ sid: 2, ioid: 9, dataType: DBR.LONG, count: 1 }), '00 03 00 00 00 05 00 01 00 00 00 02 00 00 00 09');
  golden(encodeReadResponse({ sid: 2, ioid: 9, dataType: DBR.LONG, count: 1, data: { value: [-2] } }),
    '00 03 00 08 00 05 00 01 00 00 00 02 00 00 00 09 ff ff ff fe 00 00 00 00');
  const rr = rsp(encodeReadResponse({ sid: 2, ioid: 9, dataType: DBR.LONG, count: 1, data: { value: [-2] } }));
  assert.equal(rr.kind, 'ReadResponse');
  if (rr.kind === 'ReadResponse') assert.deepEqual(Array.from(rr.data!.value as Int32Array), [-2]);
  golden(encodeReadSync(), '00 0a 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  assert.deepEqual(req(encodeReadSync()), { kind: 'ReadSyncRequest' });
});

test('WRITE, WRITE_NOTIFY and its reply', () => {
  // libca's caput: WRITE DBR_STRING "3.5" as an 8-byte payload.
  const w = hex('00 04 00 08 00 00 00 01 00 00 00 08 00 00 00 01 33 2e 35 00 00 00 00 00');
  const d = req(w);
  assert.equal(d.kind, 'WriteRequest');
  if (d.kind === 'WriteRequest') assert.deepEqual(d.data?.value, ['3.5']);
  // Our encoder sends the full 40-byte string.
  golden(encodeWriteRequest({ sid: 8, ioid: 1, dataType: DBR.STRING, count: 1, data: { value: ['3.5'] } }),
    '00 04 00 28 00 00 00 01 00 00 00 08 00 00 00 01' + ascii('3.5', 40));
  golden(encodeWriteNotifyRequest({ sid: 17, ioid: 2, dataType: DBR.DOUBLE, count: 1, data: { value: [5.5] } }),
    '00 13 00 08 00 06 00 01 00 00 00 11 00 00 00 02 40 16 00 00 00 00 00 00');
  const wn = req(encodeWriteNotifyRequest({ sid: 17, ioid: 2, dataType: DBR.SHORT, count: 3, data: { value: [1, -2, 3] } }));
  assert.equal(wn.kind, 'WriteNotifyRequest');
  if (wn.kind === 'WriteNotifyRequest') {
    assert.ok(wn.data!.value instanceof Int16Array);
    assert.deepEqual(Array.from(wn.data!.value as Int16Array), [1, -2, 3]);
  }
  golden(encodeWriteNotifyResponse({ ioid: 2, dataType: DBR.DOUBLE, count: 1 }), '00 13 00 00 00 06 00 01 00 00 00 01 00 00 00 02');
  assert.deepEqual(rsp(encodeWriteNotifyResponse({ ioid: 2, dataType: 6, count: 1, status: ECA.PUTFAIL })), {
    kind: 'WriteNotifyResponse', ioid: 2, status: ECA.PUTFAIL, dataType: 6, count: 1,
  });
});

test('EVENT_ADD request (mon_info: 3 x float32 + u16 mask + pad), events, EVENT_CANCEL, final event', () => {
  golden(encodeEventAddRequest({ sid: 17, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 0, mask: DBE.VALUE | DBE.ALARM }),
    '00 01 00 10 00 14 00 00 00 00 00 11 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 05 00 00');
  assert.deepEqual(req(encodeEventAddRequest({ sid: 17, subscriptionId: 1, dataType: 20, count: 0, mask: 5, low: 1.5, high: 2.5, timeout: 0 })), {
    kind: 'EventAddRequest', sid: 17, subscriptionId: 1, dataType: 20, count: 0, mask: 5, low: 1.5, high: 2.5, timeout: 0,
  });
  golden(
    encodeEventAddResponse({ subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 1, data: { value: [8.5], status: 0, severity: 0, stamp: { secondsPastEpoch: 0x45636bcb, nanoseconds: 0x34348e1f } } }),
    '00 01 00 18 00 14 00 01 00 00 00 01 00 00 00 01 00 00 00 00 45 63 6b cb 34 34 8e 1f 00 00 00 00 40 21 00 00 00 00 00 00',
  );
  golden(encodeEventCancelRequest({ sid: 17, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 0 }), '00 02 00 00 00 14 00 00 00 00 00 11 00 00 00 01');
  assert.deepEqual(req(encodeEventCancelRequest({ sid: 17, subscriptionId: 1, dataType: 20, count: 0 })), {
    kind: 'EventCancelRequest', sid: 17, subscriptionId: 1, dataType: 20, count: 0,
  });
  golden(encodeEventCancelResponse({ sid: 17, subscriptionId: 1, dataType: DBR.TIME_DOUBLE }), '00 01 00 00 00 14 00 00 00 00 00 11 00 00 00 01');
  assert.deepEqual(rsp(encodeEventCancelResponse({ sid: 17, subscriptionId: 1, dataType: 20 })), {
    kind: 'EventCancelResponse', sid: 17, subscriptionId: 1, dataType: 20,
  });
  // A count-0 update of a plain type still has a non-empty payload (8 zero bytes), so that it
  // cannot be mistaken for the final event.
  const empty = encodeEventAddResponse({ subscriptionId: 4, dataType: DBR.DOUBLE, count: 0, data: { value: [] } });
  golden(empty, '00 01 00 08 00 06 00 00 00 00 00 01 00 00 00 04 00 00 00 00 00 00 00 00');
  const e = rsp(empty);
  assert.equal(e.kind, 'EventAddResponse');
  if (e.kind === 'EventAddResponse') assert.equal(e.data!.count, 0);
});

test('EVENTS_OFF, EVENTS_ON, ECHO', () => {
  golden(encodeEventsOff(), '00 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  golden(encodeEventsOn(), '00 09 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  golden(encodeEcho(), '00 17 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  assert.deepEqual(req(encodeEventsOff()), { kind: 'EventsOffRequest' });
  assert.deepEqual(req(encodeEventsOn()), { kind: 'EventsOnRequest' });
  assert.deepEqual(req(encodeEcho()), { kind: 'Echo' });
  assert.deepEqual(rsp(encodeEcho()), { kind: 'Echo' });
});

test('ERROR carries the failed request header and a text', () => {
  const request = { command: Command.READ_NOTIFY, payloadSize: 0, dataType: 20, count: 1, param1: 99, param2: 7 };
  const e = encodeError({ cid: 5, status: ECA.BADCHID, request, message: 'bad sid' });
  golden(e, '00 0b 00 18 00 00 00 00 00 00 00 05 00 00 01 9a' + '00 0f 00 00 00 14 00 01 00 00 00 63 00 00 00 07' + ascii('bad sid', 8));
  assert.deepEqual(rsp(e), { kind: 'ErrorResponse', cid: 5, status: ECA.BADCHID, request, message: 'bad sid' });
});

test('beacon and repeater messages', () => {
  golden(encodeBeacon({ port: 5064, beaconId: 3, serverIp: ipv4ToU32('127.0.0.1') }), '00 0d 00 00 00 0d 13 c8 00 00 00 03 7f 00 00 01');
  assert.deepEqual(rsp(encodeBeacon({ port: 5064, beaconId: 3, serverIp: 0x7f000001 }), true), {
    kind: 'Beacon', minorVersion: 13, port: 5064, beaconId: 3, serverIp: 0x7f000001,
  });
  golden(encodeRepeaterRegister({ clientIp: 0x7f000001 }), '00 18 00 00 00 00 00 00 00 00 00 00 7f 00 00 01');
  golden(encodeRepeaterConfirm({ repeaterIp: 0x7f000001 }), '00 11 00 00 00 00 00 00 00 00 00 00 7f 00 00 01');
  assert.deepEqual(req(encodeRepeaterRegister({ clientIp: 1 }), true), { kind: 'RepeaterRegisterRequest', clientIp: 1 });
  assert.deepEqual(rsp(encodeRepeaterConfirm({ repeaterIp: 2 }), true), { kind: 'RepeaterConfirmResponse', repeaterIp: 2 });
  assert.equal(ipv4FromU32(ipv4ToU32('192.168.10.255')), '192.168.10.255');
  assert.equal(ipv4ToU32('not an address'), 0);
});

test('extended header: used only from 0xFFFF elements or payload bytes, and decoded back', () => {
  const n = 10_000; // 80,000 bytes of doubles > 0xFFFF: extended
  const value = Float64Array.from({ length: n }, (_, i) => i * 0.25);
  const m = encodeReadNotifyResponse({ ioid: 1, dataType: DBR.DOUBLE, count: n, data: { value } });
  assert.equal(m.length, 24 + 80_000);
  assert.equal(toHex(m.subarray(0, 24)), toHex(hex('00 0f ff ff 00 06 00 00 00 00 00 01 00 00 00 01 00 01 38 80 00 00 27 10')));
  const r = rsp(m);
  assert.equal(r.kind, 'ReadNotifyResponse');
  if (r.kind === 'ReadNotifyResponse') {
    assert.equal(r.count, n);
    assert.ok(r.data!.value instanceof Float64Array);
    assert.deepEqual(r.data!.value, value);
  }
  // 8,000 doubles = 64,000 bytes < 0xFFFF: standard header.
  const s = encodeReadNotifyResponse({ ioid: 1, dataType: DBR.DOUBLE, count: 8000, data: { value } });
  assert.equal(s.length, 16 + 64_000);
  // Count >= 0xFFFF of CHAR with small payload is impossible, but a CREATE_CHAN reply of a big
  // native count uses the extended form too.
  const cc = encodeCreateChanResponse({ cid: 1, sid: 2, dataType: DBR.CHAR, count: 100_000 });
  assert.equal(toHex(cc), toHex(hex('00 12 ff ff 00 04 00 00 00 00 00 01 00 00 00 02 00 00 00 00 00 01 86 a0')));
  assert.deepEqual(rsp(cc), { kind: 'CreateChanResponse', cid: 1, sid: 2, dataType: 4, count: 100_000 });
});

test('unknown commands decode as Unknown; framer rejects oversize payloads', () => {
  const u = req(hex('00 63 00 00 00 00 00 00 00 00 00 00 00 00 00 00'));
  assert.equal(u.kind, 'Unknown');
  const f = new CaFramer({ maxPayload: 1024 });
  f.push(hex('00 0f ff ff 00 06 00 00 00 00 00 01 00 00 00 01 00 10 00 00 00 00 00 01'));
  assert.throws(() => f.next(), { code: 'EDECODE' });
});

test('a short EVENT_ADD payload is a decode error, not a crash', () => {
  assert.throws(() => req(hex('00 01 00 08 00 14 00 00 00 00 00 11 00 00 00 01 00 00 00 00 00 00 00 00')), { code: 'EDECODE' });
});
