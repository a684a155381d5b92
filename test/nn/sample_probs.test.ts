// Sampling from the decode graph's softmax (SlotBatch.stepProbs + sampleFromProbs) against the host
// path on logits (step + sampleWithLogprob, float64 exponentials): the same tokens for the same
// seeds, greedy identical, log-probs within 1e-5, and probs equal to a float64 softmax of the logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../helpers/shared.js';
import { readLlama2c } from '../../src/io/llama2c.js';
import { LlamaGenerator, SlotBatch, sampleFromProbs, sampleWithLogprob, tokenLogprob } from '../../src/nn/generate.js';
import { Rng } from '../../src/util/rng.js';

/** float64 softmax rounded to float32, written out here independently of the graph */
function softmax32(l: Float32Array): Float32Array {
  let m = -Infinity;
  for (const x of l) m = Math.max(m, x);
  let z = 0;
  for (const x of l) z += Math.exp(x - m);
  return Float32Array.from(l, (x) => Math.exp(x - m) / z);
}

test('sampleFromProbs: same draws as sampleWithLogprob over 1,000 seeds on 32,000 logits; greedy and top-p unchanged', () => {
  const V = 32000;
  const g = new Rng(5);
  const logits = Float32Array.from({ length: V }, () => (g.float() - 0.5) * 6);
  const probs = softmax32(logits);
  for (const o of [
    { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0, topK: 0, topP: 1 },
    { temperature: 0.7, topK: 0, topP: 0.9 },
  ]) {
    const n = o.temperature === 1 ? 1000 : 50;
    for (let seed = 0; seed < n; seed++) {
      const want = sampleWithLogprob(logits, o, new Rng(seed, 0));
      const got = sampleFromProbs(logits, probs, o, new Rng(seed, 0));
      assert.equal(got.token, want.token, `seed ${seed}, ${JSON.stringify(o)}`);
      assert.ok(Math.abs(got.logprob - want.logprob) < 1e-5, `seed ${seed}: logprob ${got.logprob} vs ${want.logprob}`);
    }
  }
  // a probability that underflowed to 0 in float32 falls back to the exact log-softmax
  const tiny = Float32Array.from([0, -200]);
  const r = sampleFromProbs(tiny, Float32Array.from([1, 0]), { temperature: 0.5, topK: 0, topP: 1 }, new Rng(0, 0));
  assert.equal(r.token, 0);
  const low = sampleFromProbs(tiny, Float32Array.from([1, 0]), { temperature: 0, topK: 0, topP: 1 }, new Rng(0, 0));
  assert.equal(low.logprob, tokenLogprob(tiny, 0));
});

test('stories260K: stepProbs gives step()’s logits, their softmax, and the host path’s seeded tokens', async (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const { config: c, weights: w } = readLlama2c(p);
  const gen = new LlamaGenerator(c, w, { threads: 2, bakeDecodeWeights: true });
  try {
    const prompts = [[1, 403, 407], [1, 320], [1, 70, 80, 90, 100], [1, 5]];
    const host = new SlotBatch(gen, 4, 64);
    const graph = new SlotBatch(gen, 4, 64);
    for (const q of prompts) {
      await host.add(q);
      await graph.add(q);
    }
    const V = c.vocabSize;
    const o = { temperature: 1, topK: 0, topP: 1 };
    const rngsA = prompts.map((_, i) => new Rng(11, i));
    const rngsB = prompts.map((_, i) => new Rng(11, i));
    let tokens = prompts.map((q) => q[q.length - 1]);
    for (let s = 0; s < 12; s++) {
      const la = await host.step(tokens);
      const { logits: lb, probs } = await graph.stepProbs(tokens);
      const next: number[] = [];
      for (let r = 0; r < prompts.length; r++) {
        const a = la.subarray(r * V, (r + 1) * V);
        const b = lb.subarray(r * V, (r + 1) * V);
        const pr = probs.subarray(r * V, (r + 1) * V);
        for (let i = 0; i < V; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `step ${s} row ${r} logit ${i}`);
        const ref = softmax32(b);
        for (let i = 0; i < V; i++) assert.ok(Math.abs(pr[i] - ref[i]) < 1e-6, `step ${s} row ${r} prob ${i}: ${pr[i]} vs ${ref[i]}`);
        const want = sampleWithLogprob(a, o, rngsA[r]);
        const got = sampleFromProbs(b, pr, o, rngsB[r]);
        assert.equal(got.token, want.token, `step ${s} row ${r}`);
        assert.ok(Math.abs(got.logprob - want.logprob) < 1e-5, `step ${s} row ${r}: ${got.logprob} vs ${want.logprob}`);
        next.push(want.token);
      }
      tokens = next;
    }
  } finally {
    await gen.release();
  }
});
