// Global-norm gradient clipping, as graph ops (PyTorch clip_grad_norm_):
//   norm = sqrt(Σ_params Σ g²),  coef = min(1, maxNorm / (norm + 1e-6)),  g ← g · coef.
// The optimizer folds coef into its moment updates, so clipping costs one reduction per gradient.
import { UserError } from '../util/errors.js';
import { type Tensor, addN } from '../graph/index.js';

export interface GlobalNorm {
  /** sqrt(Σ g²) over every gradient, shape [] (float32 or the gradients' dtype). */
  norm: Tensor;
  /** Σ g² per gradient, reusable by the caller (g² is also Adam's second-moment input). */
  squares: Tensor[];
}

/** The global L2 norm of a list of gradients; `squares` are the elementwise g² tensors. */
export function globalNorm(grads: readonly Tensor[]): GlobalNorm {
  if (grads.length === 0) throw new UserError({ what: 'no gradients to measure', where: 'globalNorm(grads)', expected: 'at least one gradient tensor', received: '[]' });
  const squares = grads.map((g) => g.mul(g));
  const norm = addN(squares.map((s) => s.sum())).sqrt();
  return { norm, squares };
}

/** coef = min(1, maxNorm / (norm + 1e-6)) — multiply gradients by it to clip to maxNorm. */
export function clipCoefficient(norm: Tensor, maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new UserError({ what: 'maxGradNorm must be positive', where: 'clipCoefficient(maxNorm)', expected: 'a number > 0 (or leave clipping off)', received: String(maxNorm) });
  return norm.add(1e-6).reciprocal().mul(maxNorm).minimum(1);
}

/** Plain twin for tests: clip arrays in place by the global norm; returns the pre-clip norm. */
export function clipGradNormReference(grads: Float64Array[], maxNorm: number): number {
  let s = 0;
  for (const g of grads) for (const v of g) s += v * v;
  const norm = Math.sqrt(s);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
