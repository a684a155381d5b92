import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sharedFile } from '../helpers/shared.js';
import { assertClose } from '../helpers/close.js';
import { Graph } from '../../src/graph/index.js';
import { compile, compiledSessionCount } from '../../src/runtime/index.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import { loadModel } from '../../src/io/checkpoint.js';
import { readLlama2c } from '../../src/io/llama2c.js';
import { Llama2cTokenizer } from '../../src/text/llama2c.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import { LlamaGenerator, generate, sampleToken, sampleWithLogprob, tokenLogprob } from '../../src/nn/generate.js';
import { llamaHidden, llamaInitializers, lmLogits, padBatch, tokenLogProbs } from '../../src/nn/llama.js';
import { referenceGreedy } from '../../src/nn/reference.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { Rng } from '../../src/util/rng.js';
import { isUserError } from '../../src/util/errors.js';

const fixture = (rel: string) => fileURLToPath(new URL(`../fixtures/${rel}`, import.meta.url));
const tiny = () => loadModel(fixture('tiny-llama3'));

test('stories260K: greedy generation of "Once upon a time" equals run.c, and stops at BOS as run.c does', async (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tp = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p || !tp) return;
  const { config: c, weights: w } = readLlama2c(p);
  const tok = Llama2cTokenizer.read(tp, c.vocabSize);
  const prompt = tok.encode('Once upon a time');
  const gen = new LlamaGenerator(c, w, { threads: 2 });
  try {
    const [g90] = await gen.generate([prompt], { maxNewTokens: 90, temperature: 0 });
    assert.equal(g90.finishReason, 'length');
    assert.equal(tok.decode([...prompt, ...g90.tokens]) + '\n', readFileSync(fixture('stories260k/run_c.once-upon-a-time.n94.txt'), 'utf8'));
    const [full] = await gen.generate([prompt], { maxNewTokens: c.maxPositionEmbeddings - prompt.length, temperature: 0 });
    assert.equal(full.finishReason, 'stop');
    assert.equal(full.tokens[full.tokens.length - 1], 1);
    assert.equal(tok.decode([...prompt, ...full.tokens]) + '\n', readFileSync(fixture('stories260k/run_c.once-upon-a-time.full.txt'), 'utf8'));
  } finally {
    await gen.release();
  }
});

test('batched greedy generation with prompts of different lengths equals the reference per prompt', async () => {
  const { config: c, weights: w } = tiny();
  const prompts = [[1, 5, 9, 33, 63, 17], [1, 40], [1, 8, 8, 8]];
  const out = await generate(c, w, prompts, { maxNewTokens: 12, temperature: 0, stopTokens: [], threads: 2 });
  prompts.forEach((p, b) => {
    assert.deepEqual(out[b].tokens, referenceGreedy(c, w, p, 12, []), `row ${b}`);
    assert.equal(out[b].finishReason, 'length');
  });
});

/** log p of each generated token under a full forward pass of the training graph. */
async function fullPassLogprobs(c: LlamaConfig, w: LlamaWeights, seqs: number[][]): Promise<number[][]> {
  const pb = padBatch(seqs, { side: 'right' });
  const targets = new BigInt64Array(pb.B * pb.T);
  seqs.forEach((s, b) => s.slice(1).forEach((tk, i) => (targets[b * pb.T + i] = BigInt(tk))));
  const g = new Graph();
  const ids = g.input('ids', [pb.B, pb.T], 'int64');
  const positions = g.input('positions', [pb.B, pb.T], 'int64');
  const mask = g.input('mask', [pb.B, pb.T]);
  const tg = g.input('targets', [pb.B, pb.T], 'int64');
  const p = llamaInitializers(g, c, w);
  const lp = tokenLogProbs(lmLogits(c, p, llamaHidden(c, p, { ids, positions, attentionMask: mask })), tg);
  const exe = await compile(g, { inputs: [ids, positions, mask, tg], outputs: { lp }, threads: 2 });
  const out = (await exe.run({ ids: pb.ids, positions: pb.positions, mask: pb.mask, targets: targets })).lp as Float32Array;
  await exe.release();
  return seqs.map((s, b) => Array.from(out.slice(b * pb.T, b * pb.T + s.length - 1)));
}

test('log-probs returned by generation equal a full forward pass to 1e-5 (sampled and greedy, padded batch)', async () => {
  const { config: c, weights: w } = tiny();
  const prompts = [[1, 5, 9, 33], [1, 40], [1, 12, 13, 14, 15, 16, 17]];
  const gen = new LlamaGenerator(c, w, { threads: 2 });
  try {
    for (const opts of [{ temperature: 1.3, topP: 0.95, seed: 7 }, { temperature: 0 }]) {
      const out = await gen.generate(prompts, { maxNewTokens: 10, stopTokens: [], ...opts });
      const seqs = prompts.map((p, b) => [...p, ...out[b].tokens]);
      const full = await fullPassLogprobs(c, w, seqs);
      prompts.forEach((p, b) => {
        assert.equal(out[b].logprobs.length, out[b].tokens.length);
        // the generated tokens are predicted from position p.length − 1 on
        assertClose(out[b].logprobs, full[b].slice(p.length - 1), { atol: 1e-5, rtol: 0, what: `T=${opts.temperature} row ${b}` });
      });
    }
  } finally {
    await gen.release();
  }
});

test('seeded sampling is reproducible; another seed differs; top-k = 1 equals greedy', async () => {
  const { config: c, weights: w } = tiny();
  const prompts = [[1, 5, 9], [1, 5, 9], [1, 60]];
  const gen = new LlamaGenerator(c, w, { threads: 2 });
  try {
    const opts = { maxNewTokens: 16, temperature: 1, topK: 20, topP: 0.9, stopTokens: [] };
    const a = await gen.generate(prompts, { ...opts, seed: 11 });
    const b = await gen.generate(prompts, { ...opts, seed: 11 });
    const d = await gen.generate(prompts, { ...opts, seed: 12 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.map((g) => g.tokens), d.map((g) => g.tokens));
    // the two copies of the same prompt draw from different streams (k samples per prompt)
    assert.notDeepEqual(a[0].tokens, a[1].tokens);
    const greedy = await gen.generate(prompts, { maxNewTokens: 16, temperature: 0, stopTokens: [] });
    const top1 = await gen.generate(prompts, { maxNewTokens: 16, temperature: 1, topK: 1, seed: 5, stopTokens: [] });
    const top1Host = await gen.generate(prompts, { maxNewTokens: 16, temperature: 0.7, topK: 1, topP: 0.5, seed: 5, stopTokens: [] });
    assert.deepEqual(top1.map((g) => g.tokens), greedy.map((g) => g.tokens));
    assert.deepEqual(top1Host.map((g) => g.tokens), greedy.map((g) => g.tokens));
  } finally {
    await gen.release();
  }
});

test('baked decode weights (initializers) and fed weights (inputs) generate the same', async () => {
  const { config: c, weights: w } = tiny();
  const prompts = [[1, 5, 9, 33], [1, 40]];
  const opts = { maxNewTokens: 12, temperature: 0.9, seed: 4, stopTokens: [] };
  const fed = new LlamaGenerator(c, w, { threads: 2 });
  const baked = new LlamaGenerator(c, w, { threads: 2, bakeDecodeWeights: true });
  try {
    const a = await fed.generate(prompts, opts);
    const b = await baked.generate(prompts, opts);
    assert.deepEqual(a.map((g) => g.tokens), b.map((g) => g.tokens));
    a.forEach((g, i) => assertClose(g.logprobs, b[i].logprobs, { atol: 1e-6, rtol: 0 }));
  } finally {
    await fed.release();
    await baked.release();
  }
});

test('stop tokens end a row (the stop token is kept); other rows go on', async () => {
  const { config: c, weights: w } = tiny();
  const prompts = [[1, 5, 9], [1, 60, 61]];
  const free = await generate(c, w, prompts, { maxNewTokens: 8, temperature: 0, stopTokens: [], threads: 2 });
  const stopAt = free[0].tokens[2]; // row 0's third greedy token
  const firstInRow1 = free[1].tokens.indexOf(stopAt);
  const out = await generate(c, w, prompts, { maxNewTokens: 8, temperature: 0, stopTokens: [stopAt], threads: 2 });
  const cut0 = free[0].tokens.indexOf(stopAt) + 1;
  assert.deepEqual(out[0].tokens, free[0].tokens.slice(0, cut0));
  assert.equal(out[0].finishReason, 'stop');
  const cut1 = firstInRow1 === -1 ? 8 : firstInRow1 + 1;
  assert.deepEqual(out[1].tokens, free[1].tokens.slice(0, cut1));
  assert.equal(out[1].finishReason, firstInRow1 === -1 ? 'length' : 'stop');
  assert.deepEqual(out[0].logprobs, free[0].logprobs.slice(0, cut0));
});

test('sampleToken: temperature, top-k and top-p against hand-computed distributions', () => {
  const rng = new Rng(1);
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  const freq = (o: { temperature: number; topK: number; topP: number }, n = 20000) => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logits, o, rng)]++;
    return counts.map((x) => x / n);
  };
  // plain: p = [.5, .3, .15, .05]; 20000 draws → standard error ≤ 0.0036, tolerance 0.015
  assertClose(freq({ temperature: 1, topK: 0, topP: 1 }), [0.5, 0.3, 0.15, 0.05], { atol: 0.015, rtol: 0 });
  // top-k 2: renormalised [.5, .3] → [.625, .375]
  assertClose(freq({ temperature: 1, topK: 2, topP: 1 }), [0.625, 0.375, 0, 0], { atol: 0.015, rtol: 0 });
  // top-p 0.7: cumulative .5, .8 > .7 → keep the first two → [.625, .375]
  assertClose(freq({ temperature: 1, topK: 0, topP: 0.7 }), [0.625, 0.375, 0, 0], { atol: 0.015, rtol: 0 });
  // top-p 0.4: the first token alone exceeds it
  assertClose(freq({ temperature: 1, topK: 0, topP: 0.4 }, 2000), [1, 0, 0, 0], { atol: 0, rtol: 0 });
  // temperature 2: p ∝ sqrt(p) = [.7071, .5477, .3873, .2236] / 1.8657 = [.379, .294, .208, .120]
  assertClose(freq({ temperature: 2, topK: 0, topP: 1 }), [0.379, 0.294, 0.208, 0.12], { atol: 0.015, rtol: 0 });
  // greedy picks the first maximum
  assert.equal(sampleToken(Float32Array.from([1, 3, 3]), { temperature: 0, topK: 0, topP: 1 }, rng), 1);
  // log p of the model, in float64: log(.3)
  assertClose(tokenLogprob(logits, 1), Math.log(0.3), { rtol: 1e-6 });
  assertClose(tokenLogprob(Float32Array.from([1000, 0]), 1), -1000, { rtol: 1e-9 }); // no overflow
});

test('sampleWithLogprob (one pass at temperature 1) draws what sampleToken draws, with tokenLogprob', () => {
  const src = new Rng(9);
  for (const o of [{ temperature: 1, topK: 0, topP: 1 }, { temperature: 0.7, topK: 5, topP: 0.9 }]) {
    for (let trial = 0; trial < 200; trial++) {
      const logits = Float32Array.from({ length: 50 }, () => src.normal(0, 3));
      const a = new Rng(trial, 1);
      const b = new Rng(trial, 1);
      const got = sampleWithLogprob(logits, o, a);
      const token = sampleToken(logits, o, b);
      assert.equal(got.token, token);
      assertClose(got.logprob, tokenLogprob(logits, token), { rtol: 1e-12, atol: 1e-12 });
    }
  }
});

test('generation errors: context overflow, empty prompt, out-of-vocabulary token, bad options', async () => {
  const { config: c, weights: w } = tiny();
  const gen = new LlamaGenerator(c, w, { threads: 1 });
  const expectErr = async (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: unknown) => isUserError(e) && re.test(e.message) && /fix:/.test(e.message), re.source);
  await expectErr(gen.generate([[1, 2, 3]], { maxNewTokens: 126 }), /exceed the model context[\s\S]*3 \+ 126 = 129[\s\S]*at most 125/);
  await expectErr(gen.generate([[1], []], { maxNewTokens: 2 }), /prompt 1 is empty/);
  await expectErr(gen.generate([[1, 64]], { maxNewTokens: 2 }), /token 64 outside the vocabulary/);
  await expectErr(gen.generate([[1]], { maxNewTokens: 0 }), /maxNewTokens/);
  await expectErr(gen.generate([[1]], { maxNewTokens: 2, topP: 0 }), /topP[\s\S]*\(0, 1\]/);
  await expectErr(gen.generate([[1]], { maxNewTokens: 2, temperature: -1 }), /temperature/);
  await expectErr(gen.generate([[1]], { maxNewTokens: 2, stopTokens: [99] }), /stopTokens/);
  assert.deepEqual(await gen.generate([], { maxNewTokens: 2 }), []);
  await gen.release();
});

test('setWeights: a generator given new weights generates as a new generator built on them, and the weight-free graphs are not recompiled', async () => {
  const { config: c, weights: w1 } = tiny();
  const w2 = initLlamaWeights(c, new Rng(3)); // another model of the same config
  const prompts = [[1, 5, 9, 33], [1, 40]];
  const opts = { maxNewTokens: 10, temperature: 1, seed: 2, stopTokens: [] };
  for (const bakeDecodeWeights of [false, true]) {
    const gen = new LlamaGenerator(c, w1, { threads: 2, bakeDecodeWeights });
    const fresh = new LlamaGenerator(c, w2, { threads: 2, bakeDecodeWeights });
    try {
      const before1 = await gen.generate(prompts, opts);
      const expected = await fresh.generate(prompts, opts);
      assert.notDeepEqual(before1.map((g) => g.tokens), expected.map((g) => g.tokens), 'the two models must differ for the test to mean anything');
      const sessions = compiledSessionCount();
      assert.equal(await gen.setWeights(w2), gen);
      const after = await gen.generate(prompts, opts);
      assert.deepEqual(after.map((g) => g.tokens), expected.map((g) => g.tokens), `bake ${bakeDecodeWeights}`);
      after.forEach((g, i) => assertClose(g.logprobs, expected[i].logprobs, { atol: 1e-6, rtol: 0 }));
      // fed weights: the same graphs serve the new weights (no session built); baked: the decode graph is rebuilt
      if (!bakeDecodeWeights) assert.equal(compiledSessionCount(), sessions);
      await gen.setWeights(w1);
      assert.deepEqual((await gen.generate(prompts, opts)).map((g) => g.tokens), before1.map((g) => g.tokens));
    } finally {
      await gen.release();
      await fresh.release();
    }
  }
});
