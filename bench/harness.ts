/**
 * Benchmark harness: statistics, interleaved runs and the report format every `*.bench.ts`
 * uses, so `npm run bench` prints each Fieldlink figure beside the same figure for the peers,
 * measured in the same run, with the ratio; and writes bench/results/<name>.json.
 *
 * Rules (DESIGN.md §5): check correctness before timing (a run that reads wrong or missing
 * values throws), interleave Fieldlink and peers round by round, quote medians.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem, release } from 'node:os';
import { repoRoot } from '../test/helpers/env';

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** High-resolution now in milliseconds. */
export function nowMs(): number {
  return performance.now();
}

export interface Figure {
  /** What is measured, e.g. "sequential ReadProperty p50". */
  scenario: string;
  unit: string;
  /** true when a larger value is better (throughput); false for latencies and times. */
  higherIsBetter: boolean;
  /** Implementation name → median value (NaN when the implementation could not run the scenario). */
  values: Record<string, number>;
  /** Free-text conditions (counts, concurrency, server). */
  conditions?: string;
  /** Optional goal for Fieldlink, printed beside the figure. */
  goal?: string;
  /** Extra numbers to keep in the JSON (p99, errors, ...). */
  extra?: Record<string, unknown>;
}

/**
 * Run `rounds` rounds; in each round every contender runs once, in rotating order. Returns the
 * samples per contender.
 */
export async function interleave(
  rounds: number,
  contenders: Record<string, () => Promise<number>>,
): Promise<Record<string, number[]>> {
  const names = Object.keys(contenders);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length]!;
      samples[name]!.push(await contenders[name]!());
    }
  }
  return samples;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** Print figures as a table (Fieldlink first, each peer with the ratio) and save them as JSON. */
export function report(name: string, figures: Figure[], ours = 'fieldlink'): void {
  console.log(`\n## ${name}`);
  for (const f of figures) {
    const o = f.values[ours];
    const parts = [`${f.scenario}: ${ours} ${fmt(o ?? NaN)} ${f.unit}`];
    for (const [peer, v] of Object.entries(f.values)) {
      if (peer === ours) continue;
      let ratio = 'n/a';
      if (o !== undefined && Number.isFinite(o) && Number.isFinite(v) && v !== 0 && o !== 0) {
        const r = f.higherIsBetter ? o / v : v / o;
        ratio = `${r.toFixed(2)}x ${r >= 1 ? 'better' : 'worse'}`;
      }
      parts.push(`${peer} ${fmt(v)} ${f.unit} (${ratio})`);
    }
    if (f.goal) parts.push(`goal ${f.goal}`);
    console.log('- ' + parts.join(' | '));
    if (f.conditions) console.log(`    conditions: ${f.conditions}`);
  }
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const meta = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ ...meta, figures }, null, 2));
}
