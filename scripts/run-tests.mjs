#!/usr/bin/env node
// Runs steer's test suite with Node's built-in test runner (TypeScript through tsx).
// `npm test` runs everything; `npm test -- test/data test/graph/ops.test.ts` runs a subset.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    collect(join(path, name), out);
  }
}

const roots = process.argv.slice(2);
const files = [];
for (const root of roots.length ? roots : ['test']) collect(root, files);
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ') || 'test'}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { stdio: 'inherit', env: { ...process.env, STEER_TEST: '1' } },
);
process.exit(result.status ?? 1);
