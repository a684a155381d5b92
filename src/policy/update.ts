// Compiled policy graphs, cached per batch shape (static shapes: a new [B, T] is a new graph):
//   PolicyUpdater  loss + gradient + clipping + AdamW in one run (src/train/optim.ts), or gradients
//                  accumulated over micro-batches then one AdamW run; trainable weights are graph
//                  inputs named by their HF names (the TrainState keys)
//   PolicyForward  forward-only outputs of the current weights (evaluation, rollout log-probs),
//                  optionally with a frozen reference model baked in as initializers
// With LoRA (src/policy/lora.ts) the base is baked in as initializers ("base/…"), the adapter is
// the only graph input and trainable state, and a forward graph's reference defaults to that same
// base read without the adapter.
// Trainers describe a graph with a builder; this file owns tracing, compiling and the cache.
import { Graph, type Tensor, type TypedArray } from '../graph/index.js';
import { compile, type Executable } from '../runtime/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { llamaInitializers, llamaInputs, type LlamaParams } from '../nn/llama.js';
import type { LlamaWeights } from '../nn/weights.js';
import { loraDropoutFeeds, loraInputs, withLora, type PolicyLora, type PolicyParams } from './lora.js';
import type { LoraDropout } from '../nn/lora.js';
import { compileAccumulation, compileTrainStep, type Accumulation, type AdamWOptions, type RunOptions, type StepResult, type TrainState, type TrainStep, type TrainStepSpec } from '../train/optim.js';

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

/** One optimizer step per run of a traced loss, per batch shape (or accumulated over micro-batches). */
export class PolicyUpdater {
  private readonly cache = new Map<string, Promise<TrainStep>>();
  private readonly accCache = new Map<string, Promise<Accumulation>>();
  /** lora_dropout of each traced shape (fed per run). */
  private readonly dropouts = new Map<string, LoraDropout | undefined>();

  constructor(
    readonly config: LlamaConfig,
    readonly build: GraphBuilder,
    readonly adam: AdamWOptions = {},
    readonly engine: EngineOptions = {},
    /** Train a LoRA adapter on this frozen base instead of every weight. */
    readonly lora: PolicyLora | null = null,
  ) {}

  private compiled(B: number, T: number): Promise<TrainStep> {
    return this.cachedCompile(this.cache, B, T, compileTrainStep);
  }

  private accumulation(B: number, T: number): Promise<Accumulation> {
    return this.cachedCompile(this.accCache, B, T, compileAccumulation);
  }

  /** Trace the loss graph for [B, T] and compile it with `compileWith`, once per shape (a failed compile is retried next time). */
  private cachedCompile<R>(cache: Map<string, Promise<R>>, B: number, T: number, compileWith: (spec: TrainStepSpec, opt: AdamWOptions, run: RunOptions) => Promise<R>): Promise<R> {
    const key = `${B}x${T}`;
    let p = cache.get(key);
    if (!p) {
      const g = new Graph();
      const { params, inputs } = policyInputs(g, this.config, this.lora, true);
      const built = this.build(g, this.config, B, T, params, null);
      if (!built.loss) throw new Error('PolicyUpdater: the graph builder returned no loss');
      const dropout = (params as PolicyParams).lora?.dropout;
      this.dropouts.set(key, dropout);
      p = compileWith({ loss: built.loss, params: inputs, batch: [...built.batch, ...(dropout?.inputs() ?? [])], extraOutputs: built.outputs }, this.adam, { threads: this.engine.threads, deterministic: this.engine.deterministic });
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  }

  /**
   * Apply one update to `state`. One feed set: a [B, T] batch in one run. Several: micro-batches
   * of B rows each whose gradients are averaged before one AdamW step (the loss of each is its own
   * token mean, as NeMo-Aligner's micro-batches); the returned loss is their mean and each extra
   * output is the micro-batches' values concatenated.
   */
  async step(state: TrainState, B: number, T: number, feeds: Readonly<Record<string, TypedArray>> | readonly Readonly<Record<string, TypedArray>>[], lr: number): Promise<StepResult> {
    const given = Array.isArray(feeds) ? (feeds as readonly Readonly<Record<string, TypedArray>>[]) : [feeds as Readonly<Record<string, TypedArray>>];
    const compiled = given.length === 1 ? this.compiled(B, T) : this.accumulation(B, T);
    const dropout = this.dropouts.get(`${B}x${T}`);
    const list = given.map((f, i) => ({ ...f, ...loraDropoutFeeds(this.lora, dropout, state.step, i) }));
    if (list.length === 1) return (await (compiled as Promise<TrainStep>)).run(state, list[0], lr);
    const a = await (compiled as Promise<Accumulation>);
    let acc = a.zeros();
    let loss = 0;
    const extras: Record<string, number[]> = {};
    for (const f of list) {
      const r = await a.accumulate(state, acc, f);
      acc = r.acc;
      loss += r.loss / list.length;
      for (const [k, v] of Object.entries(r.extra)) (extras[k] ??= []).push(...Array.from(v as ArrayLike<number>, Number));
    }
    const { gradNorm } = await a.apply(state, acc, lr, 1 / list.length);
    const extra: Record<string, TypedArray> = {};
    for (const [k, v] of Object.entries(extras)) extra[k] = Float32Array.from(v);
    return { loss, gradNorm, extra };
  }

  async release(): Promise<void> {
    const all = [...this.cache.values()];
    const accs = [...this.accCache.values()];
    this.cache.clear();
    this.accCache.clear();
    for (const p of all) {
      try {
        await (await p).exe.release();
      } catch {
        // a graph that failed to compile holds nothing
      }
    }
    for (const p of accs) {
      try {
        const a = await p;
        await a.gradExe.release();
        await a.applyExe.release();
      } catch {
        // nothing to release
      }
    }
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

/**
 * The policy's weights on a graph and the inputs fed per run: every weight (full fine-tuning), or
 * the frozen base as initializers plus the adapter as inputs; `base` = the base without the adapter.
 */
function policyInputs(g: Graph, c: LlamaConfig, lora: PolicyLora | null, training = false): { params: PolicyParams; inputs: Tensor[]; base: LlamaParams | null } {
  if (!lora) return { ...llamaInputs(g, c), base: null };
  const base = llamaInitializers(g, c, lora.base, 'base/');
  const adapter = loraInputs(g, c, lora.config, training);
  return { params: withLora(base, adapter.graph), inputs: adapter.inputs, base };
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
    /** The policy is this frozen base + a LoRA adapter (fed); the reference defaults to the base. */
    readonly lora: PolicyLora | null = null,
  ) {}

  private compiled(B: number, T: number): Promise<Executable> {
    const key = `${B}x${T}`;
    let p = this.cache.get(key);
    if (!p) {
      const g = new Graph();
      const pol = this.usesPolicy ? policyInputs(g, this.config, this.lora) : null;
      const ref = this.reference ? llamaInitializers(g, this.config, this.reference, 'ref/') : (pol?.base ?? null);
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
