// Runs the compiled test files (dist/test/**/*.test.js) with node:test.
//   node scripts/run-tests.mjs                 every test
//   node scripts/run-tests.mjs bacnet probe    only files whose path contains one of the words
//   node scripts/run-tests.mjs --fuzz-full     fuzz tests at their full iteration count
// Each file runs in its own process (node:test isolation), two at a time on a 2-core box.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, process.env.FIELDLINK_DIST || 'dist', 'test');
const args = process.argv.slice(2);
const env = { ...process.env };
const filters = [];
for (const a of args) {
  if (a === '--fuzz-full') env.FIELDLINK_FUZZ_FULL = '1';
  else filters.push(a);
}

function walk(dir, acc) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, acc);
    else if (name.endsWith('.test.js')) acc.push(p);
  }
  return acc;
}

if (!existsSync(testRoot)) {
  console.error('dist/test is missing: run `npm run build` first');
  process.exit(1);
}
let files = walk(testRoot, []).sort();
if (filters.length) files = files.filter((f) => filters.some((w) => relative(testRoot, f).includes(w)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = Math.max(1, Math.min(2, availableParallelism()));
console.log(`running ${files.length} test file(s), ${concurrency} at a time` +
  (env.FIELDLINK_REQUIRE_PEERS === '1' ? ' (FIELDLINK_REQUIRE_PEERS=1: missing peers fail)' : ''));
const res = spawnSync(process.execPath, [
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=300000',
  '--test-reporter=spec',
  ...files,
], { stdio: 'inherit', env, cwd: root });
process.exit(res.status ?? 1);
