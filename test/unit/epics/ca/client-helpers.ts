/** Helpers for client tests: loopback-only contexts on ports of their own, and polling waits. */
import * as dgram from 'node:dgram';
import { CaClientContext, type CaClientOptions } from '../../../../src/lib/epics/ca';

/** A UDP port that was free a moment ago (random high range; 5064/5065 never). */
export async function freeUdpPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.bind(p, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => {
      try {
        s.close(() => r());
      } catch {
        r();
      }
    });
    if (ok) return p;
  }
  throw new Error('no free UDP port');
}

/**
 * A client context that searches only 127.0.0.1:<port> (auto address list off, environment
 * ignored), with its own repeater port.
 */
export async function loopbackClient(port: number, extra: CaClientOptions = {}): Promise<CaClientContext> {
  return new CaClientContext({
    env: {},
    addrList: `127.0.0.1:${port}`,
    autoAddrList: false,
    bindAddress: '127.0.0.1',
    repeaterPort: extra.repeaterPort ?? (await freeUdpPort()),
    timeoutMs: 3000,
    ...extra,
  });
}

/** Poll until `pred()` is true (or throw after `timeoutMs`). */
export async function until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Handles of the kinds sockets and timers leave behind. */
export function netHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of process.getActiveResourcesInfo()) if (/TCP|UDP|Timeout|Immediate/.test(h)) out[h] = (out[h] ?? 0) + 1;
  return out;
}
