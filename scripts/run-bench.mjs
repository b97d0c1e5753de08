// `npm run bench`: runs every compiled benchmark (dist/bench/**/*.bench.js) one after another,
// each in its own process (servers under test run in processes of their own).
//   npm run bench                 all benchmarks
//   npm run bench -- bacnet       only files whose path contains "bacnet"
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchRoot = join(root, process.env.FIELDLINK_DIST || 'dist', 'bench');
const filters = process.argv.slice(2);
function walk(dir, acc) {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, acc);
    else if (name.endsWith('.bench.js')) acc.push(p);
  }
  return acc;
}
let files = walk(benchRoot, []).sort();
if (filters.length) files = files.filter((f) => filters.some((w) => relative(benchRoot, f).includes(w)));
if (!files.length) {
  console.error('no benchmarks matched');
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${relative(root, f)}`);
  const r = spawnSync(process.execPath, ['--expose-gc', f], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    failed++;
    console.error(`benchmark ${relative(root, f)} failed (exit ${r.status})`);
  }
}
console.log(`\nresults: bench/results/*.json`);
process.exit(failed ? 1 : 0);
