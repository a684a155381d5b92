// Run one of the Python scripts beside these tests with the venv's interpreter; fail with its stderr.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runPy(py: string, script: string, args: string[], timeoutMs = 600_000): string {
  const path = fileURLToPath(new URL(`./py/${script}`, import.meta.url));
  const r = spawnSync(py, [path, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, OMP_NUM_THREADS: '1', TOKENIZERS_PARALLELISM: 'false' } });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}
