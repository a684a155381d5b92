// KL between the policy and the frozen reference, per sampled token, then the token mean over a
// response (NeMo-Aligner ppo_utils.calculate_kl_penalty + masked_mean):
//   k1 = log π − log π_ref          (unbiased estimate of KL(π‖π_ref), can be negative)
//   abs = |log π − log π_ref|        (NeMo-Aligner's use_absolute_kl, the recipe's default)
//   k3 = exp(log π_ref − log π) − (log π_ref − log π) − 1   (Schulman's non-negative estimator)
// r̃ = r_RM − β · KL_seq.

export type KlForm = 'abs' | 'k1' | 'k3';

export function tokenKl(logp: number, logpRef: number, form: KlForm): number {
  const d = logp - logpRef;
  switch (form) {
    case 'k1':
      return d;
    case 'abs':
      return Math.abs(d);
    case 'k3':
      // −d = log(π_ref/π); exp(−d) − (−d) − 1 ≥ 0, zero iff equal.
      return Math.expm1(-d) + d;
  }
}

/** Token-mean KL over one response's tokens. An empty response has KL 0. */
export function sequenceKl(logp: ArrayLike<number>, logpRef: ArrayLike<number>, form: KlForm): number {
  if (logp.length !== logpRef.length) {
    throw new Error(`sequenceKl: logp has ${logp.length} tokens but logpRef has ${logpRef.length}`);
  }
  if (logp.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < logp.length; i++) s += tokenKl(logp[i], logpRef[i], form);
  return s / logp.length;
}

/** r̃ = r_RM − β · KL, optionally clipping r_RM to [−clip, clip] first. */
export function rewardWithKl(rewardModel: number, kl: number, beta: number, clip?: number): number {
  const r = clip === undefined ? rewardModel : Math.min(clip, Math.max(-clip, rewardModel));
  return r - beta * kl;
}
