import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readPcap, tcpStreams, udpPayloads } from '../../helpers/pcap';
import { vectorsDir } from '../../helpers/env';

test('every capture vector parses; TCP sessions reassemble without gaps', () => {
  const files = readdirSync(vectorsDir).filter((f) => f.endsWith('.pcap'));
  assert.ok(files.length >= 39, `expected the capture vectors, found ${files.length}`);
  for (const f of files) {
    const pk = readPcap(f);
    assert.ok(pk.length > 0, f);
    tcpStreams(pk);
  }
});

test('bacnet-readproperty.pcap holds a BVLC request and reply on 47808', () => {
  const u = udpPayloads(readPcap('bacnet-readproperty.pcap'), 47808);
  assert.ok(u.length >= 2);
  for (const p of u) assert.equal(p.payload[0], 0x81);
});

test('ca-get-array.pcap reassembles the 8032-byte READ_NOTIFY reply', () => {
  const streams = tcpStreams(readPcap('ca-get-array.pcap'));
  const fromServer = streams.find((s) => s.srcPort === 5064)!;
  assert.ok(fromServer.data.length > 8032);
});
