// Pairwise evaluation of a reward model (RewardBench convention, rewardbench/utils.py):
//   correct_i = [r(chosen_i) > r(rejected_i)]  (strict: a tie counts as wrong)
//   accuracy  = mean_i correct_i;   mean margin = mean_i (r(chosen_i) − r(rejected_i))
// overall and per subset. RewardBench sections are computed from the same rows by src/evaluate
// (the CLI joins the two; reward/ sits above evaluate/ in the layer order).
import type { RewardModel } from './model.js';
import { RewardScorer } from './score.js';
import type { RewardPair } from './data.js';

export interface PairScoreRow {
  subset: string;
  chosen: number;
  rejected: number;
}

export interface PairStats {
  n: number;
  accuracy: number;
  meanMargin: number;
}

export interface PairEvaluation {
  overall: PairStats;
  bySubset: Record<string, PairStats>;
  rows: PairScoreRow[];
}

/** Accuracy and mean margin of scored pairs (NaN for an empty list). */
export function pairStats(rows: readonly { chosen: number; rejected: number }[]): PairStats {
  let correct = 0;
  let margin = 0;
  for (const r of rows) {
    if (r.chosen > r.rejected) correct++;
    margin += r.chosen - r.rejected;
  }
  return { n: rows.length, accuracy: correct / rows.length, meanMargin: margin / rows.length };
}

/** Overall and per-subset statistics (subsets in first-seen order). */
export function summarizePairScores(rows: readonly PairScoreRow[]): PairEvaluation {
  const groups = new Map<string, PairScoreRow[]>();
  for (const r of rows) (groups.get(r.subset) ?? groups.set(r.subset, []).get(r.subset)!).push(r);
  const bySubset: Record<string, PairStats> = {};
  for (const [k, v] of groups) bySubset[k] = pairStats(v);
  return { overall: pairStats(rows), bySubset, rows: [...rows] };
}

/** Score both sides of every pair with a reward model and summarise. */
export async function evaluatePairs(model: string | RewardModel | RewardScorer, pairs: readonly RewardPair[], opts: { threads?: number; rows?: number } = {}): Promise<PairEvaluation> {
  const scorer = model instanceof RewardScorer ? model : typeof model === 'string' ? RewardScorer.load(model, opts) : new RewardScorer(model, opts);
  const texts = [...pairs.map((p) => ({ prompt: p.prompt, response: p.chosen })), ...pairs.map((p) => ({ prompt: p.prompt, response: p.rejected }))];
  let r: number[];
  try {
    r = await scorer.rewards(texts);
  } finally {
    if (scorer !== model) await scorer.release(); // a scorer passed in stays the caller's
  }
  const B = pairs.length;
  return summarizePairScores(pairs.map((p, i) => ({ subset: p.subset ?? 'all', chosen: r[i], rejected: r[B + i] })));
}
