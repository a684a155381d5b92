// The Llama-family architecture as steer sees it: one typed config (camelCase), independent of
// any file format. src/io/hfconfig.ts maps Hugging Face `config.json` onto it and back;
// src/io/llama2c.ts builds it from a llama2.c header.
import { UserError } from '../util/errors.js';

/** Llama 3.1's frequency-dependent RoPE rescaling (HF `rope_scaling.rope_type = "llama3"`). */
export interface RopeScalingLlama3 {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface LlamaConfig {
  /** V */
  vocabSize: number;
  /** D, the residual stream width */
  hiddenSize: number;
  /** F, the SwiGLU hidden width */
  intermediateSize: number;
  numLayers: number;
  /** H, query heads */
  numHeads: number;
  /** KV heads (grouped-query attention: numHeads is a multiple of it) */
  numKvHeads: number;
  /** per-head width (hd); usually hiddenSize / numHeads */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScalingLlama3 | null;
  maxPositionEmbeddings: number;
  /** the LM head reuses the embedding matrix */
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  /** tokens that end a generation (HF `eos_token_id`, a number or a list) */
  eosTokenIds: number[];
}

/** Cross-field checks every model builder relies on; `where` names the file the config came from. */
export function checkLlamaConfig(c: LlamaConfig, where: string): LlamaConfig {
  const bad = (field: string, expected: string, received: unknown, fix: string): never => {
    throw new UserError({ what: `inconsistent model config (${field})`, where, expected, received: String(received), fix });
  };
  for (const k of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'maxPositionEmbeddings'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad(k, 'a positive integer', c[k], `set ${k} to a positive integer`);
  }
  if (c.numHeads % c.numKvHeads !== 0) {
    bad('numKvHeads', `a divisor of num_attention_heads (${c.numHeads})`, c.numKvHeads, 'set num_key_value_heads so that num_attention_heads / num_key_value_heads is an integer');
  }
  if (c.headDim % 2 !== 0) bad('headDim', 'an even number (RoPE rotates pairs)', c.headDim, 'use an even head_dim');
  if (!(c.rmsNormEps > 0)) bad('rmsNormEps', 'a positive number', c.rmsNormEps, 'set rms_norm_eps, e.g. 1e-5');
  if (!(c.ropeTheta > 0)) bad('ropeTheta', 'a positive number', c.ropeTheta, 'set rope_theta, e.g. 10000');
  for (const id of [...c.eosTokenIds, ...(c.bosTokenId === null ? [] : [c.bosTokenId])]) {
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) bad('bos/eos token id', `an id in [0, ${c.vocabSize})`, id, 'fix bos_token_id / eos_token_id');
  }
  return c;
}

/** Number of parameters (tied head counted once). */
export function parameterCount(c: LlamaConfig): number {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const perLayer = 2 * d + d * q + 2 * d * kv + q * d + 3 * d * c.intermediateSize;
  return c.vocabSize * d * (c.tieWordEmbeddings ? 1 : 2) + c.numLayers * perLayer + d;
}
