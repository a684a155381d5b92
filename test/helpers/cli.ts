// Run the steer CLI from source in a child process, as a user would run it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './shared.js';

export function runSteer(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? repoRoot,
    input: opts.input,
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 120_000,
  });
}
