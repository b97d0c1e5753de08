/**
 * A BacnetServer bound to an endpoint (bindServer) on the in-memory network: the endpoint's
 * DeviceCommunicationControl filtering follows the server's one state (a DCC request, its timed
 * expiry, ReinitializeDevice ending a disable), and engine timers that throw are counted,
 * never let out of the timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BacnetEndpoint } from '../../../../src/lib/bacnet/endpoint';
import { BacnetServer } from '../../../../src/lib/bacnet/server/server';
import { bindServer } from '../../../../src/lib/bacnet/server/endpoint-binding';
import type { ServerEvent } from '../../../../src/lib/bacnet/server/events';
import { BacnetTimeoutError } from '../../../../src/lib/bacnet/errors';
import { ObjectType as O } from '../../../../src/lib/bacnet/enums/object-type';
import { PropertyIdentifier as P } from '../../../../src/lib/bacnet/enums/property-identifier';
import { FakeClock as NetClock, MemoryNet } from '../../../helpers/bacnet-memnet';
import { FakeClock } from './helpers';

function setup() {
  const clock = new NetClock();
  const dbClock = new FakeClock();
  const net = new MemoryNet();
  const server = new BacnetServer({ device: { instance: 1234, name: 'bound', vendorId: 1 }, clock: dbClock });
  const device = new BacnetEndpoint(net.transport('10.0.0.2', 47808), { clock });
  const unbind = bindServer(server, device);
  const client = new BacnetEndpoint(net.transport('10.0.0.1', 47808), { clock, apduTimeout: 500, retries: 0 });
  const events: ServerEvent[] = [];
  server.onEvent((e) => events.push(e));
  const request = async <T>(p: Promise<T>): Promise<T> => {
    await clock.settle();
    return p;
  };
  const read = () => request(client.confirmedRequest('10.0.0.2', 'read-property', { objectId: { type: O.device, instance: 1234 }, propertyId: P.objectName }));
  const silent = async (): Promise<void> => {
    const r = assert.rejects(client.confirmedRequest('10.0.0.2', 'read-property', { objectId: { type: O.device, instance: 1234 }, propertyId: P.objectName }), BacnetTimeoutError);
    await clock.advance(500);
    await r;
  };
  const close = async (): Promise<void> => {
    unbind();
    server.stop();
    await Promise.all([client.close(), device.close()]);
  };
  return { clock, dbClock, server, device, client, events, request, read, silent, unbind, close };
}

test('ReinitializeDevice ends a communication disable for the endpoint too', async () => {
  const { server, device, client, events, request, read, silent, close } = setup();
  assert.equal((await read()).objectId.instance, 1234);
  await request(client.confirmedRequest('10.0.0.2', 'device-communication-control', { enableDisable: 1 }));
  assert.equal(server.dcc.state, 'disable');
  assert.equal(device.communicationState, 'disable');
  await silent();
  await request(client.confirmedRequest('10.0.0.2', 'reinitialize-device', { state: 1 }));
  assert.equal(server.dcc.state, 'enable');
  assert.equal(device.communicationState, 'enable', 'the endpoint answers again');
  assert.equal((await read()).objectId.instance, 1234);
  assert.deepEqual(events.map((e) => `${e.type} ${'state' in e ? String(e.state) : ''}`), ['dcc disable', 'dcc enable', 'reinitialize warmstart']);
  await close();
});

test('a timed DCC disable ends for the endpoint when the server\'s timer runs out; unbinding leaves the endpoint its own state', async () => {
  const { dbClock, device, client, request, read, silent, unbind, close } = setup();
  await request(client.confirmedRequest('10.0.0.2', 'device-communication-control', { enableDisable: 1, timeDuration: 2 }));
  await silent();
  dbClock.advance(2 * 60_000);
  assert.equal(device.communicationState, 'enable');
  assert.equal((await read()).objectId.instance, 1234);
  await request(client.confirmedRequest('10.0.0.2', 'device-communication-control', { enableDisable: 2 }));
  assert.equal(device.communicationState, 'disable-initiation');
  unbind();
  assert.equal(device.communicationState, 'enable');
  await close();
});

test('an engine timer that throws is counted, not let out of the timer', () => {
  const clock = new FakeClock();
  const server = new BacnetServer({ device: { instance: 1, name: 'd', vendorId: 1 }, clock });
  let ran = 0;
  server.db.setTimer(10, () => {
    ran++;
    throw new Error('engine bug');
  });
  server.db.setTimer(20, () => void ran++);
  assert.doesNotThrow(() => clock.advance(20));
  assert.equal(ran, 2, 'later timers still run');
  assert.equal(server.db.listenerErrors, 1);
  assert.match(String(server.db.lastListenerError), /engine bug/);
  server.stop();
});
