// L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995; Zhu et al. 1997, v3.0 of Morales & Nocedal 2011) as
// scipy.optimize.minimize(method='L-BFGS-B') runs it on an UNBOUNDED problem, step for step, so
// that an early-stopped fit (sklearn's LogisticRegression, lbfgs, tol 1e-4) lands where it does:
//   x_{k+1} = x_k + stp·d_k,  d_0 = −g_0 (the generalised Cauchy point with B_0 = I),
//   d_k = −H_k g_k for k ≥ 1, H_k the m-pair limited-memory inverse with H⁰ = (s'y/y'y)·I
//   (= the compact form B_k⁻¹ of mainlb/subsm when no bound is active);
//   stp from dcsrch (Moré & Thuente 1994, MINPACK-2) with ftol 1e-3, gtol 0.9, xtol 0.1,
//   first trial 1/‖d_0‖ at k = 0 and 1 after;
//   stop when max|g| ≤ pgtol, when (f_old − f)/max(|f_old|, |f|, 1) ≤ factr·eps, or after maxiter
//   iterations (scipy's count of NEW_X); a pair is skipped when s'y ≤ eps·(−g'd·stp).
// Source: scipy/optimize/_lbfgsb_py.py + lbfgsb.f (mainlb, cauchy, lnsrlb, dcsrch, dcstep, matupd).

import { dot, maxAbs } from '../util/stats.js';

const EPS = 2.220446049250313e-16;

export interface LbfgsbOptions {
  /** memory (scipy's maxcor), default 10 */
  m?: number;
  /** scipy maxiter, default 15000 */
  maxIter?: number;
  /** scipy maxfun, default 15000 */
  maxFun?: number;
  /** scipy gtol (pgtol): stop when max|g_i| ≤ gtol; default 1e-5 */
  gtol?: number;
  /** scipy ftol: stop when the relative reduction of f is ≤ ftol; default 2.220446049250313e-09 */
  ftol?: number;
  /** maximum line-search steps per iteration, default 20 */
  maxls?: number;
}

export interface LbfgsbResult {
  x: Float64Array;
  f: number;
  g: Float64Array;
  /** iterations (scipy's nit) */
  nit: number;
  /** function evaluations (scipy's nfev) */
  nfev: number;
  message: string;
}

export type ValueAndGradient = (x: Float64Array) => { f: number; g: Float64Array };



/** The state dcsrch keeps between calls (isave/dsave in MINPACK-2). */
interface SearchState {
  brackt: boolean;
  stage: 1 | 2;
  ginit: number;
  gtest: number;
  gx: number;
  gy: number;
  finit: number;
  fx: number;
  fy: number;
  stx: number;
  sty: number;
  stmin: number;
  stmax: number;
  width: number;
  width1: number;
}

type SearchTask = 'FG' | 'CONVERGENCE' | 'WARNING' | 'ERROR';

/** MINPACK-2 dcstep: safeguarded cubic/quadratic step; updates the bracket in `s` and returns the new stp. */
function dcstep(s: SearchState, stp: number, fp: number, dp: number, modified: boolean, stpmin: number, stpmax: number): number {
  // modified: dcsrch's stage-1 auxiliary function ψ(α) = f(α) − α·gtest (values passed shifted)
  const shiftF = (st: number) => (modified ? st * s.gtest : 0);
  const shiftG = modified ? s.gtest : 0;
  let stx = s.stx;
  let fx = s.fx - shiftF(s.stx);
  let dx = s.gx - shiftG;
  let sty = s.sty;
  let fy = s.fy - shiftF(s.sty);
  let dy = s.gy - shiftG;
  const sgnd = dp * (dx / Math.abs(dx));
  let stpf: number;
  if (fp > fx) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) ** 2 - (dx / sc) * (dp / sc));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta;
    const q = gamma - dx + gamma + dp;
    const r = p / q;
    const stpc = stx + r * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    stpf = Math.abs(stpc - stx) < Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    s.brackt = true;
  } else if (sgnd < 0) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) ** 2 - (dx / sc) * (dp / sc));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dx;
    const r = p / q;
    const stpc = stp + r * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    s.brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt(Math.max(0, (theta / sc) ** 2 - (dx / sc) * (dp / sc)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma + (dx - dp) + gamma;
    const r = p / q;
    let stpc: number;
    if (r < 0 && gamma !== 0) stpc = stp + r * (stx - stp);
    else if (stp > stx) stpc = stpmax;
    else stpc = stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (s.brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? Math.min(stp + 0.66 * (sty - stp), stpf) : Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(stpmax, stpf);
      stpf = Math.max(stpmin, stpf);
    }
  } else if (s.brackt) {
    const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) ** 2 - (dy / sc) * (dp / sc));
    if (stp > sty) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dy;
    const r = p / q;
    stpf = stp + r * (sty - stp);
  } else {
    stpf = stp > stx ? stpmax : stpmin;
  }
  if (fp > fx) {
    sty = stp;
    fy = fp;
    dy = dp;
  } else {
    if (sgnd < 0) {
      sty = stx;
      fy = fx;
      dy = dx;
    }
    stx = stp;
    fx = fp;
    dx = dp;
  }
  s.stx = stx;
  s.fx = fx + shiftF(stx);
  s.gx = dx + shiftG;
  s.sty = sty;
  s.fy = fy + shiftF(sty);
  s.gy = dy + shiftG;
  return stpf;
}

/** MINPACK-2 dcsrch after the START call: judge (f, g) at stp, return the task and the next stp. */
function dcsrch(s: SearchState, f: number, g: number, stp: number, ftol: number, gtol: number, xtol: number, stpmin: number, stpmax: number): { task: SearchTask; stp: number } {
  const ftest = s.finit + stp * s.gtest;
  if (s.stage === 1 && f <= ftest && g >= 0) s.stage = 2;
  let task: SearchTask | null = null;
  if (s.brackt && (stp <= s.stmin || stp >= s.stmax)) task = 'WARNING';
  if (s.brackt && s.stmax - s.stmin <= xtol * s.stmax) task = 'WARNING';
  if (stp === stpmax && f <= ftest && g <= s.gtest) task = 'WARNING';
  if (stp === stpmin && (f > ftest || g >= s.gtest)) task = 'WARNING';
  if (f <= ftest && Math.abs(g) <= gtol * -s.ginit) task = 'CONVERGENCE';
  if (task) return { task, stp };
  let next: number;
  if (s.stage === 1 && f <= s.fx && f > ftest) {
    next = dcstep(s, stp, f - stp * s.gtest, g - s.gtest, true, s.stmin, s.stmax);
  } else {
    next = dcstep(s, stp, f, g, false, s.stmin, s.stmax);
  }
  if (s.brackt) {
    if (Math.abs(s.sty - s.stx) >= 0.66 * s.width1) next = s.stx + 0.5 * (s.sty - s.stx);
    s.width1 = s.width;
    s.width = Math.abs(s.sty - s.stx);
  }
  if (s.brackt) {
    s.stmin = Math.min(s.stx, s.sty);
    s.stmax = Math.max(s.stx, s.sty);
  } else {
    s.stmin = next + 1.1 * (next - s.stx);
    s.stmax = next + 4.0 * (next - s.stx);
  }
  next = Math.max(next, stpmin);
  next = Math.min(next, stpmax);
  if ((s.brackt && (next <= s.stmin || next >= s.stmax)) || (s.brackt && s.stmax - s.stmin <= xtol * s.stmax)) next = s.stx;
  return { task: 'FG', stp: next };
}

function startSearch(f: number, g: number, stp: number, ftol: number, stpmin: number, stpmax: number): SearchState {
  return {
    brackt: false,
    stage: 1,
    finit: f,
    ginit: g,
    gtest: ftol * g,
    width: stpmax - stpmin,
    width1: (stpmax - stpmin) / 0.5,
    stx: 0,
    fx: f,
    gx: g,
    sty: 0,
    fy: f,
    gy: g,
    stmin: 0,
    stmax: stp + 4.0 * stp,
  };
}

/** −H·g by the two-loop recursion over the stored pairs (oldest first), H⁰ = I/θ. */
function direction(g: Float64Array, S: Float64Array[], Y: Float64Array[], theta: number): Float64Array {
  const k = S.length;
  const q = Float64Array.from(g, (v) => -v);
  const rho = S.map((s, i) => 1 / dot(Y[i], s));
  const alpha = new Array<number>(k);
  for (let i = k - 1; i >= 0; i--) {
    alpha[i] = rho[i] * dot(S[i], q);
    for (let j = 0; j < q.length; j++) q[j] -= alpha[i] * Y[i][j];
  }
  for (let j = 0; j < q.length; j++) q[j] /= theta;
  for (let i = 0; i < k; i++) {
    const beta = rho[i] * dot(Y[i], q);
    for (let j = 0; j < q.length; j++) q[j] += S[i][j] * (alpha[i] - beta);
  }
  return q;
}

/** scipy.optimize.minimize(fun, x0, jac=True, method='L-BFGS-B', options) without bounds. */
export function minimizeLbfgsb(fun: ValueAndGradient, x0: ArrayLike<number>, opts: LbfgsbOptions = {}): LbfgsbResult {
  const m = opts.m ?? 10;
  const maxIter = opts.maxIter ?? 15000;
  const maxFun = opts.maxFun ?? 15000;
  const pgtol = opts.gtol ?? 1e-5;
  const factr = (opts.ftol ?? 2.220446049250313e-9) / EPS;
  const maxls = opts.maxls ?? 20;
  let x = Float64Array.from(x0);
  let { f, g } = fun(x);
  let nfev = 1;
  let nit = 0;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  let theta = 1;
  if (maxAbs(g) <= pgtol) return { x, f, g, nit, nfev, message: 'CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL' };
  for (;;) {
    // search direction: the Cauchy point −g/θ with no pairs stored, the subspace (quasi-Newton) step otherwise
    let z: Float64Array;
    if (S.length === 0) {
      z = Float64Array.from(x, (v, i) => v + -g[i] / theta);
    } else {
      const dN = direction(g, S, Y, theta);
      z = Float64Array.from(x, (v, i) => v + dN[i]);
    }
    const d = Float64Array.from(z, (v, i) => v - x[i]);
    // lnsrlb + dcsrch
    const dnorm = Math.sqrt(dot(d, d));
    const stpmx = 1e10;
    let stp = nit === 0 ? Math.min(1 / dnorm, stpmx) : 1;
    const t = x;
    const r = g;
    const fold = f;
    const gdold = dot(g, d);
    if (gdold >= 0) return { x, f, g, nit, nfev, message: 'ABNORMAL: ascent direction' };
    const state = startSearch(f, gdold, stp, 1e-3, 0, stpmx);
    let gd = gdold;
    let ifun = 0;
    let failed = false;
    for (;;) {
      if (ifun > 0) {
        const res = dcsrch(state, f, gd, stp, 1e-3, 0.9, 0.1, 0, stpmx);
        if (res.task !== 'FG') break;
        stp = res.stp;
      }
      if (ifun >= maxls) {
        failed = true;
        break;
      }
      ifun++;
      x = stp === 1 ? Float64Array.from(z) : Float64Array.from(d, (v, i) => stp * v + t[i]);
      ({ f, g } = fun(x));
      nfev++;
      gd = dot(g, d);
    }
    if (failed) {
      // restore the previous iterate; with no pairs stored this is scipy's ABNORMAL_TERMINATION_IN_LNSRCH
      x = t;
      f = fold;
      g = r;
      if (S.length === 0) return { x, f, g, nit, nfev, message: 'ABNORMAL_TERMINATION_IN_LNSRCH' };
      S.length = 0;
      Y.length = 0;
      theta = 1;
      continue;
    }
    nit++;
    if (nit >= maxIter) return { x, f, g, nit, nfev, message: 'STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT' };
    if (nfev > maxFun) return { x, f, g, nit, nfev, message: 'STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT' };
    if (maxAbs(g) <= pgtol) return { x, f, g, nit, nfev, message: 'CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL' };
    if (fold - f <= factr * EPS * Math.max(Math.abs(fold), Math.abs(f), 1)) return { x, f, g, nit, nfev, message: 'CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH' };
    // pair update (matupd), skipped when the curvature s'y is not positive enough
    const yv = Float64Array.from(g, (v, i) => v - r[i]);
    const rr = dot(yv, yv);
    let dr: number;
    let ddum: number;
    let s: Float64Array;
    if (stp === 1) {
      dr = gd - gdold;
      ddum = -gdold;
      s = d;
    } else {
      dr = (gd - gdold) * stp;
      s = Float64Array.from(d, (v) => v * stp);
      ddum = -gdold * stp;
    }
    if (dr <= EPS * ddum) continue;
    if (S.length === m) {
      S.shift();
      Y.shift();
    }
    S.push(s);
    Y.push(yv);
    theta = rr / dr;
  }
}
