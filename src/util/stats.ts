// Summary statistics with the exact conventions of the official Python evaluation code (numpy, pandas):
// mean; sample std s = sqrt(Σ(x−x̄)²/(n−1)) (pandas .std(), ddof=1); sem = s/√n (pandas .sem());
// population std (np.std, ddof=0); quantile by linear interpolation at h = q·(n−1)
// (np.percentile / pandas .quantile default); Python's round(x, nd) (round-half-even on the
// exact binary value). Sources: pandas Series.std/sem docs, numpy.percentile (method='linear').

/** Arithmetic mean; NaN for an empty array. */
export function mean(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  return s / n;
}

/** Standard deviation with `ddof` delta degrees of freedom (1 = pandas default, 0 = numpy default). */
export function std(xs: ArrayLike<number>, ddof = 1): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i] - m;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - ddof));
}

/** Standard error of the mean, pandas Series.sem(): std(ddof=1)/√n. */
export function sem(xs: ArrayLike<number>): number {
  return std(xs, 1) / Math.sqrt(xs.length);
}

/** Quantile q ∈ [0, 1] by linear interpolation between order statistics (numpy 'linear'). */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const n = xs.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const sorted = Float64Array.from(xs).sort();
  const h = q * (n - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  // numpy's _lerp: a + t(b − a), evaluated from the nearer end for t ≥ 0.5 (monotone, exact at t = 1)
  const a = sorted[lo];
  const b = sorted[hi];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** np.percentile(xs, p) for p in [0, 100]. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  return quantile(xs, p / 100);
}

export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

/** Σ a_i·b_i, summed left to right. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** max_i |a_i| (the ∞-norm); 0 for an empty vector. */
export function maxAbs(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]));
  return s;
}

/** Logistic function σ(x) = 1/(1+e^−x), evaluated without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Python's round(x, ndigits): the decimal value nearest to the exact binary value of x, ties to
 * even. JS toFixed rounds ties up, so exact ties are detected on the full decimal expansion.
 */
export function pythonRound(x: number, ndigits = 0): number {
  if (!Number.isFinite(x)) return x;
  const exact = Math.abs(x).toFixed(100); // exact for doubles of ordinary magnitude
  const dot = exact.indexOf('.');
  const keep = exact.slice(0, dot + 1 + ndigits).replace(/\.$/, '');
  const rest = exact.slice(dot + 1 + ndigits);
  const first = rest.charCodeAt(0) - 48;
  const beyond = /[1-9]/.test(rest.slice(1));
  let roundUp = first > 5 || (first === 5 && beyond);
  if (first === 5 && !beyond) {
    const lastDigit = keep.replace('.', '').slice(-1);
    roundUp = Number(lastDigit) % 2 === 1;
  }
  let v = Number(keep);
  if (roundUp) v = Number((v + Math.pow(10, -ndigits)).toFixed(ndigits));
  return Math.sign(x) * v || 0 * Math.sign(x);
}

/** Number of Unicode code points (Python len(str)); JS .length counts UTF-16 code units. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Count, mean, median, p90 (numpy's linear quantiles) and max of a list of lengths. */
export interface LengthSummary {
  n: number;
  mean: number;
  median: number;
  p90: number;
  max: number;
}

export function summarizeLengths(xs: readonly number[]): LengthSummary {
  return { n: xs.length, mean: mean(xs), median: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: xs.length ? xs.reduce((a, b) => Math.max(a, b), -Infinity) : NaN };
}
