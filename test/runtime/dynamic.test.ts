// Inputs with a dynamic axis (compile's dynamicAxes): the graph is traced at one size and run at
// others. The test graph has the decode attention's pattern: a broadcast bias over the dynamic axis,
// a softmax along it, a slice of the first column and a slice through the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import { exportOnnx } from '../../src/graph/onnx.js';
import { compile } from '../../src/runtime/index.js';
import { isUserError } from '../../src/util/errors.js';

/** y = Σ_j softmax(x + b)_j · j over columns 1 …, z = softmax(x + b)_0, for x [2, n], b [1, n] */
function traced(n: number) {
  const g = new Graph();
  const x = g.input('x', [2, n]);
  const b = g.input('b', [1, n]);
  const idx = g.input('idx', [1, n]);
  const p = x.add(b).softmax(-1);
  const y = p.slice(-1, 1).mul(idx.slice(-1, 1)).sum(-1); // [2]
  const z = p.slice(-1, 0, 1).reshape([2]); // [2]
  const dynamicAxes = { x: { 1: 'n' }, b: { 1: 'n' }, idx: { 1: 'n' } };
  return { g, inputs: [x, b, idx], outputs: { y, z }, dynamicAxes };
}

/** the same in float64 by hand */
function expected(x: number[][], b: number[]): { y: number[]; z: number[] } {
  const y: number[] = [];
  const z: number[] = [];
  for (const row of x) {
    const s = row.map((v, j) => v + b[j]);
    const m = Math.max(...s);
    const e = s.map((v) => Math.exp(v - m));
    const t = e.reduce((a, c) => a + c, 0);
    y.push(e.reduce((a, c, j) => a + (j >= 1 ? (c / t) * j : 0), 0));
    z.push(e[0] / t);
  }
  return { y, z };
}

test('a graph traced at one size of a dynamic axis runs at others; its model does not depend on the traced size', async () => {
  const t4 = traced(4);
  const bytes = (t: ReturnType<typeof traced>) => Buffer.from(exportOnnx(t.g, { inputs: t.inputs, outputs: t.outputs, dynamicAxes: t.dynamicAxes }).bytes);
  assert.ok(bytes(t4).equals(bytes(traced(9))), 'the models traced at 4 and 9 columns are the same bytes');
  assert.ok(!bytes(t4).equals(Buffer.from(exportOnnx(t4.g, { inputs: t4.inputs, outputs: t4.outputs }).bytes)), 'without dynamicAxes the traced size is in the model');
  const exe = await compile(t4.g, { inputs: t4.inputs, outputs: t4.outputs, dynamicAxes: t4.dynamicAxes, threads: 1, name: 'dynamic' });
  for (const n of [4, 1 + 1, 7]) {
    const x = [Array.from({ length: n }, (_, j) => Math.sin(j + 1)), Array.from({ length: n }, (_, j) => 0.3 * j)];
    const b = Array.from({ length: n }, (_, j) => (j === n - 1 ? -1e9 : 0)); // the last column masked
    const out = await exe.run({ x: Float32Array.from(x.flat()), b: Float32Array.from(b), idx: Float32Array.from({ length: n }, (_, j) => j) }, { n });
    const want = expected(x, b);
    for (let r = 0; r < 2; r++) {
      assert.ok(Math.abs(Number(out.y[r]) - want.y[r]) < 1e-5, `n ${n} row ${r}: y ${out.y[r]} vs ${want.y[r]}`);
      assert.ok(Math.abs(Number(out.z[r]) - want.z[r]) < 1e-6, `n ${n} row ${r}: z ${out.z[r]} vs ${want.z[r]}`);
    }
  }
  // a missing size, and feeds of the wrong length for the size given
  const feeds = { x: new Float32Array(10), b: new Float32Array(5), idx: new Float32Array(5) };
  await assert.rejects(exe.run(feeds), (e: unknown) => isUserError(e) && /no size for the dynamic axis "n"/.test((e as Error).message));
  await assert.rejects(exe.run(feeds, { n: 6 }), (e: unknown) => isUserError(e) && /feed "x" has the wrong length[\s\S]*12 elements/.test((e as Error).message));
  await exe.release();
  await assert.rejects(compile(t4.g, { inputs: t4.inputs, outputs: t4.outputs, dynamicAxes: { x: { 2: 'n' } } }), (e: unknown) => isUserError(e) && /dynamic axis 2 of "x"/.test((e as Error).message));
});
