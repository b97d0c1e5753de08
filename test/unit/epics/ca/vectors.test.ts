/**
 * Decode the CA captures of softIoc / caget / caput / camonitor / pyepics in test/vectors and
 * assert the values the vectors README lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DBR, ECA, DBE, SearchReply, epicsTimeToDate, type CaRequest, type CaResponse, type DbrValue } from '../../../../src/lib/epics/ca';
import { decodeCapture } from './capture';

function only<K extends string, T extends { kind: string }>(list: T[], kind: K): Array<Extract<T, { kind: K }>> {
  return list.filter((m): m is Extract<T, { kind: K }> => m.kind === kind);
}
function num(d: DbrValue | undefined): number[] {
  assert.ok(d, 'data present');
  return Array.from(d.value as ArrayLike<number>);
}

/** The search and handshake every CA capture begins with. */
function checkHandshake(file: string, pv: string, nativeType: number, nativeCount = 1): { sid: number } {
  const cap = decodeCapture(file);
  const search = cap.searches[0]!;
  assert.deepEqual(search[0], { kind: 'Version', priority: 0, minorVersion: 13, sequence: 1 }, `${file}: search datagram VERSION`);
  assert.deepEqual(search[1], { kind: 'SearchRequest', name: pv, cid: 1, reply: SearchReply.DONT_REPLY, minorVersion: 13 });
  const reply = cap.replies[0]!;
  assert.deepEqual(reply[0], { kind: 'Version', priority: 0, minorVersion: 13, sequence: 1 });
  assert.deepEqual(reply[1], { kind: 'SearchResponse', port: 5064, cid: 1, serverIp: 0xffffffff, minorVersion: 13 });
  const c = cap.circuits[0]!;
  assert.deepEqual(c.requests.slice(0, 4), [
    { kind: 'Version', priority: 0, minorVersion: 13 },
    { kind: 'ClientNameRequest', name: 'root' },
    { kind: 'HostNameRequest', name: 'vm' },
    { kind: 'CreateChanRequest', cid: 1, minorVersion: 13, name: pv },
  ]);
  assert.deepEqual(c.responses[0], { kind: 'Version', priority: 0, minorVersion: 13 });
  assert.deepEqual(c.responses[1], { kind: 'AccessRightsResponse', cid: 1, rights: 3 });
  const cc = c.responses[2]!;
  assert.equal(cc.kind, 'CreateChanResponse');
  if (cc.kind !== 'CreateChanResponse') throw new Error('unreachable');
  assert.equal(cc.dataType, nativeType);
  assert.equal(cc.count, nativeCount);
  const clear = only(c.requests, 'ClearChannelRequest');
  if (clear.length) assert.deepEqual(only(c.responses, 'ClearChannelResponse'), [{ kind: 'ClearChannelResponse', sid: cc.sid, cid: 1 }]);
  return { sid: cc.sid };
}

function reads(rs: CaResponse[]): Array<Extract<CaResponse, { kind: 'ReadNotifyResponse' }>> {
  return only(rs, 'ReadNotifyResponse');
}

test('ca-get-time-double.pcap: TIME_DOUBLE 12.5, NO_ALARM, stamp of the capture day', () => {
  const { sid } = checkHandshake('ca-get-time-double.pcap', 'TEST:ai', DBR.DOUBLE);
  const c = decodeCapture('ca-get-time-double.pcap').circuits[0]!;
  assert.deepEqual(only(c.requests, 'ReadNotifyRequest'), [{ kind: 'ReadNotifyRequest', sid, ioid: 1, dataType: DBR.TIME_DOUBLE, count: 1 }]);
  const [r] = reads(c.responses);
  assert.equal(r!.status, ECA.NORMAL);
  assert.equal(r!.dataType, DBR.TIME_DOUBLE);
  assert.deepEqual(num(r!.data), [12.5]);
  assert.equal(r!.data!.status, 0);
  assert.equal(r!.data!.severity, 0);
  assert.match(epicsTimeToDate(r!.data!.stamp!).toISOString(), /^2026-11-21T/);
});

test('ca-get-ctrl-double.pcap: CTRL_DOUBLE metadata degC, precision 3, limits', () => {
  checkHandshake('ca-get-ctrl-double.pcap', 'TEST:ai', DBR.DOUBLE);
  const [r] = reads(decodeCapture('ca-get-ctrl-double.pcap').circuits[0]!.responses);
  const d = r!.data!;
  assert.equal(d.dataType, DBR.CTRL_DOUBLE);
  assert.deepEqual(num(d), [12.5]);
  assert.equal(d.status, 0);
  assert.equal(d.severity, 0);
  assert.equal(d.precision, 3);
  assert.equal(d.units, 'degC');
  assert.deepEqual(d.limits, {
    display: { low: -20, high: 100 },
    alarm: { low: -10, high: 90 },
    warning: { low: 0, high: 80 },
    control: { low: -20, high: 100 },
  });
});

test('ca-get-string.pcap: TIME_STRING "hello EPICS"', () => {
  checkHandshake('ca-get-string.pcap', 'TEST:si', DBR.STRING);
  const [r] = reads(decodeCapture('ca-get-string.pcap').circuits[0]!.responses);
  assert.equal(r!.dataType, DBR.TIME_STRING);
  assert.deepEqual(r!.data!.value, ['hello EPICS']);
});

test('ca-get-ctrl-enum.pcap: CTRL_ENUM value 1 with Idle/Running/Paused/Fault', () => {
  checkHandshake('ca-get-ctrl-enum.pcap', 'TEST:mbbo', DBR.ENUM);
  const [r] = reads(decodeCapture('ca-get-ctrl-enum.pcap').circuits[0]!.responses);
  assert.equal(r!.dataType, DBR.CTRL_ENUM);
  assert.deepEqual(num(r!.data), [1]);
  assert.deepEqual(r!.data!.enumStrings, ['Idle', 'Running', 'Paused', 'Fault']);
});

test('ca-get-array.pcap: 1000 doubles i*0.5 in one 8032-byte standard-header message', () => {
  checkHandshake('ca-get-array.pcap', 'TEST:wf', DBR.DOUBLE, 1000);
  const cap = decodeCapture('ca-get-array.pcap');
  const [r] = reads(cap.circuits[0]!.responses);
  assert.equal(r!.count, 1000);
  const v = r!.data!.value;
  assert.ok(v instanceof Float64Array);
  assert.equal(v.length, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(v[i], i * 0.5);
});

test('ca-put.pcap: read 1.25, WRITE DBR_STRING "3.5" (no reply), read 3.5', () => {
  const { sid } = checkHandshake('ca-put.pcap', 'TEST:ao', DBR.DOUBLE);
  const c = decodeCapture('ca-put.pcap').circuits[0]!;
  const [w] = only(c.requests, 'WriteRequest');
  assert.equal(w!.sid, sid);
  assert.equal(w!.dataType, DBR.STRING);
  assert.equal(w!.count, 1);
  assert.deepEqual(w!.data!.value, ['3.5']);
  assert.deepEqual(reads(c.responses).map((r) => num(r.data)[0]), [1.25, 3.5]);
  assert.equal(only(c.responses, 'WriteNotifyResponse').length, 0);
});

test('ca-put-callback.pcap: WRITE_NOTIFY DBR_STRING "2.5" -> ECA_NORMAL', () => {
  checkHandshake('ca-put-callback.pcap', 'TEST:ao', DBR.DOUBLE);
  const c = decodeCapture('ca-put-callback.pcap').circuits[0]!;
  const [w] = only(c.requests, 'WriteNotifyRequest');
  assert.equal(w!.dataType, DBR.STRING);
  assert.deepEqual(w!.data!.value, ['2.5']);
  const [wr] = only(c.responses, 'WriteNotifyResponse');
  assert.equal(wr!.ioid, w!.ioid);
  assert.equal(wr!.status, ECA.NORMAL);
  assert.deepEqual(reads(c.responses).map((r) => num(r.data)[0]), [3.5, 2.5]);
});

test('ca-put-double-pyepics.pcap: monitor, WRITE_NOTIFY DBR_DOUBLE 5.5, events 8.5 then 5.5, cancel', () => {
  const { sid } = checkHandshake('ca-put-double-pyepics.pcap', 'TEST:ao', DBR.DOUBLE);
  const c = decodeCapture('ca-put-double-pyepics.pcap').circuits[0]!;
  const [ea] = only(c.requests, 'EventAddRequest');
  assert.deepEqual(ea, { kind: 'EventAddRequest', sid, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 0, mask: DBE.VALUE | DBE.ALARM, low: 0, high: 0, timeout: 0 });
  const [w] = only(c.requests, 'WriteNotifyRequest');
  assert.equal(w!.dataType, DBR.DOUBLE);
  assert.deepEqual(num(w!.data), [5.5]);
  assert.equal(only(c.responses, 'WriteNotifyResponse')[0]!.status, ECA.NORMAL);
  const events = only(c.responses, 'EventAddResponse');
  assert.deepEqual(events.map((e) => num(e.data)[0]), [8.5, 5.5]);
  assert.ok(events.every((e) => e.subscriptionId === 1 && e.status === ECA.NORMAL));
  assert.deepEqual(only(c.requests, 'EventCancelRequest'), [{ kind: 'EventCancelRequest', sid, subscriptionId: 1, dataType: DBR.TIME_DOUBLE, count: 0 }]);
  assert.deepEqual(only(c.responses, 'EventCancelResponse'), [{ kind: 'EventCancelResponse', sid, subscriptionId: 1, dataType: DBR.TIME_DOUBLE }]);
});

test('ca-monitor.pcap: dynamic-count monitor gets 7.25 then 8.5 written by a second circuit', () => {
  const cap = decodeCapture('ca-monitor.pcap');
  assert.equal(cap.circuits.length, 2);
  const [mon, put] = cap.circuits as [typeof cap.circuits[0], typeof cap.circuits[0]];
  const [ea] = only(mon.requests, 'EventAddRequest');
  assert.equal(ea!.count, 0);
  assert.equal(ea!.mask, 5);
  assert.deepEqual(only(mon.responses, 'EventAddResponse').map((e) => num(e.data)[0]), [7.25, 8.5]);
  const [w] = only(put.requests as CaRequest[], 'WriteRequest');
  assert.deepEqual(w!.data!.value, ['8.5']);
  assert.deepEqual(reads(put.responses).map((r) => num(r.data)[0]), [7.25, 8.5]);
});

test('ca-monitor-counter.pcap: events 145..149, no EVENT_CANCEL', () => {
  const c = decodeCapture('ca-monitor-counter.pcap').circuits[0]!;
  assert.deepEqual(only(c.responses, 'EventAddResponse').map((e) => num(e.data)[0]), [145, 146, 147, 148, 149]);
  assert.equal(only(c.requests, 'EventCancelRequest').length, 0);
  const stamps = only(c.responses, 'EventAddResponse').map((e) => e.data!.stamp!);
  for (let i = 1; i < stamps.length; i++) {
    const dt = stamps[i]!.secondsPastEpoch - stamps[i - 1]!.secondsPastEpoch + (stamps[i]!.nanoseconds - stamps[i - 1]!.nanoseconds) / 1e9;
    assert.ok(dt > 0.05 && dt < 0.15, `events about 0.1 s apart (got ${dt})`);
  }
});
