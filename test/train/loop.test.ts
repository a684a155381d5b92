import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../../src/graph/index.js';
import { compileTrainStep, TrainState } from '../../src/train/optim.js';
import { runTrainLoop, type TrainLoopOptions } from '../../src/train/loop.js';
import { loadLatestTrainCheckpoint } from '../../src/train/checkpoint.js';
import { Rng } from '../../src/util/rng.js';

// A linear least-squares problem y = X·w* (w* = [1, −2, 0.5]); the data cursor walks a fixed
// sequence of batches drawn from a seeded stream, so an exact resume must land on the same weights.
async function setup() {
  const g = new Graph();
  const x = g.input('x', [8, 3]);
  const y = g.input('y', [8, 1]);
  const w = g.input('w', [3, 1]);
  const loss = x.matmul(w).sub(y).square().mean();
  const step = await compileTrainStep({ loss, params: [w], batch: [x, y] }, { maxGradNorm: 10 });
  const rng = new Rng(7);
  const batches = Array.from({ length: 12 }, () => {
    const xs = new Float32Array(24).map(() => rng.normal());
    const ys = new Float32Array(8).map((_, i) => xs[3 * i] - 2 * xs[3 * i + 1] + 0.5 * xs[3 * i + 2]);
    return { x: xs, y: ys };
  });
  return { step, batches };
}

function opts(runDir: string, steps: number): TrainLoopOptions {
  return { name: 'fit', runDir, steps, schedule: { kind: 'cosine', peakLr: 0.2, warmupSteps: 2 }, checkpointEvery: 10, quiet: true };
}

test('the loop trains, writes metrics and resumes bit-identically after a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-loop-'));
  try {
    const { step, batches } = await setup();
    const hooks = (crashAt?: number) => ({
      init: () => TrainState.init({ w: new Float32Array(3) }),
      initialCursor: { index: 0 },
      step: async ({ state, lr, cursor, step: s }: { state: TrainState; lr: number; cursor: { index: number }; step: number }) => {
        if (s === crashAt) throw new Error('simulated crash');
        const r = await step.run(state, batches[cursor.index % batches.length], lr);
        return { metrics: { loss: r.loss }, cursor: { index: cursor.index + 1 } };
      },
    });
    const full = await runTrainLoop(opts(join(dir, 'full'), 40), hooks());
    assert.equal(full.steps, 40);
    // At w = 0 the expected loss is Var(y) = 1² + 2² + 0.5² = 5.25; 40 Adam steps bring it below 0.1.
    assert.ok(full.lastMetrics.loss < 0.1, `loss fell below 0.1 (got ${full.lastMetrics.loss})`);

    const runDir = join(dir, 'crash');
    await assert.rejects(runTrainLoop(opts(runDir, 40), hooks(25)), /simulated crash/);
    assert.equal(loadLatestTrainCheckpoint(runDir)?.step, 20, 'checkpoints at 10 and 20 survived the crash');
    const resumed = await runTrainLoop(opts(runDir, 40), hooks());
    assert.equal(resumed.resumedFrom, 20);
    assert.deepEqual(Array.from(resumed.state.params.w as Float32Array), Array.from(full.state.params.w as Float32Array));
    assert.deepEqual(Array.from(resumed.state.m.w as Float32Array), Array.from(full.state.m.w as Float32Array));
    assert.equal(resumed.state.step, 40);

    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((r) => r.step), Array.from({ length: 40 }, (_, i) => i + 1), 'metrics end at the checkpoint, then continue without duplicates');
    const fullLines = readFileSync(join(dir, 'full', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((r) => r.loss), fullLines.map((r) => r.loss));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint past the requested steps is a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-loop-'));
  try {
    const { step, batches } = await setup();
    const hooks = {
      init: () => TrainState.init({ w: new Float32Array(3) }),
      initialCursor: 0,
      step: async ({ state, lr, cursor }: { state: TrainState; lr: number; cursor: number }) => {
        await step.run(state, batches[cursor], lr);
        return { metrics: {}, cursor: cursor + 1 };
      },
    };
    await runTrainLoop(opts(dir, 4), hooks);
    await assert.rejects(runTrainLoop(opts(dir, 2), hooks), /checkpoint at step 4, past the requested 2 steps[\s\S]*fix: raise --steps/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
