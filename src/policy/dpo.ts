// DPO and its margin / scaled variants (docs/recipe.md: the three Bradley-Terry losses on DPO's
// implicit reward r = β·Σ_t (log π − log π_ref) over the response tokens; src/policy/losses.ts).
// The reference's summed log-probs are computed once per pair, before training, by a graph with
// the reference weights baked in, and cached in <out>/reference-logps.json (reused on resume when
// the data and reference are unchanged). A batch of B pairs is one [2B, T] sequence batch: rows
// [c0 … cB−1, r0 … rB−1] (src/data/pairs.ts pairBatchLayout), so a pair never straddles batches.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import type { Graph, TypedArray } from '../graph/index.js';
import type { PreferencePair } from '../data/pairs.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaParams } from '../nn/llama.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { adamOptions, bad, nextBatch, positiveInt, resolveCommon, scheduleOf, openPolicyRun, type EpochCursor, type TrainerCommonOptions } from './common.js';
import { contentHash } from '../train/run.js';
import { maskedRowSum, policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from './graph.js';
import { DPO_LOSS_KINDS, dpoLoss, type DpoLossKind } from './losses.js';
import { finalModelDir, resolvePolicy, savePolicy, type PolicyModel } from './model.js';
import { initialParams, policyLora, policyWeights, savePolicyAdapter } from './lora.js';
import { bucketLength, buildSequenceBatch, type TokenizedExample } from './sequences.js';
import type { TrainerResult } from './sft.js';
import { PolicyForward, PolicyUpdater } from './update.js';

export interface DpoOptions extends TrainerCommonOptions {
  /** The starting policy (usually the SFT model). */
  policy: PolicyModel | string;
  /** The frozen reference (default: the starting policy). */
  reference?: PolicyModel | string;
  pairs: readonly PreferencePair[];
  /** Held-out pairs: loss and implicit-reward accuracy at each evaluation. */
  evalPairs?: readonly PreferencePair[];
  /** regular (default) | margin | scaled. */
  loss?: DpoLossKind;
  /** β of the implicit reward (default 0.1). */
  beta?: number;
  /** Pairs per step (default 8). */
  batchSize?: number;
  /** Pairs per micro-batch (default: the whole batch); a pair's two responses stay together. */
  microBatchSize?: number;
  /** Longest prompt + response in tokens (default: the model's context); longer pairs are dropped. */
  maxLength?: number;
  lengthMultiple?: number;
}

export const DPO_DEFAULTS = { steps: 100, lr: 1e-4, beta: 0.1, batchSize: 8, lengthMultiple: 16, loss: 'regular' as DpoLossKind } as const;

interface TokenizedPair {
  chosen: TokenizedExample;
  rejected: TokenizedExample;
  margin: number;
}

function tokenizePairs(policy: PolicyModel, pairs: readonly PreferencePair[], maxLength: number, needMargin: boolean): { pairs: TokenizedPair[]; dropped: number } {
  const out: TokenizedPair[] = [];
  let dropped = 0;
  pairs.forEach((p, i) => {
    if (needMargin && (p.margin === undefined || !(p.margin >= 0))) {
      throw new UserError({ what: `pair ${i} has no margin (|strength|), which margin and scaled DPO need`, where: p.source ?? `pairs[${i}]`, expected: 'pairs with "margin" or "strength" (HelpSteer2-Preference gives 1–3)', fix: 'use --loss regular, or pairs from HelpSteer2-Preference / `steer data prepare --preferences`' });
    }
    const prompt = policy.codec.encodePrompt(p.prompt);
    const chosen = { prompt, response: policy.codec.encodeResponse(p.chosen) };
    const rejected = { prompt, response: policy.codec.encodeResponse(p.rejected) };
    if (prompt.length + Math.max(chosen.response.length, rejected.response.length) > maxLength) dropped++;
    else out.push({ chosen, rejected, margin: p.margin ?? 0 });
  });
  return { pairs: out, dropped };
}

/** Σ log π_ref over each response: rows → [rows]. */
function referenceGraph(g: Graph, c: LlamaConfig, B: number, T: number, _policy: LlamaParams, reference: LlamaParams | null) {
  const s = sequenceInputs(g, B, T);
  return { batch: sequenceInputList(s), outputs: { logp_sum: maskedRowSum(policyTokenLogProbs(c, reference!, s), s.lossMask) } };
}

function dpoGraph(kind: DpoLossKind, beta: number) {
  return (g: Graph, c: LlamaConfig, B2: number, T: number, policy: LlamaParams) => {
    const B = B2 / 2;
    const s = sequenceInputs(g, B2, T);
    const refChosen = g.input('ref_chosen', [B]);
    const refRejected = g.input('ref_rejected', [B]);
    const margin = g.input('margin', [B]);
    const sums = maskedRowSum(policyTokenLogProbs(c, policy, s), s.lossMask); // [2B]
    const { loss, perPair, chosenReward, rejectedReward } = dpoLoss(kind, beta, sums.slice(0, 0, B), sums.slice(0, B), refChosen, refRejected, margin);
    return { loss, batch: [...sequenceInputList(s), refChosen, refRejected, margin], outputs: { per_pair: perPair, chosen_reward: chosenReward, rejected_reward: rejectedReward } };
  };
}

/** Rows and T for a batch of pairs: [c0 … cB−1, r0 … rB−1]. */
function pairRows(pairs: readonly TokenizedPair[], multiple: number, maxLength: number): { rows: TokenizedExample[]; T: number } {
  const rows = [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)];
  return { rows, T: bucketLength(Math.max(...rows.map((e) => e.prompt.length + e.response.length)), multiple, maxLength) };
}

/** Σ log π_ref of every chosen and rejected response, in fixed-size batches. */
async function referenceLogps(ref: PolicyForward, pairs: readonly TokenizedPair[], batchSize: number, padId: number, multiple: number, maxLength: number): Promise<{ chosen: number[]; rejected: number[] }> {
  const chosen: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const real = chunk.length;
    while (chunk.length < batchSize) chunk.push(chunk[0]);
    const { rows, T } = pairRows(chunk, multiple, maxLength);
    const out = await ref.run(null, rows.length, T, sequenceFeeds(buildSequenceBatch(rows, { padId, T })));
    const s = out.logp_sum as Float32Array;
    for (let j = 0; j < real; j++) {
      chosen.push(s[j]);
      rejected.push(s[batchSize + j]);
    }
  }
  return { chosen, rejected };
}

function pairFeeds(pairs: readonly TokenizedPair[], idx: readonly number[], refs: { chosen: number[]; rejected: number[] }, padId: number, multiple: number, maxLength: number, fixedT?: number) {
  const chosenPairs = idx.map((i) => pairs[i]);
  const laid = pairRows(chosenPairs, multiple, maxLength);
  const rows = laid.rows;
  const T = fixedT ?? laid.T;
  const feeds = {
    ...sequenceFeeds(buildSequenceBatch(rows, { padId, T })),
    ref_chosen: Float32Array.from(idx, (i) => refs.chosen[i]),
    ref_rejected: Float32Array.from(idx, (i) => refs.rejected[i]),
    margin: Float32Array.from(idx, (i) => pairs[i].margin),
  };
  return { feeds, T };
}

/** Means over the first `n` pairs of a batch's per-pair outputs. */
function pairMetrics(out: Record<string, ArrayLike<number | bigint>>, n: number): { loss: number; reward_accuracy: number; chosen_reward: number; rejected_reward: number; reward_margin: number } {
  const m = { loss: 0, reward_accuracy: 0, chosen_reward: 0, rejected_reward: 0, reward_margin: 0 };
  for (let i = 0; i < n; i++) {
    const c = Number(out.chosen_reward[i]);
    const r = Number(out.rejected_reward[i]);
    m.loss += Number(out.per_pair[i]) / n;
    m.reward_accuracy += (c > r ? 1 : 0) / n;
    m.chosen_reward += c / n;
    m.rejected_reward += r / n;
    m.reward_margin += (c - r) / n;
  }
  return m;
}

/** Train with DPO (regular / margin / scaled) on preference pairs. */
export async function trainDpo(o: DpoOptions): Promise<TrainerResult> {
  const r = resolveCommon('dpo', o, DPO_DEFAULTS);
  const policy = resolvePolicy(o.policy);
  const reference = o.reference === undefined ? policy : resolvePolicy(o.reference);
  const c = policy.config;
  if (JSON.stringify(reference.config) !== JSON.stringify(c)) {
    throw new UserError({ what: 'the reference model has another architecture than the policy', where: 'dpo.reference', fix: 'use the SFT model the policy started from as the reference' });
  }
  const kind = o.loss ?? DPO_DEFAULTS.loss;
  if (!DPO_LOSS_KINDS.includes(kind)) bad('dpo.loss', DPO_LOSS_KINDS.join(' | '), kind);
  const beta = o.beta ?? DPO_DEFAULTS.beta;
  if (!(beta > 0) || !Number.isFinite(beta)) bad('dpo.beta', 'a positive number, e.g. 0.1', beta);
  const batchSize = positiveInt('dpo.batchSize', o.batchSize ?? DPO_DEFAULTS.batchSize);
  const micro = positiveInt('dpo.microBatchSize', o.microBatchSize ?? batchSize);
  if (batchSize % micro !== 0) bad('dpo.microBatchSize', `a divisor of batchSize (${batchSize})`, micro);
  const multiple = positiveInt('dpo.lengthMultiple', o.lengthMultiple ?? DPO_DEFAULTS.lengthMultiple);
  const maxLength = positiveInt('dpo.maxLength', o.maxLength ?? c.maxPositionEmbeddings);
  if (maxLength > c.maxPositionEmbeddings) bad('dpo.maxLength', `at most the model context (${c.maxPositionEmbeddings})`, maxLength);
  const needMargin = kind !== 'regular';
  const train = tokenizePairs(policy, o.pairs, maxLength, needMargin);
  if (train.pairs.length === 0) throw new UserError({ what: `no preference pair fits in ${maxLength} tokens (or there are none)`, where: 'dpo.pairs', received: `${o.pairs.length} pairs`, fix: 'raise maxLength or pass shorter pairs' });
  if (train.dropped > 0 && !r.quiet) process.stderr.write(`dpo: dropped ${train.dropped} of ${o.pairs.length} pairs longer than ${maxLength} tokens\n`);
  const evalSet = o.evalPairs ? tokenizePairs(policy, o.evalPairs, maxLength, needMargin).pairs : [];
  const padId = policy.codec.padId;
  // With LoRA the reference (default: the starting policy = the base without the adapter) is read
  // once by its own graph, released before the step graphs are built.
  const lora = policyLora(o.lora, policy.weights, 'dpo.lora', r.seed);
  const run = openPolicyRun(r, 'dpo', { ...r, ...(o.lora ? { lora: o.lora } : {}), loss: kind, beta, batchSize, microBatchSize: micro, lengthMultiple: multiple, maxLength, policy: policy.source, reference: reference.source, pairs: train.pairs.length, dropped: train.dropped, evalPairs: evalSet.length, data: contentHash(o.pairs), evalData: o.evalPairs ? contentHash(o.evalPairs) : null });
  let ok = false;

  const engine = { threads: r.threads, deterministic: r.deterministic };
  const refForward = new PolicyForward(c, referenceGraph, reference.weights, engine, false);
  const build = dpoGraph(kind, beta);
  const updater = new PolicyUpdater(c, build, adamOptions(r, c), engine, lora);
  const evalForward = new PolicyForward(c, (g, cc, B, T, p) => {
    const b = build(g, cc, B, T, p);
    return { batch: b.batch, outputs: b.outputs };
  }, null, engine, true, lora);
  try {
    // The reference pass, once (cached on disk, keyed by the tokenized data and the reference).
    const cachePath = join(r.out, 'reference-logps.json');
    const key = createHash('sha256').update(JSON.stringify([reference.source, train.pairs.map((p) => [p.chosen, p.rejected]), evalSet.map((p) => [p.chosen, p.rejected])])).digest('hex');
    type RefCache = { key: string; train: { chosen: number[]; rejected: number[] }; eval: { chosen: number[]; rejected: number[] } };
    let cache: RefCache | null = null;
    if (r.resume && existsSync(cachePath)) {
      const c0 = JSON.parse(readFileSync(cachePath, 'utf8')) as RefCache | null;
      if (c0 !== null && c0.key === key) cache = c0;
    }
    if (!cache) {
      cache = {
        key,
        train: await referenceLogps(refForward, train.pairs, batchSize, padId, multiple, maxLength),
        eval: evalSet.length ? await referenceLogps(refForward, evalSet, batchSize, padId, multiple, maxLength) : { chosen: [], rejected: [] },
      };
      writeJsonAtomic(cachePath, cache);
    }
    await refForward.release();
    const refs = cache;

    const evaluate = evalSet.length > 0
      ? async ({ state }: { state: TrainState }) => {
          const sum = { loss: 0, accuracy: 0, margin: 0 };
          for (let i = 0; i < evalSet.length; i += batchSize) {
            // a short last batch repeats its last pair; only the real pairs are counted
            const idx = Array.from({ length: batchSize }, (_, j) => Math.min(i + j, evalSet.length - 1));
            const real = Math.min(batchSize, evalSet.length - i);
            const { feeds, T } = pairFeeds(evalSet, idx, refs.eval, padId, multiple, maxLength);
            const out = await evalForward.run(state.params, 2 * batchSize, T, feeds);
            const m = pairMetrics(out, real);
            sum.loss += m.loss * real;
            sum.accuracy += m.reward_accuracy * real;
            sum.margin += m.reward_margin * real;
          }
          const n = evalSet.length;
          return { eval_loss: sum.loss / n, eval_reward_accuracy: sum.accuracy / n, eval_reward_margin: sum.margin / n };
        }
      : undefined;

    const res = await runTrainLoop<EpochCursor>(
      { name: `dpo-${kind}`, runDir: r.out, steps: r.steps, schedule: scheduleOf(r), checkpointEvery: r.checkpointEvery, evalEvery: r.evalEvery, resume: r.resume, quiet: r.quiet, show: ['loss', 'reward_accuracy'] },
      {
        init: () => TrainState.init(initialParams(c, lora, policy.weights, r.seed)),
        initialCursor: { epoch: 0, index: 0 },
        step: async ({ state, lr, cursor }) => {
          const next = nextBatch(train.pairs.length, batchSize, cursor, r.seed, 'dpo');
          // one T for the whole batch; each micro-batch lays out its own pairs [c…, r…]
          const T = pairRows(next.indices.map((i) => train.pairs[i]), multiple, maxLength).T;
          const parts: Record<string, TypedArray>[] = [];
          for (let i = 0; i < batchSize; i += micro) parts.push(pairFeeds(train.pairs, next.indices.slice(i, i + micro), refs.train, padId, multiple, maxLength, T).feeds);
          const res = await updater.step(state, 2 * micro, T, parts.length === 1 ? parts[0] : parts, lr);
          return { metrics: { ...pairMetrics(res.extra, batchSize), loss: res.loss, grad_norm: res.gradNorm, epoch: next.cursor.epoch }, cursor: next.cursor };
        },
        evaluate,
      },
    );
    const trained: PolicyModel = { config: c, weights: policyWeights(c, lora, res.state.params), codec: policy.codec, source: finalModelDir(r.out) };
    const adapterDir = lora ? savePolicyAdapter(r.out, c, lora, res.state.params, policy.source) : null;
    const modelDir = savePolicy(finalModelDir(r.out), trained, { stage: `dpo-${kind}`, steps: res.steps, from: policy.source, reference: reference.source, beta, ...(lora ? { lora: { ...lora.config, adapter: adapterDir } } : {}) });
    ok = true;
    return { policy: trained, modelDir, adapterDir, runDir: r.out, metricsPath: res.metricsPath, steps: res.steps, resumedFrom: res.resumedFrom, lastMetrics: res.lastMetrics, lastEval: res.lastEval };
  } finally {
    await refForward.release();
    await updater.release();
    await evalForward.release();
    run.release(ok);
  }
}
