// Fault injection on a real `steer rm train` run (a tiny from-scratch reward model; its step graph
// is deterministic for the char vocabulary, so a resumed run must end with exactly the weights of
// an uninterrupted one — compared with a 1e-6 tolerance all the same, DESIGN §2):
//   - NaN from an absurd learning rate: exit 2 naming the step, the last good checkpoint intact;
//   - a full disk during a checkpoint write (a 64 KiB tmpfs where this machine can mount one, and
//     always a write-failure injection): exit 2 naming the path, no half-written checkpoint, resume;
//   - two runs on one --out: the second is refused while the first lives;
//   - SIGTERM and kill -9 at seeded random moments of training and checkpoint writes: resume ends
//     with the uninterrupted run's weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../src/io/safetensors.js';
import { firstNonFinite, loadLatestTrainCheckpoint } from '../../src/train/checkpoint.js';
import { Rng } from '../../src/util/rng.js';
import { repoRoot } from '../helpers/shared.js';
import { runCaptured } from './corpus/capture.js';

const STEPS = 12;

function setup(): { root: string; pairs: string; args: (out: string, extra?: string[]) => string[] } {
  const root = mkdtempSync(join(tmpdir(), 'steer-faults-'));
  const rows = Array.from({ length: 32 }, (_, i) => JSON.stringify({ prompt: `How many a in ${'a'.repeat(i % 7)}b?`, chosen: `There are ${i % 7}.`, rejected: `There are ${(i % 7) + 2}, I think.`, margin: 1 + (i % 3) }));
  const pairs = join(root, 'pairs.jsonl');
  writeFileSync(pairs, rows.join('\n') + '\n');
  const args = (out: string, extra: string[] = []) => ['rm', 'train', '--loss', 'scaled-bt', '--pairs', pairs, '--hidden-size', '16', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate-size', '32', '--batch-size', '4', '--steps', String(STEPS), '--warmup-steps', '2', '--lr', '3e-3', '--checkpoint-every', '1', '--threads', '1', '--quiet', '--out', out, ...extra];
  return { root, pairs, args };
}

function weights(out: string): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  // a reward model is one LlamaForSequenceClassification file: the body and score.weight
  for (const [k, t] of readSafetensors(join(out, 'model', 'model.safetensors')).tensors) m.set(k, t.data);
  return m;
}

/** Largest |a − b| over every tensor (Infinity when the names or sizes differ). */
function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  if (a.size !== b.size) return Infinity;
  let d = 0;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y || y.length !== x.length) return Infinity;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  }
  return d;
}

function steer(args: string[]): ChildProcess & { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stderr })));
  return Object.assign(child, { done });
}

async function until(cond: () => boolean, timeoutMs = 60_000, pollMs = 20): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

test('fault injection on rm train: NaN, full disk, two runs on one --out, SIGTERM and kill -9', async (t) => {
  const { root, args } = setup();
  try {
    const ref = join(root, 'reference');
    const r0 = await runCaptured(args(ref));
    assert.equal(r0.code, 0, r0.stderr);
    const reference = weights(ref);

    // ---- NaN via an absurd learning rate ----
    {
      const out = join(root, 'nan');
      const r = await runCaptured(args(out, ['--lr', '1e30', '--warmup-steps', '0', '--schedule', 'constant']));
      assert.equal(r.code, 2, r.stderr);
      const m = /diverged at step (\d+)\/12: ([^\n]*)/.exec(r.stderr);
      assert.ok(m, `the message names the step: ${r.stderr}`);
      assert.match(r.stderr, /learning rate \(peak 1e\+30\) is likely too high[\s\S]*--no-resume/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const ck = loadLatestTrainCheckpoint(out);
      assert.ok(ck !== null && ck.step < Number(m[1]), `a checkpoint before the bad step is kept (${ck?.step} < ${m[1]})`);
      assert.equal(firstNonFinite(ck!.state), null, 'and it is finite');
      assert.equal(existsSync(join(out, 'model')), false, 'no model is written from a diverged run');
      t.diagnostic(`NaN: diverged at step ${m[1]} (${m[2]}); last good checkpoint step ${ck!.step} intact`);
    }

    // ---- full disk: write-failure injection at the third checkpoint, then resume ----
    {
      const out = join(root, 'enospc');
      const openSync = fs.openSync;
      const paths = new Map<number, string>();
      fs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
        const fd = (openSync as (...a: unknown[]) => number)(p, ...rest);
        paths.set(fd, String(p));
        return fd;
      }) as typeof fs.openSync;
      const writeSync = fs.writeSync;
      fs.writeSync = ((fd: number, ...rest: unknown[]) => {
        if (paths.get(fd)?.includes('step-000003')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        return (writeSync as (...a: unknown[]) => number)(fd, ...rest);
      }) as typeof fs.writeSync;
      syncBuiltinESMExports();
      let r;
      try {
        r = await runCaptured(args(out));
      } finally {
        fs.openSync = openSync;
        fs.writeSync = writeSync;
        syncBuiltinESMExports();
      }
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /step-000003[^\n]*: the disk is full \(ENOSPC during write\)\n  fix: free some space/);
      assert.equal(loadLatestTrainCheckpoint(out)?.step, 2, 'the checkpoint before the failed write is the latest');
      assert.deepEqual(readdirSync(join(out, 'checkpoints')).filter((n) => n.endsWith('.tmp')), [], 'no half-written checkpoint');
      const again = await runCaptured(args(out));
      assert.equal(again.code, 0, again.stderr);
      assert.ok(maxDiff(weights(out), reference) <= 1e-6, 'resumed to the uninterrupted weights');
    }

    // ---- full disk for real: a 64 KiB tmpfs, where this machine lets us mount one ----
    {
      const mnt = join(root, 'tmpfs');
      mkdirSync(mnt);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status === 0;
      if (!mounted) t.diagnostic('tmpfs: cannot mount here (not root, or no mount namespace); the injection above stands in');
      else {
        try {
          const r = await runCaptured(args(join(mnt, 'run')));
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, /: the disk is full \(ENOSPC/);
          assert.doesNotMatch(r.stderr, /\n\s+at /);
          const ck = existsSync(join(mnt, 'run', 'checkpoints', 'latest.json')) ? loadLatestTrainCheckpoint(join(mnt, 'run')) : null;
          if (ck) assert.equal(firstNonFinite(ck.state), null);
          t.diagnostic(`tmpfs 64 KiB: exit 2 (${r.stderr.split('\n').find((l) => l.includes('ENOSPC'))?.trim()}); latest checkpoint ${ck?.step ?? 'none'} readable`);
        } finally {
          spawnSync('umount', [mnt]);
        }
      }
    }

    // ---- two runs on one --out, then SIGTERM to the first ----
    {
      const out = join(root, 'shared');
      const first = steer(args(out, ['--steps', '4000', '--checkpoint-every', '0']));
      await until(() => existsSync(join(out, '.steer.lock')) || first.exitCode !== null);
      const second = await runCaptured(args(out, ['--steps', '4000', '--checkpoint-every', '0']));
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`another steer process \\(pid ${first.pid}, started [^)]*\\) is using this run directory`));
      await until(() => existsSync(join(out, 'metrics.jsonl')));
      const t0 = Date.now();
      first.kill('SIGTERM');
      const r = await first.done;
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stderr, /SIGTERM received: finishing step \d+\/4000 of rm-scaled-bt, then saving a checkpoint and stopping/);
      assert.match(r.stderr, /stopped by SIGTERM at step \d+\/4000; a checkpoint was saved/);
      assert.ok(loadLatestTrainCheckpoint(out) !== null);
      assert.equal(existsSync(join(out, '.steer.lock')), false, 'the lock is released');
      t.diagnostic(`two runs: the second refused (exit 2); SIGTERM stopped the first in ${Date.now() - t0} ms with a checkpoint at step ${loadLatestTrainCheckpoint(out)!.step}`);
    }

    // ---- SIGTERM and kill -9 at random moments, then resume ----
    const rng = new Rng(21);
    const outcomes: string[] = [];
    for (const [i, sig] of (['SIGTERM', 'SIGKILL', 'SIGKILL', 'SIGTERM'] as const).entries()) {
      const out = join(root, `kill-${i}`);
      const child = steer(args(out));
      // a random point of training: after a random number of logged steps (1 … STEPS − 4), then a
      // random few milliseconds, so the signal can also land inside a checkpoint write
      const logged = rng.int(1, STEPS - 4);
      const lines = () => (existsSync(join(out, 'metrics.jsonl')) ? readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);
      await until(() => lines() >= logged || child.exitCode !== null, 60_000, 2);
      await new Promise((r) => setTimeout(r, rng.int(0, 15)));
      child.kill(sig);
      const r = await child.done;
      const at = existsSync(join(out, 'checkpoints', 'latest.json')) ? loadLatestTrainCheckpoint(out)?.step : 'none';
      // A SIGTERM that lands after the last step, while the final model is written, meets no training
      // loop to stop (the default action ends the process; the writes are atomic): that is outside
      // "a random point of training", recognised by the last step's checkpoint, and resume still holds.
      const afterTraining = r.signal === 'SIGTERM' && at === STEPS;
      if (sig === 'SIGTERM') assert.ok(r.code === 143 || r.code === 0 || afterTraining, `SIGTERM: exit ${r.code ?? r.signal} (checkpoint ${at})\n${r.stderr}`);
      else assert.ok(r.signal === 'SIGKILL' || r.code === 0);
      const resumed = await runCaptured(args(out));
      assert.equal(resumed.code, 0, resumed.stderr);
      const d = maxDiff(weights(out), reference);
      assert.ok(d <= 1e-6, `${sig} #${i}: resumed weights differ by ${d}`);
      outcomes.push(`${sig} → ${r.code ?? r.signal}, checkpoint ${at}, resumed max |Δw| = ${d}`);
    }
    t.diagnostic(`kills: ${outcomes.join('; ')}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
