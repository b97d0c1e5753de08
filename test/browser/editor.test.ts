/**
 * Editor smoke test in real headless Chromium (Debian `chromium`, driven by playwright-core):
 * start Node-RED 4.1 with this package and the example flows, open the editor, check that every
 * Fieldlink node type is in the palette under the `fieldlink` category, open each node's edit
 * dialog (config nodes through the config-node editor), and fail on any browser console error or
 * page exception. With FIELDLINK_SCREENSHOTS=1 (`npm run screenshots`) it also saves the pictures
 * the README shows: docs/screenshots/example-<tab>.png (each example tab, with the example flows on
 * their real ports 47808 and 5064 so the statuses show live values) and
 * docs/screenshots/<type>.png (each edit dialog).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, haveCommand, peerSkip } from '../helpers/env';
import { startNodeRed, type NodeRedProcess } from '../helpers/nodered-process';
import { packageTypes, type Registered } from '../helpers/editor-defs';

// The callbacks passed to page.evaluate run in the browser; these declarations type the little of
// the DOM they touch without pulling the DOM library into the whole (Node) program.
interface El {
  id: string;
  textContent: string | null;
  closest(sel: string): El | null;
}
declare const document: {
  querySelector(sel: string): El | null;
  querySelectorAll(sel: string): { length: number; forEach(cb: (n: { remove(): void }) => void): void };
  title: string;
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the page's global object, typed at each use
declare const window: any;

const CHROMIUM = '/usr/bin/chromium';
const skip = peerSkip('chromium (Debian package)', haveCommand(CHROMIUM));

// playwright-core ships its own types; only its chromium launcher is used.
type PW = typeof import('playwright-core');
type Browser = Awaited<ReturnType<PW['chromium']['launch']>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;

let red: NodeRedProcess | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let baseUrl = '';
const consoleErrors: string[] = [];
const shots = process.env.FIELDLINK_SCREENSHOTS === '1';
const shotDir = join(repoRoot, 'docs', 'screenshots');
const types: Registered[] = packageTypes(repoRoot);

before(async () => {
  if (skip) return;
  red = await startNodeRed({
    // Screenshots show the examples as `npm start` runs them (real ports, live values); the test
    // keeps them off the well-known ports.
    settings: shots ? {} : {
      // The example IOC takes a free port and sends no beacons, so tests running beside this one
      // (and a developer's npm start) never share 5064/5065 with it.
      epicsIocPort: 0,
      epicsIocBeacons: '',
      // Likewise the example BACnet network binds any free port and broadcasts to a dead port, not 47808.
      bacnetNetworkPort: 0,
      bacnetNetworkDestinationPort: 9,
    },
  });
  baseUrl = red.url;
  const { chromium } = require('playwright-core') as PW;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  await page.goto(baseUrl, { waitUntil: 'load' });
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="inject"]', { timeout: 60_000 });
  // Let the editor finish loading the flows.
  await page.waitForFunction(() => {
    const R = (window as unknown as { RED?: { nodes?: { eachNode?: unknown } } }).RED;
    return !!R?.nodes?.eachNode;
  });
  // Screenshots: give polls, COV and monitors time to report, so the statuses show values.
  await page.waitForTimeout(shots ? 8000 : 1000);
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await red?.stop();
});

test('the editor loads with no console error and shows the example flows', { skip }, async () => {
  if (shots) {
    mkdirSync(shotDir, { recursive: true });
    const tabs = await page!.evaluate(() => {
      const RED = (window as { RED: { nodes: { eachWorkspace(cb: (w: { id: string; label: string }) => void): void } } }).RED;
      const out: Array<{ id: string; label: string }> = [];
      RED.nodes.eachWorkspace((w) => out.push({ id: w.id, label: w.label }));
      return out;
    });
    for (const tab of tabs) {
      await page!.evaluate((id) => (window as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show(id), tab.id);
      await page!.waitForTimeout(400);
      const name = tab.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
      await page!.screenshot({ path: join(shotDir, `example-${name}.png`) });
    }
  }
  const loadErrors = await page!.evaluate(async () => {
    const r = await fetch('nodes', { headers: { Accept: 'application/json' } });
    const list = (await r.json()) as Array<{ module: string; err?: string; types: string[] }>;
    return list.filter((n) => n.err).map((n) => `${n.module}: ${n.err}`);
  });
  assert.deepEqual(loadErrors, [], 'every node module loads in the runtime');
  assert.deepEqual(consoleErrors, []);
});

test('every Fieldlink node type is in the palette under "fieldlink"', { skip }, async () => {
  for (const t of types.filter((x) => x.category !== 'config')) {
    const inCategory = await page!.evaluate((type) => {
      const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${type}"]`);
      const cat = el?.closest('.red-ui-palette-category');
      return cat ? cat.id : null;
    }, t.type);
    assert.ok(inCategory, `${t.type} is in the palette`);
    assert.match(inCategory!, /fieldlink/, `${t.type} sits in the fieldlink category (found ${inCategory})`);
  }
});

test('every node edit dialog opens and closes without errors', { skip }, async () => {
  for (const t of types) {
    const before = consoleErrors.length;
    if (t.category === 'config') {
      await page!.evaluate((type) => {
        (window as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', type, '_ADD_');
      }, t.type);
    } else {
      await page!.evaluate((type) => {
        type R = {
          workspaces: { active(): string };
          view: { importNodes(n: unknown[], o?: unknown): void };
          nodes: { node(id: string): unknown; getType(t: string): { defaults: Record<string, { value: unknown }> } };
          editor: { edit(n: unknown): void };
        };
        const RED = (window as unknown as { RED: R }).RED;
        const id = 'smoke-' + type;
        // As if dragged from the palette: every property starts at its default value.
        const props: Record<string, unknown> = {};
        for (const [k, d] of Object.entries(RED.nodes.getType(type).defaults)) props[k] = JSON.parse(JSON.stringify(d.value ?? ''));
        if (!RED.nodes.node(id)) RED.view.importNodes([{ ...props, id, type, x: 200, y: 200, z: RED.workspaces.active(), wires: [] }], { generateIds: false });
        RED.editor.edit(RED.nodes.node(id));
      }, t.type);
    }
    const cancel = t.category === 'config' ? '#node-config-dialog-cancel' : '#node-dialog-cancel';
    await page!.waitForSelector(`.red-ui-tray ${cancel}`, { timeout: 15_000 });
    await page!.waitForTimeout(300);
    if (shots) {
      await page!.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((n) => n.remove()));
      await page!.locator('.red-ui-tray').last().screenshot({ path: join(shotDir, `${t.type}.png`) });
    }
    const trayText = await page!.evaluate(() => document.querySelector('.red-ui-tray:last-of-type .red-ui-tray-body')?.textContent?.length ?? 0);
    assert.ok(trayText > 0, `${t.type}: the dialog has content`);
    await page!.click(`.red-ui-tray ${cancel}`);
    await page!.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10_000 });
    assert.deepEqual(consoleErrors.slice(before), [], `${t.type}: no console errors while editing`);
  }
  const help = await page!.evaluate(() => document.title);
  assert.ok(help.length > 0);
  // The editor's node count is sane.
  assert.ok(readFileSync(join(repoRoot, 'examples', 'flows.json'), 'utf8').length > 1);
});
