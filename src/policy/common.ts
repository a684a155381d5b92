// What the policy trainers (SFT, DPO, REINFORCE) share on top of the trainer kit (src/train/):
// their options' shared checks, the run directory, the starting policy and its LoRA setup, and
// the end of a run (the final model, the adapter, the result every trainer returns).
import { UserError } from '../util/errors.js';
import { openRun, type RunDir } from '../train/run.js';
import type { TrainLoopResult } from '../train/loop.js';
import type { TrainerOptions } from '../train/options.js';
import { finalModelDir, resolvePolicy, savePolicy, type PolicyModel } from './model.js';
import { policyLora, policyWeights, savePolicyAdapter, type PolicyLora } from './lora.js';
import type { EngineOptions } from './update.js';

export interface TrainerResult {
  policy: PolicyModel;
  modelDir: string;
  /** With LoRA: the adapter in PEFT's layout (OUT/adapter); model/ is then the merged policy. */
  adapterDir: string | null;
  runDir: string;
  metricsPath: string;
  steps: number;
  resumedFrom: number | null;
  lastMetrics: Record<string, number>;
  lastEval: Record<string, number> | null;
}

export function bad(where: string, expected: string, received: unknown, fix?: string): never {
  throw new UserError({ what: `invalid option ${where}`, where, expected, received: String(received), fix: fix ?? `pass ${where} within range` });
}

/** Rows per micro-batch: a divisor of the batch (default the whole batch). */
export function microBatch(where: string, batch: number, micro: number | undefined, of = 'batchSize'): number {
  const m = micro ?? batch;
  if (batch % m !== 0) bad(where, `a divisor of ${of} (${batch})`, m);
  return m;
}

/** A policy trainer's start: the policy, its frozen reference (same architecture), the LoRA setup, maxLength checked against the context. */
export function startPolicy(stage: string, cfg: TrainerOptions & { maxLength?: number }, p: PolicyModel | string, ref?: PolicyModel | string | null) {
  const policy = resolvePolicy(p);
  const reference = ref === null ? null : ref === undefined ? policy : resolvePolicy(ref);
  const c = policy.config;
  if (reference && JSON.stringify(reference.config) !== JSON.stringify(c)) {
    throw new UserError({ what: 'the reference model has another architecture than the policy', where: `${stage}.reference`, fix: 'use the SFT model the policy started from as the reference' });
  }
  const maxLength = cfg.maxLength ?? c.maxPositionEmbeddings;
  if (maxLength > c.maxPositionEmbeddings) bad(`${stage}.maxLength`, `at most the model context (${c.maxPositionEmbeddings})`, maxLength);
  const lora: PolicyLora | null = policyLora(cfg.lora, policy.weights, `${stage}.lora`, cfg.seed);
  const engine: EngineOptions = { threads: cfg.threads, deterministic: cfg.deterministic ?? false, spinning: cfg.spinning };
  return { policy, reference: reference ?? policy, c, maxLength, lora, engine };
}

/**
 * Open the run directory (src/train/run.ts: output guard, lock, the resume rule) and write the
 * resolved run config as <out>/config.json. The trainer calls release(ok) when it ends.
 */
export function openPolicyRun(cfg: TrainerOptions, stage: string, config: Record<string, unknown>): RunDir {
  return openRun({ runDir: cfg.out, stage, config: { stage, ...cfg, ...config }, resume: cfg.resume, pathKeys: ['policy', 'reference', 'reward', 'tokenizer'] });
}

/** Save OUT/model (and OUT/adapter with LoRA) from the loop's final state; the trainer's result. */
export function finishPolicy(cfg: TrainerOptions, start: { policy: PolicyModel; lora: PolicyLora | null }, res: TrainLoopResult<unknown>, meta: Record<string, unknown>): TrainerResult {
  const { policy, lora } = start;
  const c = policy.config;
  const trained: PolicyModel = { config: c, weights: policyWeights(c, lora, res.state.params), codec: policy.codec, source: finalModelDir(cfg.out) };
  const adapterDir = lora ? savePolicyAdapter(cfg.out, c, lora, res.state.params, policy.source) : null;
  const modelDir = savePolicy(finalModelDir(cfg.out), trained, { ...meta, steps: res.steps, from: policy.source, ...(lora ? { lora: { ...lora.config, adapter: adapterDir } } : {}) });
  return { policy: trained, modelDir, adapterDir, runDir: cfg.out, metricsPath: res.metricsPath, steps: res.steps, resumedFrom: res.resumedFrom, lastMetrics: res.lastMetrics, lastEval: res.lastEval };
}
