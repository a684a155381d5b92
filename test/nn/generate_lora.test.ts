// Generation with a LoRA adapter applied in the graph (LlamaGenerator opts.lora: base weights fed
// in the HF layout, y = x Wᵀ + s · (x Aᵀ) Bᵀ) against generation from the merged weights
// W' = W + s · B A (mergeLora, the fused layout): the same tokens, log-probs to 1e-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { assertClose } from '../helpers/close.js';
import { compiledSessionCount } from '../../src/runtime/index.js';
import { loadModel } from '../../src/io/checkpoint.js';
import { LlamaGenerator, type Generation } from '../../src/nn/generate.js';
import { LORA_TARGETS, initLora, mergeLora, type LoraConfig } from '../../src/nn/lora.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { Rng } from '../../src/util/rng.js';
import { isUserError } from '../../src/util/errors.js';

const tiny = () => loadModel(fileURLToPath(new URL('../fixtures/tiny-llama3', import.meta.url))); // GQA 4/2, untied, Llama 3.1 RoPE scaling
const lora: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: [...LORA_TARGETS] };

/** An adapter that moves the model: PEFT's A init and B ~ N(0, 0.3) (a fresh adapter's B = 0 would change nothing). */
function trainedAdapter(c: Parameters<typeof initLora>[0], seed: number): LlamaWeights {
  const rng = new Rng(seed);
  const a = initLora(c, lora, rng);
  for (const [name, t] of a) if (name.endsWith('lora_B.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(0, 0.3);
  return a;
}

const prompts = [[1, 5, 9, 33, 63, 17], [1, 40], [1, 8, 8, 8]];

function assertSame(got: Generation[], want: Generation[], what: string): void {
  assert.deepEqual(got.map((g) => g.tokens), want.map((g) => g.tokens), `${what}: tokens`);
  got.forEach((g, b) => assertClose(g.logprobs, want[b].logprobs, { atol: 1e-5, rtol: 0, what: `${what}: log-probs of row ${b}` }));
}

test('LoRA in the generation graph gives the merged weights\' tokens (greedy and sampled) and log-probs to 1e-5; setAdapter swaps adapters without recompiling', async () => {
  const { config: c, weights: base } = tiny();
  const a1 = trainedAdapter(c, 1);
  const a2 = trainedAdapter(c, 2);
  const adapted = new LlamaGenerator(c, base, { threads: 2, lora: { config: lora, adapter: a1 } });
  const merged1 = new LlamaGenerator(c, mergeLora(c, base, lora, a1), { threads: 2 });
  const merged2 = new LlamaGenerator(c, mergeLora(c, base, lora, a2), { threads: 2 });
  const plain = new LlamaGenerator(c, base, { threads: 2 });
  try {
    const greedy = { maxNewTokens: 16, temperature: 0, stopTokens: [] };
    const sampled = { maxNewTokens: 16, temperature: 1, seed: 7, stopTokens: [] };
    const want = await merged1.generate(prompts, greedy);
    assert.notDeepEqual((await plain.generate(prompts, greedy)).map((g) => g.tokens), want.map((g) => g.tokens), 'the adapter must change the greedy tokens for the test to mean anything');
    assertSame(await adapted.generate(prompts, greedy), want, 'greedy');
    assertSame(await adapted.generate(prompts, sampled), await merged1.generate(prompts, sampled), 'sampled');
    const sessions = compiledSessionCount();
    assert.equal(adapted.setAdapter(a2), adapted);
    assertSame(await adapted.generate(prompts, sampled), await merged2.generate(prompts, sampled), 'after setAdapter');
    assertSame(await adapted.generate(prompts, greedy), await merged2.generate(prompts, greedy), 'greedy after setAdapter');
    assert.equal(compiledSessionCount(), sessions, 'setAdapter compiles nothing (merged2 shares merged1\'s weight-free graphs)');
  } finally {
    for (const g of [adapted, merged1, merged2, plain]) await g.release();
  }
});

test('LoRA generator errors: an adapter of the wrong shape names the tensor; setAdapter needs opts.lora', () => {
  const { config: c, weights: base } = tiny();
  const bad = trainedAdapter(c, 1);
  const name = 'model.layers.0.self_attn.q_proj.lora_A.weight';
  bad.set(name, { shape: [lora.rank + 1, c.hiddenSize], data: new Float32Array((lora.rank + 1) * c.hiddenSize) });
  assert.throws(() => new LlamaGenerator(c, base, { lora: { config: lora, adapter: bad } }), (e) => isUserError(e) && e.message.includes(name) && /does not fit the base model/.test(e.message));
  assert.throws(() => new LlamaGenerator(c, base).setAdapter(trainedAdapter(c, 1)), /built without opts.lora/);
});
