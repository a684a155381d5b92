// DPO's pieces around the loop (src/policy/dpo.ts): pairs as token rows, the graphs, the reference
// pass and its cache, the feeds of a batch of pairs, and the per-pair metrics.
//   layout   B pairs → rows [c0 … cB−1, r0 … rB−1] of one [2B, T] batch, T = the longest row's bucket
//   graphs   reference: Σ_t log π_ref over each response → logp_sum [2B]
//            step:      Σ_t log π [2B] → dpoLoss(β, chosen, rejected, ref sums, margin) (losses.ts)
//   cache    <out>/reference-logps.json keyed by the reference and the tokenized pairs (reused on resume)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import type { Graph } from '../graph/index.js';
import type { PreferencePair } from '../data/pairs.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaParams } from '../nn/llama.js';
import { lengthBucket } from '../train/batches.js';
import { maskedRowSum, policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from './graph.js';
import { dpoLoss, type DpoLossKind } from './losses.js';
import type { PolicyModel } from './model.js';
import { buildSequenceBatch, type TokenizedExample } from './sequences.js';
import type { PolicyForward } from './update.js';

export interface TokenizedPair {
  chosen: TokenizedExample;
  rejected: TokenizedExample;
  margin: number;
}

export interface PairLayout {
  padId: number;
  /** Lengths are rounded up to a multiple of this. */
  multiple: number;
  maxLength: number;
}

/** Σ log π_ref per row of the chosen and rejected responses. */
export interface RefLogps {
  chosen: number[];
  rejected: number[];
}

export function tokenizePairs(policy: PolicyModel, pairs: readonly PreferencePair[], maxLength: number, needMargin: boolean): { pairs: TokenizedPair[]; dropped: number } {
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
export function referenceGraph(g: Graph, c: LlamaConfig, B: number, T: number, _policy: LlamaParams, reference: LlamaParams | null) {
  const s = sequenceInputs(g, B, T);
  return { batch: sequenceInputList(s), outputs: { logp_sum: maskedRowSum(policyTokenLogProbs(c, reference!, s), s.lossMask) } };
}

export function dpoGraph(kind: DpoLossKind, beta: number) {
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
export function pairRows(pairs: readonly TokenizedPair[], l: PairLayout): { rows: TokenizedExample[]; T: number } {
  const rows = [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)];
  return { rows, T: lengthBucket(Math.max(...rows.map((e) => e.prompt.length + e.response.length)), l.multiple, l.maxLength) };
}

/** Σ log π_ref of every chosen and rejected response, in fixed-size batches. */
async function referenceLogps(ref: PolicyForward, pairs: readonly TokenizedPair[], batchSize: number, l: PairLayout): Promise<RefLogps> {
  const chosen: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const real = chunk.length;
    while (chunk.length < batchSize) chunk.push(chunk[0]);
    const { rows, T } = pairRows(chunk, l);
    const out = await ref.run(null, rows.length, T, sequenceFeeds(buildSequenceBatch(rows, { padId: l.padId, T })));
    const s = out.logp_sum as Float32Array;
    for (let j = 0; j < real; j++) {
      chosen.push(s[j]);
      rejected.push(s[batchSize + j]);
    }
  }
  return { chosen, rejected };
}

/** The reference pass over the training and evaluation pairs, once (cached on disk, keyed by the tokenized data and the reference). */
export async function referenceLogpsCached(ref: PolicyForward, o: { out: string; resume: boolean; batchSize: number }, referenceSource: string, train: readonly TokenizedPair[], evalSet: readonly TokenizedPair[], l: PairLayout): Promise<{ train: RefLogps; eval: RefLogps }> {
  const cachePath = join(o.out, 'reference-logps.json');
  const key = createHash('sha256').update(JSON.stringify([referenceSource, train.map((p) => [p.chosen, p.rejected]), evalSet.map((p) => [p.chosen, p.rejected])])).digest('hex');
  type RefCache = { key: string; train: RefLogps; eval: RefLogps };
  if (o.resume && existsSync(cachePath)) {
    const c0 = JSON.parse(readFileSync(cachePath, 'utf8')) as RefCache | null;
    if (c0 !== null && c0.key === key) return c0;
  }
  const cache: RefCache = {
    key,
    train: await referenceLogps(ref, train, o.batchSize, l),
    eval: evalSet.length ? await referenceLogps(ref, evalSet, o.batchSize, l) : { chosen: [], rejected: [] },
  };
  writeJsonAtomic(cachePath, cache);
  return cache;
}

/** Feeds of the pairs `idx`: the sequence batch, the reference sums and the margins. */
export function pairFeeds(pairs: readonly TokenizedPair[], idx: readonly number[], refs: RefLogps, l: PairLayout, fixedT?: number) {
  const laid = pairRows(idx.map((i) => pairs[i]), l);
  const T = fixedT ?? laid.T;
  const feeds = {
    ...sequenceFeeds(buildSequenceBatch(laid.rows, { padId: l.padId, T })),
    ref_chosen: Float32Array.from(idx, (i) => refs.chosen[i]),
    ref_rejected: Float32Array.from(idx, (i) => refs.rejected[i]),
    margin: Float32Array.from(idx, (i) => pairs[i].margin),
  };
  return { feeds, T };
}

/** Means over the first `n` pairs of a batch's per-pair outputs. */
export function pairMetrics(out: Record<string, ArrayLike<number | bigint>>, n: number): { loss: number; reward_accuracy: number; chosen_reward: number; rejected_reward: number; reward_margin: number } {
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
