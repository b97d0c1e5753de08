/**
 * A local copy of the Flow Library scorecard (`node-red-dev validate`), which cannot run offline.
 * Checks P01 licence, P03 repository/bugs, P04 scoped name, P05 keyword, P06 node-red.version
 * satisfied by Node-RED 5.0.7, P07 engines.node satisfied by Node 22.9.0, N02 every non-config
 * node type in examples/, D01 dependency count, and that every node file and its editor HTML
 * (with a literal RED.nodes.registerType) is in the packed tarball.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import semver from 'semver';
import { repoRoot, distRoot } from '../helpers/env';
import { registeredTypes, type Registered } from '../helpers/editor-defs';

interface Pkg {
  name: string;
  license?: string;
  keywords?: string[];
  repository?: unknown;
  bugs?: unknown;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  'node-red'?: { version?: string; nodes?: Record<string, string> };
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Pkg;
const NODE_RED_LATEST = '5.0.7';
const NODE_RED_LATEST_MIN_NODE = '22.9.0';

function exampleTypes(): Set<string> {
  const types = new Set<string>();
  const scan = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) scan(p);
      else if (name.endsWith('.json')) {
        const flow = JSON.parse(readFileSync(p, 'utf8')) as Array<{ type?: string }>;
        assert.ok(Array.isArray(flow), `${p} must be a flow array`);
        for (const n of flow) if (n.type) types.add(n.type);
      }
    }
  };
  scan(join(repoRoot, 'examples'));
  return types;
}

test('P01/P03/P04: licence, repository, scoped name', () => {
  assert.ok(pkg.license, 'license field');
  assert.ok(existsSync(join(repoRoot, 'LICENSE')), 'LICENSE file');
  assert.ok(pkg.repository || pkg.bugs, 'repository or bugs');
  assert.match(pkg.name, /^@[a-z0-9-]+\/node-red-/, 'scoped node-red- name');
});

test('P05: node-red keyword', () => {
  assert.ok(pkg.keywords?.includes('node-red'));
});

test('P06/P07: Node-RED and Node version ranges', () => {
  const range = pkg['node-red']?.version;
  assert.ok(range, 'node-red.version');
  assert.ok(semver.satisfies(NODE_RED_LATEST, range), `node-red.version ${range} must accept ${NODE_RED_LATEST}`);
  assert.ok(semver.satisfies('4.1.15', range), `node-red.version ${range} must accept the 4.1 line we test on`);
  const engines = pkg.engines?.node;
  assert.ok(engines, 'engines.node');
  assert.ok(semver.satisfies(NODE_RED_LATEST_MIN_NODE, engines), `engines.node ${engines} must accept ${NODE_RED_LATEST_MIN_NODE}`);
  assert.ok(semver.satisfies('20.19.0', engines), 'engines.node must accept Node 20');
});

test('D01: at most 2 runtime dependencies (scorecard allows 6)', () => {
  assert.ok(Object.keys(pkg.dependencies ?? {}).length <= 2);
});

test('every node file is packed with a parseable editor definition; N02 every non-config type has an example', () => {
  const nodes = pkg['node-red']?.nodes ?? {};
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      // Under `npm test` the inherited npm_* variables make the nested npm run `prepare` (a rebuild
      // of dist/ while other test files run); a clean environment keeps it a pure listing.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))), FIELDLINK_QUIET_BUILD: '1' },
    }),
  ) as Array<{ files: Array<{ path: string }> }>;
  const files = new Set(packed[0]!.files.map((f) => f.path));
  const packDefault = distRoot === join(repoRoot, 'dist');
  const examples = exampleTypes();
  const all: Registered[] = [];
  for (const [label, js] of Object.entries(nodes)) {
    const jsPath = js.replace(/^\.\//, '');
    const htmlPath = jsPath.replace(/\.js$/, '.html');
    // Built into $FIELDLINK_DIST (default dist/); the pack listing only makes sense for dist/ itself.
    const built = join(distRoot, jsPath.replace(/^dist\//, ''));
    assert.ok(existsSync(built), `${label}: ${built} exists (run npm run build)`);
    if (packDefault) {
      assert.ok(files.has(jsPath), `${label}: ${jsPath} is packed`);
      assert.ok(files.has(htmlPath), `${label}: ${htmlPath} is packed`);
    }
    const types = registeredTypes(join(repoRoot, htmlPath.replace(/^dist\//, '')));
    assert.ok(types.length > 0, `${htmlPath} registers at least one type`);
    all.push(...types);
  }
  for (const r of all) {
    if (r.category === 'config') continue;
    assert.equal(r.category, 'fieldlink', `${r.type} belongs in the fieldlink palette category`);
    assert.ok(examples.has(r.type), `N02: node type ${r.type} (${relative(repoRoot, r.file)}) appears in no examples/**/*.json`);
  }
  const seen = new Set<string>();
  for (const r of all) {
    assert.ok(!seen.has(r.type), `type ${r.type} registered twice`);
    seen.add(r.type);
  }
});

test('examples/flows.json (deployed by npm start) is built from the other example files', () => {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-examples.mjs'), '--check'], { stdio: 'pipe' });
});

test('"main" and "types" name the library entry; its declarations build and declare bacnet, ca and probe', () => {
  const p = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main?: string; types?: string; scripts?: Record<string, string> };
  assert.equal(p.main, 'dist/src/lib/index.js');
  assert.equal(p.types, 'dist/src/lib/index.d.ts');
  // npm install/ci (prepare) and npm pack emit the declarations with tsconfig.types.json.
  assert.match(p.scripts?.prepare ?? '', /tsc -p tsconfig\.types\.json/);
  const out = mkdtempSync(join(tmpdir(), 'fieldlink-types-'));
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.types.json'), '--outDir', out], { cwd: repoRoot, stdio: 'pipe' });
    const index = readFileSync(join(out, 'index.d.ts'), 'utf8');
    for (const ns of ['bacnet', 'ca', 'probe']) assert.match(index, new RegExp(`export \\* as ${ns} from`), `index.d.ts exports ${ns}`);
    assert.ok(existsSync(join(out, 'bacnet', 'client', 'client.d.ts')), 'declarations of every module are emitted');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
