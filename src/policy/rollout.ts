// REINFORCE's options, graphs and per-step bookkeeping (the loop is src/policy/reinforce.ts):
//   options        one schema for trainReinforce and `steer rl reinforce` (src/train/options.ts fields + its own)
//   rollout graph  log π and log π_ref per position, and Σ entropy over the response tokens
//                  (the policy's weights fed, the frozen reference's baked in as initializers);
//                  when generation's log-probs are exact (temperature 1, no truncation) only
//                  log π_ref is computed: log π is generation's, and the entropy metric is the
//                  sampled tokens' mean −log π (an unbiased estimate of the same per-token entropy)
//   update graph   L = Σ_{i,t} m·(−log π(y_t)·A_i) / Σ m over all response tokens of the batch
//   metrics        reward mean/std, KL, r̃, response length, fraction ended, entropy, loss, and the
//                  step time split into generation / log-probs / scoring / update
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { int, num, posInt, trainerFields, type TrainerDefaults } from '../train/options.js';
import type { PolicyModel } from './model.js';
import type { RewardSource } from './reward.js';
import { keepJsonLines } from '../io/atomic.js';
import type { Graph } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { tokenLogProbs, type LlamaParams } from '../nn/llama.js';
import { mean, std } from '../util/stats.js';
import { maskedRowSum, policyLogits, policyTokenLogProbs, sequenceInputList, sequenceInputs, tokenEntropy } from './graph.js';
import { policyGradientLoss } from './losses.js';
import type { Prompt } from '../data/helpsteer2.js';

export const REINFORCE_DEFAULTS: TrainerDefaults = { steps: 60, lr: 3e-4 };

export const reinforceSchema = z.strictObject({
  ...trainerFields(REINFORCE_DEFAULTS),
  promptsPerStep: posInt.default(8),
  /** Samples per prompt, k: with k = 1 the leave-one-out baseline is the sample itself and nothing trains. */
  samplesPerPrompt: int.min(2, { error: 'an integer ≥ 2 (the leave-one-out baseline needs another sample of the same prompt; the recipe uses 4)' }).default(4),
  /** KL penalty weight β (the recipe: 0.01). */
  beta: num.min(0).default(0.01),
  /** abs (the recipe) | k1 | k3. */
  klForm: z.enum(['abs', 'k1', 'k3'], { error: 'abs | k1 | k3' }).default('abs'),
  /** Whiten advantages over the batch (off in the recipe). */
  whiten: z.boolean().default(false),
  /** Clip RM rewards to [−c, c] before the KL penalty (absent: no clipping). */
  rewardClip: num.positive().optional(),
  maxNewTokens: posInt.default(48),
  temperature: num.positive({ error: 'a number > 0 (REINFORCE needs sampling)' }).default(1),
  topP: num.positive().max(1).default(1),
  topK: int.min(0).default(0),
  /** Samples per micro-batch of the update (default: all promptsPerStep × k); gradients are averaged. */
  microBatchSize: posInt.optional(),
  /** Rollouts written to rollouts.jsonl per step (default: the first prompt's k samples). */
  logRollouts: int.min(0).optional(),
  /** Recompute log π by a full forward pass even where generation's log-probs are exact. */
  recomputeLogprobs: z.boolean().default(false),
});

export type ReinforceOptions = z.input<typeof reinforceSchema> & {
  /** The starting policy (usually the SFT model). */
  policy: PolicyModel | string;
  /** The frozen reference of the KL penalty (default: the starting policy). */
  reference?: PolicyModel | string;
  reward: RewardSource;
  prompts: readonly Prompt[];
  /** Called at each evaluation (evalEvery, and at the end) with the current policy. */
  evaluate?: (policy: PolicyModel, step: number) => Promise<Record<string, number>>;
};

/** The forward graph of a rollout: log π, log π_ref per position and Σ entropy over response tokens. */
export function rolloutGraph(g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams, reference: LlamaParams | null) {
  const s = sequenceInputs(g, B, T);
  const logits = policyLogits(c, policy, s); // [B, T, V]
  const logp = tokenLogProbs(logits, s.targets); // [B, T]
  const logpRef = policyTokenLogProbs(c, reference!, s); // [B, T]
  return { batch: sequenceInputList(s), outputs: { logp, logp_ref: logpRef, entropy: maskedRowSum(tokenEntropy(logits), s.lossMask) } };
}

/** Only the reference's log π_ref per position: the rollout graph when the policy's log-probs come from generation. */
export function referenceLogpGraph(g: Graph, c: LlamaConfig, B: number, T: number, _policy: LlamaParams, reference: LlamaParams | null) {
  const s = sequenceInputs(g, B, T);
  return { batch: sequenceInputList(s), outputs: { logp_ref: policyTokenLogProbs(c, reference!, s) } };
}

/**
 * Whether generation's per-token log-probs are the policy's log π(y_t) (to float32 rounding, ~1e-6):
 * plain sampling at temperature 1 without top-k / top-p truncation draws from softmax(logits) itself.
 */
export function generationLogprobsExact(o: { temperature: number; topP: number; topK: number }, vocabSize: number): boolean {
  return o.temperature === 1 && o.topP >= 1 && (o.topK === 0 || o.topK >= vocabSize);
}

/** The update graph: token-mean policy-gradient loss with per-sample advantages (also bench/checkpoints/lora_policy.ts). */
export function updateGraph(g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams) {
  const s = sequenceInputs(g, B, T);
  const advantages = g.input('advantages', [B]);
  const logp = policyTokenLogProbs(c, policy, s);
  return { loss: policyGradientLoss(logp, s.lossMask, advantages), batch: [...sequenceInputList(s), advantages], outputs: {} };
}

/** Keep rollout lines of steps ≤ step (a resumed run rewrites what came after its checkpoint). */
export function truncateRollouts(path: string, step: number): void {
  keepJsonLines(path, (r) => (r.step as number) <= step);
}

export interface StepRecord {
  prompts: Prompt[];
  responses: string[];
  tokens: number[];
  rewards: number[];
  kl: number[];
  rewardWithKl: number[];
  advantages: ArrayLike<number>;
  ended: boolean[];
  entropySum: number;
  update: { loss: number; gradNorm: number };
  /** performance.now() at the start, after generation, log-probs, scoring and the update. */
  times: [number, number, number, number, number];
}

/** The first `n` rollouts of a step, appended to rollouts.jsonl. */
export function logRollouts(path: string, step: number, r: StepRecord, n: number): void {
  if (n <= 0) return;
  const lines = r.responses.slice(0, n).map((response, b) => JSON.stringify({ step, prompt: r.prompts[b], response, reward: r.rewards[b], kl: r.kl[b], advantage: r.advantages[b], ended: r.ended[b] }));
  appendFileSync(path, lines.join('\n') + '\n');
}

/** The step's metrics (see the file header). */
export function rolloutMetrics(r: StepRecord): Record<string, number> {
  const [t0, t1, t2, t3, t4] = r.times;
  return {
    reward_mean: mean(r.rewards),
    reward_std: std(r.rewards, 0),
    kl: mean(r.kl),
    reward_with_kl: mean(r.rewardWithKl),
    advantage_abs: mean(Array.from(r.advantages, Math.abs)),
    response_tokens: mean(r.tokens),
    response_chars: mean(r.responses.map((s) => s.length)),
    ended: mean(r.ended.map(Number)),
    entropy: r.entropySum / Math.max(1, r.tokens.reduce((a, b) => a + b, 0)),
    loss: r.update.loss,
    grad_norm: r.update.gradNorm,
    generation_ms: t1 - t0,
    logprob_ms: t2 - t1,
    scoring_ms: t3 - t2,
    update_ms: t4 - t3,
    generation_share: (t1 - t0) / (t4 - t0),
  };
}
