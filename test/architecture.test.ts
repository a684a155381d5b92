// The layering of docs/architecture.md, held: every relative import in src/ points to the same layer
// or to one above it in the table. A new folder under src/ must be placed in the table (and here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from './helpers/shared.js';

// Rank = position in docs/architecture.md's table; a layer may import ranks ≤ its own.
export const LAYERS = [
  'util', 'graph', 'runtime', 'nn', 'io', 'text', 'data', 'train', 'reward', 'policy',
  'evaluate', 'demo', 'annotate', 'scale', 'serve', 'cli',
] as const;

const srcRoot = join(repoRoot, 'src');

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The relative module specifiers a file imports or re-exports (static and dynamic). */
export function relativeImports(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|import\s*['"](\.[^'"]+)['"]/g;
  for (const m of source.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

function layerOf(file: string): string | null {
  const rel = relative(srcRoot, file);
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : null; // null: src/index.ts, the public surface
}

test('relativeImports finds static, re-export, side-effect and dynamic imports', () => {
  const src = `import { a } from '../graph/ops.js';\nexport * from './x.js';\nimport './side.js';\nconst m = await import('../cli/main.js');\nimport type { T } from "../nn/config.js";`;
  assert.deepEqual(relativeImports(src), ['../graph/ops.js', './x.js', './side.js', '../cli/main.js', '../nn/config.js']);
});

test('every folder under src/ is a layer of docs/architecture.md', () => {
  const doc = readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8');
  for (const name of readdirSync(srcRoot)) {
    if (!statSync(join(srcRoot, name)).isDirectory()) continue;
    assert.ok((LAYERS as readonly string[]).includes(name), `src/${name}/ is not a layer: add it to docs/architecture.md and LAYERS`);
    assert.match(doc, new RegExp('`' + name + '/`'), `docs/architecture.md does not describe src/${name}/`);
  }
});

test('imports point up the layer table only (docs/architecture.md)', () => {
  const violations: string[] = [];
  for (const file of tsFiles(srcRoot)) {
    const from = layerOf(file);
    if (from === null) continue;
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      const to = layerOf(target);
      if (to === null) {
        violations.push(`${relative(repoRoot, file)} imports ${spec}: only src/index.ts may sit at the top of src/`);
        continue;
      }
      const rf = LAYERS.indexOf(from as (typeof LAYERS)[number]);
      const rt = LAYERS.indexOf(to as (typeof LAYERS)[number]);
      if (rt < 0 || rf < 0 || rt > rf) violations.push(`${relative(repoRoot, file)} (${from}) imports ${spec} (${to}): ${to} sits below ${from}`);
    }
  }
  assert.deepEqual(violations, []);
});
