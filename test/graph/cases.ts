// The op table shared by the forward tests (ONNX Runtime vs the reference interpreter) and the
// VJP tests (analytic gradient vs central finite differences): every op, with broadcasting and
// size-1 dimensions, on seeded random inputs.
import { type DType, type Tensor, Graph, concat, gatherND, scatterElements, scatterND, softmaxCrossEntropy, crossEntropy, where, addN } from '../../src/graph/index.js';
import { Rng } from '../../src/util/rng.js';

export interface InputSpec {
  shape: number[];
  /** 'float' (uniform in [-2, 2]), 'positive' ((0.5, 2.5)), 'index' (ints in [lo, hi)), 'perm' (a permutation-like unique index set), 'bool' */
  kind: 'float' | 'positive' | 'index' | 'unique' | 'bool';
  lo?: number;
  hi?: number;
  dtype?: DType;
}

export interface OpCase {
  name: string;
  inputs: InputSpec[];
  build: (ins: Tensor[]) => Tensor;
  /** Inputs to differentiate (default: every float input); empty = no VJP test. */
  grad?: number[];
  /** false: the function is not what the gradient differentiates (stopGradient), so no finite differences */
  fd?: boolean;
  /** float32 ONNX Runtime tolerance override */
  rtol?: number;
}

const f = (...shape: number[]): InputSpec => ({ shape, kind: 'float' });
const pos = (...shape: number[]): InputSpec => ({ shape, kind: 'positive' });
const idx = (lo: number, hi: number, ...shape: number[]): InputSpec => ({ shape, kind: 'index', lo, hi, dtype: 'int64' });

export const CASES: OpCase[] = [
  { name: 'add (broadcast [3,1,4] + [2,1])', inputs: [f(3, 1, 4), f(2, 1)], build: ([a, b]) => a.add(b) },
  { name: 'add scalar number', inputs: [f(2, 3)], build: ([a]) => a.add(1.5) },
  { name: 'sub (broadcast [4] − [2,3,1])', inputs: [f(4), f(2, 3, 1)], build: ([a, b]) => a.sub(b) },
  { name: 'mul (broadcast [2,1,3] · [1,4,1])', inputs: [f(2, 1, 3), f(1, 4, 1)], build: ([a, b]) => a.mul(b) },
  { name: 'mul of a tensor by itself (x·x)', inputs: [f(3, 2)], build: ([a]) => a.mul(a) },
  { name: 'div (broadcast [2,3] / [3])', inputs: [f(2, 3), pos(3)], build: ([a, b]) => a.div(b) },
  { name: 'pow (positive base, tensor exponent, broadcast)', inputs: [pos(2, 3), f(1, 3)], build: ([a, b]) => a.pow(b) },
  { name: 'pow by a constant 3', inputs: [f(2, 3)], build: ([a]) => a.pow(3) },
  { name: 'maximum (broadcast)', inputs: [f(2, 3), f(3)], build: ([a, b]) => a.maximum(b) },
  { name: 'minimum (broadcast with size-1)', inputs: [f(2, 1), f(1, 3)], build: ([a, b]) => a.minimum(b) },
  { name: 'neg', inputs: [f(2, 3)], build: ([a]) => a.neg() },
  { name: 'exp', inputs: [f(2, 3)], build: ([a]) => a.exp() },
  { name: 'log', inputs: [pos(2, 3)], build: ([a]) => a.log() },
  { name: 'sqrt', inputs: [pos(2, 3)], build: ([a]) => a.sqrt() },
  { name: 'rsqrt', inputs: [pos(2, 3)], build: ([a]) => a.rsqrt() },
  { name: 'reciprocal', inputs: [pos(2, 3)], build: ([a]) => a.reciprocal() },
  { name: 'abs', inputs: [f(2, 3)], build: ([a]) => a.abs() },
  { name: 'sign', inputs: [f(2, 3)], build: ([a]) => a.sign(), grad: [] },
  { name: 'relu', inputs: [f(2, 3)], build: ([a]) => a.relu() },
  { name: 'tanh', inputs: [f(2, 3)], build: ([a]) => a.tanh() },
  { name: 'sigmoid', inputs: [f(2, 3)], build: ([a]) => a.sigmoid() },
  { name: 'logSigmoid', inputs: [f(2, 3)], build: ([a]) => a.logSigmoid() },
  { name: 'gelu (tanh)', inputs: [f(2, 5)], build: ([a]) => a.gelu() },
  { name: 'silu', inputs: [f(2, 3)], build: ([a]) => a.silu() },
  { name: 'comparisons → where', inputs: [f(3, 4), f(4)], build: ([a, b]) => where(a.lt(b).or(a.ge(b.add(1))).and(a.le(b).not().or(a.gt(b))), a.mul(b), b.sub(a)) },
  { name: 'eq → cast', inputs: [{ shape: [2, 3], kind: 'index', lo: 0, hi: 3, dtype: 'int64' }, { shape: [3], kind: 'index', lo: 0, hi: 3, dtype: 'int64' }], build: ([a, b]) => a.eq(b).cast('float32') },
  { name: 'where (bool input, broadcast branches)', inputs: [{ shape: [2, 1, 3], kind: 'bool' }, f(4, 1), f(3)], build: ([c, a, b]) => where(c, a, b) },
  { name: 'cast float → int32 → float', inputs: [f(2, 3)], build: ([a]) => a.mul(3).cast('int32').cast('float32'), grad: [] },
  { name: 'cast float32 ↔ float64 keeps the gradient', inputs: [f(2, 3)], build: ([a]) => a.cast('float64').exp().cast(a.dtype) },
  { name: 'matmul 2-D', inputs: [f(3, 4), f(4, 5)], build: ([a, b]) => a.matmul(b) },
  { name: 'matmul batched × 2-D weight', inputs: [f(2, 3, 4), f(4, 2)], build: ([a, b]) => a.matmul(b) },
  { name: 'matmul batch broadcast [2,1,3,4] @ [3,4,2]', inputs: [f(2, 1, 3, 4), f(3, 4, 2)], build: ([a, b]) => a.matmul(b) },
  { name: 'matmul 2-D × batched', inputs: [f(3, 4), f(2, 4, 2)], build: ([a, b]) => a.matmul(b) },
  { name: 'reshape with -1', inputs: [f(2, 3, 4)], build: ([a]) => a.reshape([4, -1]).mul(a.reshape([4, 6])) },
  { name: 'transpose (perm and default)', inputs: [f(2, 3, 4)], build: ([a]) => a.transpose([1, 2, 0]).add(a.transpose().transpose([1, 0, 2]).reshape([3, 4, 2])) },
  { name: 'concat along axis 1', inputs: [f(2, 1, 3), f(2, 2, 3)], build: ([a, b]) => concat([a, b, a], 1) },
  { name: 'slice (negative start)', inputs: [f(3, 5)], build: ([a]) => a.slice(1, -3, 4) },
  { name: 'split into equal pieces, reused', inputs: [f(2, 6)], build: ([a]) => { const [p, q, r] = a.split(1, 2); return p.mul(q).add(r); } },
  { name: 'split with sizes, one piece unused', inputs: [f(5, 2)], build: ([a]) => { const [p, , r] = a.split(0, [1, 2, 2]); return r.mul(p); } },
  { name: 'overlapping slices', inputs: [f(6)], build: ([a]) => a.slice(0, 0, 4).mul(a.slice(0, 2, 6)) },
  { name: 'expand [3,1] → [2,3,4]', inputs: [f(3, 1)], build: ([a]) => a.expand([2, 3, 4]) },
  { name: 'squeeze / unsqueeze', inputs: [f(2, 1, 3)], build: ([a]) => a.squeeze(1).unsqueeze([0, 3]).mul(a.squeeze().reshape([1, 2, 3, 1])) },
  { name: 'gather rows (embedding), 2-D indices with repeats', inputs: [f(5, 3), idx(0, 5, 2, 4)], build: ([w, i]) => w.gather(i, 0) },
  { name: 'gather along axis 1, negative indices', inputs: [f(2, 4, 3), idx(-4, 4, 5)], build: ([w, i]) => w.gather(i, 1) },
  { name: 'gather with int32 indices', inputs: [f(6, 2), { shape: [7], kind: 'index', lo: 0, hi: 6, dtype: 'int32' }], build: ([w, i]) => w.gather(i) },
  { name: 'takeAlongAxis (token log-probs)', inputs: [f(3, 5), idx(0, 5, 3, 1)], build: ([x, i]) => x.logSoftmax(-1).takeAlongAxis(i, 1) },
  { name: 'takeAlongAxis axis 0 with repeats', inputs: [f(3, 2), idx(0, 3, 4, 2)], build: ([x, i]) => x.takeAlongAxis(i, 0) },
  { name: 'scatterElements add (duplicates)', inputs: [f(3, 4), idx(0, 4, 3, 3), f(3, 3)], build: ([d, i, u]) => scatterElements(d, i, u, 1, 'add') },
  { name: 'scatterElements none (unique indices)', inputs: [f(3, 4), { shape: [3, 2], kind: 'unique', lo: 0, hi: 4, dtype: 'int64' }, f(3, 2)], build: ([d, i, u]) => scatterElements(d, i, u, 1, 'none') },
  { name: 'gatherND rows', inputs: [f(4, 3), idx(0, 4, 5, 1)], build: ([d, i]) => gatherND(d, i) },
  { name: 'scatterND add rows (duplicates)', inputs: [f(4, 3), idx(0, 4, 5, 1), f(5, 3)], build: ([d, i, u]) => scatterND(d, i, u, 'add') },
  { name: 'scatterND none (KV-cache write of 2 positions)', inputs: [f(5, 2), { shape: [2, 1], kind: 'unique', lo: 0, hi: 5, dtype: 'int64' }, f(2, 2)], build: ([d, i, u]) => scatterND(d, i, u, 'none') },
  { name: 'sum over axes, keepDims', inputs: [f(2, 3, 4)], build: ([a]) => a.sum([0, 2], true).mul(a) },
  { name: 'sum all', inputs: [f(2, 3)], build: ([a]) => a.sum() },
  { name: 'mean over last axis', inputs: [f(2, 3, 4)], build: ([a]) => a.mean(-1) },
  { name: 'max over axis 1', inputs: [f(3, 4)], build: ([a]) => a.max(1) },
  { name: 'max keepDims, all axes', inputs: [f(2, 3)], build: ([a]) => a.max(undefined, true).mul(a) },
  { name: 'softmax axis -1', inputs: [f(3, 4)], build: ([a]) => a.softmax(-1) },
  { name: 'softmax axis 0 (non-last)', inputs: [f(3, 2, 2)], build: ([a]) => a.softmax(0) },
  { name: 'logSoftmax axis 1 of 3-D', inputs: [f(2, 3, 2)], build: ([a]) => a.logSoftmax(1) },
  { name: 'softmaxCrossEntropy [2,3,5] with [2,3] targets', inputs: [f(2, 3, 5), idx(0, 5, 2, 3)], build: ([x, t]) => softmaxCrossEntropy(x, t) },
  { name: 'crossEntropy mean (its uniform gradient takes the fused path)', inputs: [f(4, 6), idx(0, 6, 4)], build: ([x, t]) => crossEntropy(x, t) },
  { name: 'addN of 3', inputs: [f(2, 3), f(2, 3), f(2, 3)], build: ([a, b, c]) => addN([a, b.mul(a), c]) },
  { name: 'stopGradient blocks one path', inputs: [f(2, 3)], build: ([a]) => a.mul(a.stopGradient().exp()), fd: false },
  { name: 'constants and fills', inputs: [f(2, 3)], build: ([a]) => a.add(a.graph.constant([1, -2, 3], [3], a.dtype)).mul(a.graph.full([2, 1], 0.5, a.dtype)) },
];

/** Random feeds for a case: float data as numbers, indices as numbers (converted per dtype by the caller). */
export function makeFeeds(c: OpCase, seed: number): number[][] {
  const rng = new Rng(seed);
  return c.inputs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const out: number[] = [];
    if (s.kind === 'unique') {
      // each row along the last axis gets distinct values from [lo, hi)
      const row = s.shape[s.shape.length - 1];
      for (let r = 0; r < n / row; r++) {
        const pool = Array.from({ length: s.hi! - s.lo! }, (_, i) => s.lo! + i);
        for (let i = pool.length - 1; i > 0; i--) {
          const j = rng.int(0, i + 1);
          [pool[i], pool[j]] = [pool[j], pool[i]];
        }
        out.push(...pool.slice(0, row));
      }
      return out;
    }
    for (let i = 0; i < n; i++) {
      if (s.kind === 'float') out.push(rng.float() * 4 - 2);
      else if (s.kind === 'positive') out.push(0.5 + rng.float() * 2);
      else if (s.kind === 'bool') out.push(rng.float() < 0.5 ? 1 : 0);
      else out.push(rng.int(s.lo!, s.hi!));
    }
    return out;
  });
}

/** Build a case in a fresh graph with float inputs of `dtype`. */
export function buildCase(c: OpCase, dtype: DType): { g: Graph; ins: Tensor[]; out: Tensor } {
  const g = new Graph();
  const ins = c.inputs.map((s, i) => g.input(`in${i}`, s.shape, s.kind === 'bool' ? 'bool' : s.dtype ?? dtype));
  return { g, ins, out: c.build(ins) };
}
CASES.push(
  { name: 'matmul with a transposed operand (q·kᵀ shortcut VJP)', inputs: [f(2, 3, 4), f(2, 5, 4)], build: ([q, k]) => q.matmul(k.transpose([0, 2, 1])) },
  { name: 'matmul with a transposed operand, only k differentiated', inputs: [f(2, 3, 4), f(2, 5, 4)], build: ([q, k]) => q.matmul(k.transpose([0, 2, 1])), grad: [1] },
  { name: 'mean of a sum of broadcast operands (broadcast-shaped gradients)', inputs: [f(2, 1, 3), f(4, 1), f(3)], build: ([a, b, c]) => a.add(b).mul(c).add(a.exp()).mean([0, 2], true).add(b.sum()).neg().exp() },
);
