// Reward-model losses (docs/recipe.md; HelpSteer2-Preference, arXiv 2410.01257 §3.2):
//   regression (SteerLM, NeMo-Aligner regression RM):  L = Σ_{b,a} M_ba (r_ba − y_ba)² / Σ_{b,a} M_ba,
//                                                      M_ba = [y_ba ≠ −100] (unlabelled attributes masked)
//   Bradley-Terry:                                     L = −log σ(r_c − r_r)
//   BT with margin (Llama 2, Touvron et al. 2023 §3.2.2): L = −log σ(r_c − r_r − m)
//   Scaled BT (HelpSteer2-Preference, its best variant): L = −m · log σ(r_c − r_r)
// with m = |preference strength| (1–3). The pair losses are averaged over the B pairs of a batch
// ('mean', default) or summed ('sum'). Each graph function has a plain float64 twin (…Reference)
// that the tests compare against; log σ is evaluated stably (never log of an underflowed σ).
import { UserError } from '../util/errors.js';
import type { Tensor } from '../graph/index.js';
// The label value that marks an attribute as unlabelled (NeMo-Aligner loss_mask_val): the data layer's.
import { UNLABELLED } from '../data/helpsteer2.js';

export type PairLossKind = 'bt' | 'margin-bt' | 'scaled-bt';
export type RewardLossKind = 'regression' | PairLossKind;
export const REWARD_LOSSES: readonly RewardLossKind[] = ['regression', 'bt', 'margin-bt', 'scaled-bt'];

export type Reduction = 'mean' | 'sum';

function checkShape(fn: string, arg: string, t: Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new UserError({
      what: `${fn}: ${arg} has the wrong shape`,
      where: `${fn}(${arg})`,
      expected: `[${shape.join(', ')}]`,
      received: `[${t.shape.join(', ')}]`,
      fix: 'pass rewards as [B] (B pairs), margins as [B], predictions and labels as [B, N] (N attributes)',
    });
  }
}

// ---- graph versions ------------------------------------------------------------------------------

/** Masked multi-attribute MSE: pred [B, N], labels [B, N] (−100 = unlabelled) → []. */
export function regressionLoss(pred: Tensor, labels: Tensor): Tensor {
  if (pred.rank !== 2) {
    throw new UserError({ what: 'regressionLoss: pred has the wrong rank', where: 'regressionLoss(pred)', expected: '[B, N] (B rows, N attributes)', received: `[${pred.shape.join(', ')}]`, fix: 'pass the head output [B, N]' });
  }
  checkShape('regressionLoss', 'labels', labels, pred.shape);
  const mask = labels.eq(UNLABELLED).not().cast(pred.dtype); // [B, N]
  const sq = pred.sub(labels).square().mul(mask); // [B, N]; unlabelled entries are exactly 0
  return sq.sum().div(mask.sum().maximum(1)); // a batch with no labels gives 0, not NaN
}

/** Per-pair BT losses [B] from chosen/rejected rewards [B] (and margins [B] for the margin forms). */
export function pairLosses(kind: PairLossKind, chosen: Tensor, rejected: Tensor, margin?: Tensor): Tensor {
  const [B] = chosen.shape;
  checkShape(`${kind} loss`, 'chosen', chosen, [B]);
  checkShape(`${kind} loss`, 'rejected', rejected, [B]);
  const diff = chosen.sub(rejected); // [B]
  if (kind === 'bt') return diff.logSigmoid().neg();
  if (margin === undefined) {
    throw new UserError({ what: `the ${kind} loss needs a margin per pair`, where: `${kind} loss (margin)`, expected: 'a [B] tensor of |preference strength|', fix: 'use pairs with a strength/margin field, or --loss bt' });
  }
  checkShape(`${kind} loss`, 'margin', margin, [B]);
  if (kind === 'margin-bt') return diff.sub(margin).logSigmoid().neg();
  return diff.logSigmoid().neg().mul(margin);
}

function reduce(x: Tensor, reduction: Reduction): Tensor {
  return reduction === 'sum' ? x.sum() : x.mean();
}

/** −log σ(r_c − r_r), reduced over the batch: chosen, rejected [B] → []. */
export function bradleyTerryLoss(chosen: Tensor, rejected: Tensor, reduction: Reduction = 'mean'): Tensor {
  return reduce(pairLosses('bt', chosen, rejected), reduction);
}

/** −log σ(r_c − r_r − m): chosen, rejected, margin [B] → []. */
export function marginBradleyTerryLoss(chosen: Tensor, rejected: Tensor, margin: Tensor, reduction: Reduction = 'mean'): Tensor {
  return reduce(pairLosses('margin-bt', chosen, rejected, margin), reduction);
}

/** −m · log σ(r_c − r_r): chosen, rejected, margin [B] → []. */
export function scaledBradleyTerryLoss(chosen: Tensor, rejected: Tensor, margin: Tensor, reduction: Reduction = 'mean'): Tensor {
  return reduce(pairLosses('scaled-bt', chosen, rejected, margin), reduction);
}

/** Dispatch by name (the trainer's `--loss`). */
export function pairLoss(kind: PairLossKind, chosen: Tensor, rejected: Tensor, margin?: Tensor, reduction: Reduction = 'mean'): Tensor {
  return reduce(pairLosses(kind, chosen, rejected, margin), reduction);
}

// ---- plain float64 twins --------------------------------------------------------------------------

/** log σ(x) = min(x, 0) − log1p(exp(−|x|)): exact for any x (no overflow, no log(0)). */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

export function regressionLossReference(pred: readonly (readonly number[])[], labels: readonly (readonly number[])[]): number {
  let s = 0;
  let n = 0;
  pred.forEach((row, b) =>
    row.forEach((r, a) => {
      const y = labels[b][a];
      if (y === UNLABELLED) return;
      s += (r - y) ** 2;
      n += 1;
    }),
  );
  return n === 0 ? 0 : s / n;
}

/** One pair's loss. */
export function pairLossReference(kind: PairLossKind, chosen: number, rejected: number, margin = 0): number {
  const d = chosen - rejected;
  if (kind === 'bt') return -logSigmoid(d);
  if (kind === 'margin-bt') return -logSigmoid(d - margin);
  return -margin * logSigmoid(d);
}

/** A batch's loss: mean (or sum) of pairLossReference. */
export function pairBatchLossReference(kind: PairLossKind, chosen: readonly number[], rejected: readonly number[], margin: readonly number[] = [], reduction: Reduction = 'mean'): number {
  const s = chosen.reduce((acc, c, i) => acc + pairLossReference(kind, c, rejected[i], margin[i] ?? 0), 0);
  return reduction === 'sum' ? s : s / chosen.length;
}

// ---- the sign convention ----------------------------------------------------------------------

/**
 * HelpSteer2-Preference strength → which response is chosen and the margin:
 * negative = response_1 better, positive = response_2 better, m = |strength|; 0 is a tie (no pair).
 */
export function orientByStrength(strength: number): { chosen: 1 | 2; margin: number } | null {
  if (!Number.isFinite(strength)) {
    throw new UserError({ what: 'preference strength is not a finite number', received: String(strength), expected: 'an integer in −3…3 (negative = response_1 better)' });
  }
  if (strength === 0) return null;
  return { chosen: strength < 0 ? 1 : 2, margin: Math.abs(strength) };
}
