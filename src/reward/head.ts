// Reward heads: a linear map from the final hidden state of a sequence's last real token to N
// attribute slots, r = W h + b (W [N, D], b [N]); one reward is the weighted sum of the slots,
//   reward = Σ_a w_a · r_a
// (Nemotron-4-340B-Reward model card: 0.3·helpfulness + 0.74·correctness + 0.46·coherence
//  + 0.47·complexity − 0.33·verbosity). A single-slot model has w = [1]; a Bradley-Terry model
// initialised from a regression model keeps all its slots and reads one (w = one-hot, helpfulness
// by default — HelpSteer2-Preference §3.3).
import { UserError } from '../util/errors.js';
import { HELPSTEER2_ATTRIBUTES } from '../data/helpsteer2.js';

/** The name of the one slot of a model trained only on preferences. */
export const SCALAR_SLOT = 'reward';

/** Nemotron-4-340B-Reward's weights over the five HelpSteer2 attributes. */
export const NEMOTRON_340B_REWARD_WEIGHTS: Readonly<Record<string, number>> = {
  helpfulness: 0.3,
  correctness: 0.74,
  coherence: 0.46,
  complexity: 0.47,
  verbosity: -0.33,
};

/**
 * How a multi-slot head becomes one reward: a slot name (one-hot), 'nemotron' (the weights above,
 * every slot must be one of the five attributes), or explicit weights by slot name (unnamed = 0).
 */
export type RewardWeighting = string | 'nemotron' | Readonly<Record<string, number>>;

/** The weight vector [N] for a head's slots. */
export function rewardWeights(attributes: readonly string[], weighting: RewardWeighting): number[] {
  const names = attributes.join(', ');
  if (weighting === 'nemotron') {
    const missing = attributes.filter((a) => !(a in NEMOTRON_340B_REWARD_WEIGHTS));
    if (missing.length > 0) {
      throw new UserError({ what: `the Nemotron-4-340B weights cover the five HelpSteer2 attributes; this head also has ${missing.join(', ')}`, where: 'reward weights', expected: `slots among ${HELPSTEER2_ATTRIBUTES.join(', ')}`, received: names, fix: 'pick one slot (e.g. helpfulness) or give explicit weights' });
    }
    return attributes.map((a) => NEMOTRON_340B_REWARD_WEIGHTS[a]);
  }
  if (typeof weighting === 'string') {
    const i = attributes.indexOf(weighting);
    if (i < 0) {
      throw new UserError({ what: `the head has no slot "${weighting}"`, where: 'reward slot', expected: `one of ${names}, or "nemotron"`, received: weighting, fix: 'choose a slot the model was trained with' });
    }
    return attributes.map((_, k) => (k === i ? 1 : 0));
  }
  for (const [k, v] of Object.entries(weighting)) {
    if (!attributes.includes(k)) throw new UserError({ what: `a weight names the unknown slot "${k}"`, where: 'reward weights', expected: `slots ${names}`, received: k, fix: 'name only the head\'s slots' });
    if (!Number.isFinite(v)) throw new UserError({ what: `the weight of "${k}" is not a finite number`, where: 'reward weights', received: String(v) });
  }
  return attributes.map((a) => weighting[a] ?? 0);
}

/** The default merge: one slot → [1]; the five HelpSteer2 attributes → Nemotron-4-340B weights; else helpfulness or the first slot. */
export function defaultRewardWeights(attributes: readonly string[]): number[] {
  if (attributes.length === 1) return [1];
  const isHelpSteer2 = attributes.length === HELPSTEER2_ATTRIBUTES.length && HELPSTEER2_ATTRIBUTES.every((a) => attributes.includes(a));
  if (isHelpSteer2) return rewardWeights(attributes, 'nemotron');
  return rewardWeights(attributes, attributes.includes('helpfulness') ? 'helpfulness' : attributes[0]);
}

/** Merge per-slot scores [R, N] (row-major) into rewards [R]. */
export function mergeSlots(scores: ArrayLike<number>, weights: readonly number[]): number[] {
  const N = weights.length;
  const R = scores.length / N;
  if (!Number.isInteger(R)) throw new RangeError(`mergeSlots: ${scores.length} scores are not a multiple of ${N} slots`);
  const out = new Array<number>(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let a = 0; a < N; a++) s += weights[a] * scores[r * N + a];
    out[r] = s;
  }
  return out;
}
