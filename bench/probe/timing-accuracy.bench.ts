/**
 * Timing accuracy: a loopback server (own process) delays the first byte 20 ms and trickles the
 * body over 30 ms; Fieldlink's periods vs curl -w on the same server, 20 runs each, interleaved.
 * Medians per phase and their difference. curl 7.88 has no "request sent" timer, so
 * request + response is compared with time_starttransfer − time_pretransfer.
 */
import { execFile } from 'node:child_process';
import { interleave, median, report, type Figure } from '../harness';
import { httpProbe, type HttpData } from '../../src/lib/probe/http';
import { startServer } from './common';

const RUNS = 20;
type Phases = Record<'connect' | 'ttfb' | 'transfer' | 'total', number>;

function curl(url: string): Promise<Phases> {
  const fmt = '%{time_namelookup} %{time_connect} %{time_pretransfer} %{time_starttransfer} %{time_total} %{http_code} %{size_download}';
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-o', '/dev/null', '--no-keepalive', '-w', fmt, url], { timeout: 10_000 }, (err, out) => {
      if (err) return reject(err);
      const [dns, conn, pre, start, total, code, size] = String(out).trim().split(' ').map(Number) as number[];
      if (code !== 200 || size !== 1024) return reject(new Error(`curl: status ${code}, ${size} bytes`));
      resolve({ connect: (conn! - dns!) * 1000, ttfb: (start! - pre!) * 1000, transfer: (total! - start!) * 1000, total: total! * 1000 });
    });
  });
}

async function probe(url: string): Promise<Phases> {
  const r = await httpProbe({ url });
  if (r.status !== 0 || r.data.size_download !== 1024) throw new Error(`probe failed: ${JSON.stringify(r.data)}`);
  const d = r.data as HttpData;
  return { connect: d.period_tcp_connect, ttfb: d.period_request + d.period_response, transfer: d.period_transfer, total: d.total_time };
}

async function main(): Promise<void> {
  const srv = await startServer('slow');
  const url = `http://127.0.0.1:${srv.port}/`;
  try {
    await probe(url);
    await curl(url);
    const ours: Phases[] = [];
    const theirs: Phases[] = [];
    await interleave(RUNS, {
      fieldlink: async () => (ours.push(await probe(url)), 0),
      'curl -w': async () => (theirs.push(await curl(url)), 0),
    });
    const figures: Figure[] = (['connect', 'ttfb', 'transfer', 'total'] as const).map((k) => {
      const a = median(ours.map((p) => p[k]));
      const b = median(theirs.map((p) => p[k]));
      return {
        scenario: { connect: 'TCP connect', ttfb: 'request + response (first byte, server waits 20 ms)', transfer: 'transfer (body trickled over 30 ms)', total: 'total' }[k],
        unit: 'ms',
        higherIsBetter: false,
        values: { fieldlink: a, 'curl -w': b },
        conditions: `${RUNS} runs each, interleaved, loopback server in its own process; difference ${(a - b).toFixed(3)} ms`,
        extra: { differenceMs: Math.round((a - b) * 1000) / 1000 },
      };
    });
    report('probe-http-timing-accuracy', figures);
  } finally {
    srv.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
