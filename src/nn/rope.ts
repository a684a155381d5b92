// Rotary position embedding frequencies, HF convention (transformers modeling_rope_utils.py):
// inv_freq_j = θ^(−2j/hd), j = 0 … hd/2−1; angle(pos, j) = pos · inv_freq_j; rotate_half pairs
// (j, j + hd/2): out_j = x_j cos − x_{j+hd/2} sin, out_{j+hd/2} = x_{j+hd/2} cos + x_j sin.
// Llama 3.1 scaling (_compute_llama3_parameters): with λ = 2π / inv_freq,
//   λ > L/low  → inv_freq / factor;  λ < L/high → unchanged;  otherwise
//   s = (L/λ − low) / (high − low),  inv_freq ← (1 − s) · inv_freq / factor + s · inv_freq
// where L = original_max_position_embeddings.
import type { LlamaConfig } from './config.js';

/** [hd/2] inverse frequencies. */
export function ropeInverseFrequencies(c: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const half = c.headDim / 2;
  const inv = new Float64Array(half);
  for (let j = 0; j < half; j++) inv[j] = 1 / c.ropeTheta ** ((2 * j) / c.headDim);
  const s = c.ropeScaling;
  if (s === null) return inv;
  const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let j = 0; j < half; j++) {
    const wavelen = (2 * Math.PI) / inv[j];
    if (wavelen > lowWavelen) inv[j] = inv[j] / s.factor;
    else if (wavelen >= highWavelen) {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[j] = ((1 - smooth) * inv[j]) / s.factor + smooth * inv[j];
    }
  }
  return inv;
}

/** cos and sin tables [maxLen, hd/2] (float32, as the graph consumes them). */
export function ropeTables(c: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>, maxLen: number): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInverseFrequencies(c);
  const half = inv.length;
  const cos = new Float32Array(maxLen * half);
  const sin = new Float32Array(maxLen * half);
  for (let p = 0; p < maxLen; p++) {
    for (let j = 0; j < half; j++) {
      const a = p * inv[j];
      cos[p * half + j] = Math.cos(a);
      sin[p * half + j] = Math.sin(a);
    }
  }
  return { cos, sin };
}
