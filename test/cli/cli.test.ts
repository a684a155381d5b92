import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/steer.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('steer --help lists the commands and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: steer/);
  assert.match(r.stdout, /info/);
});

test('an unknown command is a usage error: one clear message, exit 2, no stack trace', () => {
  const r = run('nonsense');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'nonsense'/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});

test('steer --version prints the package version', () => {
  const r = run('--version');
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});
