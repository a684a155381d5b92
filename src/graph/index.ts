/**
 * steer graph: symbolic tensors with static shapes, traced eagerly, differentiated in reverse mode
 * and serialised to ONNX.
 *
 *   new Graph()                       a tracing context; tensors belong to one graph
 *     .input(name, shape, dtype?)     fed on every run (dtype default float32)
 *     .constant(data, shape?, dtype?) baked-in value (number | number[] | typed array)
 *     .initializer(name, data, shape) frozen weights stored in the model (not fed, not copied)
 *     .full/zeros/ones(shape, …), .arange(n)
 *   Tensor { shape, dtype, graph } methods: add sub mul div pow maximum minimum (Tensor | number),
 *     eq lt gt le ge (→ bool), and or not, neg exp log sqrt rsqrt reciprocal abs sign square tanh
 *     sigmoid logSigmoid silu gelu(tanh) relu, cast(dtype), matmul (batched, broadcasting),
 *     reshape transpose slice split expand squeeze unsqueeze, gather(indices, axis) (embedding
 *     rows), takeAlongAxis(indices, axis) (token log-probs), sum mean max (axes?, keepDims?),
 *     softmax logSoftmax (axis), stopGradient.
 *   Functions: where, concat, scatterND / gatherND, scatterElements, softmaxCrossEntropy,
 *     crossEntropy (mean), causalMask, mT, addN.
 *   grad(y, xs, { seed?, deterministic? }) → dy/dx for each x, built into the same graph.
 *   exportOnnx(graph, { inputs, outputs }) → ONNX bytes; interpret(graph, outputs, feeds) runs the
 *     plain float64 reference twin of every op.
 * Shape and dtype mismatches throw a UserError naming the op, the argument, expected and received.
 * Inside traced code, Tensor | number operands adopt the tensor's dtype; there is no implicit promotion.
 * Known limits: ONNX Runtime's CPU ReduceMax skips NaN (the interpreter propagates it); embedding
 * gradients (ScatterND add) vary ~1e-6 run to run unless grad(…, { deterministic: true }); a model
 * must serialise below protobuf's 2 GB (large frozen weights need ONNX external data, not done).
 *
 * Example — softmax regression, its gradient and one SGD step, traced once:
 *
 *   import { Graph, grad, crossEntropy } from './graph/index.js';
 *   import { compile } from './runtime/index.js';
 *   const g = new Graph();
 *   const x = g.input('x', [32, 10]);                 // [B, D]
 *   const y = g.input('y', [32], 'int64');            // [B] class ids
 *   const w = g.input('w', [10, 4]);                  // [D, C]
 *   const logits = x.matmul(w);                       // [B, C]
 *   const loss = crossEntropy(logits, y);             // []
 *   const [dw] = grad(loss, [w]);                     // [D, C]
 *   const step = await compile(g, { inputs: [x, y, w], outputs: { loss, w2: w.sub(dw.mul(0.5)) } });
 *   const { loss: l, w2 } = await step.run({ x: xs, y: ys, w: w0 });
 */
export { Graph, Tensor } from './tensor.js';
export type { Attrs } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export { allocTyped, dtypeOfArray, isFloat, numbersFromTyped, typedFromNumbers } from './dtype.js';
export { sizeOf, broadcastShapes } from './shape.js';
export type { Shape } from './shape.js';
export {
  add, sub, mul, div, pow, maximum, minimum, eq, lt, gt, le, ge, and, or, not, neg, exp, log, sqrt,
  rsqrt, reciprocal, abs, sign, relu, tanh, sigmoid, logSigmoid, gelu, silu, cast, stopGradient,
  where, matmul, mT, reshape, transpose, concat, slice, split, expand, squeeze, unsqueeze, gather,
  takeAlongAxis, scatterElements, gatherND, scatterND, sum, mean, max, softmax, logSoftmax,
  softmaxCrossEntropy, crossEntropy, causalMask, addN,
} from './ops.js';
export { grad, sumToShape } from './grad.js';
export type { GradOptions } from './grad.js';
export { exportOnnx, OPSET } from './onnx.js';
export type { ExportSpec, ExportedModel } from './onnx.js';
export { interpret } from './interpret.js';
