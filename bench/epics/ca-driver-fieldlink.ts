/**
 * Benchmark driver: Fieldlink's CA client in a process of its own (forked by ca-client.bench.ts,
 * run with --expose-gc). Commands over IPC: {id, op, ...} -> {id, ok, result | error}. Times are
 * measured here, around the library calls only, in microseconds.
 */
import { CaClientContext } from '../../src/lib/epics/ca';
import type { DriverCommand } from './ca-driver-protocol';

const port = Number(process.env.BENCH_CA_PORT);
const repeaterPort = Number(process.env.BENCH_CA_REPEATER);
let ctx = newContext();
const monitors = new Map<string, { received: () => number; cancel: () => void }>();

function newContext(): CaClientContext {
  return new CaClientContext({
    env: {}, addrList: `127.0.0.1:${port}`, autoAddrList: false, bindAddress: '127.0.0.1', repeaterPort, timeoutMs: 120_000,
  });
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function mem(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

async function run(c: DriverCommand): Promise<unknown> {
  switch (c.op) {
    case 'connect': {
      const repeats0 = ctx.stats.searchRepeats;
      const t0 = performance.now();
      const r = await ctx.connectAll(c.names);
      const ms = performance.now() - t0;
      const failed = [...r.values()].filter((v) => v instanceof Error).length;
      return { ms, failed, repeats: ctx.stats.searchRepeats - repeats0 };
    }
    case 'clear': {
      for (const n of c.names) ctx.release(n);
      return true;
    }
    case 'fresh':
      // Like the other drivers: the context stays (channels were cleared by 'clear').
      return true;
    case 'bulk': {
      const us: number[] = [];
      let last: Map<string, unknown> | undefined;
      for (let i = 0; i < c.samples; i++) {
        const t0 = performance.now();
        last = await ctx.bulkGet(c.names);
        us.push((performance.now() - t0) * 1000);
      }
      const values = c.names.map((n) => {
        const r = last!.get(n) as { value?: unknown; stamp?: unknown } | Error;
        return r instanceof Error || !r.stamp ? null : r.value;
      });
      return { us, values };
    }
    case 'single': {
      const us: number[] = [];
      let v: unknown;
      for (let i = 0; i < c.samples; i++) {
        const t0 = performance.now();
        v = (await ctx.get(c.name)).value;
        us.push((performance.now() - t0) * 1000);
      }
      return { us, value: v };
    }
    case 'memory': {
      await ctx.close();
      ctx = newContext();
      const m0 = mem();
      const r = await ctx.connectAll(c.names);
      const failed = [...r.values()].filter((v) => v instanceof Error).length;
      const m1 = mem();
      return { failed, bytesPerChannel: (m1.heap - m0.heap) / c.names.length, rssPerChannel: (m1.rss - m0.rss) / c.names.length };
    }
    case 'monitor': {
      const m = ctx.monitor(c.name, () => {}, { type: 'time', metadata: false });
      monitors.set(c.name, { received: () => m.received - 1, cancel: () => m.cancel() });
      const t0 = Date.now();
      while (m.received < 1 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
      return true;
    }
    case 'monitorCount': {
      const m = monitors.get(c.name);
      const received = m ? m.received() : 0;
      m?.cancel();
      monitors.delete(c.name);
      return { received };
    }
    default:
      throw new Error(`unknown op ${(c as { op: string }).op}`);
  }
}

process.on('message', (msg: { id: number; command: DriverCommand }) => {
  if (msg.command.op === 'quit') {
    void ctx.close().then(() => process.exit(0));
    return;
  }
  run(msg.command).then(
    (result) => process.send!({ id: msg.id, ok: true, result }),
    (e: unknown) => process.send!({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
