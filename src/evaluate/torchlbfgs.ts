// torch.optim.LBFGS.step(closure) without a line search (torch/optim/lbfgs.py), the optimiser of
// arena-hard-auto v2's fit_pairwise_model (lr 0.1, max_iter 50, tolerance_grad = tolerance_change
// = 1e-9, history_size 100), reproduced iteration for iteration in float64 (torch runs float32):
//   d_1 = −g_1, t_1 = min(1, 1/‖g_1‖₁)·lr;  d_k = −H_k g_k (two-loop, H⁰ = (y's/y'y)·I, a pair kept
//   only when y's > 1e-10), t_k = lr;  x ← x + t_k·d_k.
// Stops after max_iter steps (the last step is taken without re-evaluating), when max|g| ≤
// tolerance_grad, g'd > −tolerance_change, max|t·d| ≤ tolerance_change, |Δf| < tolerance_change,
// or after max_eval = ⌊5·max_iter/4⌋ evaluations. With lr < 1 and only 50 steps the result can be
// far from the optimum: that early stop is what the official numbers contain.

import { dot, maxAbs } from '../util/stats.js';

export interface TorchLbfgsOptions {
  lr?: number;
  maxIter?: number;
  maxEval?: number;
  toleranceGrad?: number;
  toleranceChange?: number;
  historySize?: number;
}

export interface TorchLbfgsResult {
  x: Float64Array;
  /** torch's state['n_iter'] */
  nIter: number;
  /** torch's state['func_evals'] */
  funcEvals: number;
}



/** One optimizer.step(closure) call on a fresh torch.optim.LBFGS, starting from x0. */
export function torchLbfgs(fun: (x: Float64Array) => { f: number; g: Float64Array }, x0: ArrayLike<number>, opts: TorchLbfgsOptions = {}): TorchLbfgsResult {
  const lr = opts.lr ?? 1;
  const maxIter = opts.maxIter ?? 20;
  const maxEval = opts.maxEval ?? Math.floor((maxIter * 5) / 4);
  const tolGrad = opts.toleranceGrad ?? 1e-7;
  const tolChange = opts.toleranceChange ?? 1e-9;
  const history = opts.historySize ?? 100;
  const x = Float64Array.from(x0);
  let { f: loss, g } = fun(x);
  let funcEvals = 1;
  let currentEvals = 1;
  if (maxAbs(g) <= tolGrad) return { x, nIter: 0, funcEvals };
  const dirs: Float64Array[] = [];
  const stps: Float64Array[] = [];
  const ro: number[] = [];
  let hDiag = 1;
  let d = new Float64Array(x.length);
  let t = 0;
  let prevG: Float64Array | null = null;
  let nIter = 0;
  while (nIter < maxIter) {
    nIter++;
    if (nIter === 1) {
      d = Float64Array.from(g, (v) => -v);
    } else {
      const y = Float64Array.from(g, (v, i) => v - prevG![i]);
      const s = Float64Array.from(d, (v) => v * t);
      const ys = dot(y, s);
      if (ys > 1e-10) {
        if (dirs.length === history) {
          dirs.shift();
          stps.shift();
          ro.shift();
        }
        dirs.push(y);
        stps.push(s);
        ro.push(1 / ys);
        hDiag = ys / dot(y, y);
      }
      const k = dirs.length;
      const al = new Array<number>(k);
      const q = Float64Array.from(g, (v) => -v);
      for (let i = k - 1; i >= 0; i--) {
        al[i] = dot(stps[i], q) * ro[i];
        for (let j = 0; j < q.length; j++) q[j] += -al[i] * dirs[i][j];
      }
      for (let j = 0; j < q.length; j++) q[j] *= hDiag;
      for (let i = 0; i < k; i++) {
        const be = dot(dirs[i], q) * ro[i];
        for (let j = 0; j < q.length; j++) q[j] += (al[i] - be) * stps[i][j];
      }
      d = q;
    }
    prevG = Float64Array.from(g);
    const prevLoss = loss;
    if (nIter === 1) {
      let l1 = 0;
      for (const v of g) l1 += Math.abs(v);
      t = Math.min(1, 1 / l1) * lr;
    } else {
      t = lr;
    }
    const gtd = dot(g, d);
    if (gtd > -tolChange) break;
    let evals = 0;
    for (let j = 0; j < x.length; j++) x[j] += t * d[j];
    let optCond = false;
    if (nIter !== maxIter) {
      ({ f: loss, g } = fun(x));
      optCond = maxAbs(g) <= tolGrad;
      evals = 1;
    }
    currentEvals += evals;
    funcEvals += evals;
    if (nIter === maxIter) break;
    if (currentEvals >= maxEval) break;
    if (optCond) break;
    if (maxAbs(d) * Math.abs(t) <= tolChange) break;
    if (Math.abs(loss - prevLoss) < tolChange) break;
  }
  return { x, nIter, funcEvals };
}
