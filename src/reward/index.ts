// steer reward models (issue 7): losses, heads, training, ExPO, scoring, evaluation.
//   trainRewardModel(options) → { modelDir, eval, … }   (regression | bt | margin-bt | scaled-bt)
//   expo(weakDir, strongDir, alpha = 1.52, outDir) → dir
//   scoreRewardModel(dir | model, rows) → [{ reward, slots }];  RewardScorer for repeated scoring
//   evaluatePairs(dir | model | scorer, pairs) → { overall, bySubset, rows }
//   runRewardModelTable(options) → the paper's Table 1 in miniature
//   trainCombinedRewardModel(options) → regression → Scaled BT from it → ExPO (the recipe's RM)
export * from './losses.js';
export * from './head.js';
export { CharRewardEncoder, TextRewardEncoder, loadRewardEncoder, transcript, truncateLeft, type RewardEncoder, type TextFormat, type Prompt as RewardPrompt } from './encode.js';
export * from './model.js';
export * from './data.js';
export * from './score.js';
export * from './evaluate.js';
export * from './expo.js';
export * from './train.js';
export * from './step.js';
export { rewardStart, scratchModelSchema, DEFAULT_MAX_LENGTH_CAP, type RewardStart, type TokenPair } from './start.js';
export * from './table.js';
export * from './recipe.js';
