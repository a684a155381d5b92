// REINFORCE with a leave-one-out baseline, as NeMo-Aligner runs it (algorithms/reinforce.py,
// models/nlp/gpt/megatron_gpt_reinforce_actor.py; docs/recipe.md). One step:
//   1. rollout   k samples for each of P prompts from the current policy (KV-cache generation)
//   2. log-probs log π of every response token as generation returned it (temperature 1, no top-k /
//                top-p: exact to float32 rounding), or by a full forward pass otherwise; log π_ref
//                by a full pass of the frozen reference (rollout.ts)
//   3. reward    r_i from the scorer (a steer RM, an HTTP endpoint, …), optionally clipped
//   4. KL        KL_i = token-mean over response i of |log π − log π_ref| (or k1 / k3)
//                r̃_i = r_i − β·KL_i
//   5. baseline  RLOO over the prompt's other samples that ended (src/policy/rloo.ts);
//                A_i = r̃_i − baseline_i, whitened only when asked
//   6. update    L = Σ_{i,t} m·(−log π(y_t)·A_i) / Σ m over all response tokens of the batch,
//                one AdamW step (no update signal when no sample ended, as NeMo-Aligner)
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { LlamaGenerator } from '../nn/generate.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { contentHash } from '../train/run.js';
import { FIRST_ITEM, lengthBucket, nextBatch, stepSeed, type EpochCursor } from '../train/batches.js';
import { splitRows } from '../train/steps.js';
import { loopOptions, parseTrainerOptions } from '../train/options.js';
import { sequenceFeeds } from './graph.js';
import { sequenceKl, rewardWithKl } from './kl.js';
import { initialParams, policyGenerator, policyWeights } from './lora.js';
import { rlooAdvantages } from './rloo.js';
import { encodePrompts, generateFixed } from './sample.js';
import { buildSequenceBatch, responseValues } from './sequences.js';
import { PolicyForward, PolicyUpdater } from './update.js';
import { finishPolicy, microBatch, openPolicyRun, startPolicy, type TrainerResult } from './common.js';
import { generationLogprobsExact, logRollouts, reinforceSchema, type ReinforceOptions, type StepRecord, referenceLogpGraph, rolloutGraph, rolloutMetrics, truncateRollouts, updateGraph } from './rollout.js';

export { REINFORCE_DEFAULTS, reinforceSchema, type ReinforceOptions } from './rollout.js';

/** Train a policy with REINFORCE + RLOO against a reward scorer. */
export async function trainReinforce(o: ReinforceOptions): Promise<TrainerResult> {
  const { policy: p, reference: ref, reward, prompts, evaluate, ...rest } = o;
  const cfg = parseTrainerOptions(reinforceSchema, rest, 'reinforce');
  const st = startPolicy('reinforce', cfg, p, ref);
  const { policy, reference, c, lora, engine } = st;
  const k = cfg.samplesPerPrompt;
  if (prompts.length === 0) throw new UserError({ what: 'no prompts to train on', where: 'reinforce.prompts', fix: 'pass a prompt file (e.g. the toy world\'s rl-prompts.jsonl)' });
  // Prompts encoded once; generation pads every batch to one prompt length (one compiled shape),
  // the log-prob and update graphs take the batch's length bucket (multiples of 16).
  const promptIds = encodePrompts(policy, prompts, cfg.maxNewTokens);
  const promptLength = Math.max(...promptIds.map((x) => x.length));
  const maxT = lengthBucket(promptLength + cfg.maxNewTokens, 16, c.maxPositionEmbeddings);
  const B = cfg.promptsPerStep * k;
  const micro = microBatch('reinforce.microBatchSize', B, cfg.microBatchSize, 'promptsPerStep × samplesPerPrompt');
  const run = openPolicyRun(cfg, 'reinforce', { reward: reward.name, policy: policy.source, reference: reference.source, prompts: prompts.length, maxSequenceLength: maxT, microBatchSize: micro, data: contentHash(prompts) });
  // With LoRA and the default reference, the KL reference is the frozen base without the adapter.
  const sharedReference = lora !== null && ref === undefined;
  const fromGeneration = !cfg.recomputeLogprobs && generationLogprobsExact(cfg, c.vocabSize);
  const forward = fromGeneration
    ? new PolicyForward(c, referenceLogpGraph, sharedReference ? policy.weights : reference.weights, engine, false, lora)
    : new PolicyForward(c, rolloutGraph, sharedReference ? null : reference.weights, engine, true, lora);
  const updater = new PolicyUpdater(c, updateGraph, cfg, engine, lora);
  const rolloutsPath = join(cfg.out, 'rollouts.jsonl');
  let generator: LlamaGenerator | null = null;
  let firstStep = true;
  let ok = false;
  try {
    const res = await runTrainLoop<EpochCursor>(loopOptions(cfg, 'reinforce', cfg.steps!, ['reward_mean', 'kl', 'ended']), {
      init: () => TrainState.init(initialParams(c, lora, policy.weights, cfg.seed)),
      initialCursor: FIRST_ITEM,
      step: async ({ state, lr, cursor, step }) => {
        if (firstStep) (truncateRollouts(rolloutsPath, step), (firstStep = false));
        const t0 = performance.now();
        // 1. rollout: each prompt k times, rows [p0 × k, p1 × k, …]
        const next = nextBatch(prompts.length, cfg.promptsPerStep, cursor, cfg.seed, 'reinforce/epoch');
        const rowsPrompt = next.indices.flatMap((i) => new Array<number>(k).fill(i));
        generator = await policyGenerator(c, lora, state.params, generator, { threads: cfg.threads }); // one per run; with LoRA: the base + the live adapter
        const gens = await generateFixed(generator, rowsPrompt.map((i) => promptIds[i]), {
          maxNewTokens: cfg.maxNewTokens, temperature: cfg.temperature, topP: cfg.topP, topK: cfg.topK, seed: stepSeed(cfg.seed, 'reinforce', step), batchSize: B, stopTokens: policy.codec.stopTokens, promptLength,
        });
        const t1 = performance.now();
        // 2. log-probs: the policy's from generation (or a full pass), the reference's by a full pass
        const examples = rowsPrompt.map((pi, b) => ({ prompt: promptIds[pi], response: gens[b].tokens }));
        const T = lengthBucket(Math.max(...examples.map((e) => e.prompt.length + e.response.length)), 16, maxT);
        const batch = buildSequenceBatch(examples, { padId: policy.codec.padId, T });
        const lp = await forward.run(state.params, B, T, sequenceFeeds(batch));
        const t2 = performance.now();
        // 3. rewards
        const responses = gens.map((g) => policy.codec.decodeResponse(g.tokens));
        const rewards = await reward.score(rowsPrompt.map((pi, b) => ({ prompt: prompts[pi], response: responses[b] })));
        const t3 = performance.now();
        // 4. KL and r̃; 5. RLOO advantages
        const ended = gens.map((g) => g.finishReason === 'stop');
        const logp = (b: number) => (fromGeneration ? gens[b].logprobs : responseValues(lp.logp as Float32Array, batch, b));
        const kl = gens.map((_, b) => sequenceKl(logp(b), responseValues(lp.logp_ref as Float32Array, batch, b), cfg.klForm));
        const rTilde = rewards.map((x, b) => rewardWithKl(x, kl[b], cfg.beta, cfg.rewardClip));
        const adv = ended.some(Boolean) ? rlooAdvantages({ promptKeys: rowsPrompt, rewards: rTilde, ended }, { whiten: cfg.whiten }) : new Float64Array(B);
        // 6. update
        const feeds = { ...sequenceFeeds(batch), advantages: Float32Array.from(adv) };
        const update = await updater.step(state, micro, T, micro === B ? feeds : splitRows(feeds, B, B / micro), lr);
        const entropySum = fromGeneration ? -gens.reduce((a, g) => a + g.logprobs.reduce((x, y) => x + y, 0), 0) : Array.from(lp.entropy as Float32Array).reduce((a, b) => a + b, 0);
        const record = { prompts: rowsPrompt.map((pi) => prompts[pi]), responses, tokens: gens.map((g) => g.tokens.length), rewards, kl, rewardWithKl: rTilde, advantages: adv, ended, entropySum, update, times: [t0, t1, t2, t3, performance.now()] as StepRecord['times'] };
        logRollouts(rolloutsPath, step + 1, record, cfg.logRollouts ?? k);
        return { metrics: rolloutMetrics(record), cursor: next.cursor };
      },
      evaluate: evaluate ? async ({ state, step }) => evaluate({ config: c, weights: policyWeights(c, lora, state.params), codec: policy.codec, source: `reinforce step ${step}` }, step) : undefined,
    });
    const result = finishPolicy(cfg, st, res, { stage: 'reinforce', reference: reference.source, reward: reward.name });
    ok = true;
    return result;
  } finally {
    await forward.release();
    await updater.release();
    await (generator as LlamaGenerator | null)?.release();
    run.release(ok);
  }
}
