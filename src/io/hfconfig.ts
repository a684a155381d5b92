// Hugging Face Llama `config.json` ⇄ steer's LlamaConfig. Field meanings and defaults follow
// transformers' LlamaConfig (configuration_llama.py): head_dim defaults to hidden_size /
// num_attention_heads, num_key_value_heads to num_attention_heads, rope_scaling of rope_type
// "llama3" carries factor, low_freq_factor, high_freq_factor, original_max_position_embeddings.
// transformers ≥ 5 writes both as one `rope_parameters` object ({rope_type, rope_theta, factor, …});
// it is read the same way (and wins over the older top-level fields).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError, describeValue } from '../util/errors.js';
import { checkLlamaConfig, type LlamaConfig } from '../nn/config.js';

const positiveInt = z.number().int().positive();
const tokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();

const ropeScalingSchema = z
  .looseObject({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: positiveInt.optional(),
    rope_theta: z.number().positive().optional(),
  })
  .nullish();

/** The fields steer reads; other keys (torch_dtype, transformers_version, …) are allowed and ignored. */
const hfLlamaSchema = z.looseObject({
  model_type: z.string().optional(),
  architectures: z.array(z.string()).optional(),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.nullish(),
  head_dim: positiveInt.nullish(),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: ropeScalingSchema,
  rope_parameters: ropeScalingSchema,
  max_position_embeddings: positiveInt.default(2048),
  tie_word_embeddings: z.boolean().default(false),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  hidden_act: z.string().default('silu'),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
});

/** Parse a config.json object. `where` names the file for error messages. */
export function parseHfLlamaConfig(json: unknown, where: string): LlamaConfig {
  const r = hfLlamaSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const path = i.path.join('.') || '(root)';
      const got = i.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), json);
      return `${path}: ${i.message} (received ${describeValue(got)})`;
    });
    throw new UserError({
      what: `not a usable Llama config.json\n  ${lines.join('\n  ')}`,
      where,
      fix: 'use the config.json saved with the model (transformers LlamaConfig fields)',
    });
  }
  const h = r.data;
  const unsupported = (field: string, expected: string, received: unknown, fix: string): never => {
    throw new UserError({ what: `unsupported model: ${field}`, where: `${where}: ${field}`, expected, received: describeValue(received), fix });
  };
  const family = ['llama', 'mistral', 'smollm', 'smollm2'];
  if (h.model_type !== undefined && !family.includes(h.model_type)) {
    unsupported('model_type', `one of ${family.join(', ')} (Llama-family without biases)`, h.model_type, 'convert the model to the Llama architecture, or use a Llama-family checkpoint');
  }
  if (h.model_type === 'mistral' && (h as Record<string, unknown>).sliding_window != null) {
    unsupported('sliding_window', 'null (full attention)', (h as Record<string, unknown>).sliding_window, 'steer implements full causal attention only');
  }
  if (h.hidden_act !== 'silu') unsupported('hidden_act', '"silu" (SwiGLU)', h.hidden_act, 'steer implements SwiGLU MLPs only');
  if (h.attention_bias) unsupported('attention_bias', 'false', true, 'steer implements bias-free attention only');
  if (h.mlp_bias) unsupported('mlp_bias', 'false', true, 'steer implements bias-free MLPs only');

  let ropeScaling: LlamaConfig['ropeScaling'] = null;
  const rope = h.rope_parameters ?? h.rope_scaling;
  const ropeField = h.rope_parameters ? 'rope_parameters' : 'rope_scaling';
  if (rope) {
    const kind = rope.rope_type ?? rope.type;
    if (kind === 'default') ropeScaling = null;
    else if (kind === 'llama3') {
      const s = rope;
      if (s.factor === undefined || s.low_freq_factor === undefined || s.high_freq_factor === undefined || s.original_max_position_embeddings === undefined) {
        unsupported(ropeField, 'llama3 scaling with factor, low_freq_factor, high_freq_factor, original_max_position_embeddings', s, 'add the missing fields (see the model card)');
      }
      if (s.high_freq_factor! <= s.low_freq_factor!) {
        unsupported(`${ropeField}.high_freq_factor`, `greater than low_freq_factor (${s.low_freq_factor})`, s.high_freq_factor, 'fix rope_scaling');
      }
      ropeScaling = {
        type: 'llama3',
        factor: s.factor!,
        lowFreqFactor: s.low_freq_factor!,
        highFreqFactor: s.high_freq_factor!,
        originalMaxPositionEmbeddings: s.original_max_position_embeddings!,
      };
    } else {
      unsupported(`${ropeField}.rope_type`, '"llama3" or "default" (or none)', kind, 'steer implements the llama3 RoPE scaling only');
    }
  }
  const ids = (v: number | number[] | null | undefined): number[] => (v === null || v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const bos = ids(h.bos_token_id);
  const cfg: LlamaConfig = {
    vocabSize: h.vocab_size,
    hiddenSize: h.hidden_size,
    intermediateSize: h.intermediate_size,
    numLayers: h.num_hidden_layers,
    numHeads: h.num_attention_heads,
    numKvHeads: h.num_key_value_heads ?? h.num_attention_heads,
    headDim: h.head_dim ?? Math.floor(h.hidden_size / h.num_attention_heads),
    rmsNormEps: h.rms_norm_eps,
    ropeTheta: h.rope_parameters?.rope_theta ?? h.rope_theta,
    ropeScaling,
    maxPositionEmbeddings: h.max_position_embeddings,
    tieWordEmbeddings: h.tie_word_embeddings,
    bosTokenId: bos.length ? bos[0] : null,
    eosTokenIds: ids(h.eos_token_id),
  };
  return checkLlamaConfig(cfg, where);
}

/** Read and parse `config.json`. */
export function readHfLlamaConfig(path: string): LlamaConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError({ what: `cannot read the model config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, where: path, fix: 'check the path: a model directory holds config.json beside model.safetensors' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError({ what: `config.json is not valid JSON (${(e as Error).message})`, where: path, fix: 'repair or re-download config.json' });
  }
  return parseHfLlamaConfig(json, path);
}

/** LlamaConfig → an HF config.json object that transformers' LlamaForCausalLM loads. */
export function toHfLlamaConfig(c: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling
      ? {
          rope_type: 'llama3',
          factor: c.ropeScaling.factor,
          low_freq_factor: c.ropeScaling.lowFreqFactor,
          high_freq_factor: c.ropeScaling.highFreqFactor,
          original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings,
        }
      : null,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    torch_dtype: 'float32',
  };
}
