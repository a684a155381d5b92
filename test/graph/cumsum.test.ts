// CumSum: ONNX Runtime and the float64 interpreter give the running sum along an axis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, interpret } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';

test('cumsum: running sum along the axis, shape kept; runtime = interpreter = by hand', async () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const rows = x.cumsum(-1);
  const cols = x.cumsum(0);
  assert.deepEqual(rows.shape, [2, 3]);
  const data = Float32Array.of(1, 2, 3, /* */ 0.5, -4, 10);
  const wantRows = [1, 3, 6, 0.5, -3.5, 6.5]; // 1, 1+2, 1+2+3 | 0.5, 0.5−4, 0.5−4+10
  const wantCols = [1, 2, 3, 1.5, -2, 13]; // first row as is, then row 0 + row 1
  const exe = await compile(g, { inputs: [x], outputs: { rows, cols }, threads: 1 });
  const out = await exe.run({ x: data });
  await exe.release();
  assert.deepEqual(Array.from(out.rows as Float32Array), wantRows);
  assert.deepEqual(Array.from(out.cols as Float32Array), wantCols);
  const f64 = interpret(g, { rows, cols }, { x: data });
  assert.deepEqual(Array.from(f64.rows), wantRows);
  assert.deepEqual(Array.from(f64.cols), wantCols);
});
