// Several updates per ONNX Runtime run (an ONNX Scan over the step graph): against its two slow
// twins — the same updates one run at a time (compileTrainStep), and the plain float64 optimizer
// (adamWReference on hand-derived gradients) — and compileScan itself against the float64
// interpreter iterating the body graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, crossEntropy } from '../../src/graph/index.js';
import { interpret } from '../../src/graph/interpret.js';
import { compileScan } from '../../src/runtime/index.js';
import { TrainState, adamWReference, compileTrainStep, compileTrainSteps } from '../../src/train/optim.js';
import { UserError } from '../../src/util/errors.js';
import { assertClose } from '../helpers/close.js';

/** loss = mean over rows of (x_i·p − y_i)² + Σ q²; extra output: the mean residual. */
function regression(dtype: 'float32' | 'float64') {
  const g = new Graph();
  const p = g.input('p', [3, 1], dtype);
  const q = g.input('q', [2], dtype);
  const x = g.input('x', [2, 3], dtype);
  const y = g.input('y', [2, 1], dtype);
  const e = x.matmul(p).sub(y); // [2, 1]
  const loss = e.square().mean().add(q.square().sum());
  return { p, q, x, y, loss, meanResidual: e.mean() };
}

// Three different batches of two rows (x [2, 3], y [2, 1]) and a learning-rate schedule.
const XS = [[1, 2, 0, -1, 0.5, 3], [2, -2, 1, 0, 1, 1], [0.5, 0, -1, 3, 1, -2]];
const YS = [[1, -1], [0.5, 2], [-1, 0.25]];
const LRS = [0.1, 0.05, 0.02];

/** d/dp mean_i (x_i·p − y_i)² = 2/n Σ e_i x_i; d/dq Σ q² = 2q. */
function refGrads(p: Float64Array, q: Float64Array, x: number[], y: number[]): [Float64Array, Float64Array] {
  const gp = new Float64Array(3);
  for (let r = 0; r < 2; r++) {
    const e = x[3 * r] * p[0] + x[3 * r + 1] * p[1] + x[3 * r + 2] * p[2] - y[r];
    for (let j = 0; j < 3; j++) gp[j] += (2 * e * x[3 * r + j]) / 2;
  }
  return [gp, q.map((v) => 2 * v)];
}

test('3 updates in one run = 3 single-step runs = the plain float64 optimizer (decay, clipping, an lr per step)', async () => {
  const opts = { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, noDecay: ['q'], maxGradNorm: 1 };
  const a = regression('float64');
  const many = await compileTrainSteps({ loss: a.loss, params: [a.p, a.q], batch: [a.x, a.y], extraOutputs: { residual: a.meanResidual } }, 3, opts, { threads: 1 });
  const b = regression('float64');
  const one = await compileTrainStep({ loss: b.loss, params: [b.p, b.q], batch: [b.x, b.y], extraOutputs: { residual: b.meanResidual } }, opts, { threads: 1 });
  const init = () => ({ p: Float64Array.of(0.5, -0.5, 1), q: Float64Array.of(1, -2) });
  const sMany = TrainState.init(init());
  const sOne = TrainState.init(init());
  const batches = XS.map((x, i) => ({ x: Float64Array.from(x), y: Float64Array.from(YS[i]) }));
  // Two runs of three: the second starts from the first's state (step count 3 → bias corrections of steps 4..6).
  for (let run = 0; run < 2; run++) {
    const rs = await many.run(sMany, batches, LRS);
    assert.equal(rs.length, 3);
    for (let i = 0; i < 3; i++) {
      const r1 = await one.run(sOne, batches[i], LRS[i]);
      assertClose(rs[i].loss, r1.loss, { rtol: 1e-12, what: `loss of update ${3 * run + i + 1}` });
      assertClose(rs[i].gradNorm, r1.gradNorm, { rtol: 1e-12, what: `grad norm of update ${3 * run + i + 1}` });
      assertClose(rs[i].extra.residual as Float64Array, r1.extra.residual as Float64Array, { rtol: 1e-12, what: 'extra output' });
    }
    for (const n of ['p', 'q']) {
      assertClose(sMany.params[n] as Float64Array, sOne.params[n] as Float64Array, { rtol: 1e-12, what: `${n} after run ${run + 1}` });
      assertClose(sMany.m[n] as Float64Array, sOne.m[n] as Float64Array, { rtol: 1e-12 });
      assertClose(sMany.v[n] as Float64Array, sOne.v[n] as Float64Array, { rtol: 1e-12 });
    }
  }
  assert.equal(sMany.step, 6);
  // The plain twin: six updates of float64 arrays with hand-derived gradients.
  const rp = [Float64Array.of(0.5, -0.5, 1), Float64Array.of(1, -2)];
  const rm = [new Float64Array(3), new Float64Array(2)];
  const rv = [new Float64Array(3), new Float64Array(2)];
  for (let s = 1; s <= 6; s++) {
    const i = (s - 1) % 3;
    adamWReference(rp, refGrads(rp[0], rp[1], XS[i], YS[i]), rm, rv, s, Math.fround(LRS[i]), opts, [true, false]);
  }
  assertClose(sMany.params.p as Float64Array, rp[0], { rtol: 1e-12, what: 'p against the plain optimizer' });
  assertClose(sMany.params.q as Float64Array, rp[1], { rtol: 1e-12, what: 'q against the plain optimizer' });
  assertClose(sMany.v.p as Float64Array, rv[0], { rtol: 1e-12, what: 'v(p) against the plain optimizer' });
});

test('float32: one run of 4 updates matches 4 single-step runs to rounding', async () => {
  const a = regression('float32');
  const many = await compileTrainSteps({ loss: a.loss, params: [a.p, a.q], batch: [a.x, a.y] }, 4, {}, { threads: 1 });
  const b = regression('float32');
  const one = await compileTrainStep({ loss: b.loss, params: [b.p, b.q], batch: [b.x, b.y] }, {}, { threads: 1 });
  const init = () => ({ p: Float32Array.of(0.5, -0.5, 1), q: Float32Array.of(1, -2) });
  const s1 = TrainState.init(init());
  const s2 = TrainState.init(init());
  const batches = [0, 1, 2, 0].map((i) => ({ x: Float32Array.from(XS[i]), y: Float32Array.from(YS[i]) }));
  const rs = await many.run(s2, batches, [1e-2, 1e-2, 1e-2, 1e-2]);
  for (let i = 0; i < 4; i++) assertClose(rs[i].loss, (await one.run(s1, batches[i], 1e-2)).loss, { rtol: 1e-6, what: `loss ${i}` });
  assertClose(s2.params.p as Float32Array, s1.params.p as Float32Array, { rtol: 1e-6, atol: 1e-7, what: 'p' });
  assert.notDeepEqual(Array.from(s2.params.p as Float32Array), [0.5, -0.5, 1], 'params moved');
});

test('a small GPT-like step (embedding gather, softmax attention, GELU, cross-entropy) inside the Scan = single steps', async () => {
  // V 32, D 8, T 4, B 2: exercises the ops a real step has inside the Scan body (scatter-add
  // embedding gradient, softmax, Gelu, the cross-entropy gradient, FusedMatMul rewrites).
  const build = () => {
    const g = new Graph();
    const wte = g.input('wte', [32, 8]);
    const w1 = g.input('w1', [8, 8]);
    const head = g.input('head', [8, 32]);
    const ids = g.input('ids', [8], 'int32');
    const targets = g.input('targets', [8], 'int32');
    const x = wte.gather(ids); // [B·T, D]
    const att = x.reshape([2, 4, 8]).matmul(x.reshape([2, 4, 8]).transpose([0, 2, 1])).softmax(-1); // [B, T, T]
    const h = att.matmul(x.reshape([2, 4, 8])).reshape([8, 8]).matmul(w1).gelu().add(x); // [B·T, D]
    return { loss: crossEntropy(h.matmul(head), targets), params: [wte, w1, head], batch: [ids, targets] };
  };
  const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
  const init = () => ({ wte: rand(256, 1), w1: rand(64, 2), head: rand(256, 3) });
  const batch = (k: number) => ({ ids: Int32Array.from({ length: 8 }, (_, i) => (i * 7 + k * 3) % 32), targets: Int32Array.from({ length: 8 }, (_, i) => (i * 5 + k) % 32) });
  const many = await compileTrainSteps(build(), 3, { weightDecay: 0.01 }, { threads: 1 });
  const one = await compileTrainStep(build(), { weightDecay: 0.01 }, { threads: 1 });
  const s1 = TrainState.init(init());
  const s3 = TrainState.init(init());
  const rs = await many.run(s3, [0, 1, 2].map(batch), [0.05, 0.05, 0.02]);
  for (let i = 0; i < 3; i++) assertClose(rs[i].loss, (await one.run(s1, batch(i), [0.05, 0.05, 0.02][i])).loss, { rtol: 1e-5, what: `loss ${i}` });
  for (const n of ['wte', 'w1', 'head']) assertClose(s3.params[n] as Float32Array, s1.params[n] as Float32Array, { rtol: 1e-5, atol: 1e-6, what: n });
  assert.ok(rs[2].loss < rs[0].loss, `loss falls over the three updates (${rs.map((r) => r.loss.toFixed(4)).join(' → ')})`);
});

test('compileScan: carried state and per-step inputs/outputs = the float64 interpreter iterating the body', async () => {
  // s ← 0.5·s + x_t·w (s [2], x_t [2], w [2] carried unchanged), out_t = Σ s after the update.
  const g = new Graph();
  const s = g.input('s', [2], 'float64');
  const w = g.input('w', [2], 'float64');
  const x = g.input('x', [2], 'float64');
  const next = s.mul(0.5).add(x.mul(w));
  const exe = await compileScan(g, { steps: 3, carried: [[s, next, 'next_s'], [w, w, 'next_w']], perStep: [x], perStepOutputs: { total: next.sum() }, threads: 1 });
  const xs = Float64Array.of(1, 2, 3, 4, 5, 6); // [3, 2]
  const out = await exe.run({ s: Float64Array.of(1, -1), w: Float64Array.of(2, 0.5), x: xs });
  let sv: Float64Array = Float64Array.of(1, -1);
  const totals: number[] = [];
  for (let t = 0; t < 3; t++) {
    const r = interpret(g, { next, total: next.sum() }, { s: sv, w: [2, 0.5], x: xs.subarray(2 * t, 2 * t + 2) });
    sv = r.next;
    totals.push(r.total[0]);
  }
  // By hand: s₁ = [0.5 + 2, −0.5 + 1] = [2.5, 0.5]; s₂ = [1.25 + 6, 0.25 + 2] = [7.25, 2.25]; s₃ = [3.625 + 10, 1.125 + 3]
  assertClose(out.next_s as Float64Array, [13.625, 4.125]);
  assertClose(out.next_s as Float64Array, sv);
  assertClose(out.total as Float64Array, totals);
  assertClose(out.total as Float64Array, [3, 9.5, 17.75]);
  assertClose(out.next_w as Float64Array, [2, 0.5]);
  assert.deepEqual(exe.inputs.find((i) => i.name === 'x')!.shape, [3, 2]);
});

test('multi-step errors say how many batches and which input differs', async () => {
  const a = regression('float64');
  const many = await compileTrainSteps({ loss: a.loss, params: [a.p, a.q], batch: [a.x, a.y] }, 2, {}, { threads: 1 });
  const state = TrainState.init({ p: new Float64Array(3), q: new Float64Array(2) });
  const b = { x: Float64Array.from(XS[0]), y: Float64Array.from(YS[0]) };
  const rejects = (fn: () => Promise<unknown>, re: RegExp) => assert.rejects(fn, (e: unknown) => e instanceof UserError && re.test(e.message));
  await rejects(() => many.run(state, [b], [0.1]), /2 of each/);
  await rejects(() => many.run(state, [b, { x: new Float64Array(3), y: b.y }], [0.1, 0.1]), /batch input "x" differs between steps/);
  await rejects(() => many.run(state, [b, b], [0.1, 0.1].slice(0, 1)), /1 learning rates/);
  const g = new Graph();
  const s = g.input('s', [1]);
  const x = g.input('x', [1]);
  await assert.rejects(() => compileScan(g, { steps: 0, carried: [[s, s.add(x), 'n']], perStep: [x], perStepOutputs: {} }), /positive integer/);
  await assert.rejects(() => compileScan(g, { steps: 2, carried: [[s, s.add(1), 'n']], perStep: [], perStepOutputs: {} }), /at least one per-step input/);
  assert.equal(state.step, 0, 'a rejected run changes nothing');
});
