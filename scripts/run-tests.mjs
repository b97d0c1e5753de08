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
// Files named *.serial.test.js measure time against a peer (e.g. our HTTP phases beside curl -w):
// they run after the others, one at a time, so no other test file competes for the two cores.
const serial = files.filter((f) => f.endsWith('.serial.test.js'));
const parallel = files.filter((f) => !f.endsWith('.serial.test.js'));
// node --test-concurrency arrived in Node 20.10; the package itself runs on any Node 20.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major === 20 && minor < 10) {
  console.error(`the test runner needs Node 20.10 or later (this is ${process.version})`);
  process.exit(1);
}
const concurrency = Math.max(1, Math.min(2, availableParallelism()));
console.log(`running ${files.length} test file(s): ${parallel.length} ${concurrency} at a time, then ${serial.length} alone` +
  (env.FIELDLINK_REQUIRE_PEERS === '1' ? ' (FIELDLINK_REQUIRE_PEERS=1: missing peers fail)' : ''));
function run(list, n) {
  if (!list.length) return 0;
  const res = spawnSync(process.execPath, [
    '--test',
    `--test-concurrency=${n}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    ...list,
  ], { stdio: 'inherit', env, cwd: root });
  return res.status ?? 1;
}
const a = run(parallel, concurrency);
const b = run(serial, 1);
if (a || b) console.error(`\ntest run failed (${a ? 'parallel batch' : ''}${a && b ? ' and ' : ''}${b ? 'serial batch' : ''})`);
process.exit(a || b);
