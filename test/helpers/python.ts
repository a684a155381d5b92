// steer's Python environment (.venv/, made by scripts/setup-python.sh) holds the peers and
// reference implementations some tests compare against: PyTorch, transformers, peft, TRL, Ray and
// the official evaluation packages. A test that needs it calls venvPython(t): on a user's clone
// without the environment the test is skipped with the command that makes it; under CI (CI=true)
// a missing environment is a failure, never a skip.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { repoRoot } from './shared.js';

export const venvDir = join(repoRoot, '.venv');
export const venvBin = join(venvDir, 'bin');

/** Absolute path of .venv/bin/python, or null when the environment has not been made. */
export function venvPythonPath(): string | null {
  const p = join(venvBin, 'python');
  return existsSync(p) ? p : null;
}

/**
 * For use inside a test: the venv's python, with `modules` importable; otherwise skips the test
 * (a user's clone) or fails it (CI). Usage: `const py = venvPython(t, ['torch']); if (!py) return;`
 */
export function venvPython(t: TestContext, modules: string[] = []): string | null {
  const py = venvPythonPath();
  let why: string | null = null;
  if (py === null) why = '.venv is absent';
  else if (modules.length > 0) {
    const r = spawnSync(py, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
    if (r.status !== 0) why = `.venv lacks ${modules.join(', ')}: ${r.stderr.trim().split('\n').pop()}`;
  }
  if (why === null) return py;
  if (process.env.CI) throw new Error(`${why}; CI must run this test (bash scripts/setup-python.sh)`);
  t.skip(`${why} (run: bash scripts/setup-python.sh)`);
  return null;
}
