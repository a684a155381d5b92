// A tiny model learns a small task end to end (trace → grad → AdamW in the graph → ONNX Runtime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, crossEntropy } from '../../src/graph/index.js';
import { TrainState, compileTrainStep } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';

test('a 2-16-2 GELU MLP learns XOR of signs: loss 0.69 → below 0.05 in 200 AdamW steps (seeded)', async () => {
  const rng = new Rng(7);
  const N = 64;
  const xs = new Float32Array(N * 2);
  const ys = new BigInt64Array(N);
  for (let i = 0; i < N; i++) {
    const a = rng.float() * 2 - 1;
    const b = rng.float() * 2 - 1;
    xs[2 * i] = a;
    xs[2 * i + 1] = b;
    ys[i] = BigInt((a > 0) !== (b > 0) ? 1 : 0);
  }
  const g = new Graph();
  const x = g.input('x', [N, 2]);
  const y = g.input('y', [N], 'int64');
  const w1 = g.input('w1', [2, 16]);
  const b1 = g.input('b1', [16]);
  const w2 = g.input('w2', [16, 2]);
  const h = x.matmul(w1).add(b1).gelu(); // [N, 16]
  const loss = crossEntropy(h.matmul(w2), y); // []
  const step = await compileTrainStep({ loss, params: [w1, b1, w2], batch: [x, y] }, { weightDecay: 0.01, noDecay: ['b1'], maxGradNorm: 5 }, { threads: 1 });
  const init = (n: number, std: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal(0, std));
  const state = TrainState.init({ w1: init(32, 1), b1: new Float32Array(16), w2: init(32, 0.5) });
  const losses: number[] = [];
  for (let s = 0; s < 200; s++) losses.push((await step.run(state, { x: xs, y: ys }, 0.05)).loss);
  assert.ok(losses[0] > 0.5, `initial loss ${losses[0]} should be near ln 2 = 0.69`);
  assert.ok(losses[199] < 0.05, `final loss ${losses[199]} should be < 0.05`);
  assert.equal(state.step, 200);
});
