// Every VJP rule: the analytic gradient (grad → reference interpreter, float64) against central
// finite differences of the same function, on the op table of cases.ts. The loss is
// Σ out·W with a random W so that the incoming gradient is not uniform. Then the same gradient
// graph in float32 runs through ONNX Runtime and must agree with the interpreter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, Graph, grad, interpret, isFloat, typedFromNumbers } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { Rng } from '../../src/util/rng.js';
import { assertClose } from '../helpers/close.js';
import { CASES, buildCase, makeFeeds, type OpCase } from './cases.js';
import { toNumbers, typedFeeds } from './feeds.js';

function weighted(out: Tensor, seed: number): Tensor {
  const rng = new Rng(seed);
  const w = Array.from({ length: out.size }, () => rng.float() * 2 - 1);
  return out.mul(out.graph.constant(typedFromNumbers(out.dtype, w), [...out.shape], out.dtype)).sum();
}

function gradInputs(c: OpCase, ins: Tensor[]): number[] {
  return c.grad ?? ins.flatMap((t, i) => (isFloat(t.dtype) ? [i] : []));
}

for (const [k, c] of CASES.entries()) {
  const probe = buildCase(c, 'float64');
  const which = gradInputs(c, probe.ins);
  if (which.length === 0 || !isFloat(probe.out.dtype)) continue;
  if (c.fd !== false) test(`VJP = central differences (float64): ${c.name}`, () => {
    const { g, ins, out } = buildCase(c, 'float64');
    const loss = weighted(out, 7 + k);
    const xs = which.map((i) => ins[i]);
    const grads = grad(loss, xs);
    const values = makeFeeds(c, 200 + k);
    const feeds = typedFeeds(ins, values);
    const outputs: Record<string, Tensor> = {};
    grads.forEach((gr, j) => (outputs[`g${j}`] = gr));
    const analytic = interpret(g, outputs, feeds);
    const h = 1e-6;
    for (const [j, i] of which.entries()) {
      const fd: number[] = [];
      for (let e = 0; e < values[i].length; e++) {
        const at = (delta: number): number => {
          const v = values.map((a) => [...a]);
          v[i][e] += delta;
          return interpret(g, { loss }, typedFeeds(ins, v)).loss[0];
        };
        fd.push((at(h) - at(-h)) / (2 * h)); // central difference, error O(h²)
      }
      assert.deepEqual([...grads[j].shape], [...ins[i].shape], 'gradient has the input shape');
      assertClose(analytic[`g${j}`], fd, { rtol: 1e-5, atol: 1e-6, what: `${c.name}: d/d input ${i}` });
    }
  });

  test(`gradient graph, ONNX Runtime float32 = reference: ${c.name}`, async () => {
    const { g, ins, out } = buildCase(c, 'float32');
    const loss = weighted(out, 7 + k);
    const grads = grad(loss, which.map((i) => ins[i]));
    const outputs: Record<string, Tensor> = {};
    grads.forEach((gr, j) => (outputs[`g${j}`] = gr));
    const feeds = typedFeeds(ins, makeFeeds(c, 200 + k));
    const exe = await compile(g, { inputs: ins, outputs, threads: 1 });
    const got = await exe.run(feeds);
    const want = interpret(g, outputs, feeds);
    for (const key of Object.keys(outputs)) assertClose(toNumbers(got[key]), want[key], { rtol: 1e-4, atol: 1e-5, what: `${c.name} ${key}` });
  });
}

test('gradients of a reused node are summed: d/dx (x·x + 3x) = 2x + 3', () => {
  const g = new Graph();
  const x = g.input('x', [3], 'float64');
  const [dx] = grad(x.mul(x).add(x.mul(3)).sum(), [x]);
  // x = [1, -2, 0.5] → 2x + 3 = [5, -1, 4]
  assertClose(interpret(g, { dx }, { x: [1, -2, 0.5] }).dx, [5, -1, 4]);
});

test('broadcast gradients are reduced to the input shape: d/db Σ (a + b), a [2,3], b [3] = [2, 2, 2]', () => {
  const g = new Graph();
  const a = g.input('a', [2, 3], 'float64');
  const b = g.input('b', [3], 'float64');
  const [db] = grad(a.add(b).sum(), [b]);
  assert.deepEqual([...db.shape], [3]);
  assertClose(interpret(g, { db }, { a: [1, 2, 3, 4, 5, 6], b: [0, 0, 0] }).db, [2, 2, 2]); // each b_j appears in 2 rows
});

test('stopGradient: d/dx Σ x·stop(exp x) = exp x (the stopped path contributes nothing)', () => {
  const g = new Graph();
  const x = g.input('x', [2], 'float64');
  const [dx] = grad(x.mul(x.stopGradient().exp()).sum(), [x]);
  // x = [0, 1] → exp x = [1, e]; the full derivative (1 + x)·exp x = [1, 2e] would be wrong
  assertClose(interpret(g, { dx }, { x: [0, 1] }).dx, [1, Math.E]);
});

test('an x the loss does not depend on gets zeros; stopGradient cuts the path', () => {
  const g = new Graph();
  const x = g.input('x', [2], 'float64');
  const z = g.input('z', [2], 'float64');
  const [dx, dz] = grad(x.stopGradient().mul(2).sum(), [x, z]);
  const r = interpret(g, { dx, dz }, { x: [1, 2], z: [3, 4] });
  assertClose(r.dx, [0, 0]);
  assertClose(r.dz, [0, 0]);
});

test('deterministic embedding gradient (one-hot matmul) equals the ScatterND one', async () => {
  const g = new Graph();
  const w = g.input('w', [6, 3]);
  const i = g.input('i', [2, 4], 'int32');
  const loss = w.gather(i).mul(g.constant(Float32Array.from({ length: 24 }, (_, k) => k - 10), [2, 4, 3])).sum();
  const [fast] = grad(loss, [w]);
  const [det] = grad(loss, [w], { deterministic: true });
  const exe = await compile(g, { inputs: [w, i], outputs: { fast, det }, threads: 1 });
  const feeds = { w: new Float32Array(18).fill(0.5), i: Int32Array.from([0, 5, 2, 2, 1, 0, 5, 5]) };
  const r = await exe.run(feeds);
  const want = interpret(g, { det }, feeds).det;
  assertClose(toNumbers(r.fast), want);
  assertClose(toNumbers(r.det), want);
  // row 5 is picked at flat positions 1, 6, 7 → d/dw[5][0] = (1·3−10) + (6·3−10) + (7·3−10) = −7 + 8 + 11 = 12
  assertClose(want[15], 12);
});

test('grad errors name the argument and the fix', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const i = g.input('i', [2], 'int64');
  assert.throws(() => grad(x.mul(2), [x]), (e: Error) => /y must be a scalar/.test(e.message) && /received: \[2, 3\]/.test(e.message) && /loss\.mean\(\)/.test(e.message));
  assert.throws(() => grad(x.sum(), [i]), (e: Error) => /not differentiable/.test(e.message) && /grad\(xs\[0\]\)/.test(e.message) && /leave index/.test(e.message));
  assert.throws(() => grad(x.gt(0).cast('int32').sum(), [x]), (e: Error) => /y is not floating point/.test(e.message));
  assert.throws(() => grad(x.sum(), [x], { seed: g.ones([2]) }), (e: Error) => /seed must match y/.test(e.message) && /expected: float32\[\]/.test(e.message));
  const other = new Graph().input('x', [1]);
  assert.throws(() => grad(x.sum(), [other]), (e: Error) => /another graph/.test(e.message));
});
