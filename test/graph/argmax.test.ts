// ArgMax: ONNX Runtime and the float64 interpreter give the first maximal index along an axis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, interpret } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';

test('argmax: first maximum along the axis (ties → lowest index), int64, axis removed; runtime = interpreter', async () => {
  const g = new Graph();
  const x = g.input('x', [2, 3, 4]);
  const last = x.argmax(-1); // [2, 3]
  const mid = x.argmax(1); // [2, 4]
  assert.deepEqual(last.shape, [2, 3]);
  assert.equal(last.dtype, 'int64');
  // by hand: row-major [2, 3, 4]
  const data = Float32Array.of(
    1, 5, 5, 0, /* */ -1, -2, -3, -4, /* */ 0, 0, 0, 7,
    9, 9, 9, 9, /* */ 2, 8, 1, 8, /* */ -5, 3, 3, 2,
  );
  const wantLast = [1, 0, 3, 0, 1, 1]; // ties 5,5 → 1; all-equal 9s → 0; 8,8 → 1; 3,3 → 1
  const wantMid = [0, 0, 0, 2, 0, 0, 0, 0]; // batch 0: columns (1,-1,0) (5,-2,0) (5,-3,0) (0,-4,7); batch 1: (9,2,-5) (9,8,3) (9,1,3) (9,8,2)
  const exe = await compile(g, { inputs: [x], outputs: { last, mid }, threads: 1 });
  const out = await exe.run({ x: data });
  await exe.release();
  assert.deepEqual(Array.from(out.last as BigInt64Array, Number), wantLast);
  assert.deepEqual(Array.from(out.mid as BigInt64Array, Number), wantMid);
  const f64 = interpret(g, { last, mid }, { x: data });
  assert.deepEqual(Array.from(f64.last), wantLast);
  assert.deepEqual(Array.from(f64.mid), wantMid);
});
