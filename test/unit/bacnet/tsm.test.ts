/**
 * The transaction state machines on their own (no endpoint, no sockets, time as numbers):
 * invoke-ID allocation per peer, IDs held back after timeouts, round robin across peers under a
 * global budget, queue order, server duplicate detection by content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientTsm, type ClientOutcome, type ClientTransaction } from '../../../src/lib/bacnet/client-tsm';
import { ServerTsm, type IncomingRequest } from '../../../src/lib/bacnet/server-tsm';
import { type Apdu, PduType } from '../../../src/lib/bacnet/apdu';

const limits = { maxApdu: 1476, maxSegments: Infinity };

function client(opts: ConstructorParameters<typeof ClientTsm>[1] = {}) {
  const sent: Array<{ peer: string; apdu: Apdu }> = [];
  const done: Array<{ txn: ClientTransaction<string>; outcome: ClientOutcome }> = [];
  const tsm = new ClientTsm<string>({
    send: (txn, apdu) => void sent.push({ peer: txn.peer, apdu }),
    finish: (txn, outcome) => void done.push({ txn, outcome }),
  }, opts);
  const ack = (peer: string, invokeId: number, service = 12): boolean =>
    tsm.receive(peer, { type: PduType.COMPLEX_ACK, segmented: false, moreFollows: false, invokeId, service, data: Uint8Array.of(1) }, 0);
  return { tsm, sent, done, ack };
}
const idOf = (a: Apdu): number => (a as { invokeId: number }).invokeId;

test('invoke IDs: per peer, round robin, never two alike in flight, 255 per peer at most', () => {
  const { tsm, sent, ack } = client();
  for (let i = 0; i < 300; i++) tsm.request('A', 'A', limits, 12, Uint8Array.of(i), 0);
  tsm.request('B', 'B', limits, 12, Uint8Array.of(0), 0);
  const ids = sent.filter((s) => s.peer === 'A').map((s) => idOf(s.apdu));
  assert.equal(ids.length, 255);
  assert.equal(new Set(ids).size, 255);
  assert.deepEqual(ids.slice(0, 3), [0, 1, 2]);
  assert.equal(idOf(sent.find((s) => s.peer === 'B')!.apdu), 0, 'another peer has its own IDs');
  assert.equal(tsm.queued, 45);
  // completing one lets the next queued request start, on the next free ID after the last used
  assert.equal(ack('A', 5), true);
  assert.equal(idOf(sent.at(-1)!.apdu), 255);
  assert.equal(ack('A', 6), true);
  assert.equal(idOf(sent.at(-1)!.apdu), 5);
});

test('an ID whose transaction timed out is held back for an APDU timeout', () => {
  const { tsm, sent, done } = client({ apduTimeout: 100, retries: 0, maxInFlightPerPeer: 255 });
  for (let i = 0; i < 255; i++) tsm.request('A', 'A', limits, 12, Uint8Array.of(i), 0);
  tsm.tick(100); // every one times out
  assert.equal(done.filter((d) => d.outcome.kind === 'timeout').length, 255);
  tsm.request('A', 'A', limits, 12, Uint8Array.of(1), 100);
  assert.equal(idOf(sent.at(-1)!.apdu), 255, 'the one ID never used');
  tsm.request('A', 'A', limits, 12, Uint8Array.of(2), 100);
  assert.equal(tsm.queued, 1, 'the rest are quarantined: the request waits');
  tsm.tick(200);
  assert.equal(tsm.queued, 0);
  assert.equal(idOf(sent.at(-1)!.apdu), 0);
});

test('the global budget is shared round robin across peers', () => {
  const { tsm, sent, ack } = client({ maxInFlight: 2 });
  for (const p of ['A', 'A', 'A', 'B', 'B', 'C']) tsm.request(p, p, limits, 12, Uint8Array.of(0), 0);
  assert.deepEqual(sent.map((s) => s.peer), ['A', 'A']);
  ack('A', 0);
  ack('A', 1);
  // A, B and C waited; each gets a turn before A's second queued request
  assert.deepEqual(sent.slice(2).map((s) => s.peer), ['A', 'B']);
  ack('A', 2);
  ack('B', 0);
  assert.deepEqual(sent.slice(4).map((s) => s.peer), ['C', 'B']);
});

test('ACKs of another service or another peer do not complete a transaction', () => {
  const { tsm, done, ack } = client();
  tsm.request('A', 'A', limits, 12, Uint8Array.of(0), 0);
  assert.equal(ack('A', 0, 14), false);
  assert.equal(ack('B', 0, 12), false);
  assert.equal(tsm.receive('A', { type: PduType.SIMPLE_ACK, invokeId: 0, service: 15 }, 0), false);
  assert.equal(done.length, 0);
  assert.equal(tsm.counters.mismatchedService, 2);
  assert.equal(ack('A', 0, 12), true);
  assert.equal(done[0]!.outcome.kind, 'complex-ack');
});

test('server: same peer and invoke ID with other content is a new request', () => {
  const dispatched: Array<IncomingRequest<string>> = [];
  const sent: Apdu[] = [];
  const tsm = new ServerTsm<string>({ send: (_p, a) => void sent.push(a), dispatch: (r) => void dispatched.push(r) });
  const req = (data: number[]): Apdu => ({ type: 0, segmented: false, moreFollows: false, segmentedResponseAccepted: true, maxSegments: 64, maxApdu: 1476, invokeId: 7, service: 12, data: Uint8Array.from(data) });
  tsm.receive('A', 'A', req([1]), 0);
  tsm.respond(dispatched[0]!, { kind: 'complex-ack', data: Uint8Array.of(9) }, 0);
  tsm.receive('A', 'A', req([1]), 10);
  assert.equal(dispatched.length, 1, 'a duplicate is answered from the cache');
  assert.equal(sent.length, 2);
  tsm.receive('A', 'A', req([2]), 20);
  assert.equal(dispatched.length, 2, 'new content with the same invoke ID is executed');
  tsm.tick(20 + 12_000);
  assert.equal(tsm.size, 1, 'the cached reply expired; the second request is still in progress');
});

test('a request too large for the device ends at once and frees its invoke ID and in-flight slot', () => {
  const { tsm, sent, done } = client();
  const big = new Uint8Array(200);
  // the device takes 50 octets and no segmented requests; then one that announced a nonsense max APDU of 5
  const txn = tsm.request('A', 'A', { maxApdu: 50, maxSegments: Infinity, segmentedReceive: false }, 15, big, 0);
  assert.equal(txn.state, 'done');
  assert.equal(tsm.inFlight, 0);
  assert.equal(tsm.nextDeadline(), undefined, 'no deadline left behind (a 0 would re-arm the timer every millisecond)');
  assert.doesNotThrow(() => tsm.request('A', 'A', { maxApdu: 5, maxSegments: Infinity }, 15, big, 0));
  assert.deepEqual(done.map((d) => d.outcome.kind), ['too-large', 'too-large']);
  assert.equal(sent.length, 0);
  assert.equal(tsm.inFlight, 0);
  assert.equal(tsm.queued, 0);
  assert.equal(tsm.nextDeadline(), undefined);
  // the IDs were not leaked: all 255 of the peer's IDs can be in flight
  for (let i = 0; i < 255; i++) tsm.request('A', 'A', limits, 12, Uint8Array.of(i), 0);
  assert.equal(sent.length, 255);
  assert.equal(tsm.queued, 0);
});

test('failWhere: queued requests are failed, never started and sent, while the in-flight ones end', () => {
  const { tsm, sent, done } = client({ maxInFlight: 1 });
  tsm.request('A', 'A', limits, 15, Uint8Array.of(1), 0); // in flight
  for (let i = 2; i <= 4; i++) tsm.request('A', 'A', limits, 15, Uint8Array.of(i), 0); // queued writes
  tsm.request('B', 'B', limits, 15, Uint8Array.of(9), 0); // queued for another peer
  assert.equal(sent.length, 1);
  const n = tsm.failWhere((t) => t.peer === 'A', { kind: 'cancelled' }, 0);
  assert.equal(n, 4);
  assert.deepEqual(done.map((d) => [d.txn.peer, d.outcome.kind]), [['A', 'cancelled'], ['A', 'cancelled'], ['A', 'cancelled'], ['A', 'cancelled']]);
  assert.deepEqual(sent.map((s) => s.peer), ['A', 'B'], 'none of the failed queued requests went out; the spared one started');
  tsm.cancelAll(0);
  assert.equal(sent.length, 2, 'closing sends nothing');
  assert.equal(tsm.inFlight, 0);
  assert.equal(tsm.queued, 0);
});

test('server: a request the host never answers is dropped after the processing timeout', () => {
  const dispatched: Array<IncomingRequest<string>> = [];
  const sent: Apdu[] = [];
  const tsm = new ServerTsm<string>({ send: (_p, a) => void sent.push(a), dispatch: (r) => void dispatched.push(r) }, { duplicateWindow: 1000, maxTransactions: 2 });
  const req = (invokeId: number): Apdu => ({ type: 0, segmented: false, moreFollows: false, segmentedResponseAccepted: true, maxSegments: 64, maxApdu: 1476, invokeId, service: 12, data: Uint8Array.of(invokeId) });
  tsm.receive('A', 'A', req(1), 0);
  tsm.receive('A', 'A', req(2), 0);
  tsm.receive('A', 'A', req(3), 0);
  assert.equal(dispatched.length, 2);
  assert.equal(tsm.counters.aborts, 1, 'the table is full of requests in progress');
  assert.equal(tsm.nextDeadline(), 2000, 'requests in progress have a deadline (twice the duplicate window)');
  tsm.tick(1999);
  assert.equal(tsm.size, 2);
  tsm.tick(2000);
  assert.equal(tsm.size, 0);
  assert.equal(tsm.counters.unanswered, 2);
  tsm.respond(dispatched[0]!, { kind: 'simple-ack' }, 2001);
  assert.equal(tsm.counters.lateReplies, 1);
  const before = sent.length;
  assert.equal(before, 1, 'only the abort went out');
  tsm.receive('A', 'A', req(4), 2002);
  assert.equal(dispatched.length, 3, 'room again');
  // a reply is cached on a coarse grid: replies finished close together expire in one firing
  tsm.respond(dispatched[2]!, { kind: 'simple-ack' }, 2003);
  assert.equal(tsm.nextDeadline(), 4000);
  tsm.clear();
  assert.equal(tsm.size, 0);
  assert.equal(tsm.nextDeadline(), undefined);
});
