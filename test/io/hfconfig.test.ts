import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseHfLlamaConfig, readHfLlamaConfig, toHfLlamaConfig } from '../../src/io/hfconfig.js';
import { isUserError } from '../../src/util/errors.js';

const tinyConfig = fileURLToPath(new URL('../fixtures/tiny-llama3/config.json', import.meta.url));

/** SmolLM2-135M's config.json fields that matter (values from its model card's config). */
const smollm2 = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  rope_scaling: null,
  max_position_embeddings: 8192,
  tie_word_embeddings: true,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  torch_dtype: 'bfloat16',
  transformers_version: '4.42.3',
};

test('SmolLM2-style config: GQA, tied head, head_dim derived (576 / 9 = 64), unknown keys ignored', () => {
  const c = parseHfLlamaConfig(smollm2, 'config.json');
  assert.deepEqual(c, {
    vocabSize: 49152,
    hiddenSize: 576,
    intermediateSize: 1536,
    numLayers: 30,
    numHeads: 9,
    numKvHeads: 3,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 100000,
    ropeScaling: null,
    maxPositionEmbeddings: 8192,
    tieWordEmbeddings: true,
    bosTokenId: 0,
    eosTokenIds: [0],
  });
});

test('defaults as transformers LlamaConfig: kv heads = heads, eps 1e-6, theta 1e4, untied', () => {
  const c = parseHfLlamaConfig({ vocab_size: 32, hidden_size: 16, intermediate_size: 40, num_hidden_layers: 1, num_attention_heads: 4 }, 'x');
  assert.equal(c.numKvHeads, 4);
  assert.equal(c.headDim, 4);
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.maxPositionEmbeddings, 2048);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.bosTokenId, null);
  assert.deepEqual(c.eosTokenIds, []);
});

test('Llama 3.1 rope_scaling and an eos list; toHfLlamaConfig round-trips', () => {
  const c = readHfLlamaConfig(tinyConfig);
  assert.deepEqual(c.ropeScaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 });
  assert.equal(c.headDim, 16); // explicit head_dim (hidden 32 / 4 heads would be 8)
  const llama31 = { ...smollm2, rope_scaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 }, eos_token_id: [128001, 128008, 128009], vocab_size: 128256, bos_token_id: 128000 };
  const d = parseHfLlamaConfig(llama31, 'config.json');
  assert.deepEqual(d.eosTokenIds, [128001, 128008, 128009]);
  assert.deepEqual(parseHfLlamaConfig(toHfLlamaConfig(d), 'roundtrip'), d);
  assert.deepEqual(parseHfLlamaConfig(toHfLlamaConfig(c), 'roundtrip'), c);
  assert.equal(parseHfLlamaConfig({ ...smollm2, rope_scaling: { rope_type: 'default' } }, 'x').ropeScaling, null);
});

test('transformers 5 rope_parameters (rope_theta and the scaling in one object) read like the older fields', () => {
  // what transformers 5.23 writes for a Llama 3.1 config (LlamaConfig(...).to_json_string())
  const { rope_theta: _t, rope_scaling: _s, ...rest } = smollm2 as Record<string, unknown>;
  const v5 = { ...rest, rope_parameters: { rope_type: 'llama3', rope_theta: 500000.0, factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 } };
  const c = parseHfLlamaConfig(v5, 'config.json');
  assert.equal(c.ropeTheta, 500000);
  assert.deepEqual(c.ropeScaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  const plain = parseHfLlamaConfig({ ...rest, rope_parameters: { rope_type: 'default', rope_theta: 100000.0 } }, 'config.json');
  assert.equal(plain.ropeTheta, 100000);
  assert.equal(plain.ropeScaling, null);
  assert.throws(() => parseHfLlamaConfig({ ...rest, rope_parameters: { rope_type: 'yarn', rope_theta: 1e4, factor: 4 } }, 'c.json'), (e: unknown) => isUserError(e) && /rope_parameters\.rope_type[\s\S]*"yarn"/.test(e.message));
});

test('config errors name the file, the field, what was received, and the fix', () => {
  const expectErr = (json: unknown, re: RegExp) =>
    assert.throws(() => parseHfLlamaConfig(json, 'model/config.json'), (e: unknown) => isUserError(e) && re.test(e.message) && /model\/config\.json/.test(e.message) && /fix:/.test(e.message), re.source);
  const { hidden_size: _, ...noHidden } = smollm2;
  expectErr(noHidden, /hidden_size: .*received undefined/);
  expectErr({ ...smollm2, num_attention_heads: 2.5 }, /num_attention_heads: .*received 2\.5/);
  expectErr({ ...smollm2, model_type: 'qwen2' }, /model_type[\s\S]*received: "qwen2"/);
  expectErr({ ...smollm2, attention_bias: true }, /attention_bias/);
  expectErr({ ...smollm2, mlp_bias: true }, /mlp_bias/);
  expectErr({ ...smollm2, hidden_act: 'gelu' }, /hidden_act[\s\S]*"gelu"/);
  expectErr({ ...smollm2, rope_scaling: { type: 'yarn', factor: 4 } }, /rope_scaling\.rope_type[\s\S]*"yarn"/);
  expectErr({ ...smollm2, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling[\s\S]*low_freq_factor/);
  expectErr({ ...smollm2, num_key_value_heads: 2 }, /numKvHeads[\s\S]*a divisor of num_attention_heads \(9\)[\s\S]*received: 2/);
  expectErr({ ...smollm2, eos_token_id: 49152 }, /bos\/eos token id[\s\S]*\[0, 49152\)/);
  expectErr([1, 2], /\(root\)/);
  expectErr({ ...smollm2, model_type: 'mistral', sliding_window: 4096 }, /sliding_window[\s\S]*null \(full attention\)/);
  assert.equal(parseHfLlamaConfig({ ...smollm2, model_type: 'mistral', sliding_window: null }, 'x').numLayers, 30);
  const dir = mkdtempSync(join(tmpdir(), 'steer-cfg-'));
  try {
    writeFileSync(join(dir, 'config.json'), '{"vocab_size": 3,');
    assert.throws(() => readHfLlamaConfig(join(dir, 'config.json')), (e: unknown) => isUserError(e) && /config\.json is not valid JSON/.test(e.message) && e.message.includes(join(dir, 'config.json')) && /fix:/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => readHfLlamaConfig('/nonexistent/config.json'), (e: unknown) => isUserError(e) && /cannot read the model config/.test(e.message) && /\/nonexistent\/config\.json/.test(e.message));
});
