// Compiled policy graphs, cached per batch shape (static shapes: a new [B, T] is a new graph):
//   PolicyUpdater  loss + gradient + clipping + AdamW in one run (src/train/optim.ts), or gradients
//                  accumulated over micro-batches then one AdamW run; trainable weights are graph
//                  inputs named by their HF names (the TrainState keys)
//   PolicyForward  forward-only outputs of the current weights (evaluation, rollout log-probs),
//                  optionally with a frozen reference model baked in as initializers
// With LoRA (src/policy/lora.ts) the base is in the graph as initializers ("base/…") fed from the
// one host copy on every run (frozenWeightOptions: no session holds a copy), the adapter is the only
// trainable state, and a forward graph's reference defaults to that same base read without the adapter.
// Trainers describe a graph with a builder; this file traces it on the policy's weights (or the
// adapter); compiling, the shape cache and accumulation are src/train/steps.ts.
import { Graph, type Tensor, type TypedArray } from '../graph/index.js';
import { compile, type Executable } from '../runtime/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { llamaInitializers, llamaInputs, type LlamaParams } from '../nn/llama.js';
import type { LlamaWeights } from '../nn/weights.js';
import { loraDropoutFeeds, loraInputs, withLora, type PolicyLora, type PolicyParams } from './lora.js';
import type { LoraDropout } from '../nn/lora.js';
import { ShapeCache } from '../runtime/cache.js';
import { frozenWeightOptions, type StepResult, type TrainState, type TrainStepSpec } from '../train/optim.js';
import { ShapeSteps, type StepOptimizer } from '../train/steps.js';

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
  /** Idle engine threads spin (ONNX Runtime's default, true); false yields the cores between kernels (see the runtime's CompileOptions.spinning). */
  spinning?: boolean;
}

/** One optimizer step per run of a traced loss, per batch shape, or accumulated over micro-batches (src/train/steps.ts). */
export class PolicyUpdater {
  private readonly steps: ShapeSteps;
  /** lora_dropout of each traced shape (its masks are fed per run). */
  private readonly dropouts = new Map<string, LoraDropout | undefined>();

  constructor(
    readonly config: LlamaConfig,
    readonly build: GraphBuilder,
    readonly optimizer: StepOptimizer = {},
    readonly engine: EngineOptions = {},
    /** Train a LoRA adapter on this frozen base instead of every weight. */
    readonly lora: PolicyLora | null = null,
  ) {
    this.steps = new ShapeSteps(([B, T]) => this.trace(B, T), optimizer, { threads: engine.threads, deterministic: engine.deterministic, spinning: engine.spinning });
  }

  /** The loss graph of a [B, T] micro-batch (with lora_dropout: its mask inputs too). */
  private trace(B: number, T: number): TrainStepSpec {
    const g = new Graph();
    const { params, inputs } = policyInputs(g, this.config, this.lora, true);
    const built = this.build(g, this.config, B, T, params, null);
    if (!built.loss) throw new Error('PolicyUpdater: the graph builder returned no loss');
    const dropout = (params as PolicyParams).lora?.dropout;
    this.dropouts.set(`${B}x${T}`, dropout);
    return { loss: built.loss, params: inputs, batch: [...built.batch, ...(dropout?.inputs() ?? [])], extraOutputs: built.outputs };
  }

  /**
   * Apply one update to `state`. One feed set: a [B, T] batch in one run. Several: micro-batches
   * of B rows each whose gradients are averaged before one AdamW step.
   */
  async step(state: TrainState, B: number, T: number, feeds: Readonly<Record<string, TypedArray>> | readonly Readonly<Record<string, TypedArray>>[], lr: number): Promise<StepResult> {
    const given = Array.isArray(feeds) ? (feeds as readonly Readonly<Record<string, TypedArray>>[]) : [feeds as Readonly<Record<string, TypedArray>>];
    const key = `${B}x${T}`;
    // the masks' names and shapes come from the traced graph: trace this shape first if it is new
    if (this.lora && this.lora.config.dropout > 0 && !this.dropouts.has(key)) this.trace(B, T);
    const dropout = this.dropouts.get(key);
    return this.steps.step(state, given.map((f, i) => ({ shape: [B, T], feeds: { ...f, ...loraDropoutFeeds(this.lora, dropout, state.step, i) } })), lr);
  }

  async release(): Promise<void> {
    await this.steps.release();
  }
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
  private readonly cache = new ShapeCache<Executable>();

  constructor(
    readonly config: LlamaConfig,
    readonly build: GraphBuilder,
    /** Frozen reference weights, stored in the graph as initializers (prefix "ref/"). */
    readonly reference: LlamaWeights | null = null,
    readonly engine: EngineOptions = {},
    /** Whether the graph takes the current policy weights as inputs (false: reference only). */
    readonly usesPolicy = true,
    /**
     * The policy is this frozen base + a LoRA adapter (fed); the reference defaults to the base. Its
     * frozen weights (and a given reference's) are fed from their host arrays, not held by the session.
     */
    readonly lora: PolicyLora | null = null,
  ) {}

  private compiled(B: number, T: number): Promise<Executable> {
    return this.cache.get(`${B}x${T}`, () => {
      const g = new Graph();
      const pol = this.usesPolicy ? policyInputs(g, this.config, this.lora) : null;
      const ref = this.reference ? llamaInitializers(g, this.config, this.reference, 'ref/') : (pol?.base ?? null);
      const built = this.build(g, this.config, B, T, pol ? pol.params : new Map(), ref);
      // with LoRA the frozen weights (base, reference) are fed from their one host copy, as in the update graphs
      return compile(g, { inputs: [...(pol ? pol.inputs : []), ...built.batch], outputs: built.outputs, threads: this.engine.threads, spinning: this.engine.spinning, ...(this.lora ? frozenWeightOptions(g) : {}), name: 'policy_forward' });
    });
  }

  /** Run on a [B, T] batch with the policy weights `params` (by HF name; ignored when usesPolicy is false). */
  async run(params: Readonly<Record<string, TypedArray>> | null, B: number, T: number, feeds: Readonly<Record<string, TypedArray>>): Promise<Record<string, TypedArray>> {
    const exe = await this.compiled(B, T);
    return exe.run(this.usesPolicy ? { ...params, ...feeds } : feeds);
  }

  async release(): Promise<void> {
    await this.cache.release();
  }
}
