// REINFORCE with a leave-one-out (RLOO) baseline (docs/recipe.md; NeMo-Aligner
// nemo_aligner/utils/ppo_utils.py calculate_rloo_baseline, used by algorithms/reinforce.py):
//   baseline_i = mean of r̃_j over the OTHER samples j of the same prompt that ended
//   baseline_i = r̃_i when at most one sample of the prompt ended (its advantage is then 0)
//   advantage_i = r̃_i − baseline_i,   r̃_i = r_RM,i − β · KL_i
// A sample that did not end (no stop token) contributes nothing to any baseline. For samples that
// ended this is NeMo-Aligner's formula exactly. For a sample that did not end, NeMo-Aligner divides
// the sum over the ended samples by (ended count − 1), which is not a mean and breaks the invariance
// "adding a constant to all rewards of a prompt leaves advantages unchanged"; steer divides by the
// number of samples actually summed.

export interface RlooInput {
  /** One prompt key per sample (samples of the same prompt share it). */
  promptKeys: readonly (string | number)[];
  /** r̃ per sample (reward with the KL penalty already folded in). */
  rewards: ArrayLike<number>;
  /** Whether each sample ended with a stop token. */
  ended: readonly boolean[];
}

export function rlooBaselines({ promptKeys, rewards, ended }: RlooInput): Float64Array {
  const n = promptKeys.length;
  if (rewards.length !== n || ended.length !== n) {
    throw new Error(`rlooBaselines: promptKeys (${n}), rewards (${rewards.length}) and ended (${ended.length}) must have one entry per sample`);
  }
  const groups = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(promptKeys[i]);
    if (g) g.push(i);
    else groups.set(promptKeys[i], [i]);
  }
  const baseline = new Float64Array(n);
  for (const idx of groups.values()) {
    let endedCount = 0;
    let endedSum = 0;
    for (const i of idx) {
      if (ended[i]) {
        endedCount++;
        endedSum += rewards[i];
      }
    }
    for (const i of idx) {
      if (endedCount <= 1) baseline[i] = rewards[i];
      else if (ended[i]) baseline[i] = (endedSum - rewards[i]) / (endedCount - 1);
      else baseline[i] = endedSum / endedCount;
    }
  }
  return baseline;
}

export interface AdvantageOptions {
  /** Whiten advantages over the batch (mean 0, std 1). NeMo-Aligner's REINFORCE does not by default. */
  whiten?: boolean;
}

/** advantage_i = r̃_i − baseline_i (optionally whitened over the batch). */
export function rlooAdvantages(input: RlooInput, opts: AdvantageOptions = {}): Float64Array {
  const baseline = rlooBaselines(input);
  const adv = new Float64Array(baseline.length);
  for (let i = 0; i < adv.length; i++) adv[i] = input.rewards[i] - baseline[i];
  return opts.whiten ? whiten(adv) : adv;
}

/** (x − mean) / (std + 1e-8), population std; the epsilon keeps an all-equal batch finite. */
export function whiten(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= Math.max(1, n);
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - mean) ** 2;
  const std = Math.sqrt(v / Math.max(1, n));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (x[i] - mean) / (std + 1e-8);
  return out;
}
