// Random initialisation of a Llama model, as Hugging Face LlamaPreTrainedModel._init_weights does:
//   every projection and the embedding ~ N(0, initializer_range²) (default 0.02), RMSNorm gains = 1.
// Deterministic from the Rng (weights drawn in expectedWeightShapes order).
import type { Rng } from '../util/rng.js';
import type { LlamaConfig } from './config.js';
import { expectedWeightShapes, type LlamaWeights } from './weights.js';

export interface InitOptions {
  /** Std of the normal draws for matrices (HF `initializer_range`, default 0.02). */
  std?: number;
}

/** Fresh weights for `c`: norms at 1, matrices N(0, std²). */
export function initLlamaWeights(c: LlamaConfig, rng: Rng, opts: InitOptions = {}): LlamaWeights {
  const std = opts.std ?? 0.02;
  const out: LlamaWeights = new Map();
  for (const [name, shape] of expectedWeightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (shape.length === 1) data.fill(1); // RMSNorm gain
    else for (let i = 0; i < n; i++) data[i] = rng.normal(0, std);
    out.set(name, { shape: [...shape], data });
  }
  return out;
}
