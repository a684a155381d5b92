// AdamW in the step graph: against its plain twin (adamWReference, PyTorch's formulation), a
// hand-worked first step, clipping, learning rate as an input, and accumulation = one big batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, type Tensor } from '../../src/graph/index.js';
import { compiledSessionCount } from '../../src/runtime/index.js';
import { TrainState, adamWReference, compileAccumulation, compileTrainStep } from '../../src/train/optim.js';
import { UserError } from '../../src/util/errors.js';
import { assertClose } from '../helpers/close.js';

/** loss = mean over rows of Σ_j (x_ij·p_j − y_i)² + Σ q² — gradients depend on the batch and on two params. */
function regression(n: number, dtype: 'float32' | 'float64' = 'float64') {
  const g = new Graph();
  const p = g.input('p', [3, 1], dtype);
  const q = g.input('q', [2], dtype);
  const x = g.input('x', [n, 3], dtype);
  const y = g.input('y', [n, 1], dtype);
  const loss = x.matmul(p).sub(y).square().mean().add(q.square().sum());
  return { g, p, q, x, y, loss };
}

const X = Float64Array.of(1, 2, 0, -1, 0.5, 3, 2, -2, 1, 0, 1, 1);
const Y = Float64Array.of(1, -1, 0.5, 2);

/** Plain gradients of the regression loss for the reference optimizer. */
function refGrads(p: Float64Array, q: Float64Array, rows: number[]): [Float64Array, Float64Array] {
  const gp = new Float64Array(3);
  for (const r of rows) {
    const e = X[3 * r] * p[0] + X[3 * r + 1] * p[1] + X[3 * r + 2] * p[2] - Y[r];
    for (let j = 0; j < 3; j++) gp[j] += (2 * e * X[3 * r + j]) / rows.length; // d/dp mean e² = 2e·x / n
  }
  return [gp, q.map((v) => 2 * v)];
}

test('AdamW step graph = plain twin over 4 steps (decay on p only, clipping active, float64)', async () => {
  const { p, q, x, y, loss } = regression(4);
  const opts = { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, noDecay: ['q'], maxGradNorm: 1 };
  const step = await compileTrainStep({ loss, params: [p, q], batch: [x, y] }, opts, { threads: 1 });
  const state = TrainState.init({ p: Float64Array.of(0.5, -0.5, 1), q: Float64Array.of(1, -2) });
  const rp = [Float64Array.of(0.5, -0.5, 1), Float64Array.of(1, -2)];
  const rm = [new Float64Array(3), new Float64Array(2)];
  const rv = [new Float64Array(3), new Float64Array(2)];
  for (let s = 1; s <= 4; s++) {
    const lr = 0.1 / s; // a schedule: lr is an input
    const r = await step.run(state, { x: X, y: Y }, lr);
    const norm = adamWReference(rp, refGrads(rp[0], rp[1], [0, 1, 2, 3]), rm, rv, s, Math.fround(lr), opts, [true, false]);
    assertClose(r.gradNorm, norm, { rtol: 1e-12, what: `grad norm step ${s}` });
    assertClose(state.params.p as Float64Array, rp[0], { rtol: 1e-12, what: `p after step ${s}` });
    assertClose(state.params.q as Float64Array, rp[1], { rtol: 1e-12, what: `q after step ${s}` });
    assertClose(state.m.p as Float64Array, rm[0], { rtol: 1e-12 });
    assertClose(state.v.q as Float64Array, rv[1], { rtol: 1e-12 });
  }
  assert.ok(rp[0].some((v, i) => v !== [0.5, -0.5, 1][i]), 'params moved');
  assert.equal(state.step, 4);
});

test('first Adam step by hand: m̂ = g, v̂ = g², so p₁ = p₀ − lr·g/(|g| + ε)', async () => {
  const g = new Graph();
  const w = g.input('w', [2]);
  const loss = w.mul(g.constant([0.5, -2], [2])).sum(); // dL/dw = [0.5, −2]
  const step = await compileTrainStep({ loss, params: [w], batch: [] }, {}, { threads: 1 });
  const state = TrainState.init({ w: Float32Array.of(1, 1) });
  const r = await step.run(state, {}, 0.01);
  // p₁ = 1 − 0.01·0.5/(0.5 + 1e-8) = 0.99; 1 − 0.01·(−2)/(2 + 1e-8) = 1.01
  assertClose(Array.from(state.params.w as Float32Array), [0.99, 1.01], { rtol: 1e-6 });
  // m₁ = 0.1·g = [0.05, −0.2]; v₁ = 0.001·g² = [0.00025, 0.004]; ‖g‖ = √(0.25 + 4) = 2.0615528
  assertClose(Array.from(state.m.w as Float32Array), [0.05, -0.2], { rtol: 1e-6 });
  assertClose(Array.from(state.v.w as Float32Array), [0.00025, 0.004], { rtol: 1e-6 });
  assertClose(r.gradNorm, Math.sqrt(4.25), { rtol: 1e-6 });
  assertClose(r.loss, 0.5 - 2); // 1·0.5 + 1·(−2)
});

test('the learning rate is an input: a schedule never recompiles, lr = 0 leaves params unchanged', async () => {
  const { p, q, x, y, loss } = regression(4, 'float32');
  const step = await compileTrainStep({ loss, params: [p, q], batch: [x, y] }, {}, { threads: 1 });
  const sessions = compiledSessionCount();
  const state = TrainState.init({ p: Float32Array.of(0.5, -0.5, 1), q: Float32Array.of(1, -2) });
  const feeds = { x: Float32Array.from(X), y: Float32Array.from(Y) };
  await step.run(state, feeds, 0);
  assert.deepEqual(Array.from(state.params.p as Float32Array), [0.5, -0.5, 1]);
  for (const lr of [1e-3, 1e-2, 3e-2]) await step.run(state, feeds, lr);
  assert.equal(compiledSessionCount(), sessions);
  assert.equal(state.step, 4);
});

test('accumulating two half-batches with scale ½ equals one step on the whole batch', async () => {
  const opts = { weightDecay: 0.05, maxGradNorm: 0.5 };
  const full = regression(4);
  const one = await compileTrainStep({ loss: full.loss, params: [full.p, full.q], batch: [full.x, full.y] }, opts, { threads: 1 });
  const half = regression(2);
  const acc = await compileAccumulation({ loss: half.loss, params: [half.p, half.q], batch: [half.x, half.y] }, opts, { threads: 1 });
  const init = () => ({ p: Float64Array.of(0.5, -0.5, 1), q: Float64Array.of(1, -2) });
  const s1 = TrainState.init(init());
  const s2 = TrainState.init(init());
  for (let s = 0; s < 3; s++) {
    const r1 = await one.run(s1, { x: X, y: Y }, 0.05);
    let sums = acc.zeros();
    let lossSum = 0;
    for (const rows of [[0, 1], [2, 3]]) {
      const r = await acc.accumulate(s2, sums, { x: X.slice(rows[0] * 3, rows[1] * 3 + 3), y: Y.slice(rows[0], rows[1] + 1) });
      sums = r.acc;
      lossSum += r.loss;
    }
    const { gradNorm } = await acc.apply(s2, sums, 0.05, 0.5);
    // mean of half-batch means = full-batch mean (equal halves); q² counted in both halves, ×½
    assertClose(lossSum / 2, r1.loss, { rtol: 1e-12 });
    assertClose(gradNorm, r1.gradNorm, { rtol: 1e-12 });
    assertClose(s2.params.p as Float64Array, s1.params.p as Float64Array, { rtol: 1e-12 });
    assertClose(s2.params.q as Float64Array, s1.params.q as Float64Array, { rtol: 1e-12 });
  }
});

function throwsUser(fn: () => unknown, ...patterns: RegExp[]): Promise<void> {
  return assert.rejects(async () => fn(), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('optimizer errors name the field and the fix', async () => {
  const { p, q, x, y, loss, g } = regression(4);
  const spec = { loss, params: [p, q] as Tensor[], batch: [x, y] as Tensor[] };
  await throwsUser(() => compileTrainStep({ ...spec, params: [p.mul(2)] }), /params\[0\]/, /must be graph inputs/, /graph\.input/);
  await throwsUser(() => compileTrainStep({ ...spec, params: [g.input('k', [2], 'int64')] }), /must be floating point/);
  await throwsUser(() => compileTrainStep({ ...spec, loss: x.sum(1) }), /loss must be a scalar/, /loss\.mean\(\)/);
  await throwsUser(() => compileTrainStep(spec, { beta1: 1 }), /adamW\.beta1/, /\[0, 1\)/);
  await throwsUser(() => compileTrainStep(spec, { maxGradNorm: -1 }), /adamW\.maxGradNorm/);
  const r2 = regression(4);
  const step = await compileTrainStep({ loss: r2.loss, params: [r2.p, r2.q], batch: [r2.x, r2.y] }, {}, { threads: 1 });
  await throwsUser(() => step.run(TrainState.init({ p: new Float64Array(3) }), { x: X, y: Y }, 0.1), /no state for parameter "q"/, /TrainState\.init/);
});

test('deterministic mode: two identical runs of an embedding model are bit-identical (resume tests rely on it)', async () => {
  const g = new Graph();
  const emb = g.input('emb', [50, 8]);
  const head = g.input('head', [8, 50]);
  const ids = g.input('ids', [64], 'int32');
  const tg = g.input('tg', [64], 'int32');
  const { crossEntropy } = await import('../../src/graph/index.js');
  const loss = crossEntropy(emb.gather(ids).gelu().matmul(head), tg);
  const step = await compileTrainStep({ loss, params: [emb, head], batch: [ids, tg] }, { maxGradNorm: 1 }, { threads: 2, deterministic: true });
  const run = async (): Promise<Float32Array> => {
    const s = TrainState.init({ emb: Float32Array.from({ length: 400 }, (_, i) => Math.sin(i) * 0.1), head: Float32Array.from({ length: 400 }, (_, i) => Math.cos(i) * 0.1) });
    for (let k = 0; k < 5; k++) await step.run(s, { ids: Int32Array.from({ length: 64 }, (_, i) => (i * 7 + k) % 50), tg: Int32Array.from({ length: 64 }, (_, i) => (i * 3) % 50) }, 0.01);
    return s.params.emb as Float32Array;
  };
  const a = await run();
  const b = await run();
  assert.ok(a.every((v, i) => Object.is(v, b[i])), 'bit-identical parameters');
});
