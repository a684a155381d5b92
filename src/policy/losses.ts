// Policy losses as pure functions on graph tensors, each with a plain-number twin for tests.
//   SFT        L = −Σ_{b,t} m·log π(y_t) / Σ m                      (token mean over response tokens)
//   REINFORCE  L = Σ_{b,t} m·(−log π(y_t)·A_b) / Σ m                (NeMo-Aligner
//              megatron_gpt_reinforce_actor.py: masked_mean(−logp·(r̃ − baseline), mask))
//   DPO        implicit reward r = β·Σ_t m·(log π − log π_ref) over a response's tokens
//              (Rafailov et al. 2023, eq. 7), put through the three Bradley-Terry losses of
//              docs/recipe.md with d = r_c − r_r and m = |strength|:
//                regular −log σ(d)      margin −log σ(d − m)      scaled −m·log σ(d)
//              averaged over the pairs of a batch.
// m is the response-token mask [B, T]; Σ m ≥ 1 is enforced by the max(·, 1) guard.
import { UserError } from '../util/errors.js';
import type { Tensor } from '../graph/index.js';
// DPO is the reward model's Bradley-Terry family applied to the implicit reward: one pair loss.
import { pairLossReference, pairLosses, type PairLossKind } from '../reward/losses.js';

function requireShape(what: string, t: Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new UserError({ what: `${what} has the wrong shape`, where: `policy loss (${what})`, expected: `[${shape.join(', ')}]`, received: `[${t.shape.join(', ')}]`, fix: 'see the shapes in src/policy/losses.ts (B rows, T positions)' });
  }
}

/** Token-mean negative log-likelihood over masked positions: logp, mask [B, T] → []. */
export function sftLoss(logp: Tensor, mask: Tensor): Tensor {
  requireShape('mask', mask, logp.shape);
  return logp.mul(mask).sum().neg().div(mask.sum().maximum(1));
}

/** Token-mean policy-gradient loss: logp, mask [B, T], advantages [B] → []. */
export function policyGradientLoss(logp: Tensor, mask: Tensor, advantages: Tensor): Tensor {
  const [B] = logp.shape;
  requireShape('mask', mask, logp.shape);
  requireShape('advantages', advantages, [B]);
  return logp.mul(advantages.unsqueeze(1)).mul(mask).sum().neg().div(mask.sum().maximum(1));
}

export type DpoLossKind = 'regular' | 'margin' | 'scaled';
export const DPO_LOSS_KINDS: readonly DpoLossKind[] = ['regular', 'margin', 'scaled'];
/** The Bradley-Terry loss each DPO variant puts the implicit rewards through. */
export const DPO_PAIR_LOSS: Readonly<Record<DpoLossKind, PairLossKind>> = { regular: 'bt', margin: 'margin-bt', scaled: 'scaled-bt' };

/**
 * DPO family, mean over pairs. policyChosen/Rejected, refChosen/Rejected: Σ log-probs over each
 * response [B]; margin [B] (|strength|; ignored by 'regular'). Returns the mean loss, the loss per
 * pair [B] and the implicit rewards r_c, r_r [B] (for accuracy = mean(r_c > r_r) and margins).
 */
export function dpoLoss(
  kind: DpoLossKind,
  beta: number,
  policyChosen: Tensor,
  policyRejected: Tensor,
  refChosen: Tensor,
  refRejected: Tensor,
  margin: Tensor,
): { loss: Tensor; perPair: Tensor; chosenReward: Tensor; rejectedReward: Tensor } {
  const [B] = policyChosen.shape;
  for (const [n, t] of [['policyRejected', policyRejected], ['refChosen', refChosen], ['refRejected', refRejected], ['margin', margin]] as const) requireShape(n, t, [B]);
  if (!(beta > 0)) throw new UserError({ what: 'DPO beta must be positive', where: 'dpoLoss(beta)', received: String(beta), fix: 'use e.g. --beta 0.1' });
  const chosenReward = policyChosen.sub(refChosen).mul(beta); // [B]
  const rejectedReward = policyRejected.sub(refRejected).mul(beta);
  const perPair = pairLosses(DPO_PAIR_LOSS[kind], chosenReward, rejectedReward, margin); // [B]
  return { loss: perPair.mean(), perPair, chosenReward, rejectedReward };
}

// ---- plain-number twins --------------------------------------------------------------------------

/** One pair's DPO-family loss from summed log-probs. */
export function dpoLossNumber(kind: DpoLossKind, beta: number, pc: number, pr: number, rc: number, rr: number, margin = 0): number {
  return pairLossReference(DPO_PAIR_LOSS[kind], beta * (pc - rc), beta * (pr - rr), margin);
}

/** Twin of policyGradientLoss on nested arrays: logp[b][t], mask[b][t], advantages[b]. */
export function policyGradientLossNumber(logp: readonly (readonly number[])[], mask: readonly (readonly number[])[], advantages: readonly number[]): number {
  let s = 0;
  let n = 0;
  logp.forEach((row, b) => row.forEach((lp, t) => {
    s += -lp * advantages[b] * mask[b][t];
    n += mask[b][t];
  }));
  return s / Math.max(n, 1);
}
