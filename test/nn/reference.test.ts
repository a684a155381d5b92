// The plain-TypeScript Llama against the outside world: the original C implementation's greedy
// text and an independent PyTorch implementation's logits (fixtures in test/fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sharedFile } from '../helpers/shared.js';
import { assertClose } from '../helpers/close.js';
import { readLlama2c } from '../../src/io/llama2c.js';
import { readHfLlamaConfig } from '../../src/io/hfconfig.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { Llama2cTokenizer } from '../../src/text/llama2c.js';
import { ReferenceLlama, argmax, referenceGreedy, referenceHidden, referenceLogits } from '../../src/nn/reference.js';
import { checkLlamaWeights, lmHead } from '../../src/nn/weights.js';

const fixture = (rel: string) => fileURLToPath(new URL(`../fixtures/${rel}`, import.meta.url));
const f32 = (rel: string) => {
  const b = readFileSync(fixture(rel));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const ids = (rel: string) => (JSON.parse(readFileSync(fixture(rel + '.json'), 'utf8')) as { ids: number[] }).ids;

test('stories260K logits equal the independent PyTorch model to 1e-4', (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const { config, weights } = readLlama2c(p);
  const expected = f32('stories260k/torch_logits.f32');
  assertClose(referenceLogits(config, weights, ids('stories260k/torch_logits.f32')), expected, { atol: 1e-4, rtol: 0, what: 'logits' });
});

test('tiny Llama 3 (GQA, head_dim 16, untied, llama3 RoPE, BF16) logits equal PyTorch to 1e-4', () => {
  const config = readHfLlamaConfig(fixture('tiny-llama3/config.json'));
  const weights = checkLlamaWeights(config, readSafetensors(fixture('tiny-llama3/model.safetensors')).tensors, 'tiny');
  assertClose(referenceLogits(config, weights, ids('tiny-llama3/torch_logits.f32')), f32('tiny-llama3/torch_logits.f32'), { atol: 1e-4, rtol: 0, what: 'logits' });
});

test('stories260K greedy continuation of "Once upon a time" equals run.c (90 and up to 512 positions)', (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tp = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p || !tp) return;
  const { config, weights } = readLlama2c(p);
  const tok = Llama2cTokenizer.read(tp, config.vocabSize);
  const prompt = tok.encode('Once upon a time');
  const out90 = referenceGreedy(config, weights, prompt, 90);
  assert.equal(out90.length, 90);
  const c90 = readFileSync(fixture('stories260k/run_c.once-upon-a-time.n94.txt'), 'utf8');
  assert.equal(tok.decode([...prompt, ...out90]) + '\n', c90);
  // run.c -n 0: up to seq_len positions, stopping at BOS (1)
  const full = referenceGreedy(config, weights, prompt, config.maxPositionEmbeddings - prompt.length);
  assert.equal(full[full.length - 1], 1, 'the story ends with BOS, as run.c stops');
  assert.equal(tok.decode([...prompt, ...full]) + '\n', readFileSync(fixture('stories260k/run_c.once-upon-a-time.full.txt'), 'utf8'));
});

test('hidden states: the LM head applied to referenceHidden gives referenceLogits', () => {
  const config = readHfLlamaConfig(fixture('tiny-llama3/config.json'));
  const weights = checkLlamaWeights(config, readSafetensors(fixture('tiny-llama3/model.safetensors')).tensors, 'tiny');
  const seq = [1, 5, 9, 33];
  const hidden = referenceHidden(config, weights, seq);
  const logits = referenceLogits(config, weights, seq);
  const head = lmHead(config, weights).data;
  const D = config.hiddenSize;
  const V = config.vocabSize;
  const fromHidden = new Float32Array(seq.length * V);
  for (let t = 0; t < seq.length; t++) for (let v = 0; v < V; v++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += head[v * D + d] * hidden[t * D + d];
    fromHidden[t * V + v] = s;
  }
  assertClose(fromHidden, logits, { rtol: 1e-6, atol: 1e-7 });
});

test('reference guards: position past the cache, token outside the vocabulary; argmax ties → lowest', () => {
  const config = readHfLlamaConfig(fixture('tiny-llama3/config.json'));
  const weights = checkLlamaWeights(config, readSafetensors(fixture('tiny-llama3/model.safetensors')).tensors, 'tiny');
  const m = new ReferenceLlama(config, weights, 2);
  m.step(1, 0);
  m.step(2, 1);
  assert.throws(() => m.step(3, 2), /position 2 is past the cache length 2/);
  assert.throws(() => new ReferenceLlama(config, weights, 4).step(64, 0), /token 64 is outside the vocabulary \[0, 64\)/);
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(argmax([NaN, 1]), 0); // NaN never wins a comparison; index 0 stays — callers must not feed NaN
});
