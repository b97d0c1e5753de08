/**
 * Everything our encoders produce, dissected by Wireshark's BACnet dissector (tshark -V): no
 * "Malformed", no expert errors. One frame per BVLC function, network-layer message, PDU type and
 * service request/ACK (test/helpers/bacnet-samples.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerSkip } from '../../helpers/env';
import { dissect, haveTshark } from '../../helpers/tshark';
import { sampleFrames } from '../../helpers/bacnet-samples';

const skip = peerSkip('tshark', haveTshark());

test('tshark dissects every frame we encode without errors', { skip }, () => {
  const samples = sampleFrames();
  assert.ok(samples.length > 80, `${samples.length} samples`);
  const res = dissect(
    samples.map((s) => ({ src: '127.0.0.1', srcPort: 47808, dst: '127.0.0.2', dstPort: 47808, payload: s.bytes })),
    { labels: samples.map((s) => s.label) },
  );
  assert.deepEqual(res.problems, []);
  // tshark really decoded BACnet, not just UDP: spot-check the application layer of some frames
  const text = (label: string): string => res.frames[samples.findIndex((s) => s.label === label)]!;
  assert.match(text('read-property ACK 0'), /Present Value \(real\): 21\.5/);
  assert.match(text('Register-Foreign-Device'), /TTL: 60\b/);
  assert.match(text('I-Am-Router-To-Network'), /I-Am-Router-To-Network/);
  assert.match(text('Abort'), /Abort Reason: segmentation-not-supported \(4\)/);
  assert.match(text('Reject'), /unrecognized-service/);
  assert.match(text('routed Confirmed-Request DNET/DADR/SNET/SADR'), /Destination Network Address: 5[\s\S]*SADR: 7f:00:00:01:ba:c1[\s\S]*Hop Count: 254/);
});

test('the tshark helper reports a malformed frame (it can fail)', { skip }, () => {
  const bad = Uint8Array.of(0x81, 0x0a, 0x00, 0x0b, 0x01, 0x04, 0x00, 0x05, 0x01, 0x0c, 0x0c);
  const res = dissect([{ srcPort: 47809, dstPort: 47808, payload: bad }], { labels: ['truncated ReadProperty'] });
  assert.equal(res.frames.length, 1);
  assert.ok(res.problems.length > 0, 'a truncated request must be reported');
});
