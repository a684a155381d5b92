// Llama weights on the host: float32 arrays under Hugging Face names (the names every HF Llama
// checkpoint uses, so a steer checkpoint is an HF checkpoint). Layouts are PyTorch nn.Linear's:
// a projection from d_in to d_out is stored [d_out, d_in] and applied as y = x Wᵀ.
import { UserError } from '../util/errors.js';
import type { LlamaConfig } from './config.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export type LlamaWeights = Map<string, HostTensor>;

export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

/** HF names of layer `i`'s weights. */
export function layerNames(i: number) {
  const p = `model.layers.${i}.`;
  return {
    attnNorm: `${p}input_layernorm.weight`,
    q: `${p}self_attn.q_proj.weight`,
    k: `${p}self_attn.k_proj.weight`,
    v: `${p}self_attn.v_proj.weight`,
    o: `${p}self_attn.o_proj.weight`,
    mlpNorm: `${p}post_attention_layernorm.weight`,
    gate: `${p}mlp.gate_proj.weight`,
    up: `${p}mlp.up_proj.weight`,
    down: `${p}mlp.down_proj.weight`,
  };
}

/** Every weight the config needs, with its shape, in a fixed order (embedding, layers, norm, head). */
export function expectedWeightShapes(c: LlamaConfig): [string, number[]][] {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const f = c.intermediateSize;
  const out: [string, number[]][] = [[EMBED, [c.vocabSize, d]]];
  for (let i = 0; i < c.numLayers; i++) {
    const n = layerNames(i);
    out.push(
      [n.attnNorm, [d]],
      [n.q, [q, d]],
      [n.k, [kv, d]],
      [n.v, [kv, d]],
      [n.o, [d, q]],
      [n.mlpNorm, [d]],
      [n.gate, [f, d]],
      [n.up, [f, d]],
      [n.down, [d, f]],
    );
  }
  out.push([FINAL_NORM, [d]]);
  if (!c.tieWordEmbeddings) out.push([LM_HEAD, [c.vocabSize, d]]);
  return out;
}

/**
 * Check that `weights` holds exactly what `c` needs (a tied model may carry a redundant
 * lm_head.weight, as some HF exports do; it is dropped). `where` names the source file.
 * withoutLmHead: the trunk only (a sequence-classification model has no LM head; one present is dropped).
 */
export function checkLlamaWeights(c: LlamaConfig, weights: LlamaWeights, where: string, opts: { withoutLmHead?: boolean } = {}): LlamaWeights {
  const expected = expectedWeightShapes(c).filter(([n]) => !(opts.withoutLmHead && n === LM_HEAD));
  if (opts.withoutLmHead) weights.delete(LM_HEAD);
  for (const [name, shape] of expected) {
    const t = weights.get(name);
    if (t === undefined) {
      throw new UserError({
        what: `weight ${name} is missing`,
        where,
        expected: `a tensor ${name} of shape [${shape.join(', ')}]`,
        received: `${weights.size} tensors, e.g. ${[...weights.keys()].slice(0, 3).join(', ')}`,
        fix: 'use a checkpoint saved for this config.json (Hugging Face Llama names), or fix the config',
      });
    }
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new UserError({
        what: `weight ${name} has the wrong shape`,
        where,
        expected: `[${shape.join(', ')}] (from config.json)`,
        received: `[${t.shape.join(', ')}]`,
        fix: 'the weights and config.json disagree: use the config.json saved with these weights',
      });
    }
  }
  if (c.tieWordEmbeddings) weights.delete(LM_HEAD);
  const known = new Set(expected.map(([n]) => n));
  const extra = [...weights.keys()].filter((n) => !known.has(n) && !n.endsWith('rotary_emb.inv_freq'));
  if (extra.length > 0) {
    throw new UserError({
      what: `unexpected weight${extra.length > 1 ? 's' : ''} ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}`,
      where,
      expected: 'only the Llama weights of the config (no biases, no extra heads)',
      received: `${extra.length} extra tensor(s)`,
      fix: 'steer runs Llama-family models without biases; convert or strip the checkpoint first',
    });
  }
  return weights;
}

/** The LM head matrix [V, D]: lm_head.weight, or the embedding when tied. */
export function lmHead(c: LlamaConfig, w: LlamaWeights): HostTensor {
  return w.get(c.tieWordEmbeddings ? EMBED : LM_HEAD)!;
}
