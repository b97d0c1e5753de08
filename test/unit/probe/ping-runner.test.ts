/** PingRunner with a stand-in command (node printing a line), so no ping and no network is needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PingRunner } from '../../../src/lib/probe/ping';

test('a watchdog longer than setTimeout allows (count × interval > 24.8 days) does not fire at once', async () => {
  const runner = new PingRunner();
  // node -e ... -- <ping arguments>: runs 300 ms, prints a line and exits 0, unless interrupted.
  const command = [process.execPath, '-e', "setTimeout(() => console.log('still running'), 300)", '--'];
  const r = await runner.run({ host: '127.0.0.1', count: 10_000, interval: 3600, command, flavour: 'iputils' });
  const d = r.data as { reason?: string; errorinfo?: string };
  // Interrupted at once, the child prints nothing and the result is a watchdog timeout.
  assert.equal(d.reason, 'unparseable', JSON.stringify(d));
  assert.match(d.errorinfo!, /exited with code 0 .*still running/);
  assert.equal(runner.active, 0);
});
