/**
 * HTTP probe overhead: 2,000 probes at concurrency 50 against a loopback server in its own
 * process, Fieldlink's httpProbe (fresh connection, every phase timed, TLS-free) vs a bare
 * node:http request loop with agent:false (also a fresh connection per request) that measures
 * nothing. Interleaved rounds; medians of requests/s. Goal: overhead ≤ 10 %.
 * Every run (2,000 connections) goes to a port of its own on the server: otherwise a benchmark of
 * some 60,000 connections to one 127.0.0.1 port exhausts the ephemeral source ports while earlier
 * connections sit in TIME_WAIT, and the kernel's search for a free port in connect() swamps what is
 * measured (overheads from 7 % to 27 % between identical runs before this).
 */
import * as http from 'node:http';
import { interleave, median, nowMs, report } from '../harness';
import { httpProbe } from '../../src/lib/probe/http';
import { startServer } from './common';

const TOTAL = 2000;
const CONCURRENCY = 50;
const ROUNDS = 15;

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

/** Client-process CPU (user + system) per request of each run, µs, by name. */
const cpuPerRequest: Record<string, number[]> = {};

async function run(fn: (url: string) => Promise<void>, url: string, name?: string): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      next++;
      await fn(url);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const dt = nowMs() - t0;
  if (name) {
    const c = process.cpuUsage(cpu0);
    (cpuPerRequest[name] ??= []).push((c.user + c.system) / TOTAL);
  }
  return TOTAL / (dt / 1000);
}

async function main(): Promise<void> {
  const srv = await startServer('fast', 2 * ROUNDS + 2);
  let nextPort = 0;
  const freshUrl = (): string => `http://127.0.0.1:${srv.ports[nextPort++]!}/`;
  try {
    // Correctness first, and a warm-up of both paths.
    const url = freshUrl();
    await probe(url);
    await bare(url);
    await run(probe, url);
    await run(bare, freshUrl());
    const s = await interleave(ROUNDS, { fieldlink: () => run(probe, freshUrl(), 'fieldlink'), 'node:http agent:false': () => run(bare, freshUrl(), 'node:http agent:false') });
    const ours = median(s.fieldlink!);
    const theirs = median(s['node:http agent:false']!);
    const overhead = (theirs / ours - 1) * 100;
    const cpuOurs = median(cpuPerRequest.fieldlink!);
    const cpuTheirs = median(cpuPerRequest['node:http agent:false']!);
    const cpuOverhead = (cpuOurs / cpuTheirs - 1) * 100;
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
      {
        scenario: 'client CPU per HTTP probe (fresh connection each)',
        unit: 'µs',
        higherIsBetter: false,
        values: { fieldlink: cpuOurs, 'node:http agent:false': cpuTheirs },
        conditions: 'user + system CPU of the client process over each run divided by its requests (the server runs in its own process); includes the kernel work of every connection',
        extra: { overheadPercent: Math.round(cpuOverhead * 10) / 10, samples: cpuPerRequest },
      },
    ]);
    console.log(`    overhead: ${overhead.toFixed(1)} % in requests/s, ${cpuOverhead.toFixed(1)} % in client CPU per request`);
  } finally {
    srv.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
