/**
 * Sample parameters for every BACnet service codec and sample frames for every BVLC function,
 * network-layer message and PDU type: shared by the round-trip tests, the tshark dissection test
 * and the fuzzers (as seeds for mutation).
 */
import { Value } from '../../src/lib/bacnet/codec/values';
import { Writer } from '../../src/lib/wire/writer';
import { type FrameSpec, encodeFrame } from '../../src/lib/bacnet/frame';
import { BvlcFunction, encodeBvlc, type Bvlc } from '../../src/lib/bacnet/bvlc';
import { PduType } from '../../src/lib/bacnet/apdu';
import { type NetworkMessage } from '../../src/lib/bacnet/npdu';
import { CONFIRMED_SERVICES, UNCONFIRMED_SERVICES, type ServiceCodec } from '../../src/lib/bacnet/services/registry';
import { encodeServiceError } from '../../src/lib/bacnet/services/errors';

export const ai1 = { type: 0, instance: 1 };
export const dev = { type: 8, instance: 1234 };
export const dt = { date: { year: 2024, month: 5, day: 6, weekday: 1 }, time: { hour: 12, minute: 0, second: 0, hundredths: 0 } };

/** Sample requests (and ACKs) for every service: several shapes each where the production has choices. */
export const CONFIRMED: Record<string, { requests: unknown[]; acks?: unknown[] }> = {
  'acknowledge-alarm': { requests: [{ acknowledgingProcessId: 1, eventObjectId: ai1, eventStateAcknowledged: 3, timeStamp: { dateTime: dt }, acknowledgmentSource: 'operator', timeOfAcknowledgment: { sequenceNumber: 5 } }] },
  'confirmed-cov-notification': { requests: [{ subscriberProcessId: 8, initiatingDeviceId: dev, monitoredObjectId: { type: 2, instance: 1 }, timeRemaining: 3, values: [{ propertyId: 85, value: [Value.real(13.75)] }, { propertyId: 111, value: [Value.bitString([false, false, false, false])] }] }] },
  'confirmed-event-notification': { requests: [
    { processId: 1, initiatingDeviceId: dev, eventObjectId: ai1, timeStamp: { dateTime: dt }, notificationClass: 1, priority: 100, eventType: 5, messageText: 'high', notifyType: 0, ackRequired: true, fromState: 0, toState: 3, eventValues: { eventType: 5, parameters: { exceedingValue: 85, statusFlags: [true, false, false, false], deadband: 1, exceededLimit: 80 } } },
    { processId: 1, initiatingDeviceId: dev, eventObjectId: ai1, timeStamp: { sequenceNumber: 2 }, notificationClass: 1, priority: 5, eventType: 1, notifyType: 2, toState: 0 },
  ] },
  'subscribe-cov': { requests: [
    { subscriberProcessId: 7, monitoredObjectId: { type: 2, instance: 1 }, issueConfirmedNotifications: false, lifetime: 4 },
    { subscriberProcessId: 7, monitoredObjectId: { type: 2, instance: 1 } },
  ] },
  'atomic-read-file': {
    requests: [{ fileId: { type: 10, instance: 1 }, stream: { start: 0, octetCount: 1000 } }, { fileId: { type: 10, instance: 1 }, record: { start: -1, recordCount: 2 } }],
    acks: [{ endOfFile: true, stream: { start: 0, data: Uint8Array.of(1, 2, 3) } }, { endOfFile: false, record: { start: 4, records: [Uint8Array.of(1), Uint8Array.of()] } }],
  },
  'atomic-write-file': {
    requests: [{ fileId: { type: 10, instance: 1 }, stream: { start: -1, data: Uint8Array.of(9) } }, { fileId: { type: 10, instance: 1 }, record: { start: 0, records: [Uint8Array.of(7)] } }],
    acks: [{ start: 10 }, { start: 2, record: true }],
  },
  'create-object': {
    requests: [{ objectType: 2 }, { objectId: { type: 2, instance: 9 }, initialValues: [{ propertyId: 77, value: [Value.characterString('new')] }] }],
    acks: [{ objectId: { type: 2, instance: 9 } }],
  },
  'delete-object': { requests: [{ objectId: { type: 2, instance: 9 } }] },
  'read-property': {
    requests: [{ objectId: ai1, propertyId: 85 }, { objectId: { type: 1, instance: 1 }, propertyId: 87, arrayIndex: 8 }],
    acks: [{ objectId: ai1, propertyId: 85, value: [Value.real(21.5)] }, { objectId: dev, propertyId: 76, arrayIndex: 0, value: [Value.unsigned(78)] }],
  },
  'read-property-multiple': {
    requests: [{ specs: [{ objectId: ai1, properties: [{ propertyId: 85 }, { propertyId: 77 }, { propertyId: 87, arrayIndex: 1 }] }, { objectId: dev, properties: [{ propertyId: 8 }] }] }],
    acks: [{ results: [
      { objectId: ai1, results: [{ propertyId: 85, value: [Value.real(21.5)] }, { propertyId: 4000, error: { errorClass: 2, errorCode: 32 } }, { propertyId: 87, arrayIndex: 1, value: [Value.null()] }] },
      { objectId: { type: 0, instance: 99 }, results: [{ propertyId: 85, error: { errorClass: 1, errorCode: 31 } }] },
    ] }],
  },
  'write-property': { requests: [
    { objectId: { type: 1, instance: 1 }, propertyId: 85, value: [Value.real(42.5)], priority: 8 },
    { objectId: { type: 1, instance: 1 }, propertyId: 85, value: [Value.null()], priority: 8 },
    { objectId: { type: 1, instance: 1 }, propertyId: 77, value: [Value.characterString('x')] },
  ] },
  'write-property-multiple': { requests: [{ specs: [
    { objectId: { type: 1, instance: 1 }, values: [{ propertyId: 85, value: [Value.real(55.5)], priority: 8 }] },
    { objectId: { type: 2, instance: 1 }, values: [{ propertyId: 85, value: [Value.real(66.25)], priority: 8 }, { propertyId: 28, arrayIndex: 1, value: [Value.characterString('d')] }] },
  ] }] },
  'device-communication-control': { requests: [{ timeDuration: 5, enableDisable: 1, password: 'secret' }, { enableDisable: 0 }] },
  'reinitialize-device': { requests: [{ state: 1, password: 'x' }, { state: 0 }] },
  'read-range': {
    requests: [
      { objectId: { type: 20, instance: 0 }, propertyId: 131, range: { byPosition: { referenceIndex: 1, count: 3 } } },
      { objectId: { type: 20, instance: 0 }, propertyId: 131, range: { bySequenceNumber: { referenceSequenceNumber: 10, count: -5 } } },
      { objectId: { type: 20, instance: 0 }, propertyId: 131, range: { byTime: { referenceTime: dt, count: 100 } } },
      { objectId: { type: 20, instance: 0 }, propertyId: 131 },
    ],
    acks: [{ objectId: { type: 20, instance: 0 }, propertyId: 131, resultFlags: [true, false, true], itemCount: 1, itemData: [Value.constructed(0, [Value.date(dt.date), Value.time(dt.time)]), Value.constructed(1, [Value.context(2, Uint8Array.of(0, 0, 0, 0))])], firstSequenceNumber: 1 }],
  },
  'subscribe-cov-property': { requests: [
    { subscriberProcessId: 1, monitoredObjectId: ai1, issueConfirmedNotifications: true, lifetime: 60, monitoredProperty: { propertyId: 85 }, covIncrement: 0.5 },
    { subscriberProcessId: 1, monitoredObjectId: ai1, monitoredProperty: { propertyId: 87, arrayIndex: 3 } },
  ] },
  'get-event-information': {
    requests: [{}, { lastReceivedObjectId: ai1 }],
    acks: [{ summaries: [{ objectId: ai1, eventState: 3, acknowledgedTransitions: [false, true, true], eventTimeStamps: [{ dateTime: dt }, { sequenceNumber: 0 }, { time: dt.time }], notifyType: 0, eventEnable: [true, true, true], eventPriorities: [1, 2, 3] }], moreEvents: false }, { summaries: [], moreEvents: true }],
  },
};

export const UNCONFIRMED: Record<string, unknown[]> = {
  'i-am': [{ deviceId: dev, maxApdu: 1476, segmentation: 3, vendorId: 260 }],
  'i-have': [{ deviceId: dev, objectId: ai1, objectName: 'ANALOG INPUT 1' }],
  'unconfirmed-cov-notification': [{ subscriberProcessId: 7, initiatingDeviceId: dev, monitoredObjectId: { type: 2, instance: 1 }, timeRemaining: 4, values: [{ propertyId: 85, value: [Value.real(66.25)] }] }],
  'unconfirmed-event-notification': [{ processId: 0, initiatingDeviceId: dev, eventObjectId: ai1, timeStamp: { time: dt.time }, notificationClass: 2, priority: 200, eventType: 0, notifyType: 1, toState: 2 }],
  'time-synchronization': [{ time: dt }],
  'who-has': [{ objectName: 'Zone' }, { lowLimit: 1, highLimit: 10, objectId: ai1 }],
  'who-is': [{}, { lowLimit: 1234, highLimit: 1234 }],
  'utc-time-synchronization': [{ time: dt }],
};


function data(f: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  f(w);
  return w.finish().slice();
}

export interface SampleFrame {
  label: string;
  bytes: Uint8Array;
}

/** One frame per BVLC function, network message, PDU type, and service request/ACK. */
export function sampleFrames(): SampleFrame[] {
  const out: SampleFrame[] = [];
  const add = (label: string, f: FrameSpec): void => void out.push({ label, bytes: encodeFrame(f) });
  const bvlcs: Array<[string, Bvlc]> = [
    ['BVLC-Result NAK', { function: 0, resultCode: 0x0030 }],
    ['Write-BDT', { function: 1, entries: [{ host: '127.0.0.1', port: 47808, mask: '255.255.255.255' }, { host: '127.0.0.2', port: 47809, mask: '255.255.255.0' }] }],
    ['Read-BDT', { function: 2 }],
    ['Read-BDT-Ack', { function: 3, entries: [{ host: '127.0.0.1', port: 47808, mask: '255.255.255.255' }] }],
    ['Register-Foreign-Device', { function: 5, ttl: 60 }],
    ['Read-FDT', { function: 6 }],
    ['Read-FDT-Ack', { function: 7, entries: [{ host: '127.0.0.5', port: 47809, ttl: 60, remaining: 88 }] }],
    ['Delete-FDT-Entry', { function: 8, address: { host: '127.0.0.5', port: 47809 } }],
  ];
  for (const [label, b] of bvlcs) out.push({ label, bytes: encodeBvlc(b) });
  const whoIs = data((w) => UNCONFIRMED_SERVICES['who-is'].encodeRequest(w, { lowLimit: 1, highLimit: 2 }));
  add('Forwarded-NPDU Who-Is', { bvlcFunction: BvlcFunction.FORWARDED_NPDU, origin: { host: '127.0.0.9', port: 47809 }, apdu: { type: PduType.UNCONFIRMED_REQUEST, service: 8, data: whoIs } });
  add('Distribute-Broadcast-To-Network Who-Is', { bvlcFunction: BvlcFunction.DISTRIBUTE_BROADCAST_TO_NETWORK, npdu: { destination: { network: 0xffff, mac: new Uint8Array() } }, apdu: { type: PduType.UNCONFIRMED_REQUEST, service: 8, data: whoIs } });
  add('Original-Broadcast Who-Is', { bvlcFunction: BvlcFunction.ORIGINAL_BROADCAST_NPDU, apdu: { type: PduType.UNCONFIRMED_REQUEST, service: 8, data: new Uint8Array() } });
  const nets: Array<[string, NetworkMessage]> = [
    ['Who-Is-Router-To-Network', { type: 0x00, network: 5 }],
    ['Who-Is-Router-To-Network (all)', { type: 0x00 }],
    ['I-Am-Router-To-Network', { type: 0x01, networks: [5, 6] }],
    ['I-Could-Be-Router-To-Network', { type: 0x02, network: 5, performanceIndex: 10 }],
    ['Reject-Message-To-Network', { type: 0x03, reason: 1, network: 5 }],
    ['Router-Busy-To-Network', { type: 0x04, networks: [5] }],
    ['Router-Available-To-Network', { type: 0x05, networks: [5] }],
    ['Initialize-Routing-Table', { type: 0x06, ports: [{ network: 5, portId: 1, portInfo: new Uint8Array() }] }],
    ['Initialize-Routing-Table-Ack', { type: 0x07, ports: [{ network: 5, portId: 1, portInfo: Uint8Array.of(1, 2) }] }],
    ['Establish-Connection-To-Network', { type: 0x08, network: 5, terminationTime: 30 }],
    ['Disconnect-Connection-To-Network', { type: 0x09, network: 5 }],
    ['What-Is-Network-Number', { type: 0x12 }],
    ['Network-Number-Is', { type: 0x13, network: 5, configured: true }],
  ];
  for (const [label, network] of nets) {
    const bcast = network.type === 0x00 || network.type === 0x12 || network.type === 0x13 || network.type === 0x01;
    add(label, { bvlcFunction: bcast ? BvlcFunction.ORIGINAL_BROADCAST_NPDU : BvlcFunction.ORIGINAL_UNICAST_NPDU, network });
  }
  const routed = { destination: { network: 5, mac: Uint8Array.of(0x0a) }, source: { network: 7, mac: Uint8Array.of(127, 0, 0, 1, 0xba, 0xc1) }, hopCount: 254, expectingReply: true, priority: 1 };
  const rp = data((w) => CONFIRMED_SERVICES['read-property'].encodeRequest(w, { objectId: ai1, propertyId: 85 }));
  add('routed Confirmed-Request DNET/DADR/SNET/SADR', { npdu: routed, apdu: { type: 0, segmented: false, moreFollows: false, segmentedResponseAccepted: true, maxSegments: 64, maxApdu: 1476, invokeId: 9, service: 12, data: rp } });
  add('Confirmed-Request segment', { npdu: { expectingReply: true }, apdu: { type: 0, segmented: true, moreFollows: true, segmentedResponseAccepted: true, maxSegments: 16, maxApdu: 480, invokeId: 3, sequenceNumber: 0, proposedWindowSize: 4, service: 16, data: Uint8Array.of(0x0c, 0x00, 0x80, 0x00, 0x01, 0x1e, 0x09, 0x55) } });
  add('ComplexACK segment', { apdu: { type: 3, segmented: true, moreFollows: true, invokeId: 3, sequenceNumber: 0, proposedWindowSize: 4, service: 12, data: Uint8Array.of(0x0c, 0x02, 0x00, 0x04, 0xd2, 0x19, 0x4c, 0x3e, 0xc4, 0x02, 0x00, 0x04, 0xd2) } });
  add('SegmentACK', { apdu: { type: 4, negative: false, server: false, invokeId: 3, sequenceNumber: 3, actualWindowSize: 4 } });
  add('SegmentACK NAK from server', { apdu: { type: 4, negative: true, server: true, invokeId: 3, sequenceNumber: 1, actualWindowSize: 4 } });
  add('SimpleACK', { apdu: { type: 2, invokeId: 1, service: 15 } });
  add('Error', { apdu: { type: 5, invokeId: 1, service: 12, data: data((w) => encodeServiceError(w, 12, { errorClass: 1, errorCode: 31 })) } });
  add('Error WritePropertyMultiple', { apdu: { type: 5, invokeId: 1, service: 16, data: data((w) => encodeServiceError(w, 16, { errorClass: 2, errorCode: 40, firstFailedWriteAttempt: { objectId: ai1, propertyId: 85 } })) } });
  add('Error CreateObject', { apdu: { type: 5, invokeId: 1, service: 10, data: data((w) => encodeServiceError(w, 10, { errorClass: 1, errorCode: 25, firstFailedElementNumber: 1 })) } });
  add('Reject', { apdu: { type: 6, invokeId: 1, reason: 9 } });
  add('Abort', { apdu: { type: 7, server: true, invokeId: 1, reason: 4 } });
  let invokeId = 10;
  for (const [name, codec] of Object.entries(CONFIRMED_SERVICES) as unknown as Array<[string, ServiceCodec<unknown, unknown>]>) {
    const s = CONFIRMED[name]!;
    s.requests.forEach((req, i) => add(`${name} request ${i}`, {
      npdu: { expectingReply: true },
      apdu: { type: 0, segmented: false, moreFollows: false, segmentedResponseAccepted: false, maxSegments: 0, maxApdu: 1476, invokeId: invokeId++ & 0xff, service: codec.choice, data: data((w) => codec.encodeRequest(w, req)) },
    }));
    if (codec.encodeAck) {
      (s.acks ?? []).forEach((ack, i) => add(`${name} ACK ${i}`, {
        apdu: { type: 3, segmented: false, moreFollows: false, invokeId: invokeId++ & 0xff, service: codec.choice, data: data((w) => codec.encodeAck!(w, ack)) },
      }));
    } else {
      add(`${name} SimpleACK`, { apdu: { type: 2, invokeId: invokeId++ & 0xff, service: codec.choice } });
    }
  }
  for (const [name, codec] of Object.entries(UNCONFIRMED_SERVICES) as unknown as Array<[string, ServiceCodec<unknown, unknown>]>) {
    UNCONFIRMED[name]!.forEach((req, i) => add(`${name} ${i}`, {
      bvlcFunction: name === 'who-is' || name === 'i-am' || name === 'who-has' ? BvlcFunction.ORIGINAL_BROADCAST_NPDU : BvlcFunction.ORIGINAL_UNICAST_NPDU,
      apdu: { type: 1, service: codec.choice, data: data((w) => codec.encodeRequest(w, req)) },
    }));
  }
  return out;
}
