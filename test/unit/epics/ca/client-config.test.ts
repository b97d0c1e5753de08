/**
 * Client configuration (environment defaults, option overrides, auto address list), PV names
 * (ca://, pva://, bare), and the beacon anomaly rules. Pure functions; nothing is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import {
  resolveClientOptions, autoAddressList, broadcastAddress, parseYesNo, environmentDefaults, BeaconTracker,
  parsePvName, requireCa, PvNameError,
} from '../../../../src/lib/epics/ca';

const iface = (address: string, netmask: string, internal = false): NetworkInterfaceInfo => ({
  address, netmask, family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/24`,
});

test('environment variables are the defaults, options override each', () => {
  const env = {
    EPICS_CA_ADDR_LIST: '10.0.0.255 192.0.2.7:6000',
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CA_SERVER_PORT: '7064',
    EPICS_CA_REPEATER_PORT: '7065',
    EPICS_CA_NAME_SERVERS: '192.0.2.9',
    EPICS_CA_CONN_TMO: '12',
    EPICS_CA_BEACON_PERIOD: '5',
    EPICS_CA_MAX_SEARCH_PERIOD: '20',
    EPICS_CA_AUTO_ARRAY_BYTES: 'NO',
    EPICS_CA_MAX_ARRAY_BYTES: '100000',
  };
  const r = resolveClientOptions({ env, interfaces: {} });
  assert.deepEqual(r.addrList, [{ host: '10.0.0.255', port: 7064 }, { host: '192.0.2.7', port: 6000 }]);
  assert.equal(r.autoAddrList, false);
  assert.equal(r.serverPort, 7064);
  assert.equal(r.repeaterPort, 7065);
  assert.deepEqual(r.nameServers, [{ host: '192.0.2.9', port: 7064 }]);
  assert.equal(r.connTimeoutMs, 12_000);
  assert.equal(r.beaconPeriodMs, 5000);
  assert.equal(r.maxSearchPeriodMs, 60_000, 'EPICS_CA_MAX_SEARCH_PERIOD has a floor of 60 s');
  assert.equal(r.maxArrayBytes, 100_000);
  assert.equal(r.sources.addrList, 'env');
  assert.equal(r.sources.serverPort, 'env');

  const o = resolveClientOptions({ env, interfaces: {}, addrList: '127.0.0.1:5999', serverPort: 6064, autoAddrList: false, nameServers: [], maxArrayBytes: 0 });
  assert.deepEqual(o.addrList, [{ host: '127.0.0.1', port: 5999 }]);
  assert.equal(o.serverPort, 6064);
  assert.deepEqual(o.nameServers, []);
  assert.equal(o.maxArrayBytes, 0);
  assert.equal(o.sources.addrList, 'option');
  assert.equal(o.sources.repeaterPort, 'env');
  assert.deepEqual(o.searchDestinations, [{ host: '127.0.0.1', port: 5999 }]);
});

test('defaults without environment; AUTO_ARRAY_BYTES=YES ignores MAX_ARRAY_BYTES', () => {
  const r = resolveClientOptions({ env: { EPICS_CA_MAX_ARRAY_BYTES: '16384' }, interfaces: {} });
  assert.equal(r.serverPort, 5064);
  assert.equal(r.repeaterPort, 5065);
  assert.equal(r.autoAddrList, true);
  assert.equal(r.connTimeoutMs, 30_000);
  assert.equal(r.maxSearchPeriodMs, 300_000);
  assert.equal(r.maxArrayBytes, 0);
  assert.equal(r.timeoutMs, 5000);
  assert.equal(r.sources.autoAddrList, 'default');
  assert.deepEqual(r.searchDestinations, [], 'no interfaces: nothing to broadcast to');
});

test('bad option values are refused with clear text', () => {
  assert.throws(() => resolveClientOptions({ env: {}, serverPort: 70000 }), /serverPort must be a port number/);
  assert.throws(() => resolveClientOptions({ env: {}, addrList: 'host:port:x' }), /bad address/);
  assert.throws(() => resolveClientOptions({ env: {}, timeoutMs: -1 }), /timeoutMs must be a positive number/);
  assert.throws(() => resolveClientOptions({ env: {}, maxArrayBytes: -5 }), /maxArrayBytes/);
});

test('auto address list: broadcast address of each non-loopback IPv4 interface (computed, not sent)', () => {
  assert.equal(broadcastAddress('192.168.1.7', '255.255.255.0'), '192.168.1.255');
  assert.equal(broadcastAddress('10.1.2.3', '255.0.0.0'), '10.255.255.255');
  assert.equal(broadcastAddress('bad', '255.0.0.0'), undefined);
  const ifs = {
    lo: [iface('127.0.0.1', '255.0.0.0', true)],
    eth0: [iface('192.0.2.10', '255.255.255.0'), { ...iface('fe80::1', 'ffff:ffff:ffff:ffff::'), family: 'IPv6' as const, scopeid: 1 }],
    eth1: [iface('198.51.100.3', '255.255.255.128')],
  };
  assert.deepEqual(autoAddressList(5064, ifs), [{ host: '192.0.2.255', port: 5064 }, { host: '198.51.100.127', port: 5064 }]);
  const r = resolveClientOptions({ env: {}, interfaces: ifs, addrList: '192.0.2.255' });
  assert.deepEqual(r.searchDestinations, [{ host: '192.0.2.255', port: 5064 }, { host: '198.51.100.127', port: 5064 }], 'duplicates removed');
});

test('yes/no parsing and the text defaults for the config dialog', () => {
  assert.equal(parseYesNo('YES'), true);
  assert.equal(parseYesNo(' no '), false);
  assert.equal(parseYesNo('maybe'), undefined);
  assert.equal(parseYesNo(undefined), undefined);
  const d = environmentDefaults({ EPICS_CA_ADDR_LIST: '127.0.0.1 127.0.0.2:6000', EPICS_CA_AUTO_ADDR_LIST: 'NO' });
  assert.equal(d.addrList, '127.0.0.1 127.0.0.2:6000');
  assert.equal(d.autoAddrList, 'NO');
  assert.equal(d.serverPort, '5064');
  assert.equal(d.maxArrayBytes, 'automatic');
});

test('PV names: bare and ca:// are Channel Access, pva:// parses but is refused for CA', () => {
  assert.deepEqual(parsePvName('TEST:ai'), { protocol: 'ca', name: 'TEST:ai', original: 'TEST:ai' });
  assert.deepEqual(parsePvName('ca://TEST:ai'), { protocol: 'ca', name: 'TEST:ai', original: 'ca://TEST:ai' });
  assert.deepEqual(parsePvName(' CA://TEST:ai.VAL '), { protocol: 'ca', name: 'TEST:ai.VAL', original: ' CA://TEST:ai.VAL ' });
  assert.equal(parsePvName('pva://TEST:nt').protocol, 'pva');
  assert.throws(() => requireCa('pva://TEST:nt'), (e: unknown) => e instanceof PvNameError && e.code === 'EPVAUNAVAILABLE' && /pvAccess \(pva:\/\/\) is not available/.test(e.message));
  assert.throws(() => parsePvName(''), /empty/);
  assert.throws(() => parsePvName('ca://'), /names no PV/);
  assert.throws(() => parsePvName('A B'), /blanks/);
  assert.throws(() => parsePvName('http://x'), /unknown protocol 'http:\/\/'/);
  assert.throws(() => parsePvName(42), /must be a string/);
  assert.throws(() => parsePvName('x'.repeat(1001)), /longer than 1000 bytes/);
  // Colons without '//' are part of the name.
  assert.equal(parsePvName('ca:thing').name, 'ca:thing');
});

test('beacons: first sighting is no anomaly; restart, sequence gap, short interval and after-loss are', () => {
  const b = new BeaconTracker();
  assert.deepEqual(b.beacon('A', 7, 0), { anomaly: false, reason: 'first' });
  assert.deepEqual(b.beacon('A', 8, 15_000), { anomaly: false, reason: 'normal' });
  assert.deepEqual(b.beacon('A', 8, 15_001), { anomaly: false, reason: 'duplicate' });
  assert.deepEqual(b.beacon('A', 9, 30_000), { anomaly: false, reason: 'normal' });
  assert.deepEqual(b.beacon('A', 0, 30_500), { anomaly: true, reason: 'restart' });
  assert.deepEqual(b.beacon('A', 1, 30_520), { anomaly: true, reason: 'interval' }, '20 ms after a 500 ms interval');
  assert.deepEqual(b.beacon('A', 2, 30_560), { anomaly: false, reason: 'normal' });
  assert.deepEqual(b.beacon('A', 10, 30_640), { anomaly: true, reason: 'sequence' });
  b.circuitLost('A', 31_000);
  assert.deepEqual(b.beacon('A', 11, 45_000), { anomaly: true, reason: 'after-loss' });
  b.circuitLost('B', 1);
  assert.deepEqual(b.beacon('B', 0, 2), { anomaly: true, reason: 'after-loss' }, 'a server we lost before ever seeing its beacons');
  assert.equal(b.anomalies, 5);
  b.prune(45_000 + 16 * 60_000);
  assert.equal(b.size, 0);
});
