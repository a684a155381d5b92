// Serialisation of a traced graph to an ONNX ModelProto (opset 20) with the maintained
// onnx-proto (protobufjs) classes. Only nodes reachable from the outputs are emitted; identical
// nodes are merged (common-subexpression elimination) first.
import onnxProto from 'onnx-proto';
import { UserError } from '../util/errors.js';
import { type DType, type TypedArray, ONNX_DTYPE, allocTyped, typedFromNumbers } from './dtype.js';
import { sizeOf } from './shape.js';
import { interpret } from './interpret.js';
import type { Graph, Tensor } from './tensor.js';

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

export const OPSET = 20;
const IR_VERSION = 9;

export interface ExportSpec {
  /** Graph inputs in feed order; every Input node the outputs depend on must be listed. */
  inputs: readonly Tensor[];
  /** Output name → tensor. */
  outputs: Readonly<Record<string, Tensor>>;
  /** Model name recorded in the proto. */
  name?: string;
  /**
   * Also list every Initializer-op tensor as a graph input (an overridable default, ONNX IR ≥ 4).
   * ONNX Runtime then neither constant-folds nor prepacks it: one copy of a frozen weight in the
   * session instead of one per orientation its matmuls read (x·Wᵀ forward, g·W backward).
   */
  overridableInitializers?: boolean;
  /**
   * Store Initializer-op tensors of at least `minBytes` outside the proto (ONNX external data, for
   * models past protobuf's 2 GB limit): `write` appends a tensor's bytes to the file `location`
   * (relative to the model file) and returns their offset.
   */
  externalData?: { location: string; minBytes: number; write: (bytes: Uint8Array) => number };
  /**
   * Emit every live Initializer-op tensor as a plain graph input instead (no data in the model):
   * the caller feeds the tensor's own host array on every run (compile's feedInitializers), so the
   * session holds no copy of the frozen weights. Takes precedence over the two options above.
   */
  feedInitializers?: boolean;
  /**
   * Input name → axis → a symbolic size (ONNX dim_param): that input's size along the axis may
   * differ from run to run. The traced size must leave no other trace in the model — ops read it
   * from the tensor (broadcasting, reductions, a slice through the end of its axis), never a
   * reshape target or slice bound — which is the caller's to hold (the decode graph's cache
   * columns: src/nn/generate.ts, tested there at several sizes).
   */
  dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

export interface ExportedModel {
  bytes: Uint8Array;
  inputNames: string[];
  outputNames: string[];
  /** Number of ONNX nodes emitted (after merging). */
  nodeCount: number;
  /** With feedInitializers: the Initializer tensors emitted as inputs (after the spec's inputs), in input order. */
  fedInitializers: Tensor[];
}

/** The key under which two nodes compute the same value. */
function cseKey(t: Tensor, rep: (u: Tensor) => number): string | null {
  switch (t.op) {
    case 'Input': case 'Initializer': return null;
    case 'Constant': {
      const d = t.attrs.data as TypedArray;
      if (d.length > 64) return null;
      return `C|${t.dtype}|${t.shape.join(',')}|${Array.from(d as ArrayLike<number | bigint>, String).join(',')}`;
    }
    case 'Fill': return `F|${t.dtype}|${t.shape.join(',')}|${t.attrs.value}`;
    default: {
      const a = t.attrs;
      return `${t.op}|${t.inputs.map(rep).join(',')}|${t.shape.join(',')}|${t.dtype}|${a.axis ?? ''}|${a.axes?.join(',') ?? ''}|${a.keepDims ?? ''}|${a.perm?.join(',') ?? ''}|${a.start ?? ''}|${a.end ?? ''}|${a.to ?? ''}|${a.reduction ?? ''}`;
    }
  }
}

function rawBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, dtype: DType, shape: readonly number[], data: TypedArray): TensorProto {
  return onnx.TensorProto.create({ name, dataType: ONNX_DTYPE[dtype], dims: [...shape], rawData: rawBytes(data) });
}

function int64s(values: readonly number[]): BigInt64Array {
  return BigInt64Array.from(values, (v) => BigInt(v));
}

function valueInfo(name: string, t: Tensor, dynamic: Readonly<Record<number, string>> = {}) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim: t.shape.map((d, axis) => (dynamic[axis] !== undefined ? { dimParam: dynamic[axis] } : { dimValue: d })) } } },
  });
}

function attr(name: string, v: number | string | readonly number[] | TensorProto, kind: 'int' | 'float' = 'int') {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...(v as number[])] });
  if (typeof v === 'number') {
    return kind === 'float' ? onnx.AttributeProto.create({ name, type: T.FLOAT, f: v }) : onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: v as TensorProto });
}

/**
 * The value c when t is the same constant everywhere and computable from constants alone (no
 * inputs), else null. Evaluated with the reference interpreter on t's (small) constant subgraph.
 */
export function uniformConstant(t: Tensor, maxNodes = 64): number | null {
  const seen = new Set<number>();
  const stack = [t];
  while (stack.length) {
    const u = stack.pop()!;
    if (seen.has(u.id)) continue;
    seen.add(u.id);
    if (u.op === 'Input' || u.op === 'Initializer' || seen.size > maxNodes || u.size > 1 << 16) return null;
    stack.push(...u.inputs);
  }
  const v = interpret(t.graph, { v: t }, {}).v;
  return v.every((x) => x === v[0]) && Number.isFinite(v[0]) ? v[0] : null;
}

/** Serialise the part of `graph` that computes `spec.outputs` from `spec.inputs`. */
export function exportOnnx(graph: Graph, spec: ExportSpec): ExportedModel {
  const outEntries = Object.entries(spec.outputs);
  if (outEntries.length === 0) throw new UserError({ what: 'nothing to compute', where: 'compile(outputs)', expected: 'at least one output tensor', received: '{}' });
  const inputIds = new Set<number>();
  for (const [i, x] of spec.inputs.entries()) {
    if (x.graph !== graph || x.op !== 'Input') {
      throw new UserError({ what: 'compile inputs must be graph inputs', where: `compile(inputs[${i}])`, expected: 'a tensor made by graph.input(name, shape)', received: String(x), fix: 'list only Graph.input tensors in inputs' });
    }
    inputIds.add(x.id);
  }
  const outNames = new Set<string>();
  for (const [k, t] of outEntries) {
    if (t.graph !== graph) throw new UserError({ what: 'output belongs to another graph', where: `compile(outputs.${k})`, expected: 'a tensor of the compiled graph', received: String(t) });
    outNames.add(k);
  }
  for (const x of spec.inputs) {
    if (outNames.has(x.attrs.name as string)) throw new UserError({ what: 'an output has the name of an input', where: `compile(outputs.${x.attrs.name})`, expected: 'output names distinct from input names', received: String(x.attrs.name), fix: 'rename the output, e.g. "new_" + name' });
  }

  // Live nodes (reachable from outputs), with common subexpressions merged.
  const live = new Uint8Array(graph.nodes.length);
  const stack = outEntries.map(([, t]) => t);
  while (stack.length) {
    const t = stack.pop()!;
    if (live[t.id]) continue;
    live[t.id] = 1;
    if (t.op === 'Input' && !inputIds.has(t.id)) {
      throw new UserError({ what: `the outputs depend on input "${t.attrs.name}", which is not listed`, where: 'compile(inputs)', expected: `inputs including "${t.attrs.name}"`, received: spec.inputs.map((x) => x.attrs.name).join(', ') || '(none)', fix: 'add the tensor to the inputs list' });
    }
    for (const u of t.inputs) stack.push(u);
  }
  const repOf = new Int32Array(graph.nodes.length).fill(-1);
  const seen = new Map<string, number>();
  const rep = (u: Tensor): number => repOf[u.id];
  for (const t of graph.nodes) {
    if (!live[t.id]) continue;
    if (t.op === 'StopGradient') { repOf[t.id] = repOf[t.inputs[0].id]; continue; }
    const key = cseKey(t, rep);
    if (key !== null) {
      const prev = seen.get(key);
      if (prev !== undefined) { repOf[t.id] = prev; continue; }
      seen.set(key, t.id);
    }
    repOf[t.id] = t.id;
  }

  // Names: inputs and initializers keep theirs; an op node computing an output takes the output's name.
  const name = new Map<number, string>();
  for (const t of graph.nodes) if (live[t.id] && (t.op === 'Input' || t.op === 'Initializer')) name.set(t.id, t.attrs.name as string);
  const identities: [string, string][] = [];
  for (const [k, t] of outEntries) {
    const r = repOf[t.id];
    const node = graph.nodes[r];
    if (name.has(r) || node.op === 'Input' || node.op === 'Initializer') identities.push([k, name.get(r)!]);
    else name.set(r, k);
  }
  const nm = (t: Tensor): string => {
    const r = repOf[t.id];
    let s = name.get(r);
    if (s === undefined) { s = `_v${r}`; name.set(r, s); }
    return s;
  };

  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let tmp = 0;
  const fresh = (): string => `_w${tmp++}`;
  const constInt64 = new Map<string, string>();
  const i64 = (values: readonly number[]): string => {
    const key = values.join(',');
    let s = constInt64.get(key);
    if (!s) {
      s = `_i64_${constInt64.size}`;
      inits.push(tensorProto(s, 'int64', [values.length], int64s(values)));
      constInt64.set(key, s);
    }
    return s;
  };
  const emit = (opType: string, inputs: string[], outputs: string[], attrs: ReturnType<typeof attr>[] = []): void => {
    nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute: attrs, name: `n${nodes.length}` }));
  };
  const logpOf = new Map<number, string>();
  const overridable: ReturnType<typeof valueInfo>[] = [];
  const fed: Tensor[] = [];

  for (const t of graph.nodes) {
    if (!live[t.id] || repOf[t.id] !== t.id) continue;
    const out = nm(t);
    const ins = t.inputs.map(nm);
    const a = t.attrs;
    switch (t.op) {
      case 'Input': break;
      case 'Initializer':
        if (spec.feedInitializers) {
          fed.push(t);
          overridable.push(valueInfo(out, t));
          break;
        }
        if (spec.externalData && (a.data as TypedArray).byteLength >= spec.externalData.minBytes) {
          const ext = spec.externalData;
          const bytes = rawBytes(a.data as TypedArray);
          const offset = ext.write(bytes);
          inits.push(onnx.TensorProto.create({ name: out, dataType: ONNX_DTYPE[t.dtype], dims: [...t.shape], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: ext.location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(bytes.byteLength) }] }));
        } else inits.push(tensorProto(out, t.dtype, t.shape, a.data as TypedArray));
        if (spec.overridableInitializers) overridable.push(valueInfo(out, t));
        break;
      case 'Constant': inits.push(tensorProto(out, t.dtype, t.shape, a.data as TypedArray)); break;
      case 'Fill': {
        const one = typedFromNumbers(t.dtype, [a.value as number]);
        if (sizeOf(t.shape) <= 64) {
          const full = allocTyped(t.dtype, sizeOf(t.shape));
          (full as unknown as { fill(v: unknown): void }).fill(one[0]);
          inits.push(tensorProto(out, t.dtype, t.shape, full));
        } else {
          emit('ConstantOfShape', [i64(t.shape)], [out], [attr('value', tensorProto('', t.dtype, [1], one))]);
        }
        break;
      }
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min':
      case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual':
      case 'And': case 'Or': case 'Where': {
        // ONNX Runtime's CPU broadcast of a rank-0 operand against [..., n, 1] takes a slow
        // element-by-element path (15× slower for [1M, 1] · []); a [1, …, 1] operand does not.
        const last = t.shape[t.rank - 1];
        const fixed = t.rank >= 2 && last === 1 && t.size > 1
          ? t.inputs.map((u, i) => {
            if (u.rank !== 0) return ins[i];
            const r = fresh();
            emit('Reshape', [ins[i], i64(new Array<number>(t.rank).fill(1))], [r]);
            return r;
          })
          : ins;
        emit(t.op, fixed, [out]);
        break;
      }
      case 'Neg': case 'Exp': case 'Log': case 'Sqrt':
      case 'Reciprocal': case 'Abs': case 'Sign': case 'Relu': case 'Tanh': case 'Sigmoid':
      case 'Not': case 'MatMul': case 'Sum': case 'GatherND':
        emit(t.op, ins, [out]);
        break;
      case 'Rsqrt': {
        const s = fresh();
        emit('Sqrt', ins, [s]);
        emit('Reciprocal', [s], [out]);
        break;
      }
      case 'LogSigmoid': {
        if (t.dtype === 'float64') {
          // No float64 Softplus kernel: log σ(x) = min(x, 0) − log(1 + exp(−|x|)), stable for any x.
          const [ab, na, e, one, l, z, mn] = [fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh()];
          inits.push(tensorProto(z, 'float64', [], Float64Array.of(0)));
          inits.push(tensorProto(one, 'float64', [], Float64Array.of(1)));
          emit('Abs', ins, [ab]);
          emit('Neg', [ab], [na]);
          emit('Exp', [na], [e]);
          const s1 = fresh();
          emit('Add', [e, one], [s1]);
          emit('Log', [s1], [l]);
          emit('Min', [ins[0], z], [mn]);
          emit('Sub', [mn, l], [out]);
          break;
        }
        // log σ(x) = −softplus(−x); Softplus is evaluated stably by ONNX Runtime.
        const n1 = fresh();
        const sp = fresh();
        emit('Neg', ins, [n1]);
        emit('Softplus', [n1], [sp]);
        emit('Neg', [sp], [out]);
        break;
      }
      case 'Gelu': emit('Gelu', ins, [out], [attr('approximate', 'tanh')]); break;
      case 'Cast': emit('Cast', ins, [out], [attr('to', ONNX_DTYPE[a.to as DType])]); break;
      case 'Reshape': emit('Reshape', [ins[0], i64(t.shape)], [out]); break;
      case 'Expand': emit('Expand', [ins[0], i64(t.shape)], [out]); break;
      case 'Transpose': emit('Transpose', ins, [out], [attr('perm', a.perm as number[])]); break;
      case 'Concat': emit('Concat', ins, [out], [attr('axis', a.axis as number)]); break;
      case 'Slice': {
        // a slice through the end of its axis says so (ONNX clamps a larger end to the axis' length),
        // so it stays right when the axis' size is dynamic
        const end = (a.end as number) === t.inputs[0].shape[a.axis as number] ? Number.MAX_SAFE_INTEGER : (a.end as number);
        emit('Slice', [ins[0], i64([a.start as number]), i64([end]), i64([a.axis as number])], [out]);
        break;
      }
      case 'Pad': {
        const r = t.rank;
        const pads = new Array<number>(2 * r).fill(0);
        pads[a.axis as number] = a.start as number;
        pads[r + (a.axis as number)] = a.end as number;
        emit('Pad', [ins[0], i64(pads)], [out]);
        break;
      }
      case 'Gather': emit('Gather', ins, [out], [attr('axis', a.axis as number)]); break;
      case 'GatherElements': emit('GatherElements', ins, [out], [attr('axis', a.axis as number)]); break;
      case 'ScatterElements': emit('ScatterElements', ins, [out], [attr('axis', a.axis as number), attr('reduction', a.reduction as string)]); break;
      case 'ScatterND': {
        const idx = t.inputs[1].dtype === 'int64' ? ins[1] : fresh();
        if (idx !== ins[1]) emit('Cast', [ins[1]], [idx], [attr('to', ONNX_DTYPE.int64)]);
        emit('ScatterND', [ins[0], idx, ins[2]], [out], [attr('reduction', a.reduction as string)]);
        break;
      }
      case 'ReduceSum': case 'ReduceMean': case 'ReduceMax':
        emit(t.op, [ins[0], i64(a.axes as number[])], [out], [attr('keepdims', a.keepDims ? 1 : 0)]);
        break;
      case 'CumSum': emit('CumSum', [ins[0], i64([a.axis as number])], [out]); break;
      case 'ArgMax': emit('ArgMax', ins, [out], [attr('axis', a.axis as number), attr('keepdims', 0), attr('select_last_index', 0)]); break;
      case 'Softmax': case 'LogSoftmax': emit(t.op, ins, [out], [attr('axis', a.axis as number)]); break;
      case 'SoftmaxCrossEntropy': {
        // loss_i = −logSoftmax(x)_i[t_i]; x [N, V], t [N]
        const logp = fresh();
        const t2 = fresh();
        const picked = fresh();
        const negp = fresh();
        emit('LogSoftmax', [ins[0]], [logp], [attr('axis', 1)]);
        emit('Unsqueeze', [ins[1], i64([1])], [t2]);
        emit('GatherElements', [logp, t2], [picked], [attr('axis', 1)]);
        emit('Neg', [picked], [negp]);
        emit('Reshape', [negp, i64(t.shape)], [out]);
        logpOf.set(t.id, logp);
        break;
      }
      case 'SoftmaxCrossEntropyGrad': {
        // (softmax(x) − onehot(t))·g = softmax(x)·g, then scatter-add −g at the targets. x [N, V], t [N], g [N]
        const [x, tg, g] = t.inputs;
        const fwd = graph.nodes.find((u) => live[u.id] && repOf[u.id] === u.id && u.op === 'SoftmaxCrossEntropy' && repOf[u.inputs[0].id] === repOf[x.id] && repOf[u.inputs[1].id] === repOf[tg.id]);
        const p = fresh();
        if (fwd && logpOf.has(fwd.id)) emit('Exp', [logpOf.get(fwd.id)!], [p]);
        else emit('Softmax', [nm(x)], [p], [attr('axis', 1)]);
        const t2 = fresh();
        emit('Unsqueeze', [nm(tg), i64([1])], [t2]);
        const uniform = uniformConstant(g);
        if (uniform !== null) {
          // g = c everywhere (a mean's gradient): (softmax − onehot)·c, with the scalar multiply last
          // so that ONNX Runtime folds it into the matmuls that consume the gradient (no [N, V] pass).
          const minus = fresh();
          inits.push(tensorProto(minus, t.dtype, [t.shape[0], 1], typedFromNumbers(t.dtype, new Array<number>(t.shape[0]).fill(-1))));
          if (uniform === 1) {
            emit('ScatterElements', [p, t2, minus], [out], [attr('axis', 1), attr('reduction', 'add')]);
          } else {
            const d = fresh();
            const cName = fresh();
            inits.push(tensorProto(cName, t.dtype, [], typedFromNumbers(t.dtype, [uniform])));
            emit('ScatterElements', [p, t2, minus], [d], [attr('axis', 1), attr('reduction', 'add')]);
            emit('Mul', [d, cName], [out]);
          }
          break;
        }
        const g2 = fresh();
        const ng2 = fresh();
        const pg = fresh();
        emit('Unsqueeze', [nm(g), i64([1])], [g2]);
        emit('Mul', [p, g2], [pg]);
        emit('Neg', [g2], [ng2]);
        emit('ScatterElements', [pg, t2, ng2], [out], [attr('axis', 1), attr('reduction', 'add')]);
        break;
      }
      default:
        throw new Error(`exportOnnx: no ONNX form for op ${t.op}`);
    }
  }
  for (const [k, src] of identities) emit('Identity', [src], [k]);

  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'steer',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: spec.name ?? 'steer',
      node: nodes,
      initializer: inits,
      input: [...spec.inputs.map((x) => valueInfo(x.attrs.name as string, x, spec.dynamicAxes?.[x.attrs.name as string])), ...overridable],
      output: outEntries.map(([k, t]) => valueInfo(k, t)),
    },
  });
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    inputNames: spec.inputs.map((x) => x.attrs.name as string),
    outputNames: outEntries.map(([k]) => k),
    nodeCount: nodes.length,
    fedInitializers: fed,
  };
}
