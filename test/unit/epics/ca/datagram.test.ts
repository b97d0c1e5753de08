import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  packSearchRequests, packDatagrams, decodeRequestDatagram, decodeResponseDatagram, splitDatagram,
  encodeUdpVersion, encodeSearchResponse, MAX_UDP_SEND, SearchReply,
  clientMaySend, serverMaySend, Command, transition, clientChannelTable, serverChannelTable, ecaInfo, ECA, ecaIsSuccess,
} from '../../../../src/lib/epics/ca';
import { hex, concat } from './hex';

test('searches are packed into datagrams of at most 1024 bytes, each starting with VERSION', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ name: `FIELDLINK:TEST:PV${i}`, cid: i + 1 }));
  let seq = 100;
  const dgs = packSearchRequests(items, { sequence: () => seq++, reply: SearchReply.DO_REPLY });
  assert.ok(dgs.length > 1);
  const seen: number[] = [];
  dgs.forEach((d, k) => {
    assert.ok(d.length <= MAX_UDP_SEND, `datagram ${k} is ${d.length} bytes`);
    const msgs = decodeRequestDatagram(d);
    assert.deepEqual(msgs[0], { kind: 'Version', priority: 0, minorVersion: 13, sequence: 100 + k });
    for (const m of msgs.slice(1)) {
      assert.equal(m.kind, 'SearchRequest');
      if (m.kind === 'SearchRequest') {
        assert.equal(m.name, `FIELDLINK:TEST:PV${m.cid - 1}`);
        assert.equal(m.reply, 10);
        seen.push(m.cid);
      }
    }
    // Full: the next search would not have fitted (except in the last datagram).
    if (k < dgs.length - 1) assert.ok(d.length + 40 > MAX_UDP_SEND);
  });
  assert.deepEqual(seen, items.map((i) => i.cid));
});

test('a name too long for a datagram is refused', () => {
  assert.throws(() => packSearchRequests([{ name: 'x'.repeat(1100), cid: 1 }]), { code: 'ELOCALPROTO' });
});

test('reply datagrams: VERSION echo + replies; truncated datagrams are decode errors', () => {
  const d = packDatagrams([encodeSearchResponse({ port: 1234, cid: 5 }), encodeSearchResponse({ port: 1234, cid: 6 })], () => encodeUdpVersion({ sequence: 9 }))[0]!;
  const r = decodeResponseDatagram(d);
  assert.equal(r.length, 3);
  assert.deepEqual(r[0], { kind: 'Version', priority: 0, minorVersion: 13, sequence: 9 });
  assert.deepEqual(r.slice(1).map((m) => (m.kind === 'SearchResponse' ? m.cid : -1)), [5, 6]);
  assert.throws(() => splitDatagram(d.subarray(0, d.length - 3)), { code: 'EDECODE' });
  assert.throws(() => splitDatagram(hex('00 06 00 08')), { code: 'EDECODE' });
  assert.deepEqual(splitDatagram(new Uint8Array(0)), []);
  assert.equal(packDatagrams([], () => encodeUdpVersion()).length, 0);
  assert.equal(splitDatagram(concat(d, d)).length, 6);
});

test('rules and state tables', () => {
  assert.ok(clientMaySend(Command.SEARCH, 'udp'));
  assert.ok(!clientMaySend(Command.ACCESS_RIGHTS, 'tcp'));
  assert.ok(serverMaySend(Command.RSRV_IS_UP, 'udp'));
  assert.ok(!serverMaySend(Command.WRITE, 'tcp'));
  assert.equal(transition(clientChannelTable, 'ch', 'searching', 'searchReply'), 'creating');
  assert.equal(transition(clientChannelTable, 'ch', 'connected', 'serverDisconn'), 'searching');
  assert.throws(() => transition(serverChannelTable, 'ch', 'closed', 'clear'), { code: 'ELOCALPROTO' });
});

test('ECA codes: values, names, texts, success bit', () => {
  assert.equal(ECA.NORMAL, 1);
  assert.equal(ECA.PUTFAIL, 0xa0);
  assert.equal(ECA.NOWTACCESS, 0x178);
  assert.equal(ECA.BADCHID, 0x19a);
  assert.equal(ECA.INTERNAL, 0x8e);
  assert.equal(ECA.CONNSEQTMO, 0x1d8);
  assert.equal(ECA.IODONE, 0x153);
  assert.equal(ecaInfo(0xa0).name, 'ECA_PUTFAIL');
  assert.ok(ecaInfo(0x48).text.includes('EPICS_CA_MAX_ARRAY_BYTES'));
  assert.equal(ecaInfo(9999).name, 'ECA_9999');
  assert.ok(ecaIsSuccess(ECA.NORMAL));
  assert.ok(!ecaIsSuccess(ECA.GETFAIL));
});
