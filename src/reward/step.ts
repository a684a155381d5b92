// One reward-model micro-batch as a graph, and its feeds. Forward over R rows — pairs: R = 2B,
// chosen rows [0, B) and the same pairs' rejected rows [B, 2B) (pair k = rows k and B + k, so a pair
// never straddles micro-batches); regression: R = B rated rows — then the loss (losses.ts):
//   pairs       r = scores · w  [2B] (Σ_a w_a · slot_a), L = pairLoss(r[0:B], r[B:2B], margin)
//   regression  L = masked MSE of all N slots against labels [B, N] (−100 = unlabelled)
// Feeds: ids, positions, mask, last [R(, T)], plus margin [B] (margin / Scaled BT) or labels [B, N];
// extra output `diff` = r_c − r_r [B] for pair losses.
import { Graph, type TypedArray } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { padBatch } from '../nn/llama.js';
import type { LlamaWeights } from '../nn/weights.js';
import type { LoraConfig } from '../nn/lora.js';
import { compileAccumulation, compileTrainStep, type Accumulation, type TrainStep, type TrainStepSpec } from '../train/optim.js';
import { adamWFor } from '../train/steps.js';
import { lengthBucket } from '../train/batches.js';
import { pairLoss, regressionLoss, type PairLossKind, type RewardLossKind } from './losses.js';
import { buildRewardForward } from './model.js';
import type { TokenPair } from './start.js';

export interface RewardGraphSpec {
  loss: RewardLossKind;
  /** Head slots N. */
  slots: number;
  /** Merge weights [N] of the pair losses' reward. */
  rewardWeights: readonly number[];
  /** Pairs (or rated rows) per micro-batch. */
  batchSize: number;
  /** Padded sequence length. */
  T: number;
  /** Train a LoRA adapter on this frozen trunk (the trunk becomes graph initializers). */
  lora?: { config: LoraConfig; base: LlamaWeights };
}

/** The loss graph of one micro-batch (see the file header). */
export function rewardStepSpec(c: LlamaConfig, s: RewardGraphSpec): TrainStepSpec {
  const isPairs = s.loss !== 'regression';
  const B = s.batchSize;
  const N = s.slots;
  const R = isPairs ? 2 * B : B;
  const g = new Graph();
  const f = buildRewardForward(g, c, N, R, s.T, s.lora);
  const batch = [f.ids, f.positions, f.mask, f.last];
  if (!isPairs) {
    const labels = g.input('labels', [B, N]);
    return { loss: regressionLoss(f.scores, labels), params: f.params, batch: [...batch, labels] };
  }
  const r = f.scores.matmul(g.constant(Float32Array.from(s.rewardWeights), [N, 1])).reshape([R]); // [2B] merged rewards
  const chosen = r.slice(0, 0, B); // rows [0, B): chosen
  const rejected = r.slice(0, B, 2 * B); // rows [B, 2B): the same pairs' rejected
  const margin = s.loss !== 'bt' ? g.input('margin', [B]) : undefined;
  return { loss: pairLoss(s.loss as PairLossKind, chosen, rejected, margin), params: f.params, batch: margin ? [...batch, margin] : batch, extraOutputs: { diff: chosen.sub(rejected) } };
}

export interface RewardStepSpec extends RewardGraphSpec {
  gradAccum: number;
  maxGradNorm?: number;
  weightDecay?: number;
  threads?: number;
  deterministic?: boolean;
  spinning?: boolean;
}

/** One compiled step: AdamW fused in (gradAccum 1), or the accumulation and apply graphs (benches and tests use it directly). */
export async function compileRewardTrainStep(c: LlamaConfig, s: RewardStepSpec): Promise<TrainStep | Accumulation> {
  const spec = rewardStepSpec(c, s);
  const opt = adamWFor(spec.params, s);
  const run = { threads: s.threads ?? 2, deterministic: s.deterministic ?? c.vocabSize <= 4096, spinning: s.spinning };
  return s.gradAccum === 1 ? compileTrainStep(spec, opt, run) : compileAccumulation(spec, opt, run);
}

/** The rows of a micro-batch of pairs: chosen sequences first, then the same pairs' rejected ones (pair k = rows k and B + k). */
export function pairRows(pairs: readonly TokenPair[], idx: readonly number[]): number[][] {
  return [...idx.map((i) => pairs[i].chosen), ...idx.map((i) => pairs[i].rejected)];
}

export interface RewardBatchData {
  pairs: readonly TokenPair[];
  rated: readonly (readonly number[])[];
  /** [rows, N] labels of the rated rows (regression). */
  labels: Float32Array | null;
  slots: number;
  padId: number;
  maxLength: number;
  bucketWidth: number;
}

/** Feeds of the micro-batch of items `idx`, padded to its length bucket T; real and padded token counts. */
export function rewardFeeds(loss: RewardLossKind, d: RewardBatchData, idx: readonly number[]): { T: number; feeds: Record<string, TypedArray>; real: number; padded: number } {
  const isPairs = loss !== 'regression';
  const seqs = isPairs ? pairRows(d.pairs, idx) : idx.map((i) => d.rated[i]);
  const T = lengthBucket(Math.max(...seqs.map((s) => s.length)), d.bucketWidth, d.maxLength);
  const pb = padBatch(seqs, { side: 'right', padId: d.padId, length: T });
  const feeds: Record<string, TypedArray> = { ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex };
  if (isPairs && loss !== 'bt') feeds.margin = Float32Array.from(idx, (i) => d.pairs[i].margin);
  if (!isPairs) {
    const N = d.slots;
    const lab = new Float32Array(idx.length * N);
    idx.forEach((i, k) => lab.set(d.labels!.subarray(i * N, (i + 1) * N), k * N));
    feeds.labels = lab;
  }
  let real = 0;
  for (const s of seqs) real += s.length;
  return { T, feeds, real, padded: seqs.length * T };
}

/** Pair accuracy (r_c > r_r) and mean margin r_c − r_r of a step's pairs. */
export function diffStats(d: TypedArray | undefined): { accuracy: number; margin: number } {
  let correct = 0;
  let sum = 0;
  const n = d?.length ?? 0;
  for (let i = 0; i < n; i++) {
    const v = Number(d![i]);
    if (v > 0) correct++;
    sum += v;
  }
  return { accuracy: correct / n, margin: sum / n };
}
