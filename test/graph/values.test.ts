// Values worked out by hand (arithmetic in the comments), extremes and NaN — for the reference
// interpreter and for ONNX Runtime, so that neither can drift with the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, Graph, crossEntropy, interpret, scatterND, softmaxCrossEntropy } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { assertClose } from '../helpers/close.js';

/** Evaluate f(x) for a float32 input in both ORT and the interpreter. */
async function both(shape: number[], values: number[], f: (x: Tensor) => Tensor): Promise<{ ort: number[]; ref: number[] }> {
  const g = new Graph();
  const x = g.input('x', shape);
  const out = f(x);
  const exe = await compile(g, { inputs: [x], outputs: { out }, threads: 1 });
  const feeds = { x: Float32Array.from(values) };
  return { ort: Array.from((await exe.run(feeds)).out as Float32Array), ref: Array.from(interpret(g, { out }, feeds).out) };
}

test('softmax([1, 2, 3]) = e^i / (e + e² + e³) = [0.0900306, 0.2447285, 0.6652410]', async () => {
  const r = await both([3], [1, 2, 3], (x) => x.softmax());
  const want = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
  assertClose(r.ref, want, { rtol: 1e-12 });
  assertClose(r.ort, want, { rtol: 1e-6 });
});

test('softmax and logSoftmax of huge logits do not overflow (max-shifted): [1000, 1000] → [0.5, 0.5]', async () => {
  const s = await both([2], [1000, 1000], (x) => x.softmax());
  assertClose(s.ref, [0.5, 0.5]);
  assertClose(s.ort, [0.5, 0.5]);
  const l = await both([2], [1000, 1000], (x) => x.logSoftmax());
  assertClose(l.ort, [-Math.LN2, -Math.LN2], { rtol: 1e-6 }); // log ½
});

test('logSigmoid is stable at the extremes: (−1000, 0, 1000) → (−1000, −ln 2, 0)', async () => {
  const r = await both([3], [-1000, 0, 1000], (x) => x.logSigmoid());
  assertClose(r.ref, [-1000, -Math.LN2, 0], { rtol: 1e-12, atol: 1e-12 });
  assertClose(r.ort, [-1000, -Math.LN2, 0], { rtol: 1e-6, atol: 1e-7 });
  const g = new Graph();
  const x = g.input('x', [3], 'float64');
  const exe = await compile(g, { inputs: [x], outputs: { y: x.logSigmoid() }, threads: 1 });
  assertClose(Array.from((await exe.run({ x: Float64Array.of(-1000, 0, 1000) })).y as Float64Array), [-1000, -Math.LN2, 0], { rtol: 1e-15 });
});

test('sigmoid(±1000) = 1 and 0 without NaN', async () => {
  const r = await both([2], [1000, -1000], (x) => x.sigmoid());
  assertClose(r.ref, [1, 0]);
  assertClose(r.ort, [1, 0]);
});

test('gelu(tanh)(1) = ½·(1 + tanh(√(2/π)·1.044715)) = 0.8411920; gelu(−1) = −0.1588080', async () => {
  // √(2/π) = 0.7978846; ·1.044715 = 0.8335625; tanh = 0.6823840; ½·1.6823840 = 0.8411920
  const r = await both([2], [1, -1], (x) => x.gelu());
  assertClose(r.ref, [0.8411919906082768, -0.15880800939172324], { rtol: 1e-12 });
  assertClose(r.ort, [0.8411919906082768, -0.15880800939172324], { rtol: 1e-6 });
});

test('matmul [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]', async () => {
  const g = new Graph();
  const a = g.input('a', [2, 2]);
  const out = a.matmul(g.constant([5, 6, 7, 8], [2, 2]));
  const exe = await compile(g, { inputs: [a], outputs: { out }, threads: 1 });
  const feeds = { a: Float32Array.of(1, 2, 3, 4) };
  // 1·5+2·7 = 19, 1·6+2·8 = 22, 3·5+4·7 = 43, 3·6+4·8 = 50
  assert.deepEqual(Array.from((await exe.run(feeds)).out as Float32Array), [19, 22, 43, 50]);
  assert.deepEqual(Array.from(interpret(g, { out }, feeds).out), [19, 22, 43, 50]);
});

test('cross-entropy of logits [0, ln 3] with target 1 is ln 4 − ln 3 = 0.2876821', async () => {
  const g = new Graph();
  const x = g.input('x', [1, 2]);
  const t = g.input('t', [1], 'int64');
  const loss = crossEntropy(x, t);
  const exe = await compile(g, { inputs: [x, t], outputs: { loss }, threads: 1 });
  const feeds = { x: Float32Array.of(0, Math.log(3)), t: BigInt64Array.of(1n) };
  const want = Math.log(4) - Math.log(3); // logsumexp = ln(1 + 3)
  assertClose(interpret(g, { loss }, feeds).loss, [want], { rtol: 1e-7 });
  assertClose(Array.from((await exe.run(feeds)).loss as Float32Array), [want], { rtol: 1e-6 });
});

test('softmaxCrossEntropy with a huge logit stays finite: [1000, 0] target 1 → 1000', async () => {
  const g = new Graph();
  const x = g.input('x', [1, 2]);
  const t = g.input('t', [1], 'int64');
  const exe = await compile(g, { inputs: [x, t], outputs: { l: softmaxCrossEntropy(x, t) }, threads: 1 });
  assertClose(Array.from((await exe.run({ x: Float32Array.of(1000, 0), t: BigInt64Array.of(1n) })).l as Float32Array), [1000]);
});

test('scatterND add sums duplicate rows: zeros[3,2] ← rows (1: [1,2]), (1: [3,4]), (0: [5,6]) = [[5,6],[4,6],[0,0]]', async () => {
  const g = new Graph();
  const u = g.input('u', [3, 2]);
  const i = g.input('i', [3, 1], 'int64');
  const out = scatterND(g.zeros([3, 2]), i, u, 'add');
  const exe = await compile(g, { inputs: [u, i], outputs: { out }, threads: 1 });
  const feeds = { u: Float32Array.of(1, 2, 3, 4, 5, 6), i: BigInt64Array.of(1n, 1n, 0n) };
  assert.deepEqual(Array.from((await exe.run(feeds)).out as Float32Array), [5, 6, 4, 6, 0, 0]);
  assert.deepEqual(Array.from(interpret(g, { out }, feeds).out), [5, 6, 4, 6, 0, 0]);
});

test('NaN propagates through arithmetic, softmax and reductions (never silently 0)', async () => {
  for (const f of [(x: Tensor) => x.add(1), (x: Tensor) => x.exp(), (x: Tensor) => x.softmax(), (x: Tensor) => x.sum(), (x: Tensor) => x.mean()]) {
    const r = await both([3], [1, NaN, 2], f);
    assert.ok(r.ref.some(Number.isNaN), 'reference keeps NaN');
    assert.ok(r.ort.some(Number.isNaN), 'ONNX Runtime keeps NaN');
  }
});

test('known difference: ONNX Runtime\'s CPU ReduceMax skips NaN (max(1, NaN, 2) = 2); the reference propagates it like torch.amax', async () => {
  const r = await both([3], [1, NaN, 2], (x) => x.max());
  assert.ok(Number.isNaN(r.ref[0]));
  assert.deepEqual(r.ort, [2]);
});

test('max over [−∞, −3] is −3; exp(−∞) = 0; log(0) = −∞', async () => {
  assertClose((await both([2], [-Infinity, -3], (x) => x.max())).ort, [-3]);
  const r = await both([2], [-Infinity, 0], (x) => x.exp());
  assertClose(r.ort, [0, 1]);
  assertClose(r.ref, [0, 1]);
  assertClose((await both([1], [0], (x) => x.log())).ort, [-Infinity]);
});

test('causal mask and where: masked scores get −1e9 (masked_fill), softmax ignores them', async () => {
  const g = new Graph();
  const s = g.input('s', [3, 3]);
  const { causalMask, where } = await import('../../src/graph/index.js');
  const p = where(causalMask(g, 3), s, -1e9).softmax(-1);
  const exe = await compile(g, { inputs: [s], outputs: { p }, threads: 1 });
  const got = Array.from((await exe.run({ s: new Float32Array(9) })).p as Float32Array);
  // uniform scores: row i spreads 1/(i+1) over keys 0..i
  assertClose(got, [1, 0, 0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3], { rtol: 1e-6 });
});

test("a scalar times a [n, 1] column (emitted as [1, 1] for ONNX Runtime's fast path) keeps its values", async () => {
  const r = await both([4, 1], [1, 2, 3, 4], (x) => x.mul(x.sum()).add(1)); // Σx = 10: [11, 21, 31, 41]
  assert.deepEqual(r.ort, [11, 21, 31, 41]);
  assert.deepEqual(r.ref, [11, 21, 31, 41]);
});
