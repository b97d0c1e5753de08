/**
 * Benchmark driver: npm epics-tca (a TypeScript CA client) in a process of its own, same
 * commands as ca-driver-fieldlink.ts. Loopback only: the server's port, no auto address list, a
 * private repeater port (epics-tca starts its repeater thread on it).
 */
import { Context } from 'epics-tca';
import type { DriverCommand } from './ca-driver-protocol';

const DBR_TIME_DOUBLE = 20;
const port = String(process.env.BENCH_CA_PORT);
const repeater = String(process.env.BENCH_CA_REPEATER);

type TcaChannel = NonNullable<Awaited<ReturnType<Context['createChannel']>>>;

function newContext(): Context {
  return new Context({
    EPICS_CA_ADDR_LIST: '127.0.0.1',
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CA_SERVER_PORT: port,
    EPICS_CA_REPEATER_PORT: repeater,
    EPICS_CA_MAX_ARRAY_BYTES: '100000000',
  }, 4);
}
const ctx = newContext();
let channels = new Map<string, TcaChannel>();
const monitorCounts = new Map<string, number>();

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function connect(names: string[]): Promise<number> {
  const res = await Promise.all(names.map((n) => ctx.createChannel(n, 'ca', 120)));
  let failed = 0;
  res.forEach((ch, i) => {
    if (ch) channels.set(names[i]!, ch);
    else failed++;
  });
  return failed;
}

async function run(c: DriverCommand): Promise<unknown> {
  switch (c.op) {
    case 'connect': {
      const t0 = performance.now();
      const failed = await connect(c.names);
      return { ms: performance.now() - t0, failed };
    }
    case 'clear': {
      await Promise.all(c.names.map(async (n) => {
        const ch = channels.get(n);
        channels.delete(n);
        await ch?.destroyHard();
      }));
      return true;
    }
    case 'fresh':
      return true;
    case 'bulk': {
      const chs = c.names.map((n) => channels.get(n)!);
      const us: number[] = [];
      let last: unknown[] = [];
      for (let i = 0; i < c.samples; i++) {
        const t0 = performance.now();
        last = await Promise.all(chs.map((ch) => ch.get(5, DBR_TIME_DOUBLE, 1)));
        us.push((performance.now() - t0) * 1000);
      }
      const values = last.map((d) => {
        const v = (d as { value?: unknown; secondsSinceEpoch?: unknown } | undefined)?.value;
        return Array.isArray(v) ? v[0] : v ?? null;
      });
      return { us, values };
    }
    case 'single': {
      const ch = channels.get(c.name)!;
      const us: number[] = [];
      let v: unknown;
      for (let i = 0; i < c.samples; i++) {
        const t0 = performance.now();
        const d = (await ch.get(5, DBR_TIME_DOUBLE, 1)) as { value?: unknown } | undefined;
        us.push((performance.now() - t0) * 1000);
        v = Array.isArray(d?.value) ? d?.value[0] : d?.value;
      }
      return { us, value: v };
    }
    case 'memory': {
      for (const ch of channels.values()) await ch.destroyHard();
      channels = new Map();
      gc();
      gc();
      const m0 = process.memoryUsage();
      const failed = await connect(c.names);
      gc();
      gc();
      const m1 = process.memoryUsage();
      return { failed, bytesPerChannel: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / c.names.length, rssPerChannel: (m1.rss - m0.rss) / c.names.length };
    }
    case 'monitor': {
      const ch = channels.get(c.name) ?? (await ctx.createChannel(c.name, 'ca', 10));
      if (!ch) throw new Error(`cannot connect ${c.name}`);
      channels.set(c.name, ch);
      monitorCounts.set(c.name, 0);
      await ch.createMonitor(5, () => monitorCounts.set(c.name, (monitorCounts.get(c.name) ?? 0) + 1), DBR_TIME_DOUBLE, 1);
      const t0 = Date.now();
      while ((monitorCounts.get(c.name) ?? 0) < 1 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
      return true;
    }
    case 'monitorCount':
      return { received: (monitorCounts.get(c.name) ?? 1) - 1 };
    default:
      throw new Error(`unknown op ${(c as { op: string }).op}`);
  }
}

ctx.initialize().then(() => {
  process.on('message', (msg: { id: number; command: DriverCommand }) => {
    if (msg.command.op === 'quit') {
      try {
        ctx.destroyHard();
      } finally {
        process.exit(0);
      }
    }
    run(msg.command).then(
      (result) => process.send!({ id: msg.id, ok: true, result }),
      (e: unknown) => process.send!({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.send!({ ready: true });
}, (e: unknown) => {
  console.error(e);
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
