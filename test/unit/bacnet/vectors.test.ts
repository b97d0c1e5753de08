/**
 * The capture vectors of bacnet-stack traffic (test/vectors/README.md) decoded through every
 * layer, with the values the README lists asserted; and every frame re-encoded by our encoders
 * to the same octets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readPcap, udpPayloads, type Packet } from '../../helpers/pcap';
import { vectorsDir } from '../../helpers/env';
import { Writer } from '../../../src/lib/wire/writer';
import { type DecodedFrame, decodeFrame, writeFrame } from '../../../src/lib/bacnet/frame';
import { BvlcFunction, encodeBvlc } from '../../../src/lib/bacnet/bvlc';
import { type Apdu, PduType } from '../../../src/lib/bacnet/apdu';
import { confirmedCodec, unconfirmedCodec } from '../../../src/lib/bacnet/services/registry';
import { encodeServiceError } from '../../../src/lib/bacnet/services/errors';
import { readLogRecords, type ReadRangeAck } from '../../../src/lib/bacnet/services/read-range';
import type { ReadPropertyAck } from '../../../src/lib/bacnet/services/read-property';
import type { ReadPropertyMultipleAck } from '../../../src/lib/bacnet/services/read-property-multiple';
import type { IAmRequest, WhoIsRequest } from '../../../src/lib/bacnet/services/who-is';
import type { WritePropertyRequest } from '../../../src/lib/bacnet/services/write-property';
import type { CovNotificationRequest } from '../../../src/lib/bacnet/services/cov-notification';
import { decodeProperty } from '../../../src/lib/bacnet/codec/js';
import { ObjectType as O, PropertyIdentifier as P, EngineeringUnits, ErrorClass, ErrorCode, Segmentation } from '../../../src/lib/bacnet/enums';

interface F extends DecodedFrame { pkt: Packet }
function frames(file: string): F[] {
  return udpPayloads(readPcap(file)).map((pkt) => ({ ...decodeFrame(pkt.payload), pkt }));
}
const svc = <T>(f: F): T => f.service as T;
const apdu = (f: F): Apdu => f.apdu!;

test('bacnet-iam-startup: broadcast I-Am 1234 / 1476 / no-segmentation / vendor 260', () => {
  const [f] = frames('bacnet-iam-startup.pcap');
  assert.equal(f!.bvlc.function, BvlcFunction.ORIGINAL_BROADCAST_NPDU);
  assert.equal(f!.pkt.dst, '127.255.255.255');
  assert.deepEqual(svc<IAmRequest>(f!), { deviceId: { type: O.device, instance: 1234 }, maxApdu: 1476, segmentation: Segmentation.noSegmentation, vendorId: 260 });
  assert.equal(Segmentation.nameOf(3), 'no-segmentation');
});

test('bacnet-whois-iam: unicast Who-Is without range, unicast I-Am', () => {
  const fs = frames('bacnet-whois-iam.pcap');
  const whoIs = fs.find((f) => f.apdu?.type === PduType.UNCONFIRMED_REQUEST && f.apdu.service === 8)!;
  assert.equal(whoIs.bvlc.function, BvlcFunction.ORIGINAL_UNICAST_NPDU);
  assert.deepEqual(svc<WhoIsRequest>(whoIs), {});
  const iAm = fs.find((f) => f.apdu?.type === PduType.UNCONFIRMED_REQUEST && f.apdu.service === 0)!;
  assert.equal(svc<IAmRequest>(iAm).deviceId.instance, 1234);
});

test('bacnet-whois-iam-foreign-device: registration TTL 60000, result, distribute, forwarded, I-Am', () => {
  const fs = frames('bacnet-whois-iam-foreign-device.pcap');
  const reg = fs.find((f) => f.bvlc.function === BvlcFunction.REGISTER_FOREIGN_DEVICE)!;
  assert.deepEqual(reg.bvlc, { function: BvlcFunction.REGISTER_FOREIGN_DEVICE, ttl: 60000 });
  const res = fs.find((f) => f.bvlc.function === BvlcFunction.RESULT)!;
  assert.deepEqual(res.bvlc, { function: 0, resultCode: 0 });
  const dist = fs.find((f) => f.bvlc.function === BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK)!;
  assert.deepEqual(svc<WhoIsRequest>(dist), { lowLimit: 1234, highLimit: 1234 });
  assert.equal(dist.npdu!.destination!.network, 0xffff);
  const fwd = fs.find((f) => f.bvlc.function === BvlcFunction.FORWARDED_NPDU)!;
  assert.equal(fwd.pkt.dst, '127.255.255.255');
  assert.ok('origin' in fwd.bvlc && fwd.bvlc.origin.port === dist.pkt.srcPort);
  assert.deepEqual(svc<WhoIsRequest>(fwd), { lowLimit: 1234, highLimit: 1234 });
  const iAm = fs.find((f) => f.apdu?.type === PduType.UNCONFIRMED_REQUEST && f.apdu.service === 0)!;
  assert.equal(svc<IAmRequest>(iAm).deviceId.instance, 1234);
});

test('bacnet-whois-iam-broadcast (netns): Who-Is to 198.51.100.255, I-Am 4321, object-name NetnsServer', () => {
  const fs = frames('bacnet-whois-iam-broadcast.pcap');
  const whoIs = fs.filter((f) => f.apdu?.type === PduType.UNCONFIRMED_REQUEST && f.apdu.service === 8);
  assert.equal(whoIs[0]!.bvlc.function, BvlcFunction.ORIGINAL_BROADCAST_NPDU);
  assert.equal(whoIs[0]!.pkt.dst, '198.51.100.255');
  assert.deepEqual(svc<WhoIsRequest>(whoIs[0]!), {});
  assert.deepEqual(svc<WhoIsRequest>(whoIs[1]!), { lowLimit: 4321, highLimit: 4321 });
  const iAm = fs.find((f) => f.apdu?.type === PduType.UNCONFIRMED_REQUEST && f.apdu.service === 0)!;
  assert.equal(svc<IAmRequest>(iAm).deviceId.instance, 4321);
  const ack = fs.find((f) => f.apdu?.type === PduType.COMPLEX_ACK)!;
  assert.deepEqual(svc<ReadPropertyAck>(ack).value, [{ type: 'character-string', value: 'NetnsServer' }]);
});

test('bacnet-readproperty: invoke 1, AI 1 PV -> REAL 21.5', () => {
  const [req, ack] = frames('bacnet-readproperty.pcap');
  const a = apdu(req!);
  assert.ok(a.type === PduType.CONFIRMED_REQUEST);
  assert.equal(a.invokeId, 1);
  assert.deepEqual(req!.service, { objectId: { type: O.analogInput, instance: 1 }, propertyId: P.presentValue });
  assert.equal(apdu(ack!).type, PduType.COMPLEX_ACK);
  assert.deepEqual(svc<ReadPropertyAck>(ack!).value, [{ type: 'real', value: 21.5 }]);
  assert.equal(decodeProperty(O.analogInput, P.presentValue, svc<ReadPropertyAck>(ack!).value), 21.5);
});

test('bacnet-readproperty-object-name: "SimpleServer"', () => {
  const [, ack] = frames('bacnet-readproperty-object-name.pcap');
  assert.equal(decodeProperty(O.device, P.objectName, svc<ReadPropertyAck>(ack!).value), 'SimpleServer');
});

test('bacnet-readproperty-object-list: 78 object identifiers on the wire (2 in the headers + a 76-entry list)', () => {
  // The vectors README counts the 78 ObjectIdentifier fields tshark prints for the exchange: the
  // request's and the ACK's objectIdentifier (device,1234) plus the 76 entries of Object_List.
  const [req, ack] = frames('bacnet-readproperty-object-list.pcap');
  const list = decodeProperty(O.device, P.objectList, svc<ReadPropertyAck>(ack!).value) as Array<{ type: number; instance: number }>;
  const ids = (req!.service as { objectId: unknown }).objectId ? 1 : 0;
  assert.equal(ids + 1 + list.length, 78);
  assert.equal(list.length, 76);
  const names = list.map((id) => `${O.label(id.type)},${id.instance}`);
  assert.deepEqual(names.slice(0, 6), ['device,1234', 'network-port,1', 'timer,1', 'analog-input,1', 'analog-output,1', 'analog-value,1']);
  assert.equal(names[75], 'audit-log,1');
});

test('bacnet-readproperty-error: Error object / unknown-object', () => {
  const [, err] = frames('bacnet-readproperty-error.pcap');
  assert.equal(apdu(err!).type, PduType.ERROR);
  assert.deepEqual(err!.error, { errorClass: ErrorClass.object, errorCode: ErrorCode.unknownObject });
  assert.equal(ErrorCode.nameOf(err!.error!.errorCode), 'unknown-object');
});

test('bacnet-readpropertymultiple: AI1 values and device names', () => {
  const [, ack] = frames('bacnet-readpropertymultiple.pcap');
  const res = svc<ReadPropertyMultipleAck>(ack!).results;
  assert.equal(res.length, 2);
  const ai = res[0]!;
  assert.deepEqual(ai.objectId, { type: O.analogInput, instance: 1 });
  const v = (pid: number, r = ai): unknown => decodeProperty(r.objectId.type, pid, r.results.find((x) => x.propertyId === pid)!.value!, undefined, { enumNames: true, flags: true });
  assert.equal(v(P.presentValue), 21.5);
  assert.equal(v(P.objectName), 'ANALOG INPUT 1');
  assert.equal(v(P.units), 'percent');
  assert.equal(EngineeringUnits.percent, 98);
  assert.deepEqual(v(P.statusFlags), { inAlarm: false, fault: false, overridden: false, outOfService: true });
  const dev = res[1]!;
  assert.deepEqual(dev.objectId, { type: O.device, instance: 1234 });
  assert.equal(v(P.objectName, dev), 'SimpleServer');
  assert.equal(v(P.vendorName, dev), 'BACnet Stack at SourceForge');
});

test('bacnet-writeproperty: AO1 PV 42.5 @ 8, read back, priority array slot 8', () => {
  const fs = frames('bacnet-writeproperty.pcap');
  const wp = fs.find((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 15)!;
  assert.deepEqual(wp.service, { objectId: { type: O.analogOutput, instance: 1 }, propertyId: P.presentValue, value: [{ type: 'real', value: 42.5 }], priority: 8 });
  assert.ok(fs.some((f) => f.apdu?.type === PduType.SIMPLE_ACK && f.apdu.service === 15));
  const acks = fs.filter((f) => f.apdu?.type === PduType.COMPLEX_ACK).map((f) => svc<ReadPropertyAck>(f));
  assert.deepEqual(acks[0]!.value, [{ type: 'real', value: 42.5 }]);
  const pa = decodeProperty(O.analogOutput, P.priorityArray, acks[1]!.value) as Array<number | null>;
  assert.equal(pa.length, 16);
  assert.equal(pa[7], 42.5, 'slot 8');
  assert.deepEqual(pa.filter((x, i) => i !== 7 && x !== null), []);
});

test('bacnet-writeproperty-relinquish: NULL @ 8, then relinquish default 0', () => {
  const fs = frames('bacnet-writeproperty-relinquish.pcap');
  const wp = fs.find((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 15)!;
  const req = svc<WritePropertyRequest>(wp);
  assert.deepEqual(req.value, [{ type: 'null' }]);
  assert.equal(req.priority, 8);
  assert.ok(fs.some((f) => f.apdu?.type === PduType.SIMPLE_ACK));
  const ack = fs.find((f) => f.apdu?.type === PduType.COMPLEX_ACK)!;
  assert.deepEqual(svc<ReadPropertyAck>(ack).value, [{ type: 'real', value: 0 }]);
});

test('bacnet-writepropertymultiple: AO1 55.5 and AV1 66.25 @ 8, RPM read back', () => {
  const fs = frames('bacnet-writepropertymultiple.pcap');
  const wpm = fs.find((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 16)!;
  assert.deepEqual(wpm.service, { specs: [
    { objectId: { type: O.analogOutput, instance: 1 }, values: [{ propertyId: 85, value: [{ type: 'real', value: 55.5 }], priority: 8 }] },
    { objectId: { type: O.analogValue, instance: 1 }, values: [{ propertyId: 85, value: [{ type: 'real', value: 66.25 }], priority: 8 }] },
  ] });
  assert.ok(fs.some((f) => f.apdu?.type === PduType.SIMPLE_ACK && f.apdu.service === 16));
  const rpm = svc<ReadPropertyMultipleAck>(fs.find((f) => f.apdu?.type === PduType.COMPLEX_ACK)!);
  assert.deepEqual(rpm.results.map((r) => r.results[0]!.value), [[{ type: 'real', value: 55.5 }], [{ type: 'real', value: 66.25 }]]);
});

test('bacnet-readrange: by position 1 count 3, three log records 0/1/2 at 00:00/00:15/00:30', () => {
  const fs = frames('bacnet-readrange.pcap');
  const req = fs.find((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 26)!;
  assert.deepEqual(req.service, { objectId: { type: O.trendLog, instance: 0 }, propertyId: P.logBuffer, range: { byPosition: { referenceIndex: 1, count: 3 } } });
  const ack = svc<ReadRangeAck>(fs.find((f) => f.apdu?.type === PduType.COMPLEX_ACK)!);
  assert.equal(ack.itemCount, 3);
  const recs = readLogRecords(ack.itemData);
  assert.deepEqual(recs.map((r) => [r.timestamp.date, r.timestamp.time.hour, r.timestamp.time.minute, r.timestamp.time.second, r.timestamp.time.hundredths, r.datum]), [
    [{ year: 2009, month: 1, day: 1, weekday: 4 }, 0, 0, 0, 0, { kind: 'real', value: 0 }],
    [{ year: 2009, month: 1, day: 1, weekday: 4 }, 0, 15, 0, 0, { kind: 'real', value: 1 }],
    [{ year: 2009, month: 1, day: 1, weekday: 4 }, 0, 30, 0, 0, { kind: 'real', value: 2 }],
  ]);
});

test('bacnet-subscribecov-unconfirmed: subscribe pid 7, notifications 66.25 then 12.5', () => {
  const fs = frames('bacnet-subscribecov-unconfirmed.pcap');
  const sub = fs.find((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 5)!;
  assert.deepEqual(sub.service, { subscriberProcessId: 7, monitoredObjectId: { type: O.analogValue, instance: 1 }, issueConfirmedNotifications: false, lifetime: 4 });
  const notes = fs.filter((f) => f.apdu?.type === PduType.UNCONFIRMED_REQUEST && f.apdu.service === 2).map((f) => svc<CovNotificationRequest>(f));
  assert.deepEqual(notes.map((n) => n.values.find((v) => v.propertyId === P.presentValue)!.value), [[{ type: 'real', value: 66.25 }], [{ type: 'real', value: 12.5 }]]);
  assert.ok(notes.every((n) => n.values.some((v) => v.propertyId === P.statusFlags)));
});

test('bacnet-subscribecov-confirmed: confirmed notifications invoke 1 (12.5) and 2 (13.75), each ACKed', () => {
  const fs = frames('bacnet-subscribecov-confirmed.pcap');
  const sub = fs.find((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 5)!;
  assert.equal((sub.service as { issueConfirmedNotifications: boolean }).issueConfirmedNotifications, true);
  assert.equal((sub.service as { subscriberProcessId: number }).subscriberProcessId, 8);
  const notes = fs.filter((f) => f.apdu?.type === PduType.CONFIRMED_REQUEST && f.apdu.service === 1);
  assert.deepEqual(notes.map((f) => (f.apdu as { invokeId: number }).invokeId), [1, 2]);
  assert.deepEqual(notes.map((f) => svc<CovNotificationRequest>(f).values[0]!.value), [[{ type: 'real', value: 12.5 }], [{ type: 'real', value: 13.75 }]]);
  assert.equal(fs.filter((f) => f.apdu?.type === PduType.SIMPLE_ACK && f.apdu.service === 1).length, 2);
});

test('every frame of every BACnet capture re-encodes to the same octets', () => {
  const files = readdirSync(vectorsDir).filter((f) => f.startsWith('bacnet-') && f.endsWith('.pcap'));
  assert.equal(files.length, 15);
  let count = 0;
  for (const file of files) {
    for (const f of frames(file)) {
      let bytes: Uint8Array;
      if (!f.npdu) {
        bytes = encodeBvlc(f.bvlc);
      } else {
        const w = new Writer();
        const a = f.apdu;
        let apduOut = a;
        if (a && 'data' in a && f.service !== undefined) {
          const data = new Writer();
          if (a.type === PduType.CONFIRMED_REQUEST) confirmedCodec(a.service)!.encodeRequest(data, f.service);
          else if (a.type === PduType.UNCONFIRMED_REQUEST) unconfirmedCodec(a.service)!.encodeRequest(data, f.service);
          else if (a.type === PduType.COMPLEX_ACK) confirmedCodec(a.service)!.encodeAck!(data, f.service);
          apduOut = { ...a, data: data.finish() };
        } else if (a && a.type === PduType.ERROR && f.error) {
          const data = new Writer();
          encodeServiceError(data, a.service, f.error);
          apduOut = { ...a, data: data.finish() };
        }
        const spec: Parameters<typeof writeFrame>[1] = { bvlcFunction: f.bvlc.function, npdu: f.npdu };
        if ('origin' in f.bvlc) spec.origin = f.bvlc.origin;
        if (apduOut) spec.apdu = apduOut;
        if (f.network) spec.network = f.network;
        writeFrame(w, spec);
        bytes = w.finish();
      }
      assert.equal(Buffer.from(bytes).toString('hex'), Buffer.from(f.pkt.payload).toString('hex'), `${file} frame ${count}`);
      count++;
    }
  }
  assert.ok(count > 60, `${count} frames`);
});
