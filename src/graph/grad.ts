// Reverse-mode autodiff: grad(y, xs) adds the vector-Jacobian products of every op between xs
// and y to the same graph (one VJP rule per op below), reduces broadcast gradients back to input
// shapes, and sums the gradients of reused nodes. Integer and bool values are not differentiable.
import { UserError } from '../util/errors.js';
import { isFloat } from './dtype.js';
import { fmtShape, sameShape, sizeOf } from './shape.js';
import * as ops from './ops.js';
import type { Tensor } from './tensor.js';

export interface GradOptions {
  /** Gradient of y to start from (default: ones; then y must have one element). Shape of y. */
  seed?: Tensor;
  /**
   * Make every gradient bit-reproducible: embedding (Gather) gradients use a one-hot matmul
   * instead of ScatterND-add, whose summation order in ONNX Runtime varies run to run (~1e-6).
   * Slower for large vocabularies.
   */
  deterministic?: boolean;
}

/** A pending gradient contribution to one node: a full tensor, or a slice of it (summed lazily). */
type Contribution = { g: Tensor } | { g: Tensor; axis: number; start: number; end: number };

/**
 * Sum g over the axes along which an input of `shape` was broadcast to `logical` (the shape g
 * stands for; g itself may be stored smaller, broadcasting to it). Axes where g is stored with
 * size 1 but stands for n copies contribute a factor n instead of a reduction. The result
 * broadcasts to `shape` (it may be smaller, e.g. [N, 1] for [N, D]; see combine()).
 */
function reduceToBroadcastable(g: Tensor, shape: readonly number[], logical: readonly number[] = g.shape): Tensor {
  const rank = logical.length;
  let v = g.rank < rank ? ops.reshape(g, [...new Array<number>(rank - g.rank).fill(1), ...g.shape]) : g;
  const lead = rank - shape.length;
  const sumAxes: number[] = [];
  let factor = 1;
  for (let i = 0; i < rank; i++) {
    if (!(i < lead || (shape[i - lead] === 1 && logical[i] !== 1))) continue;
    if (v.shape[i] !== 1) sumAxes.push(i);
    else factor *= logical[i]; // g is constant along this axis: the sum is n·g
  }
  if (sumAxes.length) v = ops.sum(v, sumAxes, true);
  if (factor !== 1) v = ops.mul(v, factor);
  return lead > 0 ? ops.reshape(v, v.shape.slice(lead)) : v;
}

/** Sum g over the axes along which `shape` was broadcast to g's shape, then reshape/expand to exactly `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const r = reduceToBroadcastable(g, shape);
  return r.size === sizeOf(shape) ? ops.reshape(r, shape) : ops.expand(r, shape);
}

/**
 * Ops whose VJP accepts an incoming gradient that only broadcasts to the op's shape (it meets a
 * full-shape operand in an elementwise op before being reduced): a mean's gradient [N, 1] then
 * never has to be materialised as [N, D].
 */
const BROADCAST_OK = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Where', 'Neg', 'Exp', 'Log', 'Sqrt', 'Rsqrt',
  'Reciprocal', 'Abs', 'Relu', 'Tanh', 'Sigmoid', 'LogSigmoid', 'Gelu', 'Cast', 'Expand', 'Sum']);

/**
 * Gradients of y with respect to each of xs, as new tensors of the same graph (dy/dx has x's
 * shape). xs may be any tensors of the graph (usually inputs); one unrelated to y gets zeros.
 */
export function grad(y: Tensor, xs: readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  const g = y.graph;
  if (!isFloat(y.dtype)) {
    throw new UserError({ what: 'grad: y is not floating point', where: 'grad(y)', expected: 'a float32 or float64 tensor', received: y.dtype, fix: 'differentiate a loss computed in floating point' });
  }
  for (const [i, x] of xs.entries()) {
    if (x.graph !== g) throw new UserError({ what: 'grad: xs belong to another graph', where: `grad(xs[${i}])`, expected: 'tensors of y\'s graph', received: String(x) });
    if (!isFloat(x.dtype)) {
      throw new UserError({ what: 'grad: integer and bool tensors are not differentiable', where: `grad(xs[${i}])`, expected: 'a float32 or float64 tensor', received: `${x.dtype}${fmtShape(x.shape)}`, fix: 'leave index and mask inputs out of xs' });
    }
  }
  let seed = opts.seed;
  if (seed === undefined) {
    if (y.size !== 1) {
      throw new UserError({ what: 'grad: y must be a scalar (one element) when no seed is given', where: 'grad(y)', expected: 'shape [] or [1, …]', received: fmtShape(y.shape), fix: 'reduce the loss first (e.g. loss.mean()), or pass opts.seed with y\'s shape' });
    }
    seed = g.ones(y.shape, y.dtype);
  } else if (seed.dtype !== y.dtype || seed.shape.length !== y.shape.length || !seed.shape.every((d, i) => d === y.shape[i])) {
    throw new UserError({ what: 'grad: seed must match y', where: 'grad(opts.seed)', expected: `${y.dtype}${fmtShape(y.shape)}`, received: `${seed.dtype}${fmtShape(seed.shape)}` });
  }

  // Which nodes lie on a path x → y: needs[id] = some input needs it (forward), restricted to ancestors of y.
  const isX = new Set(xs.map((x) => x.id));
  const needs = new Uint8Array(y.id + 1);
  for (let id = 0; id <= y.id; id++) {
    const n = g.nodes[id];
    if (isX.has(id)) needs[id] = 1;
    else if (n.op !== 'StopGradient' && isFloat(n.dtype) && n.inputs.some((u) => needs[u.id])) needs[id] = 1;
  }
  const ancestor = new Uint8Array(y.id + 1);
  ancestor[y.id] = 1;
  for (let id = y.id; id >= 0; id--) {
    if (!ancestor[id]) continue;
    for (const u of g.nodes[id].inputs) ancestor[u.id] = 1;
  }

  const pending = new Map<number, Contribution[]>();
  const push = (t: Tensor, c: Contribution): void => {
    if (!needs[t.id] || !isFloat(t.dtype)) return;
    const list = pending.get(t.id);
    if (list) list.push(c);
    else pending.set(t.id, [c]);
  };
  push(y, { g: seed });
  const result = new Map<number, Tensor>();
  for (let id = y.id; id >= 0; id--) {
    const list = pending.get(id);
    if (!list || !ancestor[id]) continue;
    pending.delete(id);
    const node = g.nodes[id];
    let gy = combine(node, list);
    if (!sameShape(gy.shape, node.shape) && (isX.has(id) || !BROADCAST_OK.has(node.op))) gy = ops.expand(gy, node.shape);
    if (isX.has(id)) result.set(id, gy);
    if (node.inputs.length === 0) continue;
    const wants = node.inputs.map((u) => needs[u.id] === 1 && isFloat(u.dtype));
    if (!wants.some(Boolean)) continue;
    vjp(node, gy, wants, opts, push);
  }
  return xs.map((x) => result.get(x.id) ?? g.zeros(x.shape, x.dtype));
}

/** Sum contributions; slices of one axis that do not overlap become one Concat with zero gaps. */
function combine(node: Tensor, list: Contribution[]): Tensor {
  const full: Tensor[] = [];
  const byAxis = new Map<number, { g: Tensor; start: number; end: number }[]>();
  for (const c of list) {
    if ('axis' in c) {
      const l = byAxis.get(c.axis) ?? [];
      l.push(c);
      byAxis.set(c.axis, l);
    } else full.push(c.g);
  }
  for (const [axis, pieces] of byAxis) {
    pieces.sort((a, b) => a.start - b.start);
    const overlap = pieces.some((p, i) => i > 0 && p.start < pieces[i - 1].end);
    if (overlap) {
      for (const p of pieces) full.push(ops.pad(p.g, axis, p.start, node.shape[axis] - p.end));
      continue;
    }
    const parts: Tensor[] = [];
    let at = 0;
    for (const p of pieces) {
      if (p.start > at) parts.push(zerosLike(node, axis, p.start - at));
      parts.push(p.g);
      at = p.end;
    }
    if (at < node.shape[axis]) parts.push(zerosLike(node, axis, node.shape[axis] - at));
    full.push(ops.concat(parts, axis));
  }
  // Full-shape contributions first (one Sum node), then the broadcastable ones by broadcasting Add.
  const exact = full.filter((t) => sameShape(t.shape, node.shape));
  const small = full.filter((t) => !sameShape(t.shape, node.shape));
  let total = exact.length ? ops.addN(exact) : null;
  for (const t of small) total = total ? ops.add(total, t) : t;
  return total!;
}

function zerosLike(node: Tensor, axis: number, len: number): Tensor {
  const shape = [...node.shape];
  shape[axis] = len;
  return node.graph.zeros(shape, node.dtype);
}

type Push = (t: Tensor, c: Contribution) => void;

function vjp(node: Tensor, g: Tensor, wants: boolean[], opts: GradOptions, push: Push): void {
  const [a, b, c] = node.inputs;
  const y = node;
  // v stands for a tensor of the op's output shape (it may be stored smaller, see BROADCAST_OK)
  const to = (t: Tensor, v: Tensor): void => push(t, { g: reduceToBroadcastable(v, t.shape, node.shape) });
  switch (node.op) {
    case 'Add':
      if (wants[0]) to(a, g);
      if (wants[1]) to(b, g);
      return;
    case 'Sub':
      if (wants[0]) to(a, g);
      if (wants[1]) to(b, ops.neg(g));
      return;
    case 'Mul':
      if (a === b) { // d(a·a) = 2a·g, one contribution instead of two
        to(a, ops.mul(ops.mul(g, 2), a));
        return;
      }
      if (wants[0]) to(a, ops.mul(g, b));
      if (wants[1]) to(b, ops.mul(g, a));
      return;
    case 'Div':
      if (wants[0]) to(a, ops.div(g, b));
      if (wants[1]) to(b, ops.neg(ops.div(ops.mul(g, y), b))); // d(a/b)/db = −a/b² = −y/b
      return;
    case 'Pow': {
      if (wants[0]) {
        // d(a^b)/da = b·a^(b−1); a constant exponent stays a constant (a² → 2a).
        const bm1 = b.op === 'Fill' ? a.graph.full([], (b.attrs.value as number) - 1, a.dtype) : ops.sub(b, 1);
        to(a, ops.mul(ops.mul(g, b), ops.pow(a, bm1)));
      }
      if (wants[1]) to(b, ops.mul(ops.mul(g, y), ops.log(a))); // d(a^b)/db = a^b·ln a
      return;
    }
    case 'Max': case 'Min': {
      // Ties send the whole gradient to a.
      const pickA = node.op === 'Max' ? ops.ge(a, b) : ops.le(a, b);
      if (wants[0]) to(a, ops.where(pickA, g, 0));
      if (wants[1]) to(b, ops.where(pickA, 0, g));
      return;
    }
    case 'Where':
      if (wants[1]) to(b, ops.where(a, g, 0));
      if (wants[2]) to(c, ops.where(a, 0, g));
      return;
    case 'Neg': push(a, { g: ops.neg(g) }); return;
    case 'Exp': push(a, { g: ops.mul(g, y) }); return;
    case 'Log': push(a, { g: ops.div(g, a) }); return;
    case 'Sqrt': push(a, { g: ops.div(ops.mul(g, 0.5), y) }); return; // d√a = 1/(2√a)
    case 'Rsqrt': push(a, { g: ops.mul(ops.mul(g, -0.5), ops.mul(ops.mul(y, y), y)) }); return; // d a^−½ = −½ a^−3/2
    case 'Reciprocal': push(a, { g: ops.neg(ops.mul(g, ops.mul(y, y))) }); return;
    case 'Abs': push(a, { g: ops.mul(g, ops.sign(a)) }); return;
    case 'Relu': push(a, { g: ops.where(ops.gt(a, 0), g, 0) }); return;
    case 'Tanh': push(a, { g: ops.mul(g, ops.sub(a.graph.full([], 1, a.dtype), ops.mul(y, y))) }); return;
    case 'Sigmoid': push(a, { g: ops.mul(ops.mul(g, y), ops.sub(a.graph.full([], 1, a.dtype), y)) }); return;
    case 'LogSigmoid': push(a, { g: ops.mul(g, ops.sigmoid(ops.neg(a))) }); return; // d log σ(a) = σ(−a)
    case 'Gelu': push(a, { g: ops.mul(g, geluDerivative(a)) }); return;
    case 'Cast': push(a, { g: ops.cast(g, a.dtype) }); return;
    case 'Sum': node.inputs.forEach((u, i) => wants[i] && push(u, { g })); return;
    case 'MatMul': matmulVjp(a, b, g, wants, push); return;
    case 'Reshape': push(a, { g: ops.reshape(g, a.shape) }); return;
    case 'Transpose': {
      const perm = node.attrs.perm as number[];
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      push(a, { g: ops.transpose(g, inv) });
      return;
    }
    case 'Concat': {
      const axis = node.attrs.axis as number;
      let off = 0;
      node.inputs.forEach((u, i) => {
        const len = u.shape[axis];
        if (wants[i]) push(u, { g: ops.slice(g, axis, off, off + len) });
        off += len;
      });
      return;
    }
    case 'Slice':
      push(a, { g, axis: node.attrs.axis as number, start: node.attrs.start as number, end: node.attrs.end as number });
      return;
    case 'Pad': {
      const axis = node.attrs.axis as number;
      const before = node.attrs.start as number;
      push(a, { g: ops.slice(g, axis, before, before + a.shape[axis]) });
      return;
    }
    case 'Expand': to(a, g); return;
    case 'Gather': if (wants[0]) push(a, { g: gatherVjp(a, b, g, node.attrs.axis as number, opts.deterministic === true) }); return;
    case 'GatherElements':
      if (wants[0]) push(a, { g: ops.scatterElements(a.graph.zeros(a.shape, a.dtype), b, g, node.attrs.axis as number, 'add') });
      return;
    case 'ScatterElements': {
      const axis = node.attrs.axis as number;
      if (wants[0]) push(a, { g: node.attrs.reduction === 'add' ? g : ops.scatterElements(g, b, a.graph.zeros(c.shape, c.dtype), axis, 'none') });
      if (wants[2]) push(c, { g: ops.takeAlongAxis(g, b, axis) });
      return;
    }
    case 'GatherND':
      if (wants[0]) push(a, { g: ops.scatterND(a.graph.zeros(a.shape, a.dtype), b, g, 'add') });
      return;
    case 'ScatterND':
      if (wants[0]) push(a, { g: node.attrs.reduction === 'add' ? g : ops.scatterND(g, b, a.graph.zeros(c.shape, c.dtype), 'none') });
      if (wants[2]) push(c, { g: ops.gatherND(g, b) });
      return;
    case 'ReduceSum': case 'ReduceMean': {
      const keep = a.shape.map((d, i) => ((node.attrs.axes as number[]).includes(i) ? 1 : d));
      let gk = ops.reshape(g, keep);
      if (node.op === 'ReduceMean') gk = ops.mul(gk, 1 / (a.size / sizeOf(keep)));
      push(a, { g: gk }); // broadcasts to a.shape; expanded only if a's own VJP needs the full shape
      return;
    }
    case 'ReduceMax': {
      // Ties share the gradient equally (as PyTorch's amax).
      const axes = node.attrs.axes as number[];
      const keep = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const mask = ops.cast(ops.eq(a, ops.reshape(y, keep)), a.dtype);
      const count = ops.sum(mask, axes, true);
      push(a, { g: ops.mul(mask, ops.div(ops.reshape(g, keep), count)) });
      return;
    }
    case 'Softmax': {
      const axis = node.attrs.axis as number; // dx = y·(g − Σ g·y)
      push(a, { g: ops.mul(y, ops.sub(g, ops.sum(ops.mul(g, y), axis, true))) });
      return;
    }
    case 'LogSoftmax': {
      const axis = node.attrs.axis as number; // dx = g − softmax·Σ g
      push(a, { g: ops.sub(g, ops.mul(ops.exp(y), ops.sum(g, axis, true))) });
      return;
    }
    case 'SoftmaxCrossEntropy':
      if (wants[0]) push(a, { g: ops.softmaxCrossEntropyGrad(a, b, g) });
      return;
    default:
      throw new UserError({
        what: `grad: no VJP rule for op ${node.op}`,
        where: `grad (through ${String(node)})`,
        expected: 'an op with a gradient',
        received: node.op,
        fix: node.op === 'SoftmaxCrossEntropyGrad' ? 'second derivatives of softmaxCrossEntropy are not supported; use logSoftmax + takeAlongAxis' : 'wrap the value in stopGradient() if no gradient is needed through it',
      });
  }
}

/**
 * d/dx of gelu(x) = x·σ(v), v = 2u = 2c·(x + k·x³) (0.5·(1 + tanh u) = σ(2u)):
 * σ(v)·(1 + x·(1 − σ(v))·v′), v′ = 2c + 6ck·x². 12 elementwise ops.
 */
function geluDerivative(x: Tensor): Tensor {
  const c = Math.sqrt(2 / Math.PI);
  const k = 0.044715;
  const x2 = ops.mul(x, x);
  const s = ops.sigmoid(ops.mul(x, ops.add(ops.mul(x2, 2 * c * k), 2 * c))); // σ(v)
  const dv = ops.add(ops.mul(x2, 6 * c * k), 2 * c); // v′
  const r = ops.mul(ops.mul(x, dv), ops.sub(x.graph.full([], 1, x.dtype), s)); // x·v′·(1 − σ)
  return ops.mul(s, ops.add(r, 1));
}

/**
 * y = a @ b, a [..., M, K], b [..., K, N], g [..., M, N]: da = g @ bᵀ, db = aᵀ @ g, each summed over
 * the batch dimensions its input was broadcast along. A 2-D weight times a batched input (the
 * common x·W) folds the batch into rows so db is one matmul, not a batched one plus a reduction.
 */
function matmulVjp(a: Tensor, b: Tensor, g: Tensor, wants: boolean[], push: Push): void {
  const outRank = g.rank;
  const sameBatch = a.rank === b.rank && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
  // y = a @ xᵀ (b a swap of x's last two axes, as in q·kᵀ): dx = (aᵀ g)ᵀ = gᵀ a, one matmul whose
  // transposed operand ONNX Runtime fuses, instead of a matmul and a transpose back.
  if (sameBatch && wants[1] && isLastTwoSwap(b) && !wants[0]) {
    push(b.inputs[0], { g: ops.matmul(ops.mT(g), a) });
    return;
  }
  if (sameBatch && wants[1] && isLastTwoSwap(b)) {
    push(a, { g: ops.matmul(g, b.inputs[0]) }); // g·(xᵀ)ᵀ
    push(b.inputs[0], { g: ops.matmul(ops.mT(g), a) });
    return;
  }
  if (wants[0]) push(a, { g: sumToShape(ops.matmul(g, ops.mT(b)), a.shape) });
  if (wants[1]) {
    if (b.rank === 2 && outRank > 2) {
      const k = a.shape[a.rank - 1];
      const n = b.shape[1];
      const a2 = ops.reshape(ops.expand(a, [...g.shape.slice(0, -1), k]), [-1, k]);
      push(b, { g: ops.matmul(ops.mT(a2), ops.reshape(g, [-1, n])) });
    } else {
      push(b, { g: sumToShape(ops.matmul(ops.mT(a), g), b.shape) });
    }
  }
}

function isLastTwoSwap(t: Tensor): boolean {
  if (t.op !== 'Transpose') return false;
  const p = t.attrs.perm as number[];
  const r = p.length;
  return r >= 2 && p[r - 2] === r - 1 && p[r - 1] === r - 2 && p.slice(0, -2).every((v, i) => v === i);
}

/**
 * x [pre…, V, post…] gathered along axis with indices I: dx = scatter-add of g's rows into zeros
 * (ScatterND, reduction add), or onehotᵀ @ g when deterministic.
 */
function gatherVjp(x: Tensor, idx: Tensor, g: Tensor, axis: number, deterministic: boolean): Tensor {
  const G = x.graph;
  const pre = x.shape.slice(0, axis);
  const post = x.shape.slice(axis + 1);
  const v = x.shape[axis];
  const n = idx.size;
  // g [pre…, I…, post…] → [I…, pre…, post…] → [n, pre…, post…]
  const ir = idx.rank;
  let gT = g;
  if (axis > 0) {
    const perm = [...Array(ir).keys()].map((i) => axis + i);
    for (let i = 0; i < axis; i++) perm.push(i);
    for (let i = axis + ir; i < g.rank; i++) perm.push(i);
    gT = ops.transpose(g, perm);
  }
  const rest = [...pre, ...post];
  let dxT: Tensor; // [V, pre…, post…]
  if (deterministic) {
    const onehot = ops.cast(ops.eq(ops.reshape(ops.cast(idx, 'int64'), [n, 1]), G.arange(v, 'int64')), x.dtype); // [n, V]
    const g2 = ops.reshape(gT, [n, sizeOf(rest)]);
    dxT = ops.reshape(ops.matmul(ops.mT(onehot), g2), [v, ...rest]);
  } else {
    const ind = ops.reshape(ops.cast(idx, 'int64'), [n, 1]);
    dxT = ops.scatterND(G.zeros([v, ...rest], x.dtype), ind, ops.reshape(gT, [n, ...rest]), 'add');
  }
  if (axis === 0) return dxT;
  // [V, pre…, post…] → [pre…, V, post…]
  const perm: number[] = [];
  for (let i = 0; i < axis; i++) perm.push(1 + i);
  perm.push(0);
  for (let i = axis + 1; i < x.rank; i++) perm.push(i);
  return ops.transpose(dxT, perm);
}
