// The paper's combined reward-model recipe (HelpSteer2-Preference §3.3, docs/recipe.md "combined"),
// the one coding of it — the demo and Table 1 (table.ts), bench/policy/toy_acceptance.ts and
// `steer rm recipe` all call trainCombinedRewardModel:
//   1. helpfulness-only SteerLM regression on ratings (lr 1e-3);
//   2. Scaled BT initialised from it (head kept, the reward reads the helpfulness slot), at a lower
//      lr (3e-4: it starts from a trained model);
//   3. ExPO between the two: θ = θ_reg + α (θ_sbt − θ_reg), α = 1.52.
// Both runs take `epochs` passes over their data (default 2). Returns the three model directories
// and their held-out pair statistics; the ExPO model is the one the policy stage uses.
import { join } from 'node:path';
import { trainRewardModel, type RewardTrainOptions } from './train.js';
import { EXPO_ALPHA, expo } from './expo.js';
import { evaluatePairs, type PairStats } from './evaluate.js';
import type { RatedRow, RewardPair } from './data.js';

/** The recipe's settings (the demo's reward-model stage uses exactly these). */
export const COMBINED_RECIPE = { regressionLr: 1e-3, scaledBtLr: 3e-4, epochs: 2, alpha: EXPO_ALPHA } as const;

export interface CombinedRecipeOptions {
  trainRatings: readonly RatedRow[] | readonly string[];
  trainPairs: readonly RewardPair[] | readonly string[];
  valPairs?: readonly RewardPair[];
  /** Directory for the three runs: regression/, scaled-bt/, expo/ (or `dirs`). */
  out: string;
  dirs?: { regression: string; scaledBt: string; expo: string };
  /** Options of both runs: init (the language model the regression starts from), scratch sizes, batch size, seed, threads, quiet, resume, steps, … */
  common?: Partial<Omit<RewardTrainOptions, 'loss' | 'out' | 'trainPairs' | 'trainRatings' | 'valPairs' | 'attributes'>>;
  /** Passes over the ratings (regression) and over the pairs (Scaled BT); default COMBINED_RECIPE.epochs. */
  ratingEpochs?: number;
  pairEpochs?: number;
  /** Learning rate of the regression (default 1e-3) and of Scaled BT (default 3e-4). */
  lr?: number;
  initLr?: number;
  alpha?: number;
  /** Stop after this stage (Table 1 also trains other losses from the regression model). */
  until?: 'regression' | 'scaled-bt' | 'expo';
  /** Score the ExPO model on valPairs (default true when there are valPairs). */
  evaluateExpo?: boolean;
}

export interface RecipeStage {
  dir: string;
  eval: PairStats | null;
  /** Training seconds. */
  seconds: number;
}

export interface CombinedRecipeResult {
  regression: RecipeStage;
  scaledBt: RecipeStage;
  expo: { dir: string; eval: PairStats | null; alpha: number };
}

/** The whole recipe: regression → Scaled BT from it → ExPO. */
export async function trainCombinedRewardModel(o: Omit<CombinedRecipeOptions, 'until'>): Promise<CombinedRecipeResult> {
  return (await runCombinedRecipe(o)) as CombinedRecipeResult;
}

/** The recipe up to `o.until` (the stages not run are null). */
export async function runCombinedRecipe(o: CombinedRecipeOptions): Promise<{ [K in keyof CombinedRecipeResult]: K extends 'regression' ? RecipeStage : CombinedRecipeResult[K] | null }> {
  const dirs = o.dirs ?? { regression: join(o.out, 'regression'), scaledBt: join(o.out, 'scaled-bt'), expo: join(o.out, 'expo') };
  const run = async (options: RewardTrainOptions): Promise<RecipeStage> => {
    const t0 = performance.now();
    const r = await trainRewardModel(options);
    return { dir: r.modelDir, eval: r.eval, seconds: (performance.now() - t0) / 1000 };
  };
  const common = { ...o.common, valPairs: o.valPairs };
  const regression = await run({ ...common, loss: 'regression', out: dirs.regression, trainRatings: o.trainRatings, epochs: o.ratingEpochs ?? COMBINED_RECIPE.epochs, lr: o.lr ?? COMBINED_RECIPE.regressionLr, attributes: ['helpfulness'] });
  if (o.until === 'regression') return { regression, scaledBt: null, expo: null };
  const scaledBt = await run({ ...common, loss: 'scaled-bt', out: dirs.scaledBt, trainPairs: o.trainPairs, epochs: o.pairEpochs ?? COMBINED_RECIPE.epochs, lr: o.initLr ?? COMBINED_RECIPE.scaledBtLr, init: regression.dir });
  if (o.until === 'scaled-bt') return { regression, scaledBt, expo: null };
  const alpha = o.alpha ?? COMBINED_RECIPE.alpha;
  const dir = expo(regression.dir, scaledBt.dir, alpha, dirs.expo);
  const ev = o.valPairs?.length && o.evaluateExpo !== false ? (await evaluatePairs(dir, o.valPairs, { threads: o.common?.threads })).overall : null;
  return { regression, scaledBt, expo: { dir, eval: ev, alpha } };
}
