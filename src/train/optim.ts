// AdamW as part of the step graph (Loshchilov & Hutter 2019, decoupled weight decay; PyTorch AdamW):
//   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   p ← p − lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)
// with g optionally clipped by the global norm (clip.ts). The learning rate and the step count
// are graph inputs, so schedules never recompile. Two ways to train:
//   - compileTrainStep: one graph = forward + backward + clipping + AdamW, one run per step;
//   - compileAccumulation: a gradient graph run per micro-batch (adds into accumulators inside the
//     graph) and an apply graph that does the AdamW update on the accumulated gradients.
// State (params, m, v) lives in a TrainState; each step's outputs become the next step's inputs
// (ONNX Runtime does not copy inputs).
import { UserError } from '../util/errors.js';
import { type DType, type Tensor, type TypedArray, Graph, allocTyped, grad, scatterND } from '../graph/index.js';
import { type Device, type Executable, compile, compileScan } from '../runtime/index.js';
import { clipCoefficient, globalNorm } from './clip.js';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (default 0 = Adam). */
  weightDecay?: number;
  /** Parameter names excluded from weight decay (norm gains, biases). */
  noDecay?: readonly string[];
  /** Clip gradients to this global L2 norm (default: no clipping). */
  maxGradNorm?: number;
}

export interface RunOptions {
  threads?: number;
  device?: Device;
  /** Bit-reproducible gradients (one-hot embedding gradients; see graph/grad.ts). */
  deterministic?: boolean;
  /** Idle ONNX Runtime threads spin (default true); false when other processes share the cores. */
  spinning?: boolean;
  /** ONNX Runtime's CPU memory arena (default true); false lowers peak RSS (see runtime compile). */
  memoryArena?: boolean;
}

export interface TrainStepSpec {
  /** A scalar loss traced in the graph of the params. */
  loss: Tensor;
  /** Trainable parameters: float graph inputs, fed from (and written back to) the TrainState. */
  params: readonly Tensor[];
  /** The other graph inputs (the batch), fed by name on every step. */
  batch: readonly Tensor[];
  /** Extra scalars or tensors to return every step (e.g. accuracy), by name. */
  extraOutputs?: Readonly<Record<string, Tensor>>;
}

/** Names of the graph values the optimizer adds. */
export const OPT = {
  lr: 'optim.lr',
  step: 'optim.step',
  gradScale: 'optim.grad_scale',
  m: (p: string) => `adam.m/${p}`,
  v: (p: string) => `adam.v/${p}`,
  acc: (p: string) => `grad.acc/${p}`,
  next: (name: string) => `next/${name}`,
} as const;

function paramName(p: Tensor, i: number): string {
  if (p.op !== 'Input') {
    throw new UserError({ what: 'trainable parameters must be graph inputs', where: `params[${i}]`, expected: "a tensor from graph.input(name, shape)", received: String(p), fix: 'declare each weight with graph.input and pass that tensor' });
  }
  if (p.dtype !== 'float32' && p.dtype !== 'float64') {
    throw new UserError({ what: 'trainable parameters must be floating point', where: `params[${i}] "${p.attrs.name}"`, expected: 'float32 or float64', received: p.dtype });
  }
  return p.attrs.name as string;
}

function resolve(o: AdamWOptions): Required<Omit<AdamWOptions, 'maxGradNorm'>> & { maxGradNorm: number | undefined } {
  const r = { beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0, noDecay: o.noDecay ?? [], maxGradNorm: o.maxGradNorm };
  const bad = (field: string, expected: string, v: unknown): never => {
    throw new UserError({ what: `invalid AdamW ${field}`, where: `adamW.${field}`, expected, received: String(v) });
  };
  if (!(r.beta1 >= 0 && r.beta1 < 1)) bad('beta1', 'a number in [0, 1)', r.beta1);
  if (!(r.beta2 >= 0 && r.beta2 < 1)) bad('beta2', 'a number in [0, 1)', r.beta2);
  if (!(r.eps > 0)) bad('eps', 'a positive number', r.eps);
  if (!(r.weightDecay >= 0)) bad('weightDecay', 'a number ≥ 0', r.weightDecay);
  if (r.maxGradNorm !== undefined && !(r.maxGradNorm > 0)) bad('maxGradNorm', 'a positive number, or undefined for no clipping', r.maxGradNorm);
  return r;
}

/**
 * Add the AdamW update of `params` given their gradients to the params' graph. Inputs created:
 * adam.m/<p>, adam.v/<p>, optim.step (count of this update, from 1), optim.lr, and, when
 * `gradScale` is set, optim.grad_scale (multiplies the gradients before clipping, e.g.
 * 1/micro-batches). Outputs: next/<p>, next/adam.m/<p>, next/adam.v/<p>, grad_norm.
 */
export function adamW(
  params: readonly Tensor[],
  grads: readonly Tensor[],
  opts: AdamWOptions = {},
  gradScale = false,
): { inputs: Tensor[]; outputs: Record<string, Tensor> } {
  const o = resolve(opts);
  const g0 = params[0].graph;
  const names = params.map(paramName);
  const dtype: DType = params[0].dtype;
  const step = g0.input(OPT.step, [], 'float32');
  const lr = g0.input(OPT.lr, [], 'float32');
  const inputs = [step, lr];
  const scalar = (t: Tensor): Tensor => t.cast(dtype);
  // float32: work with g₁ = (1−β1)·g, so m ← β1·m + g₁ needs no further multiply; ONNX Runtime
  // folds a constant factor on a matmul's output into the matmul (FusedMatMul alpha), so g₁ is
  // free for weight matrices. g² terms use g₁² with (1−β2)/(1−β1)², and the norm is ‖g₁‖/(1−β1).
  // (float64 keeps g: the folded alpha is a float32 attribute, which would cost float64 precision.)
  const k = dtype === 'float32' ? 1 - o.beta1 : 1;
  let g1 = grads.map((g) => scaleGradient(g, k));
  if (gradScale) {
    const s = g0.input(OPT.gradScale, [], 'float32');
    inputs.push(s);
    const sk = scalar(s).mul(k);
    g1 = grads.map((g) => g.mul(sk));
  }
  const { norm: norm1, squares } = globalNorm(g1); // squares[i] = g₁²
  const norm = norm1.mul(1 / k);
  // Clipping multiplies g by coef: g₁·coef and g₁²·coef².
  const coef = o.maxGradNorm === undefined ? null : clipCoefficient(norm, o.maxGradNorm);
  const mScale = (1 - o.beta1) / k; // 1 for float32
  const c1 = coef ? coef.mul(mScale) : g0.full([], mScale, dtype);
  const c2base = (1 - o.beta2) / (k * k);
  const c2 = coef ? coef.mul(coef).mul(c2base) : g0.full([], c2base, dtype);
  // Bias corrections bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ. Rewritten so that one scalar multiplies:
  //   lr·(m/bc1)/(sqrt(v/bc2) + ε) = (lr·sqrt(bc2)/bc1) · m / (sqrt(v) + ε·sqrt(bc2)).
  const t = scalar(step);
  const bc1 = g0.full([], 1, dtype).sub(g0.full([], o.beta1, dtype).pow(t));
  const sqrtBc2 = g0.full([], 1, dtype).sub(g0.full([], o.beta2, dtype).pow(t)).sqrt();
  const lrT = scalar(lr);
  const stepSize = lrT.mul(sqrtBc2).div(bc1);
  const epsHat = sqrtBc2.mul(o.eps);
  const outputs: Record<string, Tensor> = { grad_norm: norm };
  params.forEach((p, i) => {
    const name = names[i];
    const m = g0.input(OPT.m(name), p.shape, dtype);
    const v = g0.input(OPT.v(name), p.shape, dtype);
    inputs.push(m, v);
    const m2 = m.mul(o.beta1).add(g1[i].mul(c1)); // c1 = 1 (float32, no clipping) is elided
    const v2 = v.mul(o.beta2).add(squares[i].mul(c2));
    const decay = o.weightDecay > 0 && !o.noDecay.includes(name);
    const pd = decay ? p.mul(g0.full([], 1, dtype).sub(lrT.mul(o.weightDecay))) : p;
    const p2 = pd.sub(m2.div(v2.sqrt().add(epsHat)).mul(stepSize));
    outputs[OPT.next(name)] = p2;
    outputs[OPT.next(OPT.m(name))] = m2;
    outputs[OPT.next(OPT.v(name))] = v2;
  });
  return { inputs, outputs };
}

/**
 * g·k without an extra pass where the gradient is a scatter-add into zeros (embedding rows):
 * scale the scattered rows instead ([n, D] instead of [V, D]).
 */
function scaleGradient(g: Tensor, k: number): Tensor {
  const [data, idx, rows] = g.inputs;
  if (k !== 1 && g.op === 'ScatterND' && g.attrs.reduction === 'add' && data.op === 'Fill' && data.attrs.value === 0) {
    return scatterND(data, idx, rows.mul(k), 'add');
  }
  return g.mul(k);
}

/** Optimizer state fed to and returned by every step: params, Adam moments, update count. */
export class TrainState {
  /** Number of optimizer updates applied so far. */
  step = 0;
  readonly params: Record<string, TypedArray> = {};
  readonly m: Record<string, TypedArray> = {};
  readonly v: Record<string, TypedArray> = {};

  /** Start from initial weights (not copied): moments zero, step 0. */
  static init(params: Readonly<Record<string, TypedArray>>): TrainState {
    const s = new TrainState();
    for (const [k, a] of Object.entries(params)) {
      s.params[k] = a;
      s.m[k] = allocTyped(a instanceof Float64Array ? 'float64' : 'float32', a.length);
      s.v[k] = allocTyped(a instanceof Float64Array ? 'float64' : 'float32', a.length);
    }
    return s;
  }

  /** Feeds for an update graph (params and moments). */
  feeds(names: readonly string[], where: string): Record<string, TypedArray> {
    const f: Record<string, TypedArray> = {};
    for (const n of names) {
      if (!(n in this.params)) {
        throw new UserError({ what: `no state for parameter "${n}"`, where, expected: `TrainState with ${names.join(', ')}`, received: Object.keys(this.params).join(', ') || '(empty)', fix: 'create the state with TrainState.init(weights) holding every trainable parameter' });
      }
      f[n] = this.params[n];
      f[OPT.m(n)] = this.m[n];
      f[OPT.v(n)] = this.v[n];
    }
    return f;
  }

  /** Take the next params and moments from an update's outputs (no copy) and count the step. */
  absorb(names: readonly string[], out: Record<string, TypedArray>): void {
    for (const n of names) {
      this.params[n] = out[OPT.next(n)];
      this.m[n] = out[OPT.next(OPT.m(n))];
      this.v[n] = out[OPT.next(OPT.v(n))];
    }
    this.step += 1;
  }
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The extra outputs requested in the spec. */
  extra: Record<string, TypedArray>;
}

function checkBatchNames(spec: TrainStepSpec): void {
  for (const [i, b] of spec.batch.entries()) {
    if (b.op !== 'Input') throw new UserError({ what: 'batch entries must be graph inputs', where: `batch[${i}]`, expected: 'a tensor from graph.input', received: String(b) });
  }
  if (spec.loss.size !== 1) {
    throw new UserError({ what: 'the loss must be a scalar', where: 'TrainStepSpec.loss', expected: 'one element', received: `shape [${spec.loss.shape.join(', ')}]`, fix: 'reduce it, e.g. loss.mean()' });
  }
}

function scalarOf(a: TypedArray): number {
  return Number(a[0]);
}

/** One graph: loss, gradients, clipping and the AdamW update; one ONNX Runtime run per step. */
export class TrainStep {
  constructor(readonly exe: Executable, readonly paramNames: readonly string[], readonly extraNames: readonly string[]) {}

  /** Apply one update to `state` with learning rate `lr`; `batch` feeds the batch inputs by name. */
  async run(state: TrainState, batch: Readonly<Record<string, TypedArray>>, lr: number): Promise<StepResult> {
    const feeds = { ...batch, ...state.feeds(this.paramNames, 'TrainStep.run(state)'), [OPT.step]: Float32Array.of(state.step + 1), [OPT.lr]: Float32Array.of(lr) };
    const out = await this.exe.run(feeds);
    state.absorb(this.paramNames, out);
    const extra: Record<string, TypedArray> = {};
    for (const k of this.extraNames) extra[k] = out[k];
    return { loss: scalarOf(out.loss), gradNorm: scalarOf(out.grad_norm), extra };
  }

  /** Free the compiled session. */
  async release(): Promise<void> {
    await this.exe.release();
  }
}

/**
 * Session settings for a graph with frozen weights (LoRA's base, a reward model's trunk): the
 * weights fed on every run from steer's one host copy (compile's feedInitializers), so no session
 * holds a copy of them — neither the transposed copy ONNX Runtime folds for x·Wᵀ beside g·W nor
 * the plain one — and no memory pattern (which would hold the activations twice). Graphs without
 * initializers keep ONNX Runtime's defaults.
 */
export function frozenWeightOptions(g: Graph): { feedInitializers?: boolean; memoryPattern?: boolean } {
  return g.nodes.some((t) => t.op === 'Initializer') ? { feedInitializers: true, memoryPattern: false } : {};
}

/**
 * Session settings for a training graph: frozenWeightOptions, and no memory pattern whether or not
 * the graph has frozen weights — ONNX Runtime's pattern plans one block for a run's activations and
 * keeps it beside the arena's own blocks, holding the activations twice (bench:gpt, the reference
 * GPT step: peak RSS 861 → 648 MB with the same CPU time per step).
 */
export function trainSessionOptions(g: Graph): { feedInitializers?: boolean; memoryPattern: false } {
  return { ...frozenWeightOptions(g), memoryPattern: false };
}

/** Differentiate spec.loss, fuse AdamW and compile the whole step. */
export async function compileTrainStep(spec: TrainStepSpec, opt: AdamWOptions = {}, run: RunOptions = {}): Promise<TrainStep> {
  checkBatchNames(spec);
  const names = spec.params.map(paramName);
  const grads = grad(spec.loss, spec.params, { deterministic: run.deterministic });
  const { inputs, outputs } = adamW(spec.params, grads, opt);
  const extra = spec.extraOutputs ?? {};
  const exe = await compile(spec.loss.graph, {
    inputs: [...spec.params, ...inputs, ...spec.batch],
    outputs: { loss: spec.loss, ...outputs, ...extra },
    threads: run.threads,
    device: run.device,
    spinning: run.spinning,
    memoryArena: run.memoryArena,
    ...trainSessionOptions(spec.loss.graph),
    name: 'train_step',
  });
  return new TrainStep(exe, names, Object.keys(extra));
}

/**
 * `steps` updates per ONNX Runtime run: the step graph of compileTrainStep inside an ONNX Scan.
 * Params and moments go in once and come out once per run instead of once per step (the Node
 * binding copies every output: ~90 MB per step for a 7.4M-parameter model); each update is the
 * same computation as TrainStep's, so K runs of one step and one run of K steps agree.
 */
export class TrainSteps {
  constructor(readonly exe: Executable, readonly steps: number, readonly paramNames: readonly string[], readonly batchNames: readonly string[], readonly extraNames: readonly string[]) {}

  /** Apply `steps` updates: batches[i] feeds update i (by input name), lrs[i] its learning rate. */
  async run(state: TrainState, batches: readonly Readonly<Record<string, TypedArray>>[], lrs: readonly number[]): Promise<StepResult[]> {
    const K = this.steps;
    if (batches.length !== K || lrs.length !== K) {
      throw new UserError({ what: 'wrong number of batches or learning rates', where: 'TrainSteps.run(batches, lrs)', expected: `${K} of each (the steps per run it was compiled for)`, received: `${batches.length} batches, ${lrs.length} learning rates` });
    }
    const feeds: Record<string, TypedArray> = { ...state.feeds(this.paramNames, 'TrainSteps.run(state)') };
    for (const n of this.batchNames) {
      const first = batches[0][n];
      if (first === undefined) throw new UserError({ what: `missing batch input "${n}"`, where: 'TrainSteps.run(batches[0])', expected: this.batchNames.join(', '), received: Object.keys(batches[0]).join(', ') });
      const stacked = new (first.constructor as new (n: number) => TypedArray)(first.length * K);
      batches.forEach((b, i) => {
        const v = b[n];
        if (v === undefined || v.length !== first.length || v.constructor !== first.constructor) {
          throw new UserError({ what: `batch input "${n}" differs between steps`, where: `TrainSteps.run(batches[${i}].${n})`, expected: `${first.constructor.name} of ${first.length} elements, as in batches[0]`, received: v === undefined ? 'nothing' : `${v.constructor.name} of ${v.length}` });
        }
        (stacked as Float32Array).set(v as Float32Array, i * first.length);
      });
      feeds[n] = stacked;
    }
    feeds[OPT.step] = Float32Array.from({ length: K }, (_, i) => state.step + 1 + i);
    feeds[OPT.lr] = Float32Array.from(lrs);
    const out = await this.exe.run(feeds);
    state.absorb(this.paramNames, out);
    state.step += K - 1;
    return Array.from({ length: K }, (_, i) => {
      const extra: Record<string, TypedArray> = {};
      for (const k of this.extraNames) {
        const all = out[k];
        const n = all.length / K;
        extra[k] = all.slice(i * n, (i + 1) * n);
      }
      return { loss: Number(out.loss[i]), gradNorm: Number(out.grad_norm[i]), extra };
    });
  }
}

/** compileTrainStep's graph, `steps` updates per run (see TrainSteps). */
export async function compileTrainSteps(spec: TrainStepSpec, steps: number, opt: AdamWOptions = {}, run: RunOptions = {}): Promise<TrainSteps> {
  checkBatchNames(spec);
  const names = spec.params.map(paramName);
  const grads = grad(spec.loss, spec.params, { deterministic: run.deterministic });
  const { inputs, outputs } = adamW(spec.params, grads, opt);
  const byName = new Map(inputs.map((t) => [t.attrs.name as string, t]));
  const carried: [Tensor, Tensor, string][] = [];
  spec.params.forEach((p, i) => {
    const n = names[i];
    carried.push([p, outputs[OPT.next(n)], OPT.next(n)]);
    for (const s of [OPT.m(n), OPT.v(n)]) carried.push([byName.get(s)!, outputs[OPT.next(s)], OPT.next(s)]);
  });
  const extra = spec.extraOutputs ?? {};
  const exe = await compileScan(spec.loss.graph, {
    steps,
    carried,
    perStep: [...spec.batch, byName.get(OPT.step)!, byName.get(OPT.lr)!],
    perStepOutputs: { loss: spec.loss, grad_norm: outputs.grad_norm, ...extra },
    threads: run.threads,
    device: run.device,
    spinning: run.spinning,
    memoryArena: run.memoryArena,
    memoryPattern: false, // see trainSessionOptions
    name: 'train_steps',
  });
  return new TrainSteps(exe, steps, names, spec.batch.map((b) => b.attrs.name as string), Object.keys(extra));
}

/**
 * Gradient accumulation: `grads.run(acc, batch)` adds one micro-batch's gradients into the
 * accumulators (inside the graph) and returns its loss; `apply.run(state, acc, lr, scale)` does
 * the clipped AdamW update on scale·acc (scale = 1/micro-batches gives the mean).
 */
export class Accumulation {
  constructor(
    readonly gradExe: Executable,
    readonly applyExe: Executable,
    readonly paramNames: readonly string[],
    readonly shapes: readonly (readonly number[])[],
    readonly dtype: DType,
    readonly extraNames: readonly string[],
  ) {}

  /** Fresh zero accumulators (one per parameter). */
  zeros(): Record<string, TypedArray> {
    const acc: Record<string, TypedArray> = {};
    this.paramNames.forEach((n, i) => (acc[n] = allocTyped(this.dtype, this.shapes[i].reduce((a, b) => a * b, 1))));
    return acc;
  }

  /** Forward + backward of one micro-batch at the current params; returns the new accumulators. */
  async accumulate(state: TrainState, acc: Record<string, TypedArray>, batch: Readonly<Record<string, TypedArray>>): Promise<{ loss: number; acc: Record<string, TypedArray>; extra: Record<string, TypedArray> }> {
    const feeds: Record<string, TypedArray> = { ...batch };
    for (const n of this.paramNames) {
      feeds[n] = state.params[n];
      feeds[OPT.acc(n)] = acc[n];
    }
    const out = await this.gradExe.run(feeds);
    const next: Record<string, TypedArray> = {};
    for (const n of this.paramNames) next[n] = out[OPT.next(OPT.acc(n))];
    const extra: Record<string, TypedArray> = {};
    for (const k of this.extraNames) extra[k] = out[k];
    return { loss: scalarOf(out.loss), acc: next, extra };
  }

  /** AdamW update with gradients scale·acc; returns the pre-clip global norm of scale·acc. */
  async apply(state: TrainState, acc: Record<string, TypedArray>, lr: number, scale = 1): Promise<{ gradNorm: number }> {
    const feeds: Record<string, TypedArray> = { ...state.feeds(this.paramNames, 'Accumulation.apply(state)'), [OPT.step]: Float32Array.of(state.step + 1), [OPT.lr]: Float32Array.of(lr), [OPT.gradScale]: Float32Array.of(scale) };
    for (const n of this.paramNames) feeds[OPT.acc(n)] = acc[n];
    const out = await this.applyExe.run(feeds);
    state.absorb(this.paramNames, out);
    return { gradNorm: scalarOf(out.grad_norm) };
  }

  /** Free both compiled sessions. */
  async release(): Promise<void> {
    await this.gradExe.release();
    await this.applyExe.release();
  }
}

/** Compile the micro-batch gradient graph and the AdamW apply graph. */
export async function compileAccumulation(spec: TrainStepSpec, opt: AdamWOptions = {}, run: RunOptions = {}): Promise<Accumulation> {
  checkBatchNames(spec);
  const names = spec.params.map(paramName);
  const g = spec.loss.graph;
  const grads = grad(spec.loss, spec.params, { deterministic: run.deterministic });
  const accIn = spec.params.map((p, i) => g.input(OPT.acc(names[i]), p.shape, p.dtype));
  const outputs: Record<string, Tensor> = { loss: spec.loss, ...(spec.extraOutputs ?? {}) };
  names.forEach((n, i) => (outputs[OPT.next(OPT.acc(n))] = accIn[i].add(grads[i])));
  const gradExe = await compile(g, { inputs: [...spec.params, ...accIn, ...spec.batch], outputs, threads: run.threads, device: run.device, spinning: run.spinning, ...trainSessionOptions(g), name: 'grad_accumulate' });

  const ag = new Graph();
  const params = spec.params.map((p, i) => ag.input(names[i], p.shape, p.dtype));
  const accs = spec.params.map((p, i) => ag.input(OPT.acc(names[i]), p.shape, p.dtype));
  const upd = adamW(params, accs, opt, true);
  const applyExe = await compile(ag, { inputs: [...params, ...accs, ...upd.inputs], outputs: upd.outputs, threads: run.threads, device: run.device, spinning: run.spinning, ...trainSessionOptions(ag), name: 'adamw_apply' });
  return new Accumulation(gradExe, applyExe, names, spec.params.map((p) => p.shape), spec.params[0].dtype, Object.keys(spec.extraOutputs ?? {}));
}

/**
 * Plain twin of the AdamW graph, for tests: one update of float64 arrays in place, PyTorch's
 * formulation (bias-corrected moments, denominator sqrt(v̂) + ε, decoupled decay, clipping by
 * the global norm of scale·g). Returns the pre-clip global norm.
 */
export function adamWReference(
  params: Float64Array[],
  grads: Float64Array[],
  m: Float64Array[],
  v: Float64Array[],
  step: number,
  lr: number,
  opts: AdamWOptions = {},
  decay: boolean[] = params.map(() => true),
  scale = 1,
): number {
  const o = resolve(opts);
  const gs = grads.map((g) => g.map((x) => x * scale));
  let sq = 0;
  for (const g of gs) for (const x of g) sq += x * x;
  const norm = Math.sqrt(sq);
  const coef = o.maxGradNorm === undefined ? 1 : Math.min(1, o.maxGradNorm / (norm + 1e-6));
  const bc1 = 1 - o.beta1 ** step;
  const bc2 = 1 - o.beta2 ** step;
  params.forEach((p, k) => {
    for (let i = 0; i < p.length; i++) {
      const g = gs[k][i] * coef;
      if (o.weightDecay > 0 && decay[k]) p[i] *= 1 - lr * o.weightDecay;
      m[k][i] = o.beta1 * m[k][i] + (1 - o.beta1) * g;
      v[k][i] = o.beta2 * v[k][i] + (1 - o.beta2) * g * g;
      p[i] -= (lr * (m[k][i] / bc1)) / (Math.sqrt(v[k][i] / bc2) + o.eps);
    }
  });
  return norm;
}
