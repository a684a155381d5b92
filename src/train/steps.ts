// Optimizer steps compiled once per batch shape, and micro-batch accumulation — the part of a
// training step every trainer shares (reward models, SFT, DPO, REINFORCE):
//   one micro-batch    one graph = loss + gradient + clipping + AdamW (optim.ts compileTrainStep)
//   n micro-batches    g = (1/n) Σ_i ∇L_i: a gradient graph per micro-batch adds into accumulators,
//                      then one AdamW update on the mean (compileAccumulation); each L_i is its own
//                      micro-batch's mean, as NeMo-Aligner's micro-batches. The step's loss is the
//                      mean of the L_i; each extra output is the micro-batches' values concatenated.
// Which weights skip decay (one rule): every 1-D parameter — norm gains and biases (TRL / the HF
// Trainer exclude LayerNorm/RMSNorm weights and biases); matrices and embeddings decay.
// A trainer gives `trace(shape)` (the loss graph of one micro-batch of that shape); compiled
// executables are cached by shape (runtime/cache.ts) and freed by release().
import type { Tensor, TypedArray } from '../graph/index.js';
import { ShapeCache } from '../runtime/cache.js';
import { compileAccumulation, compileTrainStep, type Accumulation, type AdamWOptions, type RunOptions, type StepResult, type TrainState, type TrainStep, type TrainStepSpec } from './optim.js';

/** One micro-batch: its graph shape (e.g. [B, T]; the cache key) and its feeds by input name. */
export interface MicroBatch {
  shape: readonly number[];
  feeds: Readonly<Record<string, TypedArray>>;
}

export interface StepOptimizer {
  /** Decoupled weight decay of matrices and embeddings (default 0). */
  weightDecay?: number;
  /** Clip gradients to this global norm (0 or absent: off). */
  maxGradNorm?: number;
}

/** Parameters exempt from weight decay: the 1-D ones (norm gains, biases). */
export function noDecayNames(params: readonly Tensor[]): string[] {
  return params.filter((p) => p.shape.length === 1).map((p) => p.attrs.name as string);
}

/** The AdamW options of a step graph: the decay rule above applied to its parameters. */
export function adamWFor(params: readonly Tensor[], o: StepOptimizer): AdamWOptions {
  return { weightDecay: o.weightDecay ?? 0, noDecay: noDecayNames(params), maxGradNorm: o.maxGradNorm !== undefined && o.maxGradNorm > 0 ? o.maxGradNorm : undefined };
}

export class ShapeSteps {
  private readonly fused = new ShapeCache<TrainStep>();
  private readonly accumulating = new ShapeCache<Accumulation>();

  constructor(
    /** The loss graph of one micro-batch of this shape (a fresh Graph per call). */
    private readonly trace: (shape: readonly number[]) => TrainStepSpec,
    readonly optimizer: StepOptimizer = {},
    readonly engine: RunOptions = {},
  ) {}

  private build<R>(shape: readonly number[], compileWith: (spec: TrainStepSpec, opt: AdamWOptions, run: RunOptions) => Promise<R>): Promise<R> {
    const spec = this.trace(shape);
    return compileWith(spec, adamWFor(spec.params, this.optimizer), this.engine);
  }

  /** Apply one optimizer update to `state` from one or more micro-batches (see the file header). */
  async step(state: TrainState, micro: readonly MicroBatch[], lr: number): Promise<StepResult> {
    if (micro.length === 1) {
      const s = micro[0].shape;
      const exe = await this.fused.get(s.join('x'), () => this.build(s, compileTrainStep));
      return exe.run(state, micro[0].feeds, lr);
    }
    let acc: Record<string, TypedArray> | null = null;
    let last: Accumulation | null = null;
    let loss = 0;
    const extras: Record<string, number[]> = {};
    for (const mb of micro) {
      const a = await this.accumulating.get(mb.shape.join('x'), () => this.build(mb.shape, compileAccumulation));
      const r = await a.accumulate(state, acc ?? a.zeros(), mb.feeds);
      acc = r.acc;
      last = a;
      loss += r.loss / micro.length;
      for (const [k, v] of Object.entries(r.extra)) (extras[k] ??= []).push(...Array.from(v as ArrayLike<number>, Number));
    }
    const { gradNorm } = await last!.apply(state, acc!, lr, 1 / micro.length);
    const extra: Record<string, TypedArray> = {};
    for (const [k, v] of Object.entries(extras)) extra[k] = Float32Array.from(v);
    return { loss, gradNorm, extra };
  }

  /** Free every compiled step. */
  async release(): Promise<void> {
    await this.fused.release();
    await this.accumulating.release();
  }
}

/** Split row-major feeds with a leading batch axis of `rows` into `parts` equal micro-batches. */
export function splitRows(feeds: Readonly<Record<string, TypedArray>>, rows: number, parts: number): Record<string, TypedArray>[] {
  const out: Record<string, TypedArray>[] = Array.from({ length: parts }, () => ({}));
  for (const [k, v] of Object.entries(feeds)) {
    const per = v.length / rows; // elements per row
    const mb = rows / parts;
    for (let i = 0; i < parts; i++) out[i][k] = v.subarray(i * mb * per, (i + 1) * mb * per) as TypedArray;
  }
  return out;
}
