/**
 * steer runtime: run traced graphs with ONNX Runtime (onnxruntime-node).
 *
 *   compile(graph, { inputs, outputs, threads?, device?, optimization?, spinning?, profile?,
 *                    sessionConfig?, optimizedModelPath?, dynamicAxes? }) → Promise<Executable>
 *     Serialises the part of `graph` that computes `outputs` (an ONNX model, opset 20) and opens an
 *     InferenceSession; sessions are cached by (model bytes, threads, device, optimisation).
 *   Executable.run(feeds: Record<inputName, TypedArray>, dims?) → Promise<Record<outputName, TypedArray>>
 *     One session.run (dims: each dynamicAxes symbol's size for this run). Inputs are not copied: feed a step's outputs straight back as the next
 *     step's inputs. Outputs are always new arrays (the Node binding copies them, ~0.55 ms/MB),
 *     so keep what crosses the boundary small: frozen weights belong in the graph as initializers.
 *   Executable.inputs / outputs (name, shape, dtype), .model (ONNX bytes), .nodeCount, release().
 *   compileScan(graph, { steps: K, carried: [[input, next, outputName]], perStep, perStepOutputs, … })
 *     → Promise<Executable>: K iterations of the graph in one session.run (an ONNX Scan). Carried
 *     state goes in once and comes out once; per-step inputs are fed stacked [K, …] and per-step
 *     outputs come back stacked. The way to keep large state (a training step's parameters and
 *     Adam moments) from crossing the binding every iteration (train/optim.ts compileTrainSteps).
 *   defaultThreads(), clearCompileCache(), compiledSessionCount().
 *
 * Threads: use physical cores (2 on the CI machine; more threads than cores is much slower).
 * spinning: false makes idle ONNX Runtime threads yield (faster when other processes share the
 * cores). Preallocated outputs do not help: the Node binding copies every output into a new
 * buffer even when ONNX Runtime wrote into one passed in fetches (checked with 1.30).
 * session.run blocks the event loop for the whole call: train in a worker thread if the process
 * must stay responsive. device 'cuda' needs onnxruntime-node's CUDA binaries (see compile.ts).
 *
 * Example — a linear regression step compiled once and run twice:
 *
 *   import { Graph, grad } from '../graph/index.js';
 *   import { compile } from '../runtime/index.js';
 *   const g = new Graph();
 *   const x = g.input('x', [4, 3]);          // [B, D]
 *   const w = g.input('w', [3, 1]);          // [D, 1]
 *   const y = g.input('y', [4, 1]);          // [B, 1]
 *   const loss = x.matmul(w).sub(y).square().mean();
 *   const [dw] = grad(loss, [w]);
 *   const step = await compile(g, { inputs: [x, w, y], outputs: { loss, new_w: w.sub(dw.mul(0.1)) } });
 *   let wv = new Float32Array(3);
 *   for (let i = 0; i < 2; i++) {
 *     const out = await step.run({ x: xs, w: wv, y: ys });
 *     wv = out.new_w as Float32Array;        // fed back without a copy
 *   }
 */
export { compile, compileScan, Executable, defaultThreads, clearCompileCache, compiledSessionCount } from './compile.js';
export type { CompileOptions, Device, IOSpec, ScanCompileOptions } from './compile.js';
export { ShapeCache } from './cache.js';
export type { Releasable } from './cache.js';
