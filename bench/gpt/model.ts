// The reference GPT (the engine benchmark's model) written against steer's graph API, the same computation as
// ../shared/bench/gpt_torch_peer.py: learned positions, RMSNorm (eps 1e-5, gain only), causal
// attention, GELU(tanh) MLP, untied LM head, mean cross-entropy. Weights use the x·W layout of
// make_gpt_init.py: wte [V,D], wpe [T,D], h{l}.wqkv [D,3D] (q heads | k heads | v heads),
// h{l}.wo [D,D], h{l}.w1 [D,F], h{l}.w2 [F,D], h{l}.ln1/ln2 [D], lnf [D], lm_head [D,V].
import { Graph, type Tensor, crossEntropy, mT } from '../../src/graph/index.js';

export interface GptConfig {
  V: number; D: number; L: number; H: number; F: number; T: number; B: number;
}

export const REFERENCE_GPT: GptConfig = { V: 8192, D: 256, L: 4, H: 4, F: 1024, T: 128, B: 8 };

export function paramShapes(c: GptConfig): [string, number[]][] {
  const out: [string, number[]][] = [['wte', [c.V, c.D]], ['wpe', [c.T, c.D]]];
  for (let l = 0; l < c.L; l++) {
    out.push([`h${l}.ln1`, [c.D]], [`h${l}.wqkv`, [c.D, 3 * c.D]], [`h${l}.wo`, [c.D, c.D]], [`h${l}.ln2`, [c.D]], [`h${l}.w1`, [c.D, c.F]], [`h${l}.w2`, [c.F, c.D]]);
  }
  out.push(['lnf', [c.D]], ['lm_head', [c.D, c.V]]);
  return out;
}

/** RMSNorm: x · rsqrt(mean(x², −1) + 1e-5) · g. x [N, D], g [D]. */
function rmsNorm(x: Tensor, gain: Tensor): Tensor {
  return x.mul(x.square().mean(-1, true).add(1e-5).rsqrt()).mul(gain);
}

export interface GptGraph {
  graph: Graph;
  params: Tensor[];
  ids: Tensor;
  targets: Tensor;
  loss: Tensor;
}

/** Trace the loss of one batch: ids, targets [B·T] int32 → mean cross-entropy []. */
export function buildGpt(c: GptConfig): GptGraph {
  const g = new Graph();
  const P = new Map<string, Tensor>();
  for (const [name, shape] of paramShapes(c)) P.set(name, g.input(name, shape));
  const p = (n: string): Tensor => P.get(n)!;
  const { B, T, D, H } = c;
  const dh = D / H;
  const ids = g.input('ids', [B * T], 'int32');
  const targets = g.input('targets', [B * T], 'int32');
  // Additive causal mask [T, T]: 0 where key j ≤ query i, −1e9 above the diagonal (= masked_fill).
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -1e9;
  const mask = g.constant(maskData, [T, T]);
  let x = p('wte').gather(ids).reshape([B, T, D]).add(p('wpe')).reshape([B * T, D]); // [BT, D]
  const heads = (t: Tensor, perm: number[]): Tensor => t.reshape([B, T, H, dh]).transpose(perm); // [B, H, T, dh]
  for (let l = 0; l < c.L; l++) {
    const qkv = rmsNorm(x, p(`h${l}.ln1`)).matmul(p(`h${l}.wqkv`)); // [BT, 3D]
    const [q, k, v] = qkv.split(1, D);
    const qh = heads(q.mul(1 / Math.sqrt(dh)), [0, 2, 1, 3]); // [B, H, T, dh], scaled by 1/√dh
    const kh = heads(k, [0, 2, 1, 3]); // [B, H, T, dh]
    const vh = heads(v, [0, 2, 1, 3]); // [B, H, T, dh]
    const att = qh.matmul(mT(kh)).add(mask).softmax(-1); // [B, H, T, T]; kᵀ is fused into the matmul
    const o = att.matmul(vh).transpose([0, 2, 1, 3]).reshape([B * T, D]); // [BT, D]
    x = x.add(o.matmul(p(`h${l}.wo`)));
    x = x.add(rmsNorm(x, p(`h${l}.ln2`)).matmul(p(`h${l}.w1`)).gelu().matmul(p(`h${l}.w2`)));
  }
  const logits = rmsNorm(x, p('lnf')).matmul(p('lm_head')); // [BT, V]
  const loss = crossEntropy(logits, targets); // []
  return { graph: g, params: [...P.values()], ids, targets, loss };
}
