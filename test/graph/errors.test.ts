// Every user error of the graph layer names the op, the argument, expected vs received, and a fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, concat, interpret, scatterND, softmaxCrossEntropy, where } from '../../src/graph/index.js';
import { UserError } from '../../src/util/errors.js';

function throwsUser(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const g = new Graph();
const a = g.input('a', [2, 3]);
const b = g.input('b', [4, 5]);
const i64 = g.input('idx', [2], 'int64');

test('broadcast mismatch names the op, both arguments and both shapes', () => {
  throwsUser(() => a.add(b), /^Add\(a, b\): Add: shapes do not broadcast/, /expected: b broadcastable to \[2, 3\]/, /received: \[4, 5\]/, /fix: /);
});

test('matmul inner dimension mismatch', () => {
  throwsUser(() => a.matmul(b), /MatMul\(b\)/, /inner dimensions differ/, /expected: b of shape \[\.\.\., 3, N\]/, /received: \[4, 5\]/, /fix: transpose/);
  throwsUser(() => a.reshape([6]).matmul(b), /MatMul\(a\)/, /rank ≥ 2/, /unsqueeze/);
});

test('dtype mismatch suggests a cast', () => {
  throwsUser(() => a.add(g.input('a64', [2, 3], 'float64')), /dtypes differ/, /expected: b of dtype float32/, /received: float64/, /fix: cast one of them, e.g\. b\.cast\('float32'\)/);
  throwsUser(() => i64.exp(), /Exp\(x\)/, /needs a floating-point tensor/, /received: int64/, /x\.cast\('float32'\)/);
});

test('reshape to a different element count', () => {
  throwsUser(() => a.reshape([4, 2]), /Reshape\(shape\)/, /element count changes/, /expected: a shape with 6 elements/, /received: \[4, 2\] with 8 elements/);
  throwsUser(() => a.reshape([-1, 4]), /cannot infer -1 for 6 elements/);
});

test('concat, slice, split, expand, squeeze and axis errors', () => {
  throwsUser(() => concat([a, b], 0), /Concat\(xs\[1\]\)/, /expected: \[\*, 3\]/, /received: \[4, 5\]/);
  throwsUser(() => a.slice(1, 2, 2), /Slice\(start, end\)/, /0 ≤ start < end ≤ 3/, /received: start 2, end 2/);
  throwsUser(() => a.split(1, 2), /Split\(sizes\)/, /does not divide axis 1/);
  throwsUser(() => a.expand([3, 3]), /Expand\(shape\)/, /received: \[3, 3\]/);
  throwsUser(() => a.squeeze(0), /Squeeze\(axes\)/, /axis 0 has size 2/);
  throwsUser(() => a.sum(2), /ReduceSum\(axes\)/, /axis out of range/, /expected: an integer in \[-2, 1\]/, /received: 2/);
  throwsUser(() => a.transpose([0, 0]), /Transpose\(perm\)/, /not a permutation/);
});

test('index ops: integer indices, matching shapes', () => {
  throwsUser(() => a.gather(a), /Gather\(indices\)/, /must be integers/, /received: float32/, /cast them/);
  throwsUser(() => a.takeAlongAxis(g.input('t3', [3, 1], 'int64'), 1), /GatherElements\(indices\)/, /expected: \[2, \*\]/, /received: \[3, 1\]/, /unsqueeze the indices/);
  throwsUser(() => softmaxCrossEntropy(a, g.input('t4', [3], 'int64')), /SoftmaxCrossEntropy\(targets\)/, /expected: \[2\]/, /received: \[3\]/);
  throwsUser(() => scatterND(a, g.input('s1', [4, 1], 'int64'), g.input('u1', [4, 2])), /ScatterND\(updates\)/, /expected: \[4, 3\]/, /received: \[4, 2\]/);
});

test('where needs a bool condition; bool arithmetic and reductions are refused', () => {
  throwsUser(() => where(a, a, 0), /Where\(cond\)/, /condition is not bool/, /x\.gt\(0\)/);
  throwsUser(() => a.gt(0).add(a.gt(1)), /Add\(a\)/, /arithmetic on a bool tensor/);
  throwsUser(() => a.gt(0).sum(), /ReduceSum\(x\)/, /reduction of a bool tensor/, /mask\.cast\('float32'\)/);
});

test('graph construction errors: names, shapes, cross-graph use', () => {
  const h = new Graph();
  h.input('x', [1]);
  throwsUser(() => h.input('x', [2]), /Graph\.input\("x"\)/, /duplicate input name/);
  throwsUser(() => h.input('1bad', [2]), /invalid input name/, /starting with a letter/);
  throwsUser(() => h.input('y', [2.5]), /invalid shape/, /non-negative integers/);
  throwsUser(() => h.constant([1, 2, 3], [2, 2]), /constant data does not fill its shape/, /expected: 4 values/, /received: 3 values/);
  throwsUser(() => h.initializer('w', new Float32Array(3), [2]), /Graph\.initializer\("w"\)/, /expected: 2 values/);
  throwsUser(() => a.add(h.input('z', [2, 3])), /Add: input 1 belongs to another graph/, /fix: trace the whole computation in one Graph/);
});

test('interpreter: missing feeds and out-of-range indices are named', () => {
  const h = new Graph();
  const w = h.input('w', [3, 2]);
  const ids = h.input('ids', [2], 'int64');
  const out = w.gather(ids);
  throwsUser(() => interpret(h, { out }, { w: new Float32Array(6) }), /interpret\(feeds\.ids\)/, /missing feed "ids"/);
  throwsUser(() => interpret(h, { out }, { w: new Float32Array(6), ids: [0, 3] }), /Gather\(indices\)/, /index out of range/, /expected: an integer in \[-3, 2\]/, /received: 3/);
});
