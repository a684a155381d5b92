// Shared toy-world data for the reward tests: one generated world per process, split 75/25 by a
// hash of the prompt (prepare.ts isHeldOut), so held-out pairs never share a prompt with training.
import { generateToyWorld, type ToyWorld } from '../../src/data/toy/world.js';
import { isHeldOut } from '../../src/data/prepare.js';
import { initRewardHead, type RewardModel } from '../../src/reward/model.js';
import { CharRewardEncoder } from '../../src/reward/encode.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import { Rng } from '../../src/util/rng.js';
import { pairsFromPreferenceRows, ratedFromHelpSteer2, type RatedRow, type RewardPair } from '../../src/reward/data.js';

const cache = new Map<number, ToyWorld>();

export function toyWorld(size: number): ToyWorld {
  let w = cache.get(size);
  if (!w) {
    w = generateToyWorld({ seed: 7, size });
    cache.set(size, w);
  }
  return w;
}

export function toySplit(size: number): { train: RewardPair[]; val: RewardPair[]; ratings: RatedRow[]; valRatings: RatedRow[] } {
  const w = toyWorld(size);
  const all = pairsFromPreferenceRows(w.preferences);
  const held = (p: { prompt: RatedRow['prompt'] }) => isHeldOut(p.prompt as string, 0.25, 0);
  const rated = ratedFromHelpSteer2([...w.ratingsTrain, ...w.ratingsValidation]);
  return { train: all.filter((p) => !held(p)), val: all.filter(held), ratings: rated.filter((r) => !held(r)), valRatings: rated.filter(held) };
}

/** A very small char-level model for fast tests. */
export const TINY = { hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 32 };
export const SMALL = { hiddenSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 64 };

// A random (untrained) reward model, for tests of scoring, saving and ExPO.
const enc = new CharRewardEncoder();
export const tinyConfig = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
  vocabSize: enc.vocabSize, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 8,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 64, tieWordEmbeddings: false, bosTokenId: 1, eosTokenIds: [2], ...over,
});

export function randomRewardModel(seed: number, attributes = ['helpfulness', 'correctness'], c = tinyConfig()): RewardModel {
  const rng = new Rng(seed);
  return {
    config: c,
    weights: initLlamaWeights(c, rng, { std: 0.5 }),
    head: initRewardHead(c.hiddenSize, attributes.length, rng, attributes.map((_, i) => i), 0.5),
    info: { format: 'steer-reward-model', version: 1, attributes, rewardWeights: attributes.map((_, i) => (i === 0 ? 1 : 0)), textFormat: 'char-chat', maxLength: 64, loss: 'bt', initFrom: 'scratch' },
    encoder: enc,
  };
}

