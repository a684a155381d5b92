// The plain-TypeScript Llama forward: one token at a time with a KV cache, float32 storage,
// loops a reader can check against the math. The slow, obvious twin of the graph model
// (src/nn/llama.ts): tests compare the two, and it is independent of the engine.
// Per layer (HF LlamaDecoderLayer): h = x + o(attn(rope(q(n1(x))), rope(k(n1(x))), v(n1(x))));
// x' = h + down(silu(gate(n2(h))) ⊙ up(n2(h))); n(x) = w ⊙ x / sqrt(mean(x²) + eps);
// attention: softmax(q·kᵀ / sqrt(hd)) over positions ≤ pos, kv head = ⌊head / (H / KV)⌋.
import type { LlamaConfig } from './config.js';
import { ropeInverseFrequencies } from './rope.js';
import { EMBED, FINAL_NORM, layerNames, lmHead, type LlamaWeights } from './weights.js';

/** y[o] = Σ_i W[o, i] x[i]; W: [out, in] row-major. */
function matvec(w: Float32Array, x: Float32Array, out: number, inn: number, y: Float32Array): void {
  for (let o = 0; o < out; o++) {
    let s = 0;
    const base = o * inn;
    for (let i = 0; i < inn; i++) s += w[base + i] * x[i];
    y[o] = s;
  }
}

function rmsnorm(x: Float32Array, w: Float32Array, eps: number, y: Float32Array): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const r = 1 / Math.sqrt(ss / x.length + eps);
  for (let i = 0; i < x.length; i++) y[i] = w[i] * (x[i] * r);
}

export class ReferenceLlama {
  private readonly inv: Float64Array;
  private readonly kCache: Float32Array[];
  private readonly vCache: Float32Array[];
  /** the final-norm hidden state of the last step: [D] */
  readonly hidden: Float32Array;

  constructor(
    readonly config: LlamaConfig,
    readonly weights: LlamaWeights,
    readonly maxLen = config.maxPositionEmbeddings,
  ) {
    this.inv = ropeInverseFrequencies(config);
    const kv = config.numKvHeads * config.headDim;
    this.kCache = Array.from({ length: config.numLayers }, () => new Float32Array(maxLen * kv));
    this.vCache = Array.from({ length: config.numLayers }, () => new Float32Array(maxLen * kv));
    this.hidden = new Float32Array(config.hiddenSize);
  }

  private rope(vec: Float32Array, nHeads: number, pos: number): void {
    const hd = this.config.headDim;
    const half = hd / 2;
    for (let h = 0; h < nHeads; h++) {
      for (let j = 0; j < half; j++) {
        const a = pos * this.inv[j];
        const c = Math.cos(a);
        const s = Math.sin(a);
        const x1 = vec[h * hd + j];
        const x2 = vec[h * hd + j + half];
        vec[h * hd + j] = x1 * c - x2 * s;
        vec[h * hd + j + half] = x2 * c + x1 * s;
      }
    }
  }

  /** Feed `token` at position `pos` (0-based; earlier positions must have been fed); returns logits [V]. */
  step(token: number, pos: number): Float32Array {
    const c = this.config;
    const w = this.weights;
    const D = c.hiddenSize;
    const hd = c.headDim;
    const qDim = c.numHeads * hd;
    const kvDim = c.numKvHeads * hd;
    const group = c.numHeads / c.numKvHeads;
    const F = c.intermediateSize;
    if (pos >= this.maxLen) throw new RangeError(`position ${pos} is past the cache length ${this.maxLen}`);
    if (!(token >= 0 && token < c.vocabSize)) throw new RangeError(`token ${token} is outside the vocabulary [0, ${c.vocabSize})`);

    const x = w.get(EMBED)!.data.slice(token * D, (token + 1) * D); // [D]
    const xn = new Float32Array(D);
    const q = new Float32Array(qDim);
    const k = new Float32Array(kvDim);
    const v = new Float32Array(kvDim);
    const att = new Float32Array(qDim);
    const proj = new Float32Array(D);
    const g = new Float32Array(F);
    const u = new Float32Array(F);
    const scores = new Float64Array(pos + 1);
    for (let l = 0; l < c.numLayers; l++) {
      const n = layerNames(l);
      rmsnorm(x, w.get(n.attnNorm)!.data, c.rmsNormEps, xn);
      matvec(w.get(n.q)!.data, xn, qDim, D, q);
      matvec(w.get(n.k)!.data, xn, kvDim, D, k);
      matvec(w.get(n.v)!.data, xn, kvDim, D, v);
      this.rope(q, c.numHeads, pos);
      this.rope(k, c.numKvHeads, pos);
      this.kCache[l].set(k, pos * kvDim);
      this.vCache[l].set(v, pos * kvDim);
      const K = this.kCache[l];
      const V = this.vCache[l];
      for (let h = 0; h < c.numHeads; h++) {
        const kvOff = Math.floor(h / group) * hd;
        let max = -Infinity;
        for (let t = 0; t <= pos; t++) {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[h * hd + i] * K[t * kvDim + kvOff + i];
          scores[t] = s / Math.sqrt(hd);
          if (scores[t] > max) max = scores[t];
        }
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          scores[t] = Math.exp(scores[t] - max); // max-shift: exp never overflows
          sum += scores[t];
        }
        for (let i = 0; i < hd; i++) {
          let s = 0;
          for (let t = 0; t <= pos; t++) s += scores[t] * V[t * kvDim + kvOff + i];
          att[h * hd + i] = s / sum;
        }
      }
      matvec(w.get(n.o)!.data, att, D, qDim, proj);
      for (let i = 0; i < D; i++) x[i] += proj[i];
      rmsnorm(x, w.get(n.mlpNorm)!.data, c.rmsNormEps, xn);
      matvec(w.get(n.gate)!.data, xn, F, D, g);
      matvec(w.get(n.up)!.data, xn, F, D, u);
      for (let i = 0; i < F; i++) g[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i]; // silu(gate) ⊙ up
      matvec(w.get(n.down)!.data, g, D, F, proj);
      for (let i = 0; i < D; i++) x[i] += proj[i];
    }
    rmsnorm(x, w.get(FINAL_NORM)!.data, c.rmsNormEps, this.hidden);
    const logits = new Float32Array(c.vocabSize);
    matvec(lmHead(c, w).data, this.hidden, c.vocabSize, D, logits);
    return logits;
  }
}

/** Logits of every position of `ids`: [T, V] row-major. */
export function referenceLogits(config: LlamaConfig, weights: LlamaWeights, ids: readonly number[]): Float32Array {
  const m = new ReferenceLlama(config, weights, ids.length);
  const out = new Float32Array(ids.length * config.vocabSize);
  ids.forEach((t, i) => out.set(m.step(t, i), i * config.vocabSize));
  return out;
}

/** Final-norm hidden states of every position of `ids`: [T, D]. */
export function referenceHidden(config: LlamaConfig, weights: LlamaWeights, ids: readonly number[]): Float32Array {
  const m = new ReferenceLlama(config, weights, ids.length);
  const out = new Float32Array(ids.length * config.hiddenSize);
  ids.forEach((t, i) => {
    m.step(t, i);
    out.set(m.hidden, i * config.hiddenSize);
  });
  return out;
}

/** argmax with the lowest index winning ties (as run.c's argmax). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Greedy continuation of `prompt` (which must be non-empty): up to maxNew tokens, stopping after a stop token. */
export function referenceGreedy(config: LlamaConfig, weights: LlamaWeights, prompt: readonly number[], maxNew: number, stop: readonly number[] = config.eosTokenIds): number[] {
  const m = new ReferenceLlama(config, weights, Math.min(config.maxPositionEmbeddings, prompt.length + maxNew));
  let logits: Float32Array = new Float32Array(0);
  prompt.forEach((t, i) => (logits = m.step(t, i)));
  const out: number[] = [];
  for (let i = 0; i < maxNew; i++) {
    const next = argmax(logits);
    out.push(next);
    if (stop.includes(next) || prompt.length + out.length >= m.maxLen) break;
    logits = m.step(next, prompt.length + out.length - 1);
  }
  return out;
}
