import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runSteer } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

test('steer --help lists the commands and exits 0', () => {
  const r = runSteer(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: steer/);
  assert.match(r.stdout, /info/);
});

test('an unknown command is a usage error: one clear message, exit 2, no stack trace', () => {
  const r = runSteer(['nonsense']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'nonsense'/);
  assert.doesNotMatch(r.stderr, /at .*\.[jt]s:\d+/);
});

test('steer --version prints the package version', () => {
  const r = runSteer(['--version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test('the installed entry point bin/steer.js runs the compiled CLI', (t) => {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) return t.skip('dist/ not built (npm ci builds it)');
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/steer.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: steer/);
});
