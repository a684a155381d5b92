// Runtime: compile cache, feeds in and outputs out, feeding outputs back, ONNX model contents,
// and the errors a caller can make.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/graph/index.js';
import { compile, compiledSessionCount } from '../../src/runtime/index.js';
import { UserError } from '../../src/util/errors.js';

function build(scale: number): { g: Graph; x: ReturnType<Graph['input']>; y: ReturnType<Graph['input']> } {
  const g = new Graph();
  const x = g.input('x', [2, 2]);
  const y = x.mul(scale).add(1);
  return { g, x, y };
}

test('the same graph traced twice reuses one session; another thread count or graph opens a new one', async () => {
  const before = compiledSessionCount();
  const a = build(2);
  await compile(a.g, { inputs: [a.x], outputs: { y: a.y }, threads: 1 });
  const b = build(2);
  const exe = await compile(b.g, { inputs: [b.x], outputs: { y: b.y }, threads: 1 });
  assert.equal(compiledSessionCount(), before + 1);
  await compile(b.g, { inputs: [b.x], outputs: { y: b.y }, threads: 2 });
  const c = build(3);
  await compile(c.g, { inputs: [c.x], outputs: { y: c.y }, threads: 1 });
  assert.equal(compiledSessionCount(), before + 3);
  // 2·[1,2,3,4] + 1 = [3,5,7,9]
  assert.deepEqual(Array.from((await exe.run({ x: Float32Array.of(1, 2, 3, 4) })).y as Float32Array), [3, 5, 7, 9]);
});

test('inputs are not modified; outputs are new arrays that can be fed straight back', async () => {
  const { g, x, y } = build(2);
  const exe = await compile(g, { inputs: [x], outputs: { y }, threads: 1 });
  const x0 = Float32Array.of(1, 1, 1, 1);
  const r1 = (await exe.run({ x: x0 })).y as Float32Array;
  assert.deepEqual(Array.from(x0), [1, 1, 1, 1]);
  assert.notEqual(r1.buffer, x0.buffer);
  const r2 = (await exe.run({ x: r1 })).y as Float32Array; // 2·3 + 1 = 7
  assert.deepEqual(Array.from(r2), [7, 7, 7, 7]);
});

test('outputs may be inputs, initializers or the same tensor twice; int32 feeds widen to int64', async () => {
  const g = new Graph();
  const x = g.input('x', [3]);
  const w = g.initializer('w', Float32Array.of(1, 2, 3), [3]);
  const i = g.input('i', [2], 'int64');
  const picked = x.add(w).gather(i);
  const exe = await compile(g, { inputs: [x, i], outputs: { same: x, weight: w, p: picked, p2: picked }, threads: 1 });
  const r = await exe.run({ x: Float32Array.of(10, 20, 30), i: Int32Array.of(2, 0) });
  assert.deepEqual(Array.from(r.same as Float32Array), [10, 20, 30]);
  assert.deepEqual(Array.from(r.weight as Float32Array), [1, 2, 3]);
  assert.deepEqual(Array.from(r.p as Float32Array), [33, 11]); // x+w = [11, 22, 33], rows 2 and 0
  assert.deepEqual(Array.from(r.p2 as Float32Array), [33, 11]);
});

test('the model is ONNX opset 20 with the declared inputs, outputs and shapes; common subexpressions merged', async () => {
  const g = new Graph();
  const x = g.input('x', [4, 8]);
  const y = x.exp().add(x.exp()).sum(-1); // exp(x) traced twice, emitted once
  const exe = await compile(g, { inputs: [x], outputs: { y }, threads: 1 });
  const m = onnxProto.onnx.ModelProto.decode(exe.model);
  assert.equal(Number(m.opsetImport[0].version), 20);
  assert.deepEqual(m.graph!.input!.map((v) => v.name), ['x']);
  assert.deepEqual(m.graph!.output!.map((v) => v.name), ['y']);
  assert.deepEqual(m.graph!.output![0].type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue)), [4]);
  assert.equal(m.graph!.node!.filter((n) => n.opType === 'Exp').length, 1);
  // and ONNX Runtime loads the bytes on its own
  const s = await ort.InferenceSession.create(exe.model);
  assert.deepEqual(s.inputNames, ['x']);
});

function throwsUser(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    for (const pat of patterns) assert.match(e.message, pat);
    return true;
  });
}

test('feed errors name the feed, expected vs received, and the fix', async () => {
  const { g, x, y } = build(2);
  const exe = await compile(g, { inputs: [x], outputs: { y }, threads: 1 });
  await throwsUser(exe.run({}), /graph\.run\(feeds\.x\)/, /missing feed "x"/, /expected: float32\[2, 2\]/);
  await throwsUser(exe.run({ x: new Float32Array(3) }), /wrong length/, /expected: 4 elements/, /received: 3 elements/, /trace a new graph/);
  await throwsUser(exe.run({ x: new Float64Array(4) }), /wrong element type/, /expected: Float32Array \(float32\)/, /received: Float64Array/, /Float32Array\.from/);
  await throwsUser(exe.run({ x: new Float32Array(4), z: new Float32Array(1) }), /unknown feed "z"/, /expected: one of x/);
});

test('compile errors: unlisted inputs, non-input inputs, name clashes, bad threads, CUDA not installed', async () => {
  const g = new Graph();
  const x = g.input('x', [2]);
  const z = g.input('z', [2]);
  const y = x.add(z);
  await throwsUser(compile(g, { inputs: [x], outputs: { y } }), /depend on input "z", which is not listed/, /fix: add the tensor to the inputs list/);
  await throwsUser(compile(g, { inputs: [x, y], outputs: { y } }), /compile\(inputs\[1\]\)/, /must be graph inputs/);
  await throwsUser(compile(g, { inputs: [x, z], outputs: { x: y } }), /output has the name of an input/, /rename the output/);
  await throwsUser(compile(g, { inputs: [x, z], outputs: { y }, threads: 0 }), /invalid thread count/);
  await throwsUser(compile(g, { inputs: [x, z], outputs: {} }), /nothing to compute/);
  const hasCuda = ort.listSupportedBackends().some((b) => b.name === 'cuda');
  if (!hasCuda) await throwsUser(compile(g, { inputs: [x, z], outputs: { y }, device: 'cuda' }), /CUDA execution provider is not installed/, /onnxruntime-node-install=cuda12/);
});

test('session options (no spinning, no arena, a config entry) open a separate session and compute the same values', async () => {
  const { g, x, y } = build(5);
  const before = compiledSessionCount();
  const exe = await compile(g, { inputs: [x], outputs: { y }, threads: 1, spinning: false, memoryArena: false, sessionConfig: { 'session.set_denormal_as_zero': '1' } });
  assert.equal(compiledSessionCount(), before + 1);
  assert.deepEqual(Array.from((await exe.run({ x: Float32Array.of(0, 1, 2, 3) })).y as Float32Array), [1, 6, 11, 16]); // 5x + 1
});
