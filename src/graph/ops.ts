// The op set: every function checks its arguments, infers the output shape and dtype, and adds
// one node to the graph. Semantics follow ONNX (opset 20) and NumPy broadcasting; the plain
// reference twin of each op is in interpret.ts, its VJP in grad.ts, its ONNX form in onnx.ts.
import { describeValue } from '../util/errors.js';
import { type DType, isFloat, isInteger } from './dtype.js';
import { type Shape, broadcastShapes, fmtShape, normAxis, sameShape, shapeError, sizeOf } from './shape.js';
import type { Graph, Tensor } from './tensor.js';

type Operand = Tensor | number;

function fail(op: string, arg: string, what: string, expected: string, received: string, fix?: string): never {
  throw shapeError(op, arg, what, expected, received, fix);
}

function toTensor(ref: Tensor, x: Operand, op: string, arg: string): Tensor {
  if (typeof x === 'number') return ref.graph.full([], x, ref.dtype);
  if (x === null || typeof x !== 'object' || !('graph' in x)) {
    fail(op, arg, 'not a tensor or number', 'a Tensor or a number', describeValue(x));
  }
  return x;
}

function isFillOf(t: Tensor, v: number): boolean {
  return t.op === 'Fill' && t.attrs.value === v;
}

function requireFloat(op: string, x: Tensor, arg = 'x'): void {
  if (!isFloat(x.dtype)) {
    fail(op, arg, 'needs a floating-point tensor', 'float32 or float64', x.dtype, `cast first: ${arg}.cast('float32')`);
  }
}

function requireSameDType(op: string, a: Tensor, b: Tensor, argA: string, argB: string): void {
  if (a.dtype !== b.dtype) {
    fail(op, `${argA}, ${argB}`, 'dtypes differ (no implicit promotion)', `${argB} of dtype ${a.dtype}`, b.dtype,
      `cast one of them, e.g. ${argB}.cast('${a.dtype}')`);
  }
}

function binary(op: string, a: Tensor, bIn: Operand, kind: 'arith' | 'compare' | 'logic'): Tensor {
  const b = toTensor(a, bIn, op, 'b');
  requireSameDType(op, a, b, 'a', 'b');
  if (kind === 'arith' && a.dtype === 'bool') fail(op, 'a', 'arithmetic on a bool tensor', 'a numeric dtype', 'bool', "cast first: x.cast('float32')");
  if (kind === 'logic' && a.dtype !== 'bool') fail(op, 'a', 'logical op on a non-bool tensor', 'bool', a.dtype, 'compare first, e.g. x.gt(0)');
  const shape = broadcastShapes(op, a.shape, b.shape);
  // Peepholes that keep autodiff graphs small: x*1, x/1, x+0, x-0 (only when nothing broadcasts).
  if (kind === 'arith' && sameShape(shape, a.shape)) {
    if ((op === 'Mul' || op === 'Div' || op === 'Pow') && isFillOf(b, 1)) return a;
    if ((op === 'Add' || op === 'Sub') && isFillOf(b, 0)) return a;
  }
  if (kind === 'arith' && op === 'Add' && sameShape(shape, b.shape) && isFillOf(a, 0)) return b;
  if (kind === 'arith' && op === 'Mul' && sameShape(shape, b.shape) && isFillOf(a, 1)) return b;
  return a.graph.node(op, [a, b], {}, shape, kind === 'compare' ? 'bool' : a.dtype);
}

export const add = (a: Tensor, b: Operand): Tensor => binary('Add', a, b, 'arith');
export const sub = (a: Tensor, b: Operand): Tensor => binary('Sub', a, b, 'arith');
export const mul = (a: Tensor, b: Operand): Tensor => binary('Mul', a, b, 'arith');
export const div = (a: Tensor, b: Operand): Tensor => binary('Div', a, b, 'arith');
export const maximum = (a: Tensor, b: Operand): Tensor => binary('Max', a, b, 'arith');
export const minimum = (a: Tensor, b: Operand): Tensor => binary('Min', a, b, 'arith');
export const eq = (a: Tensor, b: Operand): Tensor => binary('Equal', a, b, 'compare');
export const lt = (a: Tensor, b: Operand): Tensor => binary('Less', a, b, 'compare');
export const gt = (a: Tensor, b: Operand): Tensor => binary('Greater', a, b, 'compare');
export const le = (a: Tensor, b: Operand): Tensor => binary('LessOrEqual', a, b, 'compare');
export const ge = (a: Tensor, b: Operand): Tensor => binary('GreaterOrEqual', a, b, 'compare');
export const and = (a: Tensor, b: Tensor): Tensor => binary('And', a, b, 'logic');
export const or = (a: Tensor, b: Tensor): Tensor => binary('Or', a, b, 'logic');

/** a ** b, elementwise, for floating-point a (ONNX Pow). */
export function pow(a: Tensor, b: Operand): Tensor {
  requireFloat('Pow', a, 'a');
  return binary('Pow', a, b, 'arith');
}

function unary(op: string, x: Tensor, needFloat: boolean): Tensor {
  if (needFloat) requireFloat(op, x);
  else if (x.dtype === 'bool') fail(op, 'x', 'numeric op on a bool tensor', 'a numeric dtype', 'bool', "cast first: x.cast('float32')");
  return x.graph.node(op, [x], {}, x.shape, x.dtype);
}

export const neg = (x: Tensor): Tensor => unary('Neg', x, false);
export const abs = (x: Tensor): Tensor => unary('Abs', x, false);
export const sign = (x: Tensor): Tensor => unary('Sign', x, false);
export const relu = (x: Tensor): Tensor => unary('Relu', x, false);
export const exp = (x: Tensor): Tensor => unary('Exp', x, true);
export const log = (x: Tensor): Tensor => unary('Log', x, true);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x, true);
/** 1/sqrt(x). */
export const rsqrt = (x: Tensor): Tensor => unary('Rsqrt', x, true);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x, true);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x, true);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x, true);
/** log σ(x) = −softplus(−x), computed without overflow for large |x|. */
export const logSigmoid = (x: Tensor): Tensor => unary('LogSigmoid', x, true);
/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (Hendrycks & Gimpel 2016). */
export const gelu = (x: Tensor): Tensor => unary('Gelu', x, true);
/** SiLU / swish: x·σ(x). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

export function not(x: Tensor): Tensor {
  if (x.dtype !== 'bool') fail('Not', 'x', 'logical op on a non-bool tensor', 'bool', x.dtype);
  return x.graph.node('Not', [x], {}, x.shape, 'bool');
}

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.node('Cast', [x], { to }, x.shape, to);
}

/** Blocks gradients: forward is the identity, backward contributes nothing. */
export function stopGradient(x: Tensor): Tensor {
  return x.graph.node('StopGradient', [x], {}, x.shape, x.dtype);
}

/** where(cond, a, b): a where cond is true, else b; all three broadcast. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    fail('Where', 'a, b', 'needs at least one tensor branch to know the dtype', 'a Tensor for a or b', 'two numbers', 'write cond.cast(dtype) arithmetic, or pass g.full([], a, dtype)');
  }
  const ref = (typeof a === 'number' ? b : a) as Tensor;
  const ta = toTensor(ref, a, 'Where', 'a');
  const tb = toTensor(ref, b, 'Where', 'b');
  if (cond.dtype !== 'bool') fail('Where', 'cond', 'condition is not bool', 'bool', cond.dtype, 'build it with a comparison, e.g. x.gt(0)');
  requireSameDType('Where', ta, tb, 'a', 'b');
  const s1 = broadcastShapes('Where', cond.shape, ta.shape, 'cond', 'a');
  const shape = broadcastShapes('Where', s1, tb.shape, 'cond', 'b');
  return ref.graph.node('Where', [cond, ta, tb], {}, shape, ta.dtype);
}

/** Batched matrix product [..., M, K] @ [..., K, N] → [..., M, N]; batch dimensions broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2) fail('MatMul', 'a', 'needs rank ≥ 2', 'shape [..., M, K]', fmtShape(a.shape), 'unsqueeze a vector to [1, K] first');
  if (b.rank < 2) fail('MatMul', 'b', 'needs rank ≥ 2', 'shape [..., K, N]', fmtShape(b.shape), 'unsqueeze a vector to [K, 1] first');
  requireFloat('MatMul', a, 'a');
  requireSameDType('MatMul', a, b, 'a', 'b');
  const k = a.shape[a.rank - 1];
  if (b.shape[b.rank - 2] !== k) {
    fail('MatMul', 'b', 'inner dimensions differ', `b of shape [..., ${k}, N] to match a ${fmtShape(a.shape)}`, fmtShape(b.shape),
      'transpose one argument or check which weight is passed');
  }
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2), 'a batch', 'b batch');
  return a.graph.node('MatMul', [a, b], {}, [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]], a.dtype);
}

/** Reshape to `shape`; one entry may be -1 (inferred). Element count must not change. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg1 = s.filter((d) => d === -1).length;
  if (neg1 > 1 || !s.every((d) => Number.isInteger(d) && d >= -1)) {
    fail('Reshape', 'shape', 'invalid target shape', 'non-negative integers, at most one -1', describeValue(shape));
  }
  if (neg1 === 1) {
    const known = s.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) {
      fail('Reshape', 'shape', `cannot infer -1 for ${x.size} elements`, `a shape whose known sizes divide ${x.size}`, fmtShape(shape));
    }
    s[s.indexOf(-1)] = x.size / known;
  }
  if (sizeOf(s) !== x.size) {
    fail('Reshape', 'shape', 'element count changes', `a shape with ${x.size} elements (input ${fmtShape(x.shape)})`, `${fmtShape(s)} with ${sizeOf(s)} elements`);
  }
  if (sameShape(s, x.shape)) return x;
  return x.graph.node('Reshape', [x], {}, s, x.dtype);
}

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  const sorted = [...p].sort((a, b) => a - b);
  if (p.length !== x.rank || !sorted.every((v, i) => v === i)) {
    fail('Transpose', 'perm', 'not a permutation of the axes', `a permutation of 0..${x.rank - 1}`, describeValue(perm));
  }
  if (p.every((v, i) => v === i)) return x;
  return x.graph.node('Transpose', [x], { perm: p }, p.map((i) => x.shape[i]), x.dtype);
}

/** Swap the last two axes. */
export function mT(x: Tensor): Tensor {
  const p = x.shape.map((_, i) => i);
  [p[x.rank - 2], p[x.rank - 1]] = [p[x.rank - 1], p[x.rank - 2]];
  return transpose(x, p);
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) fail('Concat', 'xs', 'nothing to concatenate', 'at least one tensor', '[]');
  const x0 = xs[0];
  const ax = normAxis('Concat', axis, x0.rank);
  let total = 0;
  for (const [i, x] of xs.entries()) {
    requireSameDType('Concat', x0, x, 'xs[0]', `xs[${i}]`);
    const ok = x.rank === x0.rank && x.shape.every((d, j) => j === ax || d === x0.shape[j]);
    if (!ok) {
      const exp = x0.shape.map((d, j) => (j === ax ? '*' : String(d)));
      fail('Concat', `xs[${i}]`, `shapes differ outside axis ${ax}`, `[${exp.join(', ')}]`, fmtShape(x.shape));
    }
    total += x.shape[ax];
  }
  if (xs.length === 1) return x0;
  const shape = [...x0.shape];
  shape[ax] = total;
  return x0.graph.node('Concat', xs, { axis: ax }, shape, x0.dtype);
}

/** Elements start..end-1 along `axis` (Python-style negatives; end defaults to the full length). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis('Slice', axis, x.rank);
  const n = x.shape[ax];
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s >= e) {
    fail('Slice', 'start, end', `empty or out-of-range slice of axis ${ax} (length ${n})`, `0 ≤ start < end ≤ ${n}`, `start ${start}, end ${end}`);
  }
  if (s === 0 && e === n) return x;
  const shape = [...x.shape];
  shape[ax] = e - s;
  return x.graph.node('Slice', [x], { axis: ax, start: s, end: e }, shape, x.dtype);
}

/** Split along `axis` into pieces of `sizes` (an array), or of equal size `sizes` (a number, like PyTorch). */
export function split(x: Tensor, axis: number, sizes: number | readonly number[]): Tensor[] {
  const ax = normAxis('Split', axis, x.rank);
  const n = x.shape[ax];
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0 || n % sizes !== 0) {
      fail('Split', 'sizes', `piece size does not divide axis ${ax} (length ${n})`, `a positive divisor of ${n}`, String(sizes));
    }
    parts = new Array<number>(n / sizes).fill(sizes);
  } else {
    parts = [...sizes];
    if (parts.reduce((a, b) => a + b, 0) !== n || !parts.every((p) => Number.isInteger(p) && p > 0)) {
      fail('Split', 'sizes', `sizes do not add up to axis ${ax} (length ${n})`, `positive sizes summing to ${n}`, describeValue(sizes));
    }
  }
  const out: Tensor[] = [];
  let off = 0;
  for (const p of parts) {
    out.push(slice(x, ax, off, off + p));
    off += p;
  }
  return out;
}

/** Broadcast to `shape` (NumPy rules; the result has exactly `shape`). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  let out: number[];
  try {
    out = broadcastShapes('Expand', shape, x.shape, 'shape', 'x');
  } catch {
    out = [];
  }
  if (!sameShape(out, shape)) {
    fail('Expand', 'shape', 'cannot broadcast to the target shape', `a shape that ${fmtShape(x.shape)} broadcasts to (sizes equal, or 1 in x)`, fmtShape(shape));
  }
  if (sameShape(shape, x.shape)) return x;
  return x.graph.node('Expand', [x], {}, [...shape], x.dtype);
}

function axesList(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  const list = axes === undefined ? [...Array(rank).keys()] : typeof axes === 'number' ? [axes] : [...axes];
  const norm = list.map((a) => normAxis(op, a, rank, 'axes'));
  if (new Set(norm).size !== norm.length) fail(op, 'axes', 'an axis is repeated', 'distinct axes', describeValue(axes));
  return norm.sort((a, b) => a - b);
}

/** Remove size-1 axes (all of them, or the listed ones). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const list = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axesList('Squeeze', axes, x.rank);
  for (const a of list) {
    if (x.shape[a] !== 1) fail('Squeeze', 'axes', `axis ${a} has size ${x.shape[a]}`, 'axes of size 1', fmtShape(x.shape));
  }
  return reshape(x, x.shape.filter((_, i) => !list.includes(i)));
}

/** Insert size-1 axes at the given positions of the result. */
export function unsqueeze(x: Tensor, axes: number | readonly number[]): Tensor {
  const outRank = x.rank + (typeof axes === 'number' ? 1 : axes.length);
  const list = axesList('Unsqueeze', axes, outRank);
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < outRank; i++) shape.push(list.includes(i) ? 1 : x.shape[j++]);
  return reshape(x, shape);
}

function requireIndices(op: string, idx: Tensor, arg = 'indices'): void {
  if (!isInteger(idx.dtype)) fail(op, arg, 'indices must be integers', 'int32 or int64', idx.dtype, "cast them: idx.cast('int64')");
}

/** Rows (slices) of x at `indices` along `axis`: out = x.shape[:axis] + indices.shape + x.shape[axis+1:] (ONNX Gather). */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const ax = normAxis('Gather', axis, x.rank);
  requireIndices('Gather', indices);
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  return x.graph.node('Gather', [x, indices], { axis: ax }, shape, x.dtype);
}

/** out[i][j][k] = x[i][indices[i][j][k]][k] for axis 1 (ONNX GatherElements; NumPy take_along_axis). */
export function takeAlongAxis(x: Tensor, indices: Tensor, axis: number): Tensor {
  const ax = normAxis('GatherElements', axis, x.rank);
  requireIndices('GatherElements', indices);
  if (indices.rank !== x.rank || !indices.shape.every((d, i) => i === ax || d === x.shape[i])) {
    const exp = x.shape.map((d, i) => (i === ax ? '*' : String(d)));
    fail('GatherElements', 'indices', `indices must match x outside axis ${ax}`, `[${exp.join(', ')}]`, fmtShape(indices.shape), 'unsqueeze the indices, e.g. targets.unsqueeze(-1)');
  }
  return x.graph.node('GatherElements', [x, indices], { axis: ax }, indices.shape, x.dtype);
}

/** A copy of data with updates written (reduction 'none') or added ('add') at indices along axis (ONNX ScatterElements). */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: 'none' | 'add' = 'none'): Tensor {
  const ax = normAxis('ScatterElements', axis, data.rank);
  requireIndices('ScatterElements', indices);
  requireSameDType('ScatterElements', data, updates, 'data', 'updates');
  if (!sameShape(indices.shape, updates.shape)) fail('ScatterElements', 'updates', 'updates must have the shape of indices', fmtShape(indices.shape), fmtShape(updates.shape));
  if (indices.rank !== data.rank || !indices.shape.every((d, i) => i === ax || d === data.shape[i])) {
    const exp = data.shape.map((d, i) => (i === ax ? '*' : String(d)));
    fail('ScatterElements', 'indices', `indices must match data outside axis ${ax}`, `[${exp.join(', ')}]`, fmtShape(indices.shape));
  }
  return data.graph.node('ScatterElements', [data, indices, updates], { axis: ax, reduction }, data.shape, data.dtype);
}

/** Slices of data addressed by the last axis of indices [..., k] → [..., data.shape[k:]] (ONNX GatherND, batch_dims 0). */
export function gatherND(data: Tensor, indices: Tensor): Tensor {
  requireIndices('GatherND', indices);
  const k = indices.shape[indices.rank - 1];
  if (indices.rank < 1 || k < 1 || k > data.rank) fail('GatherND', 'indices', 'last axis of indices must address data', `[..., k] with 1 ≤ k ≤ ${data.rank}`, fmtShape(indices.shape));
  return data.graph.node('GatherND', [data, indices], {}, [...indices.shape.slice(0, -1), ...data.shape.slice(k)], data.dtype);
}

/**
 * A copy of data with slices written ('none') or added ('add') at indices [..., k]; updates have
 * shape indices.shape[:-1] + data.shape[k:] (ONNX ScatterND). KV-cache writes use reduction 'none'.
 */
export function scatterND(data: Tensor, indices: Tensor, updates: Tensor, reduction: 'none' | 'add' = 'none'): Tensor {
  requireIndices('ScatterND', indices);
  requireSameDType('ScatterND', data, updates, 'data', 'updates');
  const k = indices.shape[indices.rank - 1];
  if (indices.rank < 1 || k < 1 || k > data.rank) fail('ScatterND', 'indices', 'last axis of indices must address data', `[..., k] with 1 ≤ k ≤ ${data.rank}`, fmtShape(indices.shape));
  const want = [...indices.shape.slice(0, -1), ...data.shape.slice(k)];
  if (!sameShape(want, updates.shape)) fail('ScatterND', 'updates', 'updates shape must be indices.shape[:-1] + data.shape[k:]', fmtShape(want), fmtShape(updates.shape));
  return data.graph.node('ScatterND', [data, indices, updates], { reduction }, data.shape, data.dtype);
}

function reduce(op: string, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  if (x.dtype === 'bool') fail(op, 'x', 'reduction of a bool tensor', 'a numeric dtype', 'bool', "cast first: mask.cast('float32')");
  const list = axesList(op, axes, x.rank);
  const shape = keepDims ? x.shape.map((d, i) => (list.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !list.includes(i));
  if (list.length === 0) return x;
  return x.graph.node(op, [x], { axes: list, keepDims }, shape, x.dtype);
}

export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('ReduceSum', x, axes, keepDims);
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('ReduceMax', x, axes, keepDims);

/** Index of the first maximum along `axis` (ONNX ArgMax, select_last_index 0): int64, the axis removed. Not differentiable. */
export function argmax(x: Tensor, axis = -1): Tensor {
  if (x.dtype === 'bool') fail('ArgMax', 'x', 'argmax of a bool tensor', 'a numeric dtype', 'bool', "cast first: mask.cast('float32')");
  const ax = normAxis('ArgMax', axis, x.rank, 'axis');
  return x.graph.node('ArgMax', [x], { axis: ax }, x.shape.filter((_, i) => i !== ax), 'int64');
}
/** cumsum(x)_i = Σ_{j ≤ i} x_j along `axis` (ONNX CumSum, exclusive 0, reverse 0), same shape and dtype. Not differentiable. */
export function cumsum(x: Tensor, axis = -1): Tensor {
  requireFloat('CumSum', x);
  return x.graph.node('CumSum', [x], { axis: normAxis('CumSum', axis, x.rank, 'axis') }, x.shape, x.dtype);
}
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  requireFloat('ReduceMean', x);
  return reduce('ReduceMean', x, axes, keepDims);
}

/** softmax(x)_i = exp(x_i − max x) / Σ_j exp(x_j − max x) along axis (max-shifted: no overflow). */
export function softmax(x: Tensor, axis = -1): Tensor {
  requireFloat('Softmax', x);
  return x.graph.node('Softmax', [x], { axis: normAxis('Softmax', axis, x.rank) }, x.shape, x.dtype);
}

/** logSoftmax(x)_i = x_i − logsumexp(x) along axis (max-shifted). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  requireFloat('LogSoftmax', x);
  return x.graph.node('LogSoftmax', [x], { axis: normAxis('LogSoftmax', axis, x.rank) }, x.shape, x.dtype);
}

/**
 * Per-position cross-entropy: loss = logsumexp(logits) − logits[target], logits [..., V], targets
 * [...] (int) → [...]. A fused op: its gradient (softmax − onehot)·g costs one softmax and one
 * scatter, cheaper than logSoftmax + takeAlongAxis.
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  requireFloat('SoftmaxCrossEntropy', logits, 'logits');
  requireIndices('SoftmaxCrossEntropy', targets, 'targets');
  const lead = logits.shape.slice(0, -1);
  if (logits.rank < 1 || !sameShape(lead, targets.shape)) {
    fail('SoftmaxCrossEntropy', 'targets', 'targets must have the shape of logits without its last axis', fmtShape(lead), fmtShape(targets.shape));
  }
  const v = logits.shape[logits.rank - 1];
  const n = sizeOf(lead);
  const flat = logits.graph.node('SoftmaxCrossEntropy', [reshape(logits, [n, v]), reshape(targets, [n])], {}, [n], logits.dtype);
  return reshape(flat, lead);
}

/** @internal (softmax(logits) − onehot(targets)) · g[:, None]: the VJP of SoftmaxCrossEntropy. */
export function softmaxCrossEntropyGrad(logits: Tensor, targets: Tensor, g: Tensor): Tensor {
  return logits.graph.node('SoftmaxCrossEntropyGrad', [logits, targets, g], {}, logits.shape, logits.dtype);
}

/** @internal Zero padding along one axis (the VJP of Slice). */
export function pad(x: Tensor, axis: number, before: number, after: number): Tensor {
  if (before === 0 && after === 0) return x;
  const shape = [...x.shape];
  shape[axis] += before + after;
  return x.graph.node('Pad', [x], { axis, start: before, end: after }, shape, x.dtype);
}

/** Sum of several same-shape tensors (one node). */
export function addN(xs: readonly Tensor[]): Tensor {
  if (xs.length === 1) return xs[0];
  for (const x of xs) {
    if (!sameShape(x.shape, xs[0].shape)) fail('Sum', 'xs', 'addN needs equal shapes', fmtShape(xs[0].shape), fmtShape(x.shape));
    requireSameDType('Sum', xs[0], x, 'xs[0]', 'xs[i]');
  }
  if (xs.length === 2) return add(xs[0], xs[1]);
  return xs[0].graph.node('Sum', xs, {}, xs[0].shape, xs[0].dtype);
}

/** Mean cross-entropy is so common that it gets a name: mean over all positions. */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  return mean(softmaxCrossEntropy(logits, targets));
}

/** A boolean mask [T, T]: true where key position j ≤ query position i (causal attention). */
export function causalMask(g: Graph, t: number): Tensor {
  const data = new Uint8Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j <= i; j++) data[i * t + j] = 1;
  return g.constant(data, [t, t], 'bool');
}
