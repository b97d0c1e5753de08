// Builds examples/flows.json (what `npm start` deploys) from the per-area example files
// examples/*.json that Node-RED also lists one by one under Import ▸ Examples.
// Each file becomes one tab (its own tab node if it has one, else a tab named after the file).
//   node scripts/build-examples.mjs          write examples/flows.json
//   node scripts/build-examples.mjs --check  exit 1 if examples/flows.json is out of date
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'examples');
const target = join(dir, 'flows.json');
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'flows.json').sort();
const out = [];
const ids = new Set();
for (const f of files) {
  const flow = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  if (!Array.isArray(flow)) throw new Error(`${f}: not a flow array`);
  let tab = flow.find((n) => n.type === 'tab');
  const nodes = flow.slice();
  if (!tab) {
    const id = 'tab-' + basename(f, '.json').toLowerCase().replace(/[^a-z0-9]+/g, '-');
    tab = { id, type: 'tab', label: basename(f, '.json'), disabled: false, info: '' };
    nodes.unshift(tab);
    for (const n of nodes) if (n !== tab && n.type !== 'tab' && !('z' in n) && !isConfig(n)) n.z = id;
  }
  for (const n of nodes) {
    if (ids.has(n.id)) throw new Error(`${f}: node id ${n.id} is used by another example file`);
    ids.add(n.id);
    out.push(n);
  }
}
function isConfig(n) {
  return !('wires' in n) && !('x' in n);
}
const text = JSON.stringify(out, null, 2) + '\n';
if (process.argv.includes('--check')) {
  const cur = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (cur !== text) {
    console.error('examples/flows.json is out of date: run `node scripts/build-examples.mjs`');
    process.exit(1);
  }
  console.log('examples/flows.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`examples/flows.json: ${files.length} example file(s), ${out.length} nodes`);
}
