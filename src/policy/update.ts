// Compiled policy graphs, cached per batch shape (static shapes: a new [B, T] is a new graph):
//   PolicyUpdater  loss + gradient + clipping + AdamW in one run (src/train/optim.ts), trainable
//                  weights as graph inputs named by their HF names (the TrainState keys)
//   PolicyForward  forward-only outputs of the current weights (evaluation, rollout log-probs),
//                  optionally with a frozen reference model baked in as initializers
// Trainers describe a graph with a builder; this file owns tracing, compiling and the cache.
import { Graph, type Tensor, type TypedArray } from '../graph/index.js';
import { compile, type Executable } from '../runtime/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { llamaInitializers, llamaInputs, type LlamaParams } from '../nn/llama.js';
import type { LlamaWeights } from '../nn/weights.js';
import { compileTrainStep, type AdamWOptions, type StepResult, type TrainState, type TrainStep } from '../train/optim.js';

export interface BuiltGraph {
  /** The scalar loss (updaters) — ignored by forward graphs. */
  loss?: Tensor;
  /** Batch inputs (everything fed per run except the weights). */
  batch: Tensor[];
  /** Named outputs (forward graphs) or extra outputs (updaters). */
  outputs: Record<string, Tensor>;
}

/** Build a graph for a [B, T] batch: `policy` are the trainable weights, `reference` the frozen ones (if any). */
export type GraphBuilder = (g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams, reference: LlamaParams | null) => BuiltGraph;

export interface EngineOptions {
  threads?: number;
  /** Bit-reproducible gradients (slower embedding gradient; see src/graph/grad.ts). */
  deterministic?: boolean;
}

/** One optimizer step per run of a traced loss, per batch shape. */
export class PolicyUpdater {
  private readonly cache = new Map<string, Promise<TrainStep>>();

  constructor(
    readonly config: LlamaConfig,
    readonly build: GraphBuilder,
    readonly adam: AdamWOptions = {},
    readonly engine: EngineOptions = {},
  ) {}

  private compiled(B: number, T: number): Promise<TrainStep> {
    const key = `${B}x${T}`;
    let p = this.cache.get(key);
    if (!p) {
      const g = new Graph();
      const { params, inputs } = llamaInputs(g, this.config);
      const built = this.build(g, this.config, B, T, params, null);
      if (!built.loss) throw new Error('PolicyUpdater: the graph builder returned no loss');
      p = compileTrainStep({ loss: built.loss, params: inputs, batch: built.batch, extraOutputs: built.outputs }, this.adam, { threads: this.engine.threads, deterministic: this.engine.deterministic });
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  /** Apply one update to `state` on a [B, T] batch. */
  async step(state: TrainState, B: number, T: number, feeds: Readonly<Record<string, TypedArray>>, lr: number): Promise<StepResult> {
    const s = await this.compiled(B, T);
    return s.run(state, feeds, lr);
  }

  async release(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const p of all) {
      try {
        await (await p).exe.release();
      } catch {
        // a graph that failed to compile holds nothing
      }
    }
  }
}

/** Forward-only graphs of the current weights (fed per run), with an optional frozen reference. */
export class PolicyForward {
  private readonly cache = new Map<string, Promise<Executable>>();

  constructor(
    readonly config: LlamaConfig,
    readonly build: GraphBuilder,
    /** Frozen reference weights, stored in the graph as initializers (prefix "ref/"). */
    readonly reference: LlamaWeights | null = null,
    readonly engine: EngineOptions = {},
    /** Whether the graph takes the current policy weights as inputs (false: reference only). */
    readonly usesPolicy = true,
  ) {}

  private compiled(B: number, T: number): Promise<Executable> {
    const key = `${B}x${T}`;
    let p = this.cache.get(key);
    if (!p) {
      const g = new Graph();
      const pol = this.usesPolicy ? llamaInputs(g, this.config) : null;
      const ref = this.reference ? llamaInitializers(g, this.config, this.reference, 'ref/') : null;
      const built = this.build(g, this.config, B, T, pol ? pol.params : new Map(), ref);
      p = compile(g, { inputs: [...(pol ? pol.inputs : []), ...built.batch], outputs: built.outputs, threads: this.engine.threads, name: 'policy_forward' });
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  /** Run on a [B, T] batch with the policy weights `params` (by HF name; ignored when usesPolicy is false). */
  async run(params: Readonly<Record<string, TypedArray>> | null, B: number, T: number, feeds: Readonly<Record<string, TypedArray>>): Promise<Record<string, TypedArray>> {
    const exe = await this.compiled(B, T);
    return exe.run(this.usesPolicy ? { ...params, ...feeds } : feeds);
  }

  async release(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const p of all) {
      try {
        await (await p).release();
      } catch {
        // nothing to release
      }
    }
  }
}
