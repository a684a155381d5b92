// LoRA for the policy trainers (SFT, DPO, REINFORCE): the base policy is frozen and baked into the
// step graph as initializers; only the adapter (src/nn/lora.ts: y = x Wᵀ + s · (dropout(x) Aᵀ) Bᵀ,
// s = alpha / r) is trainable state, so the frozen weights never cross the binding as outputs.
// lora_dropout applies in update graphs only (masks fed per step, seeded); forward graphs
// (log-probs, evaluation, generation) and the merged model have none.
// The KL / DPO reference is the base without the adapter: the same initializer tensors, read
// without the LoRA delta (no second copy of the weights in the graph). Every graph (update, log-probs,
// the sampler's) is fed the base from the one host copy: no session and no sampler holds another
// (the sampler applies the adapter in its graph: policyGenerator).
// At the end of a run: OUT/model = the merged policy (W' = W + s · B A, a plain HF checkpoint) and
// OUT/adapter = the adapter in PEFT's layout (task_type CAUSAL_LM, src/io/peft.ts).
import { join } from 'node:path';
import type { Graph, Tensor, TypedArray } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaParams } from '../nn/llama.js';
import { LoraDropout, checkLoraConfig, initLora, loraScale, loraWeightShapes, mergeLora, type LoraConfig, type LoraGraph } from '../nn/lora.js';
import type { LlamaWeights } from '../nn/weights.js';
import { LlamaGenerator, type GeneratorOptions } from '../nn/generate.js';
import { savePeftAdapter } from '../io/peft.js';
import { Rng } from '../util/rng.js';
import { weightArrays, weightsFromArrays } from './model.js';

/** A trainer's LoRA setup: the adapter's config and the frozen base it adapts. */
export interface PolicyLora {
  config: LoraConfig;
  base: LlamaWeights;
  /** Seeds the lora_dropout masks: step s, micro-batch i draws from Rng.derive(seed, `lora-dropout/s/i`). */
  seed?: number;
}

/** Policy weights on a graph; with LoRA, the frozen base plus the adapter read by policyLogits. */
export type PolicyParams = LlamaParams & { readonly lora?: LoraGraph };

/** Base weights `base` with the adapter `lora` attached (a new map; the base map is not modified). */
export function withLora(base: LlamaParams, lora: LoraGraph): PolicyParams {
  return Object.assign(new Map(base), { lora });
}

/**
 * The adapter's trainable inputs, named by steer's adapter names (`<module>.lora_A.weight`, …).
 * `training` graphs with lora_dropout > 0 also read dropout masks (LoraDropout); inference never.
 */
export function loraInputs(g: Graph, c: LlamaConfig, l: LoraConfig, training = false): { graph: LoraGraph; inputs: Tensor[] } {
  const params = new Map<string, Tensor>();
  const inputs: Tensor[] = [];
  for (const [name, shape] of loraWeightShapes(c, l)) {
    const t = g.input(name, shape);
    params.set(name, t);
    inputs.push(t);
  }
  const dropout = training && l.dropout > 0 ? new LoraDropout(l.dropout) : undefined;
  return { graph: { scale: loraScale(l), params, ...(dropout ? { dropout } : {}) }, inputs };
}

/** The dropout masks of training step `step`, micro-batch `micro` (empty without dropout). */
export function loraDropoutFeeds(lora: PolicyLora | null, dropout: LoraDropout | undefined, step: number, micro: number): Record<string, Float32Array> {
  if (!lora || !dropout) return {};
  return dropout.feeds(Rng.derive(lora.seed ?? 0, `lora-dropout/${step}/${micro}`));
}

/** The trainer's LoRA setup for `lora` on `base`, or null (full fine-tuning); `seed` seeds lora_dropout. */
export function policyLora(lora: LoraConfig | undefined, base: LlamaWeights, where: string, seed = 0): PolicyLora | null {
  return lora ? { config: checkLoraConfig(lora, where), base, seed } : null;
}

/** The initial trainable state: every weight (full fine-tuning) or a fresh adapter (A ~ PEFT's init, B = 0), seeded from (seed, "policy/lora"). */
export function initialParams(c: LlamaConfig, lora: PolicyLora | null, weights: LlamaWeights, seed: number): Record<string, Float32Array> {
  if (!lora) return weightArrays(weights);
  return weightArrays(initLora(c, lora.config, Rng.derive(seed, 'policy/lora')));
}

/** The adapter tensors of a train state. */
export function adapterFromArrays(c: LlamaConfig, l: LoraConfig, params: Readonly<Record<string, TypedArray>>): LlamaWeights {
  return new Map(loraWeightShapes(c, l).map(([n, shape]) => [n, { shape, data: params[n] as Float32Array }]));
}

/** The policy's weights for a train state: the state itself, or the base merged with the adapter. */
export function policyWeights(c: LlamaConfig, lora: PolicyLora | null, params: Readonly<Record<string, TypedArray>>): LlamaWeights {
  return lora ? mergeLora(c, lora.base, lora.config, adapterFromArrays(c, lora.config, params)) : weightsFromArrays(c, params);
}

/**
 * The trainer's sampler for train state `params`, reusing `generator` (one per run) when given: full
 * fine-tuning generates from the weights (the generator's fused layout); LoRA from the frozen base
 * with the live adapter applied in the generation graph — no merged, fused or transposed copy of the
 * base, and the same tokens and log-probs as the merged weights (test/nn/generate_lora.test.ts).
 */
export async function policyGenerator(c: LlamaConfig, lora: PolicyLora | null, params: Readonly<Record<string, TypedArray>>, generator: LlamaGenerator | null, opts: GeneratorOptions): Promise<LlamaGenerator> {
  if (!lora) {
    const weights = weightsFromArrays(c, params);
    return generator ? generator.setWeights(weights) : new LlamaGenerator(c, weights, opts);
  }
  const adapter = adapterFromArrays(c, lora.config, params);
  return generator ? generator.setAdapter(adapter) : new LlamaGenerator(c, lora.base, { ...opts, lora: { config: lora.config, adapter } });
}

/** Save OUT/adapter (PEFT layout, CAUSAL_LM) for a LoRA run; returns its path. */
export function savePolicyAdapter(runDir: string, c: LlamaConfig, lora: PolicyLora, params: Readonly<Record<string, TypedArray>>, baseModel: string): string {
  return savePeftAdapter(join(runDir, 'adapter'), { lora: lora.config, weights: adapterFromArrays(c, lora.config, params), modules: new Map(), taskType: 'CAUSAL_LM', baseModel });
}
