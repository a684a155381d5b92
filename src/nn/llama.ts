// The Llama-family transformer on the graph API (HF LlamaForCausalLM, modeling_llama.py):
//   x = embed[ids];  per layer: x += o(attn(rope(q(n₁x)), rope(k(n₁x)), v(n₁x)));
//                               x += down(silu(gate(n₂x)) ⊙ up(n₂x));   h = n_f(x)
//   n(x) = w ⊙ x / sqrt(mean(x²) + eps) (RMSNorm);  attn = softmax(q kᵀ/√hd + bias) v with
//   grouped-query heads (query head h reads kv head ⌊h / (H/KV)⌋), RoPE in the rotate_half
//   convention (src/nn/rope.ts); logits = h · lm_headᵀ (or the embedding when tied).
// Batches carry an attention mask [B, T] (1 = real token, 0 = padding; left or right) and
// position ids [B, T] (HF: cumsum(mask) − 1, padding at 0 — see positionIdsFromMask): padding is
// invisible to every real token, and a row's numbers do not depend on how much padding it has.
// src/nn/reference.ts is the plain-loop twin the tests compare against.
// One model definition for training and generation: generation (src/nn/generate.ts) runs the same
// decoderLayer / rmsNorm / lmLogits on the fused layout of the same weights (fuseLlamaWeights:
// q|k|v and gate|up concatenated, projections transposed to [in, out], 1/√hd folded into q), chosen
// by which weights the params hold; only its attention (KV cache) is its own, through `attend`.
import { type Graph, type Tensor, softmaxCrossEntropy } from '../graph/index.js';
import { UserError } from '../util/errors.js';
import type { LlamaConfig } from './config.js';
import { ropeTables } from './rope.js';
import { loraDelta, type LoraGraph } from './lora.js';
import { EMBED, FINAL_NORM, LM_HEAD, expectedWeightShapes, layerNames, lmHead, type HostTensor, type LlamaWeights } from './weights.js';

/** Graph tensors of the weights under HF names, layouts as in LlamaWeights ([out, in] for projections). */
export type LlamaParams = ReadonlyMap<string, Tensor>;

/** A large negative additive bias: exp underflows to exactly 0, and never overflows to NaN. */
export const MASKED = -1e9;

/** Frozen weights baked into the graph (a reference model, generation). `prefix` keeps names unique. */
export function llamaInitializers(g: Graph, c: LlamaConfig, w: LlamaWeights, prefix = ''): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, shape] of expectedWeightShapes(c)) {
    const t = w.get(name);
    if (!t) throw new UserError({ what: `weight ${name} is missing`, where: 'llamaInitializers', expected: `[${shape.join(', ')}]`, fix: 'load the weights with loadModel / checkLlamaWeights first' });
    out.set(name, g.initializer(prefix + name, t.data, shape));
  }
  return out;
}

/** Trainable weights as graph inputs (fed every run, differentiable): returns the params and the inputs in a fixed order. */
export function llamaInputs(g: Graph, c: LlamaConfig, prefix = ''): { params: Map<string, Tensor>; inputs: Tensor[] } {
  const params = new Map<string, Tensor>();
  const inputs: Tensor[] = [];
  for (const [name, shape] of expectedWeightShapes(c)) {
    const t = g.input(prefix + name, shape);
    params.set(name, t);
    inputs.push(t);
  }
  return { params, inputs };
}

function param(p: LlamaParams, name: string): Tensor {
  const t = p.get(name);
  if (!t) throw new UserError({ what: `parameter ${name} is missing`, where: 'llama graph', expected: 'every weight of expectedWeightShapes(config)', fix: 'build params with llamaInitializers or llamaInputs' });
  return t;
}

/** x [..., in] · Wᵀ with W [out, in] → [..., out]. */
export function linear(x: Tensor, w: Tensor): Tensor {
  return x.matmul(w.transpose([1, 0]));
}

/**
 * RMSNorm over the last axis: w ⊙ x / sqrt(mean(x²) + eps). Written as Pow → ReduceMean → Add →
 * Sqrt → Div → Mul, the pattern ONNX Runtime fuses into one SimplifiedLayerNormalization kernel.
 */
export function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  return x.div(x.pow(2).mean(-1, true).add(eps).sqrt()).mul(w);
}

/**
 * rotate_half as a matrix: rotate_half(x) = [−x₂, x₁] = x · R with R[j + hd/2, j] = −1 and
 * R[j, j + hd/2] = 1 (exact: one non-zero term per output). One MatMul instead of slices and a concat.
 */
export function rotateHalfMatrix(hd: number): Float32Array {
  const half = hd / 2;
  const r = new Float32Array(hd * hd);
  for (let j = 0; j < half; j++) {
    r[(j + half) * hd + j] = -1;
    r[j * hd + j + half] = 1;
  }
  return r;
}

export interface Rope {
  /** [..., hd]: cos(angle), both halves equal, broadcastable against x */
  cos: Tensor;
  sin: Tensor;
  /** [hd, hd]: rotateHalfMatrix */
  rotate: Tensor;
}

/** rotate_half RoPE on the last axis: x ⊙ cos + rotate_half(x) ⊙ sin (HF apply_rotary_pos_emb). */
export function applyRope(x: Tensor, rope: Rope): Tensor {
  return x.mul(rope.cos).add(x.matmul(rope.rotate).mul(rope.sin));
}

/** RoPE at positions [B, T]: cos/sin [B, 1, T, hd] gathered from [tableLen, hd] constants (halves duplicated). */
export function ropeAt(g: Graph, c: LlamaConfig, positions: Tensor, tableLen: number): Rope {
  const { cos, sin } = ropeTables(c, tableLen);
  const half = c.headDim / 2;
  const hd = c.headDim;
  const cos2 = new Float32Array(tableLen * hd);
  const sin2 = new Float32Array(tableLen * hd);
  for (let p = 0; p < tableLen; p++) {
    for (let j = 0; j < hd; j++) {
      cos2[p * hd + j] = cos[p * half + (j % half)];
      sin2[p * hd + j] = sin[p * half + (j % half)];
    }
  }
  return {
    cos: g.constant(cos2, [tableLen, hd]).gather(positions).unsqueeze(1),
    sin: g.constant(sin2, [tableLen, hd]).gather(positions).unsqueeze(1),
    rotate: g.constant(rotateHalfMatrix(hd), [hd, hd]),
  };
}

/** transpose(x, perm), as a free Reshape when only size-1 axes move (e.g. T = 1 when decoding). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const nonUnit = (axes: readonly number[]) => axes.filter((a) => x.shape[a] !== 1);
  const before = nonUnit(x.shape.map((_, k) => k));
  const after = nonUnit(perm);
  return after.every((a, i) => a === before[i]) ? x.reshape(perm.map((a) => x.shape[a])) : x.transpose(perm);
}

function checkShape(what: string, t: Tensor, shape: readonly (number | null)[], dtype: string): void {
  const ok = t.rank === shape.length && shape.every((s, i) => s === null || s === t.shape[i]) && t.dtype === dtype;
  if (!ok) {
    throw new UserError({
      what: `${what} has the wrong shape or dtype`,
      where: `llama graph (${what})`,
      expected: `${dtype}[${shape.map((s) => (s === null ? '*' : s)).join(', ')}]`,
      received: `${t.dtype}[${t.shape.join(', ')}]`,
      fix: 'see the shapes in src/nn/llama.ts (B batch, T time); build ids/positions as int64 and the mask as float32',
    });
  }
}

// ---- the fused layout (generation) --------------------------------------------------------------

/** Names of layer l's fused weights (fuseLlamaWeights); norms and the embedding keep their HF names. */
export function fusedNames(l: number) {
  const p = `fused.layers.${l}.`;
  return { qkv: `${p}qkv`, o: `${p}o`, gateUp: `${p}gate_up`, down: `${p}down` };
}

/** The LM head of the fused layout: [D, V] (the embedding's or lm_head's transpose). */
export const FUSED_HEAD = 'fused.lm_head';

/**
 * The same model's weights in generation's layout: per layer qkv [D, (H + 2KV)·hd] = [q·(1/√hd) | k | v]ᵀ
 * (attention's scale folded into q: RoPE is linear), o [H·hd, D], gate_up [D, 2F] = [gate | up]ᵀ,
 * down [F, D]; the head [D, V]. One MatMul per fused projection and no Transpose in the graph.
 * Norms and the embedding are shared with `w` (not copied).
 */
export function fuseLlamaWeights(c: LlamaConfig, w: LlamaWeights): LlamaWeights {
  const D = c.hiddenSize;
  const hd = c.headDim;
  const qDim = c.numHeads * hd;
  const kvDim = c.numKvHeads * hd;
  const F = c.intermediateSize;
  const get = (name: string): HostTensor => {
    const t = w.get(name);
    if (!t) throw new UserError({ what: `weight ${name} is missing`, where: 'fuseLlamaWeights', fix: 'load the model with loadModel()' });
    return t;
  };
  /** columns [off, off + rows) of out [cols, width] ← Wᵀ for W [rows, cols], times scale */
  const putT = (out: Float32Array, width: number, off: number, t: HostTensor, scale = 1) => {
    const [rows, cols] = t.shape;
    for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) out[i * width + off + r] = t.data[r * cols + i] * scale;
  };
  const out: LlamaWeights = new Map([[EMBED, get(EMBED)], [FINAL_NORM, get(FINAL_NORM)]]);
  const head = new Float32Array(D * c.vocabSize);
  putT(head, c.vocabSize, 0, lmHead(c, w));
  out.set(FUSED_HEAD, { shape: [D, c.vocabSize], data: head });
  for (let l = 0; l < c.numLayers; l++) {
    const n = layerNames(l);
    const f = fusedNames(l);
    const qkvW = qDim + 2 * kvDim;
    const qkv = new Float32Array(D * qkvW);
    putT(qkv, qkvW, 0, get(n.q), 1 / Math.sqrt(hd));
    putT(qkv, qkvW, qDim, get(n.k));
    putT(qkv, qkvW, qDim + kvDim, get(n.v));
    const gateUp = new Float32Array(D * 2 * F);
    putT(gateUp, 2 * F, 0, get(n.gate));
    putT(gateUp, 2 * F, F, get(n.up));
    const o = new Float32Array(qDim * D);
    putT(o, D, 0, get(n.o));
    const down = new Float32Array(F * D);
    putT(down, D, 0, get(n.down));
    out.set(n.attnNorm, get(n.attnNorm));
    out.set(n.mlpNorm, get(n.mlpNorm));
    out.set(f.qkv, { shape: [D, qkvW], data: qkv });
    out.set(f.o, { shape: [qDim, D], data: o });
    out.set(f.gateUp, { shape: [D, 2 * F], data: gateUp });
    out.set(f.down, { shape: [F, D], data: down });
  }
  return out;
}

/** Attention of one layer: q [B, KV, G, T, hd] (scaled, rotated), k [B, KV, T, hd] (rotated), v [B, KV, T, hd] → [B, KV, G, T, hd]. */
export type Attend = (q: Tensor, k: Tensor, v: Tensor, layer: number) => Tensor;

/**
 * One decoder layer's attention + MLP on x [B, T, D] (or [B, D]: one token per row). `attend(q, k, v, layer)` receives q
 * [B, KV, G, T, hd] (already scaled by 1/√hd and rotated), k and v [B, KV, T, hd] (k rotated)
 * and returns the attention output [B, KV, G, T, hd]; the full-sequence model and the KV-cache
 * decode step differ only there. The weights are read in the HF layout, or in the fused layout
 * when `p` holds fusedNames(layer) (fuseLlamaWeights: the same numbers, fewer MatMuls). With
 * `lora` (HF layout only), each adapted projection adds s · (x Aᵀ) Bᵀ (src/nn/lora.ts).
 */
export function decoderLayer(c: LlamaConfig, p: LlamaParams, layer: number, x: Tensor, rope: Rope, attend: Attend, lora?: LoraGraph): Tensor {
  const n = layerNames(layer);
  const f = fusedNames(layer);
  const fused = p.has(f.qkv);
  if (fused && lora) throw new UserError({ what: 'LoRA adapters need the HF weight layout', where: 'decoderLayer', fix: 'merge the adapter into the weights before fusing them (mergeLora)' });
  const proj = (x: Tensor, name: string): Tensor => {
    const y = linear(x, param(p, name));
    const d = loraDelta(lora, name.slice(0, -'.weight'.length), x);
    return d ? y.add(d) : y;
  };
  const B = x.shape[0];
  const T = x.rank === 2 ? 1 : x.shape[1]; // x [B, D]: one token per row (a decode step; 2-D keeps ONNX Runtime's Gemm fusion)
  const H = c.numHeads;
  const KV = c.numKvHeads;
  const G = H / KV;
  const hd = c.headDim;
  const F = c.intermediateSize;
  const h = rmsNorm(x, param(p, n.attnNorm), c.rmsNormEps); // [B, T, D]
  // q heads are grouped by the kv head they read: head index = kv · G + g (HF repeat_kv order)
  let qr: Tensor; // [B, KV, G, T, hd]
  let kr: Tensor; // [B, KV, T, hd]
  let v: Tensor; // [B, KV, T, hd]
  if (fused) {
    const qkv = h.matmul(param(p, f.qkv)); // [B, T, (H + 2KV)·hd], q already scaled
    const qk = applyRope(permute(qkv.slice(-1, 0, (H + KV) * hd).reshape([B, T, H + KV, hd]), [0, 2, 1, 3]), rope); // [B, H + KV, T, hd]
    qr = qk.slice(1, 0, H).reshape([B, KV, G, T, hd]);
    kr = qk.slice(1, H);
    v = permute(qkv.slice(-1, (H + KV) * hd).reshape([B, T, KV, hd]), [0, 2, 1, 3]);
  } else {
    const q = permute(proj(h, n.q).reshape([B, T, KV, G, hd]), [0, 2, 3, 1, 4]);
    const k = permute(proj(h, n.k).reshape([B, T, KV, hd]), [0, 2, 1, 3]);
    v = permute(proj(h, n.v).reshape([B, T, KV, hd]), [0, 2, 1, 3]);
    qr = applyRope(q, { ...rope, cos: rope.cos.unsqueeze(1), sin: rope.sin.unsqueeze(1) }).mul(1 / Math.sqrt(hd));
    kr = applyRope(k, rope);
  }
  const att = attend(qr, kr, v, layer); // [B, KV, G, T, hd]
  const merged = permute(att, [0, 3, 1, 2, 4]).reshape(x.rank === 2 ? [B, H * hd] : [B, T, H * hd]); // [B, T, H·hd]
  const x2 = x.add(fused ? merged.matmul(param(p, f.o)) : proj(merged, n.o));
  const h2 = rmsNorm(x2, param(p, n.mlpNorm), c.rmsNormEps);
  let mlp: Tensor;
  if (fused) {
    const gu = h2.matmul(param(p, f.gateUp)); // [B, T, 2F]
    mlp = gu.slice(-1, 0, F).silu().mul(gu.slice(-1, F)).matmul(param(p, f.down));
  } else mlp = proj(proj(h2, n.gate).silu().mul(proj(h2, n.up)), n.down);
  return x2.add(mlp); // [B, T, D] (or [B, D])
}

export interface SequenceBatch {
  /** int64 [B, T] */
  ids: Tensor;
  /** int64 [B, T]: RoPE positions, < ropeTableLength (see positionIdsFromMask) */
  positions: Tensor;
  /** float32 [B, T]: 1 for real tokens, 0 for padding */
  attentionMask: Tensor;
  /** rows of the RoPE table (default T: positions from positionIdsFromMask are < T) */
  ropeTableLength?: number;
}

/** Final-norm hidden states [B, T, D] of a padded batch (causal attention, padding masked); `lora` adapts projections. */
export function llamaHidden(c: LlamaConfig, p: LlamaParams, batch: SequenceBatch, lora?: LoraGraph): Tensor {
  const { ids, positions, attentionMask } = batch;
  const g = ids.graph;
  checkShape('ids', ids, [null, null], 'int64');
  const [B, T] = ids.shape;
  checkShape('positions', positions, [B, T], 'int64');
  checkShape('attentionMask', attentionMask, [B, T], 'float32');
  const rope = ropeAt(g, c, positions, batch.ropeTableLength ?? T);
  // bias [B, 1, 1, T, T]: 0 where key j ≤ query i and key j is real, else MASKED
  const causal = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) causal[i * T + j] = MASKED;
  const keyPad = attentionMask.sub(1).mul(-MASKED).reshape([B, 1, 1, 1, T]); // 0 real, MASKED pad
  const bias = keyPad.add(g.constant(causal, [1, 1, 1, T, T])); // [B, 1, 1, T, T]
  const attend = (q: Tensor, k: Tensor, v: Tensor): Tensor => {
    const scores = q.matmul(k.unsqueeze(2).transpose([0, 1, 2, 4, 3])).add(bias); // [B, KV, G, T, T]
    return scores.softmax(-1).matmul(v.unsqueeze(2)); // [B, KV, G, T, hd]
  };
  let x = param(p, EMBED).gather(ids); // [B, T, D]
  for (let l = 0; l < c.numLayers; l++) x = decoderLayer(c, p, l, x, rope, attend, lora);
  return rmsNorm(x, param(p, FINAL_NORM), c.rmsNormEps);
}

/** LM head: hidden [..., D] → logits [..., V] (either layout). */
export function lmLogits(c: LlamaConfig, p: LlamaParams, hidden: Tensor): Tensor {
  if (p.has(FUSED_HEAD)) return hidden.matmul(param(p, FUSED_HEAD));
  return linear(hidden, param(p, c.tieWordEmbeddings ? EMBED : LM_HEAD));
}

/** log p(targets) per position: logits [B, T, V], targets int64 [B, T] → [B, T] (= −cross-entropy). */
export function tokenLogProbs(logits: Tensor, targets: Tensor): Tensor {
  // the fused cross-entropy (logsumexp − logit[target]) is cheaper to differentiate than logSoftmax + gather
  return softmaxCrossEntropy(logits, targets).neg();
}

/** Hidden state at each row's last real token: hidden [B, T, D], lastIndex int64 [B] → [B, D]. */
export function lastTokenHidden(hidden: Tensor, lastIndex: Tensor): Tensor {
  const [B, , D] = hidden.shape;
  checkShape('lastIndex', lastIndex, [B], 'int64');
  const idx = lastIndex.reshape([B, 1, 1]).expand([B, 1, D]);
  return hidden.takeAlongAxis(idx, 1).reshape([B, D]);
}

/**
 * Reward heads (SteerLM regression / Bradley-Terry): scalar(s) from the final hidden state of each
 * row's last real token. hiddenLast [B, D], weight [N, D], optional bias [N] → [B, N].
 */
export function rewardHead(hiddenLast: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkShape('hiddenLast', hiddenLast, [null, null], 'float32');
  const D = hiddenLast.shape[1];
  checkShape('reward head weight', weight, [null, D], 'float32');
  if (bias) checkShape('reward head bias', bias, [weight.shape[0]], 'float32');
  const r = linear(hiddenLast, weight);
  return bias ? r.add(bias) : r;
}

// ---- host-side batch helpers -------------------------------------------------------------------

export interface PaddedBatch {
  B: number;
  T: number;
  /** [B, T] */
  ids: BigInt64Array;
  /** [B, T]: HF position ids (cumsum(mask) − 1; 0 at padding) */
  positions: BigInt64Array;
  /** [B, T]: 1 real, 0 padding */
  mask: Float32Array;
  /** [B]: index of each row's last real token */
  lastIndex: BigInt64Array;
  /** [B]: number of padding tokens before each row's first real token (left padding) */
  padBefore: number[];
}

/** Pad token sequences to one length T (default the longest), on the left or the right. */
export function padBatch(seqs: readonly (readonly number[])[], opts: { side: 'left' | 'right'; padId?: number; length?: number }): PaddedBatch {
  const B = seqs.length;
  const T = opts.length ?? Math.max(1, ...seqs.map((s) => s.length));
  const padId = opts.padId ?? 0;
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const mask = new Float32Array(B * T);
  const padBefore: number[] = [];
  seqs.forEach((s, b) => {
    if (s.length === 0 || s.length > T) {
      throw new UserError({ what: `sequence ${b} has ${s.length} tokens`, where: `padBatch(seqs[${b}])`, expected: `1 to ${T} tokens`, fix: 'drop empty sequences; truncate long ones or raise the length' });
    }
    const off = opts.side === 'left' ? T - s.length : 0;
    padBefore.push(off);
    s.forEach((t, i) => {
      ids[b * T + off + i] = BigInt(t);
      mask[b * T + off + i] = 1;
    });
  });
  return { B, T, ids, mask, positions: positionIdsFromMask(mask, B, T), lastIndex: lastRealIndex(mask, B, T), padBefore };
}

/** HF's position ids: cumsum(mask) − 1 along T, and 0 (any valid row of the table) at padding. */
export function positionIdsFromMask(mask: Float32Array, B: number, T: number): BigInt64Array {
  const out = new BigInt64Array(B * T);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (mask[b * T + t] > 0) out[b * T + t] = BigInt(n++);
    }
  }
  return out;
}

/** Index of each row's last real token ([B]); a row without one gets 0. */
export function lastRealIndex(mask: Float32Array, B: number, T: number): BigInt64Array {
  const out = new BigInt64Array(B);
  for (let b = 0; b < B; b++) for (let t = T - 1; t >= 0; t--) if (mask[b * T + t] > 0) { out[b] = BigInt(t); break; }
  return out;
}

/** Weights as feeds for llamaInputs (prefix must match). */
export function llamaFeeds(c: LlamaConfig, w: LlamaWeights, prefix = ''): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name] of expectedWeightShapes(c)) out[prefix + name] = w.get(name)!.data;
  return out;
}
