// Build: compile every TypeScript file of src/, nodes/, test/ and bench/ to CommonJS under dist/
// (one output file per input, same tree), and copy the editor side of each node (.html, icons/,
// locales/) next to its compiled .js, where the Node-RED loader looks for them.
import { build } from 'esbuild';
import { readdirSync, statSync, mkdirSync, copyFileSync, rmSync, existsSync } from 'node:fs';
import { join, relative, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// FIELDLINK_DIST=dist-x builds into another folder (parallel work on one checkout).
const out = join(root, process.env.FIELDLINK_DIST || 'dist');
const roots = ['src', 'nodes', 'test', 'bench'];

function walk(dir, acc) {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, acc);
    else acc.push(p);
  }
  return acc;
}

const files = roots.flatMap((r) => walk(join(root, r), []));
const entryPoints = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const assets = files.filter((f) => {
  const rel = relative(root, f);
  if (!rel.startsWith('nodes')) return false;
  return ['.html', '.json', '.svg', '.png'].includes(extname(f));
});

rmSync(out, { recursive: true, force: true });
const t0 = Date.now();
await build({
  entryPoints,
  outdir: out,
  outbase: root,
  bundle: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const a of assets) {
  const dst = join(out, relative(root, a));
  mkdirSync(dirname(dst), { recursive: true });
  copyFileSync(a, dst);
}
if (!process.env.FIELDLINK_QUIET_BUILD) {
  console.log(`build: ${entryPoints.length} modules, ${assets.length} editor assets -> ${out.slice(root.length + 1)}/ in ${Date.now() - t0} ms`);
}
