/**
 * Child process driving npm `epics-tca` (an independent TypeScript CA client) for the interop
 * test; run with fork() and spoken to over IPC: {id, op, ...} -> {id, ok, result|error}.
 * epics-tca leaves timers behind after destroyHard(), so it lives in its own process, which the
 * test ends with process.exit.
 */
import { Context } from 'epics-tca';

type Msg = { id: number; op: string; pv?: string; type?: number; count?: number; value?: unknown; wait?: boolean; n?: number };

interface TcaData {
  value?: unknown;
  [k: string]: unknown;
}

const port = Number(process.argv[2]);
const repeater = 30000 + Math.floor(Math.random() * 20000);
// Only loopback: our server's port, no broadcast list, a private repeater port.
const ctx = new Context({
  EPICS_CA_ADDR_LIST: '127.0.0.1',
  EPICS_CA_AUTO_ADDR_LIST: 'NO',
  EPICS_CA_SERVER_PORT: String(port),
  EPICS_CA_REPEATER_PORT: String(repeater),
  EPICS_CA_MAX_ARRAY_BYTES: '100000000',
}, 4);
const channels = new Map<string, Awaited<ReturnType<Context['createChannel']>>>();
const monitorValues: unknown[] = [];

function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

async function channel(name: string) {
  let ch = channels.get(name);
  if (!ch) {
    ch = await ctx.createChannel(name, 'ca', 5);
    if (!ch) throw new Error(`epics-tca could not connect to ${name}`);
    channels.set(name, ch);
  }
  return ch;
}

async function run(m: Msg): Promise<unknown> {
  switch (m.op) {
    case 'get': {
      const ch = await channel(m.pv!);
      const d = (await ch!.get(5, m.type, m.count)) as TcaData | undefined;
      if (!d) throw new Error('get failed');
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(d)) out[k] = plain(v);
      return out;
    }
    case 'put': {
      const ch = await channel(m.pv!);
      const v = Array.isArray(m.value) ? m.value : [m.value];
      return await ch!.put(v as never, 5, m.wait ?? false);
    }
    case 'monitor': {
      const ch = await channel(m.pv!);
      await ch!.createMonitor(5, (mon) => {
        const d = mon.getChannel().getDbrData() as TcaData;
        monitorValues.push(plain(Array.isArray(d.value) ? d.value[0] : d.value));
      }, m.type, 0);
      return true;
    }
    case 'monitorValues':
      return monitorValues.slice();
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

ctx.initialize().then(() => {
  process.send!({ ready: true });
  process.on('message', (m: Msg) => {
    if (m.op === 'quit') {
      try {
        ctx.destroyHard();
      } finally {
        process.exit(0);
      }
    }
    run(m).then(
      (result) => process.send!({ id: m.id, ok: true, result }),
      (e: unknown) => process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
}, (e: unknown) => {
  console.error(e);
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
