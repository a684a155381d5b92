// The paper's combined reward-model recipe (HelpSteer2-Preference §3.3, docs/recipe.md "combined"):
//   1. helpfulness-only SteerLM regression on ratings;
//   2. Scaled BT initialised from it (head kept, the reward reads the helpfulness slot);
//   3. ExPO between the two: θ = θ_reg + α (θ_sbt − θ_reg), α = 1.52.
// Returns the three model directories and their held-out pair statistics; the ExPO model is the one
// the policy stage uses.
import { join } from 'node:path';
import { trainRewardModel, type RewardTrainOptions } from './train.js';
import { EXPO_ALPHA, expo } from './expo.js';
import { evaluatePairs, type PairStats } from './evaluate.js';
import type { RatedRow, RewardPair } from './data.js';

export interface CombinedRecipeOptions {
  trainRatings: readonly RatedRow[] | readonly string[];
  trainPairs: readonly RewardPair[] | readonly string[];
  valPairs?: readonly RewardPair[];
  /** Directory for the three runs: regression/, scaled-bt/, expo/. */
  out: string;
  /** Options shared by both training runs (model sizes, batch size, seed, threads, quiet, …). */
  common?: Partial<Omit<RewardTrainOptions, 'loss' | 'out' | 'init' | 'trainPairs' | 'trainRatings' | 'valPairs' | 'attributes'>>;
  /** Per-stage overrides (epochs, lr, …). */
  regression?: Partial<RewardTrainOptions>;
  scaledBt?: Partial<RewardTrainOptions>;
  alpha?: number;
}

export interface CombinedRecipeResult {
  regression: { dir: string; eval: PairStats | null };
  scaledBt: { dir: string; eval: PairStats | null };
  expo: { dir: string; eval: PairStats | null; alpha: number };
}

export async function trainCombinedRewardModel(o: CombinedRecipeOptions): Promise<CombinedRecipeResult> {
  const common = o.common ?? {};
  const reg = await trainRewardModel({ ...common, ...o.regression, loss: 'regression', attributes: ['helpfulness'], trainRatings: o.trainRatings, valPairs: o.valPairs, out: join(o.out, 'regression') } as RewardTrainOptions);
  const sbt = await trainRewardModel({ ...common, ...o.scaledBt, loss: 'scaled-bt', init: reg.modelDir, trainPairs: o.trainPairs, valPairs: o.valPairs, out: join(o.out, 'scaled-bt') } as RewardTrainOptions);
  const alpha = o.alpha ?? EXPO_ALPHA;
  const dir = expo(reg.modelDir, sbt.modelDir, alpha, join(o.out, 'expo'));
  const ev = o.valPairs?.length ? (await evaluatePairs(dir, o.valPairs, { threads: common.threads })).overall : null;
  return { regression: { dir: reg.modelDir, eval: reg.eval }, scaledBt: { dir: sbt.modelDir, eval: sbt.eval }, expo: { dir, eval: ev, alpha } };
}
