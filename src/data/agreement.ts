// Cohen's κ = 1 − Σᵢⱼ wᵢⱼ Oᵢⱼ / Σᵢⱼ wᵢⱼ Eᵢⱼ, with O the observed joint distribution of two raters'
// categories, E = outer product of their marginals, and weights w = 0 on the diagonal and
// 1 (unweighted), |i−j| (linear) or (i−j)² (quadratic) off it. This is Cohen (1960/1968) and
// equals sklearn.metrics.cohen_kappa_score(a, b, weights=None|'linear'|'quadratic').
//
// HelpSteer2 (arXiv 2406.08673) reports quadratic-weighted κ for its ordinal Likert ratings, and
// HelpSteer2-Preference (arXiv 2410.01257) reports κ 0.489 → 0.878 for its 7-point preference
// strengths before/after filtering; steer reports the quadratic-weighted value by default.
//
// Annotators in these datasets are anonymous and differ from task to task, so agreement over a
// dataset is measured on every within-task pair of annotations, each pair counted in both orders
// (rater A vs B and B vs A), which makes the statistic independent of annotation order.

export type KappaWeights = 'none' | 'linear' | 'quadratic';

/** κ of two aligned rating lists over ordered `categories` (values not listed are an error). */
export function cohenKappa(a: readonly number[], b: readonly number[], categories: readonly number[], weights: KappaWeights = 'none'): number {
  if (a.length !== b.length) throw new RangeError(`cohenKappa: ${a.length} vs ${b.length} ratings`);
  const k = categories.length;
  const pos = new Map<number, number>();
  categories.forEach((c, i) => pos.set(c, i));
  const observed = new Float64Array(k * k);
  for (let t = 0; t < a.length; t++) {
    const i = pos.get(a[t]);
    const j = pos.get(b[t]);
    if (i === undefined || j === undefined) throw new RangeError(`cohenKappa: rating ${i === undefined ? a[t] : b[t]} is not one of the categories [${categories.join(', ')}]`);
    observed[i * k + j] += 1;
  }
  return kappaFromCounts(observed, k, weights);
}

/** κ from a k×k matrix of joint counts (row = rater 1, column = rater 2). NaN when undefined. */
export function kappaFromCounts(counts: ArrayLike<number>, k: number, weights: KappaWeights = 'none'): number {
  let n = 0;
  const rows = new Float64Array(k);
  const cols = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const c = counts[i * k + j];
      n += c;
      rows[i] += c;
      cols[j] += c;
    }
  }
  if (n === 0) return NaN;
  let wo = 0;
  let we = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = i === j ? 0 : weights === 'none' ? 1 : weights === 'linear' ? Math.abs(i - j) : (i - j) ** 2;
      wo += (w * counts[i * k + j]) / n;
      we += (w * rows[i] * cols[j]) / (n * n);
    }
  }
  // Both raters always used one and the same category: chance agreement is total, κ undefined.
  if (we === 0) return NaN;
  return 1 - wo / we;
}

/**
 * κ over within-task annotation pairs: `tasks[t]` holds the annotations of task t (any number);
 * every unordered pair in a task contributes once in each order.
 */
export function pairwiseKappa(tasks: readonly (readonly number[])[], categories: readonly number[], weights: KappaWeights = 'quadratic'): number {
  const k = categories.length;
  const pos = new Map<number, number>();
  categories.forEach((c, i) => pos.set(c, i));
  const counts = new Float64Array(k * k);
  for (const task of tasks) {
    for (let x = 0; x < task.length; x++) {
      for (let y = x + 1; y < task.length; y++) {
        const i = pos.get(task[x]);
        const j = pos.get(task[y]);
        if (i === undefined || j === undefined) throw new RangeError(`pairwiseKappa: rating ${i === undefined ? task[x] : task[y]} is not one of the categories [${categories.join(', ')}]`);
        counts[i * k + j] += 1;
        counts[j * k + i] += 1;
      }
    }
  }
  return kappaFromCounts(counts, k, weights);
}

/** Both the quadratic-weighted and the unweighted κ, and how many pairs they rest on. */
export interface AgreementSummary {
  kappaQuadratic: number;
  kappaUnweighted: number;
  tasks: number;
  pairs: number;
}

export function summarizeAgreement(tasks: readonly (readonly number[])[], categories: readonly number[]): AgreementSummary {
  let pairs = 0;
  for (const t of tasks) pairs += (t.length * (t.length - 1)) / 2;
  return {
    kappaQuadratic: pairwiseKappa(tasks, categories, 'quadratic'),
    kappaUnweighted: pairwiseKappa(tasks, categories, 'none'),
    tasks: tasks.length,
    pairs,
  };
}
