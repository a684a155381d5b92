// Frozen weights in a training graph (LoRA's base): the forward reads x·Wᵀ and the backward g·W.
// As plain initializers ONNX Runtime constant-folds the transposes into extra initializers (one
// copy per orientation); as overridable initializers (compile's overridableInitializers) the
// session keeps W once. Counted in the model ONNX Runtime optimised, with the same outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import onnxProto from 'onnx-proto';
import { Graph, grad } from '../../src/graph/index.js';
import { compile, compiledSessionCount } from '../../src/runtime/index.js';
import { Rng } from '../../src/util/rng.js';

const { onnx } = onnxProto;
const N = 64; // W [N, N]: 16 KiB of float32

/** Float elements held by the optimised model's initializers of at least N·N/2 elements. */
function bigInitializerElements(path: string): number {
  const m = onnx.ModelProto.decode(readFileSync(path));
  return m.graph!.initializer!.map((i) => i.dims!.reduce((a: number, d) => a * Number(d), 1)).filter((n) => n >= (N * N) / 2).reduce((a, b) => a + b, 0);
}

test('a frozen weight read as x·Wᵀ and g·W is held once with overridableInitializers (twice as a plain initializer), same results', async () => {
  const rng = new Rng(1);
  const w = Float32Array.from({ length: N * N }, () => rng.normal(0, 0.1));
  const xv = Float32Array.from({ length: 3 * 5 * N }, () => rng.normal());
  const dir = mkdtempSync(join(tmpdir(), 'steer-frozen-'));
  try {
    const results: Float32Array[] = [];
    const held: number[] = [];
    for (const overridable of [false, true]) {
      const g = new Graph();
      const x = g.input('x', [3, 5, N]);
      const W = g.initializer('W', w, [N, N]);
      const y = x.matmul(W.transpose([1, 0])).tanh(); // [3, 5, N]
      const loss = y.mul(y).sum();
      const [dx] = grad(loss, [x]); // dx = (2y ⊙ (1 − y²)) · W: reads W untransposed
      const path = join(dir, `opt-${overridable}.onnx`);
      const exe = await compile(g, { inputs: [x], outputs: { loss, dx }, threads: 1, overridableInitializers: overridable, optimizedModelPath: path, name: `frozen_${overridable}` });
      results.push((await exe.run({ x: xv })).dx as Float32Array);
      await exe.release();
      held.push(bigInitializerElements(path));
    }
    assert.ok(held[0] >= 2 * N * N, `plain initializer: W and a folded transpose (${held[0]} elements)`);
    assert.equal(held[1], N * N, 'overridable: W once');
    assert.deepEqual(results[1], results[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('initializers as ONNX external data (a weights file beside the model, for models past 2 GB) compute the same values', async () => {
  const rng = new Rng(2);
  const w = Float32Array.from({ length: N * N }, () => rng.normal(0, 0.1));
  const xv = Float32Array.from({ length: 2 * N }, () => rng.normal());
  const out: Float32Array[] = [];
  for (const externalData of [false, true]) {
    const g = new Graph();
    const x = g.input('x', [2, N]);
    const W = g.initializer('W', w, [N, N]);
    const loss = x.matmul(W.transpose([1, 0])).tanh().sum();
    const [dx] = grad(loss, [x]);
    const exe = await compile(g, { inputs: [x], outputs: { dx }, threads: 1, overridableInitializers: true, externalData, name: `external_${externalData}` });
    out.push((await exe.run({ x: xv })).dx as Float32Array);
    await exe.release();
  }
  assert.deepEqual(out[1], out[0]);
  assert.ok(out[0].some((v) => v !== 0));
});

test('feedInitializers: the session holds no copy of a frozen weight (fed from its host array every run), same results; one session serves two weight sets', async () => {
  const rng = new Rng(3);
  const w1 = Float32Array.from({ length: N * N }, () => rng.normal(0, 0.1));
  const w2 = Float32Array.from({ length: N * N }, () => rng.normal(0, 0.1));
  const xv = Float32Array.from({ length: 3 * 5 * N }, () => rng.normal());
  const dir = mkdtempSync(join(tmpdir(), 'steer-fed-'));
  const before = compiledSessionCount();
  try {
    const build = (w: Float32Array) => {
      const g = new Graph();
      const x = g.input('x', [3, 5, N]);
      const W = g.initializer('W', w, [N, N]);
      const y = x.matmul(W.transpose([1, 0])).tanh(); // [3, 5, N]
      const [dx] = grad(y.mul(y).sum(), [x]); // reads W untransposed
      return { g, x, dx };
    };
    const run = async (w: Float32Array, feedInitializers: boolean, path?: string) => {
      const { g, x, dx } = build(w);
      const exe = await compile(g, { inputs: [x], outputs: { dx }, threads: 1, feedInitializers, overridableInitializers: !feedInitializers, optimizedModelPath: path, name: `fed_${feedInitializers}` });
      return { exe, dx: (await exe.run({ x: xv })).dx as Float32Array };
    };
    const held = await run(w1, false);
    const path = join(dir, 'fed.onnx');
    const fed1 = await run(w1, true, path);
    assert.equal(bigInitializerElements(path), 0, 'fed: no weight inside the session');
    assert.deepEqual(fed1.dx, held.dx);
    // another weight set: the same graph, so the same session (compiled once), fed its own array
    const sessions = compiledSessionCount();
    const fed2 = await run(w2, true, path);
    assert.equal(compiledSessionCount(), sessions, 'the session is shared');
    const held2 = await run(w2, false);
    assert.deepEqual(fed2.dx, held2.dx);
    assert.notDeepEqual(fed2.dx, fed1.dx);
    // and the first executable still reads its own weights
    assert.deepEqual((await fed1.exe.run({ x: xv })).dx, held.dx);
    // the fed weight is not a user input
    await assert.rejects(fed1.exe.run({ x: xv, W: w2 }), /unknown feed "W"/);
    for (const r of [held, fed1, fed2, held2]) await r.exe.release();
    assert.equal(compiledSessionCount(), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
