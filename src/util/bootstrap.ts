// Percentile bootstrap intervals over items (prompts, questions), seeded.
//   mean:        θ = (1/n) Σ x_i;  resample n items with replacement R times, θ*_r each;
//                interval = [percentile(θ*, 100·α/2), percentile(θ*, 100·(1 − α/2))]
//   paired diff: the same with x_i = a_i − b_i (both measured on item i), so the interval is on the
//                difference itself and the items' shared difficulty cancels (Efron & Tibshirani 1993,
//                "An Introduction to the Bootstrap", ch. 13, percentile intervals).
import { Rng } from './rng.js';
import { mean, percentile } from './stats.js';

export interface BootstrapInterval {
  /** The statistic on the full data. */
  estimate: number;
  lower: number;
  upper: number;
  /** Coverage of the interval, e.g. 0.95. */
  level: number;
  rounds: number;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  rounds?: number;
  /** Default 0.95. */
  level?: number;
  seed?: number;
}

/** Percentile bootstrap interval of the mean of `xs`. */
export function bootstrapMean(xs: ArrayLike<number>, o: BootstrapOptions = {}): BootstrapInterval {
  const n = xs.length;
  if (n === 0) throw new RangeError('bootstrapMean: no items');
  const rounds = o.rounds ?? 2000;
  const level = o.level ?? 0.95;
  const rng = new Rng(o.seed ?? 0, 'bootstrap');
  const stats = new Float64Array(rounds);
  for (let r = 0; r < rounds; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[rng.int(0, n)];
    stats[r] = s / n;
  }
  const tail = (100 * (1 - level)) / 2;
  return { estimate: mean(xs), lower: percentile(stats, tail), upper: percentile(stats, 100 - tail), level, rounds };
}

/** Paired percentile bootstrap interval of mean(a) − mean(b), a_i and b_i measured on the same item i. */
export function pairedBootstrapDiff(a: ArrayLike<number>, b: ArrayLike<number>, o: BootstrapOptions = {}): BootstrapInterval {
  if (a.length !== b.length) throw new RangeError(`pairedBootstrapDiff: ${a.length} and ${b.length} items (they must be paired)`);
  return bootstrapMean(Array.from(a, (x, i) => x - b[i]), o);
}
