// Weighted soft-label logistic regression without intercept:
//   L(β) = Σ_i w_i·[softplus(z_i) − y_i·z_i],  z = Xβ,  y_i ∈ [0, 1]   (= −w·[y log σ + (1−y) log(1−σ)])
//   L1 (liblinear's primal, sklearn penalty='l1'):  min ‖β‖₁ + C·L(β)
//   L2 (sklearn penalty='l2'):                      min ½‖β‖² + C·L(β)
//   none (sklearn penalty=None):                    min L(β)
// sklearn's liblinear weights each row's C by its sample weight, so soft labels duplicated as
// (x, 1, w·p) and (x, 0, w·(1−p)) — what alpaca_eval does — give exactly this L.
// Solvers: proximal Newton for L1 (the newGLMNET idea of Yuan, Ho & Lin 2012, with the L1
// quadratic subproblem solved by exact coordinate descent), damped Newton for L2/none; both
// converge to machine-level optimality, where liblinear/lbfgs stop at tol 1e-4/1e-8. Shapes:
// X is n×p row-major (N rows, P features), y and w have n entries, β has p.

import { minimizeLbfgsb } from './lbfgsb.js';
import { maxAbs } from '../util/stats.js';

export interface LogisticData {
  /** n×p row-major design matrix */
  X: Float64Array;
  n: number;
  p: number;
  /** soft labels in [0, 1] */
  y: Float64Array;
  /** non-negative row weights */
  w: Float64Array;
}

export type Penalty = 'l1' | 'l2' | 'none';

export interface FitOptions {
  penalty: Penalty;
  /** inverse regularisation strength (ignored for 'none') */
  C?: number;
  maxIter?: number;
  /** stop when the optimality violation is below tol·(1 + C·Σw) (gradient units) */
  tol?: number;
  /** starting point (zeros by default, as liblinear and lbfgs start) */
  init?: Float64Array;
}

export interface FitResult {
  coef: Float64Array;
  iterations: number;
  /** final optimality violation (max |min-norm subgradient|) */
  violation: number;
  converged: boolean;
}

export function checkData(d: LogisticData): void {
  if (d.X.length !== d.n * d.p) throw new RangeError(`logistic: X has ${d.X.length} entries, expected n·p = ${d.n}·${d.p}`);
  if (d.y.length !== d.n) throw new RangeError(`logistic: y has ${d.y.length} entries, expected n = ${d.n}`);
  if (d.w.length !== d.n) throw new RangeError(`logistic: w has ${d.w.length} entries, expected n = ${d.n}`);
  for (let i = 0; i < d.n; i++) {
    if (!(d.y[i] >= 0 && d.y[i] <= 1)) throw new RangeError(`logistic: y[${i}] = ${d.y[i]} is not in [0, 1]`);
    if (!(d.w[i] >= 0)) throw new RangeError(`logistic: w[${i}] = ${d.w[i]} is not a non-negative weight`);
  }
}

/** softplus(z) = log(1 + e^z), without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** z = Xβ (n). */
export function linearPredictor(d: LogisticData, beta: ArrayLike<number>): Float64Array {
  const { ptr, col, val } = csrOf(d);
  const z = new Float64Array(d.n);
  for (let i = 0; i < d.n; i++) {
    let s = 0;
    for (let t = ptr[i]; t < ptr[i + 1]; t++) s += val[t] * beta[col[t]];
    z[i] = s;
  }
  return z;
}

/** The data term L(β) (weighted soft-label log loss, summed). */
export function logLoss(d: LogisticData, beta: ArrayLike<number>): number {
  const { ptr, col, val } = csrOf(d);
  const w = d.w;
  const y = d.y;
  let s = 0;
  for (let i = 0; i < d.n; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    let z = 0;
    for (let t = ptr[i]; t < ptr[i + 1]; t++) z += val[t] * beta[col[t]];
    s += wi * (softplus(z) - y[i] * z);
  }
  return s;
}

/** The full objective for a penalty (what the solvers minimise). */
export function objective(d: LogisticData, beta: ArrayLike<number>, penalty: Penalty, C = 1): number {
  const L = logLoss(d, beta);
  if (penalty === 'none') return L;
  let r = 0;
  for (let j = 0; j < d.p; j++) r += penalty === 'l1' ? Math.abs(beta[j]) : 0.5 * beta[j] * beta[j];
  return r + C * L;
}

/** Sparse rows of X (CSR), built once per design matrix: most BT rows have 2 + k non-zeros of p. */
interface Csr {
  ptr: Int32Array;
  col: Int32Array;
  val: Float64Array;
}
const csrCache = new WeakMap<Float64Array, Csr>();

function csrOf(d: LogisticData): Csr {
  let c = csrCache.get(d.X);
  if (c) return c;
  const ptr = new Int32Array(d.n + 1);
  let nnz = 0;
  for (let i = 0; i < d.X.length; i++) if (d.X[i] !== 0) nnz++;
  const col = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  let k = 0;
  for (let i = 0, o = 0; i < d.n; i++, o += d.p) {
    for (let j = 0; j < d.p; j++) {
      const x = d.X[o + j];
      if (x !== 0) {
        col[k] = j;
        val[k++] = x;
      }
    }
    ptr[i + 1] = k;
  }
  c = { ptr, col, val };
  csrCache.set(d.X, c);
  return c;
}

/** Gradient g = X'(w∘(σ(z) − y)) and Hessian H = X' diag(w σ(1−σ)) X of L, scaled by `scale`. */
function gradHess(d: LogisticData, beta: Float64Array, scale: number): { g: Float64Array; H: Float64Array } {
  const { n, p } = d;
  const { ptr, col, val } = csrOf(d);
  const w = d.w;
  const y = d.y;
  const g = new Float64Array(p);
  const H = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    const a = ptr[i];
    const b = ptr[i + 1];
    let z = 0;
    for (let t = a; t < b; t++) z += val[t] * beta[col[t]];
    const q = sigmoid(z);
    const r = wi * (q - y[i]);
    const h = wi * q * (1 - q);
    for (let t = a; t < b; t++) {
      const j = col[t];
      const hx = h * val[t];
      g[j] += r * val[t];
      const rowOff = j * p;
      for (let u = t; u < b; u++) H[rowOff + col[u]] += hx * val[u]; // upper triangle (col ascending)
    }
  }
  for (let j = 0; j < p; j++) for (let k = j + 1; k < p; k++) H[k * p + j] = H[j * p + k];
  for (let j = 0; j < p; j++) g[j] *= scale;
  for (let j = 0; j < p * p; j++) H[j] *= scale;
  return { g, H };
}

function sumWeights(d: LogisticData): number {
  let s = 0;
  for (let i = 0; i < d.n; i++) s += d.w[i];
  return s;
}

/** Max violation of the optimality conditions of ‖β‖₁ + C·L (the min-norm subgradient's ∞-norm). */
function l1Violation(g: Float64Array, beta: Float64Array): number {
  let v = 0;
  for (let j = 0; j < beta.length; j++) {
    const vj = beta[j] !== 0 ? Math.abs(g[j] + Math.sign(beta[j])) : Math.max(Math.abs(g[j]) - 1, 0);
    if (vj > v) v = vj;
  }
  return v;
}

function softThreshold(x: number, t: number): number {
  return x > t ? x - t : x < -t ? x + t : 0;
}

/** L1-penalised fit by proximal Newton. */
function fitL1(d: LogisticData, C: number, maxIter: number, tol: number, init?: Float64Array): FitResult {
  const p = d.p;
  const beta = init ? Float64Array.from(init) : new Float64Array(p);
  const threshold = tol * (1 + C * sumWeights(d));
  const F = (b: Float64Array) => objective(d, b, 'l1', C);
  let fBeta = F(beta);
  let violation = Infinity;
  for (let it = 0; it < maxIter; it++) {
    const { g, H } = gradHess(d, beta, C);
    violation = l1Violation(g, beta);
    if (violation <= threshold) return { coef: beta, iterations: it, violation, converged: true };
    // Quadratic model: min_dir g·dir + ½ dir'H dir + ‖β + dir‖₁, by cyclic coordinate descent.
    const dir = new Float64Array(p);
    for (let sweep = 0; sweep < 1000; sweep++) {
      let change = 0;
      for (let j = 0; j < p; j++) {
        const a = H[j * p + j] + 1e-12 * (1 + C); // tiny ridge keeps an all-zero column well posed
        let b = g[j];
        for (let k = 0; k < p; k++) if (k !== j) b += H[j * p + k] * dir[k];
        // min over u = β_j + dir_j of ½a(u − β_j)² + b(u − β_j) + |u|  →  u = soft(β_j − b/a, 1/a)
        const nd = softThreshold(beta[j] - b / a, 1 / a) - beta[j];
        change = Math.max(change, Math.abs(nd - dir[j]));
        dir[j] = nd;
      }
      if (change <= 1e-15 * (1 + maxAbs(beta))) break;
    }
    // Armijo backtracking on the true objective along dir.
    let l1Now = 0;
    let l1Next = 0;
    let gd = 0;
    for (let j = 0; j < p; j++) {
      l1Now += Math.abs(beta[j]);
      l1Next += Math.abs(beta[j] + dir[j]);
      gd += g[j] * dir[j];
    }
    const delta = gd + l1Next - l1Now;
    if (!(delta < 0)) return { coef: beta, iterations: it, violation, converged: violation <= threshold * 1e3 };
    let t = 1;
    const trial = new Float64Array(p);
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < p; j++) trial[j] = beta[j] + t * dir[j];
      const fTrial = F(trial);
      // Near the optimum the predicted decrease falls below the objective's rounding error; the
      // full Newton step is then taken and the optimality violation decides convergence.
      if (fTrial <= fBeta + 0.01 * t * delta || (t === 1 && -delta <= 1e-11 * (1 + Math.abs(fBeta)))) {
        beta.set(trial);
        fBeta = fTrial;
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) return { coef: beta, iterations: it, violation, converged: false };
  }
  return { coef: beta, iterations: maxIter, violation, converged: false };
}


/**
 * Solve (H + εI)x = b for symmetric positive (semi)definite H by Cholesky; ε grows from 0 until
 * the factorisation succeeds (a Bradley–Terry Hessian is singular along the gauge direction).
 */
export function solveSpd(H: Float64Array, b: Float64Array, p: number): Float64Array {
  let trace = 0;
  for (let j = 0; j < p; j++) trace += H[j * p + j];
  let eps = 0;
  for (let attempt = 0; attempt < 30; attempt++) {
    const L = new Float64Array(p * p);
    let ok = true;
    for (let j = 0; j < p && ok; j++) {
      for (let k = 0; k <= j; k++) {
        let s = H[j * p + k] + (j === k ? eps : 0);
        for (let m = 0; m < k; m++) s -= L[j * p + m] * L[k * p + m];
        if (j === k) {
          if (!(s > 1e-300)) {
            ok = false;
            break;
          }
          L[j * p + j] = Math.sqrt(s);
        } else L[j * p + k] = s / L[k * p + k];
      }
    }
    if (ok) {
      const y = new Float64Array(p);
      for (let j = 0; j < p; j++) {
        let s = b[j];
        for (let m = 0; m < j; m++) s -= L[j * p + m] * y[m];
        y[j] = s / L[j * p + j];
      }
      const x = new Float64Array(p);
      for (let j = p - 1; j >= 0; j--) {
        let s = y[j];
        for (let m = j + 1; m < p; m++) s -= L[m * p + j] * x[m];
        x[j] = s / L[j * p + j];
      }
      return x;
    }
    eps = eps === 0 ? 1e-12 * Math.max(trace, 1e-300) : eps * 10;
  }
  throw new RangeError('solveSpd: the matrix is not positive semidefinite');
}

/** Objective, gradient and Hessian of ½‖β‖²·[l2] + scale·L at β, in one pass over the rows. */
function smoothEval(d: LogisticData, beta: Float64Array, scale: number, l2: boolean): { f: number; g: Float64Array; H: Float64Array } {
  const { n, p } = d;
  const { ptr, col, val } = csrOf(d);
  const w = d.w;
  const y = d.y;
  const g = new Float64Array(p);
  const H = new Float64Array(p * p);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (wi === 0) continue;
    const a = ptr[i];
    const b = ptr[i + 1];
    let z = 0;
    for (let t = a; t < b; t++) z += val[t] * beta[col[t]];
    // one exp serves both softplus(z) and σ(z)
    const e = Math.exp(-Math.abs(z));
    const sp = (z > 0 ? z : 0) + Math.log1p(e);
    const q = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    loss += wi * (sp - y[i] * z);
    const r = wi * (q - y[i]);
    const h = wi * q * (1 - q);
    for (let t = a; t < b; t++) {
      const j = col[t];
      const hx = h * val[t];
      g[j] += r * val[t];
      const rowOff = j * p;
      for (let u = t; u < b; u++) H[rowOff + col[u]] += hx * val[u];
    }
  }
  let f = scale * loss;
  for (let j = 0; j < p; j++) {
    g[j] *= scale;
    for (let k = j; k < p; k++) H[j * p + k] *= scale;
    if (l2) {
      f += 0.5 * beta[j] * beta[j];
      g[j] += beta[j];
      H[j * p + j] += 1;
    }
  }
  for (let j = 0; j < p; j++) for (let k = j + 1; k < p; k++) H[k * p + j] = H[j * p + k];
  return { f, g, H };
}

/** L2-penalised or unpenalised fit by damped Newton (Armijo backtracking). */
function fitSmooth(d: LogisticData, penalty: 'l2' | 'none', C: number, maxIter: number, tol: number, init?: Float64Array): FitResult {
  const p = d.p;
  const l2 = penalty === 'l2';
  const scale = l2 ? C : 1;
  let beta = init ? Float64Array.from(init) : new Float64Array(p);
  const threshold = tol * (1 + scale * sumWeights(d));
  let cur = smoothEval(d, beta, scale, l2);
  let violation = Infinity;
  for (let it = 0; it < maxIter; it++) {
    violation = maxAbs(cur.g);
    if (violation <= threshold) return { coef: beta, iterations: it, violation, converged: true };
    const step = solveSpd(cur.H, cur.g, p);
    let gd = 0;
    for (let j = 0; j < p; j++) gd -= cur.g[j] * step[j];
    // Near the optimum the predicted decrease falls below the objective's rounding error; the
    // full Newton step is then taken and the gradient decides convergence.
    const noiseLevel = -gd <= 1e-11 * (1 + Math.abs(cur.f));
    let t = 1;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      const trial = new Float64Array(p);
      for (let j = 0; j < p; j++) trial[j] = beta[j] - t * step[j];
      if (t === 1) {
        const next = smoothEval(d, trial, scale, l2);
        if (next.f <= cur.f + 1e-4 * gd || noiseLevel) {
          beta = trial;
          cur = next;
          accepted = true;
          break;
        }
      } else if (objective(d, trial, penalty, C) <= cur.f + 1e-4 * t * gd) {
        beta = trial;
        cur = smoothEval(d, beta, scale, l2);
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) return { coef: beta, iterations: it, violation, converged: violation <= threshold * 1e3 };
    // A full Newton step this small leaves an error of order its square (quadratic convergence).
    if (t === 1 && maxAbs(step) <= 1e-10 * (1 + maxAbs(beta))) return { coef: beta, iterations: it + 1, violation: maxAbs(cur.g), converged: true };
  }
  return { coef: beta, iterations: maxIter, violation, converged: false };
}

/** Fit a weighted soft-label logistic regression (no intercept) to machine-level optimality. */
export function fitLogistic(d: LogisticData, opts: FitOptions): FitResult {
  checkData(d);
  const C = opts.C ?? 1;
  if (opts.penalty !== 'none' && !(C > 0)) throw new RangeError(`logistic: C must be > 0, got ${C}`);
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-12;
  if (opts.init && opts.init.length !== d.p) throw new RangeError(`logistic: init has ${opts.init.length} entries, expected p = ${d.p}`);
  return opts.penalty === 'l1' ? fitL1(d, C, maxIter, tol, opts.init) : fitSmooth(d, opts.penalty, C, maxIter, tol, opts.init);
}

/**
 * sklearn's LogisticRegression(solver='lbfgs', fit_intercept=False).fit(X, y, sample_weight=w),
 * trajectory included (sklearn 1.6 _logistic_regression_path): scipy L-BFGS-B from β = 0 on the
 *   mean loss  Σ w_i·[log1pexp(z_i) − y_i z_i] / Σw  +  ½·λ‖β‖²,  λ = 1/(C·Σw) (0 for penalty None),
 * with gtol = tol, ftol = 64·eps, maxls 50, maxiter = maxIter. Unlike fitLogistic this stops where
 * sklearn stops (tol 1e-4 by default: short of the optimum); a soft label y with weight w is the
 * same objective as sklearn's duplicated rows (x, 1, w·y) and (x, 0, w·(1 − y)).
 */
export function fitLogisticSklearnLbfgs(
  d: LogisticData,
  opts: { penalty: 'l2' | 'none'; C?: number; tol?: number; maxIter?: number },
): FitResult & { nfev: number } {
  checkData(d);
  const C = opts.C ?? 1;
  if (opts.penalty !== 'none' && !(C > 0)) throw new RangeError(`logistic: C must be > 0, got ${C}`);
  const { ptr, col, val } = csrOf(d);
  const sw = sumWeights(d);
  const lambda = opts.penalty === 'l2' ? 1 / (C * sw) : 0;
  const fun = (beta: Float64Array) => {
    const g = new Float64Array(d.p);
    let loss = 0;
    for (let i = 0; i < d.n; i++) {
      const wi = d.w[i];
      if (wi === 0) continue;
      let z = 0;
      for (let t = ptr[i]; t < ptr[i + 1]; t++) z += val[t] * beta[col[t]];
      const yi = d.y[i];
      loss += wi * (log1pexp(z) - yi * z);
      // sklearn's cgradient_half_binomial: expit(z) − y
      let gi: number;
      if (z > -37) {
        const e = Math.exp(-z);
        gi = (1 - yi - yi * e) / (1 + e);
      } else {
        gi = Math.exp(z) - yi;
      }
      const r = (wi * gi) / sw;
      for (let t = ptr[i]; t < ptr[i + 1]; t++) g[col[t]] += r * val[t];
    }
    let sq = 0;
    for (let j = 0; j < d.p; j++) {
      sq += beta[j] * beta[j];
      g[j] += lambda * beta[j];
    }
    return { f: loss / sw + 0.5 * lambda * sq, g };
  };
  const res = minimizeLbfgsb(fun, new Float64Array(d.p), {
    maxIter: opts.maxIter ?? 100,
    gtol: opts.tol ?? 1e-4,
    ftol: 64 * 2.220446049250313e-16,
    maxls: 50,
  });
  return { coef: res.x, iterations: res.nit, violation: maxAbs(res.g), converged: res.message.startsWith('CONVERGENCE'), nfev: res.nfev };
}

/** sklearn's log1pexp: log(1 + e^x) by ranges (_loss/_loss.pyx). */
function log1pexp(x: number): number {
  if (x <= -37) return Math.exp(x);
  if (x <= -2) return Math.log1p(Math.exp(x));
  if (x <= 18) return Math.log(1 + Math.exp(x));
  if (x <= 33.3) return x + Math.exp(-x);
  return x;
}

/** P(y = 1 | x) = σ(x·β) for every row (n). */
export function predictProba(d: Pick<LogisticData, 'X' | 'n' | 'p'>, beta: ArrayLike<number>): Float64Array {
  const z = linearPredictor(d as LogisticData, beta);
  for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]);
  return z;
}

/**
 * The slow, obvious twin: cyclic coordinate descent where each coordinate is minimised exactly by
 * bisection on the objective's one-dimensional derivative (a subgradient test at 0 for L1).
 * For tests only.
 */
export function fitLogisticReference(d: LogisticData, opts: FitOptions): Float64Array {
  checkData(d);
  const C = opts.penalty === 'none' ? 1 : (opts.C ?? 1);
  const p = d.p;
  const beta = new Float64Array(p);
  const z = linearPredictor(d, beta);
  for (let sweep = 0; sweep < 5000; sweep++) {
    let change = 0;
    for (let j = 0; j < p; j++) {
      const b0 = beta[j];
      // derivative of C·L when β_j takes the value t
      const g = (t: number) => {
        let s = 0;
        for (let i = 0; i < d.n; i++) {
          const x = d.X[i * p + j];
          if (x === 0 || d.w[i] === 0) continue;
          s += d.w[i] * (sigmoid(z[i] + (t - b0) * x) - d.y[i]) * x;
        }
        return C * s;
      };
      let next: number;
      if (opts.penalty === 'l1') {
        const g0 = g(0);
        if (Math.abs(g0) <= 1) next = 0;
        else if (g0 < -1) next = rootIncreasing((t) => g(t) + 1, 0, 1);
        else next = rootIncreasing((t) => g(t) - 1, -1, 0);
      } else if (opts.penalty === 'l2') next = rootIncreasing((t) => g(t) + t, -1, 1);
      else next = rootIncreasing(g, -1, 1);
      const delta = next - b0;
      if (delta !== 0) {
        for (let i = 0; i < d.n; i++) z[i] += delta * d.X[i * p + j];
        beta[j] = next;
      }
      change = Math.max(change, Math.abs(delta));
    }
    if (change < 1e-13) break;
  }
  return beta;
}

/** Root of an increasing function: widen [lo, hi] until it brackets a sign change, then bisect. */
function rootIncreasing(f: (t: number) => number, lo: number, hi: number): number {
  for (let k = 0; k < 200 && f(lo) > 0; k++) lo = lo * 2 - 1;
  for (let k = 0; k < 200 && f(hi) < 0; k++) hi = hi * 2 + 1;
  for (let k = 0; k < 200; k++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    const fm = f(mid);
    if (fm === 0) return mid; // also keeps an all-zero column (f ≡ 0) at 0
    if (fm > 0) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}
