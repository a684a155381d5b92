// The plain reference interpreter: every op's naive twin, written as obvious loops in float64
// (float32 tensors are computed without rounding; casts to float32 round). Tests compare ONNX
// Runtime against it, and finite differences run through it. Slow by design; small inputs only.
import { UserError } from '../util/errors.js';
import { type DType, type TypedArray, isInteger, numbersFromTyped } from './dtype.js';
import { type Shape, fmtShape, sizeOf, stridesOf } from './shape.js';
import type { Graph, Tensor } from './tensor.js';

export interface NDArray {
  shape: readonly number[];
  data: Float64Array;
}

/** For each element of `out`, the offset of the element of `inp` (right-aligned, broadcast) that feeds it. */
function broadcastOffsets(inp: Shape, out: Shape): Int32Array {
  const n = sizeOf(out);
  const res = new Int32Array(n);
  const lead = out.length - inp.length;
  const inStr = stridesOf(inp);
  const idx = new Array<number>(out.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = lead; d < out.length; d++) if (inp[d - lead] !== 1) off += idx[d] * inStr[d - lead];
    res[k] = off;
    for (let d = out.length - 1; d >= 0; d--) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return res;
}

/** Multi-index of flat position k in shape (row-major). */
function unravel(k: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = k % shape[d];
    k = Math.floor(k / shape[d]);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: Shape): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d] + idx[d];
  return k;
}

/**
 * The lanes of a tensor along `axis`: each lane's first flat index, in row-major order of the other
 * axes, and the stride between its n elements (Softmax, CumSum, ArgMax).
 */
function lanes(shape: Shape, axis: number): { n: number; stride: number; starts: number[] } {
  const n = shape[axis];
  const stride = stridesOf(shape)[axis];
  const count = n === 0 ? 0 : sizeOf(shape) / n;
  return { n, stride, starts: Array.from({ length: count }, (_, o) => Math.floor(o / stride) * n * stride + (o % stride)) };
}

function index(op: string, i: number, n: number): number {
  const j = i < 0 ? i + n : i;
  if (!Number.isInteger(j) || j < 0 || j >= n) {
    throw new UserError({ what: `${op}: index out of range`, where: `${op}(indices)`, expected: `an integer in [${-n}, ${n - 1}]`, received: String(i), fix: 'check token ids against the vocabulary size' });
  }
  return j;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const GELU_C = Math.sqrt(2 / Math.PI);

function unaryFn(op: string): (x: number) => number {
  switch (op) {
    case 'Neg': return (x) => -x;
    case 'Exp': return Math.exp;
    case 'Log': return Math.log;
    case 'Sqrt': return Math.sqrt;
    case 'Rsqrt': return (x) => 1 / Math.sqrt(x);
    case 'Reciprocal': return (x) => 1 / x;
    case 'Abs': return Math.abs;
    case 'Sign': return (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'Relu': return (x) => (x > 0 ? x : 0);
    case 'Tanh': return Math.tanh;
    case 'Sigmoid': return sigmoid;
    case 'LogSigmoid': return (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))); // stable for large |x|
    case 'Gelu': return (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
    case 'Not': return (x) => (x ? 0 : 1);
    default: throw new Error(`no unary ${op}`);
  }
}

function binaryFn(op: string, dtype: DType): (a: number, b: number) => number {
  switch (op) {
    case 'Add': return (a, b) => a + b;
    case 'Sub': return (a, b) => a - b;
    case 'Mul': return (a, b) => a * b;
    case 'Div': return isInteger(dtype) ? (a, b) => Math.trunc(a / b) : (a, b) => a / b;
    case 'Pow': return Math.pow;
    case 'Max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'Min': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'Equal': return (a, b) => (a === b ? 1 : 0);
    case 'Less': return (a, b) => (a < b ? 1 : 0);
    case 'Greater': return (a, b) => (a > b ? 1 : 0);
    case 'LessOrEqual': return (a, b) => (a <= b ? 1 : 0);
    case 'GreaterOrEqual': return (a, b) => (a >= b ? 1 : 0);
    case 'And': return (a, b) => (a && b ? 1 : 0);
    case 'Or': return (a, b) => (a || b ? 1 : 0);
    default: throw new Error(`no binary ${op}`);
  }
}

function castValue(x: number, to: DType): number {
  switch (to) {
    case 'float32': return Math.fround(x);
    case 'float64': return x;
    case 'bool': return x !== 0 ? 1 : 0;
    default: return Math.trunc(x);
  }
}

/** Evaluate one node given its inputs' values. */
function evalNode(t: Tensor, ins: NDArray[]): Float64Array {
  const out = new Float64Array(t.size);
  const a = t.attrs;
  switch (t.op) {
    case 'Constant': case 'Initializer': return numbersFromTyped(a.data as TypedArray);
    case 'Fill': return out.fill(a.value as number);
    case 'StopGradient': return ins[0].data.slice();
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min':
    case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual': case 'And': case 'Or': {
      const f = binaryFn(t.op, t.inputs[0].dtype);
      const oa = broadcastOffsets(ins[0].shape, t.shape);
      const ob = broadcastOffsets(ins[1].shape, t.shape);
      for (let k = 0; k < out.length; k++) out[k] = f(ins[0].data[oa[k]], ins[1].data[ob[k]]);
      return out;
    }
    case 'Where': {
      const [oc, oa, ob] = ins.map((x) => broadcastOffsets(x.shape, t.shape));
      for (let k = 0; k < out.length; k++) out[k] = ins[0].data[oc[k]] ? ins[1].data[oa[k]] : ins[2].data[ob[k]];
      return out;
    }
    case 'Sum':
      for (const x of ins) for (let k = 0; k < out.length; k++) out[k] += x.data[k];
      return out;
    case 'Neg': case 'Exp': case 'Log': case 'Sqrt': case 'Rsqrt': case 'Reciprocal': case 'Abs': case 'Sign':
    case 'Relu': case 'Tanh': case 'Sigmoid': case 'LogSigmoid': case 'Gelu': case 'Not': {
      const f = unaryFn(t.op);
      for (let k = 0; k < out.length; k++) out[k] = f(ins[0].data[k]);
      return out;
    }
    case 'Cast':
      for (let k = 0; k < out.length; k++) out[k] = castValue(ins[0].data[k], a.to as DType);
      return out;
    case 'MatMul': {
      // out[b, i, j] = Σ_k A[b, i, k] · B[b, k, j] with broadcast batch b
      const [A, B] = ins;
      const m = A.shape[A.shape.length - 2], kk = A.shape[A.shape.length - 1], n = B.shape[B.shape.length - 1];
      const batch = t.shape.slice(0, -2);
      const oa = broadcastOffsets(A.shape.slice(0, -2), batch);
      const ob = broadcastOffsets(B.shape.slice(0, -2), batch);
      for (let b = 0; b < sizeOf(batch); b++) {
        const abase = oa[b] * m * kk, bbase = ob[b] * kk * n, obase = b * m * n;
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < kk; k++) s += A.data[abase + i * kk + k] * B.data[bbase + k * n + j];
          out[obase + i * n + j] = s;
        }
      }
      return out;
    }
    case 'Reshape': return ins[0].data.slice();
    case 'Expand': {
      const o = broadcastOffsets(ins[0].shape, t.shape);
      for (let k = 0; k < out.length; k++) out[k] = ins[0].data[o[k]];
      return out;
    }
    case 'Transpose': {
      const perm = a.perm as number[];
      for (let k = 0; k < out.length; k++) {
        const oi = unravel(k, t.shape);
        const ii = new Array<number>(perm.length);
        perm.forEach((p, d) => (ii[p] = oi[d]));
        out[k] = ins[0].data[ravel(ii, ins[0].shape)];
      }
      return out;
    }
    case 'Concat': {
      const axis = a.axis as number;
      for (let k = 0; k < out.length; k++) {
        const oi = unravel(k, t.shape);
        let j = 0;
        while (oi[axis] >= ins[j].shape[axis]) oi[axis] -= ins[j++].shape[axis];
        out[k] = ins[j].data[ravel(oi, ins[j].shape)];
      }
      return out;
    }
    case 'Slice': {
      const axis = a.axis as number;
      for (let k = 0; k < out.length; k++) {
        const oi = unravel(k, t.shape);
        oi[axis] += a.start as number;
        out[k] = ins[0].data[ravel(oi, ins[0].shape)];
      }
      return out;
    }
    case 'Pad': {
      const axis = a.axis as number;
      for (let k = 0; k < ins[0].data.length; k++) {
        const ii = unravel(k, ins[0].shape);
        ii[axis] += a.start as number;
        out[ravel(ii, t.shape)] = ins[0].data[k];
      }
      return out;
    }
    case 'Gather': {
      // out[pre, i…, post] = x[pre, idx[i…], post]
      const axis = a.axis as number;
      const [x, idx] = ins;
      const ir = idx.shape.length;
      for (let k = 0; k < out.length; k++) {
        const oi = unravel(k, t.shape);
        const ii = [...oi.slice(0, axis), index('Gather', idx.data[ravel(oi.slice(axis, axis + ir), idx.shape)], x.shape[axis]), ...oi.slice(axis + ir)];
        out[k] = x.data[ravel(ii, x.shape)];
      }
      return out;
    }
    case 'GatherElements': {
      const axis = a.axis as number;
      const [x, idx] = ins;
      for (let k = 0; k < out.length; k++) {
        const oi = unravel(k, t.shape);
        oi[axis] = index('GatherElements', idx.data[k], x.shape[axis]);
        out[k] = x.data[ravel(oi, x.shape)];
      }
      return out;
    }
    case 'ScatterElements': {
      const axis = a.axis as number;
      const [x, idx, upd] = ins;
      out.set(x.data);
      for (let k = 0; k < idx.data.length; k++) {
        const ii = unravel(k, idx.shape);
        ii[axis] = index('ScatterElements', idx.data[k], x.shape[axis]);
        const o = ravel(ii, x.shape);
        out[o] = a.reduction === 'add' ? out[o] + upd.data[k] : upd.data[k];
      }
      return out;
    }
    case 'GatherND': case 'ScatterND': {
      const [x, idx] = ins;
      const kdim = idx.shape[idx.shape.length - 1];
      const n = idx.data.length / kdim;
      const inner = sizeOf(x.shape.slice(kdim));
      if (t.op === 'ScatterND') out.set(x.data);
      for (let r = 0; r < n; r++) {
        const pos = [];
        for (let d = 0; d < kdim; d++) pos.push(index(t.op, idx.data[r * kdim + d], x.shape[d]));
        const base = ravel(pos, x.shape.slice(0, kdim)) * inner;
        for (let e = 0; e < inner; e++) {
          if (t.op === 'GatherND') out[r * inner + e] = x.data[base + e];
          else out[base + e] = a.reduction === 'add' ? out[base + e] + ins[2].data[r * inner + e] : ins[2].data[r * inner + e];
        }
      }
      return out;
    }
    case 'ReduceSum': case 'ReduceMean': case 'ReduceMax': {
      const axes = a.axes as number[];
      const x = ins[0];
      const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const count = x.data.length / sizeOf(keep);
      out.fill(t.op === 'ReduceMax' ? -Infinity : 0);
      for (let k = 0; k < x.data.length; k++) {
        const ii = unravel(k, x.shape).map((v, i) => (axes.includes(i) ? 0 : v));
        const o = ravel(ii, keep);
        out[o] = t.op === 'ReduceMax' ? (Number.isNaN(x.data[k]) ? NaN : Math.max(out[o], x.data[k])) : out[o] + x.data[k];
      }
      if (t.op === 'ReduceMean') for (let k = 0; k < out.length; k++) out[k] /= count;
      return out;
    }
    case 'CumSum': {
      // running sum along the axis, in float64
      const { n, stride, starts } = lanes(ins[0].shape, a.axis as number);
      const x = ins[0].data;
      for (const base of starts) {
        let acc = 0;
        for (let i = 0; i < n; i++) out[base + i * stride] = acc += x[base + i * stride];
      }
      return out;
    }
    case 'ArgMax': {
      // the first maximum along the axis (NaN never wins); out[o] belongs to the o-th lane
      const { n, stride, starts } = lanes(ins[0].shape, a.axis as number);
      const x = ins[0].data;
      starts.forEach((base, o) => {
        let best = 0;
        for (let i = 1; i < n; i++) if (x[base + i * stride] > x[base + best * stride]) best = i;
        out[o] = best;
      });
      return out;
    }
    case 'Softmax': case 'LogSoftmax': {
      // max-shifted: exp(x − max) never overflows
      const x = ins[0];
      const { n, stride, starts } = lanes(x.shape, a.axis as number);
      for (const k of starts) {
        let m = -Infinity;
        for (let j = 0; j < n; j++) m = Math.max(m, x.data[k + j * stride]);
        let s = 0;
        for (let j = 0; j < n; j++) s += Math.exp(x.data[k + j * stride] - m);
        for (let j = 0; j < n; j++) {
          const v = x.data[k + j * stride] - m;
          out[k + j * stride] = t.op === 'Softmax' ? Math.exp(v) / s : v - Math.log(s);
        }
      }
      return out;
    }
    case 'SoftmaxCrossEntropy': case 'SoftmaxCrossEntropyGrad': {
      // loss_i = logsumexp(x_i) − x_i[t_i]; grad = (softmax(x_i) − onehot(t_i))·g_i
      const [x, tg] = ins;
      const [n, v] = x.shape;
      for (let i = 0; i < n; i++) {
        let m = -Infinity;
        for (let j = 0; j < v; j++) m = Math.max(m, x.data[i * v + j]);
        let s = 0;
        for (let j = 0; j < v; j++) s += Math.exp(x.data[i * v + j] - m);
        const ti = index('SoftmaxCrossEntropy', tg.data[i], v);
        if (t.op === 'SoftmaxCrossEntropy') out[i] = m + Math.log(s) - x.data[i * v + ti];
        else {
          const gi = ins[2].data[i];
          for (let j = 0; j < v; j++) out[i * v + j] = (Math.exp(x.data[i * v + j] - m) / s - (j === ti ? 1 : 0)) * gi;
        }
      }
      return out;
    }
    default:
      throw new Error(`interpret: no reference for op ${t.op}`);
  }
}

/**
 * Evaluate `outputs` of `graph` in float64. Feeds: input name → values (any typed array or
 * number array; int64 as BigInt64Array or numbers).
 */
export function interpret(
  graph: Graph,
  outputs: Readonly<Record<string, Tensor>>,
  feeds: Readonly<Record<string, TypedArray | ArrayLike<number>>>,
): Record<string, Float64Array> {
  const vals = new Map<number, NDArray>();
  const needed = new Uint8Array(graph.nodes.length);
  const stack = Object.values(outputs);
  while (stack.length) {
    const t = stack.pop()!;
    if (needed[t.id]) continue;
    needed[t.id] = 1;
    stack.push(...t.inputs);
  }
  for (const t of graph.nodes) {
    if (!needed[t.id]) continue;
    let data: Float64Array;
    if (t.op === 'Input') {
      const name = t.attrs.name as string;
      const f = feeds[name];
      if (f === undefined) throw new UserError({ what: `missing feed "${name}"`, where: `interpret(feeds.${name})`, expected: `${t.dtype}${fmtShape(t.shape)}`, received: 'nothing' });
      data = f instanceof BigInt64Array ? numbersFromTyped(f) : Float64Array.from(f as ArrayLike<number>);
      if (data.length !== t.size) throw new UserError({ what: `feed "${name}" has the wrong length`, where: `interpret(feeds.${name})`, expected: `${t.size} elements`, received: `${data.length}` });
    } else {
      data = evalNode(t, t.inputs.map((u) => vals.get(u.id)!));
    }
    vals.set(t.id, { shape: t.shape, data });
  }
  const res: Record<string, Float64Array> = {};
  for (const [k, t] of Object.entries(outputs)) res[k] = vals.get(t.id)!.data;
  return res;
}
