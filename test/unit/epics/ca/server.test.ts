/**
 * CaServer over loopback, spoken to with exact CA messages (our encoders, a raw socket): channel
 * creation, reads in every family with conversions, writes with conversion and the write hook,
 * monitors with masks, flow control, cancel, clear, echo, access rights, PV removal, errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CaServer, DBR, DBE, ECA, AccessRights, CA_MINOR_VERSION,
  encodeVersion, encodeHostName, encodeClientName, encodeCreateChanRequest, encodeReadNotifyRequest,
  encodeWriteRequest, encodeWriteNotifyRequest, encodeEventAddRequest, encodeEventCancelRequest, encodeEventsOff,
  encodeEventsOn, encodeClearChannel, encodeEcho, encodeReadSync, encodeSearchRequest, SearchReply,
  ServerCircuit, ServerPv, type CircuitHost, type CaResponse, type WriteHook, type ServerWriteEvent, type DbrValue,
} from '../../../../src/lib/epics/ca';
import { RawClient } from './rawclient';

let server: CaServer;
let hook: WriteHook | undefined;
const writes: ServerWriteEvent[] = [];

before(async () => {
  server = new CaServer({
    port: 0,
    beacons: false,
    writeHook: (w) => (hook ? hook(w) : undefined),
    pvs: [
      { name: 'T:ai', type: 'DOUBLE', value: 12.5, units: 'degC', precision: 3, limits: { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } } },
      { name: 'T:mbbo', type: 'ENUM', value: 1, enumStrings: ['Idle', 'Running', 'Paused', 'Fault'] },
      { name: 'T:si', type: 'STRING', value: 'hello EPICS' },
      { name: 'T:wf', type: 'DOUBLE', count: 1000, value: Float64Array.from({ length: 1000 }, (_, i) => i * 0.5) },
      { name: 'T:ro', type: 'LONG', value: 7, writable: false },
      { name: 'T:short', type: 'SHORT', value: -3, units: 'cnt', limits: { display: { low: -100, high: 100 } } },
      { name: 'T:char', type: 'CHAR', count: 16, value: 'abc' },
      { name: 'T:float', type: 'FLOAT', value: 0.25, precision: 2 },
    ],
  });
  server.on('write', (w) => writes.push(w));
  await server.listen();
});

after(() => server.close());

let nextCid = 1;
/** Connect, handshake, create a channel; returns the client and the channel's sid. */
async function open(name: string, client?: RawClient): Promise<{ c: RawClient; sid: number; cid: number; create: Extract<CaResponse, { kind: 'CreateChanResponse' }> }> {
  const c = client ?? (await RawClient.connect(server.tcpPort));
  const cid = nextCid++;
  const from = c.received.length;
  if (!client) c.send(encodeVersion(), encodeHostName('testhost'), encodeClientName('tester'));
  c.send(encodeCreateChanRequest({ cid, name }));
  const create = await c.next('CreateChanResponse', from);
  return { c, sid: create.sid, cid, create };
}

async function read(c: RawClient, sid: number, dataType: number, count = 1): Promise<Extract<CaResponse, { kind: 'ReadNotifyResponse' }>> {
  const ioid = nextCid++;
  c.send(encodeReadNotifyRequest({ sid, ioid, dataType, count }));
  await c.until((r) => r.some((m) => m.kind === 'ReadNotifyResponse' && m.ioid === ioid));
  return c.all('ReadNotifyResponse').find((m) => m.ioid === ioid)!;
}

function nums(d: DbrValue | undefined): number[] {
  return Array.from((d?.value ?? []) as ArrayLike<number>);
}

test('handshake: VERSION first, ACCESS_RIGHTS then CREATE_CHAN with native type and count; unknown name fails', async () => {
  const { c, cid, create } = await open('T:wf');
  assert.deepEqual(c.received[0], { kind: 'Version', priority: 0, minorVersion: CA_MINOR_VERSION });
  assert.deepEqual(c.received[1], { kind: 'AccessRightsResponse', cid, rights: AccessRights.READ_WRITE });
  assert.equal(create.dataType, DBR.DOUBLE);
  assert.equal(create.count, 1000);
  c.send(encodeCreateChanRequest({ cid: 999, name: 'NO:SUCH:PV' }));
  assert.deepEqual(await c.next('CreateChFailResponse'), { kind: 'CreateChFailResponse', cid: 999 });
  const ro = await open('T:ro', c);
  assert.equal(c.all('AccessRightsResponse').find((a) => a.cid === ro.cid)!.rights, AccessRights.READ);
  c.close();
});

test('reads in every family, with metadata', async () => {
  const { c, sid } = await open('T:ai');
  assert.deepEqual(nums((await read(c, sid, DBR.DOUBLE)).data), [12.5]);
  const sts = (await read(c, sid, DBR.STS_DOUBLE)).data!;
  assert.deepEqual([sts.status, sts.severity], [0, 0]);
  const time = (await read(c, sid, DBR.TIME_DOUBLE)).data!;
  assert.ok(Math.abs((time.stamp!.secondsPastEpoch + 631152000) - Date.now() / 1000) < 60, 'stamp is recent');
  const gr = (await read(c, sid, DBR.GR_DOUBLE)).data!;
  assert.equal(gr.units, 'degC');
  assert.equal(gr.precision, 3);
  assert.deepEqual(gr.limits?.warning, { low: 0, high: 80 });
  const ctrl = (await read(c, sid, DBR.CTRL_DOUBLE)).data!;
  assert.deepEqual(ctrl.limits, { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } });
  // Conversions to other requested types.
  assert.deepEqual((await read(c, sid, DBR.STRING)).data!.value, ['12.500']);
  assert.deepEqual(nums((await read(c, sid, DBR.LONG)).data), [12]);
  const ctrlLong = (await read(c, sid, DBR.CTRL_LONG)).data!;
  assert.deepEqual(ctrlLong.limits?.display, { low: -20, high: 100 });
  assert.deepEqual((await read(c, sid, DBR.CLASS_NAME)).data!.value, ['ao']);
  assert.equal((await read(c, sid, DBR.STSACK_STRING)).data!.value[0], '12.500');
  c.close();
});

test('enum, string, char-array and float PVs read as strings and numbers', async () => {
  const { c, sid } = await open('T:mbbo');
  const e = (await read(c, sid, DBR.CTRL_ENUM)).data!;
  assert.deepEqual(e.enumStrings, ['Idle', 'Running', 'Paused', 'Fault']);
  assert.deepEqual(nums(e), [1]);
  assert.deepEqual((await read(c, sid, DBR.TIME_STRING)).data!.value, ['Running']);
  assert.deepEqual(nums((await read(c, sid, DBR.DOUBLE)).data), [1]);
  const si = await open('T:si', c);
  assert.deepEqual((await read(c, si.sid, DBR.TIME_STRING)).data!.value, ['hello EPICS']);
  const bad = await read(c, si.sid, DBR.DOUBLE);
  assert.equal(bad.status, ECA.NOCONVERT);
  assert.equal(bad.data, undefined);
  const ch = await open('T:char', c);
  const chars = (await read(c, ch.sid, DBR.CHAR, 0)).data!;
  assert.equal(Buffer.from(chars.value as Uint8Array).toString('latin1'), 'abc\0');
  const fl = await open('T:float', c);
  assert.deepEqual((await read(c, fl.sid, DBR.STRING)).data!.value, ['0.25']);
  assert.deepEqual(nums((await read(c, fl.sid, DBR.CTRL_FLOAT)).data), [0.25]);
  c.close();
});

test('arrays: count 0 = current length, a smaller count, a count past the maximum is ECA_BADCOUNT', async () => {
  const { c, sid } = await open('T:wf');
  const all = await read(c, sid, DBR.TIME_DOUBLE, 0);
  assert.equal(all.count, 1000);
  assert.equal((all.data!.value as Float64Array)[999], 499.5);
  const part = await read(c, sid, DBR.DOUBLE, 10);
  assert.deepEqual(nums(part.data), [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
  const from = c.received.length;
  c.send(encodeReadNotifyRequest({ sid, ioid: 4242, dataType: DBR.DOUBLE, count: 1001 }));
  const err = await c.next('ErrorResponse', from);
  assert.equal(err.status, ECA.BADCOUNT);
  assert.equal(err.request?.param2, 4242);
  // A shorter array written: count 0 reads follow its length.
  server.update('T:wf', { value: [1, 2, 3] });
  assert.deepEqual(nums((await read(c, sid, DBR.DOUBLE, 0)).data), [1, 2, 3]);
  assert.deepEqual(nums((await read(c, sid, DBR.DOUBLE, 5)).data), [1, 2, 3, 0, 0]);
  server.update('T:wf', { value: Float64Array.from({ length: 1000 }, (_, i) => i * 0.5) });
  c.close();
});

test('writes: DBR_STRING converted, WRITE_NOTIFY answered, enum by state string, errors', async () => {
  const { c, sid } = await open('T:ai');
  writes.length = 0;
  c.send(encodeWriteRequest({ sid, ioid: 1, dataType: DBR.STRING, count: 1, data: { value: ['3.5'] } }), encodeEcho());
  await c.next('Echo');
  assert.equal(writes.length, 1);
  assert.deepEqual(nums((await read(c, sid, DBR.DOUBLE)).data), [3.5]);
  assert.equal(writes[0]!.name, 'T:ai');
  assert.equal(writes[0]!.value, 3.5);
  assert.equal(writes[0]!.previous, 12.5);
  assert.equal(writes[0]!.dataType, DBR.STRING);
  assert.equal(writes[0]!.client.host, 'testhost');
  assert.equal(writes[0]!.client.user, 'tester');
  assert.equal(writes[0]!.notify, false);

  let from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid, ioid: 2, dataType: DBR.DOUBLE, count: 1, data: { value: [2.5] } }));
  assert.deepEqual(await c.next('WriteNotifyResponse', from), { kind: 'WriteNotifyResponse', ioid: 2, status: ECA.NORMAL, dataType: DBR.DOUBLE, count: 1 });

  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid, ioid: 3, dataType: DBR.STRING, count: 1, data: { value: ['abc'] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.BADSTR);
  from = c.received.length;
  c.send(encodeWriteRequest({ sid, ioid: 4, dataType: DBR.STRING, count: 1, data: { value: ['abc'] } }));
  const e = await c.next('ErrorResponse', from);
  assert.equal(e.status, ECA.BADSTR);
  assert.match(e.message, /not a number/);

  const m = await open('T:mbbo', c);
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: m.sid, ioid: 5, dataType: DBR.STRING, count: 1, data: { value: ['Paused'] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NORMAL);
  assert.deepEqual(nums((await read(c, m.sid, DBR.ENUM)).data), [2]);
  assert.equal(writes.at(-1)!.enumString, 'Paused');
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: m.sid, ioid: 6, dataType: DBR.STRING, count: 1, data: { value: ['Nope'] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.BADSTR);
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: m.sid, ioid: 7, dataType: DBR.SHORT, count: 1, data: { value: [9] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NOCONVERT, 'index past the last state');

  const ro = await open('T:ro', c);
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: ro.sid, ioid: 8, dataType: DBR.LONG, count: 1, data: { value: [1] } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NOWTACCESS);

  const wf = await open('T:wf', c);
  from = c.received.length;
  c.send(encodeWriteNotifyRequest({ sid: wf.sid, ioid: 9, dataType: DBR.DOUBLE, count: 1001, data: { value: new Float64Array(1001) } }));
  assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.BADCOUNT);
  c.close();
});

test('write hook: reject, replace the value, answer asynchronously', async () => {
  const { c, sid } = await open('T:short');
  try {
    hook = (w) => (Number(w.value) > 50 ? { reject: 'too big' } : undefined);
    let from = c.received.length;
    c.send(encodeWriteNotifyRequest({ sid, ioid: 1, dataType: DBR.DOUBLE, count: 1, data: { value: [60] } }));
    assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.PUTFAIL);
    from = c.received.length;
    c.send(encodeWriteRequest({ sid, ioid: 2, dataType: DBR.DOUBLE, count: 1, data: { value: [60] } }));
    assert.match((await c.next('ErrorResponse', from)).message, /too big/);

    hook = (w) => ({ value: Number(w.value) * 2 });
    from = c.received.length;
    c.send(encodeWriteNotifyRequest({ sid, ioid: 3, dataType: DBR.DOUBLE, count: 1, data: { value: [4] } }));
    assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NORMAL);
    assert.deepEqual(nums((await read(c, sid, DBR.SHORT)).data), [8]);

    let release!: () => void;
    hook = () => new Promise<void>((r) => (release = r));
    from = c.received.length;
    c.send(encodeWriteNotifyRequest({ sid, ioid: 4, dataType: DBR.DOUBLE, count: 1, data: { value: [5] } }));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.all('WriteNotifyResponse').filter((w) => w.ioid === 4).length, 0, 'not answered before the hook settles');
    release();
    assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.NORMAL);
    assert.deepEqual(nums((await read(c, sid, DBR.SHORT)).data), [5]);

    hook = () => {
      throw new Error('hook exploded');
    };
    from = c.received.length;
    c.send(encodeWriteNotifyRequest({ sid, ioid: 5, dataType: DBR.DOUBLE, count: 1, data: { value: [6] } }));
    assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.PUTFAIL);
  } finally {
    hook = undefined;
    c.close();
  }
});

test('write hook: a refusal with a status that does not fit the wire, or says success, is answered ECA_PUTFAIL', async () => {
  const { c, sid } = await open('T:short');
  const warned: Error[] = [];
  const onWarning = (e: Error): void => void warned.push(e);
  server.on('warning', onWarning);
  try {
    let ioid = 100;
    for (const status of [-1, 2 ** 32, 1.5, Number.NaN, ECA.NORMAL]) {
      for (const async of [false, true]) {
        const d = { reject: `status ${status}`, status };
        hook = () => (async ? Promise.resolve(d) : d);
        let from = c.received.length;
        c.send(encodeWriteNotifyRequest({ sid, ioid: ++ioid, dataType: DBR.DOUBLE, count: 1, data: { value: [1] } }));
        assert.equal((await c.next('WriteNotifyResponse', from)).status, ECA.PUTFAIL, `WRITE_NOTIFY, ${async ? 'async' : 'sync'} status ${status}`);
        from = c.received.length;
        c.send(encodeWriteRequest({ sid, ioid: ++ioid, dataType: DBR.DOUBLE, count: 1, data: { value: [1] } }));
        const err = await c.next('ErrorResponse', from);
        assert.equal(err.status, ECA.PUTFAIL, `WRITE, ${async ? 'async' : 'sync'} status ${status}`);
        assert.match(err.message, /status/);
      }
    }
    assert.equal(c.closed, false, 'the circuit stays up');
    assert.equal((await read(c, sid, DBR.SHORT)).status, ECA.NORMAL);
    assert.deepEqual(warned, [], 'nothing went wrong on the way out');
  } finally {
    server.off('warning', onWarning);
    hook = undefined;
    c.close();
  }
});

test('a circuit whose asynchronous write answer cannot be encoded reports it to the host, not as an unhandled rejection', async () => {
  const pv = new ServerPv({ name: 'C:x', type: 'DOUBLE' });
  const warned: unknown[] = [];
  const host: CircuitHost = {
    findPv: (n) => (n === pv.name ? pv : undefined),
    rightsFor: () => AccessRights.READ_WRITE,
    write: () => Promise.resolve({ status: -1, message: 'a status no encoder takes' }),
    warn: (e) => void warned.push(e),
    tcpPort: 1,
  };
  const circuit = new ServerCircuit(host, { send: () => {}, close: () => assert.fail('the circuit was closed') }, { address: '127.0.0.1', port: 1 });
  circuit.receive(Buffer.concat([encodeVersion(), encodeCreateChanRequest({ cid: 1, name: pv.name })]));
  assert.equal(circuit.channelCount, 1);
  circuit.receive(encodeWriteNotifyRequest({ sid: 1, ioid: 1, dataType: DBR.DOUBLE, count: 1, data: { value: [2] } }));
  await new Promise((r) => setImmediate(r));
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]), /32 bits/);
  circuit.close();
});

test('monitors: first value at once, updates by mask, property events, cancel with a final empty event', async () => {
  const { c, sid } = await open('T:ai');
  server.update('T:ai', { value: 1, severity: 0, status: 0 });
  const from = c.received.length;
  c.send(
    encodeEventAddRequest({ sid, subscriptionId: 10, dataType: DBR.TIME_DOUBLE, count: 0, mask: DBE.VALUE | DBE.ALARM }),
    encodeEventAddRequest({ sid, subscriptionId: 11, dataType: DBR.TIME_DOUBLE, count: 1, mask: DBE.ALARM }),
    encodeEventAddRequest({ sid, subscriptionId: 12, dataType: DBR.CTRL_DOUBLE, count: 1, mask: DBE.PROPERTY }),
  );
  await c.until((r) => r.slice(from).filter((m) => m.kind === 'EventAddResponse').length === 3);
  server.update('T:ai', { value: 2 });
  server.update('T:ai', { severity: 'MAJOR', status: 'HIHI' });
  server.update('T:ai', { units: 'K' });
  await c.until(() => c.all('EventAddResponse').filter((e) => e.subscriptionId === 12).length === 2);
  const ev = (id: number): Array<Extract<CaResponse, { kind: 'EventAddResponse' }>> => c.all('EventAddResponse').filter((e) => e.subscriptionId === id);
  assert.deepEqual(ev(10).map((e) => nums(e.data)[0]), [1, 2, 2], 'value sub: initial, value change, alarm change');
  assert.deepEqual(ev(10).map((e) => e.data!.severity), [0, 0, 2]);
  assert.deepEqual(ev(11).map((e) => e.data!.status), [0, 3], 'alarm sub: initial, alarm change only');
  assert.deepEqual(ev(12).map((e) => e.data!.units), ['degC', 'K'], 'property sub: initial, units change');
  const before = c.received.length;
  c.send(encodeEventCancelRequest({ sid, subscriptionId: 10, dataType: DBR.TIME_DOUBLE, count: 0 }));
  assert.deepEqual(await c.next('EventCancelResponse', before), { kind: 'EventCancelResponse', sid, subscriptionId: 10, dataType: DBR.TIME_DOUBLE });
  server.update('T:ai', { value: 3, units: 'degC', severity: 0, status: 0 });
  c.send(encodeEcho());
  await c.next('Echo', before);
  assert.equal(ev(10).length, 3, 'no updates after cancel');
  c.close();
});

test('EVENTS_OFF holds updates; EVENTS_ON sends one update per subscription with the newest value', async () => {
  const { c, sid } = await open('T:ai');
  const from = c.received.length;
  c.send(encodeEventAddRequest({ sid, subscriptionId: 1, dataType: DBR.DOUBLE, count: 1, mask: DBE.VALUE }));
  await c.next('EventAddResponse', from);
  c.send(encodeEventsOff(), encodeEcho());
  await c.next('Echo', from);
  for (let i = 0; i < 100; i++) server.update('T:ai', { value: 100 + i });
  c.send(encodeReadSync());
  await c.next('ReadSyncRequest', from);
  assert.equal(c.all('EventAddResponse').length, 1, 'nothing while off');
  c.send(encodeEventsOn());
  await c.until(() => c.all('EventAddResponse').length === 2);
  assert.deepEqual(nums(c.all('EventAddResponse')[1]!.data), [199]);
  c.close();
});

test('CLEAR_CHANNEL is echoed; ECHO answered; errors for unknown SIDs keep the circuit', async () => {
  const { c, sid, cid } = await open('T:ai');
  let from = c.received.length;
  c.send(encodeClearChannel({ sid, cid }));
  assert.deepEqual(await c.next('ClearChannelResponse', from), { kind: 'ClearChannelResponse', sid, cid });
  from = c.received.length;
  c.send(encodeReadNotifyRequest({ sid, ioid: 77, dataType: DBR.DOUBLE, count: 1 }));
  const e = await c.next('ErrorResponse', from);
  assert.equal(e.status, ECA.BADCHID);
  c.send(encodeEcho());
  await c.next('Echo', from);
  assert.equal(c.closed, false);
  c.close();
});

test('access rights follow writable; removing a PV sends SERVER_DISCONN', async () => {
  server.addPv({ name: 'T:tmp', type: 'DOUBLE', value: 1 });
  const { c, cid } = await open('T:tmp');
  let from = c.received.length;
  server.update('T:tmp', { writable: false });
  assert.deepEqual(await c.next('AccessRightsResponse', from), { kind: 'AccessRightsResponse', cid, rights: AccessRights.READ });
  from = c.received.length;
  assert.equal(server.removePv('T:tmp'), true);
  assert.deepEqual(await c.next('ServerDisconnResponse', from), { kind: 'ServerDisconnResponse', cid });
  c.close();
});

test('TCP search (CA >= 4.12): reply for our names, NOT_FOUND only for DO_REPLY', async () => {
  const c = await RawClient.connect(server.tcpPort);
  c.send(encodeVersion(), encodeSearchRequest({ name: 'T:ai', cid: 5 }), encodeSearchRequest({ name: 'NOPE', cid: 6 }), encodeSearchRequest({ name: 'NOPE2', cid: 7, reply: SearchReply.DO_REPLY }), encodeEcho());
  await c.next('Echo');
  assert.deepEqual(c.all('SearchResponse'), [{ kind: 'SearchResponse', port: server.tcpPort, cid: 5, serverIp: 0xffffffff, minorVersion: 13 }]);
  assert.deepEqual(c.all('NotFoundResponse').map((n) => n.cid), [7]);
  c.close();
});

test('a bulk of 100 reads sent in one write is answered in one socket write', async () => {
  const { c, sid } = await open('T:ai');
  await read(c, sid, DBR.TIME_DOUBLE);
  const w0 = server.stats.socketWrites;
  const m0 = server.stats.messagesOut;
  const reqs = Array.from({ length: 100 }, (_, i) => encodeReadNotifyRequest({ sid, ioid: 5000 + i, dataType: DBR.TIME_DOUBLE, count: 1 }));
  const from = c.received.length;
  c.send(...reqs);
  await c.until((r) => r.slice(from).filter((m) => m.kind === 'ReadNotifyResponse').length === 100);
  assert.equal(server.stats.messagesOut - m0, 100);
  assert.equal(server.stats.socketWrites - w0, 1, 'one write for the whole batch');
  c.close();
});

test('malformed input closes only that circuit; the server goes on', async () => {
  const bad = await RawClient.connect(server.tcpPort);
  const m0 = server.stats.malformedFrames;
  bad.send(Uint8Array.from([0, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  await bad.until(() => bad.closed).catch(() => undefined);
  assert.equal(bad.closed, true);
  assert.equal(server.stats.malformedFrames, m0 + 1);
  const { c, sid } = await open('T:ai');
  assert.equal((await read(c, sid, DBR.DOUBLE)).status, ECA.NORMAL);
  c.close();
});
