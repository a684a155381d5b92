// Annotation aggregation, as HelpSteer2 and HelpSteer2-Preference define it:
//   value = round( mean( three most similar annotations ) ),  drop when they span more than 2.
// Sources: HF card nvidia/HelpSteer2 ("the mean of the three annotators who agree with each other
// most, rounded to the nearest integer"; "Three Most Similar Preferences … to filter outliers");
// HelpSteer2-Preference, arXiv 2410.01257 §2 (spread > 2 dropped, ties dropped: 7,118 pairs left).
//
// Decisions the sources leave open, fixed here and tested:
// - "most similar" = the 3-subset with the smallest range (max − min); ties broken by the smaller
//   sum of squared deviations from the subset mean, then by the earliest annotations.
// - With fewer than 3 valid annotations all of them are used (the HF card notes a few tasks with 2).
// - Rounding is half to even, as Python's round() and numpy.round() do (NVIDIA's tooling is
//   Python). A mean of three integers is k/3 and is never exactly .5, so this only decides
//   two-annotator tasks: mean 1.5 → 2, 2.5 → 2, −0.5 → 0 (a tie), −1.5 → −2.
// - −100 in HelpSteer2-Preference's all_preferences_unprocessed marks an invalid annotation and
//   is ignored.

/** Round to the nearest integer, halves to the even neighbour (Python's round()). Never −0. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  let r: number;
  if (diff < 0.5) r = floor;
  else if (diff > 0.5) r = floor + 1;
  else r = floor % 2 === 0 ? floor : floor + 1;
  return r === 0 ? 0 : r;
}

export interface MostSimilar {
  /** Indices into the input of the chosen annotations, ascending. */
  indices: number[];
  values: number[];
  /** max − min of the chosen values. */
  spread: number;
  mean: number;
}

/** The (up to) three most similar of `values`: smallest range, then smallest variance, then earliest. */
export function threeMostSimilar(values: readonly number[]): MostSimilar {
  const n = values.length;
  if (n === 0) throw new RangeError('threeMostSimilar: no annotations');
  const summarize = (indices: number[]): MostSimilar => {
    const vs = indices.map((i) => values[i]);
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    return { indices, values: vs, spread: Math.max(...vs) - Math.min(...vs), mean };
  };
  if (n <= 3) return summarize(Array.from({ length: n }, (_, i) => i));
  let best: MostSimilar | null = null;
  let bestSs = Infinity;
  // lexicographic enumeration keeps the earliest subset on exact ties
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      for (let c = b + 1; c < n; c++) {
        const cand = summarize([a, b, c]);
        const ss = cand.values.reduce((s, v) => s + (v - cand.mean) ** 2, 0);
        if (best === null || cand.spread < best.spread || (cand.spread === best.spread && ss < bestSs - 1e-12)) {
          best = cand;
          bestSs = ss;
        }
      }
    }
  }
  return best!;
}

export type AggregateOutcome = 'kept' | 'spread' | 'tie' | 'no-annotations';

export interface AggregatedPreference {
  outcome: AggregateOutcome;
  /** Rounded mean of the three most similar strengths, −3 … 3 (negative = response 1 better). */
  strength: number;
  mean: number;
  spread: number;
  /** The strengths the result was computed from. */
  used: number[];
}

export interface PreferenceAggregationOptions {
  /** Drop when the three most similar span more than this (paper: 2). */
  maxSpread?: number;
  /** Drop aggregated ties (strength 0); BT training has no use for them. */
  dropTies?: boolean;
}

/** Aggregate one task's annotator strengths (−3 … 3; −100 = invalid, ignored). */
export function aggregatePreference(strengths: readonly number[], opts: PreferenceAggregationOptions = {}): AggregatedPreference {
  const { maxSpread = 2, dropTies = true } = opts;
  const valid = strengths.filter((s) => s !== -100);
  if (valid.length === 0) return { outcome: 'no-annotations', strength: 0, mean: NaN, spread: NaN, used: [] };
  const ms = threeMostSimilar(valid);
  const strength = roundHalfEven(ms.mean);
  let outcome: AggregateOutcome = 'kept';
  if (ms.spread > maxSpread) outcome = 'spread';
  else if (dropTies && strength === 0) outcome = 'tie';
  return { outcome, strength, mean: ms.mean, spread: ms.spread, used: ms.values };
}

export interface AggregatedRating {
  /** Rounded mean of the three most similar ratings. */
  value: number;
  mean: number;
  spread: number;
  used: number[];
}

/** Aggregate one attribute's per-annotator ratings (HelpSteer2 disagreements → a HelpSteer2 value). */
export function aggregateRating(ratings: readonly number[]): AggregatedRating {
  const ms = threeMostSimilar(ratings);
  return { value: roundHalfEven(ms.mean), mean: ms.mean, spread: ms.spread, used: ms.values };
}
