/**
 * The reference CA client (libca 4.13.5 through Debian python3-pyepics) against our CA server:
 * reads of every DBR form of every native type (unpacked by the driver with libca's own layout
 * tables), caput, put with callback, enum by state string, monitors, access rights, PV removal,
 * and a 100,000-element waveform both ways.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CaServer, DBR, ECA, type ServerWriteEvent } from '../../../src/lib/epics/ca';
import { peerSkip } from '../../helpers/env';
import { PyCa, havePyepics, type PyEvent } from './pyca';

const skip = peerSkip('python3-pyepics', havePyepics());
let server: CaServer;
let py: PyCa;
const writes: ServerWriteEvent[] = [];
const lim = (d: [number, number], a: [number, number], w: [number, number], c: [number, number]) => ({
  display: { low: d[0], high: d[1] }, alarm: { low: a[0], high: a[1] }, warning: { low: w[0], high: w[1] }, control: { low: c[0], high: c[1] },
});

before(async () => {
  if (skip) return;
  server = new CaServer({
    port: 0,
    beacons: false,
    pvs: [
      { name: 'PY:double', type: 'DOUBLE', value: 12.5, units: 'degC', precision: 3, limits: lim([-20, 100], [-10, 90], [0, 80], [-20, 100]), severity: 'MINOR', status: 'HIGH' },
      { name: 'PY:float', type: 'FLOAT', value: 1.25, units: 'V', precision: 2, limits: lim([-10, 10], [-9, 9], [-8, 8], [-7, 7]) },
      { name: 'PY:long', type: 'LONG', value: -123456, units: 'cnt', limits: lim([-1000000, 1000000], [-900, 900], [-800, 800], [-700, 700]) },
      { name: 'PY:short', type: 'SHORT', value: -321, units: 'mm', limits: lim([-1000, 1000], [-900, 900], [-800, 800], [-700, 700]) },
      { name: 'PY:char', type: 'CHAR', value: 200, units: 'b', limits: lim([0, 250], [1, 240], [2, 230], [3, 220]) },
      { name: 'PY:enum', type: 'ENUM', value: 1, enumStrings: ['Idle', 'Running', 'Paused', 'Fault'] },
      { name: 'PY:string', type: 'STRING', value: 'hello EPICS' },
      { name: 'PY:ro', type: 'DOUBLE', value: 1, writable: false },
      { name: 'PY:counter', type: 'LONG', value: 0 },
      { name: 'PY:wf', type: 'DOUBLE', count: 100_000, value: Float64Array.from({ length: 100_000 }, (_, i) => i * 0.5) },
      { name: 'PY:wfshort', type: 'SHORT', count: 50, value: Int16Array.from({ length: 50 }, (_, i) => i - 25) },
    ],
  });
  server.on('write', (w) => writes.push(w));
  await server.listen();
  py = new PyCa(server.tcpPort);
  await py.call('ping');
});

after(async () => {
  if (skip) return;
  await py.close();
  await server.close();
});

interface Got {
  type: number;
  count: number;
  value: Array<number | string>;
  status?: number;
  severity?: number;
  secs?: number;
  precision?: number;
  units?: string;
  enum_strs?: string[];
  [k: string]: unknown;
}

const get = (pv: string, type: number, count = 0): Promise<Got> => py.call<Got>('get', { pv, type, count });

test('libca reads every DBR form of a DOUBLE PV', { skip }, async () => {
  const plain = await get('PY:double', DBR.DOUBLE);
  assert.deepEqual(plain.value, [12.5]);
  const sts = await get('PY:double', DBR.STS_DOUBLE);
  assert.deepEqual([sts.value[0], sts.status, sts.severity], [12.5, 4, 1]);
  const time = await get('PY:double', DBR.TIME_DOUBLE);
  assert.deepEqual([time.value[0], time.status, time.severity], [12.5, 4, 1]);
  assert.ok(Math.abs(time.secs! + 631152000 - Date.now() / 1000) < 60, 'EPICS-epoch stamp is recent');
  const gr = await get('PY:double', DBR.GR_DOUBLE);
  assert.deepEqual(
    [gr.value[0], gr.precision, gr.units, gr.upper_disp, gr.lower_disp, gr.upper_alarm, gr.upper_warning, gr.lower_warning, gr.lower_alarm],
    [12.5, 3, 'degC', 100, -20, 90, 80, 0, -10],
  );
  assert.equal(gr.upper_ctrl, undefined);
  const ctrl = await get('PY:double', DBR.CTRL_DOUBLE);
  assert.deepEqual([ctrl.value[0], ctrl.upper_ctrl, ctrl.lower_ctrl, ctrl.units], [12.5, 100, -20, 'degC']);
  assert.deepEqual((await get('PY:double', DBR.STRING)).value, ['12.500']);
  assert.deepEqual((await get('PY:double', DBR.TIME_STRING)).value, ['12.500']);
  assert.deepEqual((await get('PY:double', DBR.CTRL_LONG)).value, [12]);
  assert.deepEqual((await get('PY:double', DBR.CLASS_NAME)).value, ['ao']);
  const ack = await get('PY:double', DBR.STSACK_STRING);
  assert.deepEqual([ack.value[0], ack.severity, ack.ackt], ['12.500', 1, 1]);
});

test('libca reads plain/STS/TIME/GR/CTRL of FLOAT, LONG, SHORT, CHAR (the padding traps)', { skip }, async () => {
  const cases: Array<[string, number, number, string, number[]]> = [
    // [pv, native, value, units, limits hi disp, lo disp, hi alarm, hi warn, lo warn, lo alarm, hi ctrl, lo ctrl]
    ['PY:float', DBR.FLOAT, 1.25, 'V', [10, -10, 9, 8, -8, -9, 7, -7]],
    ['PY:long', DBR.LONG, -123456, 'cnt', [1000000, -1000000, 900, 800, -800, -900, 700, -700]],
    ['PY:short', DBR.SHORT, -321, 'mm', [1000, -1000, 900, 800, -800, -900, 700, -700]],
    ['PY:char', DBR.CHAR, 200, 'b', [250, 0, 240, 230, 2, 1, 220, 3]],
  ];
  const names = ['upper_disp', 'lower_disp', 'upper_alarm', 'upper_warning', 'lower_warning', 'lower_alarm', 'upper_ctrl', 'lower_ctrl'];
  for (const [pv, native, value, units, limits] of cases) {
    for (const fam of [0, 7, 14, 21, 28]) {
      const g = await get(pv, fam + native);
      assert.deepEqual(g.value, [value], `${pv} type ${fam + native}`);
      if (fam >= 7) assert.deepEqual([g.status, g.severity], [0, 0], `${pv} type ${fam + native} alarm`);
      if (fam >= 21) {
        assert.equal(g.units, units, `${pv} type ${fam + native} units`);
        const want = fam === 28 ? limits : limits.slice(0, 6);
        // The driver reads CHAR limits as signed bytes (epicsInt8 in db_access.h); compare modulo 256.
        const got = names.slice(0, want.length).map((n) => (native === DBR.CHAR ? ((g[n] as number) + 256) % 256 : g[n]));
        assert.deepEqual(got, want, `${pv} type ${fam + native} limits`);
        if (native === DBR.FLOAT) assert.equal(g.precision, 2);
      }
    }
  }
});

test('libca reads ENUM (CTRL_ENUM strings), STRING, and arrays', { skip }, async () => {
  const e = await get('PY:enum', DBR.CTRL_ENUM);
  assert.deepEqual(e.value, [1]);
  assert.deepEqual(e.enum_strs, ['Idle', 'Running', 'Paused', 'Fault']);
  assert.deepEqual((await get('PY:enum', DBR.GR_ENUM)).enum_strs, ['Idle', 'Running', 'Paused', 'Fault']);
  assert.deepEqual((await get('PY:enum', DBR.TIME_STRING)).value, ['Running']);
  assert.equal(await py.call('caget', { pv: 'PY:enum', as_string: true }), 'Running');
  assert.deepEqual((await get('PY:string', DBR.TIME_STRING)).value, ['hello EPICS']);
  assert.deepEqual((await get('PY:string', DBR.CTRL_STRING)).value, ['hello EPICS']);
  const arr = await get('PY:wfshort', DBR.TIME_SHORT);
  assert.equal(arr.count, 50);
  assert.deepEqual(arr.value, Array.from({ length: 50 }, (_, i) => i - 25));
  const part = await get('PY:wfshort', DBR.CTRL_DOUBLE, 5);
  assert.deepEqual(part.value, [-25, -24, -23, -22, -21]);
});

test('caput, put with callback, enum by state string, refused writes', { skip }, async () => {
  writes.length = 0;
  assert.equal(await py.call('caput', { pv: 'PY:double', value: 3.5 }), 1);
  assert.equal(await py.call('caget', { pv: 'PY:double' }), 3.5);
  assert.equal(await py.call('caput', { pv: 'PY:double', value: 2.5, wait: true }), 1);
  assert.equal(server.getPv('PY:double')!.value[0], 2.5);
  assert.equal(writes.at(-1)!.notify, true);
  assert.equal(writes.at(-1)!.dataType, DBR.DOUBLE);
  assert.ok(writes.at(-1)!.client.user.length > 0, 'CLIENT_NAME seen');
  assert.deepEqual(await py.call('put_string', { pv: 'PY:enum', value: 'Paused' }), { eca: ECA.NORMAL, message: 'Normal successful completion' });
  assert.equal(server.getPv('PY:enum')!.value[0], 2);
  assert.equal(writes.at(-1)!.enumString, 'Paused');
  const bad = await py.call<{ eca: number }>('put_string', { pv: 'PY:enum', value: 'Nope' });
  assert.equal(bad.eca, ECA.BADSTR);
  assert.deepEqual(await py.call('put_string', { pv: 'PY:double', value: '7.75' }), { eca: ECA.NORMAL, message: 'Normal successful completion' });
  assert.equal(server.getPv('PY:double')!.value[0], 7.75);
  const info = await py.call<{ read: boolean; write: boolean; type: number; count: number }>('info', { pv: 'PY:ro' });
  assert.deepEqual([info.read, info.write, info.type, info.count], [true, false, DBR.DOUBLE, 1]);
  // libca refuses the put itself: it saw our ACCESS_RIGHTS (read only).
  await assert.rejects(py.call('put_string', { pv: 'PY:ro', value: '5' }), /Write access denied/);
  assert.equal(server.getPv('PY:ro')!.value[0], 1);
});

test('monitors: first value, then every update, alarm changes; unsubscribe stops them', { skip }, async () => {
  await py.call('subscribe', { pv: 'PY:counter', sub: 1, mask: 5 });
  await py.waitEvents(1, 1);
  for (let i = 1; i <= 5; i++) server.update('PY:counter', { value: 144 + i });
  server.update('PY:counter', { severity: 'MAJOR', status: 'HIHI' });
  const ev = await py.waitEvents(1, 7);
  assert.deepEqual(ev.map((e) => e.value), [0, 145, 146, 147, 148, 149, 149]);
  assert.deepEqual([ev[6]!.severity, ev[6]!.status], [2, 3]);
  await py.call('unsubscribe', { sub: 1 });
  server.update('PY:counter', { value: 1000 });
  await py.call('ping');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(py.events.filter((e: PyEvent) => e.event === 1).length, 7);
});

test('100,000-element waveform: read with caget, written with caput (wait)', { skip }, async () => {
  const r = await py.call<{ len: number; first: number[]; last: number[]; sum: number }>('caget', { pv: 'PY:wf', summary: true }, 30_000);
  assert.equal(r.len, 100_000);
  assert.deepEqual(r.first, [0, 0.5, 1]);
  assert.deepEqual(r.last, [49998.5, 49999, 49999.5]);
  assert.equal(r.sum, (0.5 * 99_999 * 100_000) / 2);
  assert.equal(await py.call('caput', { pv: 'PY:wf', value: 0, array_len: 100_000, scale: 2, wait: true }, 30_000), 1);
  const v = server.getPv('PY:wf')!.value as Float64Array;
  assert.equal(v.length, 100_000);
  assert.equal(v[99_999], 199_998);
});

test('removing a PV disconnects the client channel (SERVER_DISCONN)', { skip }, async () => {
  server.addPv({ name: 'PY:temp', type: 'DOUBLE', value: 1 });
  await py.call('watch_conn', { pv: 'PY:temp', sub: 9 });
  const up = await py.waitEvents(9, 1);
  assert.equal(up[0]!.connected, true);
  server.removePv('PY:temp');
  const down = await py.waitEvents(9, 2);
  assert.equal(down[1]!.connected, false);
});
