/**
 * The CA client against our CA server in this process (loopback, ports of its own): connect,
 * get in every DBR form, metadata merge and refresh, put / put with completion and the values it
 * refuses, monitors with masks and coalescing, bulk get in one write, big arrays, unknown PVs,
 * access rights, SERVER_DISCONN, several servers, name servers, max array bytes, flow control,
 * release and close.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { CaServer, CaClientContext, CaClientError, ClientUdp, DBR, DBE, dbrType, type CaReading, type PvDefinition, type ChannelEvent } from '../../../../src/lib/epics/ca';
import { loopbackClient, until, sleep, netHandles } from './client-helpers';

const FORM_PVS: PvDefinition[] = [
  { name: 'F:string', type: 'STRING', value: 'hello EPICS' },
  { name: 'F:short', type: 'SHORT', value: -12, units: 'cts', limits: { display: { low: -100, high: 100 }, control: { low: -50, high: 50 } } },
  { name: 'F:float', type: 'FLOAT', value: 1.5, units: 'V', precision: 2, limits: { display: { low: 0, high: 10 } } },
  { name: 'F:enum', type: 'ENUM', value: 2, enumStrings: ['Zero', 'One', 'Two'] },
  { name: 'F:char', type: 'CHAR', value: 200, units: 'B' },
  { name: 'F:long', type: 'LONG', value: 123456, units: 'n', limits: { alarm: { low: -1000, high: 1_000_000 } } },
  {
    name: 'F:double', type: 'DOUBLE', value: 3.25, units: 'mm', precision: 3,
    limits: { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } },
  },
];

const PVS: PvDefinition[] = [
  ...FORM_PVS,
  { name: 'T:mode', type: 'ENUM', value: 0, enumStrings: ['Idle', 'Running', 'Paused', 'Fault'] },
  { name: 'T:wf', type: 'DOUBLE', count: 1000, value: Float64Array.from({ length: 1000 }, (_, i) => i * 0.5) },
  { name: 'T:big', type: 'DOUBLE', count: 100_000, value: Float64Array.from({ length: 100_000 }, (_, i) => i) },
  { name: 'T:text', type: 'CHAR', count: 64, value: 'abc' },
  { name: 'T:ro', type: 'DOUBLE', value: 7, writable: false },
  { name: 'T:set', type: 'DOUBLE', value: 0, units: 'A', precision: 1 },
  { name: 'T:slow', type: 'LONG', value: 0 },
  ...Array.from({ length: 100 }, (_, i): PvDefinition => ({ name: `B:${String(i).padStart(3, '0')}`, type: 'DOUBLE', value: i, units: 'mm', precision: 1 })),
];

let server: CaServer;
let ctx: CaClientContext;
const warnings: string[] = [];
let slowRelease: (() => void) | undefined;

test.before(async () => {
  server = new CaServer({
    port: 0,
    beacons: false,
    pvs: PVS,
    writeHook: (w) => {
      if (w.name === 'T:slow') {
        if (w.value === 666) return { reject: 'the device refused 666' };
        return new Promise((resolve) => {
          slowRelease = () => resolve(true);
        });
      }
      return true;
    },
  });
  await server.listen();
  ctx = await loopbackClient(server.udpPort);
  ctx.on('warning', (w) => warnings.push(`${w.code} ${w.message}`));
});

after(async () => {
  await ctx?.close();
  await server?.close();
});

test('connect searches and creates the channel without reading it', async () => {
  const r = await ctx.connect('F:double');
  assert.deepEqual(r, { name: 'F:double', nativeType: 'DOUBLE', nativeCount: 1, rights: 3, server: `127.0.0.1:${server.tcpPort}` });
  const c = ctx.circuits()[0]!;
  assert.equal(c.state, 'connected');
  assert.equal(c.monitors, 0, 'no metadata subscription at connect');
  assert.equal(c.pending, 0);
  assert.equal(c.serverMinor, 13);
  // Connecting again reuses the channel.
  const before = ctx.stats.channelsCreated;
  await ctx.connect('ca://F:double');
  assert.equal(ctx.stats.channelsCreated, before);
});

test('get: default TIME form merged with the CTRL metadata read once per connection', async () => {
  const r = await ctx.get('F:double');
  assert.equal(r.value, 3.25);
  assert.equal(r.dataType, DBR.TIME_DOUBLE);
  assert.equal(r.dataTypeName, 'DBR_TIME_DOUBLE');
  assert.equal(r.severity, 0);
  assert.equal(r.status, 0);
  assert.ok(r.stamp && r.stamp.secondsPastEpoch > 1_000_000_000);
  assert.ok(typeof r.timestamp === 'number' && Math.abs(r.timestamp - Date.now()) < 3600_000);
  assert.equal(r.units, 'mm');
  assert.equal(r.precision, 3);
  assert.deepEqual(r.limits, { display: { low: -20, high: 100 }, alarm: { low: -10, high: 90 }, warning: { low: 0, high: 80 }, control: { low: -20, high: 100 } });
  const monitorsAfterFirst = ctx.circuits()[0]!.monitors;
  await ctx.get('F:double');
  assert.equal(ctx.circuits()[0]!.monitors, monitorsAfterFirst, 'metadata subscription made once');
  // Enum: the state string as value, the index beside it.
  const e = await ctx.get('F:enum');
  assert.equal(e.value, 'Two');
  assert.equal(e.enumIndex, 2);
  assert.deepEqual(e.enumStrings, ['Zero', 'One', 'Two']);
  // Strings carry no metadata to fetch.
  const s = await ctx.get('F:string');
  assert.equal(s.value, 'hello EPICS');
  assert.equal(s.units, undefined);
});

test('metadata refreshes on DBE_PROPERTY', async () => {
  assert.equal((await ctx.get('T:set')).units, 'A');
  server.update('T:set', { units: 'mA', precision: 4 });
  // The property event is on the stream before the reply to the next read.
  const r = await ctx.get('T:set');
  assert.equal(r.units, 'mA');
  assert.equal(r.precision, 4);
  server.update('T:set', { units: 'A', precision: 1 });
});

test('get in every DBR form of every native type', async () => {
  const expect: Record<string, unknown> = {
    'F:string': 'hello EPICS', 'F:short': -12, 'F:float': 1.5, 'F:enum': 2, 'F:char': 200, 'F:long': 123456, 'F:double': 3.25,
  };
  const families = ['plain', 'sts', 'time', 'gr', 'ctrl'] as const;
  for (const def of FORM_PVS) {
    for (const fam of families) {
      const r = await ctx.get(def.name, { type: fam });
      const native = ['STRING', 'SHORT', 'FLOAT', 'ENUM', 'CHAR', 'LONG', 'DOUBLE'].indexOf(String(def.type));
      assert.equal(r.dataType, dbrType(fam, native as 0), `${def.name} ${fam}`);
      const want = expect[def.name];
      if (def.type === 'ENUM' && (fam === 'gr' || fam === 'ctrl')) {
        assert.equal(r.value, 'Two', 'GR/CTRL_ENUM carry the strings: the value is named');
        assert.deepEqual(r.enumStrings, ['Zero', 'One', 'Two']);
      } else {
        assert.equal(r.value, want, `${def.name} as ${r.dataTypeName}`);
      }
      assert.equal(r.severity === undefined, fam === 'plain', `${r.dataTypeName} severity`);
      assert.equal(r.stamp === undefined, fam !== 'time', `${r.dataTypeName} stamp`);
      const numeric = def.type !== 'STRING' && def.type !== 'ENUM';
      assert.equal(r.units !== undefined, numeric && (fam === 'gr' || fam === 'ctrl'), `${r.dataTypeName} units`);
      if (numeric && fam === 'ctrl') assert.ok(r.limits?.control, `${r.dataTypeName} control limits`);
      if (numeric && fam === 'gr') assert.equal(r.limits?.control, undefined);
      if (fam === 'ctrl' && def.name === 'F:double') {
        assert.equal(r.precision, 3);
        assert.equal(r.units, 'mm');
      }
    }
  }
  // Conversions done by the server, special types.
  assert.equal((await ctx.get('F:double', { type: 'STRING' })).value, '3.250');
  assert.equal((await ctx.get('F:enum', { type: 'DBR_STRING' })).value, 'Two');
  assert.equal((await ctx.get('F:short', { type: 'DOUBLE' })).value, -12);
  assert.equal((await ctx.get('F:double', { type: DBR.LONG })).value, 3);
  const ack = await ctx.get('F:double', { type: 'STSACK_STRING' });
  assert.equal(ack.value, '3.250');
  assert.equal(typeof ack.ackt, 'number');
  assert.equal(typeof ack.acks, 'number');
  assert.equal(typeof (await ctx.get('F:double', { type: 'CLASS_NAME' })).value, 'string');
  await assert.rejects(ctx.get('F:string', { type: 'DOUBLE' }), (e: unknown) => e instanceof CaClientError && e.code === 'ECASTATUS' && /ECA_NOCONVERT/.test(e.message));
  await assert.rejects(ctx.get('F:double', { type: 'NO_SUCH_TYPE' }), /unknown DBR type or form 'NO_SUCH_TYPE'/);
});

test('arrays: waveform slices, counts, CHAR text', async () => {
  const wf = await ctx.get('T:wf');
  assert.ok(wf.value instanceof Float64Array);
  assert.equal((wf.value as Float64Array).length, 1000);
  assert.equal((wf.value as Float64Array)[999], 499.5);
  const head = await ctx.get('T:wf', { count: 10 });
  assert.deepEqual(Array.from(head.value as Float64Array), [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
  await assert.rejects(ctx.get('T:wf', { count: 2000 }), (e: unknown) => e instanceof CaClientError && e.code === 'ETOOLONG');
  await ctx.put('T:text', 'hello', { wait: true });
  const t = await ctx.get('T:text', { type: 'CHAR' });
  assert.equal(Buffer.from((t.value as Uint8Array).subarray(0, 5)).toString(), 'hello');
});

test('100,000-element waveform: get, put, monitor', async () => {
  const r = await ctx.get('T:big');
  const v = r.value as Float64Array;
  assert.equal(v.length, 100_000);
  assert.equal(v[0], 0);
  assert.equal(v[99_999], 99_999);
  const next = Float64Array.from({ length: 100_000 }, (_, i) => -i);
  const got: Float64Array[] = [];
  const m = ctx.monitor('T:big', (x) => got.push(x.value as Float64Array));
  await until(() => got.length >= 1, 3000, 'first big update');
  await ctx.put('T:big', next, { wait: true });
  await until(() => got.length >= 2, 3000, 'second big update');
  assert.equal(got.at(-1)![99_999], -99_999);
  m.cancel();
  assert.equal(((await ctx.get('T:big')).value as Float64Array)[12_345], -12_345);
});

test('put: numbers, strings, enum by state or index, arrays; put with completion waits for the server', async () => {
  await ctx.put('T:set', 4.5, { wait: true });
  assert.equal((await ctx.get('T:set')).value, 4.5);
  await ctx.put('T:set', '6.25', { wait: true });
  assert.equal((await ctx.get('T:set')).value, 6.25);
  await ctx.put('F:string', 'changed', { wait: true });
  assert.equal((await ctx.get('F:string')).value, 'changed');
  await ctx.put('T:mode', 'Paused', { wait: true });
  assert.equal((await ctx.get('T:mode')).value, 'Paused');
  await ctx.put('T:mode', 1, { wait: true });
  assert.equal((await ctx.get('T:mode')).enumIndex, 1);
  await ctx.put('T:wf', [1, 2, 3], { wait: true });
  assert.deepEqual(Array.from(((await ctx.get('T:wf', { count: 4 })).value as Float64Array)), [1, 2, 3, 0]);
  // Without wait: resolves once sent; the value arrives.
  await ctx.put('T:set', 9);
  await until(() => server.getPv('T:set')!.jsValue() === 9, 2000, 'plain WRITE applied');
  // WRITE_NOTIFY completes only when the server's write hook does.
  let done = false;
  const p = ctx.put('T:slow', 5, { wait: true }).then(() => (done = true));
  await until(() => slowRelease !== undefined, 2000, 'write hook called');
  await sleep(30);
  assert.equal(done, false, 'put with completion still waiting');
  slowRelease!();
  await p;
  assert.equal(done, true);
  await assert.rejects(ctx.put('T:slow', 666, { wait: true }), (e: unknown) => e instanceof CaClientError && e.code === 'ECASTATUS' && /ECA_PUTFAIL/.test(e.message));
});

test('put refuses wrong types, unknown enum states, arrays too long and read-only PVs with clear errors', async () => {
  const rej = (p: Promise<unknown>, code: string, re: RegExp): Promise<void> =>
    assert.rejects(p, (e: unknown) => e instanceof CaClientError && e.code === code && re.test(e.message));
  await rej(ctx.put('T:set', 'abc'), 'EBADVALUE', /cannot write 'abc' to T:set \(DOUBLE\): 'abc' is not a number/);
  await rej(ctx.put('T:set', { a: 1 }), 'EBADVALUE', /cannot write an object to T:set/);
  await rej(ctx.put('T:set', null), 'EBADVALUE', /cannot write null/);
  await rej(ctx.put('T:wf', [1, { x: 1 }]), 'EBADVALUE', /element 1/);
  await rej(ctx.put('T:mode', 'Running fast'), 'EBADENUM', /'Running fast' is not a state of T:mode; its states are 'Idle', 'Running', 'Paused', 'Fault'/);
  await rej(ctx.put('T:mode', 7), 'EBADENUM', /past the last state/);
  await rej(ctx.put('T:wf', new Float64Array(1001)), 'ETOOLONG', /1001 elements are too many for T:wf, which holds 1000/);
  await rej(ctx.put('F:short', 40000), 'EBADVALUE', /outside -32768..32767/);
  await rej(ctx.put('F:string', 'x'.repeat(50)), 'ETOOLONG', /too long for F:string/);
  await rej(ctx.put('T:ro', 1), 'ENOACCESS', /no write access to T:ro/);
  assert.equal((await ctx.get('T:ro')).value, 7);
});

test('access rights changes reach channel listeners and puts', async () => {
  const events: ChannelEvent[] = [];
  const h = ctx.channel('T:set', (ev) => events.push(ev));
  await h.connect();
  assert.equal(h.writable, true);
  server.update('T:set', { writable: false });
  await until(() => events.some((e) => e.rights === 1), 2000, 'ACCESS_RIGHTS event');
  assert.equal(h.writable, false);
  await assert.rejects(h.put(1), /no write access/);
  server.update('T:set', { writable: true });
  await until(() => h.writable, 2000, 'write access back');
  h.release();
});

test('monitor: first value at once, each update after, masks respected, metadata merged', async () => {
  const got: CaReading[] = [];
  const m = ctx.monitor('T:set', (r) => got.push(r));
  await until(() => got.length === 1, 2000, 'initial value');
  assert.equal(got[0]!.units, 'A');
  for (let i = 1; i <= 3; i++) {
    server.update('T:set', { value: 100 + i });
    await until(() => got.length === i + 1, 2000, `update ${i}`);
  }
  assert.deepEqual(got.map((r) => r.value).slice(1), [101, 102, 103]);
  // Alarm-only subscription: value changes without alarm changes send nothing.
  const alarms: CaReading[] = [];
  const a = ctx.monitor('T:set', (r) => alarms.push(r), { mask: ['alarm'] });
  await until(() => alarms.length === 1, 2000, 'alarm monitor initial');
  server.update('T:set', { value: 200 });
  await until(() => got.length === 5, 2000, 'value monitor sees 200');
  await sleep(30);
  assert.equal(alarms.length, 1);
  server.update('T:set', { severity: 'MAJOR', status: 'HIHI' });
  await until(() => alarms.length === 2, 2000, 'alarm update');
  assert.equal(alarms[1]!.severity, 2);
  assert.equal(alarms[1]!.status, 3);
  server.update('T:set', { severity: 0, status: 0 });
  // Property subscription sees metadata changes.
  const props: CaReading[] = [];
  const p = ctx.monitor('T:set', (r) => props.push(r), { mask: DBE.PROPERTY, type: 'ctrl' });
  await until(() => props.length === 1, 2000, 'property initial');
  server.update('T:set', { units: 'kA' });
  await until(() => props.length === 2, 2000, 'property update');
  assert.equal(props[1]!.units, 'kA');
  server.update('T:set', { units: 'A' });
  m.cancel();
  a.cancel();
  p.cancel();
  const n = got.length;
  server.update('T:set', { value: 1 });
  await sleep(50);
  assert.equal(got.length, n, 'no updates after cancel');
  assert.throws(() => ctx.monitor('T:set', () => {}, { mask: ['bogus' as 'value'] }), /unknown monitor mask 'bogus'/);
});

test('monitor coalescing: newest value wins per subscription, drops counted', async () => {
  const got: number[] = [];
  const m = ctx.monitor('T:set', (r) => got.push(r.value as number));
  await until(() => got.length === 1, 2000);
  // Many updates in one turn of the server: they arrive together, the listener sees the last.
  for (let i = 0; i < 50; i++) server.update('T:set', { value: 1000 + i });
  await until(() => got.at(-1) === 1049, 2000, 'newest value');
  assert.equal(m.received, 51, 'every update reached the client (protocol layer)');
  assert.equal(m.delivered + m.dropped, 51);
  assert.ok(m.dropped > 0, 'some were replaced before delivery');
  m.cancel();
});

test('flow control: EVENTS_OFF while listeners lag, EVENTS_ON when caught up', async () => {
  const prevBudget = ctx.deliveryBudgetMs;
  ctx.deliveryBudgetMs = 0;
  const ms = PVS.filter((p) => p.name.startsWith('B:')).map((p) =>
    ctx.monitor(p.name, () => {
      const end = performance.now() + 0.2;
      while (performance.now() < end) {
        // a slow consumer
      }
    }));
  await until(() => ms.every((m) => m.delivered >= 1), 5000, 'initial values');
  const before = ctx.stats.eventsOff;
  for (let k = 0; k < 5; k++) for (let i = 0; i < 100; i++) server.update(`B:${String(i).padStart(3, '0')}`, { value: k * 1000 + i });
  await until(() => ctx.stats.eventsOff > before, 5000, 'EVENTS_OFF sent');
  await until(() => ms.every((m) => m.delivered >= 2), 5000, 'updates delivered after EVENTS_ON');
  // Back on: a new update flows.
  server.update('B:000', { value: -1 });
  const m0 = ms[0]!;
  const d = m0.delivered;
  await until(() => m0.delivered > d, 3000, 'events on again');
  for (const m of ms) m.cancel();
  ctx.deliveryBudgetMs = prevBudget;
});

test('bulk get of 100 PVs: one write, one map, explicit errors for failed PVs', async () => {
  const names = PVS.filter((p) => p.name.startsWith('B:')).map((p) => p.name);
  await ctx.bulkGet(names); // connect and fetch metadata once
  const w0 = ctx.circuits().reduce((n, c) => n + c.writes, 0);
  const res = await ctx.bulkGet(names);
  const w1 = ctx.circuits().reduce((n, c) => n + c.writes, 0);
  assert.equal(w1 - w0, 1, 'one socket write for 100 reads');
  assert.equal(res.size, 100);
  names.forEach((n, i) => {
    const r = res.get(n)!;
    assert.ok(!(r instanceof Error), `${n}: ${r instanceof Error ? r.message : ''}`);
    assert.equal(r.value, server.getPv(n)!.jsValue());
    assert.equal(r.name, `B:${String(i).padStart(3, '0')}`);
    assert.equal(r.units, 'mm');
    assert.equal(r.precision, 1);
    assert.ok(r.stamp);
  });
  const mixed = await ctx.bulkGet(['B:001', 'NOPE:1', 'pva://B:002', 'bad name', 'ca://B:003'], { timeout: 400 });
  assert.equal((mixed.get('B:001') as CaReading).value, server.getPv('B:001')!.jsValue());
  assert.equal((mixed.get('ca://B:003') as CaReading).name, 'B:003');
  const nf = mixed.get('NOPE:1') as CaClientError;
  assert.equal(nf.code, 'ENOTFOUND');
  assert.match(nf.message, /PV NOPE:1 not found: no server answered the search \(127\.0\.0\.1:\d+\) in time/);
  assert.equal((mixed.get('pva://B:002') as Error & { code: string }).code, 'EPVAUNAVAILABLE');
  assert.match((mixed.get('bad name') as Error).message, /blanks/);
});

test('unknown PV: get and put fail with ENOTFOUND after the timeout; searches back off', async () => {
  const t0 = Date.now();
  await assert.rejects(ctx.get('NO:SUCH:PV', { timeout: 300 }), (e: unknown) => e instanceof CaClientError && e.code === 'ENOTFOUND' && e.pv === 'NO:SUCH:PV');
  assert.ok(Date.now() - t0 >= 280);
  await assert.rejects(ctx.put('NO:SUCH:PV', 1, { timeout: 100 }), /not found/);
  assert.ok(ctx.stats.searchRepeats > 0, 'the missing PV was searched again');
  assert.equal(ctx.release('NO:SUCH:PV'), true, 'an unused channel can be released');
  await assert.rejects(ctx.get('x', { timeout: -1 }), /timeout must be a positive number/);
});

test('SERVER_DISCONN: a removed PV disconnects its channel, which reconnects when the PV returns', async () => {
  server.addPv({ name: 'T:temp', type: 'LONG', value: 1 });
  const states: string[] = [];
  const got: number[] = [];
  const m = ctx.monitor('T:temp', (r) => got.push(r.value as number), { onState: (e) => states.push(e.state) });
  await until(() => got.length === 1, 2000);
  server.removePv('T:temp');
  await until(() => states.includes('disconnected'), 2000, 'disconnected');
  server.addPv({ name: 'T:temp', type: 'LONG', value: 2 });
  await until(() => got.includes(2), 3000, 'fresh value after reconnection');
  assert.equal(states.at(-1), 'connected');
  m.cancel();
  assert.ok(warnings.some((w) => /ESERVERDISCONN T:temp/.test(w)));
});

test('channels are reused, released and cleared; unused cache entries go', async () => {
  const before = ctx.stats.channelsCreated;
  await ctx.get('B:010');
  await ctx.get('ca://B:010');
  assert.equal(ctx.stats.channelsCreated, before, 'B:010 already existed');
  const h1 = ctx.channel('B:050');
  const h2 = ctx.channel('B:050');
  await h1.connect();
  assert.equal(ctx.release('B:050'), false, 'held channels stay');
  h1.release();
  h1.release();
  assert.equal(ctx.release('B:050'), false);
  h2.release();
  assert.equal(ctx.release('B:050'), true);
  assert.equal(ctx.channelState('B:050'), undefined);
  const srvChannels = (): number => server.clients().length;
  assert.ok(srvChannels() >= 1);
});

test('a PV on two servers: the first answer is used, a warning names both', async () => {
  const second = new CaServer({ port: 0, beacons: false, pvs: [{ name: 'DUP:x', type: 'LONG', value: 2 }] });
  const first = new CaServer({ port: 0, beacons: false, pvs: [{ name: 'DUP:x', type: 'LONG', value: 1 }] });
  await first.listen();
  await second.listen();
  const c = await loopbackClient(first.udpPort, { addrList: `127.0.0.1:${first.udpPort} 127.0.0.1:${second.udpPort}` });
  const w: string[] = [];
  c.on('warning', (x) => w.push(x.message));
  const v = (await c.get('DUP:x')).value;
  assert.ok(v === 1 || v === 2);
  await until(() => w.some((m) => /PV DUP:x found on multiple servers: using 127\.0\.0\.1:\d+, ignoring 127\.0\.0\.1:\d+/.test(m)), 2000, 'multiple-servers warning');
  await c.close();
  await first.close();
  await second.close();
});

test('name servers: search over TCP', async () => {
  const c = new CaClientContext({ env: {}, addrList: '', autoAddrList: false, nameServers: `127.0.0.1:${server.tcpPort}`, timeoutMs: 3000 });
  const r = await c.get('F:double');
  assert.equal(r.value, 3.25);
  assert.equal(c.repeaterRole, 'none', 'no UDP socket without UDP destinations');
  await assert.rejects(c.get('NS:missing', { timeout: 200 }), /name server 127\.0\.0\.1/);
  await c.close();
});

test('no search destinations: a warning and ENOTFOUND, no socket', async () => {
  const c = new CaClientContext({ env: {}, addrList: '', autoAddrList: false, timeoutMs: 200 });
  const w: string[] = [];
  c.on('warning', (x) => w.push(x.code));
  await assert.rejects(c.get('X'), /no search destinations configured/);
  assert.deepEqual(w, ['ENOSEARCHADDR']);
  await c.close();
});

test('max array bytes: a read larger than the limit is refused before it is sent', async () => {
  const c = await loopbackClient(server.udpPort, { maxArrayBytes: 16384 });
  await assert.rejects(c.get('T:big'), (e: unknown) => e instanceof CaClientError && e.code === 'ETOOLONG' && /100000 elements as DBR_TIME_DOUBLE are 800016 bytes, more than the max array bytes setting \(16384\)/.test(e.message));
  assert.equal(((await c.get('T:big', { count: 100 })).value as Float64Array).length, 100);
  assert.equal((await c.get('T:wf')).nativeCount, 1000, 'a waveform within the limit reads');
  const errs: string[] = [];
  const m = c.monitor('T:big', () => {}, { onError: (e) => errs.push(e.code) });
  await until(() => errs.length === 1, 2000, 'monitor refused');
  assert.deepEqual(errs, ['ETOOLONG']);
  m.cancel();
  await c.close();
});

test('close fails pending operations and releases every socket and timer', async () => {
  const before = netHandles();
  const c = await loopbackClient(server.udpPort);
  await c.get('B:001');
  const m = c.monitor('B:002', () => {});
  const pending = assert.rejects(c.get('NEVER:THERE', { timeout: 10_000 }), (e: unknown) => e instanceof CaClientError && e.code === 'ECLOSED');
  await c.close();
  await pending;
  assert.equal(m.cancelled, false);
  m.cancel();
  await assert.rejects(c.get('B:001'), /closed/);
  assert.throws(() => c.monitor('B:001', () => {}), /closed/);
  await c.close();
  await sleep(20);
  assert.deepEqual(netHandles(), before, 'same sockets and timers as before the context');
});

test('a failed UDP open is retried with back-off, and searches go out once it opens', async () => {
  const open = ClientUdp.prototype.open;
  let tries = 0;
  ClientUdp.prototype.open = function (this: ClientUdp): Promise<void> {
    // The first bind fails (an address not up yet, say); later ones work.
    if (++tries === 1) return Promise.reject(Object.assign(new Error('bind EADDRNOTAVAIL 127.0.0.1'), { code: 'EADDRNOTAVAIL' }));
    return open.call(this);
  };
  const c = await loopbackClient(server.udpPort, { timeoutMs: 5000 });
  const w: string[] = [];
  c.on('warning', (x) => w.push(`${x.code} ${x.message}`));
  try {
    assert.equal((await c.get('F:double')).value, 3.25);
    assert.equal(tries, 2);
    assert.ok(w.some((x) => /^EUDP cannot open the CA UDP socket .*trying again in 500 ms/.test(x)), w.join('\n'));
  } finally {
    ClientUdp.prototype.open = open;
    await c.close();
  }
});

test('close with operations in flight and no channel cache starts no idle-circuit timers', async (t) => {
  const c = await loopbackClient(server.udpPort, { channelCacheMs: 0 });
  const put = c.put('T:slow', 1, { wait: true, timeout: 10_000 }).catch((e: unknown) => e);
  await until(() => c.circuits().some((x) => x.pending === 1), 2000, 'the put in flight');
  const timers = t.mock.method(globalThis, 'setTimeout');
  await c.close();
  const late = timers.mock.calls.filter((call) => call.arguments[1] === 2000);
  timers.mock.restore();
  assert.equal(late.length, 0, 'no circuit linger timer after close');
  const e = await put;
  assert.ok(e instanceof CaClientError && e.code === 'ECLOSED');
  slowRelease?.();
});
