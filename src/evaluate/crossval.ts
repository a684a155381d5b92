// Cross-validated choice of C for a penalised logistic regression, as sklearn's
// LogisticRegressionCV does it: for each C in the grid fit on k−1 folds, score the held-out fold,
// pick the C with the best mean score (first one on ties), refit on all rows at that C.
// Folds are GroupKFold's (sklearn 1.6.1): groups sorted by size with np.argsort (descending),
// each dealt to the currently lightest fold. With equal-size groups everything hinges on the
// order np.argsort returns for a constant array; numpy 1.26.4 on x86-64 with AVX-512 (the
// environment that produced the official AlpacaEval values, see ../shared/conformance) uses
// x86-simd-sort, whose one partition pass leaves a specific permutation — reproduced exactly by
// `numpyAvx512ArgsortOfConstant` (checked against numpy for every n < 3000).
import { fitLogistic, predictProba, type LogisticData, type Penalty } from './logistic.js';

/** np.logspace(lo, hi, n): 10^(lo + i·(hi−lo)/(n−1)) (the grid LogisticRegressionCV(Cs=n) uses). */
export function logspace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [Math.pow(10, lo)];
  const step = (hi - lo) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? Math.pow(10, hi) : Math.pow(10, lo + i * step)));
}

/**
 * np.argsort of n equal int64 keys under numpy 1.26 with AVX-512 (x86-simd-sort
 * avx512_argsort): n ≤ 64 sorts with bitonic networks (identity on equal keys); otherwise one
 * partition_avx512_unrolled<4> pass (8 lanes) moves every element to the "≥ pivot" side and the
 * recursion stops because pivot = min = max. This simulates that pass on the index array.
 */
export function numpyAvx512ArgsortOfConstant(n: number): Int32Array {
  const arg = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= 64) return arg;
  const LANES = 8;
  const unroll = n <= 8 * 4 * LANES ? 1 : 4;
  let left = 0;
  let right = n;
  // leading elements that make the length a multiple of unroll·LANES are swapped to the end
  for (let i = (right - left) % (unroll * LANES); i > 0; i--) {
    right--;
    const t = arg[left];
    arg[left] = arg[right];
    arg[right] = t;
  }
  if (left === right) return arg;
  const load = (at: number) => arg.slice(at, at + LANES);
  if (unroll === 1 && right - left === LANES) return arg; // stored back where it was loaded
  const vecLeft: Int32Array[] = [];
  const vecRight: Int32Array[] = [];
  for (let ii = 0; ii < unroll; ii++) {
    vecLeft.push(load(left + LANES * ii));
    vecRight.push(load(right - LANES * (unroll - ii)));
  }
  let rStore = right - LANES;
  const lStore = left; // nothing is ever "< pivot", so the left store point never moves
  left += unroll * LANES;
  right -= unroll * LANES;
  const store = (v: Int32Array, at: number) => arg.set(v, at);
  while (right - left !== 0) {
    let vs: Int32Array[];
    if (rStore + LANES - right < left - lStore) {
      right -= unroll * LANES;
      vs = Array.from({ length: unroll }, (_, ii) => load(right + ii * LANES));
    } else {
      vs = Array.from({ length: unroll }, (_, ii) => load(left + ii * LANES));
      left += unroll * LANES;
    }
    for (const v of vs) {
      store(v, rStore);
      rStore -= LANES;
    }
  }
  for (const v of vecLeft) {
    store(v, rStore);
    rStore -= LANES;
  }
  if (unroll === 1) {
    // partition_avx512 stores its last (right) vector at l_store + LANES − LANES
    store(vecRight[0], lStore);
  } else {
    for (const v of vecRight) {
      store(v, rStore);
      rStore -= LANES;
    }
  }
  return arg;
}

/**
 * sklearn GroupKFold(k) fold index for each of `nGroups` groups of equal size (groups numbered
 * 0..nGroups−1): argsort of the (constant) group sizes, reversed, dealt round-robin to folds.
 */
export function groupKFoldEqualSize(nGroups: number, k: number): Int32Array {
  if (k > nGroups) throw new RangeError(`GroupKFold: n_splits=${k} is greater than the number of groups ${nGroups}`);
  const order = numpyAvx512ArgsortOfConstant(nGroups);
  const fold = new Int32Array(nGroups);
  for (let pos = 0; pos < nGroups; pos++) fold[order[nGroups - 1 - pos]] = pos % k;
  return fold;
}

function subset(d: LogisticData, rows: number[]): LogisticData {
  const X = new Float64Array(rows.length * d.p);
  const y = new Float64Array(rows.length);
  const w = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    X.set(d.X.subarray(r * d.p, (r + 1) * d.p), i * d.p);
    y[i] = d.y[r];
    w[i] = d.w[r];
  });
  return { X, n: rows.length, p: d.p, y, w };
}

/**
 * alpaca_eval's CV score (glm_winrate.logloss_continuous): −mean_i w_i·[y_i log q_i + (1−y_i) log(1−q_i)]
 * with q clipped to [1e−15, 1 − 1e−15], negated so that higher is better.
 */
export function weightedSoftLogLossScore(y: ArrayLike<number>, q: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const qi = Math.min(Math.max(q[i], 1e-15), 1 - 1e-15);
    s += w[i] * (y[i] * Math.log(qi) + (1 - y[i]) * Math.log(1 - qi));
  }
  return s / y.length;
}

export interface CvResult {
  Cs: number[];
  /** mean held-out score per C (higher is better) */
  meanScores: number[];
  /** per C, per fold */
  foldScores: number[][];
  bestIndex: number;
  C: number;
  coef: Float64Array;
}

/** LogisticRegressionCV(Cs, cv=folds, penalty, fit_intercept=False, refit=True). */
export function logisticRegressionCV(
  d: LogisticData,
  opts: { Cs: number[]; fold: Int32Array; penalty: Penalty; score?: (y: Float64Array, q: Float64Array, w: Float64Array) => number },
): CvResult {
  const k = Math.max(...opts.fold) + 1;
  if (opts.fold.length !== d.n) throw new RangeError(`logisticRegressionCV: fold has ${opts.fold.length} entries, expected n = ${d.n}`);
  const score = opts.score ?? weightedSoftLogLossScore;
  const foldScores: number[][] = opts.Cs.map(() => []);
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < d.n; i++) (opts.fold[i] === f ? test : train).push(i);
    const dTrain = subset(d, train);
    const dTest = subset(d, test);
    opts.Cs.forEach((C, ci) => {
      const fit = fitLogistic(dTrain, { penalty: opts.penalty, C });
      foldScores[ci].push(score(dTest.y, predictProba(dTest, fit.coef), dTest.w));
    });
  }
  const meanScores = foldScores.map((s) => s.reduce((a, b) => a + b, 0) / s.length);
  let bestIndex = 0;
  for (let i = 1; i < meanScores.length; i++) if (meanScores[i] > meanScores[bestIndex]) bestIndex = i;
  const C = opts.Cs[bestIndex];
  const coef = fitLogistic(d, { penalty: opts.penalty, C }).coef;
  return { Cs: opts.Cs, meanScores, foldScores, bestIndex, C, coef };
}
