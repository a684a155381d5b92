// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", §4.1), as PEFT
// implements it (peft/tuners/lora/layer.py, Linear.forward; PEFT 0.21.2):
//   y = x Wᵀ + s · dropout(x) Aᵀ Bᵀ,   A [r, in], B [out, r], s = lora_alpha / r
// A starts as nn.Linear's default (kaiming_uniform_(a = √5): U(−1/√in, 1/√in)), B at zero, so a fresh
// adapter leaves the model unchanged. Merged: W' = W + s · B A.
// Names: steer keeps adapters under the base weight's module name, `model.layers.N.self_attn.q_proj`
// + `.lora_A.weight` / `.lora_B.weight`; PEFT's files prefix `base_model.model.` (src/io/peft.ts).
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { Tensor } from '../graph/index.js';
import type { LlamaConfig } from './config.js';
import { layerNames, type HostTensor, type LlamaWeights } from './weights.js';

/** The projections LoRA can adapt (PEFT target_modules names). */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraConfig {
  /** r */
  rank: number;
  /** lora_alpha; the update is scaled by alpha / rank */
  alpha: number;
  /** lora_dropout on the adapter's input (PEFT); 0 = none */
  dropout: number;
  targets: LoraTarget[];
}

export function checkLoraConfig(l: LoraConfig, where: string): LoraConfig {
  const bad = (field: string, expected: string, received: unknown, fix: string): never => {
    throw new UserError({ what: `invalid LoRA ${field}`, where, expected, received: JSON.stringify(received), fix });
  };
  if (!Number.isInteger(l.rank) || l.rank <= 0) bad('rank', 'a positive integer', l.rank, 'e.g. --lora-rank 16');
  if (!(l.alpha > 0)) bad('alpha', 'a positive number', l.alpha, 'e.g. --lora-alpha 32 (twice the rank is common)');
  if (!(l.dropout >= 0 && l.dropout < 1)) bad('dropout', 'a number in [0, 1)', l.dropout, 'e.g. --lora-dropout 0.05');
  if (l.targets.length === 0) bad('targets', `some of ${LORA_TARGETS.join(', ')}`, l.targets, 'e.g. --lora-targets q_proj,k_proj,v_proj,o_proj');
  for (const t of l.targets) if (!(LORA_TARGETS as readonly string[]).includes(t)) bad('target', `one of ${LORA_TARGETS.join(', ')}`, t, 'name Llama projections as PEFT does');
  return l;
}

export function loraScale(l: Pick<LoraConfig, 'rank' | 'alpha'>): number {
  return l.alpha / l.rank;
}

/** Module name (the base weight's name without `.weight`) of target `t` in layer `i`. */
export function loraModule(i: number, t: LoraTarget): string {
  const n = layerNames(i);
  const w = { q_proj: n.q, k_proj: n.k, v_proj: n.v, o_proj: n.o, gate_proj: n.gate, up_proj: n.up, down_proj: n.down }[t];
  return w.slice(0, -'.weight'.length);
}

/** Every adapter tensor with its shape: `<module>.lora_A.weight` [r, in], `<module>.lora_B.weight` [out, r]. */
export function loraWeightShapes(c: LlamaConfig, l: LoraConfig): [string, number[]][] {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const f = c.intermediateSize;
  const dims: Record<LoraTarget, [number, number]> = { q_proj: [d, q], k_proj: [d, kv], v_proj: [d, kv], o_proj: [q, d], gate_proj: [d, f], up_proj: [d, f], down_proj: [f, d] };
  const out: [string, number[]][] = [];
  for (let i = 0; i < c.numLayers; i++) {
    for (const t of LORA_TARGETS) {
      if (!l.targets.includes(t)) continue;
      const [din, dout] = dims[t];
      out.push([`${loraModule(i, t)}.lora_A.weight`, [l.rank, din]], [`${loraModule(i, t)}.lora_B.weight`, [dout, l.rank]]);
    }
  }
  return out;
}

/** A fresh adapter: A ~ U(−1/√in, 1/√in) (PEFT's kaiming_uniform_(a = √5)), B = 0. */
export function initLora(c: LlamaConfig, l: LoraConfig, rng: Rng): LlamaWeights {
  const out: LlamaWeights = new Map();
  for (const [name, shape] of loraWeightShapes(c, l)) {
    const data = new Float32Array(shape[0] * shape[1]);
    if (name.endsWith('lora_A.weight')) {
      const bound = 1 / Math.sqrt(shape[1]);
      for (let i = 0; i < data.length; i++) data[i] = (2 * rng.float() - 1) * bound;
    }
    out.set(name, { shape, data });
  }
  return out;
}

/** Check an adapter against the config (every tensor present with its shape, nothing else); `where` names the source. */
export function checkLoraWeights(c: LlamaConfig, l: LoraConfig, w: LlamaWeights, where: string): LlamaWeights {
  const expected = loraWeightShapes(c, l);
  for (const [name, shape] of expected) {
    const t = w.get(name);
    if (!t) throw new UserError({ what: `adapter tensor ${name} is missing`, where, expected: `[${shape.join(', ')}]`, received: `${w.size} tensors`, fix: 'the adapter_config.json and the weights disagree: use the files saved together' });
    if (t.shape.join() !== shape.join()) {
      throw new UserError({ what: `adapter tensor ${name} does not fit the base model`, where, expected: `[${shape.join(', ')}] (rank ${l.rank}, base config.json)`, received: `[${t.shape.join(', ')}]`, fix: 'this adapter was trained for another base model: pass the base it was made from' });
    }
  }
  const known = new Set(expected.map(([n]) => n));
  const extra = [...w.keys()].filter((n) => !known.has(n));
  if (extra.length > 0) throw new UserError({ what: `unexpected adapter tensor ${extra[0]}`, where, expected: `LoRA A/B of ${l.targets.join(', ')} in ${c.numLayers} layers`, received: `${extra.length} more tensor(s)`, fix: 'this adapter was made for another base model or with other target_modules' });
  return w;
}

/** W' = W + s · B A for every adapted projection (a new weight map; the base is not modified). */
export function mergeLora(c: LlamaConfig, base: LlamaWeights, l: LoraConfig, adapter: LlamaWeights): LlamaWeights {
  const out: LlamaWeights = new Map(base);
  const s = loraScale(l);
  for (let i = 0; i < c.numLayers; i++) {
    for (const t of l.targets) {
      const m = loraModule(i, t);
      const W = base.get(`${m}.weight`)!;
      const A = adapter.get(`${m}.lora_A.weight`)!;
      const B = adapter.get(`${m}.lora_B.weight`)!;
      const [dout, din] = W.shape;
      const r = l.rank;
      const merged = new Float32Array(W.data);
      // float64 accumulation of (B A)[o, k] = Σ_j B[o, j] A[j, k]
      const row = new Float64Array(din);
      for (let o = 0; o < dout; o++) {
        row.fill(0);
        for (let j = 0; j < r; j++) {
          const b = B.data[o * r + j];
          if (b === 0) continue;
          for (let k = 0; k < din; k++) row[k] += b * A.data[j * din + k];
        }
        for (let k = 0; k < din; k++) merged[o * din + k] = W.data[o * din + k] + s * row[k];
      }
      out.set(`${m}.weight`, { shape: [...W.shape], data: merged } as HostTensor);
    }
  }
  return out;
}

/** The adapter inside a graph: A/B tensors by module name and the scale. */
export interface LoraGraph {
  scale: number;
  /** `<module>.lora_A.weight` / `.lora_B.weight` → tensor */
  params: ReadonlyMap<string, Tensor>;
  /** Training graphs with lora_dropout > 0: the adapter inputs are multiplied by fed masks. */
  dropout?: LoraDropout;
}

/**
 * lora_dropout in a training graph. The engine has no random op, so each adapted module's input
 * x [..., in] is multiplied by a mask fed per run, `lora_dropout/<module>` of x's shape, whose
 * entries are 0 (dropped, probability p) or 1 / (1 − p) (kept) — torch.nn.Dropout's inverted
 * dropout, drawn independently per module as PEFT's one nn.Dropout per adapted layer does.
 * The masks are graph inputs created as the model is traced; `feeds` draws them.
 */
export class LoraDropout {
  private readonly made = new Map<string, Tensor>();

  constructor(readonly p: number) {
    if (!(p > 0 && p < 1)) throw new RangeError(`LoraDropout: p must be in (0, 1), got ${p}`);
  }

  /** The mask input for `module` (created on first use with x's shape). */
  mask(module: string, x: Tensor): Tensor {
    let m = this.made.get(module);
    if (!m) {
      m = x.graph.input(`lora_dropout/${module}`, x.shape, x.dtype);
      this.made.set(module, m);
    }
    return m;
  }

  /** The mask inputs the traced graph reads (list them with the batch inputs). */
  inputs(): Tensor[] {
    return [...this.made.values()];
  }

  /** One draw of every mask: each entry independently 0 with probability p, else 1 / (1 − p). */
  feeds(rng: Rng): Record<string, Float32Array> {
    return loraDropoutMasks(this.inputs().map((t) => [t.attrs.name as string, t.size]), this.p, rng);
  }
}

/**
 * Masks for named inputs of `size` elements, drawn in order from `rng`: 0 when a uint32 draw is
 * below p·2³² (probability p to within 2⁻³²), else 1 / (1 − p). One draw per element (a mask holds
 * B·T·in values per adapted module: tens of millions per step for a 135M model).
 */
export function loraDropoutMasks(specs: readonly (readonly [string, number])[], p: number, rng: Rng): Record<string, Float32Array> {
  const keep = 1 / (1 - p);
  const below = Math.round(p * 4294967296);
  const out: Record<string, Float32Array> = {};
  for (const [name, size] of specs) {
    const m = new Float32Array(size);
    for (let i = 0; i < size; i++) m[i] = rng.nextUint32() < below ? 0 : keep;
    out[name] = m;
  }
  return out;
}

/** x [..., in] → s · (dropout(x) Aᵀ) Bᵀ [..., out] when `module` is adapted, else null. */
export function loraDelta(lora: LoraGraph | undefined, module: string, x: Tensor): Tensor | null {
  if (!lora) return null;
  const A = lora.params.get(`${module}.lora_A.weight`);
  const B = lora.params.get(`${module}.lora_B.weight`);
  if (!A || !B) return null;
  const xd = lora.dropout ? x.mul(lora.dropout.mask(module, x)) : x; // [..., in]
  return xd.matmul(A.transpose([1, 0])).matmul(B.transpose([1, 0])).mul(lora.scale);
}
