/**
 * A real Node-RED 4.1 runtime in a child process, loading this package from the compiled tree the
 * test runs from, with examples/flows.json deployed (or another flow file). Used by the editor
 * smoke test and the system tests of the example flows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, symlinkSync, copyFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { repoRoot, distRoot } from './env';

export interface NodeRedProcess {
  /** http://127.0.0.1:<port>/ (admin and http-in share it). */
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  userDir: string;
  /** Everything the runtime printed so far. */
  log(): string;
  stop(): Promise<void>;
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start Node-RED. `settings` are extra settings.js entries (JSON values), e.g.
 * `{epicsIocPort: 0}`; `flowFile` defaults to examples/flows.json.
 */
export async function startNodeRed(opts: { settings?: Record<string, unknown>; flowFile?: string; logLevel?: string } = {}): Promise<NodeRedProcess> {
  const tmp = mkdtempSync(join(tmpdir(), 'fieldlink-nr-'));
  const port = await freeTcpPort();
  const userDir = join(tmp, 'user');
  mkdirSync(userDir);
  // A module folder that points Node-RED at the compiled tree this test runs from.
  const mod = join(tmp, 'module');
  mkdirSync(mod);
  copyFileSync(join(repoRoot, 'package.json'), join(mod, 'package.json'));
  symlinkSync(distRoot, join(mod, 'dist'));
  symlinkSync(join(repoRoot, 'examples'), join(mod, 'examples'));
  if (existsSync(join(repoRoot, 'resources'))) symlinkSync(join(repoRoot, 'resources'), join(mod, 'resources'));
  copyFileSync(opts.flowFile ?? join(repoRoot, 'examples', 'flows.json'), join(userDir, 'flows.json'));
  const extra = Object.entries(opts.settings ?? {}).map(([k, v]) => `  ${k}: ${JSON.stringify(v)},`).join('\n');
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = {
  uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json',
  nodesDir: [${JSON.stringify(mod)}],
  credentialSecret: 'fieldlink-test',
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  logging: { console: { level: ${JSON.stringify(opts.logLevel ?? 'warn')} } },
${extra}
};
`,
  );
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // If the test process dies first, the runtime must not outlive it holding its ports.
  const reap = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
    process.removeListener('exit', reap);
    rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url + 'settings');
      if (r.ok) return { url, port, pid: child.pid!, child, userDir, log: () => log, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`Node-RED did not start:\n${log}`);
}
