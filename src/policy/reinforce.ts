// REINFORCE with a leave-one-out baseline, as NeMo-Aligner runs it (algorithms/reinforce.py,
// models/nlp/gpt/megatron_gpt_reinforce_actor.py; docs/recipe.md). One step:
//   1. rollout   k samples for each of P prompts from the current policy (KV-cache generation)
//   2. log-probs log π and log π_ref of every response token by full forward passes (one graph:
//                the policy's weights fed, the frozen reference's baked in as initializers)
//   3. reward    r_i from the scorer (a steer RM, an HTTP endpoint, …), optionally clipped
//   4. KL        KL_i = token-mean over response i of |log π − log π_ref| (or k1 / k3)
//                r̃_i = r_i − β·KL_i
//   5. baseline  RLOO over the prompt's other samples that ended (src/policy/rloo.ts);
//                A_i = r̃_i − baseline_i, whitened only when asked
//   6. update    L = Σ_{i,t} m·(−log π(y_t)·A_i) / Σ m over all response tokens of the batch,
//                one AdamW step (no update signal when no sample ended, as NeMo-Aligner)
// Metrics per step: reward mean/std, KL, r̃, response length, fraction ended, entropy, loss, and the
// step time split into generation / log-probs / scoring / update.
import { join } from 'node:path';
import { appendFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { keepJsonLines } from '../io/atomic.js';
import type { Graph } from '../graph/index.js';
import { LlamaGenerator } from '../nn/generate.js';
import type { LlamaConfig } from '../nn/config.js';
import { tokenLogProbs, type LlamaParams } from '../nn/llama.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { adamOptions, bad, nextBatch, nonNegative, positiveInt, resolveCommon, scheduleOf, stepSeed, openPolicyRun, type EpochCursor, type TrainerCommonOptions } from './common.js';
import { contentHash } from '../train/run.js';
import { promptKey, type PolicyPrompt } from './codec.js';
import { maskedRowSum, policyLogits, policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs, tokenEntropy } from './graph.js';
import { sequenceKl, rewardWithKl, type KlForm } from './kl.js';
import { policyGradientLoss } from './losses.js';
import { finalModelDir, resolvePolicy, savePolicy, type PolicyModel } from './model.js';
import { initialParams, policyLora, policyWeights, savePolicyAdapter } from './lora.js';
import type { RewardSource } from './reward.js';
import { rlooAdvantages } from './rloo.js';
import { encodePrompts, generateFixed } from './sample.js';
import { bucketLength, buildSequenceBatch, responseValues } from './sequences.js';
import type { TrainerResult } from './sft.js';
import { PolicyForward, PolicyUpdater, splitRows } from './update.js';

export interface ReinforceOptions extends TrainerCommonOptions {
  /** The starting policy (usually the SFT model). */
  policy: PolicyModel | string;
  /** The frozen reference of the KL penalty (default: the starting policy). */
  reference?: PolicyModel | string;
  reward: RewardSource;
  prompts: readonly PolicyPrompt[];
  /** Prompts per step (default 8). */
  promptsPerStep?: number;
  /** Samples per prompt, k (default 4, as the recipe). */
  samplesPerPrompt?: number;
  /** KL penalty weight β (default 0.01, as the recipe). */
  beta?: number;
  /** abs (default, the recipe) | k1 | k3. */
  klForm?: KlForm;
  /** Whiten advantages over the batch (default false, as the recipe). */
  whiten?: boolean;
  /** Clip RM rewards to [−c, c] before the KL penalty (default: no clipping). */
  rewardClip?: number;
  /** New tokens per response at most (default 48). */
  maxNewTokens?: number;
  /** Sampling temperature (default 1). */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Called at each evaluation (evalEvery, and at the end) with the current policy. */
  evaluate?: (policy: PolicyModel, step: number) => Promise<Record<string, number>>;
  /** Samples per micro-batch of the update (default: all promptsPerStep × k); gradients are averaged. */
  microBatchSize?: number;
  /** Rollouts written to rollouts.jsonl per step (default: the first prompt's k samples). */
  logRollouts?: number;
}

export const REINFORCE_DEFAULTS = { steps: 60, lr: 3e-4, promptsPerStep: 8, samplesPerPrompt: 4, beta: 0.01, klForm: 'abs' as KlForm, maxNewTokens: 48, temperature: 1 } as const;

/** The forward graph of a rollout: log π, log π_ref per position and Σ entropy over response tokens. */
function rolloutGraph(g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams, reference: LlamaParams | null) {
  const s = sequenceInputs(g, B, T);
  const logits = policyLogits(c, policy, s); // [B, T, V]
  const logp = tokenLogProbs(logits, s.targets); // [B, T]
  const logpRef = policyTokenLogProbs(c, reference!, s); // [B, T]
  return { batch: sequenceInputList(s), outputs: { logp, logp_ref: logpRef, entropy: maskedRowSum(tokenEntropy(logits), s.lossMask) } };
}

/** The update graph: token-mean policy-gradient loss with per-sample advantages (also bench/checkpoints/lora_policy.ts). */
export function updateGraph(g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams) {
  const s = sequenceInputs(g, B, T);
  const advantages = g.input('advantages', [B]);
  const logp = policyTokenLogProbs(c, policy, s);
  return { loss: policyGradientLoss(logp, s.lossMask, advantages), batch: [...sequenceInputList(s), advantages], outputs: {} };
}

const mean = (xs: ArrayLike<number>) => (xs.length === 0 ? 0 : Array.from(xs).reduce((a, b) => a + b, 0) / xs.length);
const std = (xs: ArrayLike<number>) => {
  const m = mean(xs);
  return Math.sqrt(mean(Array.from(xs, (x) => (x - m) ** 2)));
};

/** Keep rollout lines of steps ≤ step (a resumed run rewrites what came after its checkpoint). */
function truncateRollouts(path: string, step: number): void {
  keepJsonLines(path, (r) => (r.step as number) <= step);
}

/** Train a policy with REINFORCE + RLOO against a reward scorer. */
export async function trainReinforce(o: ReinforceOptions): Promise<TrainerResult> {
  const r = resolveCommon('reinforce', o, REINFORCE_DEFAULTS);
  const policy = resolvePolicy(o.policy);
  const reference = o.reference === undefined ? policy : resolvePolicy(o.reference);
  const c = policy.config;
  if (JSON.stringify(reference.config) !== JSON.stringify(c)) {
    throw new UserError({ what: 'the reference model has another architecture than the policy', where: 'reinforce.reference', fix: 'use the SFT model the policy started from as the reference' });
  }
  const P = positiveInt('reinforce.promptsPerStep', o.promptsPerStep ?? REINFORCE_DEFAULTS.promptsPerStep);
  const k = o.samplesPerPrompt ?? REINFORCE_DEFAULTS.samplesPerPrompt;
  // with k = 1 the leave-one-out baseline is the sample itself: every advantage is 0, nothing trains
  if (!Number.isInteger(k) || k < 2) bad('reinforce.samplesPerPrompt (-k)', 'an integer ≥ 2 (the leave-one-out baseline needs another sample of the same prompt; the recipe uses 4)', k, 'pass -k 4 (the recipe) or at least -k 2');
  const beta = nonNegative('reinforce.beta', o.beta ?? REINFORCE_DEFAULTS.beta);
  const klForm = o.klForm ?? REINFORCE_DEFAULTS.klForm;
  if (!['abs', 'k1', 'k3'].includes(klForm)) bad('reinforce.klForm', 'abs | k1 | k3', klForm);
  const maxNewTokens = positiveInt('reinforce.maxNewTokens', o.maxNewTokens ?? REINFORCE_DEFAULTS.maxNewTokens);
  const temperature = o.temperature ?? REINFORCE_DEFAULTS.temperature;
  if (!(temperature > 0) || !Number.isFinite(temperature)) bad('reinforce.temperature', 'a number > 0 (REINFORCE needs sampling)', temperature);
  if (o.rewardClip !== undefined && !(o.rewardClip > 0)) bad('reinforce.rewardClip', 'a positive number', o.rewardClip);
  const whiten = o.whiten ?? false;
  const logRollouts = o.logRollouts ?? k;
  if (o.prompts.length === 0) throw new UserError({ what: 'no prompts to train on', where: 'reinforce.prompts', fix: 'pass a prompt file (e.g. the toy world\'s rl-prompts.jsonl)' });

  // Encode every prompt once. Generation pads every batch to one prompt length (one compiled
  // shape); the log-prob and update graphs take the batch's longest sequence rounded up to a
  // multiple of 16 (a few shapes, each compiled once).
  const promptIds = encodePrompts(policy, o.prompts, maxNewTokens);
  const promptLength = Math.max(...promptIds.map((p) => p.length));
  const maxT = bucketLength(promptLength + maxNewTokens, 16, c.maxPositionEmbeddings);
  const B = P * k;
  const micro = positiveInt('reinforce.microBatchSize', o.microBatchSize ?? B);
  if (B % micro !== 0) bad('reinforce.microBatchSize', `a divisor of promptsPerStep × samplesPerPrompt (${B})`, micro);
  const settings = { ...r, promptsPerStep: P, samplesPerPrompt: k, beta, klForm, whiten, rewardClip: o.rewardClip ?? null, maxNewTokens, temperature, topP: o.topP ?? 1, topK: o.topK ?? 0, reward: o.reward.name, policy: policy.source, reference: reference.source, prompts: o.prompts.length, maxSequenceLength: maxT, microBatchSize: micro, data: contentHash(o.prompts) };
  const lora = policyLora(o.lora, policy.weights, 'reinforce.lora', r.seed);
  const run = openPolicyRun(r, 'reinforce', o.lora ? { ...settings, lora: o.lora } : settings);
  let ok = false;

  const engine = { threads: r.threads, deterministic: r.deterministic };
  // With LoRA and the default reference, the KL reference is the graph's frozen base read without
  // the adapter (one copy of the weights in the log-prob graph).
  const sharedReference = lora !== null && o.reference === undefined;
  const forward = new PolicyForward(c, rolloutGraph, sharedReference ? null : reference.weights, engine, true, lora);
  const updater = new PolicyUpdater(c, updateGraph, adamOptions(r, c), engine, lora);
  const rolloutsPath = join(r.out, 'rollouts.jsonl');
  let lastGenerator: LlamaGenerator | null = null;
  let firstStep = true;

  try {
    const res = await runTrainLoop<EpochCursor>(
      { name: 'reinforce', runDir: r.out, steps: r.steps, schedule: scheduleOf(r), checkpointEvery: r.checkpointEvery, evalEvery: r.evalEvery, resume: r.resume, quiet: r.quiet, show: ['reward_mean', 'kl', 'ended'] },
      {
        init: () => TrainState.init(initialParams(c, lora, policy.weights, r.seed)),
        initialCursor: { epoch: 0, index: 0 },
        step: async ({ state, lr, cursor, step }) => {
          if (firstStep) {
            truncateRollouts(rolloutsPath, step);
            firstStep = false;
          }
          const t0 = performance.now();
          // 1. rollout: each prompt k times, rows [p0 × k, p1 × k, …]
          const next = nextBatch(o.prompts.length, P, cursor, r.seed, 'reinforce');
          const rowsPrompt = next.indices.flatMap((i) => new Array<number>(k).fill(i));
          const weights = policyWeights(c, lora, state.params); // with LoRA: merged for the generator
          lastGenerator = new LlamaGenerator(c, weights, { threads: r.threads });
          const gens = await generateFixed(lastGenerator, rowsPrompt.map((i) => promptIds[i]), {
            maxNewTokens, temperature, topP: o.topP, topK: o.topK, seed: stepSeed(r.seed, 'reinforce', step), batchSize: B, stopTokens: policy.codec.stopTokens, promptLength,
          });
          const t1 = performance.now();
          // 2. log-probs of the policy and the reference, full passes
          const examples = rowsPrompt.map((pi, b) => ({ prompt: promptIds[pi], response: gens[b].tokens }));
          const T = bucketLength(Math.max(...examples.map((e) => e.prompt.length + e.response.length)), 16, maxT);
          const batch = buildSequenceBatch(examples, { padId: policy.codec.padId, T });
          const lp = await forward.run(state.params, B, T, sequenceFeeds(batch));
          const t2 = performance.now();
          // 3. rewards
          const responses = gens.map((g) => policy.codec.decodeResponse(g.tokens));
          const rm = await o.reward.score(rowsPrompt.map((pi, b) => ({ prompt: o.prompts[pi], response: responses[b] })));
          const t3 = performance.now();
          // 4. KL and r̃; 5. RLOO advantages
          const ended = gens.map((g) => g.finishReason === 'stop');
          const kl = gens.map((_, b) => sequenceKl(responseValues(lp.logp as Float32Array, batch, b), responseValues(lp.logp_ref as Float32Array, batch, b), klForm));
          const rTilde = rm.map((x, b) => rewardWithKl(x, kl[b], beta, o.rewardClip));
          const adv = ended.some(Boolean) ? rlooAdvantages({ promptKeys: rowsPrompt, rewards: rTilde, ended }, { whiten }) : new Float64Array(B);
          // 6. update
          const feeds = { ...sequenceFeeds(batch), advantages: Float32Array.from(adv) };
          const upd = await updater.step(state, micro, T, micro === B ? feeds : splitRows(feeds, B, B / micro), lr);
          const t4 = performance.now();

          const tokens = gens.map((g) => g.tokens.length);
          const entropySum = Array.from(lp.entropy as Float32Array).reduce((a, b) => a + b, 0);
          const total = t4 - t0;
          if (logRollouts > 0) {
            const lines = gens.slice(0, logRollouts).map((_, b) => JSON.stringify({ step: step + 1, prompt: o.prompts[rowsPrompt[b]], response: responses[b], reward: rm[b], kl: kl[b], advantage: adv[b], ended: ended[b] }));
            appendFileSync(rolloutsPath, lines.join('\n') + '\n');
          }
          return {
            metrics: {
              reward_mean: mean(rm),
              reward_std: std(rm),
              kl: mean(kl),
              reward_with_kl: mean(rTilde),
              advantage_abs: mean(Array.from(adv, Math.abs)),
              response_tokens: mean(tokens),
              response_chars: mean(responses.map((s) => s.length)),
              ended: mean(ended.map(Number)),
              entropy: entropySum / Math.max(1, tokens.reduce((a, b) => a + b, 0)),
              loss: upd.loss,
              grad_norm: upd.gradNorm,
              generation_ms: t1 - t0,
              logprob_ms: t2 - t1,
              scoring_ms: t3 - t2,
              update_ms: t4 - t3,
              generation_share: (t1 - t0) / total,
            },
            cursor: next.cursor,
          };
        },
        evaluate: o.evaluate
          ? async ({ state, step }) => o.evaluate!({ config: c, weights: policyWeights(c, lora, state.params), codec: policy.codec, source: `reinforce step ${step}` }, step)
          : undefined,
      },
    );
    const trained: PolicyModel = { config: c, weights: policyWeights(c, lora, res.state.params), codec: policy.codec, source: finalModelDir(r.out) };
    const adapterDir = lora ? savePolicyAdapter(r.out, c, lora, res.state.params, policy.source) : null;
    const modelDir = savePolicy(finalModelDir(r.out), trained, { stage: 'reinforce', steps: res.steps, from: policy.source, reference: reference.source, reward: o.reward.name, ...(lora ? { lora: { ...lora.config, adapter: adapterDir } } : {}) });
    ok = true;
    return { policy: trained, modelDir, adapterDir, runDir: r.out, metricsPath: res.metricsPath, steps: res.steps, resumedFrom: res.resumedFrom, lastMetrics: res.lastMetrics, lastEval: res.lastEval };
  } finally {
    await forward.release();
    await updater.release();
    if (lastGenerator) await (lastGenerator as LlamaGenerator).release();
    run.release(ok);
  }
}
