/**
 * HTTP probe overhead: 2,000 probes at concurrency 50 against a loopback server in its own
 * process, Fieldlink's httpProbe (fresh connection, every phase timed, TLS-free) vs a bare
 * node:http request loop with agent:false (also a fresh connection per request) that measures
 * nothing. Interleaved rounds; medians of requests/s. Goal: overhead ≤ 10 %.
 */
import * as http from 'node:http';
import { interleave, median, nowMs, report } from '../harness';
import { httpProbe } from '../../src/lib/probe/http';
import { startServer } from './common';

const TOTAL = 2000;
const CONCURRENCY = 50;
const ROUNDS = 7;

function bare(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function probe(url: string): Promise<void> {
  const r = await httpProbe({ url });
  if (r.status !== 0 || r.data.status_code !== 200 || !(r.data.total_time > 0)) throw new Error(`probe failed: ${JSON.stringify(r.data)}`);
}

async function run(fn: () => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = nowMs();
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      next++;
      await fn();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return TOTAL / ((nowMs() - t0) / 1000);
}

async function main(): Promise<void> {
  const srv = await startServer('fast');
  const url = `http://127.0.0.1:${srv.port}/`;
  try {
    // Correctness first, and a warm-up of both paths.
    await probe(url);
    await bare(url);
    await run(() => probe(url));
    await run(() => bare(url));
    const s = await interleave(ROUNDS, { fieldlink: () => run(() => probe(url)), 'node:http agent:false': () => run(() => bare(url)) });
    const ours = median(s.fieldlink!);
    const theirs = median(s['node:http agent:false']!);
    const overhead = (theirs / ours - 1) * 100;
    report('probe-http-overhead', [
      {
        scenario: 'HTTP probes per second (fresh connection each)',
        unit: 'req/s',
        higherIsBetter: true,
        values: { fieldlink: ours, 'node:http agent:false': theirs },
        conditions: `${TOTAL} requests, concurrency ${CONCURRENCY}, loopback server in its own process, ${ROUNDS} interleaved rounds, medians`,
        goal: 'overhead ≤ 10 %',
        extra: { overheadPercent: Math.round(overhead * 10) / 10, samples: s },
      },
    ]);
    console.log(`    overhead: ${overhead.toFixed(1)} %`);
  } finally {
    srv.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
