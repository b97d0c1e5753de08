/**
 * Reads the editor definitions of our nodes the way the Flow Library scorecard does: every
 * <script type="text/javascript"> of a node's .html parsed with acorn, looking for a literal
 * RED.nodes.registerType('<type>', { category, defaults, ... }).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import * as acorn from 'acorn';

export interface Registered {
  type: string;
  category: string | undefined;
  file: string;
}

/** Parse every <script type="text/javascript"> of an editor file for literal registerType calls. */
export function registeredTypes(htmlFile: string): Registered[] {
  const html = readFileSync(htmlFile, 'utf8');
  const out: Registered[] = [];
  const re = /<script\s+type="text\/javascript"[^>]*>([\s\S]*?)<\/script>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    const ast = acorn.parse(m[1]!, { ecmaVersion: 2022, sourceType: 'script' });
    walk(ast, (node) => {
      if (node.type !== 'CallExpression') return;
      const call = node as acorn.CallExpression;
      const callee = call.callee;
      if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier' || callee.property.name !== 'registerType') return;
      const [typeArg, defArg] = call.arguments;
      assert.ok(typeArg && typeArg.type === 'Literal' && typeof typeArg.value === 'string', `${htmlFile}: registerType type must be a string literal`);
      assert.ok(defArg && defArg.type === 'ObjectExpression', `${htmlFile}: registerType definition must be an object literal`);
      const keys = new Map<string, acorn.Node>();
      for (const p of defArg.properties) {
        if (p.type === 'Property' && p.key.type === 'Identifier') keys.set(p.key.name, p.value);
      }
      for (const k of ['category', 'defaults']) assert.ok(keys.has(k), `${htmlFile}: ${typeArg.value} has no literal ${k}`);
      const defaults = keys.get('defaults')!;
      assert.equal(defaults.type, 'ObjectExpression', `${htmlFile}: defaults must be an object literal`);
      const cat = keys.get('category');
      out.push({
        type: typeArg.value as string,
        category: cat && cat.type === 'Literal' ? String((cat as acorn.Literal).value) : undefined,
        file: htmlFile,
      });
    });
  }
  return out;
}

function walk(node: acorn.Node, visit: (n: acorn.Node) => void): void {
  visit(node);
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v === 'object' && typeof (v as acorn.Node).type === 'string') walk(v as acorn.Node, visit);
    } else if (value && typeof value === 'object' && typeof (value as acorn.Node).type === 'string') {
      walk(value as acorn.Node, visit);
    }
  }
}


/** Every type registered by the node files listed in package.json "node-red.nodes". */
export function packageTypes(repoRoot: string): Registered[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red'?: { nodes?: Record<string, string> } };
  const out: Registered[] = [];
  for (const js of Object.values(pkg['node-red']?.nodes ?? {})) {
    const html = js.replace(/^\.\//, '').replace(/^dist\//, '').replace(/\.js$/, '.html');
    out.push(...registeredTypes(join(repoRoot, html)));
  }
  return out;
}
