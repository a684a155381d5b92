// Batched autoregressive generation with a KV cache, on static-shape graphs:
//   prefill: the left-padded prompts [B, P] in one run; decode: one token per row per run.
// The model is nn/llama.ts's (decoderLayer, rmsNorm, lmLogits) on the fused layout of its weights
// (fuseLlamaWeights); what is generation's own is the attention over the cache (`attend`). A LoRA
// generator (opts.lora) reads the HF-layout weights as given instead, plus the adapter in the graph.
// The cache lives in JS (KvCache: keys and values stored [B, KV, W, hd], W the
// columns in use, at most M = P − 1 + max new tokens) and is fed to every run without a copy; each
// run returns only the new k/v columns, which are written into the cache here. Attention at a step is
//   softmax([q·kᵀ_new, q·Kᵀ_cache] + bias) · [v_new; V_cache]
// with bias MASKED on padding, on cache columns not yet written, and on future new tokens. W is a
// dynamic axis of the decode graphs: a step reads only the columns in use, not all M.
// Sampling (host, per row, seeded): temperature, top-k, top-p (run.c's sample_topp), greedy
// (temperature 0 or top-k 1; greedy runs argmax inside the graph); the graph kind `probs` also
// returns softmax(logits), so plain sampling needs no host exponentials (sampleFromProbs, what
// `steer serve` runs). The log-probabilities returned
// are those of the model itself, log softmax(logits)[token], unaffected by temperature/top-k/top-p:
// exactly what a full forward pass of the training graph gives for the same tokens.
import { Graph, type Tensor, concat } from '../graph/index.js';
import { ShapeCache, compile, type Executable } from '../runtime/index.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { LlamaConfig } from './config.js';
import { MASKED, type Attend, decoderLayer, fuseLlamaWeights, lmLogits, rmsNorm, ropeAt } from './llama.js';
import { checkLoraWeights, loraScale, loraWeightShapes, type LoraConfig, type LoraGraph } from './lora.js';
import { EMBED, FINAL_NORM, expectedWeightShapes, type LlamaWeights } from './weights.js';

export interface SamplingOptions {
  /** new tokens per row at most */
  maxNewTokens: number;
  /** 0 = greedy */
  temperature?: number;
  /** keep the k most likely tokens (0 = off) */
  topK?: number;
  /** nucleus: the smallest set of tokens whose probability exceeds p (1 = off) */
  topP?: number;
  /** a row ends after emitting one of these (default: the config's eos ids) */
  stopTokens?: readonly number[];
  /** seeds the per-row random streams */
  seed?: number;
  /**
   * Left-pad every batch to at least this prompt length, so batches of different prompts share
   * one compiled shape (a trainer sampling many batches compiles once). Outputs are unchanged.
   */
  minPromptLength?: number;
}

export interface Generation {
  /** new tokens (a final stop token included) */
  tokens: number[];
  /** log p(token | prefix) under the model, one per token */
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

export interface GeneratorOptions {
  threads?: number;
  device?: 'cpu' | 'cuda';
  /**
   * Let ONNX Runtime's idle threads spin between kernels (default false: decoding runs many short
   * graphs with host work in between, and with 2 threads on a machine whose cores are shared,
   * spinning measured 2× slower per decode step; see the runtime's CompileOptions.spinning).
   */
  spinning?: boolean;
  /**
   * Bake the weights into the decode-step graph as initializers: ONNX Runtime prepacks them, about
   * 1.6× faster decoding at batch 16 for a 15M model, but the graph is then specific to these
   * weights (a compile per LlamaGenerator) and holds a copy of them. Worth it for frozen weights
   * and long generations (steer generate, evaluation); leave it off when the weights change every
   * step (RL sampling), where the weight-free graphs are compiled once and shared through the
   * runtime's session cache. Ignored (off) when the weights reach 1 GiB (ONNX protobufs stop at
   * 2 GiB). The prefill graph always takes the weights as inputs (no copy). Default false.
   */
  bakeDecodeWeights?: boolean;
  /**
   * Generate from the weights + this LoRA adapter applied in the graph, y = x Wᵀ + s · (x Aᵀ) Bᵀ
   * (src/nn/lora.ts), instead of merged weights: the weights stay in the HF layout and are fed
   * from the caller's arrays (no fused, transposed or merged copy of them), the adapter's A/B are
   * fed too and swapped by setAdapter. For a LoRA policy whose adapter changes every step (RL
   * sampling). bakeDecodeWeights is ignored (off).
   */
  lora?: GeneratorLora;
}

/** A LoRA adapter for generation: its config and its tensors by steer's names (`<module>.lora_A.weight`, …). */
export interface GeneratorLora {
  config: LoraConfig;
  adapter: LlamaWeights;
}

/** Validated sampling options with defaults. */
export function resolveSampling(c: LlamaConfig, o: SamplingOptions): Required<SamplingOptions> {
  const bad = (field: string, expected: string, received: unknown): never => {
    throw new UserError({ what: `invalid sampling option ${field}`, where: `generate(${field})`, expected, received: String(received), fix: `pass ${field} within range` });
  };
  const r = {
    maxNewTokens: o.maxNewTokens,
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    stopTokens: [...(o.stopTokens ?? c.eosTokenIds)],
    seed: o.seed ?? 0,
    minPromptLength: o.minPromptLength ?? 0,
  };
  if (!Number.isInteger(r.maxNewTokens) || r.maxNewTokens < 1) bad('maxNewTokens', 'an integer ≥ 1', r.maxNewTokens);
  if (!(r.temperature >= 0) || !Number.isFinite(r.temperature)) bad('temperature', 'a number ≥ 0 (0 = greedy)', r.temperature);
  if (!Number.isInteger(r.topK) || r.topK < 0) bad('topK', 'an integer ≥ 0 (0 = off)', r.topK);
  if (!(r.topP > 0 && r.topP <= 1)) bad('topP', 'a number in (0, 1] (1 = off)', r.topP);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0) bad('seed', 'a non-negative integer', r.seed);
  if (!Number.isInteger(r.minPromptLength) || r.minPromptLength < 0) bad('minPromptLength', 'an integer ≥ 0', r.minPromptLength);
  for (const t of r.stopTokens) if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) bad('stopTokens', `ids in [0, ${c.vocabSize})`, t);
  return r;
}

const isGreedy = (s: Required<SamplingOptions>): boolean => s.temperature === 0 || s.topK === 1;

/**
 * greedy: [B] argmax token + its logprob; logits: [B, V]; probs: [B, V] logits and softmax(logits);
 * draw: [B] a token drawn in the graph at each row's temperature from a uniform fed per row, and
 * the argmax token, each with its logprob (see drawGraph)
 */
export type StepKind = 'greedy' | 'logits' | 'probs' | 'draw';

interface StepGraph {
  exe: Executable;
}

/**
 * Sampling in the graph, from logits [B, V], a uniform u [B, 1] in [0, 1] and 1/T [B, 1] per row:
 *   p = softmax(logits/T), cdf_i = Σ_{j ≤ i} p_j, r = u · cdf_{V−1},
 *   token = the first i with r < cdf_i (sampleToken's rule), never a token of probability 0 (u
 *   rounded to 1 in float32 puts r at the cdf's end: the last token of positive probability),
 *   logprob = log softmax(logits)[token] (the model's own, unaffected by T, as everywhere),
 * plus greedy = the first argmax of the logits with its logprob. Outputs are [B].
 * The search runs in two levels over chunks of the vocabulary (vocabularyChunks): the chunk whose
 * cumulative mass passes r, then the token inside it. So no kernel scans
 * the vocabulary sequentially (ONNX Runtime's CumSum and ArgMax over [16, 32000] cost more than the
 * LM head's matrix product). The float64 interpreter of this graph draws exactly sampleToken's token for the same u;
 * ONNX Runtime sums in float32, so its token differs only when r lies within rounding (~1e-6) of a
 * cdf step.
 */
export function drawGraph(logits: Tensor, u: Tensor, invTemp: Tensor): Record<'token' | 'logprob' | 'greedy' | 'greedyLogprob', Tensor> {
  const [B, V] = logits.shape;
  const { C, k, chunkOf } = vocabularyChunks(B, V);
  // the first index along the last axis where x ≤ r stops holding, capped at the first index of x's maximum
  const firstAbove = (x: Tensor, r: Tensor) => x.le(r).cast('float32').sum(-1, true).minimum(x.argmax(-1).unsqueeze(-1).cast('float32')).cast('int64'); // [B, 1]
  const p = logits.mul(invTemp).softmax(-1); // [B, V]
  const mass = p.reshape([B, C, k]).sum(-1); // [B, C]
  const chunkCdf = mass.cumsum(-1); // [B, C]
  const r = u.mul(chunkCdf.slice(-1, C - 1)); // [B, 1]
  const c = firstAbove(chunkCdf, r); // [B, 1]: the chunk
  const before = chunkCdf.takeAlongAxis(c, -1).sub(mass.takeAlongAxis(c, -1)); // [B, 1]: the cdf before chunk c
  const token = c.mul(k).add(firstAbove(chunkOf(p, c).cumsum(-1).add(before), r)); // [B, 1]
  const logp = logits.logSoftmax(-1); // [B, V]
  const greedy = firstArgmax(logits).unsqueeze(-1); // [B, 1]
  return {
    token: token.reshape([B]),
    logprob: logp.takeAlongAxis(token, -1).reshape([B]),
    greedy: greedy.reshape([B]),
    greedyLogprob: logp.takeAlongAxis(greedy, -1).reshape([B]),
  };
}

/**
 * The vocabulary in C chunks of k tokens (V = C·k, k the largest divisor of V up to 256), and the
 * chunk c [B, 1] of x [B, V] as [B, k]: the two-level searches of drawGraph and firstArgmax.
 */
function vocabularyChunks(B: number, V: number): { C: number; k: number; chunkOf: (x: Tensor, c: Tensor) => Tensor } {
  let k = Math.min(V, 256);
  while (V % k !== 0) k--;
  const C = V / k;
  return { C, k, chunkOf: (x, c) => x.reshape([B, C, k]).takeAlongAxis(c.unsqueeze(-1).expand([B, 1, k]), 1).reshape([B, k]) };
}

/**
 * The first index of the maximum of logits [B, V] → [B] int64 (ONNX ArgMax's rule): the first chunk
 * holding the maximum, then the first maximum inside it (ONNX Runtime's ArgMax over [16, 32000] is
 * a sequential scan as slow as the LM head's matrix product).
 */
export function firstArgmax(logits: Tensor): Tensor {
  const [B, V] = logits.shape;
  const { C, k, chunkOf } = vocabularyChunks(B, V);
  const gc = logits.reshape([B, C, k]).max(-1).argmax(-1).unsqueeze(-1); // [B, 1]: the chunk of the first maximum
  return gc.mul(k).add(chunkOf(logits, gc).argmax(-1).unsqueeze(-1)).reshape([B]);
}

/**
 * A model ready to generate: weights prepared once (projections transposed and fused: q|k|v and
 * gate|up), one compiled graph per (kind, B, S, M), reused across calls. setWeights() swaps the
 * weights in place (a trainer keeps one generator per run); release() frees the graphs it owns.
 */
export class LlamaGenerator {
  /** the weights in the fused layout (fuseLlamaWeights), and the same as feeds by name */
  private weights!: LlamaWeights;
  private feeds!: Record<string, Float32Array>;
  /** graphs specific to this generator's weights (decode graphs with baked weights): released with it */
  private readonly owned = new ShapeCache<StepGraph>();
  /**
   * weight-free graphs: identical for every generator of the same config and shapes, they live in
   * the runtime's session cache and may be in use by another generator, so they are only forgotten
   */
  private shared = new ShapeCache<StepGraph>();
  private readonly bakeDecodeWeights: boolean;
  /** with a LoRA adapter: its config (the adapter's arrays are in feeds) */
  private readonly lora: LoraConfig | null;
  private static count = 0;
  private readonly id = LlamaGenerator.count++;

  constructor(
    readonly config: LlamaConfig,
    weights: LlamaWeights,
    readonly opts: GeneratorOptions = {},
  ) {
    this.lora = opts.lora?.config ?? null;
    this.setFeeds(weights, opts.lora?.adapter);
    const bytes = Object.values(this.feeds).reduce((a, f) => a + f.byteLength, 0);
    this.bakeDecodeWeights = opts.bakeDecodeWeights === true && !this.lora && bytes < 2 ** 30;
  }

  /**
   * Generate with new weights of the same config from now on (e.g. a policy after an RL update),
   * without recompiling: the weight-free graphs are kept (the weights are their inputs); decode
   * graphs with baked weights are released and rebuilt on next use. Call between generations,
   * not during one. Returns this.
   */
  async setWeights(weights: LlamaWeights): Promise<this> {
    this.setFeeds(weights, this.adapter);
    if (this.bakeDecodeWeights) await this.owned.release();
    return this;
  }

  /** A LoRA generator (opts.lora) generates with this adapter from now on (same config; no recompiling). Returns this. */
  setAdapter(adapter: LlamaWeights): this {
    if (!this.lora) throw new Error('LlamaGenerator.setAdapter: this generator was built without opts.lora');
    this.setFeeds(this.weights, adapter);
    return this;
  }

  /** The compiled graph of one run (cached by kind and shape); SlotBatch drives it directly. */
  step(kind: StepKind, B: number, S: number, M: number): Promise<StepGraph> {
    const cache = S === 1 && this.bakeDecodeWeights ? this.owned : this.shared;
    return cache.get(`${kind}|${B}|${S}|${M}`, () => this.buildStep(kind, B, S, M));
  }

  /**
   * The graph of one run: S new tokens per row. S > 1 is the prefill (empty cache: attention among
   * the new tokens only); S = 1 is a decode step attending to M cache columns and itself.
   */
  private async buildStep(kind: StepKind, B: number, S: number, M: number): Promise<StepGraph> {
    const c = this.config;
    const g = new Graph();
    const D = c.hiddenSize;
    const KV = c.numKvHeads;
    const G = c.numHeads / KV;
    const hd = c.headDim;
    const inputs: Tensor[] = [];
    const baked = S === 1 && this.bakeDecodeWeights;
    const input = (name: string, shape: number[], dtype: 'float32' | 'int64' = 'float32') => {
      const t = g.input(name, shape, dtype);
      inputs.push(t);
      return t;
    };
    const params = new Map<string, Tensor>();
    for (const [name, t] of this.weights) params.set(name, baked ? g.initializer(name, t.data, t.shape) : input(name, t.shape));
    let lora: LoraGraph | undefined;
    if (this.lora) {
      const ap = new Map<string, Tensor>();
      for (const [name, shape] of loraWeightShapes(c, this.lora)) ap.set(name, input(name, shape)); // A [r, in], B [out, r]
      lora = { scale: loraScale(this.lora), params: ap };
    }
    const ids = input('ids', [B, S], 'int64');
    const positions = input('positions', [B, S], 'int64');
    const prefill = S > 1;
    // bias: prefill [B, 1, 1, S, S] (causal + padding); decode [B, 1, 1, 1 + W] (itself + cache columns)
    const bias = prefill ? input('bias', [B, 1, 1, S, S]) : input('bias', [B, 1, 1, M + 1]);
    const rope = ropeAt(g, c, positions, prefill ? S : M + 1); // cos/sin [B, 1, S, hd]
    const outputs: Record<string, Tensor> = {};
    // the new k/v columns [B, KV, S, hd] are outputs (the host writes them into its cache)
    const attend: Attend = (q, k, v, l) => {
      outputs[`k.${l}`] = k;
      outputs[`v.${l}`] = v;
      if (prefill) {
        const scores = q.matmul(k.unsqueeze(2).transpose([0, 1, 2, 4, 3])).add(bias); // [B, KV, G, S, S]
        return scores.softmax(-1).matmul(v.unsqueeze(2)); // [B, KV, G, S, hd]
      }
      // decode: attend to itself and the W cache columns, softmax([q·kᵀ_new, q·Kᵀ_cache] + bias); W
      // is dynamic (traced at M): nothing below depends on it but the inputs' shapes, the slice
      // through the end and the broadcast bias
      const q4 = q.reshape([B, KV, G, hd]);
      const kC = input(`cache_k.${l}`, [B, KV, M, hd]);
      const vC = input(`cache_v.${l}`, [B, KV, M, hd]);
      // q·Kᵀ as a MatMul of the transposed cache: ONNX Runtime fuses the two (FusedMatMul, transB), no copy
      const probs = concat([q4.matmul(k.reshape([B, KV, hd, 1])), q4.matmul(kC.transpose([0, 1, 3, 2]))], -1).add(bias).softmax(-1); // [B, KV, G, 1 + W]
      const att = probs.slice(-1, 0, 1).matmul(v.reshape([B, KV, 1, hd])).add(probs.slice(-1, 1).matmul(vC)); // [B, KV, G, hd]
      return att.reshape([B, KV, G, 1, hd]);
    };
    let x = params.get(EMBED)!.gather(prefill ? ids : ids.reshape([B])); // [B, S, D] | decode [B, D]
    for (let l = 0; l < c.numLayers; l++) x = decoderLayer(c, params, l, x, rope, attend, lora);
    const last = rmsNorm((prefill ? x.slice(1, S - 1).reshape([B, D]) : x), params.get(FINAL_NORM)!, c.rmsNormEps); // [B, D]: the last position
    const logits = lmLogits(c, params, last); // [B, V]
    if (kind === 'logits') {
      outputs.logits = logits;
    } else if (kind === 'probs') {
      outputs.logits = logits;
      outputs.probs = logits.softmax(-1); // [B, V] float32: the host samples without 32,000 exps a row
    } else if (kind === 'draw') {
      Object.assign(outputs, drawGraph(logits, input('u', [B, 1]), input('inv_temp', [B, 1])));
    } else {
      const m = logits.max(-1, true); // [B, 1]
      outputs.token = firstArgmax(logits); // [B] int64: the first maximal index, as sampleToken's argmax
      outputs.logprob = logits.sub(m).exp().sum(-1).log().neg(); // log p(argmax) = −log Σ exp(logits − max)
    }
    const name = `llama-${kind}-B${B}-S${S}-M${M}${baked ? `-g${this.id}` : ''}${this.lora ? '-lora' : ''}`; // baked: a session of its own (the name is in the cache key), released with this generator alone
    const dynamicAxes = prefill ? undefined : Object.fromEntries([['bias', { 3: 'attended' }], ...Array.from({ length: c.numLayers }, (_, l) => [[`cache_k.${l}`, { 2: 'columns' }], [`cache_v.${l}`, { 2: 'columns' }]]).flat()]);
    const exe = await compile(g, { inputs, outputs, threads: this.opts.threads, device: this.opts.device, spinning: this.opts.spinning ?? false, name, dynamicAxes });
    return { exe };
  }

  /** The feeds of a run: the weights unless baked into the decode graph, plus `rest`. */
  weightFeeds(S: number, rest: Record<string, Float32Array | BigInt64Array>): Record<string, Float32Array | BigInt64Array> {
    return S === 1 && this.bakeDecodeWeights ? rest : { ...this.feeds, ...rest };
  }

  /** the adapter's tensors (LoRA generators) */
  private adapter: LlamaWeights | undefined;

  /** Fused weights as feeds; with LoRA, the HF-layout weights themselves (no copy) and the adapter. */
  private setFeeds(weights: LlamaWeights, adapter: LlamaWeights | undefined): void {
    if (!this.lora) {
      this.weights = fuseLlamaWeights(this.config, weights);
      this.feeds = Object.fromEntries([...this.weights].map(([name, t]) => [name, t.data]));
      return;
    }
    this.weights = new Map(expectedWeightShapes(this.config).map(([name]) => [name, weights.get(name)!]));
    for (const [name, t] of this.weights) if (!t) throw new UserError({ what: `weight ${name} is missing`, where: 'LlamaGenerator', fix: 'load the model with loadModel()' });
    this.adapter = checkLoraWeights(this.config, this.lora, adapter ?? new Map(), 'LlamaGenerator(opts.lora.adapter)');
    this.feeds = Object.fromEntries([...this.weights, ...this.adapter].map(([name, t]) => [name, t.data]));
  }

  /**
   * Generate for each prompt (token ids, BOS included when the model wants it). Rows are
   * left-padded to the longest prompt; results are in prompt order.
   */
  async generate(prompts: readonly (readonly number[])[], options: SamplingOptions): Promise<Generation[]> {
    const c = this.config;
    const s = resolveSampling(c, options);
    const B = prompts.length;
    if (B === 0) return [];
    prompts.forEach((p, b) => {
      if (p.length === 0) throw new UserError({ what: `prompt ${b} is empty`, where: `generate(prompts[${b}])`, expected: 'at least one token (e.g. BOS)', fix: 'encode prompts with the tokenizer, which adds BOS' });
      for (const t of p) if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new UserError({ what: `prompt ${b} has token ${t} outside the vocabulary`, where: `generate(prompts[${b}])`, expected: `ids in [0, ${c.vocabSize})`, fix: 'use the tokenizer that belongs to the model' });
    });
    const P = Math.max(s.minPromptLength, ...prompts.map((p) => p.length));
    if (P + s.maxNewTokens > c.maxPositionEmbeddings) {
      throw new UserError({
        what: 'prompt plus new tokens exceed the model context',
        where: 'generate(maxNewTokens)',
        expected: `longest prompt (${P}) + maxNewTokens ≤ max_position_embeddings (${c.maxPositionEmbeddings})`,
        received: `${P} + ${s.maxNewTokens} = ${P + s.maxNewTokens}`,
        fix: `lower --max-new-tokens to at most ${Math.max(0, c.maxPositionEmbeddings - P)} or shorten the prompt`,
      });
    }
    const greedy = isGreedy(s);
    const kind = greedy ? 'greedy' : 'logits';
    const M = P + s.maxNewTokens - 1; // cache columns: the prompt and every fed-back new token
    const V = c.vocabSize;
    const padBefore = prompts.map((p) => P - p.length);
    const cache = new KvCache(c, B, M);
    const rngs = prompts.map((_, b) => new Rng(s.seed, b));
    const results: Generation[] = prompts.map(() => ({ tokens: [], logprobs: [], finishReason: 'length' }));
    const done = new Array<boolean>(B).fill(false);

    /**
     * One run: S new tokens per row at cache columns col0 … col0+S−1 — the prompts' S > 1 at 0 (the
     * prefill), or `last` (one token per row) at col0.
     */
    const run = async (S: number, col0: number, last: readonly number[]) => {
      const step = await this.step(kind, B, S, M);
      cache.fit(col0 + S, B);
      let out: Record<string, unknown>;
      if (S > 1) out = await step.exe.run(this.weightFeeds(S, prefillFeeds(prompts, B, S)));
      else {
        const ids = BigInt64Array.from(last, (t) => BigInt(t));
        const positions = BigInt64Array.from(padBefore, (pad) => BigInt(col0 - pad));
        const { feeds, dims } = cache.decodeFeeds(B, (b) => (padBefore[b] < col0 ? [padBefore[b], col0] : null)); // its written cache columns
        out = await step.exe.run(this.weightFeeds(S, { ids, positions, ...feeds }), dims);
      }
      for (let b = 0; b < B; b++) cache.write(out, S, b, 0, S, b, col0);
      return out;
    };

    const record = (b: number, token: number, logprob: number) => {
      results[b].tokens.push(token);
      results[b].logprobs.push(logprob);
      if (s.stopTokens.includes(token)) {
        results[b].finishReason = 'stop';
        done[b] = true;
      } else if (results[b].tokens.length >= s.maxNewTokens) done[b] = true;
    };

    const sampleAll = (out: Record<string, unknown>): number[] => {
      const next: number[] = [];
      if (greedy) {
        const tok = out.token as BigInt64Array;
        const lp = out.logprob as Float32Array;
        for (let b = 0; b < B; b++) {
          const t = Number(tok[b]);
          if (!done[b]) record(b, t, lp[b]);
          next.push(t);
        }
      } else {
        const logits = out.logits as Float32Array;
        for (let b = 0; b < B; b++) {
          const row = logits.subarray(b * V, (b + 1) * V);
          const { token: t, logprob } = sampleWithLogprob(row, s, rngs[b]);
          if (!done[b]) record(b, t, logprob);
          next.push(t);
        }
      }
      return next;
    };

    // a one-token longest prompt (P = 1: every prompt is one token) runs as a decode step at column 0
    let next = sampleAll(await run(P, 0, prompts.map((p) => p[p.length - 1])));
    for (let i = 1; i < s.maxNewTokens && !done.every(Boolean); i++) {
      next = sampleAll(await run(1, P + i - 1, next));
    }
    return results;
  }

  /**
   * Free the graphs specific to this generator (those with baked weights). Weight-free graphs stay
   * in the runtime's session cache: identical for every generator of the same config and shapes,
   * they may be in use by another generator.
   */
  async release(): Promise<void> {
    this.shared = new ShapeCache<StepGraph>();
    await this.owned.release();
  }
}

/** The smallest power of two ≥ n (and ≥ min), capped at max. */
export function powerOfTwoBucket(n: number, min: number, max: number): number {
  let b = min;
  while (b < n) b *= 2;
  return Math.min(b, max);
}

/**
 * A prefill run's feeds for prompts left-padded to S tokens: ids and positions [B, S] (a padding
 * place repeats the prompt's first token at position 0) and bias [B, 1, 1, S, S] (causal over the
 * real tokens; a padding query attends to itself, its output unused). Rows past prompts.length are
 * all padding (their outputs are dropped).
 */
function prefillFeeds(prompts: readonly (readonly number[])[], B: number, S: number): { ids: BigInt64Array; positions: BigInt64Array; bias: Float32Array } {
  const ids = new BigInt64Array(B * S);
  const positions = new BigInt64Array(B * S);
  const bias = new Float32Array(B * S * S).fill(MASKED);
  for (let b = 0; b < B; b++) {
    const p = prompts[Math.min(b, prompts.length - 1)];
    const pad = b < prompts.length ? S - p.length : S;
    for (let i = 0; i < S; i++) {
      const real = i >= pad;
      ids[b * S + i] = BigInt(real ? p[i - pad] : p[0]);
      positions[b * S + i] = BigInt(real ? i - pad : 0);
      const row = (b * S + i) * S;
      if (real) bias.fill(0, row + pad, row + i + 1); // real tokens up to itself
      else bias[row + i] = 0;
    }
  }
  return { ids, positions, bias };
}

/**
 * The KV cache of a decode batch, on the host: per layer, keys and values [rows, KV, W, hd], W (width)
 * the cache columns held now, at most M. Decode graphs take W as
 * a dynamic axis, so a step's attention reads the columns in use, not all M: W grows in steps of 32
 * (by at least a quarter) as sequences lengthen and halves back when the longest leave, the live
 * rows re-laid out in place within one allocation of [rows, KV, M, hd] (nothing is reallocated).
 * Row r's feeds are views of the leading rows (no copy). Shared by generate() and SlotBatch.
 */
export class KvCache {
  private readonly k: Float32Array[];
  private readonly v: Float32Array[];
  /** cache columns held per row now */
  width = 0;

  constructor(
    private readonly c: LlamaConfig,
    readonly rows: number,
    /** columns per row at most */
    readonly M: number,
  ) {
    const per = rows * c.numKvHeads * c.headDim * M;
    this.k = Array.from({ length: c.numLayers }, () => new Float32Array(per));
    this.v = Array.from({ length: c.numLayers }, () => new Float32Array(per));
  }

  /** Make room for `columns` columns (≤ M) in rows 0 … live − 1, keeping what they hold. */
  fit(columns: number, live: number): void {
    const need = Math.min(this.M, Math.max(1, columns));
    const up32 = (n: number) => Math.min(this.M, Math.ceil(n / 32) * 32);
    let w = this.width;
    if (need > w) w = up32(Math.max(need, Math.ceil(w * 1.25)));
    else if (need <= w / 2 && up32(need) < w) w = up32(need);
    if (w === this.width) return;
    const KV = this.c.numKvHeads;
    const hd = this.c.headDim;
    const keep = Math.min(w, this.width);
    // chunk i (a row's head's keys or values: width·hd) moves from i·width·hd to i·w·hd: growing,
    // the last chunk first (a destination never covers an unread source); shrinking, the first first
    const move = (a: Float32Array, chunks: number, size: number) => {
      for (let j = 0; j < chunks; j++) {
        const i = w > this.width ? chunks - 1 - j : j;
        a.copyWithin(i * w * size, i * this.width * size, i * this.width * size + keep * size);
      }
    };
    if (this.width > 0 && live > 0) {
      for (const a of [...this.k, ...this.v]) move(a, live * KV, hd);
    }
    this.width = w;
  }

  /** Write new k/v columns [B, KV, S, hd] (run outputs k.l, v.l) of batch row b, source columns s0 …, into row r at columns col0 … (columns ≥ M are dropped: the last token is never attended to). */
  write(out: Record<string, unknown>, S: number, b: number, s0: number, count: number, r: number, col0: number): void {
    const KV = this.c.numKvHeads;
    const hd = this.c.headDim;
    const W = this.width;
    const n = Math.min(count, this.M - col0);
    if (col0 + n > W) throw new Error(`KvCache.write: columns up to ${col0 + n} past the width ${W} (fit first)`);
    for (let l = 0; l < this.c.numLayers; l++) {
      for (const [from, to] of [[out[`k.${l}`] as Float32Array, this.k[l]], [out[`v.${l}`] as Float32Array, this.v[l]]] as const) {
        for (let h = 0; h < KV; h++) {
          // count columns of hd floats, contiguous on both sides
          const src = ((b * KV + h) * S + s0) * hd;
          const dst = ((r * KV + h) * W + col0) * hd;
          for (let i = 0; i < n * hd; i++) to[dst + i] = from[src + i];
        }
      }
    }
  }

  /** Copy row `from`'s columns into row `to`. */
  copyRow(from: number, to: number): void {
    const per = this.c.numKvHeads * this.c.headDim * this.width;
    for (const a of [...this.k, ...this.v]) a.copyWithin(to * per, from * per, (from + 1) * per);
  }

  /**
   * A decode run's cache feeds (rows 0 … B − 1, views), its bias [B, 1 + W] (itself, then the
   * columns row r attends to: [from, to) of attended(r), null = none) and the run's dims.
   */
  decodeFeeds(B: number, attended: (r: number) => readonly [number, number] | null): { feeds: Record<string, Float32Array>; dims: Record<string, number> } {
    const W = this.width;
    const per = this.c.numKvHeads * this.c.headDim * W;
    const bias = new Float32Array(B * (W + 1)).fill(MASKED);
    for (let r = 0; r < B; r++) {
      const row = r * (W + 1);
      bias[row] = 0; // itself
      const span = attended(r);
      if (span) bias.fill(0, row + 1 + span[0], row + 1 + span[1]);
    }
    const feeds: Record<string, Float32Array> = { bias };
    for (let l = 0; l < this.c.numLayers; l++) {
      feeds[`cache_k.${l}`] = this.k[l].subarray(0, B * per);
      feeds[`cache_v.${l}`] = this.v[l].subarray(0, B * per);
    }
    return { feeds, dims: { columns: W, attended: W + 1 } };
  }
}

/**
 * Rows of a running decode batch whose sequences come and go between steps (continuous batching).
 * Every row may hold M cache columns (KvCache: a step reads the columns in use, the width W of the
 * longest row); row r's sequence has written columns 0 … length(r) − 1 and its next token sits at
 * position length(r), so rows of any lengths share a step (each row's positions and bias are its own).
 * The live rows are always 0 … size − 1: remove() moves the last row into the hole, and a step runs
 * the decode graph of the smallest power-of-two batch ≥ size on the leading rows of the cache
 * (feeds are views: nothing is copied). Rows past size attend to themselves only; their outputs are
 * dropped. Prompts arriving together are prefilled in one run (addMany) with the prefill graph of a
 * power-of-two batch and length (left-padded, as generate() does) and their columns copied into rows.
 * The same graphs as generate() (LlamaGenerator.step): one model, no second decode path.
 */
export class SlotBatch {
  /** columns per row: the longest sequence is M + 1 tokens (the last one is never attended to) */
  readonly M: number;
  private readonly cache: KvCache;
  private readonly lengths: Int32Array;
  private live = 0;

  constructor(
    readonly gen: LlamaGenerator,
    /** most rows at once */
    readonly maxRows: number,
    /** tokens per sequence, prompt included (default: the model's context) */
    context = gen.config.maxPositionEmbeddings,
  ) {
    const c = gen.config;
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new UserError({ what: 'invalid batch size', where: 'SlotBatch(maxRows)', expected: 'an integer ≥ 1', received: String(maxRows) });
    if (!Number.isInteger(context) || context < 2 || context > c.maxPositionEmbeddings) {
      throw new UserError({ what: 'invalid context length', where: 'SlotBatch(context)', expected: `an integer in [2, ${c.maxPositionEmbeddings}] (max_position_embeddings)`, received: String(context) });
    }
    this.M = context - 1;
    this.cache = new KvCache(c, maxRows, this.M);
    this.lengths = new Int32Array(maxRows);
  }

  /** live rows */
  get size(): number {
    return this.live;
  }

  /** tokens of row r's sequence so far (= the position of its next token) */
  length(r: number): number {
    return this.lengths[r];
  }

  /** room for `tokens` more in row r */
  fits(r: number, tokens: number): boolean {
    return this.lengths[r] + tokens <= this.M + 1;
  }

  /** the longest live row's length */
  private longest(): number {
    let n = 0;
    for (let r = 0; r < this.live; r++) n = Math.max(n, this.lengths[r]);
    return n;
  }

  /**
   * Prefill `prompt` into a new row; returns the row and the logits [V] of the next token.
   * Throws when the batch is full or the prompt does not fit the row.
   */
  async add(prompt: readonly number[]): Promise<{ row: number; logits: Float32Array }> {
    const { rows, logits } = await this.addMany([prompt]);
    return { row: rows[0], logits };
  }

  /** The prefill run's shape for `count` prompts whose longest has `longest` tokens: [B, S], both padded to powers of two. */
  prefillShape(count: number, longest: number): { B: number; S: number } {
    return { B: powerOfTwoBucket(count, 1, this.maxRows), S: powerOfTwoBucket(longest, 8, Math.max(8, this.M + 1)) };
  }

  /**
   * Prefill several prompts in one run (the prefill graph of the smallest power-of-two batch ≥
   * their count, left-padded to a power-of-two length), each into a new row; returns the rows and
   * the logits [prompts, V] of each one's next token. Throws (adding none) when they do not fit.
   */
  async addMany(prompts: readonly (readonly number[])[]): Promise<{ rows: number[]; logits: Float32Array }> {
    const c = this.gen.config;
    const k = prompts.length;
    if (k === 0) return { rows: [], logits: new Float32Array(0) };
    if (this.live + k > this.maxRows) throw new UserError({ what: 'the decode batch is full', where: 'SlotBatch.add', expected: `at most ${this.maxRows} rows (${this.live} live, ${k} to add)` });
    for (const prompt of prompts) {
      const P = prompt.length;
      if (P < 1 || P > this.M) throw new UserError({ what: `the prompt has ${P} tokens`, where: 'SlotBatch.add(prompt)', expected: `1 … ${this.M} tokens (the context less one)` });
      for (const t of prompt) if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new UserError({ what: `prompt token ${t} is outside the vocabulary`, where: 'SlotBatch.add(prompt)', expected: `ids in [0, ${c.vocabSize})` });
    }
    const longestPrompt = Math.max(...prompts.map((p) => p.length));
    const { B, S } = this.prefillShape(k, longestPrompt);
    const step = await this.gen.step('logits', B, S, S - 1);
    const out = await step.exe.run(this.gen.weightFeeds(S, prefillFeeds(prompts, B, S)));
    this.cache.fit(Math.max(longestPrompt, this.longest()), this.live);
    const rows = prompts.map((prompt, b) => {
      const r = this.live++;
      this.cache.write(out, S, b, S - prompt.length, prompt.length, r, 0);
      this.lengths[r] = prompt.length;
      return r;
    });
    return { rows, logits: (out.logits as Float32Array).subarray(0, k * c.vocabSize) };
  }

  /** A new row holding a copy of row r (same cache and length): n samples of one prompt prefill once. */
  fork(r: number): number {
    if (this.live >= this.maxRows) throw new UserError({ what: 'the decode batch is full', where: 'SlotBatch.fork', expected: `at most ${this.maxRows} rows` });
    const n = this.live++;
    this.copyRow(r, n);
    return n;
  }

  private copyRow(from: number, to: number): void {
    this.cache.copyRow(from, to);
    this.lengths[to] = this.lengths[from];
  }

  /** Drop row r; the last row moves into its place. Returns the row that moved (its old index), or null. */
  remove(r: number): number | null {
    if (r < 0 || r >= this.live) throw new UserError({ what: `row ${r} is not live`, where: 'SlotBatch.remove', expected: `0 … ${this.live - 1}` });
    const last = --this.live;
    if (r === last) return null;
    this.copyRow(last, r);
    return last;
  }

  /**
   * One decode step: tokens[r] is row r's next token (at position length(r)), for every live row.
   * Returns the logits [size, V] of the token after each. Each row's length grows by one.
   */
  async step(tokens: readonly number[]): Promise<Float32Array> {
    return (await this.decode(tokens, 'logits')).logits;
  }

  /**
   * step() that also returns softmax(logits) [live rows, V] computed in the graph (float32), for
   * sampleFromProbs: the host then spends no exponentials on the vocabulary.
   */
  async stepProbs(tokens: readonly number[]): Promise<{ logits: Float32Array; probs: Float32Array }> {
    const { logits, probs } = await this.decode(tokens, 'probs');
    return { logits, probs: probs! };
  }

  /**
   * step() that samples in the graph (drawGraph): row r's next token is drawn at temperature
   * 1 / invTemp[r] with uniform u[r] ∈ [0, 1), and its argmax is returned beside it; logprobs are
   * the model's own. Returns [live rows] each: nothing of size V leaves the graph.
   */
  async stepDraw(tokens: readonly number[], u: readonly number[], invTemp: readonly number[]): Promise<{ token: BigInt64Array; logprob: Float32Array; greedy: BigInt64Array; greedyLogprob: Float32Array }> {
    const n = this.live;
    if (u.length !== n || invTemp.length !== n) throw new UserError({ what: `${u.length} uniforms and ${invTemp.length} temperatures for ${n} live rows`, where: 'SlotBatch.stepDraw', expected: 'one of each per live row' });
    // rows past the live ones draw with u = 0 at T = 1; their outputs are dropped
    const padded = (xs: readonly number[], fill: number) => (B: number) => Float32Array.from({ length: B }, (_, r) => (r < n ? xs[r] : fill));
    const out = await this.decode(tokens, 'draw', { u: padded(u, 0), inv_temp: padded(invTemp, 1) });
    const rows = <T extends Float32Array | BigInt64Array>(x: unknown) => (x as T).subarray(0, n) as T;
    return { token: rows<BigInt64Array>(out.token), logprob: rows<Float32Array>(out.logprob), greedy: rows<BigInt64Array>(out.greedy), greedyLogprob: rows<Float32Array>(out.greedyLogprob) };
  }

  private async decode(tokens: readonly number[], kind: 'logits' | 'probs'): Promise<{ logits: Float32Array; probs?: Float32Array }>;
  /** extra: feeds beyond the step's own, each sized for the run's batch B (a power of two ≥ the live rows) */
  private async decode(tokens: readonly number[], kind: 'draw', extra: Record<string, (B: number) => Float32Array>): Promise<Record<string, unknown>>;
  private async decode(tokens: readonly number[], kind: 'logits' | 'probs' | 'draw', extra: Record<string, (B: number) => Float32Array> = {}): Promise<Record<string, unknown>> {
    const c = this.gen.config;
    const n = this.live;
    if (tokens.length !== n) throw new UserError({ what: `${tokens.length} tokens for ${n} live rows`, where: 'SlotBatch.step(tokens)', expected: 'one token per live row' });
    if (n === 0) return kind === 'draw' ? { token: new BigInt64Array(0), logprob: new Float32Array(0), greedy: new BigInt64Array(0), greedyLogprob: new Float32Array(0) } : { logits: new Float32Array(0), probs: new Float32Array(0) };
    const B = powerOfTwoBucket(n, 1, this.maxRows);
    const step = await this.gen.step(kind, B, 1, this.M);
    const ids = new BigInt64Array(B);
    const positions = new BigInt64Array(B);
    for (let r = 0; r < n; r++) {
      const len = this.lengths[r];
      if (len > this.M) throw new UserError({ what: `row ${r} is full (${len} tokens)`, where: 'SlotBatch.step', expected: `at most ${this.M + 1} tokens per sequence`, fix: 'stop a sequence when fits(row, 1) is false' });
      ids[r] = BigInt(tokens[r]);
      positions[r] = BigInt(len);
    }
    this.cache.fit(this.longest() + 1, n); // the columns written so far and this step's
    const { feeds: cacheFeeds, dims } = this.cache.decodeFeeds(B, (r) => (r < n ? [0, this.lengths[r]] : null)); // rows past the live ones attend to themselves
    const feeds = this.gen.weightFeeds(1, { ids, positions, ...cacheFeeds, ...Object.fromEntries(Object.entries(extra).map(([name, f]) => [name, f(B)])) });
    const out = await step.exe.run(feeds, dims);
    for (let r = 0; r < n; r++) {
      this.cache.write(out, 1, r, 0, 1, r, this.lengths[r]);
      this.lengths[r]++;
    }
    if (kind === 'draw') return out;
    const logits = (out.logits as Float32Array).subarray(0, n * c.vocabSize);
    return kind === 'probs' ? { logits, probs: (out.probs as Float32Array).subarray(0, n * c.vocabSize) } : { logits };
  }
}

/** One-shot generation (compiles, generates, releases). Keep a LlamaGenerator to reuse graphs. */
export async function generate(c: LlamaConfig, w: LlamaWeights, prompts: readonly (readonly number[])[], o: SamplingOptions & GeneratorOptions): Promise<Generation[]> {
  const gen = new LlamaGenerator(c, w, { threads: o.threads, device: o.device, spinning: o.spinning, bakeDecodeWeights: o.bakeDecodeWeights ?? true });
  try {
    return await gen.generate(prompts, o);
  } finally {
    await gen.release();
  }
}

// ---- sampling (host) ---------------------------------------------------------------------------

/** log softmax(logits)[t], in float64 with the max shifted out (no overflow). */
export function tokenLogprob(logits: Float32Array, t: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return logits[t] - m - Math.log(s);
}

/**
 * sampleToken and tokenLogprob together. Plain sampling at temperature 1 (the RL setting) shares
 * one pass of exponentials: p_i ∝ exp(l_i − max), log p_t = l_t − max − log Σ exp(l_i − max);
 * it draws the same token as sampleToken from the same generator state.
 */
export function sampleWithLogprob(logits: Float32Array, o: Pick<Required<SamplingOptions>, 'temperature' | 'topK' | 'topP'>, rng: Rng): { token: number; logprob: number } {
  if (o.temperature !== 1 || (o.topK > 0 && o.topK < logits.length) || o.topP < 1) {
    const token = sampleToken(logits, o, rng);
    return { token, logprob: tokenLogprob(logits, token) };
  }
  const V = logits.length;
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > m) m = logits[i];
  const e = new Float64Array(V);
  let z = 0;
  for (let i = 0; i < V; i++) {
    e[i] = Math.exp(logits[i] - m);
    z += e[i];
  }
  // sampleToken draws r ∈ [0, 1) against the normalised cdf; compare r·z against the unnormalised one
  const r = rng.float();
  let cdf = 0;
  let token = -1;
  let lastPositive = 0;
  for (let i = 0; i < V; i++) {
    if (e[i] > 0) lastPositive = i;
    cdf += e[i] / z;
    if (r < cdf) {
      token = i;
      break;
    }
  }
  if (token < 0) token = lastPositive;
  return { token, logprob: logits[token] - m - Math.log(z) };
}

/**
 * sampleWithLogprob for a row whose probs = softmax(logits) [V] came out of the decode graph
 * (float32, SlotBatch.stepProbs), so the host spends no exponentials on the vocabulary. Plain
 * sampling (temperature 1, no top-k/top-p) is the same inverse CDF — r ∈ [0, 1) from one
 * rng.float(), token = the first i with r·Σp < Σ_{j≤i} p_j (float64 sums) — over the graph's
 * probabilities instead of the host's float64 exponentials: a token differs from
 * sampleWithLogprob's only when r falls within float32 rounding (~1e-7) of a CDF step. Other
 * settings draw with sampleToken on the logits (unchanged). log p_t = ln probs[t] (float32 relative
 * error ~1e-7, so < 1e-6 absolute); a probability that underflowed to 0 falls back to tokenLogprob.
 */
export function sampleFromProbs(logits: Float32Array, probs: Float32Array, o: Pick<Required<SamplingOptions>, 'temperature' | 'topK' | 'topP'>, rng: Rng): { token: number; logprob: number } {
  const V = logits.length;
  let token = -1;
  if (o.temperature === 1 && !(o.topK > 0 && o.topK < V) && o.topP >= 1) {
    let total = 0;
    for (let i = 0; i < V; i++) total += probs[i];
    const r = rng.float() * total;
    let cdf = 0;
    let lastPositive = 0;
    for (let i = 0; i < V; i++) {
      if (probs[i] > 0) lastPositive = i;
      cdf += probs[i];
      if (r < cdf) {
        token = i;
        break;
      }
    }
    if (token < 0) token = lastPositive; // rounding: the cdf ended just below r
  } else token = sampleToken(logits, o, rng);
  return { token, logprob: probLogprob(logits, probs, token) };
}

/** log p_t from the graph's softmax; exact host log-softmax when float32 underflowed to 0. */
export function probLogprob(logits: Float32Array, probs: Float32Array, t: number): number {
  return probs[t] > 0 ? Math.log(probs[t]) : tokenLogprob(logits, t);
}

/** The k-th largest value of xs (1-based), by quickselect on a copy: O(V). */
function kthLargest(xs: Float32Array, k: number): number {
  const a = Float64Array.from(xs);
  let lo = 0;
  let hi = a.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  return a[want];
}

/**
 * Draw one token from logits with temperature, top-k then top-p, using `rng`.
 * top-k keeps every token whose logit is ≥ the k-th largest (ties kept, as HF's TopKLogitsWarper);
 * top-p follows run.c's sample_topp: candidates sorted by probability, truncated after the first
 * one where the cumulative probability exceeds p, then sampled in proportion.
 */
export function sampleToken(logits: Float32Array, o: Pick<Required<SamplingOptions>, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const V = logits.length;
  if (o.temperature === 0 || o.topK === 1) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const threshold = o.topK > 0 && o.topK < V ? kthLargest(logits, o.topK) : -Infinity;
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] >= threshold && logits[i] > m) m = logits[i];
  const p = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i] >= threshold) {
      p[i] = Math.exp((logits[i] - m) / o.temperature); // max-shifted: never overflows
      total += p[i];
    }
  }
  for (let i = 0; i < V; i++) p[i] /= total;
  if (o.topP < 1) {
    const cutoff = (1 - o.topP) / (V - 1); // tokens below cannot be in the nucleus (run.c)
    const cand: number[] = [];
    for (let i = 0; i < V; i++) if (p[i] >= cutoff && p[i] > 0) cand.push(i);
    cand.sort((a, b) => p[b] - p[a] || a - b);
    let cum = 0;
    let last = cand.length - 1;
    for (let i = 0; i < cand.length; i++) {
      cum += p[cand[i]];
      if (cum > o.topP) {
        last = i;
        break;
      }
    }
    let acc = 0;
    for (let i = 0; i <= last; i++) acc += p[cand[i]];
    const r = rng.float() * acc;
    let cdf = 0;
    for (let i = 0; i <= last; i++) {
      cdf += p[cand[i]];
      if (r < cdf) return cand[i];
    }
    return cand[last];
  }
  const r = rng.float();
  let cdf = 0;
  let lastPositive = 0;
  for (let i = 0; i < V; i++) {
    if (p[i] > 0) lastPositive = i;
    cdf += p[i];
    if (r < cdf) return i;
  }
  return lastPositive; // rounding: the cdf ended just below r
}
