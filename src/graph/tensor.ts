// Graph and Tensor: a tracing context and its symbolic values. Every op call creates one node
// (a Tensor) with its shape and dtype inferred at once; nodes are kept in creation order, which is
// a topological order. Shapes are static: a new shape means a new traced graph.
import { UserError, describeValue } from '../util/errors.js';
import { type DType, type TypedArray, DTYPES, allocTyped, dtypeOfArray, typedFromNumbers } from './dtype.js';
import { type Shape, fmtShape, sizeOf } from './shape.js';
import * as ops from './ops.js';

/** Attributes of a node; which keys an op uses is fixed per op (see ops.ts). */
export interface Attrs {
  name?: string;
  data?: TypedArray;
  value?: number;
  axis?: number;
  axes?: readonly number[];
  keepDims?: boolean;
  perm?: readonly number[];
  start?: number;
  end?: number;
  to?: DType;
  reduction?: 'none' | 'add';
}

export class Graph {
  /** Every node in creation (= topological) order. */
  readonly nodes: Tensor[] = [];
  private readonly names = new Set<string>();

  /** @internal Create a node. Ops call this after checking arguments and inferring the shape. */
  node(op: string, inputs: readonly Tensor[], attrs: Attrs, shape: Shape, dtype: DType): Tensor {
    for (const [i, x] of inputs.entries()) {
      if (x.graph !== this) {
        throw new UserError({
          what: `${op}: input ${i} belongs to another graph`,
          where: `${op}(input ${i})`,
          expected: 'tensors created in the same Graph',
          received: `a tensor of a different Graph (id ${x.id})`,
          fix: 'trace the whole computation in one Graph; to reuse values across graphs, feed them as inputs',
        });
      }
    }
    const t = new Tensor(this, this.nodes.length, op, inputs, attrs, shape, dtype);
    this.nodes.push(t);
    return t;
  }

  private claimName(kind: string, name: string): void {
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.:\/-]*$/.test(name)) {
      throw new UserError({ what: `invalid ${kind} name`, where: `Graph.${kind}(name)`, expected: 'a name of letters, digits, _ . : / -, starting with a letter', received: describeValue(name), fix: 'rename it, e.g. "h0.wqkv"' });
    }
    if (this.names.has(name)) {
      throw new UserError({ what: `duplicate ${kind} name`, where: `Graph.${kind}("${name}")`, expected: 'a name not used by another input or initializer of this graph', received: JSON.stringify(name), fix: 'give every input and initializer its own name' });
    }
    this.names.add(name);
  }

  /** A value fed on every run. */
  input(name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    this.claimName('input', name);
    checkShape('Graph.input', shape);
    checkDType('Graph.input', dtype);
    return this.node('Input', [], { name }, [...shape], dtype);
  }

  /**
   * A constant baked into the graph. `data`: a number (a scalar, or filled to `shape`), a number
   * array or a typed array; `shape` defaults to [n] ([] for a number); dtype defaults to the typed
   * array's (float32 for numbers).
   */
  constant(data: TypedArray | readonly number[] | number, shape?: readonly number[], dtype?: DType): Tensor {
    if (typeof data === 'number') {
      const s = shape ?? [];
      checkShape('Graph.constant', s);
      const d = dtype ?? 'float32';
      checkDType('Graph.constant', d);
      return this.full(s, data, d);
    }
    const d = dtype ?? (Array.isArray(data) ? 'float32' : dtypeOfArray(data as TypedArray));
    checkDType('Graph.constant', d);
    const arr = Array.isArray(data) || dtypeOfArray(data as TypedArray) !== d
      ? typedFromNumbers(d, Array.isArray(data) ? (data as number[]) : Array.from(data as ArrayLike<number>, Number))
      : (data as TypedArray);
    const s = shape ?? [arr.length];
    checkShape('Graph.constant', s);
    if (sizeOf(s) !== arr.length) {
      throw new UserError({ what: 'constant data does not fill its shape', where: 'Graph.constant(data, shape)', expected: `${sizeOf(s)} values for shape ${fmtShape(s)}`, received: `${arr.length} values`, fix: 'pass as many values as the shape holds, or a single number to fill it' });
    }
    return this.node('Constant', [], { data: arr }, [...s], d);
  }

  /** A tensor of `shape` filled with `value` (stored as one number, not a buffer). */
  full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
    checkShape('Graph.full', shape);
    return this.node('Fill', [], { value }, [...shape], dtype);
  }

  zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return this.full(shape, 0, dtype);
  }

  ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return this.full(shape, 1, dtype);
  }

  /** Frozen weights stored inside the ONNX model (not fed, not copied per run). */
  initializer(name: string, data: TypedArray, shape: readonly number[]): Tensor {
    this.claimName('initializer', name);
    checkShape('Graph.initializer', shape);
    if (sizeOf(shape) !== data.length) {
      throw new UserError({ what: 'initializer data does not fill its shape', where: `Graph.initializer("${name}")`, expected: `${sizeOf(shape)} values for shape ${fmtShape(shape)}`, received: `${data.length} values`, fix: 'pass the weight with the shape it was saved with' });
    }
    return this.node('Initializer', [], { name, data }, [...shape], dtypeOfArray(data));
  }

  /** [0, 1, …, n-1] as a constant (int64 by default). */
  arange(n: number, dtype: DType = 'int64'): Tensor {
    const a = allocTyped('float64', n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.constant(typedFromNumbers(dtype, a), [n], dtype);
  }
}

function checkShape(where: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new UserError({ what: 'invalid shape', where, expected: 'an array of non-negative integers (static shapes)', received: describeValue(shape), fix: 'pass concrete sizes, e.g. [8, 128]' });
  }
}

function checkDType(where: string, dtype: DType): void {
  if (!DTYPES.includes(dtype)) {
    throw new UserError({ what: 'unknown dtype', where, expected: DTYPES.join(' | '), received: describeValue(dtype) });
  }
}

type Operand = Tensor | number;

export class Tensor {
  constructor(
    readonly graph: Graph,
    /** Position in graph.nodes. */
    readonly id: number,
    readonly op: string,
    readonly inputs: readonly Tensor[],
    readonly attrs: Attrs,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  toString(): string {
    return `Tensor(${this.op}#${this.id} ${this.dtype}${fmtShape(this.shape)})`;
  }

  add(x: Operand): Tensor { return ops.add(this, x); }
  sub(x: Operand): Tensor { return ops.sub(this, x); }
  mul(x: Operand): Tensor { return ops.mul(this, x); }
  div(x: Operand): Tensor { return ops.div(this, x); }
  pow(x: Operand): Tensor { return ops.pow(this, x); }
  maximum(x: Operand): Tensor { return ops.maximum(this, x); }
  minimum(x: Operand): Tensor { return ops.minimum(this, x); }
  eq(x: Operand): Tensor { return ops.eq(this, x); }
  lt(x: Operand): Tensor { return ops.lt(this, x); }
  gt(x: Operand): Tensor { return ops.gt(this, x); }
  le(x: Operand): Tensor { return ops.le(this, x); }
  ge(x: Operand): Tensor { return ops.ge(this, x); }
  and(x: Tensor): Tensor { return ops.and(this, x); }
  or(x: Tensor): Tensor { return ops.or(this, x); }
  not(): Tensor { return ops.not(this); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  square(): Tensor { return ops.mul(this, this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  logSigmoid(): Tensor { return ops.logSigmoid(this); }
  silu(): Tensor { return ops.silu(this); }
  gelu(): Tensor { return ops.gelu(this); }
  relu(): Tensor { return ops.relu(this); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
  matmul(x: Tensor): Tensor { return ops.matmul(this, x); }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return ops.transpose(this, perm); }
  slice(axis: number, start: number, end?: number): Tensor { return ops.slice(this, axis, start, end); }
  split(axis: number, sizes: number | readonly number[]): Tensor[] { return ops.split(this, axis, sizes); }
  expand(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  squeeze(axes?: number | readonly number[]): Tensor { return ops.squeeze(this, axes); }
  unsqueeze(axes: number | readonly number[]): Tensor { return ops.unsqueeze(this, axes); }
  gather(indices: Tensor, axis = 0): Tensor { return ops.gather(this, indices, axis); }
  takeAlongAxis(indices: Tensor, axis: number): Tensor { return ops.takeAlongAxis(this, indices, axis); }
  sum(axes?: number | readonly number[], keepDims = false): Tensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims = false): Tensor { return ops.mean(this, axes, keepDims); }
  max(axes?: number | readonly number[], keepDims = false): Tensor { return ops.max(this, axes, keepDims); }
  argmax(axis = -1): Tensor { return ops.argmax(this, axis); }
  cumsum(axis = -1): Tensor { return ops.cumsum(this, axis); }
  softmax(axis = -1): Tensor { return ops.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis); }
  stopGradient(): Tensor { return ops.stopGradient(this); }
}
